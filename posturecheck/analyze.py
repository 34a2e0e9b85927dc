"""The pipeline for one photo or recorded clip: sources → pose → features → rules → session.

`FrameAnalyzer` is the per-frame part (also used by the live app): it owns the
landmark smoother and the activity tracker and turns a `PoseResult` into a
`FrameRecord`. `analyze_path` runs a whole file and returns a `ClipAnalysis`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .activity import ActivityTracker, Segment, classify_posture, dominant_activity, segments_from_labels
from .features import LandmarkSmoother, compute_features
from .pose import Estimator, PoseEstimator, PoseEstimatorOptions, PoseResult
from .profile import Profile, load_profile
from .rules import evaluate_frame, rules_for
from .overtime import judge_clip
from .session import FrameRecord, RuleSummary, Session, score
from .sources import ImageSource, VideoSource, media_kind, open_source, prefetch

logger = logging.getLogger(__name__)

ACTIVITY_CHOICES = ("auto", "standing", "sitting", "walking")
STANDARDS = ("men", "women")


@dataclass(frozen=True)
class AnalyzeOptions:
    """How to analyse: activity (auto or forced), model, profile, standard, smoothing."""

    activity: str = "auto"
    model: str = "full"
    profile: Profile | None = None
    standard: str | None = None
    smooth: bool = True
    max_side: int | None = 1280
    num_poses: int = 2          # videos: trainee + one more to notice others
    num_poses_photo: int = 5    # photos: cheap, so look for a whole group

    def __post_init__(self) -> None:
        if self.activity not in ACTIVITY_CHOICES:
            raise ValueError(f"activity must be one of {ACTIVITY_CHOICES}")
        if self.standard is not None and self.standard not in STANDARDS:
            raise ValueError(f"standard must be one of {STANDARDS}")


class FrameAnalyzer:
    """Per-frame analysis with state (smoothing, activity hysteresis); no pixels kept."""

    def __init__(self, profile: Profile, *, activity: str = "auto", standard: str | None = None,
                 smooth: bool = True, single_image: bool = False) -> None:
        self.profile = profile
        self.activity = activity
        self.standard = standard
        self.single_image = single_image
        self._smoother = LandmarkSmoother() if smooth and not single_image else None
        self._tracker = ActivityTracker()
        self._rule_ids = profile.frame_rule_ids

    def process(self, result: PoseResult, index: int) -> FrameRecord:
        lm = result.person
        feats = None
        if lm is not None:
            if self._smoother is not None:
                lm = self._smoother(lm, result.timestamp_ms)
            feats = compute_features(lm, min_visibility=self.profile.min_visibility)
        elif self._smoother is not None:
            self._smoother.reset()
        if self.activity != "auto":
            activity = self.activity if lm is not None else "unknown"
        elif self.single_image:
            activity = classify_posture(lm, feats) if lm is not None else "unknown"
        else:
            activity = self._tracker.update(lm, feats, result.timestamp_ms)
        verdicts = evaluate_frame(self.profile, feats, activity, rule_ids=self._rule_ids, standard=self.standard)
        return FrameRecord(index, result.timestamp_ms, lm is not None, result.people_seen, activity,
                           feats.view if feats is not None else "unknown", feats, tuple(verdicts))


@dataclass
class ClipAnalysis:
    """Result of analysing one file: what the JSON report is made from."""

    source: str
    kind: str
    session: Session
    summaries: list[RuleSummary]
    activity: str
    segments: list[Segment]
    duration_s: float | None
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    extra_observations: dict[str, Any] = field(default_factory=dict)

    @property
    def frames_analyzed(self) -> int:
        return len(self.session.records)

    @property
    def person_found(self) -> bool:
        return any(r.person_found for r in self.session.records)

    @property
    def people_seen(self) -> int:
        return max((r.people_seen for r in self.session.records), default=0)

    @property
    def score(self) -> float | None:
        if not self.person_found:
            return None
        return score(self.summaries, self.session.profile)


ProgressFn = Callable[[int, int | None], None]


def summarise(session: Session, kind: str, forced_activity: str
              ) -> tuple[str, list[Segment], list[RuleSummary], dict[str, Any]]:
    """Clip activity, its segments, per-rule summaries of the listed rules, extra observations."""
    recs = session.records
    profile = session.profile
    if kind == "image":
        activity = recs[0].activity if recs else "unknown"
        segments: list[Segment] = []
    else:
        stamps = [r.timestamp_ms for r in recs]
        segments = segments_from_labels(stamps, [r.activity for r in recs]) if recs else []
        activity = forced_activity if forced_activity != "auto" else dominant_activity(segments)
    listed: list = []
    present = {s.activity for s in segments if s.activity != "unknown"} or {activity}
    for act in sorted(present, key=lambda a: a != activity):
        for rule in rules_for(profile, act):
            if rule not in listed:
                listed.append(rule)
    frame_summaries = {s.rule_id: s for s in session.summarise([r for r in listed if r.scope == "frame"],
                                                                single_image=(kind == "image"))}
    clip = judge_clip(session, segments, listed, kind)
    summaries = [frame_summaries.get(r.id) or clip.summaries[r.id] for r in listed]
    return activity, segments, summaries, clip.observations


def analyze_path(path: str | Path, options: AnalyzeOptions | None = None, *,
                 estimator: Estimator | None = None, progress: ProgressFn | None = None) -> ClipAnalysis:
    """Analyse one photo or video file. Raises `sources.MediaError` for unreadable input."""
    options = options or AnalyzeOptions()
    profile = options.profile or load_profile()
    kind = media_kind(path)
    session = Session(profile)
    timings = {"pose_s": 0.0, "rules_s": 0.0}
    own_estimator = estimator is None
    with open_source(path, max_side=options.max_side) as source:
        if own_estimator:
            estimator = PoseEstimator(PoseEstimatorOptions(
                model=options.model, running_mode="image" if kind == "image" else "video",
                num_poses=options.num_poses_photo if kind == "image" else options.num_poses))
        analyzer = FrameAnalyzer(profile, activity=options.activity, standard=options.standard,
                                 smooth=options.smooth, single_image=(kind == "image"))
        total = source.info.frame_count if isinstance(source, VideoSource) and source.info else None
        try:
            frames = prefetch(source) if isinstance(source, VideoSource) else iter(source)
            for frame in frames:
                t0 = time.perf_counter()
                result = estimator.detect(frame.rgb, frame.timestamp_ms)
                t1 = time.perf_counter()
                session.add(analyzer.process(result, frame.index))
                timings["pose_s"] += t1 - t0
                timings["rules_s"] += time.perf_counter() - t1
                if progress is not None:
                    progress(len(session.records), total)
        finally:
            if own_estimator:
                estimator.close()
        warnings = list(source.warnings)
        duration = None
        if isinstance(source, VideoSource) and session.records:
            last = session.records[-1].timestamp_ms
            fps = source.info.fps if source.info else 30.0
            duration = round(last / 1000.0 + 1.0 / fps, 3)
    activity, segments, summaries, extra_obs = summarise(session, kind, options.activity)
    people = max((r.people_seen for r in session.records), default=0)
    if not any(r.person_found for r in session.records):
        warnings.append("no_person")
    elif people > 1:
        warnings.append(f"people:{people}")
    if kind == "image" and isinstance(source, ImageSource):
        duration = None
    return ClipAnalysis(str(path), kind, session, summaries, activity, segments, duration, warnings, timings,
                        extra_obs)
