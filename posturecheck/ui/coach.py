"""The drill panel shared by Practice and the kiosk: one state, shown big and spoken.

`drill_view` turns the drill's state (`posturecheck.drill.DrillProgress`) into the words
the page shows and says — the message, the hold timer and the spoken cue all come from
that one state, so "good, keep it" appears only while the timer counts. `render_drill`
draws it (kiosk: readable from 2–3 m on a 1920×1080 screen) with a Skip button, and
`speak` plays the cue through `posturecheck.speech` (offline, rate-limited).
"""

from __future__ import annotations

import html
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

import streamlit as st

from ..drill import COUNTDOWN, DONE, FIX, HOLDING, NO_PERSON, READY, WRONG_ACTIVITY, Drill, DrillProgress
from ..profile import Profile
from ..report import ACTIVITY_WORDS, rule_message
from ..rules import FAIL
from ..speech import CuePlanner, SpeechError, engine, load_speech_limits, synthesize
from .i18n import t

logger = logging.getLogger(__name__)

PLANNER_KEY = "pc_cue_planner"
AUDIO_KEY = "pc_cue_audio"
SPOKEN_KEY = "pc_cue_spoken"
NO_ENGINE_KEY = "pc_cue_no_engine_said"

DRILL_CSS = """
.pc-drill {margin-bottom: 0.6rem;}
.pc-drill .pc-step {font-size: 1.05rem; font-weight: 600; opacity: 0.75;}
.pc-drill .pc-prompt {font-size: 1.6rem; font-weight: 700; line-height: 1.3; margin: 0.2rem 0 0.4rem 0;}
.pc-drill .pc-msg {font-size: 1.4rem; font-weight: 700; line-height: 1.3; padding: 0.3rem 0.6rem; border-radius: 0.5rem;}
.pc-drill .pc-msg-good {background: rgba(40, 200, 80, 0.15); color: rgb(25, 120, 50);}
.pc-drill .pc-msg-fix {background: rgba(235, 50, 40, 0.12); color: rgb(180, 30, 25);}
.pc-drill .pc-msg-wait {background: rgba(160, 160, 160, 0.15);}
.pc-drill .pc-hold {position: relative; margin-top: 0.5rem; height: 2.2rem; border-radius: 1.1rem;
  background: rgba(160, 160, 160, 0.25); overflow: hidden;}
.pc-drill .pc-hold-bar {position: absolute; left: 0; top: 0; bottom: 0; background: rgb(40, 170, 80);}
.pc-drill .pc-hold span {position: relative; padding-left: 0.9rem; line-height: 2.2rem; font-size: 1.2rem; font-weight: 700;}
.pc-drill .pc-hint {margin-top: 0.6rem; font-size: 1.2rem; font-weight: 600; padding: 0.4rem 0.6rem;
  border-left: 6px solid rgb(230, 160, 40); background: rgba(230, 160, 40, 0.12);}
.pc-drill .pc-count {font-size: 6rem; font-weight: 900; line-height: 1;}
.pc-drill-big .pc-step {font-size: 2rem;}
.pc-drill-big .pc-prompt {font-size: 3.4rem;}
.pc-drill-big .pc-msg {font-size: 3rem;}
.pc-drill-big .pc-hold {height: 4.2rem; border-radius: 2.1rem;}
.pc-drill-big .pc-hold span {font-size: 3rem; line-height: 4.2rem;}
.pc-drill-big .pc-hint {font-size: 2.2rem;}
.pc-drill-big .pc-count {font-size: 10rem;}
[data-testid="stAudio"] {display: none !important;}
[data-stale="true"] {opacity: 1 !important; transition: none !important;}  /* no fading every refresh */
"""


@dataclass(frozen=True)
class DrillView:
    """What the drill panel shows and says for one state."""

    state: str
    counting: bool
    step_line: str
    prompt: str
    message: str
    kind: str                 # good | fix | wait
    hold_text: str
    hold_fraction: float
    countdown: int | None
    hint: str | None
    auto_skip: str | None
    spoken: str | None
    urgent: bool              # a new step or the countdown: say it without waiting for the gap


def _fix_sentence(profile: Profile, rule_id: str, result: Any, standard: str | None, lang: str) -> str:
    v = result.verdict(rule_id) if result is not None else None
    try:
        rule = profile.rule(rule_id)
    except KeyError:
        return rule_id
    if v is None:
        return rule.title[lang]
    return rule_message(rule, FAIL, v.value, v.reason, lang, getattr(result, "view", "unknown"), standard)


def drill_view(drill: Drill, prog: DrillProgress | None, result: Any, profile: Profile, standard: str | None,
               lang: str) -> DrillView | None:
    """The panel's words for the drill's current state (None when the drill is done)."""
    if prog is None:  # camera on, nothing analysed yet: the first step's prompt
        step = drill.steps[0]
        step_line = t("step_of", lang, i=1, n=len(drill.steps)) if len(drill.steps) > 1 else ""
        return DrillView(NO_PERSON, False, step_line, step.prompt_text(lang),
                         t("kiosk_welcome", lang), "wait", t("drill_paused", lang, target=step.hold_s), 0.0,
                         None, None, None, None, False)
    if prog.done or prog.state == DONE:
        return None
    step = drill.steps[prog.step_index]
    prompt = step.prompt_text(lang)
    step_line = t("step_of", lang, i=prog.step_index + 1, n=prog.steps_total) if prog.steps_total > 1 else ""
    hold_text = (t("drill_hold", lang, held=prog.hold_s, target=step.hold_s) if prog.counting
                 else t("drill_paused", lang, target=step.hold_s))
    frac = min(1.0, prog.hold_s / max(step.hold_s, 0.1)) if prog.counting else 0.0
    countdown = None
    urgent = False
    if prog.state == COUNTDOWN:
        countdown = max(1, int(prog.countdown_left_s + 0.999))
        message, kind = t("drill_countdown", lang, n=countdown), "wait"
        spoken, urgent = t("drill_get_ready", lang, prompt=prompt), True
    elif prog.state == NO_PERSON:
        message, kind = t("kiosk_welcome", lang), "wait"
        spoken = message
    elif prog.state == WRONG_ACTIVITY:
        seen = ACTIVITY_WORDS[lang].get(prog.activity, prog.activity)
        message = prompt if prog.activity == "unknown" else t("drill_wrong_activity", lang, seen=seen, prompt=prompt)
        kind, spoken = "fix", message
        urgent = prog.step_elapsed_s == 0.0  # the step has just begun: its prompt goes first
    elif prog.state == FIX:
        fix = _fix_sentence(profile, prog.blocking[0], result, standard, lang)
        message, kind, spoken = t("drill_fix", lang, fix=fix), "fix", fix
    elif prog.state == READY:
        message, kind, spoken, urgent = t("drill_ready", lang), "wait", prompt, True
    elif prog.state == HOLDING and prog.counting:
        message, kind = "✓ " + t("drill_good", lang), "good"
        spoken = t("drill_good", lang)
    else:  # never say "good" when the timer is not counting
        message, kind, spoken = prompt, "wait", None
    hint = auto = None
    if prog.timed_out:
        hint = step.hint_text(lang)
        if prog.worst_blocker:
            try:
                title = profile.rule(prog.worst_blocker).title[lang]
            except KeyError:
                title = prog.worst_blocker
            hint = f"{t('drill_blocked_by', lang, title=title)} · {hint}"
        if prog.auto_skip_in_s is not None:
            auto = t("drill_auto_skip", lang, s=prog.auto_skip_in_s)
        if not prog.counting:
            spoken = step.hint_text(lang)
    return DrillView(prog.state, prog.counting, step_line, prompt, message, kind, hold_text, frac, countdown, hint,
                     auto, spoken, urgent)


def drill_html(view: DrillView, big: bool) -> str:
    """The panel as HTML (data-state / data-counting let tests check prompt and timer agree)."""
    e = html.escape
    parts = [f"<div class='pc-drill{' pc-drill-big' if big else ''}' data-state='{e(view.state)}' "
             f"data-counting='{str(view.counting).lower()}'>"]
    if view.step_line:
        parts.append(f"<div class='pc-step'>{e(view.step_line)}</div>")
    parts.append(f"<div class='pc-prompt'>{e(view.prompt)}</div>")
    if view.countdown is not None:
        parts.append(f"<div class='pc-count'>{view.countdown}</div>")
    parts.append(f"<div class='pc-msg pc-msg-{e(view.kind)}'>{e(view.message)}</div>")
    parts.append(f"<div class='pc-hold'><div class='pc-hold-bar' style='width:{100 * view.hold_fraction:.0f}%'></div>"
                 f"<span>{e(view.hold_text)}</span></div>")
    if view.hint:
        auto = f"<br><small>{e(view.auto_skip)}</small>" if view.auto_skip else ""
        parts.append(f"<div class='pc-hint'>{e(view.hint)}{auto}</div>")
    parts.append("</div>")
    return "".join(parts)


def render_drill(view: DrillView | None, *, big: bool, on_skip: Callable[[], None], key: str, lang: str) -> None:
    """Draw the panel and the Skip button (skipping is always possible; after the timeout it is offered loudly)."""
    if view is None:
        return
    st.markdown(drill_html(view, big), unsafe_allow_html=True)
    if view.state != COUNTDOWN or view.countdown is not None:
        if st.button(t("drill_skip", lang), key=key, type="primary" if view.hint else "secondary"):
            on_skip()


def speak(text: str | None, *, urgent: bool, lang: str, enabled: bool) -> None:
    """Say `text` (rate-limited) through the page; without an engine say so once, never crash."""
    if not enabled:
        st.session_state.pop(AUDIO_KEY, None)
        return
    planner: CuePlanner | None = st.session_state.get(PLANNER_KEY)
    if planner is None:
        planner = st.session_state[PLANNER_KEY] = CuePlanner(load_speech_limits())
    if engine() is None:
        if not st.session_state.get(NO_ENGINE_KEY):
            st.session_state[NO_ENGINE_KEY] = True
            logger.warning("spoken cues: no espeak-ng on this computer")
            st.toast(t("speech_unavailable", lang))
        return
    say = planner.next(text, time.monotonic(), urgent=urgent)
    if say:
        try:
            st.session_state[AUDIO_KEY] = synthesize(say, planner.limits.voice(lang), planner.limits.rate_wpm)
            st.session_state[SPOKEN_KEY] = say
        except SpeechError as exc:
            logger.warning("spoken cue failed: %s", exc)
    wav = st.session_state.get(AUDIO_KEY)
    if wav:
        st.audio(wav, format="audio/wav", autoplay=True)  # same bytes on the next run: not replayed
        spoken = html.escape(st.session_state.get(SPOKEN_KEY, ""))
        st.markdown(f"<div class='pc-spoken' data-text='{spoken}' style='display:none'></div>", unsafe_allow_html=True)
