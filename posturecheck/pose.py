"""Pose stage: MediaPipe PoseLandmarker (Tasks API) → `PoseLandmarks` of the trainee.

Modelled on the Tasks API itself: an options dataclass, a factory, a context
manager, fail-fast on misuse and explicit strictly increasing `timestamp_ms` in
VIDEO mode. When several people are in view the trainee is the largest, most
central person, then the one that overlaps the previous trainee most.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol, Sequence

import numpy as np

from .landmarks import NUM_LANDMARKS, PoseLandmarks
from .models import pose_model_path
from .native import NativeTask, block_telemetry

logger = logging.getLogger(__name__)

RUNNING_MODES = ("image", "video")
# How much a candidate must overlap the previous trainee to be "the same person".
SAME_PERSON_MIN_IOU = 0.2
# Photos: the detector's input is small, so groups are also searched in two overlapping
# halves (each this wide) to count the people in view; boxes overlapping more than
# DUPLICATE_IOU are the same person.
TILE_WIDTH = 0.6
DUPLICATE_IOU = 0.3


@dataclass(frozen=True)
class PoseEstimatorOptions:
    """What to run: model (`lite|full|heavy|PATH`), mode and confidences."""

    model: str = "full"
    running_mode: str = "video"
    num_poses: int = 2
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    count_people_in_tiles: bool = True  # IMAGE mode only: extra passes to count people in groups

    def __post_init__(self) -> None:
        if self.running_mode not in RUNNING_MODES:
            raise ValueError(f"running_mode must be one of {RUNNING_MODES}, got {self.running_mode!r}")
        if self.num_poses < 1:
            raise ValueError("num_poses must be >= 1")


@dataclass(frozen=True)
class PoseResult:
    """The estimator's answer for one frame."""

    timestamp_ms: int
    person: PoseLandmarks | None
    people_seen: int
    others: tuple[PoseLandmarks, ...] = field(default=(), repr=False)


class Estimator(Protocol):
    """Anything that turns an RGB frame into a `PoseResult` (real model or a replay)."""

    def detect(self, rgb: np.ndarray, timestamp_ms: int = 0) -> PoseResult: ...

    def close(self) -> None: ...


def _bbox(lm: PoseLandmarks) -> np.ndarray:
    """Pixel bounding box of the landmarks that are at least weakly visible."""
    p = lm.px
    keep = lm.visibility >= 0.3
    if keep.sum() >= 4:
        p = p[keep]
    return np.array([p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max()])


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def select_trainee(people: Sequence[PoseLandmarks], previous: PoseLandmarks | None = None) -> int:
    """Index of the trainee among `people`: same person as before, else largest and most central."""
    if not people:
        raise ValueError("no people to choose from")
    if len(people) == 1:
        return 0
    boxes = [_bbox(p) for p in people]
    if previous is not None:
        prev = _bbox(previous)
        overlaps = [_iou(prev, b) for b in boxes]
        best = int(np.argmax(overlaps))
        if overlaps[best] >= SAME_PERSON_MIN_IOU:
            return best
    w, h = people[0].image_size
    scores = []
    for b in boxes:
        area = (b[2] - b[0]) * (b[3] - b[1]) / float(w * h)
        cx, cy = (b[0] + b[2]) / 2 / w, (b[1] + b[3]) / 2 / h
        off_centre = np.hypot(cx - 0.5, (cy - 0.5) * 0.5)  # horizontal offset matters most
        scores.append(area * (1.0 - min(off_centre, 0.9)))
    return int(np.argmax(scores))


def _to_landmarks(image_lms, world_lms, size: tuple[int, int]) -> PoseLandmarks:
    arr = np.array([(p.x, p.y, p.z, p.visibility or 0.0, p.presence or 0.0) for p in image_lms],
                   dtype=np.float64)
    world = None
    if world_lms:
        world = np.array([(p.x, p.y, p.z) for p in world_lms], dtype=np.float64)
    if arr.shape[0] != NUM_LANDMARKS:
        raise RuntimeError(f"model returned {arr.shape[0]} landmarks, expected {NUM_LANDMARKS}")
    return PoseLandmarks(arr[:, :3], arr[:, 3], arr[:, 4], world, size)


class PoseEstimator(NativeTask):
    """MediaPipe PoseLandmarker wrapper; use as a context manager or call `close()`."""

    def __init__(self, options: PoseEstimatorOptions | None = None) -> None:
        import mediapipe as mp  # imported here so the pure stages never need it

        self.options = options or PoseEstimatorOptions()
        self.model_path = pose_model_path(self.options.model)
        vision = mp.tasks.vision
        mode = vision.RunningMode.VIDEO if self.options.running_mode == "video" else vision.RunningMode.IMAGE
        task_options = vision.PoseLandmarkerOptions(
            base_options=mp.tasks.BaseOptions(model_asset_path=str(self.model_path)),
            running_mode=mode,
            num_poses=self.options.num_poses,
            min_pose_detection_confidence=self.options.min_detection_confidence,
            min_pose_presence_confidence=self.options.min_presence_confidence,
            min_tracking_confidence=self.options.min_tracking_confidence,
        )
        self._mp = mp
        block_telemetry()  # before the task runner starts its usage logger
        self._adopt(vision.PoseLandmarker.create_from_options(task_options))
        self._last_ts: int | None = None
        self._previous: PoseLandmarks | None = None
        logger.debug("PoseLandmarker ready: %s (%s mode)", self.model_path.name, self.options.running_mode)

    def detect(self, rgb: np.ndarray, timestamp_ms: int = 0) -> PoseResult:
        """Run the model on one RGB uint8 frame; VIDEO mode needs strictly increasing timestamps."""
        if self._landmarker is None:
            raise RuntimeError("PoseEstimator is closed")
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an HxWx3 uint8 RGB frame, got {rgb.shape} {rgb.dtype}")
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        if self.options.running_mode == "video":
            ts = int(timestamp_ms)
            if self._last_ts is not None and ts <= self._last_ts:
                raise ValueError(f"timestamp_ms must increase strictly: {ts} after {self._last_ts}")
            self._last_ts = ts
            result = self._landmarker.detect_for_video(image, ts)
        else:
            result = self._landmarker.detect(image)
        size = (rgb.shape[1], rgb.shape[0])
        people = [
            _to_landmarks(lms, result.pose_world_landmarks[i] if result.pose_world_landmarks else None, size)
            for i, lms in enumerate(result.pose_landmarks or [])
        ]
        if not people:
            self._previous = None
            return PoseResult(int(timestamp_ms), None, 0)
        idx = select_trainee(people, self._previous if self.options.running_mode == "video" else None)
        self._previous = people[idx]
        others = tuple(p for i, p in enumerate(people) if i != idx)
        seen = len(people)
        if self.options.running_mode == "image" and self.options.count_people_in_tiles:
            seen = max(seen, self._count_in_tiles(rgb, people))
        return PoseResult(int(timestamp_ms), people[idx], seen, others)

    def _count_in_tiles(self, rgb: np.ndarray, people: Sequence[PoseLandmarks]) -> int:
        """People in a photo, also searching two overlapping side-by-side halves."""
        h, w = rgb.shape[:2]
        boxes = [_bbox(p) for p in people]
        tile_w = int(w * TILE_WIDTH)
        for x0 in (0, w - tile_w):
            tile = np.ascontiguousarray(rgb[:, x0:x0 + tile_w])
            res = self._landmarker.detect(self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=tile))
            for lms in res.pose_landmarks or []:
                b = _bbox(_to_landmarks(lms, None, (tile_w, h))) + np.array([x0, 0, x0, 0])
                if all(_iou(b, other) < DUPLICATE_IOU for other in boxes):
                    boxes.append(b)
        return len(boxes)


def create_estimator(options: PoseEstimatorOptions | None = None) -> PoseEstimator:
    """Factory mirroring `PoseLandmarker.create_from_options`."""
    return PoseEstimator(options)


class ReplayEstimator:
    """Estimator that replays stored results in order (tests, UI demos without a model)."""

    def __init__(self, results: Sequence[PoseLandmarks | None], people_seen: int | None = None,
                 loop: bool = True) -> None:
        self._results = list(results)
        self._people_seen = people_seen
        self._loop = loop
        self._i = 0
        self.closed = False

    def detect(self, rgb: np.ndarray, timestamp_ms: int = 0) -> PoseResult:
        if self.closed:
            raise RuntimeError("ReplayEstimator is closed")
        if not self._results:
            return PoseResult(int(timestamp_ms), None, 0)
        if self._i >= len(self._results) and not self._loop:
            lm = self._results[-1]
        else:
            lm = self._results[self._i % len(self._results)]
        self._i += 1
        seen = self._people_seen if self._people_seen is not None else (0 if lm is None else 1)
        return PoseResult(int(timestamp_ms), lm, seen)

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> ReplayEstimator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
