"""CLI behaviour on good and bad input: one clear line, a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from posturecheck.cli import main

DEV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dev"
needs_dev = pytest.mark.skipif(not DEV.is_dir(), reason="../shared/data/dev (real dev media) is not beside the project")


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def blank_image(path: Path) -> Path:
    ok, buf = cv2.imencode(path.suffix, np.full((240, 320, 3), 128, np.uint8))
    assert ok
    path.write_bytes(buf.tobytes())
    return path


def blank_video(path: Path, frames: int = 20, fourcc: str = "MJPG") -> Path:
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 10.0, (160, 120))
    for i in range(frames):
        w.write(np.full((120, 160, 3), (i * 10) % 255, np.uint8))
    w.release()
    return path


def test_missing_file(capsys, tmp_path):
    code, out, err = run(capsys, "analyze", str(tmp_path / "nope.mp4"))
    assert code != 0 and out == ""
    assert "nope.mp4" in err and len(err.strip().splitlines()) == 1


def test_unsupported_type(capsys, tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("hello", encoding="utf-8")
    code, _, err = run(capsys, "analyze", str(p))
    assert code != 0 and "notes.txt" in err and len(err.strip().splitlines()) == 1


def test_zero_byte_file(capsys, tmp_path):
    p = tmp_path / "empty.mp4"
    p.write_bytes(b"")
    code, _, err = run(capsys, "analyze", str(p))
    assert code != 0 and "empty.mp4" in err


def test_corrupt_video_and_image(capsys, tmp_path):
    v = tmp_path / "broken.mp4"
    v.write_bytes(np.random.default_rng(0).integers(0, 255, 5000, dtype=np.uint8).tobytes())
    code, _, err = run(capsys, "analyze", str(v))
    assert code != 0 and "broken.mp4" in err
    i = tmp_path / "broken.jpg"
    i.write_text("this is not a jpeg", encoding="utf-8")
    code, _, err = run(capsys, "analyze", str(i), "--lang", "zh")
    assert code != 0 and "broken.jpg" in err


def test_no_person_photo(capsys, tmp_path):
    p = blank_image(tmp_path / "空房间.png")
    code, out, _ = run(capsys, "analyze", str(p), "--format", "json")
    assert code == 0
    rep = json.loads(out)
    assert rep["person_found"] is False and rep["score"] is None
    assert rep["rules"] and all(r["status"] == "unknown" for r in rep["rules"])
    assert rep["warnings"]


def test_no_person_video_and_truncated(capsys, tmp_path):
    v = blank_video(tmp_path / "empty_room.avi", frames=40)
    data = v.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    code, out, _ = run(capsys, "analyze", str(cut), "--format", "json")
    assert code == 0
    rep = json.loads(out)
    assert rep["kind"] == "video" and rep["person_found"] is False
    assert 0 < rep["frames_analyzed"] < 40
    assert any("truncated" in w for w in rep["warnings"])


def test_folder_with_bad_file_gives_json_lines(capsys, tmp_path):
    blank_image(tmp_path / "a.jpg")
    (tmp_path / "b.mp4").write_bytes(b"")
    (tmp_path / "c.txt").write_text("x", encoding="utf-8")  # not media: not listed from a folder
    code, out, _ = run(capsys, "analyze", str(tmp_path), "--format", "json")
    lines = [json.loads(x) for x in out.strip().splitlines()]
    assert len(lines) == 2
    assert "error" in lines[1] and lines[1]["source"].endswith("b.mp4")
    assert lines[0]["schema"] == "posturecheck.analysis/1"
    assert code == 1  # partial failure


def test_bad_profile_and_model(capsys, tmp_path):
    p = blank_image(tmp_path / "a.png")
    bad = tmp_path / "bad.toml"
    bad.write_text("= broken", encoding="utf-8")
    code, _, err = run(capsys, "analyze", str(p), "--profile", str(bad))
    assert code != 0 and "TOML" in err
    code, _, err = run(capsys, "analyze", str(p), "--model", str(tmp_path / "none.task"))
    assert code != 0 and "model" in err


@needs_dev
def test_json_contract_on_real_photo(capsys, tmp_path):
    src = DEV / "img_tfjs_portrait_armscrossed.jpg"
    code, out, _ = run(capsys, "analyze", str(src), "--format", "json", "--out", str(tmp_path / "out"))
    assert code == 0
    rep = json.loads(out)
    keys = {"schema", "source", "kind", "frames_analyzed", "duration_s", "person_found", "people_seen",
            "activity", "view", "score", "rules", "observations", "segments", "warnings"}
    assert keys <= set(rep)
    assert rep["kind"] == "image" and rep["frames_analyzed"] == 1 and rep["duration_s"] is None
    assert rep["person_found"] and 0 <= rep["score"] <= 100
    for r in rep["rules"]:
        assert {"id", "status", "value", "limit", "fail_fraction", "message"} <= set(r)
        assert r["status"] in ("pass", "fail", "unknown") and r["message"]
    assert set(rep["observations"]) >= {"hands", "feet", "legs_crossed", "trunk_tilt_deg"}
    assert {r["id"]: r["status"] for r in rep["rules"]}["posture.arms_crossed"] == "fail"
    assert (tmp_path / "out" / "img_tfjs_portrait_armscrossed.json").is_file()


@needs_dev
def test_chinese_path_video_text_output(capsys, tmp_path):
    dst = tmp_path / "培训录像" / "行走训练.mp4"
    dst.parent.mkdir()
    shutil.copyfile(DEV / "vid_gait_normal_side.mp4", dst)  # temporary copy inside pytest's tmp dir only
    code, out, _ = run(capsys, "analyze", str(dst), "--lang", "zh", "--model", "lite")
    assert code == 0
    assert "行走训练.mp4" in out and "行姿" in out


def test_subprocess_has_no_traceback(tmp_path):
    p = tmp_path / "损坏的视频.mp4"
    p.write_bytes(b"\x00" * 100)
    proc = subprocess.run([sys.executable, "-m", "posturecheck", "analyze", str(p)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "损坏的视频.mp4" in proc.stderr


def test_out_keeps_outputs_of_inputs_sharing_a_stem(capsys, tmp_path):
    """drill.jpg and drill.png: two reports, neither overwrites the other; a lone stem keeps <stem>.json."""
    folder = tmp_path / "in"
    folder.mkdir()
    blank_image(folder / "drill.jpg")
    blank_image(folder / "drill.png")
    blank_image(folder / "solo.png")
    code, out, err = run(capsys, "analyze", str(folder), "--out", str(tmp_path / "out"), "--format", "json",
                         "--no-face")
    assert code == 0, err
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["drill.jpg.json", "drill.jpg.txt", "drill.png.json", "drill.png.txt", "solo.json", "solo.txt"]
    sources = {json.loads((tmp_path / "out" / n).read_text(encoding="utf-8"))["source"]
               for n in ("drill.jpg.json", "drill.png.json")}
    assert {Path(s).name for s in sources} == {"drill.jpg", "drill.png"}
