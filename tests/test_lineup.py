"""Line-up inspection (issue 13 part 2): everyone in the frame judged, left to right, in text, JSON and HTML.

Replayed skeletons test the logic without a model; a real group photo from ../shared (skipped
with a reason when it is absent) tests the real pose and face stages end to end.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from posturecheck.analyze import AnalyzeOptions
from posturecheck.htmlreport import render_lineup_html
from posturecheck.lineup import SCHEMA, inspect_lineup, lineup_json, person_box
from posturecheck.pose import PoseResult
from skeleton import FRAME, set_arm, tilt_shoulders, to_landmarks, upright

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "data" / "dev"
GROUP = DEV / "img_econ_group5_handonhip.jpg"   # five people standing in a row (labels.json: n_people 5)
ANALYSIS_KEYS = {"schema", "source", "kind", "frames_analyzed", "person_found", "people_seen", "activity", "view",
                 "score", "rules", "observations", "warnings"}


class LineReplay:
    """A pose estimator that 'finds' fixed skeletons on every frame (trainee first, as PoseEstimator does)."""

    def __init__(self, people: list) -> None:
        self.people = people
        self.calls = 0

    def detect(self, rgb: np.ndarray, timestamp_ms: int = 0) -> PoseResult:
        self.calls += 1
        if not self.people:
            return PoseResult(timestamp_ms, None, 0)
        return PoseResult(timestamp_ms, self.people[0], len(self.people), tuple(self.people[1:]))

    def close(self) -> None:
        pass


def _frame_file(tmp_path: Path, name: str = "line.png") -> Path:
    w, h = FRAME
    path = tmp_path / name
    cv2.imwrite(str(path), np.full((h, w, 3), 200, np.uint8))
    return path


def _people() -> list:
    """Three skeletons, given out of order: shoulders tilted in the middle, arms crossed on the right."""
    crossed = set_arm(set_arm(upright(), "left", (0.05, -0.25, -0.15), (-0.12, -0.27, -0.18)),
                      "right", (-0.05, -0.25, -0.15), (0.12, -0.27, -0.18))
    return [to_landmarks(tilt_shoulders(upright(), 10.0), offset_px=(0.0, 0.0)),
            to_landmarks(crossed, offset_px=(230.0, 0.0)),
            to_landmarks(upright(), offset_px=(-230.0, 0.0))]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_everyone_is_judged_left_to_right_in_the_analysis_shape(tmp_path, lang):
    estimator = LineReplay(_people())
    lineup = inspect_lineup(_frame_file(tmp_path), AnalyzeOptions(face=False), estimator=estimator)
    data = lineup_json(lineup, lang)
    assert data["schema"] == SCHEMA and data["people_found"] == 3 and data["kind"] == "image"
    assert [p["position"] for p in data["people"]] == [1, 2, 3]
    lefts = [p["box"]["x0"] for p in data["people"]]
    assert lefts == sorted(lefts) and len(set(lefts)) == 3
    for p in data["people"]:
        assert ANALYSIS_KEYS <= set(p) and p["schema"] == "posturecheck.analysis/1"
        assert p["person_found"] and p["people_seen"] == 1  # each judged as a photo of them alone
        box = p["box"]
        assert 0 <= box["x0"] < box["x1"] <= FRAME[0] and 0 <= box["y0"] < box["y1"] <= FRAME[1]
    status = {p["position"]: {r["id"]: r["status"] for r in p["rules"]} for p in data["people"]}
    # left: upright; middle: shoulders tilted 10 degrees; right: arms crossed
    assert [status[n]["standing.shoulders_level"] for n in (1, 2, 3)] == ["pass", "fail", "pass"]
    assert status[3]["posture.arms_crossed"] == "fail" and status[1]["posture.arms_crossed"] != "fail"
    json.dumps(data, ensure_ascii=False)  # plain JSON, no pixels
    assert "crop" not in json.dumps(data)


def test_nobody_in_the_frame_is_a_warning_not_an_error(tmp_path):
    lineup = inspect_lineup(_frame_file(tmp_path), AnalyzeOptions(face=False), estimator=LineReplay([]))
    data = lineup_json(lineup, "zh")
    assert data["people_found"] == 0 and data["people"] == []
    assert data["warnings"] == ["没有找到人：请确认学员在画面内且光线充足。"]


def test_a_clip_is_inspected_at_the_sampled_frame_with_most_people(tmp_path):
    path = tmp_path / "line.avi"
    w, h = FRAME
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (w, h))
    for i in range(40):
        writer.write(np.full((h, w, 3), i * 5, np.uint8))
    writer.release()
    people = _people()

    class Growing(LineReplay):
        """One person on the first samples, all three from the fourth sample on."""

        def detect(self, rgb, timestamp_ms=0):
            self.people = people if self.calls >= 3 else people[:1]
            return super().detect(rgb, timestamp_ms)

    est = Growing([])
    lineup = inspect_lineup(path, AnalyzeOptions(face=False), estimator=est)
    assert lineup.kind == "video" and len(lineup.people) == 3
    assert est.calls == 8  # LINEUP_CLIP_SAMPLES frames looked at, evenly spaced
    assert lineup.frame_index == 15 and lineup.timestamp_ms == 1500  # the 4th sample of every 5th frame


def test_person_box_is_the_visible_body_with_a_margin_inside_the_frame():
    lm = to_landmarks(upright())
    x0, y0, x1, y1 = person_box(lm, FRAME)
    px = lm.image[:, :2] * np.array(FRAME)
    assert x0 < px[:, 0].min() and x1 > px[:, 0].max() and y0 < px[:, 1].min() and y1 > px[:, 1].max()
    far = to_landmarks(upright(), offset_px=(-340.0, 0.0))  # half out of the frame on the left
    assert person_box(far, FRAME)[0] == 0


def test_html_page_has_one_card_and_crop_per_person_and_no_other_pixels(tmp_path):
    lineup = inspect_lineup(_frame_file(tmp_path), AnalyzeOptions(face=False), estimator=LineReplay(_people()))
    crops = {p.position: p.crop_jpeg for p in lineup.people}
    assert all(c[:2] == b"\xff\xd8" for c in crops.values())  # JPEG
    page = render_lineup_html(lineup_json(lineup, "zh"), crops)
    assert page.count('class="card person"') == 3 and page.count("data:image/jpeg;base64,") == 3
    for n in (1, 2, 3):
        assert f"左起第 {n} 人" in page
    shown = re.findall(r"data:image/jpeg;base64,([A-Za-z0-9+/=]+)", page)
    assert sorted(base64.b64decode(s) for s in shown) == sorted(crops.values())
    assert "班前会仪容仪表检查" in page and "@font-face" in page  # Chinese brings its own font


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8"}
    return subprocess.run([sys.executable, "-m", "posturecheck", "lineup", *args], env=env, capture_output=True,
                          text=True, timeout=600)


def test_cli_bad_file_is_one_line_in_the_users_language(tmp_path):
    bad = tmp_path / "坏照片.jpg"
    bad.write_bytes(b"not a photo")
    res = _cli(str(bad), "--lang", "zh")
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.strip().count("\n") == 0 and "坏照片.jpg" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.skipif(not GROUP.is_file(), reason="needs ../shared/data/dev (the group photo is not in the repo)")
def test_real_group_photo_finds_the_line_and_writes_the_page(tmp_path):
    out = tmp_path / "班前会" / "line.html"
    res = _cli(str(GROUP), "--format", "json", "--lang", "en", "--standard", "women", "--html", str(out))
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    present = 5
    assert 4 <= data["people_found"] <= present  # the pose stage's tiles find the people of the line
    lefts = [p["box"]["x0"] for p in data["people"]]
    assert lefts == sorted(lefts)
    judged = [r for p in data["people"] for r in p["rules"] if r["status"] != "unknown"]
    assert any(r["id"].startswith("grooming.") for r in judged)  # faces found per person
    page = out.read_text(encoding="utf-8")
    assert page.count("data:image/jpeg;base64,") == data["people_found"]
