"""The trainer PIN that guards the app's trainer pages (History, Review, Settings). No Streamlit here.

Set on first use and changeable in Settings. Stored in `$POSTURECHECK_HOME/trainer_pin.json`
(mode 0600) as a scrypt hash with a random per-install salt, never in clear. Wrong
attempts are counted in `trainer_pin_attempts.json`, so restarting the app does not
reset them: after `FREE_ATTEMPTS` failures each further attempt waits twice as long
(`BACKOFF_FIRST_S` … `BACKOFF_MAX_S`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .history import default_home

logger = logging.getLogger(__name__)

PIN_FILE = "trainer_pin.json"
ATTEMPTS_FILE = "trainer_pin_attempts.json"
MIN_LENGTH, MAX_LENGTH = 4, 128
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1   # ~16 MB and tens of ms per check
SALT_BYTES = 16
FREE_ATTEMPTS = 3
BACKOFF_FIRST_S, BACKOFF_MAX_S = 5.0, 900.0


class PinError(ValueError):
    """A PIN that cannot be set or changed; `str(e)` English, `message_zh` Chinese."""

    def __init__(self, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.message_zh = message_zh


@dataclass(frozen=True)
class PinCheck:
    """Outcome of an attempt: ok, or how many seconds to wait before the next try (0 = may retry now)."""

    ok: bool
    wait_s: float = 0.0


def _home(home: Path | None) -> Path:
    return home or default_home()


def _hash(pin: str, salt: bytes, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> bytes:
    return hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)


def _write_private(path: Path, data: dict[str, Any]) -> None:
    """Atomically write JSON readable only by this user."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("unreadable %s: %s", path, exc)
        return None
    return data if isinstance(data, dict) else None


def pin_is_set(home: Path | None = None) -> bool:
    """True once a trainer PIN was chosen for this install."""
    data = _read(_home(home) / PIN_FILE)
    return bool(data and data.get("hash") and data.get("salt"))


def validate_new_pin(pin: str, confirm: str | None = None) -> None:
    """Raise PinError when a new PIN is too short, too long or not confirmed."""
    if len(pin) < MIN_LENGTH or len(pin) > MAX_LENGTH:
        raise PinError(f"the PIN needs {MIN_LENGTH} to {MAX_LENGTH} characters",
                       f"PIN 需要 {MIN_LENGTH} 到 {MAX_LENGTH} 个字符")
    if confirm is not None and pin != confirm:
        raise PinError("the two PINs differ", "两次输入的 PIN 不一致")


def set_pin(pin: str, home: Path | None = None, *, current: str | None = None, confirm: str | None = None) -> None:
    """Set the PIN (first use) or change it (then `current` must be right)."""
    validate_new_pin(pin, confirm)
    folder = _home(home)
    if pin_is_set(folder):
        if current is None or not check_pin(current, folder).ok:
            raise PinError("the current PIN is wrong", "当前 PIN 不正确")
    salt = secrets.token_bytes(SALT_BYTES)
    _write_private(folder / PIN_FILE, {"kdf": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
                                       "salt": salt.hex(), "hash": _hash(pin, salt).hex(), "set_at": time.time()})
    (folder / ATTEMPTS_FILE).unlink(missing_ok=True)
    logger.info("trainer PIN set in %s", folder / PIN_FILE)


def wait_needed(home: Path | None = None, now: float | None = None) -> float:
    """Seconds to wait before the next attempt is allowed (0 when allowed now)."""
    data = _read(_home(home) / ATTEMPTS_FILE) or {}
    until = float(data.get("locked_until", 0.0) or 0.0)
    return max(0.0, until - (time.time() if now is None else now))


def check_pin(pin: str, home: Path | None = None) -> PinCheck:
    """Check an attempt, honouring and updating the persisted back-off."""
    folder = _home(home)
    data = _read(folder / PIN_FILE)
    if not data or not data.get("hash"):
        return PinCheck(False)
    wait = wait_needed(folder)
    if wait > 0:
        return PinCheck(False, wait)
    try:
        digest = _hash(pin[:MAX_LENGTH], bytes.fromhex(data["salt"]), int(data.get("n", SCRYPT_N)),
                       int(data.get("r", SCRYPT_R)), int(data.get("p", SCRYPT_P)))
        ok = hmac.compare_digest(digest, bytes.fromhex(data["hash"]))
    except (ValueError, KeyError, TypeError) as exc:
        logger.warning("trainer PIN file %s unusable: %s", folder / PIN_FILE, exc)
        ok = False
    attempts_path = folder / ATTEMPTS_FILE
    if ok:
        attempts_path.unlink(missing_ok=True)
        return PinCheck(True)
    failures = int((_read(attempts_path) or {}).get("failures", 0)) + 1
    delay = 0.0 if failures < FREE_ATTEMPTS else min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** (failures - FREE_ATTEMPTS))
    _write_private(attempts_path, {"failures": failures, "locked_until": time.time() + delay})
    logger.warning("wrong trainer PIN (%d failures; next attempt in %.0f s)", failures, delay)
    return PinCheck(False, delay)
