"""Measurements over time (posturecheck.temporal): synthetic walks with exact truth,
a rendered walk with exact arm-swing truth (landmark fixture) and two real side-view walks."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

import synth_walk as sw
from posturecheck import temporal
from posturecheck.landmarks import LM, PoseLandmarks
from posturecheck.temporal import (
    ARM_SWING_MAX_SIN_YAW,
    BOW_HOLD_TOLERANCE_DEG,
    FRONT_VIEW_REASON,
    OBLIQUE_VIEW_REASON,
    ArmSwing,
    detect_bows,
    detect_oscillation,
    detect_steps,
    estimate_view,
    lateral_sway,
    leg_jiggle,
    measure_arm_swing,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
TRUTH_CSV = SHARED / "data" / "armswing_dev" / "truth_g1.0.csv"

# Per-stride truth of walk_g1.0_side.mp4 (frame i at i/30 s; the animation loops every
# 30 frames, so every cycle has the same peaks). Left arm = near arm. Facts from
# truth_g1.0.csv, not media: (time s, signed sagittal angle deg, + forward).
RENDER_LEFT_FORWARD = [(22 / 30 + k, 33.339) for k in range(4)]
RENDER_LEFT_BACKWARD = [(6 / 30 + k, -16.012) for k in range(4)]
# The method is not tuned to this clip; the published accuracy of the image-plane angle
# from a side camera is about 4-5 degrees.
RENDER_TOLERANCE_DEG = 5.0
# The rule judges the median forward peak: from either side within this of the truth's.
RENDER_MEDIAN_TOLERANCE_DEG = 4.0
# The same walk seen from the left and (mirrored) from the right: medians this close. Without
# temporal.FACING_RIGHT_FORWARD_GAIN they were 4.9 deg apart (left 32.0, right 27.1):
# MediaPipe draws a side-on elbow back when the person faces image-right.
SIDES_AGREE_DEG = 1.5

STRIDE_TOL_DEG = 2.0  # synthetic: per-stride peaks
FRAME_S = 1 / 30


# Synthetic landmarks are exact: the correction of MediaPipe's left/right elbow bias
# (temporal.FACING_RIGHT_FORWARD_GAIN) must not apply to them. Tests on MediaPipe landmark
# fixtures (rendered and real walks: "render"/"real_side" in the name) keep it.
@pytest.fixture(autouse=True)
def _exact_synthetic_landmarks(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if not any(key in request.node.name for key in ("render", "real_side")):
        monkeypatch.setattr(temporal, "FACING_RIGHT_FORWARD_GAIN", 1.0)


def _load(path: Path) -> tuple[list[int], list[PoseLandmarks | None], dict]:
    data = json.loads(path.read_text(encoding="utf-8"))
    times = [int(f["timestamp_ms"]) for f in data["frames"]]
    lms = [None if f["landmarks"] is None else PoseLandmarks.from_dict(f["landmarks"]) for f in data["frames"]]
    return times, lms, data


def _near(a: ArmSwing):
    assert a.near_side in ("left", "right")
    return getattr(a, a.near_side)


def _match(measured_t: list[float], measured_v: list[float], truth: list[tuple[float, float]],
           max_dt: float) -> list[tuple[float, float]]:
    """Pair each measured peak with the truth peak nearest in time: (truth value, error)."""
    out = []
    for t, v in zip(measured_t, measured_v):
        tt, tv = min(truth, key=lambda p: abs(p[0] - t))
        assert abs(tt - t) <= max_dt, f"peak at {t:.3f}s has no truth peak within {max_dt}s"
        out.append((tv, v - tv))
    return out


# --------------------------------------------------------------------------- synthetic arm swing


@pytest.mark.parametrize("forward,backward", [(20.0, 10.0), (32.0, 18.0), (45.0, 25.0)])
@pytest.mark.parametrize("yaw", [90.0, -90.0])
def test_arm_swing_known_amplitudes(forward: float, backward: float, yaw: float) -> None:
    spec = sw.WalkSpec(forward_deg=[forward], backward_deg=[backward], duration_s=6.0, stride_s=1.1)
    times = sw.timestamps(spec.duration_s, 30)
    lms, truth = sw.walk(spec, times, sw.Camera(yaw_deg=yaw), noise_px=0.5, seed=1)
    a = measure_arm_swing(times, lms)
    near_side = "left" if yaw > 0 else "right"  # camera on the person's left shows the left arm
    assert a.view == "side" and a.near_side == near_side
    assert a.facing == ("left" if yaw > 0 else "right")
    assert a.stride_period_s == pytest.approx(1.1, abs=0.03)
    near = _near(a)
    assert near.reliable and near.reason is None and near.near
    assert near.strides >= 4
    tf = truth.left_forward if near_side == "left" else truth.right_forward
    tb = truth.left_backward if near_side == "left" else truth.right_backward
    for _, err in _match(near.forward_t_s, near.forward_deg, tf, 0.06):
        assert abs(err) <= STRIDE_TOL_DEG
    for _, err in _match(near.backward_t_s, near.backward_deg, tb, 0.06):
        assert abs(err) <= STRIDE_TOL_DEG
    far = a.right if near_side == "left" else a.left
    assert not far.reliable and "far arm" in far.reason


def test_arm_swing_per_stride_with_dropped_frames() -> None:
    """Different peaks every stride, 25 % of frames dropped, jittered timestamps, pixel noise."""
    spec = sw.WalkSpec(forward_deg=[20.0, 32.0, 45.0], backward_deg=[12.0, 25.0, 18.0], duration_s=8.0,
                       stride_s=1.2)
    times = sw.timestamps(spec.duration_s, 30, drop=0.25, jitter_ms=5, seed=4)
    assert np.ptp(np.diff(times)) > 30  # really irregular
    lms, truth = sw.walk(spec, times, sw.Camera(yaw_deg=90), noise_px=0.5, seed=2)
    near = _near(measure_arm_swing(times, lms))
    assert near.reliable and near.strides >= 5
    fwd = _match(near.forward_t_s, near.forward_deg, truth.left_forward, 0.08)
    bwd = _match(near.backward_t_s, near.backward_deg, truth.left_backward, 0.08)
    assert {round(v) for v, _ in fwd} == {20, 32, 45}
    assert max(abs(e) for _, e in fwd + bwd) <= STRIDE_TOL_DEG


def test_arm_swing_survives_missing_frames() -> None:
    """None frames and an occluded elbow are gaps, not zeros."""
    spec = sw.WalkSpec(forward_deg=[30.0], backward_deg=[15.0], duration_s=7.0)
    times = sw.timestamps(spec.duration_s, 30)
    lms, truth = sw.walk(spec, times, sw.Camera(yaw_deg=90), seed=3)
    t = np.asarray(times) / 1000
    lms = [None if 3.0 <= ti < 3.6 else lm for ti, lm in zip(t, lms)]
    near = _near(measure_arm_swing(times, lms))
    assert near.reliable
    for _, err in _match(near.forward_t_s, near.forward_deg, truth.left_forward, 0.06):
        assert abs(err) <= STRIDE_TOL_DEG
    for _, err in _match(near.backward_t_s, near.backward_deg, truth.left_backward, 0.06):
        assert abs(err) <= STRIDE_TOL_DEG
    assert all(not (3.0 <= x < 3.6) for x in near.forward_t_s + near.backward_t_s)


def test_front_view_arm_swing_is_not_judged() -> None:
    spec = sw.WalkSpec(duration_s=6.0)
    times = sw.timestamps(spec.duration_s, 30)
    lms, _ = sw.walk(spec, times, sw.Camera(yaw_deg=0.0), seed=1)
    assert estimate_view(times, lms).view == "front"
    a = measure_arm_swing(times, lms)
    assert a.view == "front"
    for arm in (a.left, a.right):
        assert not arm.reliable and arm.reason == FRONT_VIEW_REASON and arm.forward_deg == []
    # A hint overrides the estimate either way.
    assert measure_arm_swing(times, lms, view_hint="front").left.reason == FRONT_VIEW_REASON


def test_oblique_view_arm_swing_is_not_judged() -> None:
    spec = sw.WalkSpec(duration_s=6.0)
    times = sw.timestamps(spec.duration_s, 30)
    lms, _ = sw.walk(spec, times, sw.Camera(yaw_deg=50.0), seed=1)
    a = measure_arm_swing(times, lms)
    assert a.view == "oblique" and a.left.reason == OBLIQUE_VIEW_REASON and not a.right.reliable


def test_standing_still_has_no_strides() -> None:
    times = sw.timestamps(5.0, 30)
    lms = sw.standing(times, cam=sw.Camera(yaw_deg=90), noise_px=1.0)
    a = measure_arm_swing(times, lms)
    assert not a.left.reliable and not a.right.reliable


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        measure_arm_swing([0, 33, 33], [None, None, None])
    with pytest.raises(ValueError):
        detect_steps([0, 33], [None])
    a = measure_arm_swing([0, 33, 66], [None, None, None])
    assert not a.left.reliable and a.view == "unknown"
    assert detect_steps([0, 33, 66], [None, None, None]).times_s == []
    assert detect_bows([0, 33, 66], [None, None, None]) == []
    assert lateral_sway([0, 33, 66], [None, None, None]) == []
    assert leg_jiggle([0, 33, 66], [None, None, None]) == []


# --------------------------------------------------------------------------- steps


@pytest.mark.parametrize("drop,jitter", [(0.0, 0.0), (0.2, 5.0)])
def test_steps_known_timing(drop: float, jitter: float) -> None:
    spec = sw.WalkSpec(duration_s=8.0, stride_s=1.1)
    times = sw.timestamps(spec.duration_s, 30, drop=drop, jitter_ms=jitter, seed=5)
    lms, truth = sw.walk(spec, times, sw.Camera(yaw_deg=90), noise_px=0.5, seed=6)
    s = detect_steps(times, lms)
    assert s.reliable
    # Every true heel strike found once, within about a frame.
    tol = 0.02 if drop == 0 else 1.5 * FRAME_S
    inner = [x for x in truth.step_times if 0.2 < x < times[-1] / 1000 - 0.2]
    for x in inner:
        assert min(abs(np.asarray(s.times_s) - x)) <= tol
    assert len(s.times_s) <= len(truth.step_times)
    assert s.cadence_spm == pytest.approx(60 / 0.55, rel=0.03)
    assert s.step_times_cv is not None and s.step_times_cv < 0.06
    # Lead foot alternates; the left foot leads at the first truth step (phase of the generator).
    assert all(a != b for a, b in zip(s.lead_foot, s.lead_foot[1:]))


def test_steps_from_the_other_side_and_oblique() -> None:
    spec = sw.WalkSpec(duration_s=6.0, stride_s=1.0)
    times = sw.timestamps(spec.duration_s, 30)
    for yaw in (-90.0, 60.0):
        lms, truth = sw.walk(spec, times, sw.Camera(yaw_deg=yaw), noise_px=0.5, seed=7)
        s = detect_steps(times, lms)
        assert s.cadence_spm == pytest.approx(120, rel=0.03), yaw
        for x in truth.step_times[1:-1]:
            assert min(abs(np.asarray(s.times_s) - x)) <= 0.02, yaw


# --------------------------------------------------------------------------- leg jiggle


def test_oscillation_on_irregular_samples() -> None:
    times = sw.timestamps(3.0, 30, drop=0.2, jitter_ms=5, seed=8)
    t = times / 1000
    osc = detect_oscillation(times, 0.05 * np.sin(2 * np.pi * 4.0 * t) + 0.2 * t)  # plus a slow drift
    assert osc.present and osc.freq_hz == pytest.approx(4.0, abs=0.05)
    assert osc.amplitude == pytest.approx(0.05, abs=0.002)
    rng = np.random.default_rng(0)
    noise = detect_oscillation(times, 0.02 * rng.normal(size=t.size))
    assert not noise.present and noise.concentration < 0.4
    assert not detect_oscillation(times, np.zeros(t.size)).present
    # Out of band: 1 Hz sway is not a 2-8 Hz jiggle.
    assert not detect_oscillation(times, 0.05 * np.sin(2 * np.pi * 1.0 * t)).present


def test_leg_jiggle_found() -> None:
    times = sw.timestamps(6.0, 30, drop=0.15, jitter_ms=4, seed=3)
    lms = sw.standing(times, noise_px=1.0, knee_osc=(4.0, 0.05), seed=1)
    found = leg_jiggle(times, lms, window_s=2.0, min_amplitude_sw=0.03)
    knees = [j for j in found if j.part.endswith("knee")]
    assert {j.part for j in knees} == {"left_knee", "right_knee"}
    for j in knees:
        assert j.freq_hz == pytest.approx(4.0, abs=0.1)
        assert j.amplitude_sw == pytest.approx(0.05, abs=0.005)
        assert j.duration_s >= 5.5
    assert not [j for j in found if j.part.endswith("ankle")]


@pytest.mark.parametrize("seed", range(5))
def test_still_noisy_legs_do_not_jiggle(seed: int) -> None:
    times = sw.timestamps(6.0, 30, drop=0.1, jitter_ms=4, seed=seed)
    lms = sw.standing(times, noise_px=1.5, seed=seed)  # ~0.015 sw of jitter on every point
    assert leg_jiggle(times, lms) == []  # even without an amplitude limit


# --------------------------------------------------------------------------- sway


def test_lateral_sway() -> None:
    times = sw.timestamps(8.0, 30, drop=0.1, jitter_ms=4, seed=2)
    swaying = lateral_sway(times, sw.standing(times, noise_px=0.5, hip_sway=(0.5, 0.1), seed=1))
    assert swaying and swaying[0].t_s >= 3.0 - 1e-6
    assert np.median([s.peak_to_peak_sw for s in swaying]) == pytest.approx(0.2, abs=0.02)
    still = lateral_sway(times, sw.standing(times, noise_px=0.5, seed=1))
    assert max(s.peak_to_peak_sw for s in still) < 0.05


# --------------------------------------------------------------------------- bows


def _bow_clip(yaw: float, peak: float, hold: float, ramp: float = 0.8, return_up: bool = True,
              seed: int = 0) -> tuple[np.ndarray, list[PoseLandmarks], np.ndarray]:
    times = sw.timestamps(6.0, 30, drop=0.1, jitter_ms=4, seed=seed)
    t = times / 1000
    lean = sw.ramp_hold(t, 1.0, ramp, hold, peak)
    if not return_up:
        lean = np.where(t > 1.0 + ramp, peak, lean)
    return times, sw.standing(times, cam=sw.Camera(yaw_deg=yaw), noise_px=1.0, lean_deg=lean, seed=seed), lean


@pytest.mark.parametrize("yaw", [90.0, -90.0])
def test_bow_side_view(yaw: float) -> None:
    times, lms, lean = _bow_clip(yaw, 30.0, 1.0)
    bows = detect_bows(times, lms)
    assert len(bows) == 1
    b = bows[0]
    assert b.view == "side" and b.returned_upright
    assert b.max_flexion_deg == pytest.approx(30.0, abs=3.0)
    t = times / 1000
    true_hold = np.ptp(t[lean >= 30.0 - BOW_HOLD_TOLERANCE_DEG])  # the 1 s hold plus the ramps' top
    assert b.hold_s == pytest.approx(true_hold, abs=0.15)
    assert 1.0 < b.start_s < 1.5 and 3.3 < b.end_s < 3.8


def test_bow_front_view_and_no_return() -> None:
    times, lms, _ = _bow_clip(0.0, 30.0, 1.0, seed=1)
    bows = detect_bows(times, lms)
    assert len(bows) == 1 and bows[0].view == "front"
    assert bows[0].max_flexion_deg == pytest.approx(30.0, abs=3.0)
    times, lms, _ = _bow_clip(90.0, 45.0, 1.0, return_up=False, seed=2)
    bows = detect_bows(times, lms)
    assert len(bows) == 1 and not bows[0].returned_upright
    assert bows[0].max_flexion_deg == pytest.approx(45.0, abs=3.0)


def test_no_bow_when_standing() -> None:
    for yaw in (0.0, 90.0):
        times = sw.timestamps(6.0, 30, seed=1)
        assert detect_bows(times, sw.standing(times, cam=sw.Camera(yaw_deg=yaw), noise_px=1.0)) == []


# --------------------------------------------------------------------------- rendered walk (exact truth)


@pytest.fixture(scope="module")
def render() -> tuple[list[int], list[PoseLandmarks | None], ArmSwing]:
    times, lms, data = _load(FIXTURES / "armswing" / "walk_g1.0_side.json")
    assert data["fps"] == pytest.approx(30.0)
    return times, lms, measure_arm_swing(times, lms)


def test_render_truth_numbers_match_csv() -> None:
    """The embedded per-stride truth is what truth_g1.0.csv says."""
    if not TRUTH_CSV.exists():
        pytest.skip(f"{TRUTH_CSV} not present (../shared is not checked out); embedded truth used instead")
    with TRUTH_CSV.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    left = np.array([float(r["left_sagittal_deg"]) for r in rows])
    for k in range(4):
        cyc = left[30 * k:30 * (k + 1)]
        assert cyc.max() == pytest.approx(RENDER_LEFT_FORWARD[k][1], abs=0.01)
        assert cyc.min() == pytest.approx(RENDER_LEFT_BACKWARD[k][1], abs=0.01)
        assert (30 * k + int(np.argmax(cyc))) / 30 == pytest.approx(RENDER_LEFT_FORWARD[k][0])
        assert (30 * k + int(np.argmin(cyc))) / 30 == pytest.approx(RENDER_LEFT_BACKWARD[k][0])


def test_render_near_arm_against_truth(render) -> None:
    _, _, a = render
    assert a.view == "side" and a.near_side == "left" and a.facing == "left"
    assert a.stride_period_s == pytest.approx(1.0, abs=0.03)
    near = a.left
    assert near.reliable and near.strides >= 3
    fwd = _match(near.forward_t_s, near.forward_deg, RENDER_LEFT_FORWARD, 0.1)
    bwd = _match(near.backward_t_s, near.backward_deg, [(t, -v) for t, v in RENDER_LEFT_BACKWARD], 0.1)
    for _, err in fwd + bwd:
        assert abs(err) <= RENDER_TOLERANCE_DEG
    assert not a.right.reliable


@pytest.fixture(scope="module")
def render_mirrored() -> tuple[list[int], list[PoseLandmarks | None], ArmSwing]:
    """The same clip mirrored (cv2.flip) before the pose stage: a right-side view of the
    mirrored person, whose near arm MediaPipe labels RIGHT; its truth is the left column."""
    times, lms, data = _load(FIXTURES / "armswing" / "walk_g1.0_side_mirrored.json")
    assert data["fps"] == pytest.approx(30.0)
    return times, lms, measure_arm_swing(times, lms)


def test_render_from_the_right_against_truth(render_mirrored) -> None:
    _, _, a = render_mirrored
    assert a.view == "side" and a.near_side == "right" and a.facing == "right"
    assert a.stride_period_s == pytest.approx(1.0, abs=0.03)
    near = a.right
    assert near.reliable and near.strides >= 3 and not a.left.reliable
    fwd = _match(near.forward_t_s, near.forward_deg, RENDER_LEFT_FORWARD, 0.1)
    bwd = _match(near.backward_t_s, near.backward_deg, [(t, -v) for t, v in RENDER_LEFT_BACKWARD], 0.1)
    for _, err in fwd + bwd:
        assert abs(err) <= RENDER_TOLERANCE_DEG


@pytest.mark.parametrize("which", ["render", "render_mirrored"])
def test_render_median_forward_from_either_side(which: str, request: pytest.FixtureRequest) -> None:
    """What the rule judges (the median forward peak) is within 4 deg of the truth's median
    forward peak whether the camera sees the person's left or right side."""
    _, _, a = request.getfixturevalue(which)
    truth = float(np.median([v for _, v in RENDER_LEFT_FORWARD]))
    assert _near(a).median_forward_deg == pytest.approx(truth, abs=RENDER_MEDIAN_TOLERANCE_DEG)


def test_render_left_and_right_agree(render, render_mirrored) -> None:
    left, right = render[2].left, render_mirrored[2].right
    assert abs(left.median_forward_deg - right.median_forward_deg) <= SIDES_AGREE_DEG
    assert abs(left.median_backward_deg - right.median_backward_deg) <= 2 * SIDES_AGREE_DEG


_MIRROR = [int(LM[n.name.replace("LEFT", "RIGHT")] if "LEFT" in n.name else LM[n.name.replace("RIGHT", "LEFT")]
               if "RIGHT" in n.name else n) for n in LM]


def _mirrored(lm: PoseLandmarks | None) -> PoseLandmarks | None:
    """The landmarks of the horizontally mirrored frame: x flipped, left and right swapped."""
    if lm is None:
        return None
    image = lm.image[_MIRROR].copy()
    image[:, 0] = 1.0 - image[:, 0]
    world = None if lm.world is None else lm.world[_MIRROR] * np.array([-1.0, 1.0, 1.0])
    return PoseLandmarks(image, lm.visibility[_MIRROR], lm.presence[_MIRROR], world, lm.image_size)


def test_arm_swing_arithmetic_is_mirror_symmetric(render) -> None:
    """Mirroring the landmarks themselves (not the video) gives the same numbers with the arms
    swapped: facing, near arm, trunk line, body turn and world axes carry no sign bias, so the
    left/right difference on the mirrored clip comes from the detector (the deliberate
    FACING_RIGHT_FORWARD_GAIN is off here, see _exact_synthetic_landmarks)."""
    times, lms, a = render
    b = measure_arm_swing(times, [_mirrored(lm) for lm in lms])
    assert (b.view, b.near_side, b.facing) == ("side", "right", "right")
    assert b.stride_period_s == pytest.approx(a.stride_period_s, abs=1e-6)
    for x, y in ((a.left, b.right), (a.right, b.left)):
        assert x.reliable == y.reliable
        for key in ("forward_deg", "backward_deg", "forward_arm_deg", "backward_arm_deg", "forward_t_s"):
            assert getattr(x, key) == pytest.approx(getattr(y, key), abs=0.02), key


# A second rendered character (corpus/render_walk.py, Xbot): truth forward peak 30.212 deg of
# the near arm, backward -18.788 (truth_Xbot_az*.csv; every cycle alike).
XBOT_FORWARD_DEG = 30.212


def test_render_second_character_from_the_right() -> None:
    """Camera on the person's right side (azimuth -90), not a mirror image: the near (right)
    arm's forward peak per stride within 5 deg and its median within 4 deg of truth (raw
    MediaPipe landmarks read it 6.8 deg low). Its backward peaks read ~8 deg short from
    either side on this character (not judged)."""
    times, lms, _ = _load(FIXTURES / "armswing" / "walk_Xbot_az-90.json")
    a = measure_arm_swing(times, lms)
    assert a.view == "side" and a.near_side == "right" and a.facing == "right"
    near = a.right
    assert near.reliable and near.strides >= 3
    assert all(abs(f - XBOT_FORWARD_DEG) <= RENDER_TOLERANCE_DEG for f in near.forward_deg)
    assert near.median_forward_deg == pytest.approx(XBOT_FORWARD_DEG, abs=RENDER_MEDIAN_TOLERANCE_DEG)


@pytest.mark.parametrize("azimuth", ["+60", "-60"])
def test_render_oblique_view_is_within_tolerance_or_unknown(azimuth: str) -> None:
    """Camera at azimuth +-60 (30 deg in front of the person's left / right side). From -60
    the view counted as a side view and the forward peak read 11 deg low without a word."""
    times, lms, _ = _load(FIXTURES / "armswing" / f"walk_Xbot_az{azimuth}.json")
    a = measure_arm_swing(times, lms)
    measured = [arm for arm in (a.left, a.right) if arm.reliable]
    if measured:
        assert all(abs(arm.median_forward_deg - XBOT_FORWARD_DEG) <= RENDER_MEDIAN_TOLERANCE_DEG for arm in measured)
    else:
        assert a.view == "oblique" and a.left.reason == OBLIQUE_VIEW_REASON


# --------------------------------------------------------------------------- oblique views


@pytest.mark.parametrize("yaw", [70.0, 110.0, -70.0, -110.0, 80.0, 100.0])
def test_arm_swing_near_side_views_with_the_arms_hanging_out(yaw: float) -> None:
    """Turned up to 20 deg from side-on, toward the camera (yaw 70) or away (110), with the
    arms hanging 14 deg out from the body (as on the render): without the sign of the turn
    the sideways hang read as about 4 deg of swing at 20 deg (6 at 30 deg; back when turned
    toward the camera, forward when turned away); taken out, the forward peak is right
    within 1 deg."""
    spec = sw.WalkSpec(forward_deg=[33.0], backward_deg=[16.0], duration_s=6.0, stride_s=1.0, speed_m_s=0.0,
                       abduction_deg=14.0)
    times = sw.timestamps(spec.duration_s, 30)
    lms, truth = sw.walk(spec, times, sw.Camera(yaw_deg=yaw, centre_px=(480.0, 620.0)), noise_px=0.5, seed=1)
    a = measure_arm_swing(times, lms)
    assert a.view == "side"
    near = _near(a)
    assert near.reliable and near.strides >= 4
    tf = truth.left_forward if a.near_side == "left" else truth.right_forward
    for _, err in _match(near.forward_t_s, near.forward_deg, tf, 0.06):
        assert abs(err) <= 1.0


@pytest.mark.parametrize("yaw", [60.0, 65.0, 115.0, 120.0, -60.0, -120.0])
def test_arm_swing_oblique_views_answer_unknown(yaw: float) -> None:
    """Turned 25-30 deg from side-on (a camera at azimuth +-60 or +-120 from the front): still
    a 'side' view for the other measurements at 25 deg, but arm swing answers unknown."""
    spec = sw.WalkSpec(forward_deg=[33.0], backward_deg=[16.0], duration_s=6.0, stride_s=1.0, speed_m_s=0.0,
                       abduction_deg=14.0)
    times = sw.timestamps(spec.duration_s, 30)
    lms, _ = sw.walk(spec, times, sw.Camera(yaw_deg=yaw, centre_px=(480.0, 620.0)), noise_px=0.5, seed=1)
    a = measure_arm_swing(times, lms)
    assert a.view == "oblique" and abs(np.sin(np.radians(90 - abs(yaw)))) > ARM_SWING_MAX_SIN_YAW
    for arm in (a.left, a.right):
        assert not arm.reliable and arm.reason == OBLIQUE_VIEW_REASON and arm.forward_deg == []


def test_render_steps(render) -> None:
    times, lms, _ = render
    s = detect_steps(times, lms)
    assert s.reliable and len(s.times_s) >= 6
    # The arms cycle once a second, so two steps a second.
    assert s.cadence_spm == pytest.approx(120, rel=0.05)
    assert s.step_times_cv < 0.15


# --------------------------------------------------------------------------- real side-view walks


@pytest.mark.parametrize("clip_id", ["vid_gait_normal_side", "vid_gait_slouch_side_a"])
def test_real_side_walks(clip_id: str) -> None:
    """Same subject walking left to right (camera on his right). Regression bounds, not truth:
    with the upper-arm definition both clips read ~0-8 deg forward and ~14-20 deg back."""
    times, lms, _ = _load(FIXTURES / "dev_video" / f"{clip_id}.json")
    a = measure_arm_swing(times, lms)
    assert a.view == "side" and a.facing == "right" and a.near_side == "right"
    near = a.right
    assert near.reliable and near.strides >= 2
    assert all(-5 <= f <= 15 for f in near.forward_deg)
    assert all(8 <= b <= 25 for b in near.backward_deg)
    assert not a.left.reliable
    s = detect_steps(times, lms)
    assert s.reliable and len(s.times_s) >= 5
    assert s.cadence_spm == pytest.approx(100, abs=10)
    assert s.step_times_cv < 0.15
