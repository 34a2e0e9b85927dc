"""The kiosk page as a script for st.navigation."""
from posturecheck.ui.kiosk import page

page()
