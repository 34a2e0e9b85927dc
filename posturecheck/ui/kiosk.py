"""Kiosk page: full screen, camera starts by itself, a guided sequence with large
feedback, reset after an idle time. No History or Settings, nothing stored unless the
kiosk is configured to keep anonymous scores. Works offline (no STUN/TURN by default).
"""

from __future__ import annotations

import html
import json
import time

import streamlit as st
import streamlit.components.v1 as components

from ..live import LiveProcessor, try_load_drills
from .common import BASE_CSS, inject_css, lang, profile, save_to_history, settings, tr
from .i18n import LANG_NAMES, WEBRTC_TRANSLATIONS
from .coach import DRILL_CSS, drill_view, render_drill, speak
from .fonts import MIRROR_CSS, style_camera_frames
from .live_view import camera, camera_message, get_processor, live_config, render_checklist

PROC_KEY = "pc_kiosk_live"
GEN_KEY = "pc_kiosk_camera_gen"
STATE_KEY = "pc_kiosk_state"
REFRESH_S = 0.5
IDLE_REFRESH_S = 5.0
CAMERA_RETRY_S = 6.0      # no picture this long: remount the camera widget (re-asks the browser)
CAMERA_START_RETRY_S = 20.0  # the camera did not start within this: remount and press Start again
SCORE_SHOW_S = 12.0       # the final score stays this long, then the sequence starts again
# Inside the camera widget's iframe: trainees get no Start/Stop/"select device" buttons (the
# kiosk presses Start itself, AUTOSTART_JS) and no media toggles.
KIOSK_FRAME_CSS = "button {display: none !important;}"

KIOSK_CSS = """
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="collapsedControl"],
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
header, footer, #MainMenu {display: none !important; visibility: hidden !important;}
.block-container, [data-testid="stMainBlockContainer"] {padding-top: 0.8rem !important; max-width: 100% !important;}
.pc-kiosk-title {font-size: 3rem; font-weight: 800; margin: 0 0 0.4rem 0;}
.pc-kiosk-msg {font-size: 3rem; font-weight: 700; line-height: 1.3;}
.stButton button {padding: 0.5rem 1.6rem !important;}
.stButton button p {font-size: 2rem !important; font-weight: 700;}
.pc-kiosk-score {font-size: 6rem; font-weight: 900; color: rgb(40, 160, 70); line-height: 1.1;}
"""


# The camera starts by itself by pressing the widget's own Start button from a tiny same-origin
# script (and hiding the buttons). streamlit-webrtc's desired_playing_state=True was tried first:
# on a browser's first visit its frontend opens several peer connections while it resolves the
# camera id, the server answers the first one and ICE never completes (seen in headless Chromium).
AUTOSTART_JS = """
<script>
(function () {
  const labels = %(labels)s;
  let tries = 0;
  const timer = setInterval(function () {
    tries += 1;
    try {
      const frames = window.parent.document.querySelectorAll("iframe[title*='streamlit_webrtc']");
      for (const f of frames) {
        const doc = f.contentDocument;
        if (!doc) continue;
        for (const b of doc.querySelectorAll("button")) {
          const text = (b.textContent || "").trim();  // the kiosk hides these buttons (KIOSK_FRAME_CSS)
          if (labels.includes(text) && !b.disabled) {
            b.click();
            clearInterval(timer);
            return;
          }
        }
      }
    } catch (e) { /* not loaded yet */ }
    if (tries > 120) clearInterval(timer);
  }, 500);
})();
</script>
<!-- camera generation %(gen)d -->
"""


def autostart_camera(gen: int) -> None:
    """Press the camera widget's Start button once it is there (again after each remount)."""
    labels = sorted({WEBRTC_TRANSLATIONS[lg]["start"] for lg in WEBRTC_TRANSLATIONS} | {"Start", "START"})
    components.html(AUTOSTART_JS % {"labels": json.dumps(labels, ensure_ascii=False), "gen": gen}, height=0)


def _state() -> dict:
    if STATE_KEY not in st.session_state:
        now = time.monotonic()
        st.session_state[STATE_KEY] = {"last_seen": now, "done_at": None, "score": None, "retry_at": now,
                                       "saved": False}
    return st.session_state[STATE_KEY]


def _big(text: str, cls: str = "pc-kiosk-msg") -> None:
    st.markdown(f"<div class='{cls}'>{html.escape(text)}</div>", unsafe_allow_html=True)


def _restart(proc: LiveProcessor, state: dict) -> None:
    proc.restart()
    state.update(done_at=None, score=None, saved=False, save_message=None, last_seen=time.monotonic())


def _show_score(proc: LiveProcessor, state: dict, now: float, speech_on: bool) -> None:
    """The final score (shown and said), then the sequence starts again."""
    score = state["score"]
    _big(tr("kiosk_done", score="-" if score is None else f"{score:.0f}"), "pc-kiosk-score")
    left = SCORE_SHOW_S - (now - state["done_at"])
    _big(tr("kiosk_next", s=max(0.0, left)))
    speak(tr("drill_done_spoken", score="-" if score is None else f"{score:.0f}"), urgent=True, lang=lang(),
          enabled=speech_on)
    if left <= 0:
        _restart(proc, state)


def _panel(proc: LiveProcessor, playing: bool, speech_on: bool) -> None:
    s = settings()
    state = _state()
    now = time.monotonic()
    lg = lang()
    if state["done_at"] is not None:
        _show_score(proc, state, now, speech_on)
        return
    msg = camera_message(proc, playing)
    if msg is not None:
        _big(tr("kiosk_camera") if not playing and not proc.error else msg)
        waited = now - state["retry_at"]
        lost = proc.ended or (playing and (proc.seconds_since_frame() or 0.0) > CAMERA_RETRY_S)
        if (not playing and waited > CAMERA_START_RETRY_S) or (lost and waited > CAMERA_RETRY_S):
            state["retry_at"] = now
            st.session_state[GEN_KEY] = st.session_state.get(GEN_KEY, 0) + 1  # remount: asks the camera again
            st.rerun(scope="app")
        return
    state["retry_at"] = now  # pictures flow
    result = proc.latest()
    if result is not None and result.person_found:
        state["last_seen"] = now
    elif now - state["last_seen"] > s.kiosk_idle_s:
        _restart(proc, state)  # nobody there: forget the attempt
    prog = proc.drill_progress()  # the newest state, also right after a skip
    if prog is not None and prog.done:
        report = proc.finish(lg)
        state.update(done_at=now, score=report.get("score") if report else None)
        if report is not None and s.kiosk_keep == "scores" and not state["saved"]:
            outcome, message = save_to_history(report, trainee=None, source="kiosk", drill="kiosk")
            state["saved"] = True  # saved, pending on disk, or reported: never retried in a loop
            if outcome != "saved":
                state["save_message"] = message
        if state.get("save_message"):
            st.caption(state["save_message"])
        _show_score(proc, state, now, speech_on)
        return
    if proc.drill is None:
        return
    view = drill_view(proc.drill, prog, result, proc.profile, proc.config.standard, lg)
    render_drill(view, big=True, on_skip=proc.skip_step, key="pc_kiosk_skip", lang=lg)
    if view is not None:
        speak(view.spoken, urgent=view.urgent, lang=lg, enabled=speech_on)
    if result is not None and result.person_found and view is not None and view.state not in ("countdown",):
        rule_ids = proc.checklist_rule_ids(result.activity)
        if any(v.status == "fail" for v in result.verdicts if v.rule_id in rule_ids):
            render_checklist(proc.profile, rule_ids, result, proc.config.standard, only_problems=True, big=True)


def page() -> None:
    inject_css(BASE_CSS + DRILL_CSS + KIOSK_CSS)
    s = settings()
    drills, err = try_load_drills()
    drill = drills.get("kiosk")
    if drill is None:
        st.error(err or "kiosk drill missing from drills.toml")
        return
    proc = get_processor(PROC_KEY, live_config(s, s.standard, keep_video=False), profile(), drill)
    head, switch, opts = st.columns([4, 1, 1])
    head.markdown(f"<div class='pc-kiosk-title'>{html.escape(tr('kiosk_title'))}</div>", unsafe_allow_html=True)
    switch.radio(" ", list(LANG_NAMES), format_func=LANG_NAMES.get, key="pc_lang", horizontal=True,
                 label_visibility="collapsed")
    speech_on = opts.toggle(tr("speech_on"), value=True, key="pc_kiosk_speech")
    mirror = opts.toggle(tr("mirror_view"), value=True, key="pc_kiosk_mirror")
    style_camera_frames("pc-kiosk-frame", KIOSK_FRAME_CSS + (MIRROR_CSS if mirror else ""))
    left, right = st.columns([3, 2])
    gen = st.session_state.get(GEN_KEY, 0)
    with left:
        ctx = camera(f"pc-kiosk-camera-{gen}", proc, s)
        autostart_camera(gen)
    playing = bool(ctx is not None and ctx.state.playing)
    with right:
        st.fragment(_panel, run_every=REFRESH_S if playing else IDLE_REFRESH_S)(proc, playing, speech_on)
