"""Checks of the bundled HandLandmarker .task (built by posturecheck.models.build_hand) and of
the hand stage with the real model on dev photos (skipped when ../shared is absent)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import test_offline as offline
from test_models import model_metadata, normalization, zip_data_offsets

from mediapipe.tasks.metadata import schema_py_generated as tflschema

from posturecheck.hands import HAND_MODEL_PATH, HandEstimator, HandEstimatorOptions, hand_model_path
from posturecheck.landmarks import LM, PoseLandmarks
from posturecheck.models import MODELS_DIR, ModelNotFoundError

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "posturecheck" / "models"
BUNDLE = MODELS / "hand_landmarker.task"
DEV = REPO.parent / "shared" / "data" / "dev"
FIXTURES = REPO / "tests" / "fixtures" / "hands"
ENTRIES = ("hand_detector.tflite", "hand_landmarks_detector.tflite")
needs_dev = pytest.mark.skipif(not DEV.is_dir(), reason=f"dev photos not found at {DEV} "
                               "(shared/ is not checked out beside the repo)")


def hand_record() -> dict:
    return json.loads((MODELS / "models.json").read_text())["hand"]


def entry(name: str) -> bytes:
    with zipfile.ZipFile(BUNDLE) as zf:
        return zf.read(name)


def test_bundle_exists_and_matches_manifest() -> None:
    assert BUNDLE.is_file(), f"{BUNDLE} missing: run python -m posturecheck.models.build_hand"
    assert HAND_MODEL_PATH == BUNDLE.resolve() and Path(hand_model_path()).parent == MODELS_DIR
    record = hand_record()
    data = BUNDLE.read_bytes()
    assert record["file"] == BUNDLE.name and record["size"] == len(data)
    assert record["sha256"] == hashlib.sha256(data).hexdigest()
    for name in ENTRIES:
        assert record["entries"][name]["sha256"] == hashlib.sha256(entry(name)).hexdigest(), name
        (src,) = record["entries"][name]["sources"]
        assert src["package"] == "mediapipe==0.10.21" and src["registry"] == "PyPI"
    md = (MODELS / "MODELS.md").read_text()
    assert record["sha256"] in md and "hand_landmark_full.tflite" in md and "palm_detection_full.tflite" in md
    assert "Apache License" in (MODELS / "LICENSE-MODELS").read_text()


def test_bundle_layout_is_stored_and_aligned() -> None:
    offsets = zip_data_offsets(BUNDLE)
    assert sorted(offsets) == sorted(ENTRIES)
    assert all(off % 64 == 0 for off in offsets.values()), offsets
    for name in ENTRIES:
        root = tflschema.Model.GetRootAs(entry(name), 0)
        for i in range(root.BuffersLength()):
            buf = root.Buffers(i)
            if buf.DataLength():
                assert buf._tab.Vector(buf._tab.Offset(4)) % 16 == 0, (name, i)


def test_models_shapes_and_metadata_are_what_the_tasks_graphs_expect() -> None:
    """HandDetectorGraph: 192 px input, 2016 boxes x 18; HandLandmarksDetectorGraph splits
    the outputs by index as (landmarks 63, presence, handedness, world 63); both read the
    input range from NormalizationOptions (0..1 here)."""
    shapes = {}
    for name in ENTRIES:
        root = tflschema.Model.GetRootAs(entry(name), 0)
        sg = root.Subgraphs(0)
        shapes[name] = ([sg.Tensors(sg.Inputs(i)).ShapeAsNumpy().tolist() for i in range(sg.InputsLength())],
                        [sg.Tensors(sg.Outputs(i)).ShapeAsNumpy().tolist() for i in range(sg.OutputsLength())])
        meta = model_metadata(entry(name))
        assert meta is not None, name
        mean, std = normalization(meta)
        assert set(mean) == {0.0} and set(std) == {255.0}, name
    assert shapes[ENTRIES[0]] == ([[1, 192, 192, 3]], [[1, 2016, 18], [1, 2016, 1]])
    assert shapes[ENTRIES[1]] == ([[1, 224, 224, 3]], [[1, 63], [1, 1], [1, 1], [1, 63]])
    meta = model_metadata(entry(ENTRIES[1]))
    names = [t.name.decode() for t in meta.subgraphMetadata[0].outputTensorMetadata]
    assert names == ["landmarks", "presense score", "handedness", "world landmarks"]


def test_missing_model_gives_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="hand model file not found"):
        HandEstimator(HandEstimatorOptions(model_path=str(tmp_path / "nope.task")))


def test_build_is_reproducible_from_the_cached_wheel(tmp_path: Path) -> None:
    """Rebuilding from the wheel already in the build cache gives the shipped bytes (never downloads)."""
    from posturecheck.models.build import WHEEL_NAME, default_cache_dir
    from posturecheck.models.build_hand import build_hand_bundle

    if not (default_cache_dir() / WHEEL_NAME).is_file():
        pytest.skip(f"{WHEEL_NAME} not in {default_cache_dir()} (the build would download it)")
    path = build_hand_bundle(tmp_path, default_cache_dir())
    assert hashlib.sha256(path.read_bytes()).hexdigest() == hand_record()["sha256"]


def test_estimator_contract_without_a_pose() -> None:
    """Fail fast on a bad frame; no pose, no crop; VIDEO mode wants increasing timestamps; closed is closed."""
    rgb = np.zeros((120, 160, 3), np.uint8)
    with HandEstimator(HandEstimatorOptions(running_mode="video")) as est:
        with pytest.raises(ValueError, match="uint8"):
            est.detect(rgb.astype(np.float32), 0)
        result = est.detect(rgb, 10, None)
        assert result.left is None and result.right is None and result.crops == ()
        with pytest.raises(ValueError, match="increase"):
            est.detect(rgb, 10, None)
        assert est.run_image(rgb) == []  # a black image has no hand
    with pytest.raises(RuntimeError, match="closed"):
        est.detect(rgb, 20, None)


def _photo(source: str) -> np.ndarray:
    from posturecheck.sources import read_image

    return read_image(REPO.parent / source)


@needs_dev
def test_whole_frame_hand_landmarker_finds_a_hand_at_the_pose_wrist() -> None:
    """The bundle in the plain Tasks HandLandmarker: 21 points, the wrist point where the pose has a wrist."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from posturecheck.native import block_telemetry

    rec = json.loads((FIXTURES / "img_moore_man_red_jacket.json").read_text())
    pose = PoseLandmarks.from_dict(rec["pose"])
    rgb = _photo(rec["source"])
    block_telemetry()
    options = vision.HandLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(BUNDLE)),
                                           running_mode=vision.RunningMode.IMAGE, num_hands=2)
    with vision.HandLandmarker.create_from_options(options) as landmarker:
        result = landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
    assert len(result.hand_landmarks) == 2
    h, w = rgb.shape[:2]
    wrists = [np.array([lms[0].x * w, lms[0].y * h]) for lms in result.hand_landmarks]
    assert all(len(lms) == 21 for lms in result.hand_landmarks)
    assert {c[0].category_name for c in result.handedness} == {"Left", "Right"}
    forearm = float(np.linalg.norm(pose.px[LM.LEFT_ELBOW] - pose.px[LM.LEFT_WRIST]))
    for idx in (LM.LEFT_WRIST, LM.RIGHT_WRIST):
        assert min(float(np.linalg.norm(wr - pose.px[idx])) for wr in wrists) < 0.35 * forearm


@needs_dev
@pytest.mark.parametrize("photo_id", sorted(p.stem for p in FIXTURES.glob("*.json")))
def test_hand_stage_on_the_photo_matches_its_fixture(photo_id: str) -> None:
    """The model still gives the committed fixture's hands (so the logic tests replay real answers)."""
    rec = json.loads((FIXTURES / f"{photo_id}.json").read_text())
    pose = PoseLandmarks.from_dict(rec["pose"])
    with HandEstimator(HandEstimatorOptions(**rec["options"])) as est:
        result = est.detect(_photo(rec["source"]), 0, pose)
    assert result.hands_seen == rec["hands_seen"]
    for side in ("left", "right"):
        hand, want = result.side(side), rec[side]
        assert (hand is None) == (want is None), side
        if hand is not None:
            err = np.abs(hand.points[:, :2] - np.array(want["points"])[:, :2]).max()
            assert err < 0.02 * hand.crop.size, (side, err)


HAND_STAGE = """
import json, time, numpy as np
from posturecheck.hands import HandEstimator
from posturecheck.landmarks import PoseLandmarks
pose = PoseLandmarks.from_dict(json.load(open(%r))["pose"])
w, h = pose.image_size
with HandEstimator() as est:
    result = est.detect(np.zeros((h, w, 3), np.uint8), 0, pose)
    print("CROPS", len(result.crops))
time.sleep(%f)
"""


@offline.needs_netns
def test_hand_stage_resolves_no_name(tmp_path: Path) -> None:
    """Run inside a network namespace whose only resolver logs every lookup (tests/test_offline.py;
    its positive control shows the bare Tasks runtime looks up its logging host): the hand stage
    loads its bundle from the package and looks up no host."""
    probe = offline.Probe(tmp_path)
    try:
        code = HAND_STAGE % (str(FIXTURES / "img_moore_man_red_jacket.json"), offline.SETTLE_S)
        res = subprocess.run(probe.cmd(sys.executable, "-c", code), env=offline.env(tmp_path / "home"),
                             capture_output=True, text=True, timeout=180)
        assert "CROPS 2" in res.stdout, res.stderr[-2000:]
        assert probe.names() == []
    finally:
        probe.close()
