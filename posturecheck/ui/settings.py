"""App settings and the trainer's rule profile on disk (no Streamlit import).

Files, all under `$POSTURECHECK_HOME` (default `~/.posturecheck/`):
`settings.json` (language, models, camera, ICE servers, upload limit, kiosk and
storage choices), `profile.toml` (the trainer's edited rule profile; absent =
the shipped default), `videos/` (annotated practice videos, only when the trainer
turns `keep_video` on).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any

from ..history import default_home
from ..profile import Profile, ProfileError, load_profile, parse_profile
from .tomlwrite import dumps

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

logger = logging.getLogger(__name__)

SETTINGS_NAME = "settings.json"
PROFILE_NAME = "profile.toml"
VIDEOS_DIR = "videos"
CAMERA_SIZES = {"640x480": (640, 480), "1280x720": (1280, 720), "320x240": (320, 240)}
MODELS = ("lite", "full")
KIOSK_KEEP = ("nothing", "scores")
PROFILE_HEADER = ("posturecheck rule profile saved from the app's Settings page.\n"
                  "Limits come from ../shared/STANDARDS.md; rule ids are a public contract.")


@dataclass(frozen=True)
class AppSettings:
    """What the Settings page edits. Defaults suit an offline training room."""

    lang: str = "zh"
    live_model: str = "lite"
    review_model: str = "full"
    camera: str = "640x480"
    ice_servers: list[dict[str, Any]] = field(default_factory=list)
    max_upload_mb: int = 200
    keep_video: bool = False
    standard: str | None = None
    kiosk_idle_s: float = 30.0
    kiosk_keep: str = "nothing"

    def rtc_configuration(self) -> dict[str, Any]:
        """For webrtc_streamer: no STUN/TURN by default (localhost needs none)."""
        return {"iceServers": [dict(s) for s in self.ice_servers]}

    def camera_size(self) -> tuple[int, int]:
        return CAMERA_SIZES.get(self.camera, CAMERA_SIZES["640x480"])

    def media_constraints(self) -> dict[str, Any]:
        w, h = self.camera_size()
        return {"video": {"width": {"ideal": w}, "height": {"ideal": h}}, "audio": False}


def validate_ice_servers(value: Any) -> list[dict[str, Any]]:
    """Check a list of RTCIceServer dicts; raises ValueError with a short reason."""
    if not isinstance(value, list):
        raise ValueError("expected a JSON list, e.g. []")
    out = []
    for i, s in enumerate(value):
        if not isinstance(s, dict) or "urls" not in s:
            raise ValueError(f"server {i + 1} needs \"urls\"")
        urls = s["urls"] if isinstance(s["urls"], list) else [s["urls"]]
        if not urls or not all(isinstance(u, str) and u.split(":", 1)[0] in ("stun", "turn", "turns") for u in urls):
            raise ValueError(f"server {i + 1}: urls must start with stun:, turn: or turns:")
        unknown = set(s) - {"urls", "username", "credential"}
        if unknown:
            raise ValueError(f"server {i + 1}: unknown keys {sorted(unknown)}")
        out.append(dict(s))
    return out


def settings_path(home: Path | None = None) -> Path:
    return (home or default_home()) / SETTINGS_NAME


def profile_path(home: Path | None = None) -> Path:
    return (home or default_home()) / PROFILE_NAME


def videos_dir(home: Path | None = None) -> Path:
    return (home or default_home()) / VIDEOS_DIR


def _atomic_write(path: Path, text: str) -> None:
    """Write via a temp file and rename, so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_settings(home: Path | None = None) -> AppSettings:
    """Saved settings, or the defaults; a damaged file is ignored with a log line."""
    path = settings_path(home)
    if not path.is_file():
        return AppSettings()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        known = {f.name for f in fields(AppSettings)}
        s = AppSettings(**{k: v for k, v in data.items() if k in known})
        return replace(s, ice_servers=validate_ice_servers(s.ice_servers),
                       lang=s.lang if s.lang in ("zh", "en") else "zh",
                       live_model=s.live_model if s.live_model in MODELS else "lite",
                       review_model=s.review_model if s.review_model in MODELS else "full",
                       kiosk_keep=s.kiosk_keep if s.kiosk_keep in KIOSK_KEEP else "nothing")
    except (OSError, ValueError, TypeError) as exc:
        logger.warning("ignoring %s: %s", path, exc)
        return AppSettings()


def save_settings(settings: AppSettings, home: Path | None = None) -> Path:
    path = settings_path(home)
    _atomic_write(path, json.dumps(asdict(settings), ensure_ascii=False, indent=1))
    return path


def profile_data(home: Path | None = None) -> dict[str, Any]:
    """The profile in use as parsed TOML (user file if valid, else the shipped default)."""
    path = profile_path(home)
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            parse_profile(data, str(path))
            return data
        except (OSError, tomllib.TOMLDecodeError, ProfileError) as exc:
            logger.warning("user profile %s unusable: %s", path, exc)
    text = resources.files("posturecheck.profiles").joinpath("default.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def load_user_profile(home: Path | None = None) -> tuple[Profile, str | None]:
    """(profile in use, error text if the user's file is broken and the default is used)."""
    path = profile_path(home)
    if path.is_file():
        try:
            return load_profile(path), None
        except ProfileError as exc:
            return load_profile(), str(exc)
    return load_profile(), None


def save_profile_data(data: dict[str, Any], home: Path | None = None) -> Path:
    """Validate with `parse_profile`, then write TOML atomically. Raises ProfileError."""
    path = profile_path(home)
    text = dumps(data, PROFILE_HEADER)
    parse_profile(tomllib.loads(text), str(path))  # validate exactly what will be read back
    _atomic_write(path, text)
    return path


def reset_profile(home: Path | None = None) -> None:
    profile_path(home).unlink(missing_ok=True)
