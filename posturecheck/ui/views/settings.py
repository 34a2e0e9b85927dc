"""The settings page as a script for st.navigation."""
from posturecheck.ui.settings_page import page

page()
