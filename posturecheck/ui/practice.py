"""Practice page (trainee): webcam, drill, live checklist, hold timer, score at the end."""

from __future__ import annotations

import logging
from typing import Any

import streamlit as st

from ..live import Drill, LiveProcessor, try_load_drills
from .common import (BASE_CSS, choice, inject_css, lang, profile, save_to_history, settings, standard_label,
                     standard_options, tr)
from .coach import DRILL_CSS, drill_view, render_drill, speak
from .fonts import MIRROR_CSS, style_camera_frames
from .live_view import (REFRESH_S, camera, camera_message, get_processor, live_config, render_checklist,
                        render_detected)
from .results import localise, render_report_summary

logger = logging.getLogger(__name__)

PROC_KEY = "pc_live"
REPORT_KEY = "pc_practice_report"
CAMERA_KEY = "pc-practice-camera"


def _finish(proc: LiveProcessor, trainee: str) -> None:
    """Score the attempt, save it when a trainee is named, start the drill afresh (never raises)."""
    report = proc.finish(lang())
    outcome, message = None, None
    if report is not None and trainee.strip():
        video = str(proc.recorded[-1]) if proc.recorded else None
        outcome, message = save_to_history(report, trainee=trainee, source="live",
                                           drill=proc.drill.id if proc.drill else None,
                                           started_at=proc.started_at, video_path=video)
    st.session_state[REPORT_KEY] = {"report": report, "outcome": outcome, "message": message,
                                    "named": bool(trainee.strip())}
    proc.restart()


def _live_panel(proc: LiveProcessor, playing: bool, standard: str | None, trainee: str, speech_on: bool) -> None:
    result = proc.latest() if playing else None  # no stale verdicts while the camera is off
    msg = camera_message(proc, playing)
    if msg:
        (st.error if proc.error else st.info)(msg)
    if proc.drill is not None and playing and not msg:
        lg = lang()
        view = drill_view(proc.drill, proc.drill_progress() if result is not None else None, result, proc.profile,
                          standard, lg)
        render_drill(view, big=False, on_skip=proc.skip_step, key="pc_practice_skip", lang=lg)
        if view is not None:
            speak(view.spoken, urgent=view.urgent, lang=lg, enabled=speech_on)
    render_detected(result)
    st.subheader(tr("checklist"))
    activity = result.activity if result is not None else None
    render_checklist(proc.profile, proc.checklist_rule_ids(activity), result, standard)
    if result is not None and result.drill is not None and result.drill.done:
        _finish(proc, trainee)
        st.rerun(scope="app")


def page() -> None:
    inject_css(BASE_CSS + DRILL_CSS)
    st.title(tr("practice_title"))
    prof = profile()
    s = settings()
    drills, err = try_load_drills()
    if err:
        st.error(err)
    choices = [d.id for d in drills.values() if not d.kiosk_only]
    c1, c2, c3 = st.columns([2, 2, 1])
    lg = lang()
    drill_id = choice(c1, tr("drill"), choices, "pc_drill", format_func=lambda i: drills[i].title[lg]) \
        if choices else None
    drill: Drill | None = drills.get(drill_id) if drill_id else None
    trainee = c2.text_input(tr("trainee"), key="pc_trainee")
    opts = standard_options()
    standard = choice(c3, tr("standard"), opts, "pc_standard", format_func=standard_label(), default=s.standard)
    proc = get_processor(PROC_KEY, live_config(s, standard, s.keep_video), prof, drill)

    left, right = st.columns([3, 2])
    with left:
        ctx = camera(CAMERA_KEY, proc, s)
        o1, o2 = st.columns(2)
        speech_on = o1.toggle(tr("speech_on"), value=False, key="pc_practice_speech")
        mirror = o2.toggle(tr("mirror_view"), value=True, key="pc_practice_mirror")
        style_camera_frames("pc-practice-frame", MIRROR_CSS if mirror else "")
        st.caption(tr("camera_help"))
        st.caption(tr("privacy_note"))
    playing = bool(ctx is not None and ctx.state.playing)
    with right:
        st.fragment(_live_panel, run_every=REFRESH_S if playing else None)(proc, playing, standard, trainee,
                                                                            speech_on)
        b1, b2 = st.columns(2)
        if b1.button(tr("finish"), key="pc_finish", type="primary"):
            _finish(proc, trainee)
        if b2.button(tr("restart"), key="pc_restart"):
            proc.restart()
            st.session_state.pop(REPORT_KEY, None)
            st.rerun()

    outcome: dict[str, Any] | None = st.session_state.get(REPORT_KEY)
    if outcome is not None:
        st.divider()
        report = outcome["report"]
        if report is None:
            st.info(tr("no_score"))
            return
        if outcome["outcome"] == "saved":
            st.success(outcome["message"])
        elif outcome["outcome"] == "pending":
            st.warning(outcome["message"])
        elif outcome["outcome"] == "error":
            st.error(outcome["message"])
        elif not outcome["named"]:
            st.caption(tr("not_saved"))
        for i, step in enumerate((report.get("drill") or {}).get("steps", []), 1):
            if step.get("skipped"):
                st.caption(tr("drill_step_skipped", i=i))
                continue
            ok = "" if step["in_time"] is None else tr("in_time" if step["in_time"] else "too_slow")
            st.caption(tr("steps_timing", i=i, s=step["reached_after_s"], ok=ok))
        render_report_summary(localise(report, prof, lang()))
