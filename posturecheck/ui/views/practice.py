"""The practice page as a script for st.navigation."""
from posturecheck.ui.practice import page

page()
