"""Session stage: per-frame verdicts → per-clip verdicts, observations and a score.

A rule fails over a clip when it fails continuously for at least its
`min_duration_s`, or for at least its `max_fail_share` of the time it could be
judged (`posturecheck.scoring.clip_fails`, the one definition); `fail_fraction` is
that share. Time is measured
from timestamps, not frame counts, because live frames can be dropped.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from statistics import median
from typing import Any, Sequence

from .profile import Profile, Rule
from .rules import FAIL, PASS, UNKNOWN, Verdict
from .scoring import clip_fails

logger = logging.getLogger(__name__)

# A frame's duration is the gap to the next frame, capped so a stall does not count as seconds.
MAX_FRAME_GAP_S = 0.5
# Unknown frames inside a failing run shorter than this do not break the run.
BRIDGE_UNKNOWN_S = 0.5


@dataclass(frozen=True)
class FrameRecord:
    """Everything the session keeps about one analysed frame (no pixels)."""

    index: int
    timestamp_ms: int
    person_found: bool
    people_seen: int
    activity: str
    view: str
    features: Any  # FrameFeatures | None
    verdicts: tuple[Verdict, ...]
    # The (smoothed) PoseLandmarks the features were computed from, or None: coordinates only,
    # no pixels; lets later stages (review video, over-time measurements) redraw or re-measure.
    landmarks: Any = None
    # The PoseLandmarks as detected, before smoothing (None when not kept or the same as
    # `landmarks`): over-time measurements need them, since smoothing (~1.5 Hz at rest)
    # takes most of a 4 Hz leg jiggle away and a few degrees off arm-swing peaks.
    raw_landmarks: Any = None

    def verdict(self, rule_id: str) -> Verdict | None:
        for v in self.verdicts:
            if v.rule_id == rule_id:
                return v
        return None


@dataclass(frozen=True)
class Interval:
    """A violation: rule, start, end and the worst value inside."""

    rule_id: str
    start_s: float
    end_s: float
    peak_value: float | str | bool | None

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class RuleSummary:
    rule_id: str
    status: str
    value: float | str | bool | None
    fail_fraction: float | None
    known_s: float
    intervals: tuple[Interval, ...] = ()
    reason: str | None = None


def frame_durations(timestamps_ms: Sequence[int]) -> list[float]:
    """Seconds each frame stands for (gap to the next frame, capped); one photo = 0."""
    n = len(timestamps_ms)
    if n <= 1:
        return [0.0] * n
    gaps = [min((timestamps_ms[i + 1] - timestamps_ms[i]) / 1000.0, MAX_FRAME_GAP_S) for i in range(n - 1)]
    return gaps + [median(gaps)]


def _peak(values: list[Any]) -> Any:
    nums = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if nums:
        return max(nums, key=abs)
    return values[0] if values else None


def summarise_rule(rule: Rule, records: Sequence[FrameRecord], durations: Sequence[float],
                   single_image: bool) -> RuleSummary:
    """Aggregate one rule over a clip (or one photo)."""
    statuses: list[str] = []
    values: list[Any] = []
    reasons: list[str] = []
    frame_reasons: list[str | None] = []
    for rec in records:
        v = rec.verdict(rule.id)
        statuses.append(v.status if v else UNKNOWN)
        values.append(v.value if v else None)
        frame_reasons.append(v.reason if v else None)
        if v and v.status == UNKNOWN and v.reason:
            reasons.append(v.reason)

    if single_image:
        st, val, reason = statuses[0], values[0], frame_reasons[0]
        ff = None if st == UNKNOWN else (1.0 if st == FAIL else 0.0)
        return RuleSummary(rule.id, st, val, ff, 0.0, (), reason)

    known_s = sum(d for s, d in zip(statuses, durations) if s != UNKNOWN)
    fail_s = sum(d for s, d in zip(statuses, durations) if s == FAIL)
    if known_s <= 0:
        reason = Counter(reasons).most_common(1)[0][0] if reasons else None
        return RuleSummary(rule.id, UNKNOWN, None, None, 0.0, (), reason)

    # Failing runs, bridging short unknown gaps.
    intervals: list[Interval] = []
    start = end = None
    run_vals: list[Any] = []
    gap = 0.0
    for rec, s, d, val in zip(records, statuses, durations, values):
        t = rec.timestamp_ms / 1000.0
        if s == FAIL:
            if start is None:
                start, run_vals = t, []
            end, gap = t + d, 0.0
            run_vals.append(val)
        elif s == UNKNOWN and start is not None and gap + d <= BRIDGE_UNKNOWN_S:
            gap += d
        elif start is not None:
            intervals.append(Interval(rule.id, round(start, 3), round(end, 3), _peak(run_vals)))
            start = None
    if start is not None:
        intervals.append(Interval(rule.id, round(start, 3), round(end, 3), _peak(run_vals)))

    # A clip shorter than the minimum duration can still fail if it fails nearly throughout.
    min_dur = min(rule.min_duration_s, 0.8 * known_s)
    sustained = tuple(iv for iv in intervals if iv.duration_s + 1e-6 >= min_dur)
    fail_fraction = round(fail_s / known_s, 4)
    failed = clip_fails(rule, bool(sustained), fail_fraction)
    if failed and not sustained:  # failed in many brief slips: they are the violations
        sustained = tuple(intervals)
    status = FAIL if failed else PASS
    reason = None
    if failed:  # report the feature that failed most often, and its typical failing value
        reason = Counter(r for s, r in zip(statuses, frame_reasons) if s == FAIL).most_common(1)[0][0]
        chosen = [v for s, v, r in zip(statuses, values, frame_reasons) if s == FAIL and r == reason and v is not None]
    else:
        chosen = [v for s, v in zip(statuses, values) if s != UNKNOWN and v is not None]
    nums = [float(v) for v in chosen if isinstance(v, (int, float)) and not isinstance(v, bool)]
    value: Any = round(median(nums), 3) if nums else (Counter(chosen).most_common(1)[0][0] if chosen else None)
    return RuleSummary(rule.id, status, value, fail_fraction, round(known_s, 3), sustained if failed else (), reason)


@dataclass
class Session:
    """Collects FrameRecords of one clip, photo or live drill and summarises them."""

    profile: Profile
    records: list[FrameRecord] = field(default_factory=list)

    def add(self, record: FrameRecord) -> None:
        if self.records and record.timestamp_ms <= self.records[-1].timestamp_ms:
            raise ValueError("frame timestamps must increase")
        self.records.append(record)

    def summarise(self, rules: Sequence[Rule], single_image: bool = False) -> list[RuleSummary]:
        if not self.records:
            return [RuleSummary(r.id, UNKNOWN, None, None, 0.0, (), "no_frames") for r in rules]
        durations = frame_durations([r.timestamp_ms for r in self.records])
        return [summarise_rule(r, self.records, durations, single_image) for r in rules]

    def observations(self) -> dict[str, Any]:
        """Most common hand placements and feet stance, legs crossed, median trunk tilt and head angles."""
        feats = [r.features for r in self.records if r.features is not None]

        def mode(name: str) -> str:
            vals = [getattr(f, name) for f in feats if getattr(f, name) != "unknown"]
            return Counter(vals).most_common(1)[0][0] if vals else "unknown"

        def med(name: str) -> float | None:
            vals = [getattr(f, name) for f in feats if getattr(f, name) is not None]
            return round(median(vals), 2) if vals else None

        crossed = [f.legs_crossed for f in feats if f.legs_crossed is not None]
        return {
            "hands": {"left": mode("hand_left"), "right": mode("hand_right")},
            "feet": mode("feet"),
            "legs_crossed": (sum(crossed) > len(crossed) / 2) if crossed else None,
            "trunk_tilt_deg": med("trunk_tilt_deg"),
            "head_yaw_deg": med("head_yaw_deg"),
            "head_pitch_deg": med("head_pitch_deg"),
            "head_roll_deg": med("head_roll_deg"),
        }

    def view(self) -> str:
        views = [r.view for r in self.records if r.person_found and r.view != "unknown"]
        return Counter(views).most_common(1)[0][0] if views else "unknown"
