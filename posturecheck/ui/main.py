"""The Streamlit app: `posturecheck app` / `posturecheck kiosk` run this file.

It lives inside the package so an installed (non-editable) posturecheck can find
it; the repository's `app.py` is a three-line entry calling `run()`. Kiosk mode:
`--kiosk` after `--` on the streamlit command line, or POSTURECHECK_KIOSK=1.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import streamlit as st

from posturecheck.ui.common import (LANG_KEY, apply_pending_lang, lang, lock_trainer_pages, settings, tr,
                                    trainer_unlocked)
from posturecheck.ui.applog import start_once
from posturecheck.ui.fonts import inject_page_fonts
from posturecheck.ui.i18n import LANG_NAMES

KIOSK_ENV = "POSTURECHECK_KIOSK"
VIEWS = Path(__file__).resolve().parent / "views"


def is_kiosk() -> bool:
    return "--kiosk" in sys.argv[1:] or os.environ.get(KIOSK_ENV, "").lower() in ("1", "true", "yes")


def _logging() -> None:
    """Server log file and leftover uploads, once per server process (see ui/applog.py)."""
    if not getattr(_logging, "done", False):
        logging.getLogger("posturecheck").setLevel(logging.INFO)
        start_once()
        _logging.done = True  # type: ignore[attr-defined]


def listening_everywhere() -> bool:
    """True when the server was started without an address (Streamlit then listens on every interface)."""
    return not (st.get_option("server.address") or "").strip()


def run(kiosk_mode: bool | None = None) -> None:
    """Build and run the app for one script run."""
    kiosk_mode = is_kiosk() if kiosk_mode is None else kiosk_mode
    _logging()
    if listening_everywhere():  # e.g. `streamlit run app.py` from another folder: no .streamlit/config.toml
        logging.getLogger("posturecheck.ui").error("refusing to serve: no --server.address (all interfaces)")
        st.error(tr("lan_refused"))
        st.stop()
    st.set_page_config(page_title="posturecheck", layout="wide",  # default favicon: no font CDN (offline)
                       initial_sidebar_state="collapsed" if kiosk_mode else "auto")
    inject_page_fonts()  # Chinese without a system CJK font, on every page
    settings()
    apply_pending_lang()
    lang()
    if kiosk_mode:
        st.navigation([st.Page(VIEWS / "kiosk.py", title=tr("nav_kiosk"), url_path="kiosk", default=True)],
                      position="hidden").run()
        return
    with st.sidebar:
        st.radio(tr("language"), list(LANG_NAMES), format_func=LANG_NAMES.get, key=LANG_KEY, horizontal=True)
        st.caption(tr("privacy_note"))
        if trainer_unlocked() and st.button(tr("pin_lock_now"), key="pc_lock"):
            lock_trainer_pages()
            st.rerun()
    pages = {
        tr("section_trainee"): [st.Page(VIEWS / "practice.py", title=tr("nav_practice"),
                                        url_path="practice", default=True)],
        tr("section_trainer"): [
            st.Page(VIEWS / "review.py", title=tr("nav_review"), url_path="review"),
            st.Page(VIEWS / "lineup.py", title=tr("nav_lineup"), url_path="lineup"),
            st.Page(VIEWS / "history.py", title=tr("nav_history"), url_path="history"),
            st.Page(VIEWS / "settings.py", title=tr("nav_settings"), url_path="settings"),
        ],
    }
    st.navigation(pages).run()


if __name__ == "__main__":
    run()
