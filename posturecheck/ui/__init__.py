"""The Streamlit app (Practice, Review, History, Settings, Kiosk). Only this package and app.py import Streamlit."""
