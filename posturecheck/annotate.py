"""Annotated review video: the trainee's own clip with the verdicts drawn on it.

A second decode of the source, after the analysis: each frame gets the skeleton
of its `FrameRecord.landmarks`, every limb coloured by the status of the rules
that judge it (green pass, amber a brief slip, red a sustained violation, grey
not judged), the violations in progress named in the report's language, the
activity, a timer and a violation timeline. Written as H.264/yuv420p MP4 with
the index up front (faststart) so browsers play it.

Text is drawn with Pillow and a CJK font found offline (see `find_cjk_font`):
`cv2.putText` has no Chinese glyphs. The encoder is PyAV's bundled libx264
(see `pick_encoder`), falling back to OpenCV's writer with a warning.

Frames are kept only as the written video and the few thumbnails asked for.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Collection, Mapping, Sequence

import cv2
import numpy as np

from .landmarks import SKELETON_EDGES
from .profile import UNIT_WORDS, Profile
from .report import ACTIVITY_WORDS, OBSERVATION_WORDS, VIEW_WORDS
from .rules import FAIL, PASS
from .session import FrameRecord

logger = logging.getLogger(__name__)

# ----------------------------------------------------------------------------- fonts

# A font file (optionally "PATH#INDEX" for a collection) that overrides the search below.
FONT_ENV = "POSTURECHECK_CJK_FONT"
# PyPI package `noto-cjk-sans-otc` (a dependency): Noto Sans CJK Regular collection, SIL OFL 1.1.
FONT_PACKAGE = "noto_cjk_sans_otc"
# Faces preferred inside a collection, Simplified Chinese first.
PREFERRED_FACES = ("Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
                   "WenQuanYi Micro Hei", "PingFang SC", "Microsoft YaHei", "SimHei")
# System fonts tried when the package is missing (Debian fonts-noto-cjk / fonts-wqy-*, macOS, Windows).
SYSTEM_CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/source-han-sans/SourceHanSans-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)
MAX_FACES_IN_COLLECTION = 16
FONT_HELP = ("no Chinese font found: install the Python package noto-cjk-sans-otc (pip install noto-cjk-sans-otc) "
             "or the system package fonts-noto-cjk, or set POSTURECHECK_CJK_FONT to a .ttf/.otf/.ttc file; "
             "text is drawn in English meanwhile")


@dataclass(frozen=True)
class FontSource:
    """A CJK-capable font file, the face index inside it, its name and where it came from."""

    path: Path
    index: int
    name: str
    origin: str  # "environment", "package noto-cjk-sans-otc", "system"

    def describe(self) -> str:
        return f"{self.name} ({self.origin}: {self.path})"


def _faces(path: Path) -> list[tuple[int, str]]:
    """(index, family name) of every face in a font file or collection."""
    from PIL import ImageFont

    out: list[tuple[int, str]] = []
    for i in range(MAX_FACES_IN_COLLECTION):
        try:
            font = ImageFont.truetype(str(path), 12, index=i)
        except OSError:
            break
        out.append((i, font.getname()[0] or ""))
    return out


def _pick_face(path: Path, origin: str) -> FontSource | None:
    faces = _faces(path)
    if not faces:
        logger.warning("font %s could not be opened", path)
        return None
    for wanted in PREFERRED_FACES:
        for i, name in faces:
            if name == wanted:
                return FontSource(path, i, name, origin)
    return FontSource(path, faces[0][0], faces[0][1], origin)


def _package_font() -> Path | None:
    try:
        import importlib

        mod = importlib.import_module(FONT_PACKAGE)
    except ImportError:
        return None
    path = Path(str(getattr(mod, "FONT_PATH", "")))
    return path if path.is_file() else None


@functools.lru_cache(maxsize=1)
def find_cjk_font() -> FontSource | None:
    """The font for Chinese text: $POSTURECHECK_CJK_FONT, the noto-cjk-sans-otc package, then system fonts.

    None (with one warning) when nothing is found; callers then draw English text.
    """
    env = os.environ.get(FONT_ENV)
    if env:
        path_s, _, idx = env.partition("#")
        path = Path(path_s).expanduser()
        if path.is_file():
            if idx.isdigit():
                return FontSource(path, int(idx), path.stem, "environment")
            found = _pick_face(path, "environment")
            if found:
                return found
        logger.warning("%s=%s is not a readable font file; searching the usual places", FONT_ENV, env)
    pkg = _package_font()
    if pkg is not None:
        found = _pick_face(pkg, "package noto-cjk-sans-otc")
        if found:
            return found
    for cand in SYSTEM_CJK_FONTS:
        p = Path(cand)
        if p.is_file():
            found = _pick_face(p, "system")
            if found:
                return found
    logger.warning(FONT_HELP)
    return None


@functools.lru_cache(maxsize=16)
def load_font(size: int) -> tuple[Any, bool]:
    """(Pillow font of `size` px, whether it can draw Chinese)."""
    from PIL import ImageFont

    src = find_cjk_font()
    if src is not None:
        try:
            return ImageFont.truetype(str(src.path), size, index=src.index), True
        except OSError as exc:
            logger.warning("could not load %s: %s", src.describe(), exc)
    return ImageFont.load_default(size), False


# ----------------------------------------------------------------------------- encoder

# H.264 encoders in order of preference (PyAV wheels ship libx264).
H264_ENCODERS = ("libx264", "libopenh264", "h264")
X264_OPTIONS = {"crf": "23", "preset": "veryfast"}
OPENH264_BIT_RATE = 2_500_000


@functools.lru_cache(maxsize=1)
def pick_encoder() -> str | None:
    """Name of a PyAV H.264 encoder that works here, or None (PyAV missing or no H.264)."""
    try:
        import av
    except ImportError:
        logger.warning("PyAV (package av) is not installed: falling back to OpenCV's video writer")
        return None
    for name in H264_ENCODERS:
        if name not in av.codecs_available:
            continue
        try:
            codec = av.codec.Codec(name, "w")
        except (ValueError, av.error.FFmpegError):  # listed but not an encoder here
            continue
        if codec.is_encoder:
            return name
    logger.warning("PyAV has no H.264 encoder: falling back to OpenCV's video writer")
    return None


class _PyAVWriter:
    """H.264 yuv420p MP4 through PyAV, with millisecond timestamps and faststart."""

    def __init__(self, path: Path, width: int, height: int, fps: float, encoder: str,
                 threads: int | None = None) -> None:
        import av

        self._av = av
        self.encoder = encoder
        self._container = av.open(str(path), "w", options={"movflags": "+faststart"})
        stream = self._container.add_stream(encoder, rate=Fraction(round(fps * 1000), 1000))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        # Millisecond time base in the encoder too, so close frames (a 14 ms gap) keep distinct stamps.
        stream.time_base = Fraction(1, 1000)
        stream.codec_context.time_base = Fraction(1, 1000)
        if encoder == "libx264":
            stream.options = dict(X264_OPTIONS, **({"threads": str(threads)} if threads else {}))
        else:
            stream.bit_rate = OPENH264_BIT_RATE
        self._stream = stream
        self._t0: int | None = None
        self._last = -1
        self.frames = 0

    def write(self, rgb: np.ndarray, timestamp_ms: int) -> None:
        if self._t0 is None:
            self._t0 = timestamp_ms
        pts = max(timestamp_ms - self._t0, self._last + 1)
        self._last = pts
        frame = self._av.VideoFrame.from_ndarray(rgb, format="rgb24")
        frame.pts, frame.time_base = pts, Fraction(1, 1000)
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()


class _CvWriter:
    """OpenCV's writer: H.264 ('avc1') when its FFmpeg has it, else MPEG-4 part 2 (not for browsers)."""

    def __init__(self, path: Path, width: int, height: int, fps: float) -> None:
        for fourcc, name in (("avc1", "opencv-avc1"), ("mp4v", "opencv-mp4v")):
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
            if writer.isOpened():
                self._w, self.encoder = writer, name
                break
            writer.release()
        else:
            raise RuntimeError(f"no video encoder available to write {path.name}")
        if self.encoder == "opencv-mp4v":
            logger.warning("%s is written as MPEG-4 part 2: browsers may not play it (install PyAV: pip install av)",
                           path.name)
        self.frames = 0

    def write(self, rgb: np.ndarray, timestamp_ms: int) -> None:
        self._w.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        self.frames += 1

    def close(self) -> None:
        self._w.release()


def open_writer(path: Path, width: int, height: int, fps: float, threads: int | None = None
                ) -> _PyAVWriter | _CvWriter:
    """An MP4 writer for even-sized RGB frames (PyAV H.264 when possible; `threads`: encoder threads)."""
    encoder = pick_encoder()
    if encoder is not None:
        return _PyAVWriter(path, width, height, fps, encoder, threads)
    return _CvWriter(path, width, height, fps)


# ----------------------------------------------------------------------------- rule tracks

# Status ranks drawn on the skeleton (higher wins when several rules judge one limb).
NOT_JUDGED, PASSING, BRIEF, VIOLATION = 0, 1, 2, 3
STATUS_RGB = {
    NOT_JUDGED: (170, 170, 170),
    PASSING: (46, 204, 113),
    BRIEF: (243, 166, 38),
    VIOLATION: (231, 60, 50),
}
NEUTRAL_RGB = (225, 225, 225)

# Limb groups of the skeleton (landmark index pairs).
REGION_EDGES: dict[str, tuple[tuple[int, int], ...]] = {
    "head": ((0, 7), (0, 8)),
    "shoulders": ((11, 12),),
    "torso": ((11, 23), (12, 24), (23, 24)),
    "arm_left": ((11, 13), (13, 15), (15, 19)),
    "arm_right": ((12, 14), (14, 16), (16, 20)),
    "leg_left": ((23, 25), (25, 27)),
    "leg_right": ((24, 26), (26, 28)),
    "feet": ((27, 29), (29, 31), (27, 31), (28, 30), (30, 32), (28, 32)),
}
ARMS, LEGS = ("arm_left", "arm_right"), ("leg_left", "leg_right")
# Which limbs a measurement (FrameFeatures field, clip measurement or rule id) is about:
# the first keyword found in the name wins.
REGION_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("hand_left", ("arm_left",)), ("hand_right", ("arm_right",)),
    ("knee_angle_left", ("leg_left",)), ("knee_angle_right", ("leg_right",)),
    ("head", ("head",)), ("face", ("head",)), ("smile", ("head",)), ("hair", ("head",)), ("beard", ("head",)),
    ("eye", ("head",)), ("badge", ("torso",)), ("shoulder", ("shoulders",)),
    ("trunk", ("torso",)), ("hip_center", ("torso",)), ("sway", ("torso",)), ("twist", ("torso",)),
    ("rock", ("torso",)), ("bow", ("torso",)),
    ("arm", ARMS), ("hand", ARMS),
    ("heel", ("feet",)), ("toe", ("feet",)), ("ankle", ("feet",)), ("feet", ("feet",)), ("foot", ("feet",)),
    ("knee", LEGS), ("leg", LEGS), ("jiggle", LEGS), ("step", LEGS), ("rhythm", LEGS),
)


def regions_for(names: Sequence[str]) -> frozenset[str]:
    """Limb groups judged by measurements with these names (none when no name is recognised)."""
    out: set[str] = set()
    for name in names:
        for key, regions in REGION_KEYWORDS:
            if key in name:
                out.update(regions)
                break
    return frozenset(out)


@dataclass(frozen=True)
class RuleTrack:
    """One rule of a report as the overlay needs it."""

    rule_id: str
    title: str
    scope: str
    status: str
    intervals: tuple[tuple[float, float, Any], ...]
    regions: frozenset[str]
    units: Mapping[str, str]   # feature -> unit of its check
    labels: Mapping[str, str]  # feature -> short label (rules with several checks), in the track's language
    default_unit: str = ""     # unit of the rule's first range check (for clip values and peaks)

    def in_violation(self, t_s: float) -> tuple[bool, Any]:
        """Whether `t_s` is inside a violation (and its peak value there)."""
        for start, end, peak in self.intervals:
            if start <= t_s < end:
                return True, peak
        if self.scope == "clip" and self.status == FAIL and not self.intervals:
            return True, None  # failed over the whole clip
        return False, None


def rule_tracks(report: Mapping[str, Any], profile: Profile | None, lang: str,
                frame_rule_ids: Collection[str] | None = None) -> list[RuleTrack]:
    """Tracks of every rule in a `posturecheck.analysis/1` dict (rules missing from the profile too).

    frame_rule_ids: the rules with per-frame verdicts in the records (default: the profile's
    frame-scope rules); the others are shown from their intervals / clip status.
    """
    tracks = []
    for r in report.get("rules", []):
        rid = r.get("id", "?")
        rule = None
        if profile is not None:
            try:
                rule = profile.rule(rid)
            except KeyError:
                rule = None
        names: list[str] = []
        units: dict[str, str] = {}
        labels: dict[str, str] = {}
        if rule is not None:
            checks = rule.checks + tuple(c for cs in rule.standard_checks.values() for c in cs)
            for check in checks:
                names.extend(check.features)
                for f in check.features:
                    units.setdefault(f, check.unit)
                    if check.label and len(rule.checks) > 1:
                        labels.setdefault(f, check.label.get(lang, check.label.get("en", "")))
        title = r.get("title") or (rule.title.get(lang, rid) if rule is not None else rid)
        intervals = tuple((float(i["start_s"]), float(i["end_s"]), i.get("peak_value"))
                          for i in r.get("intervals") or () if "start_s" in i and "end_s" in i)
        if frame_rule_ids is not None:
            scope = "frame" if rid in frame_rule_ids else "clip"
        else:
            scope = rule.scope if rule is not None else "clip"
        tracks.append(RuleTrack(rid, str(title), scope, r.get("status", ""),
                                intervals, regions_for(names or [rid]), units, labels,
                                next((c.unit for c in rule.checks if c.kind == "range"), "") if rule else ""))
    return tracks


def format_value(value: Any, unit: str = "", lang: str = "en") -> str:
    """A measured value as a trainee reads it: `12°`, `1.3 倍肩宽`, `插兜`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return OBSERVATION_WORDS[lang].get(value, str(value))
    if isinstance(value, str):
        return OBSERVATION_WORDS[lang].get(value, value.replace("_", " "))
    if isinstance(value, (int, float)):
        u = UNIT_WORDS.get(lang, {}).get(unit, unit)
        whole = unit == "°" or abs(value) >= 10
        num = f"{(round(value) or 0):.0f}" if whole else f"{(round(value, 2) or 0.0):.2f}"  # no "-0"
        return f"{num}{u}" if unit == "°" else f"{num} {u}".strip()
    return str(value)


@dataclass(frozen=True)
class FrameState:
    """What the overlay shows for one frame."""

    regions: Mapping[str, int]
    violations: tuple[tuple[str, str], ...]  # (title, value text)


def frame_state(record: FrameRecord, tracks: Sequence[RuleTrack], lang: str) -> FrameState:
    """Limb colours and named violations of one frame."""
    t = record.timestamp_ms / 1000.0
    regions: dict[str, int] = {}
    violations: list[tuple[str, str]] = []
    for tr in tracks:
        in_v, peak = tr.in_violation(t)
        value, unit, label = peak, tr.default_unit, ""
        if tr.scope == "frame":
            v = record.verdict(tr.rule_id)
            status = v.status if v is not None else "unknown"
            if v is not None and v.status == FAIL:
                value, unit, label = v.value, tr.units.get(v.reason or "", ""), tr.labels.get(v.reason or "", "")
                # A failure with no intervals (a photo) is the verdict itself, not a brief slip.
                in_v = in_v or (tr.status == FAIL and not tr.intervals)
            rank = VIOLATION if in_v else BRIEF if status == FAIL else PASSING if status == PASS else NOT_JUDGED
        else:
            rank = VIOLATION if in_v else PASSING if tr.status == PASS else NOT_JUDGED
        if rank == VIOLATION:
            text = format_value(value, unit, lang)
            violations.append((tr.title, f"{label} {text}".strip() if text else ""))
        for region in tr.regions:
            regions[region] = max(regions.get(region, NOT_JUDGED), rank)
    return FrameState(regions, tuple(violations))


# ----------------------------------------------------------------------------- drawing

WORDS = {
    "en": {"no_person": "No person in view", "all_ok": "All checks met", "violations": "Not to standard",
           "legend": (("pass", PASSING), ("brief slip", BRIEF), ("violation", VIOLATION), ("not judged", NOT_JUDGED))},
    "zh": {"no_person": "画面中没有人", "all_ok": "全部符合标准", "violations": "不符合标准",
           "legend": (("合格", PASSING), ("短暂偏差", BRIEF), ("不合格", VIOLATION), ("无法判断", NOT_JUDGED))},
}
PANEL_BG = (20, 24, 31, 190)
TEXT_RGB = (245, 245, 245)
MUTED_RGB = (190, 196, 204)
# Text height as a fraction of the frame's short side, and its bounds in pixels.
FONT_FRACTION, FONT_MIN_PX, FONT_MAX_PX = 0.036, 13, 44
MAX_CACHED_PATCHES = 256


def _mmss(t_s: float) -> str:
    m, s = divmod(max(t_s, 0.0), 60.0)
    return f"{int(m):02d}:{s:04.1f}"


class _Painter:
    """Renders text panels with Pillow (cached as RGBA patches) and blends them onto frames."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.font, self.cjk = load_font(size)
        self.small, _ = load_font(max(FONT_MIN_PX - 2, int(size * 0.78)))
        self._cache: dict[Any, np.ndarray] = {}

    def text_width(self, text: str, small: bool = False) -> float:
        return float((self.small if small else self.font).getlength(text))

    def fit(self, text: str, max_w: float) -> str:
        """Shorten `text` with an ellipsis so that it fits `max_w` pixels."""
        if self.text_width(text) <= max_w:
            return text
        while text and self.text_width(text + "…") > max_w:
            text = text[:-1]
        return text + "…"

    def panel(self, lines: tuple[tuple[str, tuple[int, int, int], tuple[int, int, int] | None, bool], ...]
              ) -> np.ndarray:
        """RGBA patch: rounded dark box with lines (text, colour, marker colour or None, small)."""
        key = lines
        patch = self._cache.get(key)
        if patch is not None:
            return patch
        from PIL import Image, ImageDraw

        pad = max(4, self.size // 2)
        gap = max(2, self.size // 4)
        marker = int(self.size * 0.6)
        heights = [int((self.small.size if small else self.size) * 1.3) for _, _, _, small in lines]
        widths = [self.text_width(t, small) + (marker + gap if m else 0) for t, _, m, small in lines]
        w, h = int(max(widths) + 2 * pad), int(sum(heights) + 2 * pad)
        img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        draw = ImageDraw.Draw(img)
        draw.rounded_rectangle((0, 0, w - 1, h - 1), radius=pad, fill=PANEL_BG)
        y = pad
        for (text, colour, mark, small), lh in zip(lines, heights):
            x = pad
            if mark is not None:
                cy = y + lh // 2
                draw.ellipse((x, cy - marker // 2, x + marker, cy + marker // 2), fill=mark + (255,))
                x += marker + gap
            font = self.small if small else self.font
            draw.text((x, y + lh // 2), text, font=font, fill=colour + (255,), anchor="lm")
            y += lh
        return self._keep(key, np.asarray(img))

    def row(self, items: tuple[tuple[str, tuple[int, int, int]], ...]) -> np.ndarray:
        """RGBA patch: one line of small (marker, text) items on a rounded dark box (the legend)."""
        key = ("row", items)
        patch = self._cache.get(key)
        if patch is not None:
            return patch
        from PIL import Image, ImageDraw

        size = self.small.size
        pad, gap, marker = max(3, size // 2), max(3, size // 3), int(size * 0.7)
        widths = [marker + gap + self.text_width(t, True) for t, _ in items]
        w = int(sum(widths) + 2 * pad + 2 * gap * (len(items) - 1))
        h = int(size * 1.3 + 2 * pad * 0.6)
        img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        draw = ImageDraw.Draw(img)
        draw.rounded_rectangle((0, 0, w - 1, h - 1), radius=h // 2, fill=PANEL_BG)
        x, cy = pad, h // 2
        for (text, colour), iw in zip(items, widths):
            draw.ellipse((x, cy - marker // 2, x + marker, cy + marker // 2), fill=colour + (255,))
            draw.text((x + marker + gap, cy), text, font=self.small, fill=MUTED_RGB + (255,), anchor="lm")
            x += int(iw) + 2 * gap
        return self._keep(key, np.asarray(img))

    def _keep(self, key: Any, patch: np.ndarray) -> np.ndarray:
        if len(self._cache) >= MAX_CACHED_PATCHES:
            self._cache.clear()
        self._cache[key] = patch
        return patch


def blit(frame: np.ndarray, patch: np.ndarray, x: int, y: int) -> None:
    """Alpha-blend an RGBA patch onto an RGB frame in place (clipped to the frame)."""
    h, w = frame.shape[:2]
    ph, pw = patch.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + pw, w), min(y + ph, h)
    if x1 <= x0 or y1 <= y0:
        return
    sub = patch[y0 - y:y1 - y, x0 - x:x1 - x]
    alpha = sub[:, :, 3:4].astype(np.uint16)
    dst = frame[y0:y1, x0:x1]
    dst[:] = ((sub[:, :, :3].astype(np.uint16) * alpha + dst.astype(np.uint16) * (255 - alpha)) // 255).astype(np.uint8)


@dataclass(frozen=True)
class _Timeline:
    duration_s: float
    spans: tuple[tuple[float, float], ...]  # union of all violation intervals


class Overlay:
    """Draws one frame's skeleton, status panels and timeline (no state besides caches)."""

    def __init__(self, report: Mapping[str, Any], profile: Profile | None, lang: str,
                 frame_size: tuple[int, int], frame_rule_ids: Collection[str] | None = None) -> None:
        w, h = frame_size
        self.size = frame_size
        self.painter = _Painter(int(np.clip(round(min(w, h) * FONT_FRACTION), FONT_MIN_PX, FONT_MAX_PX)))
        want_zh = lang == "zh"
        self.lang = "zh" if want_zh and self.painter.cjk else "en"
        if want_zh and self.lang != "zh":
            logger.warning("Chinese text cannot be drawn (%s)", FONT_HELP)
        # Titles come from the report (already in its language) unless we must fall back to English.
        titled = report if self.lang == (report.get("lang") or self.lang) else {
            **report, "rules": [{**r, "title": None} for r in report.get("rules", [])]}
        self.tracks = rule_tracks(titled, profile, self.lang, frame_rule_ids)
        self.duration_s = float(report.get("duration_s") or 0.0)
        spans = sorted((s, e) for tr in self.tracks for s, e, _ in tr.intervals)
        self.timeline = _Timeline(self.duration_s, tuple(spans))
        self.thickness = max(2, round(min(w, h) / 200))

    # -- pieces ---------------------------------------------------------------------------
    def _skeleton(self, rgb: np.ndarray, record: FrameRecord, state: FrameState) -> None:
        lm = record.landmarks
        if lm is None:
            return
        w, h = lm.image_size
        sx, sy = rgb.shape[1] / w, rgb.shape[0] / h
        pts = np.round(lm.px * np.array([sx, sy])).astype(np.int32)
        vis = lm.visibility >= 0.3
        colour_of: dict[tuple[int, int], tuple[int, int, int]] = {}
        for region, edges in REGION_EDGES.items():
            rank = state.regions.get(region)
            for e in edges:
                colour_of[e] = STATUS_RGB[rank] if rank is not None else NEUTRAL_RGB
        t = self.thickness
        drawn = [(a, b) for a, b in SKELETON_EDGES if vis[a] and vis[b]]
        for a, b in drawn:  # dark outline first so colours stand out on any background
            cv2.line(rgb, tuple(map(int, pts[a])), tuple(map(int, pts[b])), (15, 15, 15), t + 2, cv2.LINE_AA)
        for a, b in drawn:
            colour = colour_of.get((a, b)) or colour_of.get((b, a)) or NEUTRAL_RGB
            cv2.line(rgb, tuple(map(int, pts[a])), tuple(map(int, pts[b])), colour, t, cv2.LINE_AA)
        joints = {i for e in drawn for i in e}
        for i in joints:
            cv2.circle(rgb, tuple(map(int, pts[i])), t + 1, (250, 250, 250), -1, cv2.LINE_AA)
            cv2.circle(rgb, tuple(map(int, pts[i])), t + 1, (15, 15, 15), 1, cv2.LINE_AA)

    def _panels(self, rgb: np.ndarray, record: FrameRecord | None, t_s: float, state: FrameState | None) -> None:
        p = self.painter
        words = WORDS[self.lang]
        w, _ = self.size
        margin = max(6, p.size // 2)
        activity = record.activity if record is not None else "unknown"
        parts = [ACTIVITY_WORDS[self.lang].get(activity, activity)] if activity != "unknown" else []
        if self.duration_s > 0:  # a photo has no timer
            parts.append(f"{_mmss(t_s)} / {_mmss(self.duration_s)}")
        lines: list[tuple[str, tuple[int, int, int], tuple[int, int, int] | None, bool]] = []
        if parts:
            lines.append(("   ".join(parts), TEXT_RGB, None, False))
        if record is not None and record.person_found and record.view != "unknown":
            lines.append((VIEW_WORDS[self.lang].get(record.view, record.view), MUTED_RGB, None, not parts))
        y = margin
        if lines:
            top = p.panel(tuple(lines))
            blit(rgb, top, margin, margin)
            y += top.shape[0] + margin // 2
        if record is None or not record.person_found:
            body = ((words["no_person"], MUTED_RGB, STATUS_RGB[NOT_JUDGED], False),)
        elif state is not None and state.violations:
            max_w = w * 0.62
            body = tuple((p.fit(f"{title}  {value}".strip(), max_w), TEXT_RGB, STATUS_RGB[VIOLATION], False)
                         for title, value in state.violations)
        else:
            body = ((words["all_ok"], TEXT_RGB, STATUS_RGB[PASSING], False),)
        blit(rgb, p.panel(body), margin, y)
        legend = p.row(tuple((name, STATUS_RGB[rank]) for name, rank in words["legend"]))
        h = rgb.shape[0]
        blit(rgb, legend, margin, h - self._bar_height(h) - legend.shape[0] - margin // 2)

    @staticmethod
    def _bar_height(h: int) -> int:
        return max(4, h // 90)

    def _timeline(self, rgb: np.ndarray, t_s: float) -> None:
        h, w = rgb.shape[:2]
        if self.duration_s <= 0:
            return
        bar_h = self._bar_height(h)
        y0 = h - bar_h
        track = rgb[y0:h]
        track[:] = (track.astype(np.uint16) * 2 // 5 + 60).astype(np.uint8)
        for s, e in self.timeline.spans:
            x0, x1 = int(w * s / self.duration_s), max(int(w * e / self.duration_s), int(w * s / self.duration_s) + 1)
            rgb[y0:h, x0:x1] = STATUS_RGB[VIOLATION]
        xp = int(np.clip(w * t_s / self.duration_s, 0, w - 1))
        rgb[max(0, y0 - bar_h):h, max(0, xp - 1):xp + 2] = (255, 255, 255)

    # -- public ---------------------------------------------------------------------------
    def draw(self, rgb: np.ndarray, record: FrameRecord | None, t_s: float) -> FrameState | None:
        """Draw everything onto `rgb` (in place); returns the frame's state."""
        state = frame_state(record, self.tracks, self.lang) if record is not None else None
        if record is not None and state is not None:
            self._skeleton(rgb, record, state)
        self._panels(rgb, record, t_s, state)
        self._timeline(rgb, t_s)
        return state


# ----------------------------------------------------------------------------- worst moments

# Up to this many stills per report, at least this far apart.
MAX_MOMENTS = 4
MIN_MOMENT_GAP_S = 1.0


@dataclass(frozen=True)
class Moment:
    """A frame worth a still in the report: the worst value inside a violation."""

    index: int
    t_s: float
    rule_id: str
    title: str
    value: Any
    unit: str = ""


def frame_rule_ids(records: Sequence[FrameRecord]) -> set[str]:
    """Ids of the rules with a verdict on some frame."""
    return {v.rule_id for rec in records for v in rec.verdicts}


def _severity_weight(rule_id: str, profile: Profile | None) -> float:
    if profile is None:
        return 1.0
    try:
        return profile.rule(rule_id).weight
    except KeyError:
        return 1.0


def _peak_frame(records: Sequence[FrameRecord], rule_id: str, start: float, end: float
                ) -> tuple[FrameRecord, Any, str | None] | None:
    """Frame inside [start, end) with the most extreme failing value (else the middle one)."""
    inside = [r for r in records if start <= r.timestamp_ms / 1000.0 < end and r.person_found]
    if not inside:
        return None
    best: tuple[float, FrameRecord, Any, str | None] | None = None
    for rec in inside:
        v = rec.verdict(rule_id)
        if v is None or v.status != FAIL:
            continue
        mag = abs(float(v.value)) if isinstance(v.value, (int, float)) and not isinstance(v.value, bool) else 0.0
        if best is None or mag > best[0]:
            best = (mag, rec, v.value, v.reason)
    if best is not None:
        return best[1], best[2], best[3]
    mid = inside[len(inside) // 2]
    return mid, None, None


def pick_worst_moments(report: Mapping[str, Any], records: Sequence[FrameRecord], profile: Profile | None,
                       limit: int = MAX_MOMENTS, min_gap_s: float = MIN_MOMENT_GAP_S) -> list[Moment]:
    """Stills worth showing: one per failed rule (most severe, most often failed first), then more."""
    tracks = {t.rule_id: t for t in rule_tracks(report, profile, report.get("lang", "en"), frame_rule_ids(records))}
    failed = [r for r in report.get("rules", []) if r.get("status") == FAIL]
    failed.sort(key=lambda r: (-_severity_weight(r["id"], profile), -(r.get("fail_fraction") or 0.0)))
    per_rule: list[list[Moment]] = []
    for r in failed:
        tr = tracks[r["id"]]
        # Longest violations first; a failure without intervals (a photo, a whole-clip verdict)
        # is looked for over the whole clip.
        ivs = sorted(tr.intervals, key=lambda iv: iv[0] - iv[1]) or [(0.0, float("inf"), None)]
        cands = []
        for start, end, peak in ivs:
            found = _peak_frame(records, r["id"], start, end)
            if found is None:
                continue
            rec, value, reason = found
            cands.append(Moment(rec.index, rec.timestamp_ms / 1000.0, r["id"], tr.title,
                                value if value is not None else peak, tr.units.get(reason or "", tr.default_unit)))
        per_rule.append(cands)
    chosen: list[Moment] = []
    depth = 0
    while len(chosen) < limit and any(depth < len(c) for c in per_rule):
        for cands in per_rule:
            if depth < len(cands) and len(chosen) < limit:
                m = cands[depth]
                if all(abs(m.t_s - c.t_s) >= min_gap_s for c in chosen):
                    chosen.append(m)
        depth += 1
    return sorted(chosen, key=lambda m: m.t_s)


# ----------------------------------------------------------------------------- rendering

THUMB_WIDTH = 360
THUMB_QUALITY = 80


@dataclass(frozen=True)
class RenderResult:
    """What `render_video` / `render_image` wrote."""

    path: Path
    frames: int
    width: int
    height: int
    encoder: str
    font: str | None
    thumbnails: Mapping[int, bytes]  # frame index -> JPEG bytes


def thumbnail_jpeg(rgb: np.ndarray, width: int = THUMB_WIDTH, quality: int = THUMB_QUALITY) -> bytes:
    """A small JPEG of an RGB frame."""
    h, w = rgb.shape[:2]
    if w > width:
        rgb = cv2.resize(rgb, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


def _even(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    return rgb[: h - h % 2, : w - w % 2]


ProgressFn = Callable[[int, int | None], None]


def _record_rate(records: Sequence[FrameRecord]) -> float | None:
    """Mean analysed frames per second of a clip's records (None for fewer than two)."""
    if len(records) < 2 or records[-1].timestamp_ms <= records[0].timestamp_ms:
        return None
    return (len(records) - 1) * 1000.0 / (records[-1].timestamp_ms - records[0].timestamp_ms)


def render_video(source: str | Path, records: Sequence[FrameRecord], report: Mapping[str, Any],
                 out_path: str | Path, *, profile: Profile | None = None, lang: str = "en",
                 max_side: int | None = 1280, capture: Sequence[int] = (),
                 progress: ProgressFn | None = None, threads: int | None = None) -> RenderResult:
    """Decode `source` again and write the annotated MP4; JPEG thumbnails of the `capture` frame indices.

    Frames are matched to `records` by decoded index (the analysis decoded the same file);
    only analysed frames are drawn and encoded, so a clip analysed at the profile's
    `analysis_fps` gives a video at that rate (timestamps are the source's). Raises `sources.MediaError` when the source cannot be read.
    """
    from .sources import VideoSource, prefetch

    out_path = Path(out_path)
    by_index = {r.index: r for r in records}
    wanted = set(capture)
    thumbs: dict[int, bytes] = {}
    writer = None
    overlay: Overlay | None = None
    with VideoSource(source, max_side=max_side) as src:
        fps = src.info.fps if src.info else 30.0
        total = src.info.frame_count if src.info else None
        try:
            for n, frame in enumerate(prefetch(src), 1):
                if frame.index not in by_index:  # not analysed (analysis rate): neither drawn nor encoded
                    if progress is not None:
                        progress(n, total)
                    continue
                rgb = _even(frame.rgb).copy()
                if writer is None:
                    h, w = rgb.shape[:2]
                    overlay = Overlay(report, profile, lang, (w, h), frame_rule_ids(records))
                    writer = open_writer(out_path, w, h, min(fps, _record_rate(records) or fps), threads)
                rec = by_index[frame.index]
                assert overlay is not None
                overlay.draw(rgb, rec, rec.timestamp_ms / 1000.0)
                writer.write(rgb, rec.timestamp_ms)
                if frame.index in wanted:
                    thumbs[frame.index] = thumbnail_jpeg(rgb)
                if progress is not None:
                    progress(n, total)
        finally:
            if writer is not None:
                writer.close()
    if writer is None:
        raise RuntimeError(f"{Path(source).name}: no frames to render")
    font = find_cjk_font()
    h, w = overlay.size[1], overlay.size[0]  # type: ignore[union-attr]
    return RenderResult(out_path, writer.frames, w, h, writer.encoder, font.describe() if font else None, thumbs)


def render_image(source: str | Path, record: FrameRecord, report: Mapping[str, Any], out_path: str | Path, *,
                 profile: Profile | None = None, lang: str = "en", max_side: int | None = 1280) -> RenderResult:
    """The annotated photo as JPEG (its own thumbnail is frame 0)."""
    from .sources import read_image

    out_path = Path(out_path)
    rgb = read_image(source, max_side=max_side).copy()
    h, w = rgb.shape[:2]
    overlay = Overlay({**report, "duration_s": 0.0}, profile, lang, (w, h), frame_rule_ids([record]))
    overlay.draw(rgb, record, 0.0)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    out_path.write_bytes(buf.tobytes())
    font = find_cjk_font()
    return RenderResult(out_path, 1, w, h, "jpeg", font.describe() if font else None, {0: thumbnail_jpeg(rgb)})


def font_report() -> str:
    """One line naming the font used for Chinese text (for logs and the report footer)."""
    font = find_cjk_font()
    return font.describe() if font is not None else "none (" + FONT_HELP + ")"

