"""Learned posture classifiers on landmark fixtures of every class, synthetic and real.

Synthetic: clean skeletons of tests/skeleton.py (exact geometry, several camera yaws).
Real: `tests/fixtures/dev_landmarks.npz` — the pose stage's landmarks of the dev
photos (scripts/extract_dev_landmarks.py; landmarks and labels only, no pixels).
The classifiers never saw either (they are trained on renders only), so the real
floors below are out-of-sample figures measured once, kept with a margin so that a
regression fails the test.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import skeleton as S
from posturecheck import learned
from posturecheck.features import compute_features
from posturecheck.landmarks import LM, PoseLandmarks

FIX = Path(__file__).resolve().parent / "fixtures"


def feats(body, **kw):
    return compute_features(S.to_landmarks(body, **kw))


def both_arms(body, arm):
    return S.set_arm(S.set_arm(body, "left", *arm), "right", *arm)


def test_shipped_models_load_and_describe_themselves():
    models = learned.shipped()
    assert set(models.tasks) == {"hand", "legs_crossed", "trunk_lean", "activity", "feet"}
    assert models.meta["trained_on"].startswith("rendered characters only")
    assert models.version
    p = models["hand"].proba(np.zeros((2, learned.VECTOR_SIZE), dtype=np.float32))
    assert p.shape == (2, len(models["hand"].classes)) and np.allclose(p.sum(axis=1), 1.0)


def test_mirror_swaps_the_hands():
    lm = S.to_landmarks(S.set_arm(S.upright(), "right", *S.ARM_RAISED))
    m = learned.mirror(lm)
    assert m.image[LM.LEFT_WRIST, 1] == pytest.approx(lm.image[LM.RIGHT_WRIST, 1])
    assert m.image[LM.LEFT_WRIST, 0] == pytest.approx(1.0 - lm.image[LM.RIGHT_WRIST, 0])
    assert learned.mirror(m).image == pytest.approx(lm.image)


def test_probabilities_are_probabilities():
    p = learned.predict(S.to_landmarks(S.upright()))
    assert p is not None
    for d in (p.hand_left, p.hand_right, p.activity, p.feet):
        assert sum(d.values()) == pytest.approx(1.0)
    assert 0.0 <= p.legs_crossed <= 1.0 and 0.0 <= p.trunk_lean <= 1.0
    assert learned.predict(S.to_landmarks(S.upright(), world=False)) is None


# ------------------------------------------------------------------------------ synthetic fixtures

@pytest.mark.parametrize("arm, place", [
    (S.ARM_RAISED, "raised"), (S.ARM_ON_HIP, "on_hip"), (S.ARM_CROSSED, "crossed"),
    (S.ARM_CLASPED, "clasped_front"),
])
def test_synthetic_hand_places_front(arm, place):
    f = feats(both_arms(S.upright(), arm))
    assert (f.hand_left, f.hand_right) == (place, place)


def test_synthetic_upright_standing():
    f = feats(S.upright())
    assert (f.hand_left, f.hand_right) == ("hanging", "hanging")
    assert f.posture == "standing"
    assert f.arms_crossed is False and f.hands_on_hips is False and f.legs_crossed is False
    assert f.trunk_lean_p < 0.5


def test_synthetic_sitting_is_sitting():
    assert feats(S.sit(S.upright())).posture == "sitting"


def test_synthetic_one_hand_on_hip_sets_the_flag():
    f = feats(S.set_arm(S.upright(), "right", *S.ARM_ON_HIP))
    assert f.hand_right == "on_hip" and f.hand_left == "hanging"
    assert f.hands_on_hips is True and f.hands_on_hips_p > 0.5


def test_arm_out_of_the_frame_is_unknown():
    lm = S.to_landmarks(S.upright())
    image = lm.image.copy()
    for i in (LM.LEFT_SHOULDER, LM.LEFT_ELBOW, LM.LEFT_WRIST, LM.LEFT_PINKY, LM.LEFT_INDEX, LM.LEFT_THUMB):
        image[i, 0] = 1.2  # beyond the right edge of the picture
    f = compute_features(lm.replace_image(image))
    assert f.hand_left == "unknown" and f.hand_left_conf is None
    assert f.hand_right != "unknown"


# ---------------------------------------------------------------------------------- real fixtures

def _dev_items() -> list[tuple[dict, PoseLandmarks]]:
    z = np.load(FIX / "dev_landmarks.npz")
    meta = json.loads(str(z["meta"]))
    out = []
    for i, m in enumerate(meta):
        if not z["found"][i]:
            continue
        out.append((m, PoseLandmarks(z["image"][i].astype(float), z["visibility"][i].astype(float),
                                     z["presence"][i].astype(float), z["world"][i].astype(float),
                                     (int(z["image_size"][i][0]), int(z["image_size"][i][1])))))
    return out


@pytest.fixture(scope="module")
def dev():
    return [(m, compute_features(lm)) for m, lm in _dev_items()]


def _recall(dev, label: str, predicted) -> tuple[int, int]:
    pos = [f for m, f in dev if m.get(label) is True]
    return sum(bool(predicted(f)) for f in pos), len(pos)


# (label, prediction, minimum share of the real positives found) — measured once, out-of-sample
REAL_POSITIVES = [
    ("arms_crossed", lambda f: f.arms_crossed, 0.6),
    ("hands_on_hips", lambda f: f.hands_on_hips, 0.5),
    ("hands_in_pockets", lambda f: f.hands_in_pockets, 0.4),
    ("legs_crossed", lambda f: f.legs_crossed, 0.4),
    ("arms_hanging", lambda f: (f.hand_left, f.hand_right) == ("hanging", "hanging"), 0.6),
]


@pytest.mark.parametrize("label, predicted, floor", REAL_POSITIVES, ids=[r[0] for r in REAL_POSITIVES])
def test_real_positives_of_each_class_are_found(dev, label, predicted, floor):
    hit, n = _recall(dev, label, predicted)
    assert n > 0
    assert hit / n >= floor, f"{label}: {hit}/{n}"


@pytest.mark.parametrize("activity", ["standing", "sitting", "walking"])
def test_real_activity_of_each_class(dev, activity):
    items = [f for m, f in dev if m["activity"] == activity]
    right = sum(f.posture == activity for f in items)
    assert right / len(items) >= 0.6, f"{activity}: {right}/{len(items)}"
