"""The line-up page as a script for st.navigation."""
from posturecheck.ui.lineup_page import page

page()
