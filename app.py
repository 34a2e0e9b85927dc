"""Streamlit entry: `streamlit run app.py` (same as `posturecheck app`; add `-- --kiosk` for kiosk mode)."""
from posturecheck.ui.main import run

run()
