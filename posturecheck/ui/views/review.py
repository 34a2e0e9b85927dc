"""The review page as a script for st.navigation."""
from posturecheck.ui.review import page

page()
