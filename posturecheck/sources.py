"""First pipeline stage: media files or a camera -> RGB frames with timestamps.

Every later stage (pose detection in MediaPipe VIDEO mode, smoothing, rules)
consumes `Frame`s: RGB uint8 pixels plus a millisecond timestamp that is
strictly increasing within one source, because MediaPipe rejects anything else.

Problems a trainer can fix (missing file, damaged video, unplugged camera) are
raised as `MediaError` with a stable `code` and a one-line message in English
and Simplified Chinese. Where errors surface:

* `VideoSource` / `ImageSource` / `open_source` raise from the constructor
  (the first video frame is decoded there and kept buffered), never mid-way.
* A video that breaks off later (truncated copy, decoder error) just ends:
  the frames that decoded are yielded and a note is added to `warnings`.
* `CameraSource` raises 'camera_unavailable' from the constructor and
  'camera_lost' from iteration when no picture arrives for `lost_after_s`.
"""

from __future__ import annotations

import logging
import math
import os
import re
import shutil
import stat
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

logger = logging.getLogger(__name__)

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
VIDEO_EXTS = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"}

MEDIA_ERROR_CODES = frozenset({
    "not_found", "unsupported", "empty_file", "corrupt", "no_frames",
    "camera_unavailable", "camera_lost", "is_directory", "permission", "too_large",
})

# Decompression bombs: a 2.6 MB PNG can hold 30000×30000 pixels (2.7 GB decoded). Sizes are
# read from the file header first; beyond these limits a photo is refused (a JPEG is decoded
# at 1/2, 1/4 or 1/8 scale instead when that fits) and a video is refused before any frame
# is decoded. The app's Settings change the photo limit (max_image_megapixels).
DEFAULT_MAX_IMAGE_PIXELS = 100_000_000      # a 108 MP phone photo still fits
DEFAULT_MAX_VIDEO_PIXELS = 4096 * 4096      # 4K UHD and DCI 4K fit; 8K and 8192² do not
# Frames closer than this are dropped by timestamp (a 1000 fps clip is analysed at 60 fps).
DEFAULT_MAX_FPS = 60.0
_FPS_TOLERANCE_MS = 2.0                     # container times are rounded to whole milliseconds
_JPEG_REDUCED = ((2, cv2.IMREAD_REDUCED_COLOR_2), (4, cv2.IMREAD_REDUCED_COLOR_4), (8, cv2.IMREAD_REDUCED_COLOR_8))

# Container fps outside this range is treated as bogus (e.g. a 1000 "fps" time base).
FPS_MIN, FPS_MAX, FPS_FALLBACK = 1.0, 240.0, 30.0
# A video that stops this many frames short of its container's claim is reported as truncated.
_TRUNCATION_TOLERANCE_FRAMES = 2
_TRUNCATION_TOLERANCE_FRACTION = 0.02


class MediaError(Exception):
    """A problem with the user's input that a trainer can understand and fix.

    `code` is a stable short id (see MEDIA_ERROR_CODES), `str(e)` a one-line
    English message naming the file, `message_zh` the same in Simplified Chinese,
    `path` the offending path (None for cameras).
    """

    def __init__(self, code: str, message: str, message_zh: str, path: str | None = None):
        super().__init__(message)
        if code not in MEDIA_ERROR_CODES:
            logger.debug("MediaError with unregistered code %r", code)
        self.code = code
        self.message = message
        self.message_zh = message_zh
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the error picklable (e.g. raised inside a multiprocessing worker).
        return (type(self), (self.code, self.message, self.message_zh, self.path))


@dataclass(frozen=True)
class Frame:
    """One decoded picture.

    index: 0-based index of the decoded frame in its source (not renumbered by stride).
    timestamp_ms: strictly increasing within one source.
    rgb: HxWx3 uint8, RGB order, C-contiguous.
    """

    index: int
    timestamp_ms: int
    rgb: np.ndarray


@dataclass(frozen=True)
class VideoInfo:
    """What we know about a video before reading it all.

    fps: container fps when within FPS_MIN..FPS_MAX, else FPS_FALLBACK (with a warning).
    frame_count: the container's claim (may be approximate), None when unknown.
    width, height: native size of the first decoded frame (after the container's
        rotation is applied); yielded frames are smaller when `max_side` is set.
    duration_s: frame_count / fps when frame_count is known.
    """

    fps: float
    frame_count: int | None
    width: int
    height: int
    duration_s: float | None


# --------------------------------------------------------------------------- messages


def _err_not_found(p: Path) -> MediaError:
    return MediaError(
        "not_found",
        f"{p.name}: file not found. Check the name and folder, then try again.",
        f"{p.name}：找不到该文件。请检查文件名和所在文件夹后重试。",
        str(p),
    )


def _err_is_directory(p: Path) -> MediaError:
    return MediaError(
        "is_directory",
        f"{p.name}: this is a folder, not a photo or video. Choose the files inside it.",
        f"{p.name}：这是一个文件夹，不是照片或视频。请选择其中的文件。",
        str(p),
    )


def _err_unsupported(p: Path) -> MediaError:
    ext = p.suffix.lower() or "(no extension)"
    ext_zh = p.suffix.lower() or "（无扩展名）"
    return MediaError(
        "unsupported",
        f"{p.name}: file type {ext} is not supported. "
        f"Use a photo (JPG, PNG, BMP, WEBP, TIFF) or a video (MP4, MOV, AVI, MKV, WEBM).",
        f"{p.name}：不支持 {ext_zh} 类型的文件。"
        f"请使用照片（JPG、PNG、BMP、WEBP、TIFF）或视频（MP4、MOV、AVI、MKV、WEBM）。",
        str(p),
    )


def _err_empty(p: Path) -> MediaError:
    return MediaError(
        "empty_file",
        f"{p.name}: the file is empty (0 bytes), probably an interrupted copy. Copy it again.",
        f"{p.name}：文件为空（0 字节），可能是复制中断。请重新复制该文件。",
        str(p),
    )


def _err_permission(p: Path) -> MediaError:
    return MediaError(
        "permission",
        f"{p.name}: no permission to read this file. Copy it to your own folder or ask for access.",
        f"{p.name}：没有读取该文件的权限。请将其复制到自己的文件夹或申请访问权限。",
        str(p),
    )


def _err_corrupt_image(p: Path) -> MediaError:
    return MediaError(
        "corrupt",
        f"{p.name}: this file is not a readable image (it may be damaged or only partly copied). "
        f"Re-export or re-copy it.",
        f"{p.name}：无法读取该图片（文件可能已损坏或未完整复制）。请重新导出或重新复制。",
        str(p),
    )


def _err_corrupt_video(p: Path) -> MediaError:
    return MediaError(
        "corrupt",
        f"{p.name}: this file is not a readable video (it may be damaged or only partly copied). "
        f"Re-export or re-copy it.",
        f"{p.name}：无法读取该视频（文件可能已损坏或未完整复制）。请重新导出或重新复制。",
        str(p),
    )


def _err_no_frames(p: Path) -> MediaError:
    return MediaError(
        "no_frames",
        f"{p.name}: the video opened but contains no picture that can be decoded. "
        f"Re-export it as MP4 (H.264) and try again.",
        f"{p.name}：视频可以打开，但没有可解码的画面。请重新导出为 MP4（H.264）格式后重试。",
        str(p),
    )


def _err_camera_unavailable(device: int) -> MediaError:
    return MediaError(
        "camera_unavailable",
        f"Camera {device} could not be opened or sends no picture. "
        f"Check that it is connected, allowed and not used by another app, then try again.",
        f"无法打开摄像头 {device} 或没有画面。请确认摄像头已连接、已授权且未被其他程序占用，然后重试。",
        None,
    )


def _err_camera_lost(device: int, seconds: float) -> MediaError:
    return MediaError(
        "camera_lost",
        f"Camera {device} stopped sending pictures for {seconds:.0f} s (unplugged or taken by another app). "
        f"Reconnect it and start again.",
        f"摄像头 {device} 已有 {seconds:.0f} 秒没有画面（可能被拔出或被其他程序占用）。请重新连接后再开始。",
        None,
    )


def _err_too_large(p: Path, width: int, height: int, limit: int, what: str) -> MediaError:
    mp, lim = width * height / 1e6, limit / 1e6
    if what == "video":
        return MediaError(
            "too_large",
            f"{p.name}: the video frames are {width}×{height} ({mp:.0f} megapixels), above the limit of "
            f"{lim:.0f} megapixels; re-export it at 4K (3840×2160) or smaller.",
            f"{p.name}：视频画面为 {width}×{height}（{mp:.0f} 百万像素），超过上限 {lim:.0f} 百万像素；"
            f"请重新导出为 4K（3840×2160）或更小。",
            str(p),
        )
    return MediaError(
        "too_large",
        f"{p.name}: the photo is {width}×{height} ({mp:.0f} megapixels), above the limit of {lim:.0f} megapixels; "
        f"resize it (e.g. to 4000 pixels on the long side) or save it as JPEG.",
        f"{p.name}：照片为 {width}×{height}（{mp:.0f} 百万像素），超过上限 {lim:.0f} 百万像素；"
        f"请缩小（例如长边 4000 像素）或另存为 JPEG。",
        str(p),
    )


# --------------------------------------------------------------------------- files


def _check_file(p: Path) -> None:
    """Raise MediaError unless `p` is an existing, non-empty, readable regular file."""
    try:
        st = p.stat()
    except FileNotFoundError:
        raise _err_not_found(p) from None
    except PermissionError:
        raise _err_permission(p) from None
    except OSError as exc:  # e.g. name too long, broken network drive
        logger.debug("stat(%s) failed: %s", p, exc)
        raise _err_not_found(p) from None
    if stat.S_ISDIR(st.st_mode):
        raise _err_is_directory(p)
    if st.st_size == 0:
        raise _err_empty(p)
    try:
        with open(p, "rb"):
            pass
    except PermissionError:
        raise _err_permission(p) from None


def media_kind(path: str | Path) -> str:
    """Return "image" or "video" from the file extension (case-insensitive).

    Raises MediaError 'not_found', 'is_directory', 'unsupported' or 'empty_file'
    (checked in that order) so callers can reject bad inputs before any decoding.
    """
    p = Path(path)
    if not p.exists():
        raise _err_not_found(p)
    if p.is_dir():
        raise _err_is_directory(p)
    ext = p.suffix.lower()
    if ext in IMAGE_EXTS:
        kind = "image"
    elif ext in VIDEO_EXTS:
        kind = "video"
    else:
        raise _err_unsupported(p)
    try:
        size = p.stat().st_size
    except PermissionError:
        raise _err_permission(p) from None
    if size == 0:
        raise _err_empty(p)
    return kind


def _is_hidden(p: Path) -> bool:
    """Dot-files (incl. macOS '._x' forks) and Windows hidden/system files."""
    if p.name.startswith("."):
        return True
    attrs = getattr(p.stat(), "st_file_attributes", 0)  # Windows only
    return bool(attrs & (getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 2) | getattr(stat, "FILE_ATTRIBUTE_SYSTEM", 4)))


def _natural_key(p: Path) -> tuple[Any, ...]:
    """Sort 'img2' before 'img10', case-insensitively, as file managers do."""
    parts = re.split(r"(\d+)", p.name.casefold())
    return tuple((0, int(t), t) if t.isdigit() else (1, 0, t) for t in parts), p.name


def list_media(paths: Iterable[str | Path]) -> list[Path]:
    """Expand folders into their photos and videos; keep other paths as given.

    Folders are expanded non-recursively, in natural name order, with hidden
    files and non-media files skipped. Plain paths (even missing or unsupported
    ones) are kept in input order so the caller can report them per file.
    """
    out: list[Path] = []
    for item in paths:
        p = Path(item)
        if not p.is_dir():
            out.append(p)
            continue
        found: list[Path] = []
        try:
            entries = list(p.iterdir())
        except PermissionError:
            raise _err_permission(p) from None
        for child in entries:
            try:
                if not child.is_file() or _is_hidden(child):
                    continue
            except OSError as exc:  # broken symlink, vanished file
                logger.debug("skipping %s: %s", child, exc)
                continue
            if child.suffix.lower() in IMAGE_EXTS | VIDEO_EXTS:
                found.append(child)
        found.sort(key=_natural_key)
        logger.debug("%s: %d media files", p, len(found))
        out.extend(found)
    return out


# --------------------------------------------------------------------------- pixels


def _to_rgb(img: np.ndarray, max_side: int | None) -> np.ndarray:
    """Downscale (INTER_AREA) so max(w, h) <= max_side, then convert BGR(A)/gray to RGB once."""
    if max_side is not None:
        h, w = img.shape[:2]
        if max(h, w) > max_side:
            s = max_side / max(h, w)
            size = (max(1, min(max_side, round(w * s))), max(1, min(max_side, round(h * s))))
            img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    if img.ndim == 2:
        rgb = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    elif img.shape[2] == 4:
        rgb = cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    else:
        rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(rgb)


def _check_max_side(max_side: int | None) -> None:
    if max_side is not None and int(max_side) < 1:
        raise ValueError(f"max_side must be >= 1 or None, got {max_side}")


_PIL_LIMIT_LOCK = threading.Lock()


def image_header(path: Path) -> tuple[str, int, int] | None:
    """(format, width, height) from the file header without decoding pixels; None if Pillow cannot tell.

    Pillow's own bomb check (which would hide the size) is lifted for this header read only:
    the limit that matters is `read_image`'s `max_pixels`.
    """
    from PIL import Image

    with _PIL_LIMIT_LOCK:
        saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            with Image.open(path) as im:  # lazy: reads the header only
                return str(im.format or ""), int(im.size[0]), int(im.size[1])
        except (OSError, ValueError, SyntaxError) as exc:
            logger.debug("no header size for %s: %s", path, exc)
            return None
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def read_image(path: str | Path, *, max_side: int | None = None,
               max_pixels: int | None = DEFAULT_MAX_IMAGE_PIXELS) -> np.ndarray:
    """Read a photo as an HxWx3 RGB uint8 array.

    The size is read from the header first: beyond `max_pixels` a JPEG is decoded
    reduced (1/2, 1/4 or 1/8 scale, inside libjpeg) and anything else is refused
    ('too_large'), so a decompression bomb never reaches the decoder.
    Reads the bytes itself (np.fromfile + cv2.imdecode) so non-ASCII paths work
    on every platform. EXIF orientation: cv2.imdecode with IMREAD_COLOR already
    applies it (checked with OpenCV 5 for JPEG, PNG, WEBP and TIFF; covered by a
    test), so it is not applied a second time here. Alpha is dropped.
    Raises MediaError (not_found / is_directory / empty_file / permission / corrupt / too_large).
    """
    _check_max_side(max_side)
    p = Path(path)
    _check_file(p)
    flags = cv2.IMREAD_COLOR
    header = image_header(p)
    if max_pixels is not None and header is not None:
        fmt, w, h = header
        if w * h > max_pixels:
            factor = next((f for f, flag in _JPEG_REDUCED if fmt == "JPEG" and (w // f) * (h // f) <= max_pixels),
                          None)
            if factor is None:
                logger.warning("%s: %d×%d refused before decoding (limit %d pixels)", p.name, w, h, max_pixels)
                raise _err_too_large(p, w, h, max_pixels, "photo")
            flags = dict(_JPEG_REDUCED)[factor]
            logger.warning("%s: %d×%d above %d pixels; decoded at 1/%d scale", p.name, w, h, max_pixels, factor)
    try:
        data = np.fromfile(p, dtype=np.uint8)
    except PermissionError:
        raise _err_permission(p) from None
    except OSError as exc:
        logger.warning("reading %s failed: %s", p, exc)
        raise _err_corrupt_image(p) from exc
    if data.size == 0:
        raise _err_empty(p)
    try:
        bgr = cv2.imdecode(data, flags)
    except cv2.error as exc:
        logger.debug("imdecode(%s) raised: %s", p, exc)
        bgr = None
    if bgr is None or bgr.size == 0:
        raise _err_corrupt_image(p)
    return _to_rgb(bgr, max_side)


def video_frame_size(path: Path) -> tuple[int, int] | None:
    """(width, height) of the first video stream from the container header (PyAV); None if unknown."""
    try:
        import av
    except ImportError:  # pragma: no cover - PyAV is a dependency
        return None
    try:
        with av.open(str(path), options={"probesize": "65536", "analyzeduration": "0"}) as container:
            streams = container.streams.video
            if not streams:
                return None
            ctx = streams[0].codec_context
            return int(ctx.width), int(ctx.height)
    except (av.FFmpegError, OSError, ValueError) as exc:
        logger.debug("no header size for %s: %s", path, exc)
        return None


# --------------------------------------------------------------------------- timestamps


class TimestampClock:
    """Turns per-frame container times into strictly increasing integer ms.

    Container times (CAP_PROP_POS_MSEC) are used while they are finite and
    strictly increasing; they are shifted so the first frame is at 0 ms.
    From the first bad value on, times are derived from the frame index and fps
    (continuing from the last good container time, i.e. round(index * 1000 / fps)
    when none was good) and `derived` becomes True. Finally every value is forced
    to be at least previous + 1 ms, which MediaPipe VIDEO mode requires.
    """

    def __init__(self, fps: float):
        if not (fps > 0 and math.isfinite(fps)):
            raise ValueError(f"fps must be positive, got {fps}")
        self.fps = float(fps)
        self.derived = False
        self._origin: float | None = None  # container time of the first frame
        self._last_raw: float | None = None
        self._anchor: tuple[int, float] = (0, 0.0)  # (index, ms) of the last good container time
        self._prev: int | None = None

    def __call__(self, index: int, pos_msec: float | None) -> int:
        """Timestamp in ms for decoded frame `index` whose container time is `pos_msec`."""
        usable = (
            not self.derived
            and pos_msec is not None
            and math.isfinite(pos_msec)
            and (self._last_raw is None or pos_msec > self._last_raw)
        )
        if usable:
            assert pos_msec is not None
            if self._origin is None:  # only ever the first call: derived mode is final
                self._origin = pos_msec
            self._last_raw = pos_msec
            ms = pos_msec - self._origin
            self._anchor = (index, ms)
        else:
            self.derived = True
            a_index, a_ms = self._anchor
            ms = a_ms + (index - a_index) * 1000.0 / self.fps
        ts = int(round(ms))
        if self._prev is not None and ts <= self._prev:
            ts = self._prev + 1
        self._prev = ts
        return ts


# --------------------------------------------------------------------------- video


DECODER_THREADS = 1


def _is_ascii(s: str) -> bool:
    return all(ord(c) < 128 for c in s)


def _try_open(path_str: str) -> Any | None:
    """Open a cv2.VideoCapture (FFmpeg first, then any backend); None if nothing opens it."""
    apis = [cv2.CAP_FFMPEG, cv2.CAP_ANY] if hasattr(cv2, "CAP_FFMPEG") else [cv2.CAP_ANY]
    # One decoder thread: decoding runs beside pose inference (see prefetch), and on a
    # two-core machine FFmpeg's own thread pool would compete with the model for the cores.
    params = [cv2.CAP_PROP_N_THREADS, DECODER_THREADS] if hasattr(cv2, "CAP_PROP_N_THREADS") else []
    for api in apis:
        try:
            cap = cv2.VideoCapture(path_str, api, params) if params else cv2.VideoCapture(path_str, api)
        except cv2.error as exc:
            logger.debug("VideoCapture(%s, %s) raised: %s", path_str, api, exc)
            continue
        if cap.isOpened():
            return cap
        cap.release()
    return None


def _windows_short_path(p: Path) -> str | None:
    """ASCII 8.3 alias of a path on Windows (when the volume keeps them), else None."""
    if sys.platform != "win32":
        return None
    import ctypes  # local: Windows only

    buf = ctypes.create_unicode_buffer(32768)
    n = ctypes.windll.kernel32.GetShortPathNameW(str(p), buf, len(buf))  # type: ignore[attr-defined]
    if 0 < n < len(buf) and _is_ascii(buf.value):
        return buf.value
    return None


def _ascii_alias(p: Path) -> tuple[str, str] | None:
    """Hard-link (or copy) `p` to an ASCII-named temp file; returns (alias, temp_dir) or None."""
    ext = p.suffix.lower() if _is_ascii(p.suffix) else ".bin"
    candidates = [tempfile.gettempdir(), os.environ.get("PUBLIC"), os.environ.get("ProgramData")]
    for base in candidates:
        if not base or not _is_ascii(base) or not os.path.isdir(base):
            continue
        try:
            tmp_dir = tempfile.mkdtemp(prefix="posturecheck_", dir=base)
        except OSError:
            continue
        alias = os.path.join(tmp_dir, "input" + ext)
        try:
            os.link(p, alias)
            logger.debug("hard-linked %s -> %s", p, alias)
        except OSError:
            try:
                shutil.copyfile(p, alias)
                logger.info("copied %s to %s to work around a non-ASCII path", p.name, alias)
            except OSError as exc:
                logger.debug("copy to %s failed: %s", alias, exc)
                shutil.rmtree(tmp_dir, ignore_errors=True)
                continue
        return alias, tmp_dir
    return None


def _open_capture(p: Path) -> tuple[Any | None, str | None]:
    """Open a video, working around backends that cannot take non-ASCII paths.

    Returns (capture or None, temp dir to delete on close or None).
    """
    cap = _try_open(str(p))
    if cap is not None or _is_ascii(str(p)):
        return cap, None
    short = _windows_short_path(p)
    if short is not None:
        cap = _try_open(short)
        if cap is not None:
            return cap, None
    alias = _ascii_alias(p)
    if alias is None:
        return None, None
    cap = _try_open(alias[0])
    if cap is None:
        shutil.rmtree(alias[1], ignore_errors=True)
        return None, None
    logger.debug("opened %s through ASCII alias %s", p.name, alias[0])
    return cap, alias[1]


def _release(cap: Any, tmp_dir: str | None) -> None:
    """Release a capture and delete its temp alias (also run by weakref.finalize)."""
    if cap is not None:
        try:
            cap.release()
        except cv2.error as exc:
            logger.debug("release failed: %s", exc)
    if tmp_dir is not None:
        shutil.rmtree(tmp_dir, ignore_errors=True)


class VideoSource:
    """Frames of one video file, as a context manager and a one-shot iterable of Frame.

    The constructor opens the file and decodes the first frame (kept buffered),
    so 'corrupt' / 'empty_file' / 'no_frames' (and 'not_found', 'is_directory',
    'permission') are raised here, never during iteration. A video that breaks
    off later ends early with a note in `warnings`.

    max_side: downscale frames so max(w, h) <= max_side (None = native size).
    stride: yield every Nth decoded frame; Frame.index stays the decoded index.
    max_pixels: refuse ('too_large') a video whose frames are larger, from the header,
        before any frame is decoded (None = no limit).
    max_fps: when the container claims more (or an unusable rate), drop frames by
        timestamp so at most this many per second are yielded (None = all); dropped
        frames are demuxed and decoded but never converted or analysed.
    sample_fps: the analysis rate: frames closer together than 1/sample_fps are skipped the
        same way, without a warning (a chosen rate, not a problem of the file; see the
        profile's `analysis_fps`).
    frames_read counts decoded frames (including those skipped by stride or max_fps).
    """

    def __init__(self, path: str | Path, *, max_side: int | None = None, stride: int = 1,
                 max_pixels: int | None = DEFAULT_MAX_VIDEO_PIXELS, max_fps: float | None = DEFAULT_MAX_FPS,
                 sample_fps: float | None = None):
        _check_max_side(max_side)
        if int(stride) < 1:
            raise ValueError(f"stride must be >= 1, got {stride}")
        self.path = Path(path)
        self.max_side = max_side
        self.stride = int(stride)
        self.warnings: list[str] = []
        self.frames_read = 0
        self.frames_dropped = 0
        self.max_fps = float(max_fps) if max_fps else None
        self.sample_fps = float(sample_fps) if sample_fps else None
        self.frames_sampled_out = 0  # skipped by sample_fps (not by max_fps)
        self._iterated = False
        self._closed = False
        _check_file(self.path)
        size = video_frame_size(self.path)
        if max_pixels is not None and size is not None and size[0] * size[1] > max_pixels:
            logger.warning("%s: %d×%d frames refused before decoding (limit %d pixels)", self.path.name,
                           size[0], size[1], max_pixels)
            raise _err_too_large(self.path, size[0], size[1], max_pixels, "video")

        cap, tmp_dir = _open_capture(self.path)
        if cap is None:
            raise _err_corrupt_video(self.path)
        self._cap = cap
        self._finalizer = weakref.finalize(self, _release, cap, tmp_dir)
        try:
            self._init_stream()
        except BaseException:
            self.close()
            raise

    def _init_stream(self) -> None:
        cap = self._cap
        if hasattr(cv2, "CAP_PROP_ORIENTATION_AUTO"):
            cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)  # honour phone rotation metadata
        raw_fps = cap.get(cv2.CAP_PROP_FPS)
        raw_count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
        self._raw_fps = raw_fps
        try:
            ok, first = cap.read()
        except cv2.error as exc:
            logger.debug("first read of %s raised: %s", self.path, exc)
            raise _err_corrupt_video(self.path) from None
        if not ok or first is None or first.size == 0:
            raise _err_no_frames(self.path)
        self._first: np.ndarray | None = first
        self._first_pos = cap.get(cv2.CAP_PROP_POS_MSEC)

        if math.isfinite(raw_fps) and FPS_MIN <= raw_fps <= FPS_MAX:
            fps = float(raw_fps)
        else:
            fps = FPS_FALLBACK
            self._warn(f"the video reports an implausible frame rate ({raw_fps:g} fps); assumed {FPS_FALLBACK:g} fps")
        count = int(round(raw_count)) if math.isfinite(raw_count) and raw_count > 0 else None
        h, w = first.shape[:2]
        self.info = VideoInfo(
            fps=fps,
            frame_count=count,
            width=int(w),
            height=int(h),
            duration_s=None if count is None else count / fps,
        )
        self._clock = TimestampClock(fps)
        logger.debug("opened %s: %s", self.path.name, self.info)

    def _warn(self, text: str) -> None:
        self.warnings.append(text)
        logger.warning("%s: %s", self.path.name, text)

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the decoder and any temporary ASCII alias. Safe to call twice."""
        self._closed = True
        self._first = None
        self._finalizer()

    def __iter__(self) -> Iterator[Frame]:
        if self._iterated:
            raise RuntimeError("VideoSource can be iterated only once; open the file again")
        if self._closed:
            raise RuntimeError("VideoSource is closed")
        self._iterated = True
        return self._frames()

    def _frames(self) -> Iterator[Frame]:
        cap, stride, clock = self._cap, self.stride, self._clock
        raw = self._raw_fps
        fast = self.max_fps is not None and not (math.isfinite(raw) and 0 < raw <= self.max_fps * 1.05)
        sampled = self.sample_fps is not None and not (math.isfinite(raw) and 0 < raw <= self.sample_fps * 1.05)
        rates = [r for r, on in ((self.max_fps, fast), (self.sample_fps, sampled)) if on and r]
        gap_ms = 1000.0 / min(rates) if rates else 0.0  # clips at or below the rates keep every frame
        bgr, pos = self._first, self._first_pos
        self._first = None
        index = 0
        ts = clock(index, pos)
        due = float(ts)
        stopped_by_error = False
        while True:
            self.frames_read = index + 1
            if bgr is not None:
                yield Frame(index, ts, _to_rgb(bgr, self.max_side))
                # The next frame is due one gap after this one was due: the mean rate is the asked one
                # (30 -> 20 fps keeps 2 of 3); never sooner than half a gap after this frame (no burst
                # after a pause).
                due = max(due + gap_ms, ts + gap_ms / 2)
            index += 1
            if self._closed:
                return
            want = index % stride == 0
            try:
                ok = cap.grab()
                bgr = None
                if ok:
                    pos = cap.get(cv2.CAP_PROP_POS_MSEC)
                    ts = clock(index, pos)
                    if want and ts < due - _FPS_TOLERANCE_MS:
                        if fast:
                            self.frames_dropped += 1  # too soon after the last analysed frame
                        else:
                            self.frames_sampled_out += 1
                    elif want:
                        ok, bgr = cap.retrieve()
                        ok = ok and bgr is not None and bgr.size > 0
            except cv2.error as exc:
                detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
                logger.debug("decoder error in %s at frame %d: %s", self.path, index, exc)
                self._warn(f"the decoder failed at frame {index} ({detail}); analysed the {index} frames before it")
                stopped_by_error = True
                break
            if not ok:
                break

        if self.frames_dropped:
            self._warn(f"analysed at most {self.max_fps:g} frames per second: {self.frames_dropped} frames closer "
                       f"together than 1/{self.max_fps:g} s were skipped (the clip claims {self._raw_fps:g} fps)")
        if clock.derived:
            self._warn("container timestamps were missing or not increasing; derived them from frame index and fps")
        claimed = self.info.frame_count
        if not stopped_by_error and claimed is not None:
            missing = claimed - self.frames_read
            if missing > max(_TRUNCATION_TOLERANCE_FRAMES, _TRUNCATION_TOLERANCE_FRACTION * claimed):
                self._warn(
                    f"video ended after {self.frames_read} of {claimed} frames: "
                    f"the file looks truncated; analysed what was readable"
                )


class ImageSource:
    """One photo with the same shape as VideoSource: yields a single Frame(0, 0, rgb).

    The image is decoded in the constructor, so MediaError is raised there.
    `info` is None; `warnings` stays empty (kept for symmetry). Can be iterated again.
    """

    info: VideoInfo | None = None

    def __init__(self, path: str | Path, *, max_side: int | None = None,
                 max_pixels: int | None = DEFAULT_MAX_IMAGE_PIXELS):
        self.path = Path(path)
        self.max_side = max_side
        self.warnings: list[str] = []
        self.frames_read = 0
        self._rgb: np.ndarray | None = read_image(self.path, max_side=max_side, max_pixels=max_pixels)

    def __enter__(self) -> ImageSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop the pixels."""
        self._rgb = None

    def __iter__(self) -> Iterator[Frame]:
        if self._rgb is None:
            raise RuntimeError("ImageSource is closed")
        return self._frames(self._rgb)

    def _frames(self, rgb: np.ndarray) -> Iterator[Frame]:
        self.frames_read = 1
        yield Frame(0, 0, rgb)


def _camera_capture(device: int) -> Any:
    """Create the camera capture (separate so tests can substitute a fake)."""
    return cv2.VideoCapture(device)


class CameraSource:
    """Live frames from a camera (cv2.VideoCapture(device)), endless until closed.

    timestamp_ms is time.monotonic() since the source started, forced strictly
    increasing. Raises MediaError 'camera_unavailable' from the constructor when
    the device cannot be opened or gives no picture within `lost_after_s`, and
    'camera_lost' from iteration when reads keep failing for `lost_after_s`.
    Call close() (from any thread) to end the iteration.
    """

    info: VideoInfo | None = None

    def __init__(self, device: int = 0, *, max_side: int | None = None, lost_after_s: float = 2.0):
        _check_max_side(max_side)
        self.device = int(device)
        self.max_side = max_side
        self.lost_after_s = float(lost_after_s)
        self.warnings: list[str] = []
        self.frames_read = 0
        self._closed = False
        self._iterated = False
        self._prev_ts: int | None = None
        try:
            cap = _camera_capture(self.device)
        except cv2.error as exc:
            logger.debug("opening camera %d raised: %s", self.device, exc)
            raise _err_camera_unavailable(self.device) from None
        self._cap = cap
        self._finalizer = weakref.finalize(self, _release, cap, None)
        if not cap.isOpened():
            self.close()
            raise _err_camera_unavailable(self.device)
        self._t0 = time.monotonic()
        first = self._read_within(self.lost_after_s)
        if first is None:
            self.close()
            raise _err_camera_unavailable(self.device)
        self._first: tuple[np.ndarray, float] | None = first
        logger.debug("camera %d opened, first frame %s", self.device, first[0].shape)

    def _read_once(self) -> np.ndarray | None:
        try:
            ok, bgr = self._cap.read()
        except cv2.error as exc:
            logger.debug("camera %d read raised: %s", self.device, exc)
            return None
        return bgr if ok and bgr is not None and bgr.size > 0 else None

    def _read_within(self, seconds: float) -> tuple[np.ndarray, float] | None:
        """Read until a frame arrives or `seconds` pass without one (or close())."""
        start = time.monotonic()
        while not self._closed:
            bgr = self._read_once()
            now = time.monotonic()
            if bgr is not None:
                return bgr, now
            if now - start > seconds:
                return None
            time.sleep(0.01)
        return None

    def _timestamp(self, t: float) -> int:
        ts = int(round((t - self._t0) * 1000.0))
        if self._prev_ts is not None and ts <= self._prev_ts:
            ts = self._prev_ts + 1
        self._prev_ts = ts
        return ts

    def __enter__(self) -> CameraSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop iterating and release the camera. Safe to call twice."""
        self._closed = True
        self._first = None
        self._finalizer()

    def __iter__(self) -> Iterator[Frame]:
        if self._iterated:
            raise RuntimeError("CameraSource can be iterated only once")
        if self._closed:
            raise RuntimeError("CameraSource is closed")
        self._iterated = True
        return self._frames()

    def _frames(self) -> Iterator[Frame]:
        got = self._first
        self._first = None
        index = 0
        while got is not None:
            bgr, t = got
            self.frames_read = index + 1
            yield Frame(index, self._timestamp(t), _to_rgb(bgr, self.max_side))
            index += 1
            if self._closed:
                return
            got = self._read_within(self.lost_after_s)
            if got is None and not self._closed:
                self.close()
                raise _err_camera_lost(self.device, self.lost_after_s)


def open_source(path: str | Path, *, max_side: int | None = None, stride: int = 1,
                max_image_pixels: int | None = DEFAULT_MAX_IMAGE_PIXELS,
                max_video_pixels: int | None = DEFAULT_MAX_VIDEO_PIXELS,
                max_fps: float | None = DEFAULT_MAX_FPS, sample_fps: float | None = None) -> VideoSource | ImageSource:
    """Open a photo or a video by extension (see media_kind); stride, max_fps and sample_fps apply to videos only."""
    if media_kind(path) == "image":
        return ImageSource(path, max_side=max_side, max_pixels=max_image_pixels)
    return VideoSource(path, max_side=max_side, stride=stride, max_pixels=max_video_pixels, max_fps=max_fps,
                       sample_fps=sample_fps)


def prefetch(frames: Iterable[Frame], size: int = 8) -> Iterator[Frame]:
    """Decode ahead in a background thread so decoding overlaps pose inference.

    OpenCV releases the GIL while decoding, so on two cores this hides most of
    the decode time. Exceptions in the reader are re-raised in the consumer.
    """
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=size)
    done = object()
    stop = threading.Event()

    def reader() -> None:
        try:
            for frame in frames:
                while not stop.is_set():
                    try:
                        q.put(frame, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer thread
            q.put(exc)

    thread = threading.Thread(target=reader, name="posturecheck-decode", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=2.0)
