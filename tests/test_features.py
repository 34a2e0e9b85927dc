"""Features on synthetic skeletons with known geometry (see tests/skeleton.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import skeleton as S
from posturecheck.features import (
    FEET_STANCES, HAND_PLACES, NEUTRAL_TRUNK_LEAN_DEG, VIEWS, LandmarkSmoother, OneEuroFilter, angle_deg,
    compute_features, estimate_view, tilt_from_horizontal_deg, tilt_from_vertical_deg,
)
from posturecheck.landmarks import LM

HANDS = (LM.LEFT_WRIST, LM.RIGHT_WRIST, LM.LEFT_PINKY, LM.RIGHT_PINKY, LM.LEFT_INDEX, LM.RIGHT_INDEX,
         LM.LEFT_THUMB, LM.RIGHT_THUMB)


def feats(body, **kw):
    return compute_features(S.to_landmarks(body, **kw))


def both_arms(body, arm):
    return S.set_arm(S.set_arm(body, "left", *arm), "right", *arm)


# ---------------------------------------------------------------------------------- helpers

def test_angle_helpers():
    assert angle_deg((1, 0), (0, 0), (0, 1)) == pytest.approx(90.0)
    assert angle_deg((0, -1, 0), (0, 0, 0), (0, 1, 0)) == pytest.approx(180.0)
    assert math.isnan(angle_deg((0, 0), (0, 0), (1, 0)))
    assert tilt_from_vertical_deg((0, 10), (0, 0)) == pytest.approx(0.0)
    assert tilt_from_vertical_deg((0, 10), (10, 0)) == pytest.approx(45.0)
    assert tilt_from_vertical_deg((0, 10), (-10, 0)) == pytest.approx(45.0)  # unsigned
    assert tilt_from_horizontal_deg((0, 0), (10, 0)) == pytest.approx(0.0)
    assert tilt_from_horizontal_deg((10, 0), (0, 10)) == pytest.approx(45.0)


# ---------------------------------------------------------------------------- upright front

def test_upright_front_measures_neutral():
    f = feats(S.upright())
    assert f.view == "front" and f.body_yaw_deg == pytest.approx(0.0, abs=0.5)
    assert f.body_size_px == pytest.approx(S.BODY_SIZE_PX, rel=0.01)
    assert f.trunk_tilt_deg == pytest.approx(0.0, abs=0.5)
    assert f.trunk_lateral_deg == pytest.approx(0.0, abs=0.5)
    assert f.trunk_lean_deg is None  # sagittal lean needs a side view
    assert f.shoulder_tilt_deg == pytest.approx(0.0, abs=0.5)
    assert f.head_roll_deg == pytest.approx(0.0, abs=0.5)
    assert f.head_pitch_deg == pytest.approx(0.0, abs=1.0)
    assert f.head_yaw_deg == pytest.approx(0.0, abs=1.0)
    assert f.knee_angle_min_deg == pytest.approx(180.0, abs=0.5)
    assert f.ankle_gap_sw == pytest.approx(0.2 / S.SHOULDER_WIDTH_M, rel=0.02)
    assert f.full_body_visible is True
    # the learned observations (tests/test_learned.py) are filled in and in their vocabularies
    assert f.view in VIEWS and f.feet in FEET_STANCES and f.hand_left in HAND_PLACES
    assert 0.0 <= f.legs_crossed_p <= 1.0 and 0.0 <= f.arms_crossed_p <= 1.0


@pytest.mark.parametrize("yaw, view", [(0, "front"), (20, "front"), (45, "oblique"), (90, "side"),
                                       (-90, "side"), (135, "oblique"), (180, "back"), (-165, "back")])
def test_view_from_yaw(yaw, view):
    v, y = estimate_view(S.to_landmarks(S.yaw(S.upright(), yaw)))
    assert v == view
    assert ((y - yaw + 180) % 360) - 180 == pytest.approx(0.0, abs=1.0)


def test_yaw_sign_turned_left_faces_image_right():
    lm = S.to_landmarks(S.yaw(S.upright(), 90))
    assert lm.px[LM.NOSE, 0] > lm.px[LM.LEFT_EAR, 0]  # construction check: faces image right
    assert estimate_view(lm)[1] == pytest.approx(90.0, abs=1.0)


def test_view_without_world_uses_image_order():
    assert estimate_view(S.to_landmarks(S.upright(), world=False))[0] == "front"
    assert estimate_view(S.to_landmarks(S.yaw(S.upright(), 180), world=False))[0] == "back"
    assert estimate_view(S.to_landmarks(S.yaw(S.upright(), 90), world=False))[0] == "side"


@pytest.mark.parametrize("yaw", [0, 45, 90, 180])
def test_body_size_is_shoulder_width_in_every_view(yaw):
    assert feats(S.yaw(S.upright(), yaw)).body_size_px == pytest.approx(S.BODY_SIZE_PX, rel=0.02)


def test_body_size_without_world():
    f = compute_features(S.to_landmarks(S.upright(), world=False))
    assert f.body_size_px == pytest.approx(S.BODY_SIZE_PX, rel=0.02)


# ------------------------------------------------------------------------------------ trunk

@pytest.mark.parametrize("yaw", [90, -90])
def test_trunk_lean_forward_and_back_from_the_side(yaw):
    fwd = feats(S.yaw(S.lean_trunk(S.upright(), 12), yaw))
    assert fwd.view == "side"
    # lean is measured from MediaPipe's upright neutral (NEUTRAL_TRUNK_LEAN_DEG), the tilt is its size
    n = NEUTRAL_TRUNK_LEAN_DEG
    assert fwd.trunk_lean_deg == pytest.approx(12.0 - n, abs=0.5)
    assert fwd.trunk_tilt_deg == pytest.approx(abs(12.0 - n), abs=0.5)
    back = feats(S.yaw(S.lean_trunk(S.upright(), -10), yaw))
    assert back.trunk_lean_deg == pytest.approx(-10.0 - n, abs=0.5)
    assert fwd.trunk_lateral_deg is None and fwd.shoulder_tilt_deg is None


def test_trunk_lean_direction_from_feet_when_head_hidden():
    body = S.yaw(S.lean_trunk(S.upright(), 12), -90)
    f = feats(body, hidden=range(0, 11), world=False)
    assert f.trunk_lean_deg == pytest.approx(12.0 - NEUTRAL_TRUNK_LEAN_DEG, abs=0.5)


@pytest.mark.parametrize("yaw", [0, 180])
def test_trunk_lateral_sign_follows_the_persons_left(yaw):
    f = feats(S.yaw(S.tilt_trunk_sideways(S.upright(), 12), yaw))
    assert f.trunk_tilt_deg == pytest.approx(12.0, abs=0.5)
    assert f.trunk_lateral_deg == pytest.approx(12.0, abs=0.5)
    g = feats(S.yaw(S.tilt_trunk_sideways(S.upright(), -7), yaw))
    assert g.trunk_lateral_deg == pytest.approx(-7.0, abs=0.5)


@pytest.mark.parametrize("yaw", [0, 40, 180])
def test_shoulder_tilt_corrected_for_yaw(yaw):
    f = feats(S.yaw(S.tilt_shoulders(S.upright(), 6), yaw))
    assert f.shoulder_tilt_deg == pytest.approx(6.0, abs=0.5)


# ------------------------------------------------------------------------------------- head

def test_head_roll_pitch_yaw():
    b = S.upright()
    assert feats(S.roll_head(b, 10)).head_roll_deg == pytest.approx(10.0, abs=0.5)
    assert feats(S.pitch_head(b, 20)).head_pitch_deg == pytest.approx(20.0, abs=1.0)
    assert feats(S.pitch_head(b, -20)).head_pitch_deg == pytest.approx(-20.0, abs=1.0)
    assert feats(S.turn_head(b, 30)).head_yaw_deg == pytest.approx(30.0, abs=2.0)
    assert feats(S.turn_head(b, -30)).head_yaw_deg == pytest.approx(-30.0, abs=2.0)


def test_head_pitch_from_the_side_and_yaw_relative_to_trunk():
    f = feats(S.yaw(S.pitch_head(S.upright(), -25), 90))
    assert f.head_pitch_deg == pytest.approx(-25.0, abs=1.0)
    assert f.head_roll_deg is None  # eye line cannot be seen from the side
    g = feats(S.yaw(S.turn_head(S.upright(), 20), -90))
    assert g.head_yaw_deg == pytest.approx(20.0, abs=2.0)


def test_head_roll_in_oblique_view_is_corrected():
    f = feats(S.yaw(S.roll_head(S.upright(), 8), 40))
    assert f.view == "oblique"
    assert f.head_roll_deg == pytest.approx(8.0, abs=1.0)


def test_head_measures_none_from_behind_or_when_hidden():
    f = feats(S.yaw(S.upright(), 180))
    assert f.head_roll_deg is None and f.head_pitch_deg is None
    g = feats(S.upright(), hidden=range(0, 11))
    assert g.head_roll_deg is None and g.head_pitch_deg is None and g.head_yaw_deg is None
    assert g.full_body_visible is False


# ------------------------------------------------------------------------------------- legs

def test_knee_angle_from_the_side():
    f = feats(S.yaw(S.bend_knee(S.upright(), "left", 150), 90))
    assert f.knee_angle_left_deg == pytest.approx(150.0, abs=0.5)
    assert f.knee_angle_right_deg == pytest.approx(180.0, abs=0.5)
    assert f.knee_angle_min_deg == pytest.approx(150.0, abs=0.5)
    assert f.knee_angle_max_deg == pytest.approx(180.0, abs=0.5)


def test_knee_angle_clear_bend_from_the_front_uses_world():
    f = feats(S.bend_knee(S.upright(), "right", 120))
    assert f.knee_angle_right_deg == pytest.approx(120.0, abs=0.5)
    s = feats(S.sit(S.upright()))
    assert s.knee_angle_min_deg == pytest.approx(90.0, abs=1.0)


def test_knee_angle_needs_visible_leg():
    f = feats(S.upright(), hidden=(LM.LEFT_ANKLE,))
    assert f.knee_angle_left_deg is None and f.knee_angle_right_deg is not None
    assert f.ankle_gap_sw is None and f.feet == "unknown"


def test_feet_unknown_out_of_frame():
    lm = S.to_landmarks(S.upright(), offset_px=(0.0, 120.0))  # feet below the frame
    assert lm.image[LM.LEFT_HEEL, 1] > 1.0
    f = compute_features(lm)
    assert f.feet == "unknown" and f.knee_angle_min_deg is None and f.full_body_visible is False


def test_low_visibility_gives_none_and_unknown():
    lm = S.to_landmarks(S.upright(), visibility=0.3)
    f = compute_features(lm)
    assert f.view == "unknown" and f.body_yaw_deg is None and f.body_size_px is None
    assert f.trunk_tilt_deg is None and f.knee_angle_min_deg is None and f.head_pitch_deg is None
    assert (f.hand_left, f.hand_right, f.feet) == ("unknown", "unknown", "unknown")
    assert f.legs_crossed is None and f.arms_crossed is None and f.full_body_visible is False
    # the same landmarks pass with a lower threshold
    assert compute_features(lm, min_visibility=0.2).view == "front"


def test_hip_centre_moves_in_body_sizes():
    a = feats(S.upright())
    b = feats(S.upright(), offset_px=(S.BODY_SIZE_PX / 2, 0.0))
    assert b.hip_center_x_sw - a.hip_center_x_sw == pytest.approx(0.5, abs=0.01)
    assert b.hip_center_y_sw == pytest.approx(a.hip_center_y_sw, abs=0.01)


# -------------------------------------------------------------------------------- smoothing

def test_one_euro_reduces_jitter_on_constant():
    rng = np.random.default_rng(0)
    f = OneEuroFilter(min_cutoff=1.0, beta=0.0)
    t = np.arange(300) / 30.0
    noisy = 5.0 + rng.normal(0.0, 0.1, size=(300, 4))
    out = np.array([f(x, ti) for x, ti in zip(noisy, t)])
    assert out.shape == noisy.shape
    assert np.var(out[60:]) < np.var(noisy[60:]) / 5
    assert np.mean(out[60:]) == pytest.approx(5.0, abs=0.05)


def test_one_euro_follows_step_with_bounded_lag():
    f = OneEuroFilter(min_cutoff=1.0, beta=5.0)
    t = np.arange(120) / 30.0
    x = np.where(t < 1.0, 0.0, 1.0)
    out = np.array([f(np.array([v]), ti)[0] for v, ti in zip(x, t)])
    after = t >= 1.0
    reach = t[after][np.argmax(out[after] > 0.9)]
    assert out[after].max() > 0.9 and reach - 1.0 <= 0.25
    slow = OneEuroFilter(min_cutoff=1.0, beta=0.0)
    out_slow = np.array([slow(np.array([v]), ti)[0] for v, ti in zip(x, t)])
    assert out_slow[int(1.1 * 30)] < out[int(1.1 * 30)]  # beta speeds up the response


def test_one_euro_irregular_timestamps():
    rng = np.random.default_rng(1)
    t = np.cumsum(rng.uniform(0.01, 0.12, size=300))  # dropped and uneven frames
    noisy = 2.0 + rng.normal(0, 0.05, size=t.size)
    f = OneEuroFilter(min_cutoff=1.0, beta=0.0)
    out = np.array([f(np.array([v]), ti)[0] for v, ti in zip(noisy, t)])
    assert np.all(np.isfinite(out))
    assert np.var(out[50:]) < np.var(noisy[50:]) / 3
    # a repeated timestamp returns the last output instead of dividing by zero
    assert f(np.array([100.0]), float(t[-1]))[0] == pytest.approx(out[-1])


def test_one_euro_uses_time_not_frame_count():
    def response(fps: float) -> float:
        f = OneEuroFilter(min_cutoff=1.0, beta=0.0)
        t = np.arange(0.0, 1.3, 1.0 / fps)
        out = [f(np.array([0.0 if ti < 1.0 else 1.0]), ti)[0] for ti in t]
        return out[-1]  # about 0.3 s after the step
    fast, slow = response(60.0), response(10.0)
    assert 0.5 < fast < 1.0 and abs(fast - slow) < 0.1


def test_one_euro_rejects_bad_params():
    with pytest.raises(ValueError):
        OneEuroFilter(min_cutoff=0.0)


def test_landmark_smoother_smooths_and_resets():
    rng = np.random.default_rng(2)
    base = S.to_landmarks(S.upright())
    sm = LandmarkSmoother()
    errs_in, errs_out = [], []
    for k in range(60):
        noisy_img = base.image + rng.normal(0, 0.003, size=base.image.shape)
        noisy_world = base.world + rng.normal(0, 0.01, size=base.world.shape)
        lm = base.replace_image(noisy_img, noisy_world)
        out = sm(lm, k * 33)
        assert out.image_size == base.image_size
        assert np.array_equal(out.visibility, base.visibility)
        if k >= 20:
            errs_in.append(np.abs(noisy_img - base.image).mean())
            errs_out.append(np.abs(out.image - base.image).mean())
            assert np.abs(out.world - base.world).mean() < np.abs(noisy_world - base.world).mean()
    assert np.mean(errs_out) < 0.6 * np.mean(errs_in)
    moved = base.replace_image(base.image + 0.2, base.world)
    assert not np.allclose(sm(moved, 60 * 33).image, moved.image)  # still filtering
    sm.reset()
    assert np.allclose(sm(moved, 61 * 33).image, moved.image)      # fresh start
    assert np.allclose(sm(base, 61 * 33 + 5000).image, base.image)  # long gap resets by itself


def test_hand_rules_are_judged_when_the_hips_are_below_the_frame():
    """Filmed close (hips below the frame's edge, arms in view) the learned hand flags still
    answer: they were all None ("body parts not visible") because the learned stage was gated
    on the body size, which needs the hips."""
    from posturecheck.features import compute_features
    from posturecheck.landmarks import PoseLandmarks

    lm = S.to_landmarks(S.upright())
    hip_y = float(lm.image[[23, 24], 1].mean())
    wrist_y = float(lm.image[[15, 16], 1].max())
    assert wrist_y < 1.0
    # move the person down until the hips are just below the frame, the arms still inside
    shift = (1.0 - hip_y) + 0.02
    image = lm.image.copy()
    image[:, 1] += shift
    assert image[[11, 12, 13, 14], 1].max() < 1.0  # shoulders and elbows still in the frame
    close = PoseLandmarks(image, lm.visibility, lm.presence, lm.world, lm.image_size)
    f = compute_features(close)
    assert f.view != "unknown"
    assert f.hands_on_hips_p is not None and f.hands_in_pockets_p is not None and f.hands_behind_back_p is not None
    assert np.all(close.image[[23, 24], 1] > 1.0)
