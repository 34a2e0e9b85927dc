"""Once per app server process: the server log file and the private uploads folder (no Streamlit import).

Server log: `$POSTURECHECK_HOME/logs/server.log` (rotated, 3 × 1 MB) gets posturecheck's
messages and Streamlit's uncaught-exception tracebacks, which the browser does not
show (`client.showErrorDetails = "none"`); the terminal still gets them too.

Uploads: `$POSTURECHECK_HOME/uploads/<pid>/` (mode 0700, only this user can read it).
An upload lives there only while it is analysed; whatever a killed server left behind
is removed when the next server starts (folders of processes that are gone).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import shutil
import threading
from pathlib import Path

from ..history import default_home

logger = logging.getLogger(__name__)

LOG_DIR, LOG_NAME = "logs", "server.log"
LOG_BYTES, LOG_BACKUPS = 1_000_000, 3
UPLOADS_DIR = "uploads"
PRIVATE_MODE = 0o700
# Streamlit's loggers do not propagate; these carry what a trainer's admin needs.
LOGGED = ("posturecheck", "streamlit.error_util", "streamlit.runtime.scriptrunner.exec_code", "streamlit.web.server")

_once_lock = threading.Lock()
_started: set[str] = set()


def log_path(home: Path | None = None) -> Path:
    return (home or default_home()) / LOG_DIR / LOG_NAME


def setup_server_logging(home: Path | None = None) -> Path:
    """Send the LOGGED loggers to the server log file too (idempotent per process and file)."""
    path = log_path(home)
    with _once_lock:
        if str(path) in _started:
            return path
        path.parent.mkdir(mode=PRIVATE_MODE, parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS,
                                                       encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
        handler.setLevel(logging.INFO)
        ours = logging.getLogger("posturecheck")
        # The terminal too (Streamlit's own loggers print there already). The package's NullHandler
        # (posturecheck/__init__.py) does not count: with it alone nothing reached the terminal.
        if not any(not isinstance(h, logging.NullHandler) for h in ours.handlers):
            terminal = logging.StreamHandler()
            terminal.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            ours.addHandler(terminal)
        ours.setLevel(logging.INFO)
        for name in LOGGED:
            logging.getLogger(name).addHandler(handler)
        _started.add(str(path))
    logger.info("server log: %s", path)
    return path


def uploads_root(home: Path | None = None) -> Path:
    return (home or default_home()) / UPLOADS_DIR


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def uploads_dir(home: Path | None = None) -> Path:
    """This process's private uploads folder (created 0700)."""
    root = uploads_root(home)
    root.mkdir(mode=PRIVATE_MODE, parents=True, exist_ok=True)
    os.chmod(root, PRIVATE_MODE)
    mine = root / str(os.getpid())
    mine.mkdir(mode=PRIVATE_MODE, exist_ok=True)
    os.chmod(mine, PRIVATE_MODE)
    return mine


def clean_uploads(home: Path | None = None) -> list[Path]:
    """Delete what servers that are gone left in the uploads folder; returns what was removed."""
    root = uploads_root(home)
    if not root.is_dir():
        return []
    removed = []
    for entry in root.iterdir():
        if entry.is_dir() and entry.name.isdigit() and _alive(int(entry.name)):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    if removed:
        logger.warning("removed %d upload(s) left behind by a server that stopped: %s", len(removed),
                       ", ".join(p.name for p in removed))
    return removed


def start_once(home: Path | None = None) -> None:
    """At a server's first script run: log file, then leftover uploads removed."""
    key = f"start:{home or default_home()}"
    with _once_lock:
        if key in _started:
            return
        _started.add(key)
    setup_server_logging(home)
    clean_uploads(home)
