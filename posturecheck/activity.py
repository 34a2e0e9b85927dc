"""What the person is doing: standing, sitting or walking (or unknown).

`classify_posture` reads one frame (the learned posture classifier: standing,
sitting, or walking mid-stride). `ActivityTracker` adds motion over a short window (hip
speed across the frame, alternating legs) and hysteresis over time, and
`segments_from_labels` turns per-frame labels into clean segments.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from .features import FrameFeatures, usable_mask
from .landmarks import LM, PoseLandmarks

ACTIVITIES = ("standing", "sitting", "walking", "unknown")

# over time
WALK_MIN_HIP_SPEED_SW_S = 0.75    # hip centre moving across the frame (shoulder widths / s)
ALTERNATION_MIN_SW = 0.2          # each foot in front of the other by at least this
LEG_MOTION_MIN_STD_SW = 0.1       # stride signal moving at all (for a held stride pose)
MIN_WINDOW_FILL = 0.5             # motion cues need this fraction of the window covered
MIN_WINDOW_SAMPLES = 3


def _stride_sw(lm: PoseLandmarks, feats: FrameFeatures, min_visibility: float) -> float | None:
    """Signed ankle separation along the direction of travel (left minus right), shoulder widths.

    Side view: image x (accurate there). Otherwise the world ankles projected on the body's
    horizontal forward axis (needs world landmarks).
    """
    ok = usable_mask(lm, min_visibility)
    la, ra = LM.LEFT_ANKLE, LM.RIGHT_ANKLE
    if feats.view == "side" and ok[la] and ok[ra] and feats.body_size_px:
        px = lm.px
        return float(px[la, 0] - px[ra, 0]) / feats.body_size_px
    if lm.world is None or not (ok[la] or ok[ra]) or feats.view == "unknown":
        return None
    w = lm.world
    v = (w[LM.LEFT_SHOULDER] - w[LM.RIGHT_SHOULDER]) + (w[LM.LEFT_HIP] - w[LM.RIGHT_HIP])
    lat = np.array([v[0], 0.0, v[2]])
    n = float(np.linalg.norm(lat))
    sw = float(np.linalg.norm(w[LM.LEFT_SHOULDER] - w[LM.RIGHT_SHOULDER]))
    if n < 1e-9 or sw < 1e-9:
        return None
    lat /= n
    forward = np.array([lat[2], 0.0, -lat[0]])  # lateral × up, with up = -y
    return float((w[la] - w[ra]) @ forward) / sw


def classify_posture(lm: PoseLandmarks, feats: FrameFeatures, *, min_visibility: float = 0.5) -> str:
    """Single-frame activity: the learned posture classifier's likeliest answer (standing,
    sitting or walking mid-stride), or unknown when the hips and knees are not in the frame
    (see features.learned_observations)."""
    return feats.posture


@dataclass(frozen=True)
class _Sample:
    t_s: float
    posture: str
    hip_x_px: float | None
    size_px: float | None
    stride_sw: float | None


class ActivityTracker:
    """Per-frame activity over a clip, with motion cues and hysteresis.

    Each `update` classifies the frame's posture, then over the last `window_s` seconds:
    walking if the hip centre moves across the frame faster than WALK_MIN_HIP_SPEED_SW_S,
    or the feet alternate (each foot in front by ALTERNATION_MIN_SW; catches treadmills and
    panning cameras), or a stride posture comes with leg motion. Sitting posture wins over
    motion. The reported state starts as "unknown" and changes only after a new state has
    held for `min_hold_s` (timestamps, not frame counts), so one odd frame never switches it.
    """

    def __init__(self, window_s: float = 1.0, min_hold_s: float = 0.5, min_visibility: float = 0.5) -> None:
        self.window_s = float(window_s)
        self.min_hold_s = float(min_hold_s)
        self.min_visibility = float(min_visibility)
        self.reset()

    def reset(self) -> None:
        """Forget history and state."""
        self._samples: deque[_Sample] = deque()
        self._state: str | None = None
        self._candidate: str | None = None
        self._candidate_since: float = 0.0
        self._last_raw = "unknown"

    @property
    def state(self) -> str:
        return self._state or "unknown"

    @property
    def last_raw(self) -> str:
        """The frame's activity before hysteresis (for debugging and overlays)."""
        return self._last_raw

    def _window_ready(self) -> bool:
        s = self._samples
        return len(s) >= MIN_WINDOW_SAMPLES and s[-1].t_s - s[0].t_s >= MIN_WINDOW_FILL * self.window_s

    def _motion(self) -> tuple[bool, bool]:
        """(walking motion, any leg motion) over the window."""
        if not self._window_ready():
            return False, False
        s = list(self._samples)
        hips = [(x.t_s, x.hip_x_px, x.size_px) for x in s if x.hip_x_px is not None and x.size_px]
        fast = False
        if len(hips) >= MIN_WINDOW_SAMPLES:
            t = np.array([h[0] for h in hips])
            x = np.array([h[1] for h in hips])
            size = float(np.median([h[2] for h in hips]))
            if float(np.ptp(t)) > 0 and size > 0:
                slope = float(np.polyfit(t - t.mean(), x, 1)[0])
                fast = abs(slope) / size >= WALK_MIN_HIP_SPEED_SW_S
        strides = np.array([x.stride_sw for x in s if x.stride_sw is not None])
        alternating = moving = False
        if len(strides) >= MIN_WINDOW_SAMPLES:
            alternating = bool(strides.max() >= ALTERNATION_MIN_SW and strides.min() <= -ALTERNATION_MIN_SW)
            moving = alternating or float(strides.std()) >= LEG_MOTION_MIN_STD_SW
        return fast or alternating, moving or fast

    def update(self, lm: PoseLandmarks | None, feats: FrameFeatures | None, timestamp_ms: int) -> str:
        """Add one frame (None when nobody was found) and return the current activity."""
        t = timestamp_ms / 1000.0
        if self._samples and (t < self._samples[-1].t_s or t - self._samples[-1].t_s > self.window_s):
            self._samples.clear()
        if lm is None or feats is None:
            raw = "unknown"
        else:
            posture = classify_posture(lm, feats, min_visibility=self.min_visibility)
            hip_x = None
            if feats.hip_center_x_sw is not None and feats.body_size_px:
                hip_x = feats.hip_center_x_sw * feats.body_size_px
            self._samples.append(_Sample(t, posture, hip_x, feats.body_size_px,
                                         _stride_sw(lm, feats, self.min_visibility)))
            while self._samples and t - self._samples[0].t_s > self.window_s:
                self._samples.popleft()
            walking_motion, leg_motion = self._motion()
            if posture in ("unknown", "sitting"):
                raw = posture
            elif not self._window_ready():
                raw = posture  # no motion history yet: trust the single frame
            elif walking_motion or (posture == "walking" and leg_motion):
                raw = "walking"
            else:
                raw = "standing"
        self._last_raw = raw
        return self._hold(raw, t)

    def _hold(self, raw: str, t: float) -> str:
        if self._state is None:
            self._state = "unknown"
        if raw == self._state:
            self._candidate = None
        else:
            if raw != self._candidate:
                self._candidate, self._candidate_since = raw, t
            if t - self._candidate_since >= self.min_hold_s - 1e-9:
                self._state, self._candidate = raw, None
        return self._state


@dataclass(frozen=True)
class Segment:
    """A run of one activity, [start_s, end_s)."""

    start_s: float
    end_s: float
    activity: str

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def segments_from_labels(timestamps_ms: Sequence[int], labels: Sequence[str],
                         min_segment_s: float = 0.5) -> list[Segment]:
    """Merge per-frame labels into segments; runs shorter than `min_segment_s` are absorbed.

    Each frame covers [t_i, t_i+1); the last frame lasts the median frame interval. The
    shortest too-short run is merged into its longer neighbour (or both, when they agree),
    repeatedly, until every segment is long enough or only one is left.
    """
    if len(timestamps_ms) != len(labels):
        raise ValueError("timestamps_ms and labels must have the same length")
    if not labels:
        return []
    t = np.asarray(timestamps_ms, dtype=np.float64) / 1000.0
    step = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
    ends = np.append(t[1:], t[-1] + step)
    segs: list[list] = []
    for i, lab in enumerate(labels):
        if segs and segs[-1][2] == lab:
            segs[-1][1] = float(ends[i])
        else:
            segs.append([float(t[i]), float(ends[i]), lab])
    while len(segs) > 1:
        short = [i for i, s in enumerate(segs) if s[1] - s[0] < min_segment_s - 1e-9]
        if not short:
            break
        i = min(short, key=lambda k: segs[k][1] - segs[k][0])
        prev = segs[i - 1] if i > 0 else None
        nxt = segs[i + 1] if i + 1 < len(segs) else None
        if prev is not None and nxt is not None and prev[2] == nxt[2]:
            prev[1] = nxt[1]
            del segs[i:i + 2]
            continue
        if nxt is None or (prev is not None and prev[1] - prev[0] >= nxt[1] - nxt[0]):
            prev[1] = segs[i][1]
        else:
            nxt[0] = segs[i][0]
        del segs[i]
    return [Segment(s[0], s[1], s[2]) for s in segs]


def dominant_activity(segments: Iterable[Segment]) -> str:
    """The activity with the most total time, ignoring 'unknown' unless nothing else is there."""
    totals: dict[str, float] = {}
    for s in segments:
        totals[s.activity] = totals.get(s.activity, 0.0) + max(s.end_s - s.start_s, 0.0)
    known = {k: v for k, v in totals.items() if k != "unknown"}
    pool = known or totals
    if not pool:
        return "unknown"
    return max(pool, key=lambda k: (pool[k], -ACTIVITIES.index(k) if k in ACTIVITIES else -99))
