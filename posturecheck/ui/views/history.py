"""The history page as a script for st.navigation."""
from posturecheck.ui.history_page import page

page()
