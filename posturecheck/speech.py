"""Spoken cues, offline (no Streamlit): local text-to-speech and a rate limit.

Trainees stand 2–3 m from the screen and cannot read small text while holding a stance,
so the app speaks the step prompts and the current correction. Browsers' own
speechSynthesis depends on the voices the OS has (often none on a kiosk), so the audio is
made here with the Debian/Ubuntu package `espeak-ng` (Mandarin voice `cmn`, English
`en-us`; it runs offline, nothing is downloaded), cached per phrase in memory and played
by the page. Without `espeak-ng` the app says so once and stays silent.

`CuePlanner` decides when to speak: a new cue at most every `min_gap_s`, the same
correction again only after `repeat_s` (never every frame). Both limits live in
`profiles/drills.toml` (`[speech]`).
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from dataclasses import dataclass
from importlib import resources
from typing import Any

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

logger = logging.getLogger(__name__)

ENGINES = ("espeak-ng", "espeak")
SYNTH_TIMEOUT_S = 10.0
CACHE_PHRASES = 128


@dataclass(frozen=True)
class SpeechLimits:
    """From drills.toml [speech]: voices, speaking rate and how often cues may be spoken."""

    min_gap_s: float = 2.5
    repeat_s: float = 8.0
    rate_wpm: int = 150
    voices: tuple[tuple[str, str], ...] = (("zh", "cmn"), ("en", "en-us"))

    def voice(self, lang: str) -> str:
        return dict(self.voices).get(lang, dict(self.voices).get("en", "en-us"))


def load_speech_limits() -> SpeechLimits:
    """The [speech] table of the shipped drills file (defaults for keys it lacks)."""
    text = resources.files("posturecheck.profiles").joinpath("drills.toml").read_text(encoding="utf-8")
    raw: dict[str, Any] = tomllib.loads(text).get("speech", {})
    base = SpeechLimits()
    voices = raw.get("voices", dict(base.voices))
    return SpeechLimits(float(raw.get("min_gap_s", base.min_gap_s)), float(raw.get("repeat_s", base.repeat_s)),
                        int(raw.get("rate_wpm", base.rate_wpm)), tuple((str(k), str(v)) for k, v in voices.items()))


def engine() -> str | None:
    """The path of the offline speech engine, or None when none is installed."""
    for name in ENGINES:
        path = shutil.which(name)
        if path:
            return path
    return None


class SpeechError(RuntimeError):
    """The speech engine is missing or failed on a phrase."""


@functools.lru_cache(maxsize=CACHE_PHRASES)
def synthesize(text: str, voice: str, rate_wpm: int = 150) -> bytes:
    """WAV bytes of `text` spoken by espeak-ng with `voice` (cached per phrase)."""
    exe = engine()
    if exe is None:
        raise SpeechError("no offline speech engine (install the package espeak-ng)")
    try:
        done = subprocess.run([exe, "-v", voice, "-s", str(int(rate_wpm)), "--stdout", text],
                              capture_output=True, timeout=SYNTH_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SpeechError(f"{exe} failed: {exc}") from exc
    if done.returncode != 0 or done.stdout[:4] != b"RIFF":
        raise SpeechError(f"{exe} failed ({done.returncode}): {done.stderr.decode(errors='replace').strip()[:200]}")
    return done.stdout


class CuePlanner:
    """Rate limit for spoken cues: says what is new, repeats a correction only now and then."""

    def __init__(self, limits: SpeechLimits | None = None) -> None:
        self.limits = limits or SpeechLimits()
        self._last_text: str | None = None
        self._last_at: float | None = None

    def reset(self) -> None:
        self._last_text = self._last_at = None

    def next(self, text: str | None, now: float, *, urgent: bool = False) -> str | None:
        """The text to speak now, or None. `urgent` (a new step) skips the gap, never the repeat limit."""
        if not text:
            return None
        since = None if self._last_at is None else now - self._last_at
        if text == self._last_text:
            if since is not None and since < self.limits.repeat_s:
                return None
        elif since is not None and since < self.limits.min_gap_s and not urgent:
            return None
        self._last_text, self._last_at = text, now
        return text
