"""Tests for posturecheck.sources: all media is generated in tmp_path (nothing downloaded)."""

from __future__ import annotations

import os
import pickle
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from posturecheck import sources
from posturecheck.sources import (
    CameraSource,
    Frame,
    ImageSource,
    MediaError,
    TimestampClock,
    VideoSource,
    list_media,
    media_kind,
    open_source,
    read_image,
)

DEV_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dev"
REAL_CLIP = DEV_DATA / "vid_gait_normal_side.mp4"

W, H, FPS, N = 160, 120, 25, 60


# --------------------------------------------------------------------------- helpers


def make_frame(i: int, w: int = W, h: int = H) -> np.ndarray:
    """BGR frame: left half pure red, right half a gray level that changes with i."""
    img = np.full((h, w, 3), (i * 4) % 256, np.uint8)
    img[:, : w // 2] = (0, 0, 255)
    return img


def write_video(path: Path, n: int = N, fps: float = FPS, fourcc: str = "mp4v",
                size: tuple[int, int] = (W, H)) -> Path:
    """Write a synthetic video; written under an ASCII name and renamed, so any target name works."""
    tmp = path.with_name("_writing" + path.suffix)
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    assert writer.isOpened(), f"cannot write {fourcc} video"
    for i in range(n):
        writer.write(make_frame(i, *size))
    writer.release()
    os.replace(tmp, path)
    return path


def write_image(path: Path, img: np.ndarray | None = None) -> Path:
    ok, buf = cv2.imencode(path.suffix, make_frame(0) if img is None else img)
    assert ok
    buf.tofile(str(path))  # tofile/fromfile: works for non-ASCII names everywhere
    return path


def jpeg_with_orientation(img: np.ndarray, orientation: int) -> bytes:
    """JPEG bytes with a minimal EXIF APP1 segment carrying only the Orientation tag."""
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    data = buf.tobytes()
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1)
    tiff += struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack("<I", 0)
    payload = b"Exif\x00\x00" + tiff
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return data[:2] + app1 + data[2:]


class FakeCapture:
    """Stands in for cv2.VideoCapture: scripted frames, properties and failures."""

    def __init__(self, n: int = 10, fps: float = 25.0, count: float | None = None,
                 pos: list[float] | None = None, raise_at: int | None = None, opened: bool = True,
                 fail_after: int | None = None):
        self.n, self.fps, self.count = n, fps, n if count is None else count
        self.pos, self.raise_at, self.opened, self.fail_after = pos, raise_at, opened, fail_after
        self.i = -1
        self.released = False

    def isOpened(self) -> bool:  # noqa: N802 - cv2 API
        return self.opened and not self.released

    def set(self, prop: int, value: float) -> bool:
        return True

    def get(self, prop: int) -> float:
        if prop == cv2.CAP_PROP_FPS:
            return self.fps
        if prop == cv2.CAP_PROP_FRAME_COUNT:
            return self.count
        if prop == cv2.CAP_PROP_POS_MSEC:
            return self.pos[self.i] if self.pos is not None else self.i * 1000.0 / self.fps
        return 0.0

    def grab(self) -> bool:
        ok, _ = self.read()
        return ok

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.released:
            return False, None
        if self.fail_after is not None and self.i + 1 >= self.fail_after:
            return False, None
        if self.raise_at is not None and self.i + 1 == self.raise_at:
            raise cv2.error("simulated decoder failure")
        if self.i + 1 >= self.n:
            return False, None
        self.i += 1
        return True, make_frame(self.i, 32, 24)

    def retrieve(self) -> tuple[bool, np.ndarray | None]:
        """The frame the last grab() decoded (VideoSource grabs, then retrieves the frames it keeps)."""
        return (True, make_frame(self.i, 32, 24)) if self.i >= 0 and not self.released else (False, None)

    def release(self) -> None:
        self.released = True


def use_fake_capture(monkeypatch: pytest.MonkeyPatch, cap: FakeCapture) -> None:
    monkeypatch.setattr(sources, "_try_open", lambda path_str: cap)


def assert_strictly_increasing(ts: list[int]) -> None:
    assert all(b > a for a, b in zip(ts, ts[1:])), ts


# --------------------------------------------------------------------------- media_kind / errors


@pytest.mark.parametrize("name,kind", [("a.jpg", "image"), ("B.JPEG", "image"), ("c.png", "image"),
                                       ("d.webp", "image"), ("e.mp4", "video"), ("f.MOV", "video"),
                                       ("g.avi", "video")])
def test_media_kind(tmp_path: Path, name: str, kind: str) -> None:
    p = tmp_path / name
    p.write_bytes(b"x")
    assert media_kind(p) == kind
    assert media_kind(str(p)) == kind


@pytest.mark.parametrize("name", ["notes.txt", "report.pdf", "noext", "clip.heic"])
def test_unsupported_extension(tmp_path: Path, name: str) -> None:
    p = tmp_path / name
    p.write_bytes(b"some content")
    with pytest.raises(MediaError) as ei:
        media_kind(p)
    assert ei.value.code == "unsupported"
    with pytest.raises(MediaError) as ei:
        open_source(p)
    assert ei.value.code == "unsupported"


def test_missing_path(tmp_path: Path) -> None:
    p = tmp_path / "不存在.mp4"
    for fn in (media_kind, open_source, read_image, VideoSource, ImageSource):
        with pytest.raises(MediaError) as ei:
            fn(p)
        assert ei.value.code == "not_found"
        assert ei.value.path == str(p)


def test_directory_is_rejected(tmp_path: Path) -> None:
    d = tmp_path / "clips.mp4"
    d.mkdir()
    for fn in (media_kind, open_source, VideoSource, read_image):
        with pytest.raises(MediaError) as ei:
            fn(d)
        assert ei.value.code == "is_directory"


@pytest.mark.parametrize("name", ["empty.mp4", "empty.jpg"])
def test_zero_byte_file(tmp_path: Path, name: str) -> None:
    p = tmp_path / name
    p.touch()
    with pytest.raises(MediaError) as ei:
        media_kind(p)
    assert ei.value.code == "empty_file"
    with pytest.raises(MediaError) as ei:
        open_source(p)
    assert ei.value.code == "empty_file"


def test_media_error_messages_are_one_line_bilingual_and_picklable(tmp_path: Path) -> None:
    p = tmp_path / "训练视频.mp4"
    p.write_bytes(os.urandom(4096))
    with pytest.raises(MediaError) as ei:
        VideoSource(p)
    err = ei.value
    assert err.code == "corrupt"
    assert "训练视频.mp4" in str(err) and "\n" not in str(err)
    assert "训练视频.mp4" in err.message_zh and "\n" not in err.message_zh
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err.message_zh.replace("训练视频", ""))
    assert "re-copy" in str(err)
    clone = pickle.loads(pickle.dumps(err))
    assert (clone.code, str(clone), clone.message_zh, clone.path) == (err.code, str(err), err.message_zh, err.path)


# --------------------------------------------------------------------------- images


@pytest.mark.parametrize("name", ["photo.jpg", "photo.png", "照片 训练.png", "员工照片.jpg", "x.bmp", "x.webp"])
def test_read_image_rgb(tmp_path: Path, name: str) -> None:
    p = write_image(tmp_path / name)
    rgb = read_image(p)
    assert rgb.shape == (H, W, 3) and rgb.dtype == np.uint8 and rgb.flags.c_contiguous
    left = rgb[:, : W // 2 - 4].reshape(-1, 3).mean(axis=0)
    assert left[0] > 200 and left[1] < 60 and left[2] < 60, "expected RGB order (red first)"


def test_read_image_grayscale_becomes_three_channels(tmp_path: Path) -> None:
    p = write_image(tmp_path / "gray.png", np.full((10, 20), 128, np.uint8))
    rgb = read_image(p)
    assert rgb.shape == (10, 20, 3)


def test_read_image_max_side(tmp_path: Path) -> None:
    p = write_image(tmp_path / "big.png", make_frame(0, 400, 100))
    assert read_image(p, max_side=100).shape == (25, 100, 3)
    assert read_image(p, max_side=1000).shape == (100, 400, 3)


def test_read_image_applies_exif_orientation(tmp_path: Path) -> None:
    img = make_frame(0, 80, 40)  # landscape, red on the left
    p = tmp_path / "竖拍.jpg"
    p.write_bytes(jpeg_with_orientation(img, 6))  # 6 = rotate 90° clockwise to display
    rgb = read_image(p)
    assert rgb.shape == (80, 40, 3), "EXIF orientation must be applied exactly once"
    top = rgb[:30].reshape(-1, 3).mean(axis=0)
    assert top[0] > 200 and top[1] < 80, "after a 90° CW turn the red (left) half is on top"


@pytest.mark.parametrize("name,content", [("fake.jpg", b"this is a text file, not a photo\n"),
                                          ("noise.png", os.urandom(2048))])
def test_corrupt_image(tmp_path: Path, name: str, content: bytes) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    assert media_kind(p) == "image"
    for fn in (read_image, open_source, ImageSource):
        with pytest.raises(MediaError) as ei:
            fn(p)
        assert ei.value.code == "corrupt"
        assert name in str(ei.value)


def test_image_source_yields_one_frame(tmp_path: Path) -> None:
    p = write_image(tmp_path / "a.png")
    with open_source(p, max_side=80) as src:
        assert isinstance(src, ImageSource)
        assert src.info is None and src.warnings == []
        frames = list(src)
        assert src.frames_read == 1
    assert len(frames) == 1
    f = frames[0]
    assert isinstance(f, Frame) and f.index == 0 and f.timestamp_ms == 0
    assert f.rgb.shape == (60, 80, 3)


# --------------------------------------------------------------------------- videos


@pytest.mark.parametrize("name,fourcc", [("clip.mp4", "mp4v"), ("clip.avi", "MJPG")])
def test_video_frames_and_timestamps(tmp_path: Path, name: str, fourcc: str) -> None:
    p = write_video(tmp_path / name, fourcc=fourcc)
    assert media_kind(p) == "video"
    with open_source(p) as src:
        assert isinstance(src, VideoSource)
        assert src.info.fps == pytest.approx(FPS)
        assert src.info.frame_count == N
        assert (src.info.width, src.info.height) == (W, H)
        assert src.info.duration_s == pytest.approx(N / FPS)
        frames = list(src)
        assert src.warnings == []
        assert src.frames_read == N
    assert [f.index for f in frames] == list(range(N))
    ts = [f.timestamp_ms for f in frames]
    assert ts[0] == 0
    assert_strictly_increasing(ts)
    assert ts == [round(i * 1000 / FPS) for i in range(N)]
    f = frames[10]
    assert f.rgb.shape == (H, W, 3) and f.rgb.dtype == np.uint8 and f.rgb.flags.c_contiguous
    left = f.rgb[:, : W // 2 - 8].reshape(-1, 3).mean(axis=0)
    assert left[0] > 180 and left[2] < 80, "frames must be RGB"


def test_video_stride_and_max_side(tmp_path: Path) -> None:
    p = write_video(tmp_path / "clip.mp4")
    with VideoSource(p, stride=4, max_side=80) as src:
        frames = list(src)
        assert src.frames_read == N
    assert [f.index for f in frames] == list(range(0, N, 4))
    assert_strictly_increasing([f.timestamp_ms for f in frames])
    assert frames[1].timestamp_ms == round(4 * 1000 / FPS)
    assert all(f.rgb.shape == (60, 80, 3) for f in frames)
    with VideoSource(p, max_side=4000) as src:
        assert next(iter(src)).rgb.shape == (H, W, 3)


@pytest.mark.parametrize("kwargs", [{"stride": 0}, {"max_side": 0}])
def test_video_rejects_bad_arguments(tmp_path: Path, kwargs: dict) -> None:
    p = write_video(tmp_path / "clip.mp4", n=3)
    with pytest.raises(ValueError):
        VideoSource(p, **kwargs)


def test_video_iterates_once_and_close_is_idempotent(tmp_path: Path) -> None:
    p = write_video(tmp_path / "clip.mp4", n=5)
    src = VideoSource(p)
    assert len(list(src)) == 5
    with pytest.raises(RuntimeError):
        iter(src)
    src.close()
    src.close()


def test_early_break_adds_no_truncation_warning(tmp_path: Path) -> None:
    p = write_video(tmp_path / "clip.mp4")
    with VideoSource(p) as src:
        for f in src:
            if f.index == 5:
                break
        assert src.warnings == []


def test_truncated_avi_yields_readable_part_with_warning(tmp_path: Path) -> None:
    p = write_video(tmp_path / "cut.avi", fourcc="MJPG")
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with VideoSource(p) as src:
        frames = list(src)  # must not raise
        warnings = list(src.warnings)
    assert 0 < len(frames) < N
    assert_strictly_increasing([f.timestamp_ms for f in frames])
    assert any("truncated" in w and f"of {N} frames" in w for w in warnings), warnings


def test_truncated_mp4_is_corrupt_or_partial(tmp_path: Path) -> None:
    """mp4v files keep their index (moov) at the end, so a cut copy usually cannot be opened at all."""
    p = write_video(tmp_path / "cut.mp4")
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    try:
        with VideoSource(p) as src:
            frames = list(src)
            assert len(frames) < N and any("truncated" in w for w in src.warnings)
    except MediaError as err:
        assert err.code == "corrupt"


@pytest.mark.parametrize("content", [os.urandom(8192), b"hello, I am not a video\n" * 10])
def test_not_a_video_with_video_extension(tmp_path: Path, content: bytes) -> None:
    p = tmp_path / "clip.mp4"
    p.write_bytes(content)
    with pytest.raises(MediaError) as ei:
        open_source(p)
    assert ei.value.code == "corrupt"


def test_video_without_frames(tmp_path: Path) -> None:
    p = write_video(tmp_path / "nothing.avi", n=0, fourcc="MJPG")
    with pytest.raises(MediaError) as ei:
        VideoSource(p)
    assert ei.value.code in {"no_frames", "corrupt"}


def test_no_frames_from_constructor(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    p = tmp_path / "x.mp4"
    p.write_bytes(b"placeholder")
    cap = FakeCapture(n=0)
    use_fake_capture(monkeypatch, cap)
    with pytest.raises(MediaError) as ei:
        VideoSource(p)
    assert ei.value.code == "no_frames"
    assert cap.released


def test_decoder_error_mid_stream_stops_with_warning(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    p = tmp_path / "x.mp4"
    p.write_bytes(b"placeholder")
    use_fake_capture(monkeypatch, FakeCapture(n=20, raise_at=7))
    with VideoSource(p) as src:
        frames = list(src)
        assert [f.index for f in frames] == list(range(7))
        assert len(src.warnings) == 1 and "decoder failed at frame 7" in src.warnings[0]


def test_container_timestamps_used_when_increasing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    p = tmp_path / "vfr.mp4"
    p.write_bytes(b"placeholder")
    pos = [1000.0, 1010.0, 1050.0, 1051.2, 1200.0]  # variable frame rate, non-zero start
    use_fake_capture(monkeypatch, FakeCapture(n=5, pos=pos))
    with VideoSource(p, max_fps=None) as src:  # no rate cap: every container time is kept
        ts = [f.timestamp_ms for f in src]
        assert src.warnings == []
    assert ts == [0, 10, 50, 51, 200]


def test_derived_timestamps_when_container_times_unusable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    p = tmp_path / "x.mp4"
    p.write_bytes(b"placeholder")
    use_fake_capture(monkeypatch, FakeCapture(n=12, fps=30.0, pos=[0.0] * 12))
    with VideoSource(p) as src:
        ts = [f.timestamp_ms for f in src]
        assert any("derived them from frame index and fps" in w for w in src.warnings)
    assert ts == [round(i * 1000 / 30.0) for i in range(12)]


def test_implausible_fps_falls_back_to_30(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    p = tmp_path / "x.webm"
    p.write_bytes(b"placeholder")
    use_fake_capture(monkeypatch, FakeCapture(n=4, fps=1000.0, count=0, pos=[0.0] * 4))
    with VideoSource(p) as src:
        assert src.info.fps == 30.0
        assert src.info.frame_count is None and src.info.duration_s is None
        ts = [f.timestamp_ms for f in src]
        assert any("frame rate" in w for w in src.warnings)
    assert ts == [0, 33, 67, 100]


def test_chinese_path_video(tmp_path: Path) -> None:
    folder = tmp_path / "培训资料"
    folder.mkdir()
    p = write_video(folder / "训练视频.mp4", n=20)
    with open_source(p) as src:
        frames = list(src)
    assert len(frames) == 20


def test_non_ascii_fallback_uses_temporary_alias(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Simulate a backend that cannot open non-ASCII paths (as on some Windows builds)."""
    p = write_video(tmp_path / "训练视频.mp4", n=15)
    real_try_open = sources._try_open
    seen: list[str] = []

    def ascii_only(path_str: str):
        seen.append(path_str)
        return real_try_open(path_str) if path_str.isascii() else None

    monkeypatch.setattr(sources, "_try_open", ascii_only)
    with VideoSource(p) as src:
        assert len(list(src)) == 15
        alias = seen[-1]
        assert alias.isascii() and os.path.exists(alias)
    assert not os.path.exists(alias), "temporary alias must be deleted on close"
    assert p.exists()


# --------------------------------------------------------------------------- timestamp helper


def test_clock_uses_container_times() -> None:
    clock = TimestampClock(25.0)
    assert [clock(i, ms) for i, ms in enumerate([0.0, 40.0, 80.4, 119.6])] == [0, 40, 80, 120]
    assert not clock.derived


@pytest.mark.parametrize("bad", [None, float("nan"), 0.0, -1.0])
def test_clock_derives_when_container_times_missing(bad) -> None:
    clock = TimestampClock(29.97)
    ts = [clock(i, bad) for i in range(100)]
    assert clock.derived
    assert ts == [round(i * 1000 / 29.97) for i in range(100)]


def test_clock_continues_from_last_good_time_when_times_go_backwards() -> None:
    clock = TimestampClock(10.0)
    ts = [clock(i, ms) for i, ms in enumerate([0.0, 100.0, 200.0, 50.0, 400.0])]
    assert ts == [0, 100, 200, 300, 400]
    assert clock.derived


def test_clock_is_strictly_increasing_even_with_rounding_collisions() -> None:
    clock = TimestampClock(30.0)
    ts = [clock(i, ms) for i, ms in enumerate([0.0, 0.2, 0.4, 0.6, 1.0])]
    assert_strictly_increasing(ts)
    clock = TimestampClock(5000.0)  # sub-millisecond spacing
    assert_strictly_increasing([clock(i, None) for i in range(20)])


def test_clock_rejects_bad_fps() -> None:
    with pytest.raises(ValueError):
        TimestampClock(0.0)


# --------------------------------------------------------------------------- folders


def test_list_media_expands_folders(tmp_path: Path) -> None:
    d = tmp_path / "班组A"
    d.mkdir()
    for name in ["b10.jpg", "b2.JPG", "a.mp4", "站姿.png", ".hidden.jpg", "._b3.jpg", "notes.txt", "Thumbs.db"]:
        (d / name).write_bytes(b"x")
    (d / "sub").mkdir()
    (d / "sub" / "c.jpg").write_bytes(b"x")
    missing = tmp_path / "missing.mp4"
    unsupported = tmp_path / "report.pdf"
    unsupported.write_bytes(b"%PDF")
    got = list_media([unsupported, d, str(missing)])
    assert got == [unsupported, d / "a.mp4", d / "b2.JPG", d / "b10.jpg", d / "站姿.png", missing]
    assert list_media([]) == []


# --------------------------------------------------------------------------- camera


def test_camera_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "_camera_capture", lambda device: FakeCapture(opened=False))
    with pytest.raises(MediaError) as ei:
        CameraSource(3)
    assert ei.value.code == "camera_unavailable" and "3" in str(ei.value) and ei.value.path is None


def test_camera_open_but_silent_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    cap = FakeCapture(n=0)
    monkeypatch.setattr(sources, "_camera_capture", lambda device: cap)
    with pytest.raises(MediaError) as ei:
        CameraSource(0, lost_after_s=0.05)
    assert ei.value.code == "camera_unavailable"
    assert cap.released


def test_camera_frames_then_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    cap = FakeCapture(n=1000, fail_after=6)
    monkeypatch.setattr(sources, "_camera_capture", lambda device: cap)
    src = CameraSource(0, lost_after_s=0.1, max_side=16)
    frames: list[Frame] = []
    with pytest.raises(MediaError) as ei:
        for f in src:
            frames.append(f)
    assert ei.value.code == "camera_lost"
    assert [f.index for f in frames] == list(range(6))
    assert_strictly_increasing([f.timestamp_ms for f in frames])
    assert frames[0].rgb.shape == (12, 16, 3)
    assert cap.released


def test_camera_close_ends_iteration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "_camera_capture", lambda device: FakeCapture(n=1000))
    with CameraSource(0) as src:
        got = []
        for f in src:
            got.append(f.index)
            if len(got) == 3:
                src.close()
    assert got == [0, 1, 2]


# --------------------------------------------------------------------------- real clip


@pytest.mark.skipif(not REAL_CLIP.is_file(), reason=f"shared dev clip not present: {REAL_CLIP}")
def test_real_clip() -> None:
    with open_source(REAL_CLIP) as src:
        assert isinstance(src, VideoSource)
        info = src.info
        assert 20 <= info.fps <= 60
        assert info.frame_count is not None and 30 <= info.frame_count <= 10_000
        assert info.width > 0 and info.height > 0
        frames = list(src)
        assert src.warnings == []
    assert abs(len(frames) - info.frame_count) <= 2
    ts = [f.timestamp_ms for f in frames]
    assert ts[0] == 0
    assert_strictly_increasing(ts)
    assert ts[-1] == pytest.approx(info.duration_s * 1000, rel=0.1)
    assert frames[0].rgb.shape == (info.height, info.width, 3)
