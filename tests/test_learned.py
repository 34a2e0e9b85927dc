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


# ------------------------------------------------------------------------------ rendered fixtures

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "data" / "landmarks_full.npz"


@pytest.fixture(scope="module")
def renders():
    """The committed corpus landmarks (rendered characters, exact labels), a fixed sample per class."""
    z = np.load(CORPUS)
    meta = json.loads(str(z["meta"]))
    rng = np.random.default_rng(0)
    picks = rng.permutation(len(meta))[:800]
    out = []
    for i in picks:
        if not z["found"][i]:
            continue
        lm = PoseLandmarks(z["image"][i].astype(float), z["visibility"][i].astype(float),
                           z["presence"][i].astype(float), z["world"][i].astype(float),
                           (int(z["image_size"][i][0]), int(z["image_size"][i][1])))
        out.append((meta[i], compute_features(lm)))
    return out


# Share of each class's training renders the shipped networks read right. Measured on this sample
# with model 2.8b65dd17 and lowered by about 0.05 so that a broken pose vector, mirror or export
# fails. Recipe 2 stops the networks early on a validation split that no longer holds copies of
# the training renders, so they fit the renders less closely than recipe 1 did (which read ≥ 0.85
# of every class and generalised worse: held-out-character accuracy 0.60 → 0.65, temperature
# 5.4 → 1.5). In-pocket vs on-hip is the weakest pair on renders as on real photos.
RENDER_HAND_FLOORS = {"hanging": 0.85, "clasped_front": 0.70, "behind_back": 0.75, "crossed": 0.80,
                      "on_hip": 0.60, "in_pocket": 0.45, "raised": 0.65, "other": 0.75}


@pytest.mark.parametrize("place", list(RENDER_HAND_FLOORS))
def test_rendered_hand_places_of_every_class(renders, place):
    """The shipped networks read their renders of every class (this checks the pose vector, the
    mirror for the right hand and the exported weights agree; held-out figures are printed by
    scripts/train_classifiers.py: 0.65 accuracy on characters left out)."""
    seen = [(m, f) for m, f in renders for side in ("left", "right") if m[f"hand_{side}"] == place]
    right = sum(getattr(f, f"hand_{side}") == place
                for m, f in renders for side in ("left", "right") if m[f"hand_{side}"] == place)
    assert seen and right / len(seen) >= RENDER_HAND_FLOORS[place], f"{place}: {right}/{len(seen)}"


@pytest.mark.parametrize("activity, floor", [("standing", 0.90), ("sitting", 0.85), ("walking", 0.65)])
def test_rendered_activity_of_every_class(renders, activity, floor):
    items = [f for m, f in renders if m["activity"] == activity]
    assert items and sum(f.posture == activity for f in items) / len(items) >= floor


@pytest.mark.parametrize("stance, floor", [("v", 0.80), ("together", 0.70), ("parallel", 0.80), ("t", 0.90),
                                           ("apart_wide", 0.90)])
def test_rendered_feet_of_every_class(renders, stance, floor):
    items = [f for m, f in renders if m["activity"] == "standing" and m.get("feet") == stance and f.feet != "unknown"]
    assert items and sum(f.feet == stance for f in items) / len(items) >= floor


@pytest.mark.parametrize("crossed, floor", [(True, 0.60), (False, 0.95)])
def test_rendered_legs_crossed_both_ways(renders, crossed, floor):
    items = [f for m, f in renders if m["legs_crossed"] is crossed and f.legs_crossed is not None]
    assert items and sum(f.legs_crossed is crossed for f in items) / len(items) >= floor


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


def _found(dev, label: str, predicted, truth: bool) -> tuple[int, int]:
    items = [f for m, f in dev if m.get(label) is truth]
    return sum(bool(predicted(f)) for f in items), len(items)


# (label, prediction, least share of real positives found, most share of real negatives flagged).
# Measured on the dev landmarks with the shipped model 2.8b65dd17 (out-of-sample: the model saw
# renders only), then given a margin so that a regression fails. Low recalls are real weaknesses
# (see the README's figures), not targets. Against model 1 the pocket recall rose from 0.2 to 0.67
# (8/12) at 5/87 negatives flagged (was ≤ 0.05): its floor and ceiling moved with it.
REAL = [
    ("arms_crossed", lambda f: f.arms_crossed, 0.8, 0.05),
    ("hands_on_hips", lambda f: f.hands_on_hips, 0.25, 0.05),
    ("hands_in_pockets", lambda f: f.hands_in_pockets, 0.5, 0.08),
    ("hands_clasped_front", lambda f: "clasped_front" in (f.hand_left, f.hand_right), 0.6, 0.08),
    ("legs_crossed", lambda f: f.legs_crossed, 0.2, 0.12),
    ("arms_hanging", lambda f: (f.hand_left, f.hand_right) == ("hanging", "hanging"), 0.7, 0.15),
]


@pytest.mark.parametrize("label, predicted, min_recall, max_false", REAL, ids=[r[0] for r in REAL])
def test_real_fixtures_of_each_class(dev, label, predicted, min_recall, max_false):
    hit, n_pos = _found(dev, label, predicted, True)
    false, n_neg = _found(dev, label, predicted, False)
    assert n_pos > 0 and n_neg > 0
    assert hit / n_pos >= min_recall, f"{label}: found {hit}/{n_pos}"
    assert false / n_neg <= max_false, f"{label}: flagged {false}/{n_neg} negatives"


@pytest.mark.parametrize("activity, floor", [("standing", 0.8), ("sitting", 0.8), ("walking", 0.4)])
def test_real_activity_of_each_class(dev, activity, floor):
    items = [f for m, f in dev if m["activity"] == activity]
    right = sum(f.posture == activity for f in items)
    assert right / len(items) >= floor, f"{activity}: {right}/{len(items)}"


def test_stacked_ensemble_matches_each_network_on_its_own():
    """The batched pass (StackedClassifiers) gives every task's probabilities of the 25 networks
    run one by one, on random and on real-looking inputs, to 1e-9."""
    models = learned.shipped()
    stacked = learned.StackedClassifiers(models)
    rng = np.random.default_rng(3)
    x = np.vstack([rng.normal(0, 2, (64, learned.VECTOR_SIZE)),
                   learned.pose_vector(S.to_landmarks(S.upright()))[None, :]]).astype(np.float32)
    got = stacked.proba(x)
    for name, c in models.tasks.items():
        assert np.abs(got[name] - c.proba(x)).max() < 1e-9, name
    lm = S.to_landmarks(S.set_arm(S.upright(), "right", *S.ARM_RAISED))
    a, b = learned.predict(lm), learned.predict(lm, models)
    assert a is not None and b is not None
    for f in ("hand_left", "hand_right", "activity", "feet"):
        da, db = getattr(a, f), getattr(b, f)
        assert da.keys() == db.keys() and all(abs(da[k] - db[k]) < 1e-9 for k in da)
    assert abs(a.legs_crossed - b.legs_crossed) < 1e-9 and abs(a.trunk_lean - b.trunk_lean) < 1e-9
