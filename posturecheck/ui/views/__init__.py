"""One small script per page: st.navigation runs these files (and AppTest can switch to them)."""
