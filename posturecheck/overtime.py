"""Clip stage for over-time rules (scope = "clip" in the profile).

Turns a whole session (per-frame landmarks and features with timestamps) into
clip-level measurements — arm swing per stride, step rhythm, sway, leg jiggle,
head shaking, bows — judged by the profile's clip rules. Measurements come from
`posturecheck.temporal`; limits come from the profile (a clip rule's `feature`
names one of the measurements in `CLIP_FEATURES`, or a FrameFeatures field judged
frame by frame). Nothing here counts frames: every duration is from timestamps.

How a clip rule is judged
-------------------------
* Only the frames of the rule's activity segments are used (plus up to
  SEGMENT_LEAD_IN_S of frames labelled unknown right next to a segment: the activity
  tracker confirms a change only after it has held, so a walk's first second is
  labelled unknown). Each contiguous run of an activity is measured on its own.
* A measurement is a series of time-stamped samples (a frame, a sliding window, a
  stride) and sometimes one clip value (the median forward arm peak, the rhythm CV)
  that decides the verdict on its own; then the samples only locate violations.
* Debouncing: a violation starts when a sample fails, goes on while samples fail or
  stay within RELEASE_FRACTION of the limit (hysteresis), bridges passing or unknown
  stretches shorter than BRIDGE_S, and counts only if it lasts the rule's
  `min_duration_s` (as in the frame stage, a clip shorter than that can still fail
  if it fails nearly throughout). Violations are `Interval`s (rule, start, end, peak).
* A verdict the camera view or the clip cannot support is `unknown` with a reason
  code (report.REASONS has the en/zh text): `view`, `few_strides`, `one_arm`,
  `no_steps`, `legs_hidden`, `too_short`, `not_measured`, `single_frame`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from statistics import median
from typing import Any, Callable, Sequence

import numpy as np

from . import temporal
from .activity import Segment
from .profile import Check, Rule
from .rules import FAIL, PASS, REASON_ACTIVITY, REASON_HIDDEN, REASON_VIEW, UNKNOWN, evaluate_rule
from .scoring import clip_fails
from .session import MAX_FRAME_GAP_S, FrameRecord, Interval, RuleSummary, Session, frame_durations

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------- constants

# Unknown-labelled frames next to an activity segment join it for over-time measurements,
# up to this long (the tracker's confirmation lag: ~0.5 s hold plus ~0.5 s of motion history).
SEGMENT_LEAD_IN_S = 1.0
# A run of an activity shorter than this (with a person in view) is not measured over time.
MIN_RUN_S = 1.0
# Passing or unknown stretches shorter than this do not end a violation.
BRIDGE_S = 0.5
# Hysteresis: once failing, a sample keeps the violation going until it is back inside
# the limit by this share of the limit's size (e.g. sway limit 0.10 -> released below 0.09).
RELEASE_FRACTION = 0.1
# Window lengths and bands of the over-time measurements. The 3 s sway window and the
# 2-8 Hz jiggle band are the standard's definitions (STANDARDS.md); the others are ours.
SWAY_WINDOW_S = 3.0
TWIST_WINDOW_S = 2.0
JIGGLE_BAND_HZ = (2.0, 8.0)
JIGGLE_WINDOW_S = 2.0
HEAD_SHAKE_BAND_HZ = (1.0, 4.0)
HEAD_SHAKE_WINDOW_S = 2.0
HEAD_SHAKE_HOP_S = 0.25
# Leg jiggle needs a knee or ankle in view for at least this share of the sitting time.
MIN_LEG_COVERAGE = 0.5
# Bows: the drill's angles and the tolerance of the --bow-angle check.
BOW_STANDARD_DEG = (15.0, 30.0, 45.0)
BOW_TOLERANCE_DEG = 5.0
# "The forearm swings but the upper arm does not" (arm_swing_forearm_only): in a stride whose
# whole arm (shoulder->wrist) swings at least FOREARM_ONLY_MIN_WHOLE_DEG forward (below it the
# arm just hangs), the upper arm makes less than FOREARM_ONLY_MAX_UPPER_SHARE of that forward
# peak (the rest is the elbow bending). A whole-arm peak pairs with the upper-arm peak nearest
# in time within FOREARM_PAIR_FRACTION of a stride.
FOREARM_ONLY_MIN_WHOLE_DEG = 10.0
FOREARM_ONLY_MAX_UPPER_SHARE = 0.5
FOREARM_PAIR_FRACTION = 0.25

# Reason codes for unknown clip verdicts (text in report.REASONS).
REASON_SINGLE_FRAME = "single_frame"
REASON_NOT_MEASURED = "not_measured"
REASON_TOO_SHORT = "too_short"
REASON_FEW_STRIDES = "few_strides"
REASON_ONE_ARM = "one_arm"
REASON_NO_STEPS = "no_steps"
REASON_LEGS_HIDDEN = "legs_hidden"
REASON_NO_BOW = "no_bow"

# Views of temporal.ViewEstimate as profile view names ("front" also covers a back view).
_VIEW_NAMES = {"side": "side", "front": "front", "oblique": "oblique", "unknown": "unknown"}
_LEG_POINTS = (25, 26, 27, 28)  # LM.LEFT_KNEE, RIGHT_KNEE, LEFT_ANKLE, RIGHT_ANKLE


# --------------------------------------------------------------------------- results


@dataclass
class ClipVerdicts:
    """Summaries of the clip-scope rules and the observations behind them."""

    summaries: dict[str, RuleSummary] = field(default_factory=dict)
    observations: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Sample:
    """One time-stamped value of a clip measurement.

    Shown over [start_s, end_s] (a frame, a sliding window, the swing of one stride);
    own_s is the share of the timeline it stands for (a frame's duration, the hop
    between sliding windows), so overlapping windows are not counted twice. value None
    = could not be measured there.
    """

    start_s: float
    end_s: float
    value: float | bool | None
    own_s: float
    view: str


@dataclass(frozen=True)
class Series:
    """A clip measurement over the runs of one activity.

    clip_value, when set, decides the verdict by itself (e.g. the median per-stride
    forward peak), together with `part_values` (each must pass too; the worst failing
    one becomes the value), and the samples only locate violations. With neither
    samples nor a clip value, `reason` (and `view`) tell why.
    """

    samples: tuple[Sample, ...] = ()
    clip_value: float | None = None
    view: str = "unknown"
    reason: str | None = None
    # Clip values of parts that must each pass too (e.g. each arm's median), worst reported.
    part_values: tuple[float, ...] = ()


@dataclass(frozen=True)
class Run:
    """A contiguous stretch of one activity (frames of its segment plus the lead-in)."""

    activity: str
    start_s: float
    end_s: float
    records: tuple[FrameRecord, ...]
    durations: tuple[float, ...]

    @property
    def times_ms(self) -> list[int]:
        return [r.timestamp_ms for r in self.records]

    @cached_property
    def landmarks(self) -> list[Any]:
        return [_landmarks(r) for r in self.records]

    @property
    def seen_s(self) -> float:
        """Time with a person's landmarks in view."""
        return sum(d for lm, d in zip(self.landmarks, self.durations) if lm is not None)

    @cached_property
    def view(self) -> str:
        if not any(lm is not None for lm in self.landmarks):
            return "unknown"
        return _VIEW_NAMES.get(temporal.estimate_view(self.times_ms, self.landmarks).view, "unknown")


def _landmarks(rec: FrameRecord) -> Any:
    """The landmarks to measure over time: as detected (unsmoothed) when kept, else the smoothed ones.

    Smoothing (One-Euro, ~1.5 Hz at rest) takes most of a 4 Hz leg jiggle away and a few
    degrees off arm-swing peaks, so the raw landmarks are preferred.
    """
    raw = getattr(rec, "raw_landmarks", None)
    return raw if raw is not None else getattr(rec, "landmarks", None)


# --------------------------------------------------------------------------- runs


def activity_runs(session: Session, segments: Sequence[Segment], activity: str) -> list[Run]:
    """The runs of `activity`: its segments, each widened by up to SEGMENT_LEAD_IN_S into
    neighbouring `unknown` segments, overlapping ones merged."""
    spans: list[list[float]] = []
    segs = list(segments)
    for i, seg in enumerate(segs):
        if seg.activity != activity:
            continue
        start, end = seg.start_s, seg.end_s
        if i > 0 and segs[i - 1].activity == "unknown":
            start = max(segs[i - 1].start_s, start - SEGMENT_LEAD_IN_S)
        if i + 1 < len(segs) and segs[i + 1].activity == "unknown":
            end = min(segs[i + 1].end_s, end + SEGMENT_LEAD_IN_S)
        if spans and start <= spans[-1][1] + 1e-9:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    recs = session.records
    durations = frame_durations([r.timestamp_ms for r in recs])
    runs: list[Run] = []
    for start, end in spans:
        idx = [i for i, r in enumerate(recs) if start - 1e-9 <= r.timestamp_ms / 1000.0 < end - 1e-9]
        if idx:
            runs.append(Run(activity, start, end, tuple(recs[i] for i in idx), tuple(durations[i] for i in idx)))
    return runs


def split_by_facing(run: Run) -> list[Run]:
    """A walking run cut where the trainee turns around (temporal.facing_segments): each
    pass past a side camera shows the other arm and is measured on its own."""
    if run.view in ("front", "unknown"):
        return [run]
    parts = temporal.facing_segments(run.times_ms, run.landmarks)
    if len(parts) <= 1:
        return [run]
    out = []
    for start, end, _ in parts:
        idx = [i for i, r in enumerate(run.records) if start - 1e-9 <= r.timestamp_ms / 1000.0 < end - 1e-9]
        if idx:
            out.append(Run(run.activity, max(start, run.start_s), min(end, run.end_s),
                           tuple(run.records[i] for i in idx), tuple(run.durations[i] for i in idx)))
    return out


# --------------------------------------------------------------------------- measurements


class ActivityMeasurements:
    """Over-time measurements of one activity's runs, computed once and shared by the
    rules and the observations."""

    def __init__(self, activity: str, runs: Sequence[Run]) -> None:
        self.activity = activity
        self.runs = [r for r in runs if r.seen_s >= MIN_RUN_S]
        self.too_short = bool(runs) and not self.runs
        self._series: dict[str, Series] = {}

    # ---- per-run temporal results

    @cached_property
    def arm_swing(self) -> list[temporal.ArmSwing]:
        return [temporal.measure_arm_swing(r.times_ms, r.landmarks) for r in self.runs]

    @cached_property
    def steps(self) -> list[temporal.Steps]:
        return [temporal.detect_steps(r.times_ms, r.landmarks) for r in self.runs]

    @cached_property
    def jiggle(self) -> list[list[temporal.JiggleInterval]]:
        return [temporal.leg_jiggle(r.times_ms, r.landmarks, window_s=JIGGLE_WINDOW_S, band_hz=JIGGLE_BAND_HZ)
                for r in self.runs]

    @cached_property
    def bows(self) -> list[temporal.Bow]:
        return [b for r in self.runs for b in temporal.detect_bows(r.times_ms, r.landmarks)]

    def series(self, feature: str) -> Series:
        """The series of one clip measurement (or FrameFeatures field) over the runs."""
        if feature not in self._series:
            if not self.runs:
                s = Series(reason=REASON_TOO_SHORT if self.too_short else REASON_NOT_MEASURED)
            else:
                builder = CLIP_FEATURES.get(feature)
                s = builder(self) if builder is not None else _frame_feature_series(self, feature)
            self._series[feature] = s
        return self._series[feature]


def _view_of(views: Sequence[str], weights: Sequence[float]) -> str:
    """The view with the most time."""
    tally: Counter[str] = Counter()
    for v, w in zip(views, weights):
        tally[v] += w
    known = {k: v for k, v in tally.items() if k != "unknown"}
    return max(known, key=known.get) if known else "unknown"


def _arm_unknown(m: ActivityMeasurements) -> Series:
    """Why no arm swing could be measured: the view, too few strides or no rhythm."""
    views = [a.view for a in m.arm_swing]
    side = [a for a in m.arm_swing if a.view == "side"]
    if not side:
        return Series(view=_view_of([_VIEW_NAMES.get(v, "unknown") for v in views], [r.seen_s for r in m.runs]),
                      reason=REASON_VIEW)
    near = [getattr(a, a.near_side) for a in side if a.near_side]
    if any((n.reason or "").startswith("only") for n in near):
        return Series(view="side", reason=REASON_FEW_STRIDES)
    if any(a.stride_period_s is None and a.near_side for a in side):
        return Series(view="side", reason=REASON_NO_STEPS)  # neither the arms nor the feet kept a rhythm
    return Series(view="side", reason=REASON_NOT_MEASURED)


def _arm_swing_series(m: ActivityMeasurements, whole: bool = False) -> Series:
    """Median forward peak of the upper arm (`whole`: shoulder -> wrist) over the strides of
    the arms seen reliably; one sample per stride (shown from its backward to its forward peak)."""
    samples: list[Sample] = []
    per_arm: dict[str, list[float]] = {"left": [], "right": []}
    for a in m.arm_swing:
        for side in ("left", "right"):
            arm = getattr(a, side)
            if not arm.reliable:
                continue
            peaks = ((arm.forward_arm_deg, arm.forward_arm_t_s, arm.backward_arm_t_s) if whole
                     else (arm.forward_deg, arm.forward_t_s, arm.backward_t_s))
            for f, tf, tb in zip(*peaks):
                samples.append(Sample(min(tf, tb), max(tf, tb), f, a.stride_period_s or abs(tf - tb) * 2, "side"))
                per_arm[side].append(f)
    fwd = per_arm["left"] + per_arm["right"]
    if not fwd:
        return _arm_unknown(m)
    samples.sort(key=lambda s: s.start_s)
    parts = tuple(round(float(median(v)), 2) for v in per_arm.values() if v)
    return Series(tuple(samples), round(float(median(fwd)), 2), "side", part_values=parts if len(parts) > 1 else ())


def _forearm_only_series(m: ActivityMeasurements) -> Series:
    """Per stride of the arms seen reliably: True when the forearm swings but the upper arm
    does not (see FOREARM_ONLY_*; the standard swings the arm about the shoulder,
    以肩关节为轴). Strides whose whole arm hangs are left out. Clip value: most strides."""
    samples: list[Sample] = []
    for a in m.arm_swing:
        period = a.stride_period_s or 0.0
        for side in ("left", "right"):
            arm = getattr(a, side)
            if not arm.reliable:
                continue
            for upper, tf, tb in zip(arm.forward_deg, arm.forward_t_s, arm.backward_t_s):
                pairs = [(abs(tw - tf), w) for w, tw in zip(arm.forward_arm_deg, arm.forward_arm_t_s)
                         if abs(tw - tf) <= FOREARM_PAIR_FRACTION * period]
                if not pairs:
                    continue
                whole = min(pairs)[1]
                if whole < FOREARM_ONLY_MIN_WHOLE_DEG:
                    continue
                flag = upper < FOREARM_ONLY_MAX_UPPER_SHARE * whole
                samples.append(Sample(min(tf, tb), max(tf, tb), flag, period or abs(tf - tb) * 2, "side"))
    if not samples:
        return _arm_unknown(m)
    samples.sort(key=lambda s: s.start_s)
    return Series(tuple(samples), 2 * sum(bool(s.value) for s in samples) > len(samples), "side")


def _arm_ranges(m: ActivityMeasurements) -> dict[str, list[float]]:
    """Per arm, swing range per stride (forward + backward peak) from runs where it was seen reliably."""
    out: dict[str, list[float]] = {"left": [], "right": []}
    for a in m.arm_swing:
        for side in ("left", "right"):
            arm = getattr(a, side)
            if arm.reliable:
                out[side] += [f + b for f, b in zip(arm.forward_deg, arm.backward_deg)]
    return out


def _arm_symmetry_series(m: ActivityMeasurements) -> Series:
    """Smaller / larger median swing range of the two arms (needs both arms measured,
    e.g. walking past the camera both ways)."""
    ranges = _arm_ranges(m)
    seen = [s for s in ("left", "right") if ranges[s]]
    if not seen:
        return _arm_unknown(m)
    if len(seen) == 1:
        return Series(view="side", reason=REASON_ONE_ARM)
    left, right = float(median(ranges["left"])), float(median(ranges["right"]))
    big = max(left, right)
    if big <= 0:
        return Series(view="side", reason=REASON_NOT_MEASURED)
    ratio = round(max(min(left, right), 0.0) / big, 3)
    span = [r for r, a in zip(m.runs, m.arm_swing) if a.left.reliable or a.right.reliable]
    sample = Sample(span[0].start_s, span[-1].end_s, ratio, sum(r.seen_s for r in span), "side")
    return Series((sample,), ratio, "side")


def _rhythm_series(m: ActivityMeasurements) -> Series:
    """Coefficient of variation of the step times, per run (weighted by its intervals)."""
    samples: list[Sample] = []
    cvs: list[tuple[float, int]] = []
    for run, s in zip(m.runs, m.steps):
        if not s.reliable or s.step_times_cv is None:
            continue
        samples.append(Sample(s.times_s[0], s.times_s[-1], s.step_times_cv, run.seen_s, run.view))
        cvs.append((s.step_times_cv, len(s.intervals_s)))
    if not cvs:
        return Series(view=_view_of([r.view for r in m.runs], [r.seen_s for r in m.runs]), reason=REASON_NO_STEPS)
    cv = sum(c * n for c, n in cvs) / sum(n for _, n in cvs)
    return Series(tuple(samples), round(cv, 4), samples[0].view)


def _window_series(m: ActivityMeasurements, fn: Callable[..., list[temporal.SwaySample]], window_s: float) -> Series:
    """Sliding-window samples (shown over their window, standing for the hop since the last)."""
    samples: list[Sample] = []
    for run in m.runs:
        wins = fn(run.times_ms, run.landmarks, window_s=window_s)
        if not wins:
            continue
        frame_s = float(np.median(run.durations))
        hops = np.diff([wins[0].t_s - frame_s] + [w.t_s for w in wins])
        for w, hop in zip(wins, hops):
            samples.append(Sample(round(max(w.t_s - window_s, run.start_s), 3), w.t_s, w.peak_to_peak_sw,
                                  float(min(hop, MAX_FRAME_GAP_S)), run.view))
    if not samples:
        return Series(view=_view_of([r.view for r in m.runs], [r.seen_s for r in m.runs]), reason=REASON_TOO_SHORT)
    return Series(tuple(samples), None, _view_of([s.view for s in samples], [s.own_s for s in samples]))


def _hip_sway_series(m: ActivityMeasurements) -> Series:
    return _window_series(m, temporal.lateral_sway, SWAY_WINDOW_S)


def _trunk_sway_series(m: ActivityMeasurements) -> Series:
    return _window_series(m, temporal.walking_sway, TWIST_WINDOW_S)


def _leg_coverage(run: Run) -> float:
    """Share of the run's time with a knee or ankle visible inside the frame."""
    seen = 0.0
    for lm, d in zip(run.landmarks, run.durations):
        if lm is None:
            continue
        xy = lm.image[list(_LEG_POINTS), :2]
        inside = np.all((xy >= 0.0) & (xy <= 1.0), axis=1)
        if np.any(inside & (lm.visibility[list(_LEG_POINTS)] >= temporal.VIS_MIN)):
            seen += d
    total = sum(run.durations)
    return seen / total if total > 0 else 0.0


def _leg_jiggle_series(m: ActivityMeasurements) -> Series:
    """Jiggle amplitude over time: the strongest knee/ankle oscillation in the band on each
    stretch of the timeline (0 where none), for runs with the legs in view."""
    samples: list[Sample] = []
    hidden = 0
    for run, found in zip(m.runs, m.jiggle):
        if _leg_coverage(run) < MIN_LEG_COVERAGE:
            hidden += 1
            continue
        t0, t1 = run.records[0].timestamp_ms / 1000.0, run.records[-1].timestamp_ms / 1000.0 + run.durations[-1]
        cuts = sorted({t0, t1, *[j.start_s for j in found], *[j.end_s for j in found]})
        for a, b in zip(cuts[:-1], cuts[1:]):
            if b - a <= 1e-6 or a < t0 - 1e-9 or b > t1 + 1e-9:
                continue
            amp = max((j.amplitude_sw for j in found if j.start_s <= a + 1e-9 and j.end_s >= b - 1e-9), default=0.0)
            samples.append(Sample(round(a, 3), round(b, 3), round(amp, 4), b - a, run.view))
    if not samples:
        return Series(view=_view_of([r.view for r in m.runs], [r.seen_s for r in m.runs]),
                      reason=REASON_LEGS_HIDDEN if hidden else REASON_NOT_MEASURED)
    return Series(tuple(samples), None, _view_of([s.view for s in samples], [s.own_s for s in samples]))


def _frame_values(run: Run, name: str) -> list[Any]:
    out = []
    for rec in run.records:
        f = rec.features
        out.append(getattr(f, name, None) if f is not None else None)
    return out


def _frame_feature_series(m: ActivityMeasurements, name: str) -> Series:
    """A FrameFeatures field, one sample per frame (judged over time by the clip stage)."""
    samples: list[Sample] = []
    for run in m.runs:
        for rec, d, v in zip(run.records, run.durations, _frame_values(run, name)):
            t = rec.timestamp_ms / 1000.0
            samples.append(Sample(t, round(t + d, 3), v, d, rec.view))
    return Series(tuple(samples), None, _view_of([s.view for s in samples], [s.own_s for s in samples]))


def _head_shake_series(m: ActivityMeasurements) -> Series:
    """Amplitude (degrees) of a HEAD_SHAKE_BAND_HZ oscillation of the head yaw (relative to
    the trunk) over sliding windows; 0 where no oscillation dominates."""
    samples: list[Sample] = []
    for run in m.runs:
        t = np.array(run.times_ms, dtype=np.float64)
        yaw = np.array([np.nan if v is None else float(v) for v in _frame_values(run, "head_yaw_deg")])
        if t.size < 2 or t[-1] - t[0] < HEAD_SHAKE_WINDOW_S * 1000:
            continue
        starts = np.arange(t[0], t[-1] - HEAD_SHAKE_WINDOW_S * 1000 + 1e-6, HEAD_SHAKE_HOP_S * 1000)
        for s0 in starts:
            sel = (t >= s0) & (t <= s0 + HEAD_SHAKE_WINDOW_S * 1000)
            value: float | None = None
            if np.isfinite(yaw[sel]).sum() >= 8:
                osc = temporal.detect_oscillation(t[sel], yaw[sel], HEAD_SHAKE_BAND_HZ)
                value = round(osc.amplitude, 2) if osc.present else 0.0
            samples.append(Sample(round(s0 / 1000, 3), round(s0 / 1000 + HEAD_SHAKE_WINDOW_S, 3), value,
                                  HEAD_SHAKE_HOP_S, run.view))
    if not samples:
        return Series(view=_view_of([r.view for r in m.runs], [r.seen_s for r in m.runs]), reason=REASON_TOO_SHORT)
    return Series(tuple(samples), None, _view_of([s.view for s in samples], [s.own_s for s in samples]))


# Clip measurements a clip rule's check may name (anything else must be a FrameFeatures field).
CLIP_FEATURES: dict[str, Callable[[ActivityMeasurements], Series]] = {
    "arm_swing_forward_deg": _arm_swing_series,
    "arm_swing_whole_forward_deg": lambda m: _arm_swing_series(m, whole=True),
    "arm_swing_forearm_only": _forearm_only_series,
    "arm_symmetry_ratio": _arm_symmetry_series,
    "step_time_cv": _rhythm_series,
    "trunk_sway_sw": _trunk_sway_series,
    "hip_sway_sw": _hip_sway_series,
    "leg_jiggle_sw": _leg_jiggle_series,
    "head_shake_deg": _head_shake_series,
}


# --------------------------------------------------------------------------- judging


def _tighten(check: Check, fraction: float) -> Check:
    """The check with its range moved inward by `fraction` of each limit's size (hysteresis)."""
    if check.kind != "range":
        return check
    lo = None if check.min is None else check.min + fraction * abs(check.min)
    hi = None if check.max is None else check.max - fraction * abs(check.max)
    if lo is not None and hi is not None and lo > hi:
        lo = hi = (lo + hi) / 2
    return dataclasses.replace(check, min=lo, max=hi)


def _excess(check: Check, value: Any) -> float:
    """How far a value lies outside a range check (0 inside or for non-numeric checks)."""
    if check.kind != "range" or not isinstance(value, (int, float)) or isinstance(value, bool):
        return 0.0
    v = abs(float(value)) if check.abs else float(value)
    return max(0.0, (v - check.max) if check.max is not None else 0.0, (check.min - v) if check.min is not None else 0.0)


@dataclass
class _Violation:
    start_s: float
    end_s: float
    duration_s: float = 0.0
    fail_values: list[Any] = field(default_factory=list)


def debounce(samples: Sequence[Sample], statuses: Sequence[str], holding: Sequence[bool],
             bridge_s: float = BRIDGE_S) -> list[_Violation]:
    """Violations from per-sample statuses (samples in time order).

    A violation starts at a failing sample, goes on through failing samples and samples
    that still `hold` it (not clearly back inside the limit), bridges other stretches
    shorter than `bridge_s`, and lasts the own time of the samples it spans.
    """
    out: list[_Violation] = []
    cur: _Violation | None = None
    gap = 0.0
    pending: list[float] = []
    for s, st, hold in zip(samples, statuses, holding):
        if st == FAIL:
            if cur is None:
                cur = _Violation(s.start_s, s.end_s)
            cur.duration_s += sum(pending) + s.own_s
            cur.end_s = max(cur.end_s, s.end_s)
            cur.fail_values.append(s.value)
            gap, pending = 0.0, []
        elif cur is not None and hold and st != UNKNOWN:
            cur.duration_s += sum(pending) + s.own_s
            cur.end_s = max(cur.end_s, s.end_s)
            gap, pending = 0.0, []
        elif cur is not None and gap + s.own_s <= bridge_s:
            gap += s.own_s
            pending.append(s.own_s)
        elif cur is not None:
            out.append(cur)
            cur, gap, pending = None, 0.0, []
    if cur is not None:
        out.append(cur)
    return out


def _peak(check: Check, values: Sequence[Any]) -> Any:
    nums = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if nums:
        return max(nums, key=lambda v: (_excess(check, v), abs(v)))
    return values[0] if values else None


def _judge_check(rule: Rule, check: Check, series: Series) -> RuleSummary:
    """Verdict of one check of a clip rule on one series."""
    sub = dataclasses.replace(rule, checks=(check,), standard_checks={})
    tight = dataclasses.replace(rule, checks=(_tighten(check, RELEASE_FRACTION),), standard_checks={})
    name = check.features[0]
    if series.clip_value is None and not series.samples:
        reason = series.reason or REASON_NOT_MEASURED
        if reason == REASON_VIEW and series.view in check.views:
            reason = REASON_NOT_MEASURED
        return RuleSummary(rule.id, UNKNOWN, None, None, 0.0, (), reason)

    verdicts = [evaluate_rule(sub, {"view": s.view, name: s.value}) for s in series.samples]
    statuses = [v.status for v in verdicts]
    holding = [evaluate_rule(tight, {"view": s.view, name: s.value}).status == FAIL for s in series.samples]
    known_s = sum(s.own_s for s, st in zip(series.samples, statuses) if st != UNKNOWN)
    fail_s = sum(s.own_s for s, st in zip(series.samples, statuses) if st == FAIL)
    violations = debounce(series.samples, statuses, holding)

    def interval(v: _Violation) -> Interval:
        return Interval(rule.id, round(v.start_s, 3), round(v.end_s, 3), _peak(check, v.fail_values))

    if series.clip_value is not None:
        verdict = evaluate_rule(sub, {"view": series.view, name: series.clip_value})
        clip_value = series.clip_value
        failing = [v for v in series.part_values
                   if evaluate_rule(sub, {"view": series.view, name: v}).status == FAIL]
        if verdict.status != UNKNOWN and failing:  # every part (arm) must pass: report the worst
            clip_value = max(failing, key=lambda v: _excess(check, v))
            verdict = evaluate_rule(sub, {"view": series.view, name: clip_value})
        ff = round(fail_s / known_s, 4) if known_s > 0 else (1.0 if verdict.status == FAIL else 0.0)
        if verdict.status == UNKNOWN:
            return RuleSummary(rule.id, UNKNOWN, None, None, 0.0, (), verdict.reason)
        if verdict.status == PASS and known_s > 0 and clip_fails(rule, False, ff):  # one definition of failing
            verdict = dataclasses.replace(verdict, status=FAIL, reason=name)
        intervals = tuple(interval(v) for v in violations) if verdict.status == FAIL else ()
        if verdict.status == FAIL and not intervals and series.samples:
            s0, s1 = series.samples[0], series.samples[-1]
            intervals = (Interval(rule.id, round(s0.start_s, 3), round(s1.end_s, 3), clip_value),)
        return RuleSummary(rule.id, verdict.status, clip_value, ff, round(known_s, 3), intervals, verdict.reason)

    if known_s <= 0:
        reasons = [v.reason for v in verdicts if v.reason]
        reason = Counter(reasons).most_common(1)[0][0] if reasons else REASON_HIDDEN
        return RuleSummary(rule.id, UNKNOWN, None, None, 0.0, (), reason)
    min_dur = min(rule.min_duration_s, 0.8 * known_s)
    sustained = [v for v in violations if v.duration_s + 1e-6 >= min_dur]
    if not sustained and clip_fails(rule, False, fail_s / known_s):  # many brief slips: a failure too
        sustained = list(violations)
        if not sustained:  # slips too brief even to debounce: the failing samples are the violation
            fails = [x for x, st in zip(series.samples, statuses) if st == FAIL]
            vals = [x.value for x in fails if x.value is not None]
            nums = [float(x) for x in vals if isinstance(x, (int, float)) and not isinstance(x, bool)]
            value_: Any = round(median(nums), 3) if nums else _peak(check, vals)
            span = (Interval(rule.id, round(fails[0].start_s, 3), round(fails[-1].end_s, 3), _peak(check, vals)),)
            return RuleSummary(rule.id, FAIL, value_, round(fail_s / known_s, 4), round(known_s, 3), span, name)
    if sustained:
        vals = [x for v in sustained for x in v.fail_values]
        nums = [float(x) for x in vals if isinstance(x, (int, float)) and not isinstance(x, bool)]
        value: Any = round(median(nums), 3) if nums else _peak(check, vals)
        return RuleSummary(rule.id, FAIL, value, round(fail_s / known_s, 4), round(known_s, 3),
                           tuple(interval(v) for v in sustained), name)
    vals = [s.value for s, st in zip(series.samples, statuses) if st != UNKNOWN and s.value is not None]
    nums = [float(x) for x in vals if isinstance(x, (int, float)) and not isinstance(x, bool)]
    value = round(median(nums), 3) if nums else (Counter(vals).most_common(1)[0][0] if vals else None)
    return RuleSummary(rule.id, PASS, value, round(fail_s / known_s, 4), round(known_s, 3), (), None)


def _merge(rule_id: str, parts: Sequence[RuleSummary], same_timeline: bool) -> RuleSummary:
    """One summary from those of several checks (same timeline) or several activities."""
    if len(parts) == 1:
        return parts[0]
    fails = [p for p in parts if p.status == FAIL]
    passes = [p for p in parts if p.status == PASS]
    known = [p for p in parts if p.status != UNKNOWN]
    if not known:
        return RuleSummary(rule_id, UNKNOWN, None, None, 0.0, (), parts[0].reason)
    lead = fails[0] if fails else passes[0]
    if same_timeline:
        known_s = max(p.known_s for p in known)
        ff = max(p.fail_fraction or 0.0 for p in known)
    else:
        known_s = sum(p.known_s for p in known)
        ff = sum((p.fail_fraction or 0.0) * p.known_s for p in known) / known_s if known_s > 0 else 0.0
    intervals = tuple(sorted((i for p in fails for i in p.intervals), key=lambda i: (i.start_s, i.end_s)))
    if same_timeline:  # several checks failing at once are one violation of the rule, not one per check
        intervals = _union(intervals, set(fails[0].intervals) if fails else set())
    return RuleSummary(rule_id, FAIL if fails else PASS, lead.value, round(ff, 4), round(known_s, 3), intervals,
                       lead.reason)


def _union(intervals: Sequence[Interval], preferred: set[Interval]) -> tuple[Interval, ...]:
    """Overlapping intervals (sorted by start) joined into one; its peak is a `preferred`
    (the leading check's) interval's where the joined ones include one, else the first's."""
    out: list[list[Interval]] = []
    for i in intervals:
        if out and i.start_s <= max(j.end_s for j in out[-1]):
            out[-1].append(i)
        else:
            out.append([i])
    joined = []
    for group in out:
        peak = next((j for j in group if j in preferred), group[0]).peak_value
        joined.append(Interval(group[0].rule_id, group[0].start_s, max(j.end_s for j in group), peak))
    return tuple(joined)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def judge_rule(rule: Rule, measurements: dict[str, ActivityMeasurements], standard: str | None = None) -> RuleSummary:
    """Verdict of one clip rule from the measurements of the activities present."""
    per_activity = []
    for act in rule.activities:
        m = measurements.get(act)
        if m is None:
            continue
        checks = rule.checks_for(standard)
        parts = [_judge_check(rule, c, m.series(c.features[0])) for c in checks]
        # When several checks fail, one with its own message (specific advice, e.g. "the
        # forearm swings but the upper arm does not") leads over the rule's general message.
        specific = [p for p, c in zip(parts, checks) if p.status == FAIL and c.message]
        parts = specific + [p for p in parts if not any(p is q for q in specific)]
        merged = _merge(rule.id, parts, same_timeline=True)
        # A boolean check's advice leads: show the rule's measured number (failing first) instead.
        numbers = sorted((p for p in parts if p.status != UNKNOWN and _is_number(p.value)), key=lambda p: p.status != FAIL)
        if merged.status == FAIL and isinstance(merged.value, bool) and numbers:
            merged = dataclasses.replace(merged, value=numbers[0].value)
        per_activity.append(merged)
    if not per_activity:
        return RuleSummary(rule.id, UNKNOWN, None, None, 0.0, (), REASON_ACTIVITY)
    return _merge(rule.id, per_activity, same_timeline=False)


# --------------------------------------------------------------------------- observations


def _arm_observation(m: ActivityMeasurements) -> dict[str, Any]:
    """observations.arm_swing: per arm, per stride forward/backward peaks of the upper arm
    (and of the whole arm), from the runs where that arm was seen reliably (else whatever
    was measured, with reliable false and the reason)."""
    out: dict[str, Any] = {}
    for side in ("left", "right"):
        arms = [getattr(a, side) for a in m.arm_swing]
        good = [x for x in arms if x.reliable]
        use = good or arms
        reasons = [x.reason for x in arms if x.reason]
        out[side] = {
            "forward_deg": [v for x in use for v in x.forward_deg],
            "backward_deg": [v for x in use for v in x.backward_deg],
            "forward_t_s": [v for x in use for v in x.forward_t_s],
            "backward_t_s": [v for x in use for v in x.backward_t_s],
            "reliable": bool(good),
            "near": any(x.near for x in arms) if arms else None,
            "reason": None if good else (reasons[0] if reasons else "not measured"),
            "forward_arm_deg": [v for x in use for v in x.forward_arm_deg],
            "backward_arm_deg": [v for x in use for v in x.backward_arm_deg],
        }
    periods = [a.stride_period_s for a in m.arm_swing if a.stride_period_s]
    out["view"] = _view_of([_VIEW_NAMES.get(a.view, "unknown") for a in m.arm_swing], [r.seen_s for r in m.runs])
    out["stride_period_s"] = round(float(median(periods)), 3) if periods else None
    out["measured"] = ("upper arm (shoulder-elbow) from the trunk line in the sagittal plane, side view (image, "
                       "sideways hang and the detector's left/right elbow bias corrected); *_arm_deg: whole arm "
                       "(shoulder-wrist)")
    return out


def _steps_observation(m: ActivityMeasurements) -> dict[str, Any]:
    times = [t for s in m.steps for t in s.times_s]
    intervals = [i for s in m.steps for i in s.intervals_s]
    series = m.series("step_time_cv")
    cadence = [s.cadence_spm for s in m.steps if s.cadence_spm is not None]
    reasons = [s.reason for s in m.steps if s.reason]
    return {"times_s": times, "intervals_s": intervals, "cv": series.clip_value,
            "cadence_spm": round(float(median(cadence)), 1) if cadence else None,
            "reliable": any(s.reliable for s in m.steps), "reason": None if any(s.reliable for s in m.steps)
            else (reasons[0] if reasons else "not measured")}


def nearest_standard_bow(flexion_deg: float) -> float:
    """The drill angle (15, 30 or 45 degrees) nearest a measured bow."""
    return min(BOW_STANDARD_DEG, key=lambda a: abs(a - flexion_deg))


def _bow_observation(b: temporal.Bow) -> dict[str, Any]:
    """A bow. From the side its flexion is measured from the trainee's own upright stance
    in the clip (MediaPipe's hip-shoulder line of an upright person leans back ~5-10 deg
    seen from the side, so the angle from vertical would under-read the bow); from the
    front temporal already measures it from upright (its baseline is foreshortening noise)."""
    flexion = round(max(b.max_flexion_deg - (b.baseline_deg if b.view != "front" else 0.0), 0.0), 1)
    return {"start_s": b.start_s, "end_s": b.end_s, "peak_s": b.peak_s, "max_flexion_deg": flexion,
            "hold_s": round(b.hold_s, 2), "returned_upright": b.returned_upright,
            "nearest_standard_deg": nearest_standard_bow(flexion), "trunk_from_vertical_deg": b.max_flexion_deg,
            "baseline_deg": b.baseline_deg, "view": b.view}


def bow_check(bows: Sequence[dict[str, Any]], asked_deg: float) -> dict[str, Any]:
    """The --bow-angle verdict: every bow within BOW_TOLERANCE_DEG of the asked angle and back upright.

    status unknown (reason `no_bow`) when no bow was found. measured_deg is the bow
    furthest from the asked angle (the one that decides).
    """
    out: dict[str, Any] = {"asked_deg": asked_deg, "tolerance_deg": BOW_TOLERANCE_DEG}
    if not bows:
        return {**out, "status": UNKNOWN, "measured_deg": None, "reason": REASON_NO_BOW, "per_bow": []}
    per_bow = []
    for b in bows:
        diff = b["max_flexion_deg"] - asked_deg
        reason = None
        if diff < -BOW_TOLERANCE_DEG:
            reason = "too_shallow"
        elif diff > BOW_TOLERANCE_DEG:
            reason = "too_deep"
        elif not b["returned_upright"]:
            reason = "not_returned"
        per_bow.append({"start_s": b["start_s"], "measured_deg": b["max_flexion_deg"], "hold_s": b["hold_s"],
                        "status": FAIL if reason else PASS, "reason": reason})
    worst = max(per_bow, key=lambda p: (p["status"] == FAIL, abs(p["measured_deg"] - asked_deg)))
    return {**out, "status": FAIL if any(p["status"] == FAIL for p in per_bow) else PASS,
            "measured_deg": worst["measured_deg"], "reason": worst["reason"], "per_bow": per_bow}


# --------------------------------------------------------------------------- entry point


def judge_clip(session: Session, segments: Sequence[Segment], rules: Sequence[Rule], kind: str, *,
               bow_angle: float | None = None, standard: str | None = None) -> ClipVerdicts:
    """Judge the clip-scope rules among `rules` over the session, and gather observations.

    Observations (videos): `arm_swing` and `steps` when walking was seen, `bows` when
    standing was seen, `leg_jiggle` when sitting was seen, `bow_check` when `bow_angle`
    is given.
    """
    out = ClipVerdicts()
    clip_rules = [r for r in rules if r.scope == "clip"]
    if kind == "image" or not session.records:
        reason = REASON_SINGLE_FRAME if kind == "image" else "no_frames"
        for rule in clip_rules:
            out.summaries[rule.id] = RuleSummary(rule.id, UNKNOWN, None, None, 0.0, (), reason)
        if bow_angle is not None:
            out.observations["bow_check"] = {"asked_deg": bow_angle, "tolerance_deg": BOW_TOLERANCE_DEG,
                                             "status": UNKNOWN, "measured_deg": None, "reason": reason,
                                             "per_bow": []}
        return out
    present = {s.activity for s in segments if s.activity != "unknown"}
    measurements = {}
    for act in sorted(present):
        runs = activity_runs(session, segments, act)
        if act == "walking":
            runs = [part for run in runs for part in split_by_facing(run)]
        measurements[act] = ActivityMeasurements(act, runs)
    for rule in clip_rules:
        out.summaries[rule.id] = judge_rule(rule, measurements, standard)
    obs = out.observations
    if "walking" in measurements and measurements["walking"].runs:
        obs["arm_swing"] = _arm_observation(measurements["walking"])
        obs["steps"] = _steps_observation(measurements["walking"])
    bows = [_bow_observation(b) for b in measurements["standing"].bows] if "standing" in measurements else []
    obs["bows"] = bows
    if "sitting" in measurements and measurements["sitting"].runs:
        obs["leg_jiggle"] = [{"start_s": j.start_s, "end_s": j.end_s, "freq_hz": j.freq_hz,
                              "amplitude_sw": j.amplitude_sw, "part": j.part}
                             for found in measurements["sitting"].jiggle for j in found]
    if bow_angle is not None:
        obs["bow_check"] = bow_check(bows, float(bow_angle))
    return out
