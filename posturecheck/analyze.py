"""The pipeline for one photo or recorded clip: sources → pose → features → rules → session.

`FrameAnalyzer` is the per-frame part (also used by the live app): it owns the
landmark smoother and the activity tracker and turns a `PoseResult` into a
`FrameRecord`. `analyze_path` runs a whole file and returns a `ClipAnalysis`.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .activity import ActivityTracker, Segment, classify_posture, dominant_activity, segments_from_labels
from .face import FaceDetector, FaceEstimator, FaceEstimatorOptions, FaceSampler
from .features import LandmarkSmoother, compute_features
from .grooming import (FaceFeatures, face_flags, face_observation, greeting_observation, grooming_rules,
                       body_head_yaw, grooming_verdicts, is_grooming, measure_badge, measure_face_result)
from .native import limit_blas_threads
from .pose import Estimator, PoseEstimator, PoseEstimatorOptions, PoseResult
from .profile import Profile, load_profile
from .reference import load_reference, reference_observation
from .rules import PASS, evaluate_frame, rules_for
from .overtime import judge_clip
from .scoring import score
from .session import FrameRecord, RuleSummary, Session
from .sources import (DEFAULT_MAX_FPS, DEFAULT_MAX_IMAGE_PIXELS, DEFAULT_MAX_VIDEO_PIXELS, Frame, ImageSource,
                      VideoSource, media_kind, open_source, prefetch)

logger = logging.getLogger(__name__)

ACTIVITY_CHOICES = ("auto", "standing", "sitting", "walking")
STANDARDS = ("men", "women")
# Videos: a face answer is reused for frames in between face-model runs, up to this age.
FACE_HOLD_MS = 500
# Videos: frames waiting between two pipeline threads (each a decoded frame, 2.7 MB at 720p).
PIPELINE_DEPTH = 4


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
    bow_angle: float | None = None  # bow drill: the asked trunk flexion (15, 30 or 45 degrees)
    face: bool = True           # run the face stage: grooming.* rules, observations.face, greeting
    face_interval_ms: int = 100  # videos: run the face model at most this often (10 Hz), hold its answer
    badge_color: tuple[int, int, int] | None = None  # organisation's badge colour (RGB): judges grooming.badge
    reference: str | None = None  # reference pose name or JSON path: adds observations.reference (similarity)
    max_image_pixels: int | None = DEFAULT_MAX_IMAGE_PIXELS  # larger photos: refused / JPEG decoded reduced
    max_video_pixels: int | None = DEFAULT_MAX_VIDEO_PIXELS  # larger video frames: refused before decoding
    max_fps: float | None = DEFAULT_MAX_FPS  # faster clips: frames dropped by timestamp

    def __post_init__(self) -> None:
        if self.activity not in ACTIVITY_CHOICES:
            raise ValueError(f"activity must be one of {ACTIVITY_CHOICES}")
        if self.standard is not None and self.standard not in STANDARDS:
            raise ValueError(f"standard must be one of {STANDARDS}")
        if self.bow_angle is not None and not 0 < self.bow_angle <= 90:
            raise ValueError("bow_angle must be between 0 and 90 degrees (the drill asks 15, 30 or 45)")


class FrameAnalyzer:
    """Per-frame analysis with state (smoothing, activity hysteresis); no pixels kept."""

    def __init__(self, profile: Profile, *, activity: str = "auto", standard: str | None = None,
                 smooth: bool = True, single_image: bool = False, grooming: bool = False,
                 badge_configured: bool = False) -> None:
        self.profile = profile
        self.activity = activity
        self.standard = standard
        self.single_image = single_image
        self.grooming = grooming  # judge the grooming.* rules on the `face` given to process()
        self.badge_configured = badge_configured
        self._smoother = LandmarkSmoother() if smooth and not single_image else None
        self._tracker = ActivityTracker()
        # grooming.* rules are judged on the face (posturecheck.grooming), not on FrameFeatures.
        self._rule_ids = tuple(r.id for r in profile.rules if r.scope == "frame" and not is_grooming(r))
        self.last_raw_activity = "unknown"  # the frame's posture before hysteresis
        self.last_face: FaceFeatures | None = None
        limit_blas_threads()  # NumPy's tiny products on one thread: they must not fight the models

    def process(self, result: PoseResult, index: int, face: FaceFeatures | None = None,
                badge: float | None = None) -> FrameRecord:
        """One frame → FrameRecord; with `grooming`, `face` (and `badge`) add the grooming.* verdicts."""
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
        self.last_raw_activity = self._tracker.last_raw if self.activity == "auto" and not self.single_image \
            else activity
        verdicts = evaluate_frame(self.profile, feats, activity, rule_ids=self._rule_ids, standard=self.standard)
        if self.grooming:
            self.last_face = face
            verdicts += grooming_verdicts(self.profile, face, standard=self.standard, badge=badge,
                                          badge_configured=self.badge_configured,
                                          body_view=feats.view if feats is not None else "unknown",
                                          body_head_yaw_deg=body_head_yaw(feats))
        return FrameRecord(index, result.timestamp_ms, lm is not None, result.people_seen, activity,
                           feats.view if feats is not None else "unknown", feats, tuple(verdicts), lm,
                           result.person if result.person is not lm else None)


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
    # The models' answers (no pixels) when analysed with keep_detections: `rejudge` reuses them.
    detections: "Detections | None" = None

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
    def face_found(self) -> bool:
        return bool(self.extra_observations.get("face", {}).get("found"))

    @property
    def score(self) -> float | None:
        """The one score definition (posturecheck.scoring): None when no body rule was judged."""
        return score(self.summaries, self.session.profile)


ProgressFn = Callable[[int, int | None], None]


def summarise(session: Session, kind: str, forced_activity: str, *, bow_angle: float | None = None
              ) -> tuple[str, list[Segment], list[RuleSummary], dict[str, Any]]:
    """Clip activity, its segments, per-rule summaries of the listed rules, extra observations
    (over-time ones from `overtime.judge_clip`; `bow_angle` adds the bow drill's check)."""
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
            if rule not in listed and not is_grooming(rule):
                listed.append(rule)
    # grooming.* rules: listed (in any activity) when the face stage judged them.
    if recs and any(is_grooming(profile.rule(v.rule_id)) for v in recs[0].verdicts):
        listed.extend(grooming_rules(profile))
    frame_summaries = {s.rule_id: s for s in session.summarise([r for r in listed if r.scope == "frame"],
                                                                single_image=(kind == "image"))}
    clip = judge_clip(session, segments, listed, kind, bow_angle=bow_angle)
    summaries = [frame_summaries.get(r.id) or clip.summaries[r.id] for r in listed]
    return activity, segments, summaries, clip.observations


def _face_extras(profile: Profile, session: Session, faces: list[FaceFeatures | None],
                 raw_activity: list[str], kind: str) -> dict[str, Any]:
    """observations.face, and observations.greeting for a clip that starts seated and stands up."""
    out: dict[str, Any] = {"face": face_observation(profile, faces)}
    if kind == "video":
        eyes = [(v.status == PASS) if (v := r.verdict("grooming.eyes_forward")) and v.status != "unknown" else None
                for r in session.records]
        smiling = [face_flags(profile, f)["smiling"] if f is not None else None for f in faces]
        greeting = greeting_observation([r.timestamp_ms for r in session.records], raw_activity, faces, eyes, smiling)
        if greeting is not None:
            out["greeting"] = greeting
    return out


def _poses(frames: Iterable[Frame], estimator: Estimator, timings: dict[str, float]
           ) -> Iterator[tuple[Frame, PoseResult]]:
    """The pose model on every frame (the frame goes on to the face stage, then is dropped)."""
    for frame in frames:
        t0 = time.perf_counter()
        result = estimator.detect(frame.rgb, frame.timestamp_ms)
        timings["pose_s"] += time.perf_counter() - t0
        yield frame, result


def _faces(posed: Iterable[tuple[Frame, PoseResult]], sampler: FaceSampler | None,
           badge_color: tuple[int, int, int] | None, timings: dict[str, float]
           ) -> Iterator[tuple[int, PoseResult, FaceFeatures | None, float | None]]:
    """Face (and badge) results per frame: the last part of the loop that sees pixels."""
    for frame, result in posed:
        face = badge = None
        if sampler is not None:
            t0 = time.perf_counter()
            _, face = sampler.step(frame.rgb, frame.timestamp_ms, result.person, measure=measure_face_result)
            if badge_color is not None and result.person is not None:
                badge = measure_badge(frame.rgb, result.person, badge_color)
            timings["face_s"] += time.perf_counter() - t0
        yield frame.index, result, face, badge


@dataclass
class Detections:
    """What the models saw in one file, kept so it can be judged again without re-running them.

    Per frame: index, the PoseResult (landmarks only), the face answer and the badge fraction.
    No pixels. `rejudge` turns it into a ClipAnalysis for other options (activity, standard, bow).
    """

    source: str
    kind: str
    frames: list[tuple[int, PoseResult, FaceFeatures | None, float | None]]
    warnings: list[str]
    duration_s: float | None
    timings: dict[str, float]
    face: bool
    badge_configured: bool


def _judge(stream: Iterable[tuple[int, PoseResult, FaceFeatures | None, float | None]], profile: Profile,
           options: AnalyzeOptions, kind: str, timings: dict[str, float], *, face: bool, badge_configured: bool,
           progress: ProgressFn | None = None, total: int | None = None, keep: list | None = None
           ) -> tuple[Session, list[FaceFeatures | None], list[str]]:
    """The judging stage: model answers → FrameRecords (features, activity, verdicts) in a Session."""
    session = Session(profile)
    analyzer = FrameAnalyzer(profile, activity=options.activity, standard=options.standard,
                             smooth=options.smooth, single_image=(kind == "image"),
                             grooming=face, badge_configured=badge_configured)
    faces: list[FaceFeatures | None] = []
    raw_activity: list[str] = []
    for item in stream:
        index, result, face_answer, badge = item
        t2 = time.perf_counter()
        if keep is not None:
            keep.append(item)
        if face:
            faces.append(face_answer)
        session.add(analyzer.process(result, index, face=face_answer, badge=badge))
        raw_activity.append(analyzer.last_raw_activity)
        timings["rules_s"] = timings.get("rules_s", 0.0) + time.perf_counter() - t2
        if progress is not None:
            progress(len(session.records), total)
    return session, faces, raw_activity


def analyze_path(path: str | Path, options: AnalyzeOptions | None = None, *,
                 estimator: Estimator | None = None, progress: ProgressFn | None = None,
                 face_estimator: FaceDetector | None = None, keep_detections: bool = False) -> ClipAnalysis:
    """Analyse one photo or video file. Raises `sources.MediaError` for unreadable input.

    Videos are analysed at the profile's `analysis_fps` when the bundled model runs; an
    injected `estimator` (a replay of per-frame results) is given every frame.
    With `options.face` the face model (or `face_estimator`) runs too, on a crop around the
    pose head when a body is found; in videos at most every `face_interval_ms`, its answer
    held for up to FACE_HOLD_MS. No frame or face crop is kept. With `keep_detections` the
    models' answers are kept in `ClipAnalysis.detections`, so `rejudge` can apply other
    options without running the models again.
    """
    options = options or AnalyzeOptions()
    profile = options.profile or load_profile()
    kind = media_kind(path)
    reference = load_reference(options.reference) if options.reference is not None else None  # fail fast
    timings = {"pose_s": 0.0, "rules_s": 0.0}
    own_estimator = estimator is None
    own_face = options.face and face_estimator is None
    sampler: FaceSampler | None = None
    kept: list | None = [] if keep_detections else None
    with open_source(path, max_side=options.max_side, max_image_pixels=options.max_image_pixels,
                     max_video_pixels=options.max_video_pixels, max_fps=options.max_fps,
                     sample_fps=profile.analysis_fps if own_estimator else None) as source:
        if own_estimator:
            estimator = PoseEstimator(PoseEstimatorOptions(
                model=options.model, running_mode="image" if kind == "image" else "video",
                num_poses=options.num_poses_photo if kind == "image" else options.num_poses))
        if options.face:
            if own_face:
                face_estimator = FaceEstimator(FaceEstimatorOptions(
                    running_mode="image" if kind == "image" else "video"))
            sampler = FaceSampler(face_estimator, interval_ms=0 if kind == "image" else options.face_interval_ms,
                                  hold_ms=FACE_HOLD_MS)
            timings["face_s"] = 0.0
        total = source.info.frame_count if isinstance(source, VideoSource) and source.info else None
        try:
            video = isinstance(source, VideoSource)
            # Videos: decoding, the pose model, the face model and the rule engine each run in
            # their own thread (MediaPipe and OpenCV release the GIL), so the face and rules of
            # frame n overlap the pose of frame n+1 and the decoding of frame n+2.
            # Queues of PIPELINE_DEPTH frames: enough to keep every thread busy, few pixels held.
            stage = functools.partial(prefetch, size=PIPELINE_DEPTH) if video else iter
            stream = _faces(stage(_poses(stage(source), estimator, timings)), sampler, options.badge_color,
                            timings)
            session, faces, raw_activity = _judge(
                stage(stream), profile, options, kind, timings, face=options.face,
                badge_configured=options.badge_color is not None, progress=progress, total=total, keep=kept)
        finally:
            if own_estimator:
                estimator.close()
            if own_face and face_estimator is not None:
                face_estimator.close()
        warnings = list(source.warnings)
        duration = None
        if isinstance(source, VideoSource) and session.records:
            last = session.records[-1].timestamp_ms
            fps = source.info.fps if source.info else 30.0
            duration = round(last / 1000.0 + 1.0 / fps, 3)
    if kind == "image" and isinstance(source, ImageSource):
        duration = None
    analysis = finalize(session, kind, str(path), forced_activity=options.activity,
                        faces=faces if options.face else None, raw_activity=raw_activity, duration_s=duration,
                        warnings=warnings, timings=timings, bow_angle=options.bow_angle, reference=reference)
    if kept is not None:
        analysis.detections = Detections(str(path), kind, kept, list(source.warnings), duration, dict(timings),
                                         options.face, options.badge_color is not None)
    return analysis


def rejudge(detections: Detections, options: AnalyzeOptions) -> ClipAnalysis:
    """Judge stored model answers again with other options (activity, standard, profile, bow angle):
    the same judging stage as `analyze_path`, without running any model. The face and badge stages
    are as they were analysed (`options.face` and `options.badge_color` are not re-applied)."""
    profile = options.profile or load_profile()
    reference = load_reference(options.reference) if options.reference is not None else None
    timings = dict(detections.timings, rules_s=0.0)
    session, faces, raw_activity = _judge(iter(detections.frames), profile, options, detections.kind, timings,
                                          face=detections.face, badge_configured=detections.badge_configured)
    analysis = finalize(session, detections.kind, detections.source, forced_activity=options.activity,
                        faces=faces if detections.face else None, raw_activity=raw_activity,
                        duration_s=detections.duration_s, warnings=detections.warnings, timings=timings,
                        bow_angle=options.bow_angle, reference=reference)
    analysis.detections = detections
    return analysis


def finalize(session: Session, kind: str, source: str, *, forced_activity: str = "auto",
             faces: list[FaceFeatures | None] | None = None, raw_activity: list[str] | None = None,
             duration_s: float | None = None, warnings: Iterable[str] = (), timings: dict[str, float] | None = None,
             bow_angle: float | None = None, reference: Any = None) -> ClipAnalysis:
    """The one end of every analysis (files and live practice): clip summaries, over-time
    observations, the face extras (with `faces`, one per record), the reference similarity,
    and the no-person / several-people warnings."""
    profile = session.profile
    activity, segments, summaries, extra_obs = summarise(session, kind, forced_activity, bow_angle=bow_angle)
    if faces is not None:
        extra_obs = {**extra_obs, **_face_extras(profile, session, faces, list(raw_activity or []), kind)}
    if reference is not None:
        extra_obs = {**extra_obs, "reference": reference_observation(reference, session.records, activity)}
    warnings = list(warnings)
    people = max((r.people_seen for r in session.records), default=0)
    if not any(r.person_found for r in session.records):
        warnings.append("face_only" if extra_obs.get("face", {}).get("found") else "no_person")
    elif people > 1:
        warnings.append(f"people:{people}")
    return ClipAnalysis(source, kind, session, summaries, activity, segments, duration_s, warnings,
                        dict(timings or {}), extra_obs)
