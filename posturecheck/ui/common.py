"""Shared Streamlit helpers: language, settings, profile, history store, test hooks.

Test hooks (no camera, no model needed): put a callable under
`st.session_state[ESTIMATOR_HOOK]` (LiveConfig-or-None -> Estimator, e.g. a
`ReplayEstimator`) and both the live pipeline and the Review page use it instead of
MediaPipe. `POSTURECHECK_HOME` moves every stored file (tests use a tmp dir).
"""

from __future__ import annotations

import logging
import os
from typing import Any, Callable

import streamlit as st

from ..history import HISTORY_URL_ENV, HistoryError, HistoryPending, HistoryStore, history_target
from ..profile import Profile
from ..trainer_pin import PinError, check_pin, pin_is_set, set_pin
from .i18n import STATUS_ICONS, norm_lang, t
from .settings import AppSettings, load_settings_checked, load_user_profile

logger = logging.getLogger(__name__)

ESTIMATOR_HOOK = "pc_estimator_factory"
LANG_KEY = "pc_lang"
NEXT_LANG_KEY = "pc_lang_next"
SETTINGS_KEY = "pc_settings"
PROFILE_KEY = "pc_profile"
KIOSK_KEY = "pc_kiosk"


def settings() -> AppSettings:
    """This session's settings; a refused settings.json field is named once, its default used."""
    if SETTINGS_KEY not in st.session_state:
        loaded, problems = load_settings_checked()
        st.session_state[SETTINGS_KEY] = loaded
        for problem in problems:
            lg = norm_lang(st.session_state.get(LANG_KEY, loaded.lang))
            st.warning(problem.text(lg))
    return st.session_state[SETTINGS_KEY]


def set_settings(new: AppSettings) -> None:
    st.session_state[SETTINGS_KEY] = new


def apply_pending_lang() -> None:
    """Settings asks for a new language: apply it at the start of a run, before the widget exists."""
    if NEXT_LANG_KEY in st.session_state:
        st.session_state[LANG_KEY] = st.session_state.pop(NEXT_LANG_KEY)


def lang() -> str:
    if LANG_KEY not in st.session_state:
        st.session_state[LANG_KEY] = settings().lang
    return norm_lang(st.session_state[LANG_KEY])


def tr(key: str, **kw: Any) -> str:
    """Text in the session's language."""
    return t(key, lang(), **kw)


def profile() -> Profile:
    """The rule profile in use (the trainer's saved one, else the default)."""
    if PROFILE_KEY not in st.session_state:
        prof, err = load_user_profile()
        if err:
            st.warning(tr("profile_load_bad", error=err))
        st.session_state[PROFILE_KEY] = prof
    return st.session_state[PROFILE_KEY]


def reload_profile() -> None:
    st.session_state.pop(PROFILE_KEY, None)


def estimator_hook() -> Callable[..., Any] | None:
    return st.session_state.get(ESTIMATOR_HOOK)


@st.cache_resource(show_spinner=False)
def _store(target: str) -> HistoryStore:
    """One store per process and target (a file path or a postgresql:// URL)."""
    return HistoryStore(target)


def history_location() -> str:
    """Where this run keeps the history: --history-url, else Settings, else the SQLite file."""
    return history_target(settings().history_url)


def history_from_command_line() -> bool:
    return bool((os.environ.get(HISTORY_URL_ENV) or "").strip())


NOTICE_SHOWN_KEY = "pc_history_notice_shown"
UNLOCK_KEY = "pc_trainer_unlocked"   # server-side only: no widget has this key


def trainer_unlocked() -> bool:
    return bool(st.session_state.get(UNLOCK_KEY))


def lock_trainer_pages() -> None:
    st.session_state.pop(UNLOCK_KEY, None)


def _pin_error_text(exc: PinError) -> str:
    return exc.message_zh if lang() == "zh" else str(exc)


def trainer_gate() -> bool:
    """Trainer pages call this first: True when unlocked, else a PIN form (set on first use)."""
    if trainer_unlocked():
        return True
    if not pin_is_set():
        st.info(tr("pin_first_use"))
        with st.form("pc_pin_set_form"):
            new = st.text_input(tr("pin_new"), type="password", key="pc_pin_new")
            again = st.text_input(tr("pin_confirm"), type="password", key="pc_pin_again")
            go = st.form_submit_button(tr("pin_set"), type="primary")
        if go:
            try:
                set_pin(new, confirm=again)
            except PinError as exc:
                st.error(_pin_error_text(exc))
                return False
            st.session_state[UNLOCK_KEY] = True
            st.rerun()
        return False
    st.info(tr("pin_locked"))
    with st.form("pc_pin_form"):
        pin = st.text_input(tr("pin"), type="password", key="pc_pin")
        go = st.form_submit_button(tr("pin_unlock"), type="primary")
    if go:
        result = check_pin(pin)
        if result.ok:
            st.session_state[UNLOCK_KEY] = True
            st.rerun()
        elif result.wait_s > 0:
            st.error(tr("pin_wait", s=result.wait_s))
        else:
            st.error(tr("pin_wrong"))
    return False


def history_text(exc: HistoryError) -> str:
    return exc.message_zh if lang() == "zh" else str(exc)


def history_store() -> HistoryStore | None:
    """The history database (one connection per process), or None with an error shown.

    When a damaged database was moved aside at open, this session sees the notice once.
    """
    try:
        store = _store(history_location())
    except HistoryError as exc:
        logger.error("history unavailable: %s", exc)
        st.error(tr("history_error", error=history_text(exc)))
        return None
    if store.notice is not None and not st.session_state.get(NOTICE_SHOWN_KEY):
        st.session_state[NOTICE_SHOWN_KEY] = True
        st.warning(store.notice[1] if lang() == "zh" else store.notice[0])
    return store


def save_to_history(report: dict[str, Any], **where: Any) -> tuple[str, str]:
    """Save a finished session; never raises. Returns (outcome, message in the user's language).

    outcome: "saved", "pending" (kept on disk, written later) or "error" (nothing kept).
    """
    try:
        store = _store(history_location())
    except HistoryError as exc:
        logger.error("history unavailable while saving: %s", exc)
        return "error", tr("save_failed", error=history_text(exc))
    try:
        store.save_session(report, **where)
    except HistoryPending as exc:
        return "pending", tr("save_pending", error=history_text(exc))
    except HistoryError as exc:
        logger.error("saving a session failed: %s", exc)
        return "error", tr("save_failed", error=history_text(exc))
    except (OSError, ValueError) + store.db_errors as exc:
        logger.exception("saving a session failed")
        return "error", tr("save_failed", error=f"{type(exc).__name__}: {exc}")
    name = " ".join((where.get("trainee") or "").split())
    message = tr("saved_for", name=name) if name else tr("saved_anonymous")
    if store.notice is not None and not st.session_state.get(NOTICE_SHOWN_KEY):
        st.session_state[NOTICE_SHOWN_KEY] = True
        message += " " + (store.notice[1] if lang() == "zh" else store.notice[0])
    return "saved", message


def status_word(status: str) -> str:
    return f"{STATUS_ICONS.get(status, '')} {tr(status)}"


def rule_title(prof: Profile, rule_id: str) -> str:
    try:
        return prof.rule(rule_id).title[lang()]
    except KeyError:
        return rule_id


def choice(container: Any, label: str, options: list[Any], key: str, format_func: Callable[[Any], str],
           default: Any = None, **kw: Any) -> Any:
    """A selectbox of stable keys, shown translated, that keeps its choice across a language switch.

    Streamlit keeps a selectbox's value as its *shown text*: after a switch the old text
    matches no option and the box reads "Choose an option". The choice is kept here as its
    key (`<key>__value`) and the widget is keyed per language, so it is always valid.
    """
    store = f"{key}__value"
    current = st.session_state.get(store, default)
    index = options.index(current) if current in options else 0
    value = container.selectbox(label, options, index=index, format_func=format_func, key=f"{key}__{lang()}", **kw)
    st.session_state[store] = value
    return value


def standard_options() -> list[str | None]:
    return [None, "men", "women"]


def standard_label() -> Callable[[str | None], str]:
    """format_func for the standard selectbox (the language is fixed now: AppTest calls it later)."""
    lg = lang()
    return lambda v: t(f"standard_{v or 'none'}", lg)


def inject_css(css: str) -> None:
    st.markdown(f"<style>{css}</style>", unsafe_allow_html=True)


BASE_CSS = """
.pc-prompt {font-size: 1.6rem; font-weight: 700; line-height: 1.3; margin: 0.2rem 0 0.6rem 0;}
.pc-item {padding: 0.35rem 0.6rem; border-radius: 0.4rem; margin-bottom: 0.3rem; font-size: 1.02rem;}
.pc-item .pc-fix {display: block; font-size: 0.85em; margin-top: 0.15rem;}
.pc-pass {background: rgba(40, 200, 80, 0.12); border-left: 5px solid rgb(40, 160, 70);}
.pc-fail {background: rgba(235, 50, 40, 0.12); border-left: 5px solid rgb(220, 50, 40);}
.pc-unknown {background: rgba(160, 160, 160, 0.12); border-left: 5px solid rgb(150, 150, 150);}
"""
