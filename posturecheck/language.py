"""The one language setting shared by the CLI and the app (zh = Simplified Chinese, en = English).

Looked up in this order; the first that names a language wins:

1. `POSTURECHECK_LANG` (`zh` or `en`) — e.g. for one shell or a kiosk's autostart entry;
2. `"lang"` in `$POSTURECHECK_HOME/settings.json` — the app's Settings page ("Default language") writes it;
3. the system locale (`LC_ALL`, `LC_MESSAGES`, `LANG`): `zh_*` → zh, any other named language → en;
4. otherwise (no locale, or `C` / `POSIX`) Chinese, the trainees' language.

`--lang` on the command line and the app's language switch change it for one run / one browser session.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

LANGS = ("zh", "en")
ENV = "POSTURECHECK_LANG"
FALLBACK = "zh"
SETTINGS_NAME = "settings.json"


def _named(value: str | None) -> str | None:
    v = (value or "").strip().lower()
    if v.startswith("zh"):
        return "zh"
    if v.startswith("en"):
        return "en"
    return None


def locale_lang(env: dict[str, str] | None = None) -> str | None:
    """zh / en from the system locale, or None when it names no language (unset, C, POSIX)."""
    env = dict(os.environ) if env is None else env
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = (env.get(name) or "").strip()
        if not value:
            continue
        base = value.split(".", 1)[0].split("@", 1)[0]
        if base in ("C", "POSIX"):
            return None
        return _named(base) or "en"  # a named language we do not have: English
    return None


def saved_lang(home: Path | None = None) -> str | None:
    """The `lang` field of settings.json, or None when the file or field is missing or bad."""
    from .history import default_home

    path = (home or default_home()) / SETTINGS_NAME
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        logger.debug("settings unreadable for the language (%s): %s", path, exc)
        return None
    value = data.get("lang") if isinstance(data, dict) else None
    return value if value in LANGS else None


def default_lang(home: Path | None = None, env: dict[str, str] | None = None, *, use_saved: bool = True) -> str:
    """The user's language: env var, then settings.json, then the locale, then Chinese."""
    env = dict(os.environ) if env is None else env
    forced = _named(env.get(ENV))
    if forced is not None:
        return forced
    if use_saved:
        saved = saved_lang(home)
        if saved is not None:
            return saved
    return locale_lang(env) or FALLBACK
