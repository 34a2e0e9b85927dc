"""Line-up inspection (班前会仪容仪表检查): every person in one photo (or the best frame of a clip),
each judged on the standing and grooming rules, listed left to right.

The photo path of the pose stage finds everyone (whole frame, overlapping tiles, each person
confirmed on a crop round them; see `pose.PoseEstimator`), here with every tile level searched
(`search_every_tile`: a supervisor waits a few seconds for one picture); every person found,
not only the trainee, goes through the same judging stage as `analyze` (features, rules, the
face on a crop round that person's head, the one score) as a photo of that person alone.
A clip is inspected at one frame: of LINEUP_CLIP_SAMPLES evenly spaced frames, the one where
the most people are found (the earliest of equals).

`inspect_lineup` returns a `Lineup`; `lineup_json` makes the `posturecheck.lineup/1` object
(a list of per-person `posturecheck.analysis/1` objects plus a box and a position). Crops
are JPEG bytes kept in memory for the HTML page only; the JSON holds no pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .analyze import AnalyzeOptions, ClipAnalysis, FrameAnalyzer, finalize
from .face import FaceDetector, FaceEstimator, FaceEstimatorOptions
from .grooming import FaceFeatures, measure_face_result
from .landmarks import PoseLandmarks
from .pose import Estimator, PoseEstimator, PoseEstimatorOptions, PoseResult
from .profile import load_profile
from .report import to_json, warning_text
from .session import Session
from .sources import Frame, ImageSource, VideoSource, open_source

SCHEMA = "posturecheck.lineup/1"
LINEUP_CLIP_SAMPLES = 8       # a clip: frames looked at (evenly spaced) to find the one with most people
BOX_MIN_VISIBILITY = 0.3      # landmarks that make a person's box (others may be guessed off-body)
BOX_MARGIN = 0.12             # the box grows by this share of its height on each side (hair, feet)
CROP_HEIGHT_PX = 360          # crops in the HTML page are scaled to this height
CROP_JPEG_QUALITY = 85

ProgressFn = Callable[[int, int | None], None]


@dataclass(frozen=True)
class LineupPerson:
    """One person of the line: position from the left (1 = leftmost), box in frame pixels, the analysis."""

    position: int
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels of the inspected frame
    analysis: ClipAnalysis
    crop_jpeg: bytes = field(default=b"", repr=False)


@dataclass(frozen=True)
class Lineup:
    """What a line-up inspection found in one file."""

    source: str
    kind: str                       # "image" or "video"
    frame_index: int                # the inspected frame (0 for a photo)
    timestamp_ms: int
    image_size: tuple[int, int]     # width, height of the inspected frame
    people: tuple[LineupPerson, ...]
    warnings: tuple[str, ...] = ()


def person_box(lm: PoseLandmarks, image_size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The person's box in pixels: their visible landmarks, grown by BOX_MARGIN, clipped to the frame."""
    w, h = image_size
    pts = lm.image[:, :2] * np.array([w, h], dtype=float)
    seen = lm.visibility >= BOX_MIN_VISIBILITY
    if seen.sum() >= 2:
        pts = pts[seen]
    pts = pts[np.isfinite(pts).all(axis=1)]
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    pad = BOX_MARGIN * max(y1 - y0, x1 - x0, 1.0)
    return (int(max(0, np.floor(x0 - pad))), int(max(0, np.floor(y0 - pad))),
            int(min(w, np.ceil(x1 + pad))), int(min(h, np.ceil(y1 + pad))))


def crop_jpeg(rgb: np.ndarray, box: tuple[int, int, int, int]) -> bytes:
    """The box cut from the frame, scaled to CROP_HEIGHT_PX high (never up), as JPEG bytes."""
    x0, y0, x1, y1 = box
    crop = rgb[y0:y1, x0:x1]
    if crop.size == 0:
        return b""
    if crop.shape[0] > CROP_HEIGHT_PX:
        s = CROP_HEIGHT_PX / crop.shape[0]
        crop = cv2.resize(crop, (max(1, round(crop.shape[1] * s)), CROP_HEIGHT_PX), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, CROP_JPEG_QUALITY])
    return buf.tobytes() if ok else b""


def _everyone(result: PoseResult) -> list[PoseLandmarks]:
    return [p for p in (result.person, *result.others) if p is not None]


def _best_frame(source: VideoSource | ImageSource, estimator: Any, progress: ProgressFn | None
                ) -> tuple[Frame | None, PoseResult | None]:
    """A photo's one frame; a clip's sampled frame with the most people found (earliest of equals)."""
    if isinstance(source, ImageSource):
        frame = next(iter(source))
        return frame, estimator.detect(frame.rgb, frame.timestamp_ms)
    total = source.info.frame_count if source.info and source.info.frame_count else None
    step = max(1, (total or LINEUP_CLIP_SAMPLES) // LINEUP_CLIP_SAMPLES)
    best: tuple[Frame | None, PoseResult | None] = (None, None)
    looked = 0
    for frame in source:
        if frame.index % step:
            continue
        result = estimator.detect(frame.rgb, looked)  # IMAGE mode: each sample is a photo
        looked += 1
        if best[1] is None or len(_everyone(result)) > len(_everyone(best[1])):
            best = (frame, result)
        if progress is not None:
            progress(looked, LINEUP_CLIP_SAMPLES)
        if looked >= LINEUP_CLIP_SAMPLES:
            break
    return best


def _judge_person(lm: PoseLandmarks, rgb: np.ndarray, timestamp_ms: int, options: AnalyzeOptions, source: str,
                  face_estimator: FaceDetector | None) -> ClipAnalysis:
    """One person as a photo of them alone: the same judging stage and end as `analyze`."""
    profile = options.profile or load_profile()
    face: FaceFeatures | None = None
    if face_estimator is not None:
        face = measure_face_result(face_estimator.detect(rgb, timestamp_ms, pose=lm), rgb)
    analyzer = FrameAnalyzer(profile, activity=options.activity, standard=options.standard, smooth=False,
                             single_image=True, grooming=face_estimator is not None,
                             badge_configured=options.badge_color is not None)
    session = Session(profile)
    session.add(analyzer.process(PoseResult(timestamp_ms, lm, 1), 0, face=face))
    return finalize(session, "image", source, forced_activity=options.activity,
                    faces=[face] if face_estimator is not None else None, raw_activity=[analyzer.last_raw_activity])


def inspect_lineup(path: str | Path, options: AnalyzeOptions | None = None, *, progress: ProgressFn | None = None,
                   estimator: Estimator | None = None, face_estimator: FaceDetector | None = None) -> Lineup:
    """Find everyone in a photo (or a clip's best frame) and judge each; raises `sources.MediaError`.

    `estimator` / `face_estimator` replace the bundled models (tests replay landmarks); the
    pose estimator must find everyone (IMAGE-mode behaviour: `PoseResult.others`)."""
    options = options or AnalyzeOptions()
    with open_source(path, max_side=options.max_side, max_image_pixels=options.max_image_pixels,
                     max_video_pixels=options.max_video_pixels, max_fps=None) as source:
        kind = "image" if isinstance(source, ImageSource) else "video"
        if estimator is None:
            with PoseEstimator(PoseEstimatorOptions(model=options.model, running_mode="image", search_every_tile=True,
                                                    num_poses=options.num_poses_photo)) as own:
                frame, result = _best_frame(source, own, progress)
        else:
            frame, result = _best_frame(source, estimator, progress)
        warnings = tuple(source.warnings)
    if frame is None or result is None:
        return Lineup(str(path), kind, 0, 0, (0, 0), (), warnings + ("no_person",))
    h, w = frame.rgb.shape[:2]
    people = sorted(_everyone(result), key=lambda p: float(np.nanmedian(p.image[:, 0])))
    own_face = options.face and face_estimator is None
    faces = FaceEstimator(FaceEstimatorOptions(running_mode="image")) if own_face else face_estimator
    judged: list[LineupPerson] = []
    try:
        for position, lm in enumerate(people, start=1):
            analysis = _judge_person(lm, frame.rgb, frame.timestamp_ms, options, str(path),
                                     faces if options.face else None)
            box = person_box(lm, (w, h))
            judged.append(LineupPerson(position, box, analysis, crop_jpeg(frame.rgb, box)))
    finally:
        if own_face and faces is not None:
            faces.close()
    if not judged:
        warnings += ("no_person",)
    return Lineup(str(path), kind, frame.index, frame.timestamp_ms, (w, h), tuple(judged), warnings)


def lineup_json(lineup: Lineup, lang: str = "en", standard: str | None = None) -> dict[str, Any]:
    """The `posturecheck.lineup/1` object: the inspected frame and one analysis object per person."""
    people = []
    for p in lineup.people:
        report = to_json(p.analysis, lang, standard)
        people.append({**report, "position": p.position,
                       "box": {"x0": p.box[0], "y0": p.box[1], "x1": p.box[2], "y1": p.box[3]}})
    return {
        "schema": SCHEMA,
        "source": lineup.source,
        "kind": lineup.kind,
        "frame_index": lineup.frame_index,
        "timestamp_s": round(lineup.timestamp_ms / 1000.0, 3),
        "image_size": {"width": lineup.image_size[0], "height": lineup.image_size[1]},
        "people_found": len(lineup.people),
        "people": people,
        "warnings": [warning_text(w, lang) for w in lineup.warnings],
        "lang": "zh" if lang == "zh" else "en",
        "standard": standard,
    }


def with_source(lineup: Lineup, name: str) -> Lineup:
    """The same line-up under another source name (an upload shown under the trainer's file name)."""
    people = tuple(replace(p, analysis=replace(p.analysis, source=name)) for p in lineup.people)
    return replace(lineup, source=name, people=people)
