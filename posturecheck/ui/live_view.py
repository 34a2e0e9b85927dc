"""Live parts shared by Practice and Kiosk: the per-session processor, the camera
widget (streamlit-webrtc), the checklist and the hold timer.

The WebRTC callback is `LiveProcessor.recv`, a plain method of an object made once
per browser session: it never calls `st.*`. The page reads results from the
processor's queue in a fragment that reruns every `REFRESH_S` while the camera plays.
"""

from __future__ import annotations

import html
import logging
from typing import Any, Callable

import streamlit as st

from ..live import Drill, LiveConfig, LiveProcessor, LiveResult
from ..profile import Profile
from ..report import ACTIVITY_WORDS, VIEW_WORDS, rule_message
from ..rules import FAIL, PASS
from .common import estimator_hook, lang, tr
from .i18n import STATUS_ICONS, WEBRTC_TRANSLATIONS
from .settings import AppSettings, videos_dir

logger = logging.getLogger(__name__)

WEBRTC_HOOK = "pc_webrtc_streamer"   # tests put a fake webrtc_streamer here
REFRESH_S = 0.5
NO_PICTURE_AFTER_S = 3.0


def live_config(s: AppSettings, standard: str | None, keep_video: bool) -> LiveConfig:
    return LiveConfig(model=s.live_model, num_poses=1, standard=standard,
                      record_dir=videos_dir() if keep_video else None)


def get_processor(key: str, config: LiveConfig, profile: Profile, drill: Drill | None) -> LiveProcessor:
    """The session's processor; rebuilt only when the config or profile changes."""
    proc: LiveProcessor | None = st.session_state.get(key)
    if proc is not None and (proc.config != config or proc.profile is not profile):
        proc.stop()
        proc = None
    if proc is None:
        hook = estimator_hook()
        proc = LiveProcessor(config, profile, drill=drill, estimator_factory=hook)
        st.session_state[key] = proc
    elif (proc.drill.id if proc.drill else None) != (drill.id if drill else None):
        proc.set_drill(drill)
    return proc


def camera(key: str, proc: LiveProcessor, s: AppSettings, *, autostart: bool = False) -> Any:
    """The streamlit-webrtc widget wired to the processor; returns its context.

    `autostart` passes desired_playing_state=True. The kiosk does not use it: with
    streamlit-webrtc 0.79 a first visit then opens several peer connections and ICE
    fails (see kiosk.AUTOSTART_JS); it presses the widget's Start button instead.
    """
    streamer: Callable[..., Any] | None = st.session_state.get(WEBRTC_HOOK)
    if streamer is None:
        from streamlit_webrtc import WebRtcMode, webrtc_streamer

        streamer = webrtc_streamer
        mode = WebRtcMode.SENDRECV
    else:
        mode = "sendrecv"
    ctx = streamer(
        key=key,
        mode=mode,
        rtc_configuration=s.rtc_configuration(),
        media_stream_constraints=s.media_constraints(),
        video_frame_callback=proc.recv,
        on_video_ended=proc.on_ended,
        async_processing=True,
        translations=WEBRTC_TRANSLATIONS[lang()],
        desired_playing_state=True if autostart else None,
        video_html_attrs={"autoPlay": True, "controls": False, "muted": True, "style": {"width": "100%"}},
    )
    playing = bool(ctx is not None and ctx.state.playing)
    if playing:
        proc.start()
    return ctx


def camera_message(proc: LiveProcessor, playing: bool) -> str | None:
    """What to tell the trainee about the camera, or None when the picture flows."""
    if proc.error:
        return tr("live_error", error=proc.error)
    if not playing:
        return tr("camera_stopped")
    since = proc.seconds_since_frame()
    if since is None:
        return tr("camera_waiting")
    if since > NO_PICTURE_AFTER_S or proc.ended:
        return tr("camera_no_picture")
    return None


def verdict_text(profile: Profile, rule_id: str, result: LiveResult | None, standard: str | None) -> tuple[str, str]:
    """(status, sentence) for one checklist line."""
    v = result.verdict(rule_id) if result is not None else None
    rule = profile.rule(rule_id)
    if v is None:
        return "unknown", rule.title[lang()]
    view = result.view if result is not None else "unknown"
    return v.status, rule_message(rule, v.status, v.value, v.reason, lang(), view, standard)


def render_checklist(profile: Profile, rule_ids: tuple[str, ...], result: LiveResult | None,
                     standard: str | None, *, only_problems: bool = False, big: bool = False) -> None:
    """One coloured line per rule: status, title and, when not passing, the fix in plain words."""
    rows = []
    if result is None:  # camera off: just what will be checked
        items = "".join(f"<div class='pc-item pc-unknown' data-rule='{html.escape(rid)}'>"
                        f"{html.escape(profile.rule(rid).title[lang()])}</div>" for rid in rule_ids)
        st.markdown(items, unsafe_allow_html=True)
        return
    for rid in rule_ids:
        status, sentence = verdict_text(profile, rid, result, standard)
        if only_problems and status != FAIL:
            continue
        title = html.escape(profile.rule(rid).title[lang()])
        fix = "" if status == PASS else f"<span class='pc-fix'>{html.escape(sentence)}</span>"
        size = " style='font-size:1.6rem'" if big else ""
        rows.append(f"<div class='pc-item pc-{status}' data-rule='{html.escape(rid)}' data-status='{status}'{size}>"
                    f"{STATUS_ICONS[status]} <b>{title}</b> · <span class='pc-status'>{tr(status)}</span>{fix}</div>")
    if rows:
        st.markdown("\n".join(rows), unsafe_allow_html=True)


def render_detected(result: LiveResult | None) -> None:
    if result is None:
        return
    lg = lang()
    if not result.person_found:
        st.info(tr("no_person_live"))
        return
    if result.people_seen > 1:
        st.caption(tr("several_people", n=result.people_seen))
    st.caption(tr("detected", activity=ACTIVITY_WORDS[lg].get(result.activity, result.activity),
                  view=VIEW_WORDS[lg].get(result.view, result.view)))
    st.caption(tr("perf", fps=result.fps, latency=result.latency_ms, dropped=result.dropped))
