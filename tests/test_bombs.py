"""Bounded memory on any input (issue 14): decompression bombs are refused from their header,
oversized video frames before decoding, and very high frame rates are analysed at <= 60 fps.
The bad files are made at test time (tests/bombs.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from posturecheck.sources import (DEFAULT_MAX_FPS, MediaError, VideoSource, image_header, read_image,
                                  video_frame_size)
from tests.bombs import fast_clip, png_bomb, tiff_bomb, video_bomb

ROOT = Path(__file__).resolve().parents[1]
PEAK_RSS_LIMIT_MB = 400  # Python + OpenCV + PyAV + Pillow; the bombs used 1.2-5.4 GB before
# VmHWM (peak resident set of this process image); ru_maxrss would carry pytest's own peak across exec.
MEASURE = """
import sys
from posturecheck.cli import main
code = main(sys.argv[1:])
hwm = [l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
print("PEAK_RSS_KB", hwm, "EXIT", code, file=sys.stderr)
"""


def analyze_measured(path: Path, *extra: str) -> tuple[int, str, float, float]:
    """`posturecheck analyze PATH` in a fresh process: (exit code, stderr, peak RSS in MB, seconds)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8"}
    t0 = time.monotonic()
    res = subprocess.run([sys.executable, "-c", MEASURE, "analyze", str(path), "--format", "json", "--no-face",
                          "--lang", "en", *extra], env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.monotonic() - t0
    line = [x for x in res.stderr.splitlines() if x.startswith("PEAK_RSS_KB")][-1].split()
    return int(line[3]), res.stderr, int(line[1]) / 1024, elapsed


@pytest.fixture(scope="module")
def bombs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bombs")
    return {"png": png_bomb(folder / "bomb.png"), "tiff": tiff_bomb(folder / "bomb.tif"),
            "video": video_bomb(folder / "bomb.mp4", frames=2)}


def test_bomb_files_are_what_they_claim(bombs):
    assert bombs["png"].stat().st_size < 3_000_000 and image_header(bombs["png"])[1:] == (30000, 30000)
    assert bombs["tiff"].stat().st_size < 1_000_000 and image_header(bombs["tiff"])[1:] == (20000, 20000)
    assert bombs["video"].stat().st_size < 400_000 and video_frame_size(bombs["video"]) == (8192, 8192)


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="peak RSS is read from Linux /proc/self/status")
@pytest.mark.parametrize("kind,size", [("png", "30000×30000"), ("tiff", "20000×20000"), ("video", "8192×8192")])
def test_bombs_are_refused_with_bounded_memory(bombs, kind, size):
    code, err, peak_mb, seconds = analyze_measured(bombs[kind])
    print(f"{kind}: exit {code}, peak RSS {peak_mb:.0f} MB, {seconds:.1f} s")
    assert code == 2 and size in err and "megapixels" in err and "Traceback" not in err
    assert peak_mb < PEAK_RSS_LIMIT_MB, f"{kind} bomb: peak RSS {peak_mb:.0f} MB"


def test_too_large_message_in_chinese(bombs):
    with pytest.raises(MediaError) as err:
        read_image(bombs["png"])
    assert err.value.code == "too_large" and "百万像素" in err.value.message_zh


def test_large_jpeg_is_decoded_reduced_not_refused(tmp_path):
    path = tmp_path / "big.jpg"
    ok, buf = cv2.imencode(".jpg", np.full((1000, 2000, 3), 90, np.uint8))
    path.write_bytes(buf.tobytes())
    assert read_image(path, max_pixels=600_000).shape == (500, 1000, 3)  # 2 MP > 0.6 MP: decoded at 1/2
    assert read_image(path, max_pixels=200_000).shape == (250, 500, 3)  # at 1/4, inside libjpeg
    assert read_image(path, max_pixels=None).shape == (1000, 2000, 3)
    with pytest.raises(MediaError, match="above the limit"):
        read_image(path, max_pixels=1000)  # even 1/8 (250×125) is too large


def test_pixel_limit_is_a_setting(tmp_path):
    from posturecheck.ui.settings import AppSettings

    assert AppSettings().max_image_megapixels == 100.0
    path = tmp_path / "p.png"
    cv2.imwrite(str(path), np.zeros((1000, 1000, 3), np.uint8))
    with pytest.raises(MediaError, match="above the limit of 0 megapixels|above the limit"):
        read_image(path, max_pixels=500_000)
    assert read_image(path).shape == (1000, 1000, 3)


def test_1000_fps_clip_is_analysed_at_most_at_60_fps(tmp_path):
    clip = fast_clip(tmp_path / "fast.avi", fps=1000, seconds=4.0)
    with VideoSource(clip) as src:
        frames = list(src)
        assert src.frames_read >= 3900 and src.frames_dropped >= 3600
        assert any("at most 60 frames per second" in w for w in src.warnings)
    ts = [f.timestamp_ms for f in frames]
    assert len(frames) <= 4 * DEFAULT_MAX_FPS + 1
    assert min(np.diff(ts)) >= 1000 / DEFAULT_MAX_FPS - 3  # never two analysed frames too close
    assert ts[-1] >= 3900  # the whole clip is covered


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="peak RSS is read from Linux /proc/self/status")
def test_1000_fps_clip_through_analyze(tmp_path):
    clip = fast_clip(tmp_path / "fast.avi", fps=1000, seconds=4.0)
    code, err, peak_mb, seconds = analyze_measured(clip, "--model", "lite")
    print(f"1000 fps clip: exit {code}, {seconds:.1f} s, peak RSS {peak_mb:.0f} MB")
    assert code in (0, 2) and "Traceback" not in err
