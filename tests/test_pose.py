"""Pose stage: trainee selection (pure), estimator misuse, and the real model on real photos."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from posturecheck.landmarks import PoseLandmarks
from posturecheck.models import ModelNotFoundError, pose_model_path
from posturecheck.pose import PoseEstimator, PoseEstimatorOptions, ReplayEstimator, select_trainee
from posturecheck.sources import read_image

DEV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dev"
needs_dev = pytest.mark.skipif(not DEV.is_dir(), reason="../shared/data/dev (real dev media) is not beside the project")


def person(cx: float, cy: float, height: float, size=(1000, 1000)) -> PoseLandmarks:
    """A stick figure: 33 points spread over a box centred at (cx, cy) of the given height (normalised)."""
    rng = np.random.default_rng(0)
    pts = np.column_stack([cx + (rng.random(33) - 0.5) * height * 0.4,
                           cy + (rng.random(33) - 0.5) * height, np.zeros(33)])
    return PoseLandmarks(pts, np.ones(33), np.ones(33), None, size)


def test_select_largest_and_most_central():
    small_centre = person(0.5, 0.5, 0.3)
    big_edge = person(0.1, 0.5, 0.5)
    big_centre = person(0.55, 0.5, 0.6)
    assert select_trainee([small_centre, big_edge, big_centre]) == 2
    # same size: the central one wins
    assert select_trainee([person(0.1, 0.5, 0.5), person(0.5, 0.5, 0.5)]) == 1


def test_keeps_the_same_person_across_frames():
    trainee = person(0.3, 0.5, 0.4)
    newcomer = person(0.55, 0.5, 0.7)  # bigger and more central
    assert select_trainee([newcomer, trainee]) == 0  # first frame: the newcomer would be chosen
    assert select_trainee([newcomer, person(0.31, 0.5, 0.4)], previous=trainee) == 1  # but we follow the trainee


def test_select_needs_people():
    with pytest.raises(ValueError):
        select_trainee([])


def test_options_fail_fast():
    with pytest.raises(ValueError):
        PoseEstimatorOptions(running_mode="live")
    with pytest.raises(ValueError):
        PoseEstimatorOptions(num_poses=0)
    with pytest.raises(ModelNotFoundError):
        pose_model_path("/nowhere/model.task")
    with pytest.raises(ModelNotFoundError, match="models --build heavy"):
        import os
        os.environ["POSTURECHECK_HOME"] = "/nonexistent-posturecheck-home"
        try:
            pose_model_path("heavy")
        finally:
            del os.environ["POSTURECHECK_HOME"]


def test_replay_estimator():
    lm = person(0.5, 0.5, 0.5)
    with ReplayEstimator([lm, None], loop=False) as est:
        assert est.detect(np.zeros((4, 4, 3), np.uint8), 0).person is lm
        assert est.detect(np.zeros((4, 4, 3), np.uint8), 1).person is None
    with pytest.raises(RuntimeError):
        est.detect(np.zeros((4, 4, 3), np.uint8), 2)


def test_video_mode_misuse_is_refused():
    frame = np.zeros((120, 160, 3), np.uint8)
    with PoseEstimator(PoseEstimatorOptions(model="lite", running_mode="video")) as est:
        assert est.detect(frame, 0).person is None  # no person in a black frame
        est.detect(frame, 33)
        with pytest.raises(ValueError, match="increase"):
            est.detect(frame, 33)
        with pytest.raises(ValueError):
            est.detect(np.zeros((120, 160), np.uint8), 66)
    with pytest.raises(RuntimeError, match="closed"):
        est.detect(frame, 100)


def test_unclosed_estimator_exits_cleanly():
    code = ("from posturecheck.pose import PoseEstimator\nfrom posturecheck.face import FaceEstimator\n"
            "est = PoseEstimator()\nface = FaceEstimator()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    assert "TypeError" not in proc.stderr and "Traceback" not in proc.stderr


@needs_dev
@pytest.mark.parametrize("model", ["lite", "full"])
def test_real_photo_image_mode(model):
    rgb = read_image(DEV / "img_imper_women1.jpg")
    with PoseEstimator(PoseEstimatorOptions(model=model, running_mode="image")) as est:
        res = est.detect(rgb)
    assert res.person is not None and res.people_seen == 1
    lm = res.person
    assert lm.world is not None and lm.image_size == (rgb.shape[1], rgb.shape[0])
    # nose above hips above ankles, in a standing photo
    y = lm.image[:, 1]
    assert y[0] < y[23] < y[27]


@needs_dev
def test_group_photo_counts_others():
    rgb = read_image(DEV / "img_openpose_wii_standing.jpg")
    with PoseEstimator(PoseEstimatorOptions(model="full", running_mode="image", num_poses=5)) as est:
        res = est.detect(rgb)
    assert res.people_seen >= 2 and len(res.others) >= 1


@needs_dev
def test_videos_track_one_pose_and_count_the_others_periodically():
    """VIDEO mode with num_poses=2 tracks one pose per frame and counts everyone on the whole
    frame at most every people_check_interval_ms (and on the first frame); the count is held
    in between, so a second person is still reported on every frame."""
    rgb = read_image(DEV / "img_openpose_wii_standing.jpg", max_side=960)
    opts = PoseEstimatorOptions(model="full", running_mode="video", num_poses=2, people_check_interval_ms=1000)
    with PoseEstimator(opts) as est:
        results = [est.detect(rgb, ts) for ts in (0, 100, 200, 1100)]
        counts = est._crop_landmarker is not None
    assert counts and all(r.person is not None for r in results)
    assert all(r.people_seen >= 2 for r in results)
    # one tracker run per frame, plus the whole-frame count on frames 0 and 1100 (no crop re-detection here)
    assert est.runs in (4 + 2, 4 + 2 + 1, 4 + 2 + 2)
