"""Trainer review outputs (`analyze --report`): annotated H.264 video, self-contained HTML,
CSV/JSON tables, folder batches on two workers, and Chinese text that is not tofu."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

import skeleton as S
from posturecheck.analyze import AnalyzeOptions, analyze_path
from posturecheck.annotate import find_cjk_font, load_font, pick_encoder
from posturecheck.batch import REPORT_HTML, ReviewOptions, review_paths, write_review
from posturecheck.export import FRAME_BASE_COLUMNS, VIOLATION_COLUMNS, feature_names
from posturecheck.landmarks import PoseLandmarks
from posturecheck.pose import ReplayEstimator

HERE = Path(__file__).resolve().parent
DEV = HERE.parents[1] / "shared" / "data" / "dev"
DEV_CLIP = DEV / "vid_gait_normal_side.mp4"
DEV_FIXTURE = HERE / "fixtures" / "dev_video" / "vid_gait_normal_side.json"

FPS, N_FRAMES, SIZE = 10.0, 40, (360, 640)  # synthetic clip: 4 s, portrait like skeleton.FRAME


def write_clip(path: Path, frames: int = N_FRAMES, size: tuple[int, int] = SIZE) -> Path:
    """A plain grey MJPG clip (no person in the pixels: the person is injected by a replay)."""
    w, h = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (w, h))
    assert writer.isOpened()
    for i in range(frames):
        writer.write(np.full((h, w, 3), 90 + i % 30, np.uint8))
    writer.release()
    return path


def person_sequence() -> list[PoseLandmarks]:
    """2 s standing upright, then 2 s with the trunk tilted 16° sideways (standing.trunk_upright fails)."""
    upright = S.to_landmarks(S.upright())
    leaning = S.to_landmarks(S.tilt_trunk_sideways(S.upright(), 16.0))
    return [upright] * (N_FRAMES // 2) + [leaning] * (N_FRAMES - N_FRAMES // 2)


@pytest.fixture(scope="module")
def synthetic_review(tmp_path_factory):
    """The review of the synthetic clip (person injected with ReplayEstimator), in Chinese."""
    root = tmp_path_factory.mktemp("synthetic")
    clip = write_clip(root / "drill.avi")
    analysis = analyze_path(clip, AnalyzeOptions(activity="standing"),
                            estimator=ReplayEstimator(person_sequence(), loop=False))
    result = write_review(analysis, root / "report", ReviewOptions(lang="zh"))
    return analysis, result, Path(result.out_dir)


def probe(path: Path) -> dict:
    """Codec, pixel format and decoded frame count of an MP4 (PyAV)."""
    import av

    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        frames = sum(1 for _ in c.decode(stream))
        return {"codec": stream.codec_context.name, "pix_fmt": stream.codec_context.pix_fmt, "frames": frames,
                "width": stream.codec_context.width, "height": stream.codec_context.height}


def assert_browser_mp4(path: Path, frames: int) -> None:
    info = probe(path)
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p", info
    assert info["frames"] == frames
    assert info["width"] % 2 == 0 and info["height"] % 2 == 0
    head = path.read_bytes()
    assert 0 <= head.find(b"moov") < head.find(b"mdat"), "index (moov) should come first (faststart)"


# ----------------------------------------------------------------------------- video


def test_h264_encoder_available():
    assert pick_encoder() in ("libx264", "libopenh264", "h264"), "PyAV should bring an H.264 encoder"


def test_synthetic_annotated_video_is_browser_h264(synthetic_review):
    analysis, result, out = synthetic_review
    assert result.encoder in ("libx264", "libopenh264", "h264")
    assert_browser_mp4(out / "annotated.mp4", analysis.frames_analyzed)
    assert analysis.frames_analyzed == N_FRAMES


def test_synthetic_video_shows_the_violation(synthetic_review):
    """A frame inside the violation has red skeleton pixels; one before it has none."""
    import av

    analysis, _, out = synthetic_review
    with av.open(str(out / "annotated.mp4")) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]

    def red(rgb: np.ndarray) -> int:
        r, g, b = (rgb[..., i].astype(int) for i in range(3))
        body = (slice(60, 600), slice(60, 300))  # away from the text panels and the timeline
        return int(((r > 180) & (g < 110) & (b < 100))[body].sum())

    assert red(frames[35]) > 200
    assert red(frames[5]) < 20


@pytest.mark.skipif(not DEV_CLIP.is_file(), reason="../shared/data/dev/vid_gait_normal_side.mp4 is not beside the project")
def test_real_clip_annotated_video(tmp_path):
    """A real dev clip with its stored landmarks replayed: one output frame per input frame."""
    fixture = json.loads(DEV_FIXTURE.read_text(encoding="utf-8"))
    lms = [PoseLandmarks.from_dict(f["landmarks"]) if f["landmarks"] else None for f in fixture["frames"]]
    analysis = analyze_path(DEV_CLIP, estimator=ReplayEstimator(lms, loop=False))
    result = write_review(analysis, tmp_path / "rep", ReviewOptions(lang="en"))
    assert_browser_mp4(Path(result.out_dir) / "annotated.mp4", len(fixture["frames"]))


# ----------------------------------------------------------------------------- HTML


def test_html_is_self_contained(synthetic_review):
    analysis, result, out = synthetic_review
    page = (out / REPORT_HTML).read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)
    assert not re.search(r"<link[^>]*stylesheet", page, re.I)
    assert not re.search(r"""(src|href)\s*=\s*["']//""", page, re.I)
    assert "@import" not in page
    report = result.report
    assert f"{report['score']:.0f}" in page
    for r in report["rules"]:
        assert r["id"] in page
    assert "data:image/jpeg;base64," in page, "the worst moment should be an inline still"
    assert '<html lang="zh-CN">' in page
    assert "截图" in page  # the footer says stills of the trainee are in the report


def test_html_english_and_no_violation_has_no_stills(tmp_path):
    clip = write_clip(tmp_path / "ok.avi", frames=20)
    analysis = analyze_path(clip, AnalyzeOptions(activity="standing"),
                            estimator=ReplayEstimator([S.to_landmarks(S.upright())]))
    result = write_review(analysis, tmp_path / "rep", ReviewOptions(lang="en", video=False))
    page = (Path(result.out_dir) / REPORT_HTML).read_text(encoding="utf-8")
    assert '<html lang="en">' in page and "data:image/jpeg" not in page
    assert "No violation" in page
    assert not (Path(result.out_dir) / "annotated.mp4").exists()


# ----------------------------------------------------------------------------- tables


def read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def test_frames_csv_columns_and_rows(synthetic_review):
    analysis, result, out = synthetic_review
    rows = read_csv(out / "frames.csv")
    header, body = rows[0], rows[1:]
    rule_ids = [r["id"] for r in result.report["rules"]]
    assert header == list(FRAME_BASE_COLUMNS) + list(feature_names()) + rule_ids
    assert len(body) == analysis.frames_analyzed
    col = {name: i for i, name in enumerate(header)}
    assert all(row[col[r]] in ("pass", "fail", "unknown") for row in body for r in rule_ids)
    assert [row[col["activity"]] for row in body] == ["standing"] * N_FRAMES
    assert body[-1][col["standing.trunk_upright"]] == "fail" and body[0][col["standing.trunk_upright"]] == "pass"
    assert float(body[-1][col["trunk_tilt_deg"]]) > 10
    frames = json.loads((out / "frames.json").read_text(encoding="utf-8"))["frames"]
    assert len(frames) == N_FRAMES and frames[-1]["rules"]["standing.trunk_upright"]["status"] == "fail"


def test_violations_csv(synthetic_review):
    _, result, out = synthetic_review
    rows = read_csv(out / "violations.csv")
    assert rows[0] == list(VIOLATION_COLUMNS)
    intervals = [(r["id"], i) for r in result.report["rules"] for i in r["intervals"]]
    assert len(rows) - 1 == len(intervals) >= 1
    trunk = [r for r in rows[1:] if r[0] == "standing.trunk_upright"]
    assert trunk and float(trunk[0][3]) == pytest.approx(2.0, abs=0.25)
    assert float(trunk[0][5]) == pytest.approx(float(trunk[0][4]) - float(trunk[0][3]), abs=1e-3)
    assert 0.6 <= float(trunk[0][6]) <= 1.0  # peak learned P(lean/slouch): at or above fail_above
    data = json.loads((out / "violations.json").read_text(encoding="utf-8"))
    assert len(data["violations"]) == len(intervals)


# ----------------------------------------------------------------------------- batch


def test_batch_two_workers_with_a_corrupt_file(tmp_path):
    """Two small clips and a damaged file on two workers: two reports, a summary and an error row."""
    src = tmp_path / "drills"
    src.mkdir()
    write_clip(src / "a_drill.avi", frames=8, size=(160, 120))
    write_clip(src / "b_drill.avi", frames=8, size=(160, 120))
    (src / "c_broken.mp4").write_bytes(np.random.default_rng(1).integers(0, 255, 4000, dtype=np.uint8).tobytes())
    from posturecheck.sources import list_media

    paths = list_media([src])
    results = review_paths(paths, tmp_path / "out", AnalyzeOptions(model="lite"), ReviewOptions(lang="en"),
                           workers=2, show_progress=False)
    assert [Path(r.file).name for r in results] == ["a_drill.avi", "b_drill.avi", "c_broken.mp4"]
    assert [r.ok for r in results] == [True, True, False]
    assert "c_broken.mp4" in results[2].error and results[2].error_code == "corrupt"
    for name in ("a_drill", "b_drill"):
        assert (tmp_path / "out" / name / REPORT_HTML).is_file()
        assert (tmp_path / "out" / name / "annotated.mp4").is_file()
    rows = read_csv(tmp_path / "out" / "summary.csv")
    assert rows[0] == ["file", "activity", "score", "failed_rules", "duration_s", "report", "error"]
    assert [r[0] for r in rows[1:]] == ["a_drill.avi", "b_drill.avi", "c_broken.mp4"]
    assert rows[1][5] == "a_drill/report.html" and rows[1][6] == ""
    assert rows[3][6] and rows[3][5] == ""
    summary = (tmp_path / "out" / "summary.html").read_text(encoding="utf-8")
    assert 'href="a_drill/report.html"' in summary and "c_broken.mp4" in summary
    assert "http://" not in summary and "https://" not in summary


def test_cli_report_single_file(tmp_path, capsys):
    from posturecheck.cli import main

    clip = write_clip(tmp_path / "drill.avi", frames=6, size=(160, 120))
    code = main(["analyze", str(clip), "--report", str(tmp_path / "rep"), "--model", "lite", "--lang", "en"])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in out + err
    assert "report.html" in out and (tmp_path / "rep" / "report.html").is_file()
    code = main(["analyze", str(tmp_path / "missing.mp4"), "--report", str(tmp_path / "rep2")])
    out, err = capsys.readouterr()
    assert code != 0 and "missing.mp4" in err and len(err.strip().splitlines()) == 1


# ----------------------------------------------------------------------------- Chinese text


def _ink(text: str, font) -> np.ndarray:
    from PIL import Image, ImageDraw

    img = Image.new("L", (260, 60), 0)
    ImageDraw.Draw(img).text((4, 4), text, font=font, fill=255)
    return np.asarray(img) > 127


def test_chinese_text_draws_real_glyphs():
    src = find_cjk_font()
    assert src is not None, "the noto-cjk-sans-otc dependency (or a system CJK font) should be found"
    font, cjk = load_font(32)
    assert cjk
    text = _ink("躯干挺直", font)
    tofu = _ink("\u0378" * 4, font)  # an unassigned code point: the font's missing-glyph box
    assert text.sum() > 200 and tofu.sum() > 200
    assert not np.array_equal(text, tofu)
    # Each character draws its own shape, none of them the missing-glyph box.
    box = _ink("\u0378", font)
    cells = [_ink(ch, font) for ch in "躯干挺直"]
    assert len({c.tobytes() for c in cells}) == 4
    assert all(not np.array_equal(c, box) for c in cells)


def test_without_a_cjk_font_the_video_text_falls_back_to_english(monkeypatch, caplog):
    import posturecheck.annotate as A

    monkeypatch.delenv(A.FONT_ENV, raising=False)
    monkeypatch.setattr(A, "_package_font", lambda: None)
    monkeypatch.setattr(A, "SYSTEM_CJK_FONTS", ())
    A.find_cjk_font.cache_clear()
    A.load_font.cache_clear()
    try:
        report = {"lang": "zh", "duration_s": 1.0, "rules": [{"id": "standing.trunk_upright", "title": "身体挺直",
                                                             "status": "fail", "intervals": []}]}
        overlay = A.Overlay(report, None, "zh", (320, 240))
        assert overlay.lang == "en" and not overlay.painter.cjk
        assert overlay.tracks[0].title == "standing.trunk_upright"  # no Chinese title drawn as tofu
        assert "noto-cjk-sans-otc" in caplog.text
    finally:
        A.find_cjk_font.cache_clear()
        A.load_font.cache_clear()


def test_photo_review(tmp_path):
    """A photo gets an annotated JPEG and, when a rule fails, itself as the still (no timeline)."""
    photo = tmp_path / "pose.png"
    ok, buf = cv2.imencode(".png", np.full((640, 360, 3), 120, np.uint8))
    photo.write_bytes(buf.tobytes())
    leaning = S.to_landmarks(S.tilt_trunk_sideways(S.upright(), 16.0))
    analysis = analyze_path(photo, AnalyzeOptions(activity="standing"), estimator=ReplayEstimator([leaning]))
    result = write_review(analysis, tmp_path / "rep", ReviewOptions(lang="en"))
    out = Path(result.out_dir)
    assert cv2.imread(str(out / "annotated.jpg")) is not None
    assert "standing.trunk_upright" in result.failed_rules
    page = (out / REPORT_HTML).read_text(encoding="utf-8")
    assert "data:image/jpeg;base64," in page and "Timeline" not in page and "Time to standard" not in page
    assert len(read_csv(out / "frames.csv")) == 2
