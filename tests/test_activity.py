"""Activity: tracker hysteresis and motion cues, segments.

The single-frame posture is the learned classifier's (tests/test_learned.py checks it
on real landmark fixtures). The clean synthetic skeletons here are unlike anything
the pose model outputs, so the tracker tests give each frame its posture explicitly
and test what the tracker adds: timing, hysteresis and motion.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import skeleton as S
from posturecheck.activity import (
    ACTIVITIES, ActivityTracker, Segment, classify_posture, dominant_activity, segments_from_labels,
)
from posturecheck.features import compute_features
from posturecheck.landmarks import LM


def stride_body() -> np.ndarray:
    """Mid-stride: left thigh 20° forward, right 20° back with the knee bent to 130°."""
    b = S.bend_knee(S.upright(), "right", 130.0)
    below_l = (LM.LEFT_KNEE, *S.LEFT_LEG_BELOW_KNEE)
    below_r = (LM.RIGHT_KNEE, *S.RIGHT_LEG_BELOW_KNEE)
    b = S.rotate(b, below_l, "x", -20.0, b[LM.LEFT_HIP])   # forward
    b = S.rotate(b, below_r, "x", 20.0, b[LM.RIGHT_HIP])   # backward
    return b


def run(tracker, frames):
    """frames: iterable of (timestamp_ms, body or None, kwargs) -> list of states.

    kwargs go to `to_landmarks`, except `posture`: the frame's single-frame posture
    (default standing), given explicitly so that only the tracker is under test.
    """
    out = []
    for t, body, kw in frames:
        if body is None:
            out.append(tracker.update(None, None, t))
        else:
            kw = dict(kw)
            posture = kw.pop("posture", "standing")
            lm = S.to_landmarks(body, **kw)
            out.append(tracker.update(lm, dataclasses.replace(compute_features(lm), posture=posture), t))
    return out


def sitting(t0_ms, dur_s, fps=30.0):
    for t, body, kw in still(S.sit(S.upright()), t0_ms, dur_s, fps=fps):
        yield t, body, {**kw, "posture": "sitting"}


def still(body, t0_ms, dur_s, fps=30.0, seed=0, **kw):
    rng = np.random.default_rng(seed)
    n = int(round(dur_s * fps))
    for k in range(n):
        jitter = body + rng.normal(0.0, 0.003, size=body.shape)
        yield int(t0_ms + 1000.0 * k / fps), jitter, kw


def test_single_frame_posture_is_the_learned_one():
    lm = S.to_landmarks(S.upright())
    feats = compute_features(lm)
    assert classify_posture(lm, feats) == feats.posture
    legs = (LM.LEFT_HIP, LM.RIGHT_HIP, LM.LEFT_KNEE, LM.RIGHT_KNEE, LM.LEFT_ANKLE, LM.RIGHT_ANKLE)
    image = lm.image.copy()
    image[list(legs), 1] = 1.3  # hips and legs below the frame: no posture can be told
    hidden = lm.replace_image(image)
    assert classify_posture(hidden, compute_features(hidden)) == "unknown"
    assert set(ACTIVITIES) == {"standing", "sitting", "walking", "unknown"}


# ----------------------------------------------------------------------------------- tracker

def test_tracker_starts_unknown_then_holds_standing():
    states = run(ActivityTracker(), still(S.upright(), 0, 2.0))
    assert states[0] == "unknown"
    assert states[int(0.4 * 30)] == "unknown"
    assert states[int(0.6 * 30)] == "standing"
    assert states[-1] == "standing"


def test_single_flicker_frame_does_not_switch():
    tr = ActivityTracker()
    run(tr, still(S.upright(), 0, 2.0))
    assert run(tr, [(2000, S.sit(S.upright()), {"posture": "sitting"})]) == ["standing"]
    assert tr.last_raw == "sitting"
    assert run(tr, still(S.upright(), 2033, 1.0)) == ["standing"] * 30


def test_held_change_switches_after_min_hold():
    tr = ActivityTracker(min_hold_s=0.5)
    run(tr, still(S.upright(), 0, 2.0))
    states = run(tr, sitting(2000, 1.0))
    switch = states.index("sitting")
    assert 0.45 <= switch / 30.0 <= 0.55
    assert all(s == "standing" for s in states[:switch])
    assert all(s == "sitting" for s in states[switch:])


@pytest.mark.parametrize("fps, frames, switched", [(10.0, 6, True), (60.0, 6, False)])
def test_hold_uses_timestamps_not_frame_counts(fps, frames, switched):
    tr = ActivityTracker(min_hold_s=0.5)
    run(tr, still(S.upright(), 0, 2.0, fps=fps))
    states = run(tr, ((int(2000 + 1000 * k / fps), S.sit(S.upright()), {"posture": "sitting"})
                      for k in range(frames)))
    assert (states[-1] == "sitting") is switched


def test_person_lost_briefly_keeps_state_then_unknown():
    tr = ActivityTracker()
    run(tr, still(S.upright(), 0, 2.0))
    brief = run(tr, ((2000 + 33 * k, None, {}) for k in range(9)))  # 0.3 s
    assert brief[-1] == "standing"
    run(tr, still(S.upright(), 2300, 0.5))
    long = run(tr, ((2800 + 33 * k, None, {}) for k in range(30)))
    assert long[-1] == "unknown"


def gait(t0_ms, dur_s, *, speed_m_s, fps=30.0, period_s=1.1, yaw=90.0, start_px=-300.0):
    n = int(round(dur_s * fps))
    for k in range(n):
        t = k / fps
        body = S.yaw(S.gait_body(2 * math.pi * t / period_s), yaw)
        dx = start_px + speed_m_s * S.PX_PER_M * t * (1 if yaw > 0 else -1)
        yield int(t0_ms + 1000 * t), body, {"offset_px": (dx, 0.0)}


def test_walking_across_the_frame():
    states = run(ActivityTracker(), gait(0, 1.8, speed_m_s=0.5))
    assert states[-1] == "walking"
    assert "standing" not in states[int(1.2 * 30):]


def test_walking_in_place_treadmill_or_panning_camera():
    states = run(ActivityTracker(), gait(0, 2.5, speed_m_s=0.0, start_px=0.0))
    assert states[-1] == "walking"


def test_walking_towards_the_camera_uses_world_stride():
    states = run(ActivityTracker(), gait(0, 2.5, speed_m_s=0.0, start_px=0.0, yaw=0.0))
    assert states[-1] == "walking"


def test_standing_with_jitter_never_walks():
    states = run(ActivityTracker(), still(S.yaw(S.upright(), 90), 0, 3.0, seed=3))
    assert "walking" not in states and states[-1] == "standing"


def test_held_stride_pose_without_motion_is_standing():
    states = run(ActivityTracker(), still(S.yaw(stride_body(), 90), 0, 2.0, posture="walking"))
    assert states[-1] == "standing"


def test_walk_then_stop():
    tr = ActivityTracker()
    run(tr, gait(0, 2.5, speed_m_s=0.0, start_px=0.0))
    states = run(tr, still(S.yaw(S.upright(), 90), 2500, 2.5))
    assert states[0] == "walking" and states[-1] == "standing"


# ---------------------------------------------------------------------------------- segments

def test_segments_merge_runs_and_absorb_short_ones():
    ts = [100 * k for k in range(25)]
    labels = ["standing"] * 10 + ["walking"] * 2 + ["standing"] * 13
    segs = segments_from_labels(ts, labels, min_segment_s=0.5)
    assert segs == [Segment(0.0, 2.5, "standing")]
    segs = segments_from_labels(ts, labels, min_segment_s=0.1)
    assert [s.activity for s in segs] == ["standing", "walking", "standing"]
    assert segs[1].start_s == pytest.approx(1.0) and segs[1].end_s == pytest.approx(1.2)
    assert segs[1].duration_s == pytest.approx(0.2)


def test_segments_short_run_joins_longer_neighbour():
    ts = [100 * k for k in range(30)]
    labels = ["sitting"] * 3 + ["standing"] * 20 + ["walking"] * 7
    segs = segments_from_labels(ts, labels)
    assert [(s.activity, round(s.start_s, 2), round(s.end_s, 2)) for s in segs] == [
        ("standing", 0.0, 2.3), ("walking", 2.3, 3.0)]


def test_segments_edge_cases():
    assert segments_from_labels([], []) == []
    assert segments_from_labels([0], ["sitting"]) == [Segment(0.0, 0.0, "sitting")]
    with pytest.raises(ValueError):
        segments_from_labels([0, 1], ["sitting"])


def test_dominant_activity():
    segs = [Segment(0, 1, "standing"), Segment(1, 4, "unknown"), Segment(4, 6, "walking"), Segment(6, 6.5, "standing")]
    assert dominant_activity(segs) == "walking"
    assert dominant_activity([Segment(0, 3, "unknown")]) == "unknown"
    assert dominant_activity([]) == "unknown"
