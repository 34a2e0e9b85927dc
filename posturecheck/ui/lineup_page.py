"""Line-up page (supervisor): a photo from the camera or an upload → every person judged, left to right.

The picture is written to the private uploads folder only while it is inspected (as the
review page does) and then deleted; the page keeps the line-up (numbers, no pixels) and the
crops in this browser session's memory, and offers the HTML page (with the crops) to download.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

import streamlit as st

from ..analyze import AnalyzeOptions
from ..htmlreport import render_lineup_html
from ..lineup import inspect_lineup, lineup_json, with_source
from ..sources import IMAGE_EXTS, VIDEO_EXTS, MediaError
from .applog import uploads_dir
from .common import choice, lang, profile, settings, standard_label, standard_options, tr, trainer_gate
from .results import render_verdicts

LINEUP_KEY = "pc_lineup"
MB = 1024 * 1024
UPLOAD_TYPES = sorted(e.lstrip(".") for e in IMAGE_EXTS | VIDEO_EXTS)
SOURCES = ("camera", "upload")


def _inspect(name: str, data: bytes, standard: str | None) -> dict[str, Any] | None:
    """Run the line-up inspection on the bytes (a private temp file while it runs)."""
    s = settings()
    options = AnalyzeOptions(model=s.review_model, profile=profile(), standard=standard,
                             max_image_pixels=int(s.max_image_megapixels * 1e6))
    with st.spinner(tr("lineup_busy")), \
            tempfile.TemporaryDirectory(prefix="lineup_", dir=uploads_dir()) as tmp:  # private, 0700
        base = Path(name).name if Path(name).name not in ("", ".", "..") else "lineup.jpg"
        path = Path(tmp) / base
        path.write_bytes(data)
        try:
            lineup = with_source(inspect_lineup(path, options), name)
        except MediaError as exc:
            st.error(exc.message_zh if lang() == "zh" else exc.message)
            return None
    return {"lineup": lineup, "standard": standard}


def _render(state: dict[str, Any]) -> None:
    lineup = state["lineup"]
    data = lineup_json(lineup, lang(), state["standard"])
    people = data["people"]
    if not people:
        st.warning(tr("lineup_none"))
        return
    scores = [p["score"] for p in people if p.get("score") is not None]
    st.subheader(tr("lineup_found", n=len(people), mean=f"{sum(scores) / len(scores):.0f}" if scores else "—"))
    crops = {p.position: p.crop_jpeg for p in lineup.people}
    sep = "、" if lang() == "zh" else ", "
    for person in people:
        with st.container(border=True):
            left, right = st.columns([1, 3])
            jpeg = crops.get(person["position"])
            if jpeg:
                left.image(jpeg, width="stretch")
            score = "—" if person.get("score") is None else f"{person['score']:.0f}"
            right.markdown(f"**{tr('lineup_person', n=person['position'])}** · {score}")
            failed = [r["title"] for r in person["rules"] if r["status"] == "fail"]
            right.caption(tr("lineup_not_met", rules=sep.join(failed)) if failed else tr("lineup_all_met"))
            with right.expander(tr("lineup_person", n=person["position"])):
                render_verdicts(person, profile())
    page = render_lineup_html(data, crops, profile())
    st.download_button(tr("lineup_download"), page.encode("utf-8"), file_name="lineup.html", mime="text/html",
                       key="pc_lineup_dl")


def page() -> None:
    st.title(tr("lineup_title"))
    if not trainer_gate():
        return
    st.caption(tr("lineup_intro"))
    s = settings()
    c1, c2 = st.columns(2)
    source = choice(c1, tr("lineup_source"), list(SOURCES), "pc_lineup_source",
                    lambda v: tr("lineup_camera") if v == "camera" else tr("lineup_upload"))
    standard = choice(c2, tr("standard"), standard_options(), "pc_lineup_standard", standard_label(),
                      default=s.standard)
    if source == "camera":
        shot = st.camera_input(tr("lineup_take"), key="pc_lineup_cam")
    else:
        shot = st.file_uploader(tr("lineup_file"), type=UPLOAD_TYPES, key="pc_lineup_up")
    st.caption(tr("lineup_privacy"))
    state = st.session_state.get(LINEUP_KEY)
    if shot is None:
        if state is not None:
            _render(state)
        return
    if shot.size > s.max_upload_mb * MB:
        st.error(tr("too_big", name=shot.name, size=shot.size / MB, mb=s.max_upload_mb))
        return
    data = shot.getvalue()
    name = shot.name if Path(shot.name).suffix.lower() in IMAGE_EXTS | VIDEO_EXTS else "camera.jpg"
    key = hashlib.sha1(data).hexdigest()[:16] + f"|{standard}|{s.review_model}|{id(profile())}"
    if state is None or state.get("key") != key:
        if source == "upload" and not st.button(tr("lineup_go"), type="primary", key="pc_lineup_go"):
            return
        state = _inspect(name, data, standard)
        if state is None:
            st.session_state.pop(LINEUP_KEY, None)
            return
        state["key"] = key
        st.session_state[LINEUP_KEY] = state
    _render(state)
