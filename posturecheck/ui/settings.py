"""App settings and the trainer's rule profile on disk (no Streamlit import).

Files, all under `$POSTURECHECK_HOME` (default `~/.posturecheck/`):
`settings.json` (language, models, camera, ICE servers, upload limit, kiosk and
storage choices, the shared history's URL; written readable by its owner only), `profile.toml` (the trainer's edited rule profile; absent =
the shipped default), `videos/` (annotated practice videos, only when the trainer
turns `keep_video` on).
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from ..history import default_home
from ..language import ENV as LANG_ENV, default_lang
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
MAX_UPLOAD_MB = 4096
KIOSK_IDLE_RANGE = (5.0, 3600.0)
MEGAPIXELS_RANGE = (1.0, 1000.0)
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
    max_image_megapixels: float = 100.0   # larger photos are refused (or decoded reduced) before decoding
    history_url: str = ""                 # "" = SQLite on this computer; postgresql://… = a shared server

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
        raise ValueError("expected a JSON list, e.g. []", "应为 JSON 列表，例如 []")
    out = []
    for i, s in enumerate(value):
        if not isinstance(s, dict) or "urls" not in s:
            raise ValueError(f"server {i + 1} needs \"urls\"", f"第 {i + 1} 个服务器缺少 \"urls\"")
        urls = s["urls"] if isinstance(s["urls"], list) else [s["urls"]]
        if not urls or not all(isinstance(u, str) and u.split(":", 1)[0] in ("stun", "turn", "turns") for u in urls):
            raise ValueError(f"server {i + 1}: urls must start with stun:, turn: or turns:",
                             f"第 {i + 1} 个服务器：urls 必须以 stun:、turn: 或 turns: 开头")
        unknown = set(s) - {"urls", "username", "credential"}
        if unknown:
            raise ValueError(f"server {i + 1}: unknown keys {sorted(unknown)}",
                             f"第 {i + 1} 个服务器：不认识的字段 {sorted(unknown)}（只能有 urls、username、credential）")
        out.append(dict(s))
    return out


def ice_error_text(exc: ValueError, lang: str) -> str:
    """One line in the user's language for a refused ICE entry (bad JSON or a bad server)."""
    if isinstance(exc, json.JSONDecodeError):
        return (f"不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列）；请写成列表，例如 []"
                if lang == "zh" else f"not valid JSON (line {exc.lineno}, column {exc.colno}); write a list, e.g. []")
    args = exc.args
    if lang == "zh" and len(args) > 1:
        return str(args[1])
    return str(args[0]) if args else str(exc)


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


@dataclass(frozen=True)
class SettingsProblem:
    """One refused field of settings.json: the file, the field, and what was used instead."""

    path: Path
    field: str
    en: str
    zh: str

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


def _choice(options: tuple[Any, ...]) -> Any:
    def check(v: Any) -> Any:
        if v not in options:
            raise ValueError(f"expected one of {', '.join(map(str, options))}",
                             f"应为以下之一：{'、'.join(map(str, options))}")
        return v
    return check


def _number(lo: float, hi: float, integer: bool = False) -> Any:
    def check(v: Any) -> Any:
        ok = isinstance(v, int) if integer else isinstance(v, (int, float))
        if isinstance(v, bool) or not ok or not math.isfinite(v) or not lo <= v <= hi:
            kind = "a whole number" if integer else "a number"
            raise ValueError(f"expected {kind} from {lo:g} to {hi:g}",
                             f"应为 {lo:g} 到 {hi:g} 之间的{'整数' if integer else '数字'}")
        return int(v) if integer else float(v)
    return check


def _boolean(v: Any) -> bool:
    if not isinstance(v, bool):  # "no", "false", 0 must never read as true
        raise ValueError("expected true or false (JSON booleans, no quotes)", "应为 true 或 false（不加引号）")
    return v


def _ice(v: Any) -> list[dict[str, Any]]:
    try:
        return validate_ice_servers(v)
    except ValueError as exc:
        raise ValueError(str(exc), f"ICE 服务器设置有误：{exc}") from None


def _history_url(v: Any) -> str:
    if not isinstance(v, str) or (v.strip() and not v.strip().startswith(("postgresql://", "postgres://"))):
        raise ValueError("expected \"\" or a postgresql://… URL", "应为空，或 postgresql://… 地址")
    return v.strip()


# settings.json field -> validator (raises ValueError(en, zh)); anything refused falls back to its default.
SETTINGS_SCHEMA: dict[str, Any] = {
    "lang": _choice(("zh", "en")),
    "live_model": _choice(MODELS),
    "review_model": _choice(MODELS),
    "camera": _choice(tuple(CAMERA_SIZES)),
    "ice_servers": _ice,
    "max_upload_mb": _number(1, MAX_UPLOAD_MB, integer=True),
    "keep_video": _boolean,
    "standard": _choice((None, "men", "women")),
    "kiosk_idle_s": _number(KIOSK_IDLE_RANGE[0], KIOSK_IDLE_RANGE[1]),
    "kiosk_keep": _choice(KIOSK_KEEP),
    "max_image_megapixels": _number(MEGAPIXELS_RANGE[0], MEGAPIXELS_RANGE[1]),
    "history_url": _history_url,
}


def load_settings_checked(home: Path | None = None) -> tuple[AppSettings, list[SettingsProblem]]:
    """Saved settings field by field against SETTINGS_SCHEMA; never raises.

    A bad field gets its default and one problem naming the file and the field; an
    unreadable file gives all defaults and one problem.
    """
    path = settings_path(home)
    if not path.is_file():
        return AppSettings(lang=default_lang(home, use_saved=False)), []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object {...}")
    except (OSError, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        detail = str(exc).splitlines()[0]
        problem = SettingsProblem(path, "", f"{path}: unreadable ({detail}); using the default settings",
                                  f"{path}：无法读取（{detail}），已使用默认设置")
        logger.warning("%s", problem.en)
        return AppSettings(lang=default_lang(home, use_saved=False)), [problem]
    values: dict[str, Any] = {}
    problems: list[SettingsProblem] = []
    defaults = AppSettings()
    for key, check in SETTINGS_SCHEMA.items():
        if key not in data:
            continue
        try:
            values[key] = check(data[key])
        except ValueError as exc:
            en, zh = (exc.args + (exc.args[0],))[:2] if exc.args else ("invalid", "无效")
            default = getattr(defaults, key)
            problems.append(SettingsProblem(
                path, key, f"{path}: field `{key}`: {en}, got {data[key]!r}; using the default {default!r}",
                f"{path}：字段 `{key}` {zh}，实际为 {data[key]!r}；已改用默认值 {default!r}"))
            logger.warning("%s", problems[-1].en)
    if "lang" not in values or os.environ.get(LANG_ENV):  # one language setting (posturecheck.language)
        values["lang"] = default_lang(home, use_saved="lang" in values)
    return replace(defaults, **values), problems


def load_settings(home: Path | None = None) -> AppSettings:
    """Saved settings, or the defaults field by field (see `load_settings_checked`)."""
    return load_settings_checked(home)[0]


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
