"""Streamlit entry point: `streamlit run app.py` (or `posturecheck app`).

A thin layer over the engine: every verdict comes from posturecheck.analyze,
exactly as on the command line. The full app (live practice, review, history,
kiosk) is built on this entry.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from posturecheck.analyze import AnalyzeOptions, analyze_path
from posturecheck.report import to_json
from posturecheck.sources import IMAGE_EXTS, VIDEO_EXTS, MediaError

st.set_page_config(page_title="posturecheck", layout="wide")
lang = st.sidebar.radio("Language / 语言", ["zh", "en"], format_func=lambda x: "中文" if x == "zh" else "English")
st.title("仪态检查 posturecheck" if lang == "zh" else "posturecheck — etiquette posture check")
upload = st.file_uploader("照片或视频" if lang == "zh" else "Photo or video",
                          type=sorted(e.lstrip(".") for e in IMAGE_EXTS | VIDEO_EXTS))
if upload is not None:
    with tempfile.TemporaryDirectory() as tmp:  # deleted right after the analysis: nothing is kept
        path = Path(tmp) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        try:
            with st.spinner("分析中…" if lang == "zh" else "Analysing…"):
                report = to_json(analyze_path(path, AnalyzeOptions()), lang)
        except MediaError as exc:
            st.error(exc.message_zh if lang == "zh" else str(exc))
            st.stop()
    st.metric("得分" if lang == "zh" else "Score", "-" if report["score"] is None else report["score"])
    st.dataframe([{k: r[k] for k in ("id", "status", "value", "limit", "message")} for r in report["rules"]],
                 use_container_width=True)
    for w in report["warnings"]:
        st.warning(w)
