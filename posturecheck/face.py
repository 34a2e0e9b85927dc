"""Face stage: MediaPipe FaceLandmarker (Tasks API) → the trainee's 478-point face mesh.

Modelled on `pose.py`: an options dataclass, a factory, a context manager and
strictly increasing `timestamp_ms` in VIDEO mode. The bundled model
(`models/face_landmarker.task`) has the short-range face detector, which finds
faces within about 2 m of the camera only; in full-body shots the face is a few
dozen pixels wide, so when the pose stage found the trainee the face model runs
on a square crop around the pose landmarks' head, upscaled to `crop_size`. The
mesh is mapped back to the frame's pixels. No pixels are kept.

`FaceSampler` runs the model at a lower rate for live video and holds the last
answer for a short while (the face changes slowly compared with the body).

Head pose and the crop: the crop follows the pose head, so it moves and changes size from
frame to frame (and switches to the whole frame for close-ups). MediaPipe's VIDEO mode
tracks the face from the previous frame's landmarks *in the previous input's
coordinates*; on a moved crop that region is stale, and the model then returns a second,
distorted mesh (on a frontal face: yaw 33° one frame after a change of crop, 15° the next)
that could be chosen as the trainee's. So the landmarker always runs in the Tasks IMAGE
mode (detector and landmarks on every call, no stale region); `running_mode="video"`
keeps its contract (strictly increasing timestamps). With `hair=True` the hair
segmentation model (`hair.HairSegmenter`) also runs on a crop around the chosen face.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Sequence

import cv2
import numpy as np

from .landmarks import PoseLandmarks
from .models import MODELS_DIR, ModelNotFoundError
from .native import NativeTask, block_telemetry

if TYPE_CHECKING:  # hair.py imports this module
    from .hair import HairMask

logger = logging.getLogger(__name__)

FACE_MODEL_PATH = MODELS_DIR / "face_landmarker.task"
NUM_FACE_POINTS = 478
RUNNING_MODES = ("image", "video")
# Pose landmarks of the head: nose, eyes (inner, centre, outer), ears, mouth corners.
POSE_HEAD_POINTS = tuple(range(11))
POSE_HEAD_MIN_VISIBILITY = 0.3
# Crop side = this × the head's span seen by the pose model (ear to ear in a front view);
# the short-range detector wants a face that fills a good part of its 128 px input.
HEAD_CROP_SCALE = 2.6
# The head span is at least this fraction of the shoulder width (side views shrink ear-to-ear).
HEAD_SPAN_MIN_SHOULDER = 0.55
# A face found on the whole frame belongs to the trainee if its centre is this close
# to the pose head centre (in head spans).
SAME_FACE_MAX_OFFSET = 1.0
# FaceLandmarks.source of a face found on the whole frame away from the pose head.
SOURCE_OFF_POSE = "frame_off_pose"
# In VIDEO mode, when the head fills more than this fraction of the frame's short
# side, the whole frame is used instead of a crop (close-up webcam shots).
CLOSE_UP_HEAD_FRACTION = 0.35


@dataclass(frozen=True)
class FaceEstimatorOptions:
    """What to run: mode, confidences, and how to crop around the pose head."""

    running_mode: str = "image"
    num_faces: int = 2          # faces per pass; the trainee's is chosen (nearest the pose head, else largest)
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    head_crop: bool = True      # crop around the pose head when pose landmarks are given
    crop_size: int = 256        # crops are resized (usually upscaled) to this square size
    model_path: str | None = None
    hair: bool = True           # also run the hair segmentation model on the chosen face
    hair_min_face_px: int = 48  # ...when the face mesh is at least this wide
    hair_flip_average: bool = True  # average the hair model over the crop and its mirror (2 runs)

    def __post_init__(self) -> None:
        if self.running_mode not in RUNNING_MODES:
            raise ValueError(f"running_mode must be one of {RUNNING_MODES}, got {self.running_mode!r}")
        if self.num_faces < 1:
            raise ValueError("num_faces must be >= 1")
        if self.crop_size < 64:
            raise ValueError("crop_size must be >= 64")


@dataclass(frozen=True)
class FaceLandmarks:
    """One face mesh in one frame.

    points: (478, 3) in pixels of the analysed frame: x right, y down, z depth in the
    same pixel scale (smaller = nearer the camera; MediaPipe's relative z × crop width).
    Points 468–472 / 473–477: the iris of the subject's right / left eye (centre, then 4
    boundary points), predicted by the bundled FaceMesh-with-attention model (z from the eye contour).
    image_size: (width, height) of the frame; source: "frame", "head_crop", or SOURCE_OFF_POSE
    (found on the whole frame away from where the pose model put the head: a close-up on which
    the pose skeleton is not this face's body).
    """

    points: np.ndarray
    image_size: tuple[int, int]
    source: str = "frame"

    def __post_init__(self) -> None:
        if self.points.shape != (NUM_FACE_POINTS, 3):
            raise ValueError(f"face points must be ({NUM_FACE_POINTS}, 3), got {self.points.shape}")

    @property
    def width_px(self) -> float:
        """Width of the mesh (cheek to cheek) in frame pixels."""
        return float(np.ptp(self.points[:468, 0]))

    @property
    def center_px(self) -> np.ndarray:
        return self.points[:468, :2].mean(axis=0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (pixels rounded to 0.01) for fixtures and replay."""
        return {"image_size": list(self.image_size), "source": self.source,
                "points": np.round(self.points, 2).tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FaceLandmarks:
        return cls(np.asarray(d["points"], dtype=np.float64), (int(d["image_size"][0]), int(d["image_size"][1])),
                   str(d.get("source", "frame")))


@dataclass(frozen=True)
class FaceResult:
    """The face estimator's answer for one frame; `age_ms` > 0 when a held answer is reused."""

    timestamp_ms: int
    face: FaceLandmarks | None
    faces_seen: int = 0
    age_ms: int = 0
    hair: HairMask | None = None


class FaceDetector(Protocol):
    """Anything that finds the trainee's face mesh in an RGB frame (real model or a replay)."""

    def detect(self, rgb: np.ndarray, timestamp_ms: int = 0, pose: PoseLandmarks | None = None) -> FaceResult: ...

    def close(self) -> None: ...


def face_model_path(path: str | None = None) -> str:
    """The bundled FaceLandmarker `.task` (or `path`), checked to exist."""
    p = FACE_MODEL_PATH if path is None else Path(path).expanduser()
    if not p.is_file():
        raise ModelNotFoundError(f"face model file not found: {p}")
    return str(p)


def head_box(pose: PoseLandmarks, scale: float = HEAD_CROP_SCALE) -> tuple[float, float, float] | None:
    """(centre x, centre y, side) in pixels of a square around the pose head, or None if unseen."""
    px = pose.px
    idx = [i for i in POSE_HEAD_POINTS if pose.visibility[i] >= POSE_HEAD_MIN_VISIBILITY]
    if len(idx) < 3:
        return None
    pts = px[idx]
    diffs = pts[:, None, :] - pts[None, :, :]
    span = float(np.sqrt((diffs ** 2).sum(-1)).max())
    if pose.visibility[11] >= POSE_HEAD_MIN_VISIBILITY and pose.visibility[12] >= POSE_HEAD_MIN_VISIBILITY:
        span = max(span, HEAD_SPAN_MIN_SHOULDER * float(np.linalg.norm(px[11] - px[12])))
    if span < 2.0:
        return None
    cx, cy = pts.mean(axis=0)
    return float(cx), float(cy), scale * span


def crop_square(rgb: np.ndarray, cx: float, cy: float, side: float, out_size: int
                ) -> tuple[np.ndarray, float, float, float]:
    """Square crop centred on (cx, cy), padded with black outside the frame, resized to out_size.

    Returns the crop and (x0, y0, scale) so that frame = (x0, y0) + crop_px * scale.
    """
    h, w = rgb.shape[:2]
    side_i = max(4, int(round(side)))
    x0, y0 = int(round(cx - side_i / 2)), int(round(cy - side_i / 2))
    xa, ya, xb, yb = max(0, x0), max(0, y0), min(w, x0 + side_i), min(h, y0 + side_i)
    canvas = np.zeros((side_i, side_i, 3), np.uint8)
    if xb > xa and yb > ya:
        canvas[ya - y0:yb - y0, xa - x0:xb - x0] = rgb[ya:yb, xa:xb]
    interp = cv2.INTER_LINEAR if out_size >= side_i else cv2.INTER_AREA
    crop = cv2.resize(canvas, (out_size, out_size), interpolation=interp)
    return np.ascontiguousarray(crop), float(x0), float(y0), side_i / float(out_size)


def _mesh_px(lms: Sequence[Any], width: int, height: int) -> np.ndarray:
    """MediaPipe normalised landmarks → (478, 3) pixels of the image the model saw."""
    arr = np.array([(p.x, p.y, p.z) for p in lms], dtype=np.float64)
    if arr.shape[0] != NUM_FACE_POINTS:
        raise RuntimeError(f"face model returned {arr.shape[0]} points, expected {NUM_FACE_POINTS}")
    return arr * np.array([width, height, width], dtype=np.float64)


def _off_pose_head(mesh: np.ndarray, target: tuple[float, float, float] | None) -> bool:
    """Whether a chosen face lies farther from the pose head than a pose-head span (accepted
    only because the face itself is large: a close-up the pose model misplaced)."""
    if target is None:
        return False
    cx, cy, side = target
    return float(np.hypot(*(mesh[:468, :2].mean(axis=0) - (cx, cy)))) > SAME_FACE_MAX_OFFSET * side / HEAD_CROP_SCALE


def _choose(meshes: list[np.ndarray], target: tuple[float, float, float] | None) -> int | None:
    """Index of the trainee's face: nearest the pose head (if given and close enough), else largest.

    "Close enough" is measured in head sizes: the larger of the pose head's span and the
    face mesh's own width. On a close-up headshot the pose model often puts a small,
    misplaced skeleton on the face (a "head" a fifth of the face's size, beside it); the
    face itself is then the trainee's although its centre is several pose-head spans away.
    A bystander's face in a full-body shot stays small and far, and is still refused.
    """
    if not meshes:
        return None
    if target is not None:
        cx, cy, side = target
        span = side / HEAD_CROP_SCALE
        dists = [float(np.hypot(*(m[:468, :2].mean(axis=0) - (cx, cy)))) for m in meshes]
        best = int(np.argmin(dists))
        size = max(span, float(np.ptp(meshes[best][:468, 0])))
        return best if dists[best] <= SAME_FACE_MAX_OFFSET * size else None
    return int(np.argmax([np.ptp(m[:468, 0]) for m in meshes]))


class FaceEstimator(NativeTask):
    """MediaPipe FaceLandmarker wrapper; use as a context manager or call `close()`."""

    def __init__(self, options: FaceEstimatorOptions | None = None) -> None:
        import mediapipe as mp  # imported here so the pure stages never need it

        self.options = options or FaceEstimatorOptions()
        self.model_path = face_model_path(self.options.model_path)
        vision = mp.tasks.vision
        # Always IMAGE mode: VIDEO mode would track from a stale region of the previous crop.
        mode = vision.RunningMode.IMAGE
        task_options = vision.FaceLandmarkerOptions(
            base_options=mp.tasks.BaseOptions(model_asset_path=self.model_path),
            running_mode=mode,
            num_faces=self.options.num_faces,
            min_face_detection_confidence=self.options.min_detection_confidence,
            min_face_presence_confidence=self.options.min_presence_confidence,
            min_tracking_confidence=self.options.min_tracking_confidence,
            # Not in the bundle (see models/MODELS.md): smile and head pose come from the mesh.
            output_face_blendshapes=False,
            output_facial_transformation_matrixes=False,
        )
        self._mp = mp
        block_telemetry()  # before the task runner starts its usage logger
        self._adopt(vision.FaceLandmarker.create_from_options(task_options))
        self._last_ts: int | None = None
        self._hair: Any = None
        if self.options.hair:
            from .hair import HairSegmenter

            self._hair = HairSegmenter(flip_average=self.options.hair_flip_average)
        logger.debug("FaceLandmarker ready: %s (%s mode)", self.model_path, self.options.running_mode)

    def _run(self, rgb: np.ndarray, timestamp_ms: int) -> list[np.ndarray]:
        """All meshes the model finds in `rgb`, in that image's pixels."""
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        result = self._landmarker.detect(image)
        h, w = rgb.shape[:2]
        return [_mesh_px(lms, w, h) for lms in result.face_landmarks or []]

    def _check_timestamp(self, timestamp_ms: int) -> None:
        if self.options.running_mode != "video":
            return
        ts = int(timestamp_ms)
        if self._last_ts is not None and ts <= self._last_ts:
            raise ValueError(f"timestamp_ms must increase strictly: {ts} after {self._last_ts}")
        self._last_ts = ts

    def detect(self, rgb: np.ndarray, timestamp_ms: int = 0, pose: PoseLandmarks | None = None) -> FaceResult:
        """Find the trainee's face mesh in one RGB uint8 frame.

        With `pose` (the trainee's pose landmarks) the model runs on a crop around the
        pose head; IMAGE mode falls back to the whole frame when the crop finds nothing.
        VIDEO mode needs strictly increasing timestamps and makes one pass per frame.
        With the hair model on, `hair` holds the hair mask around the chosen face.
        """
        result = self._detect_face(rgb, timestamp_ms, pose)
        if result.face is not None and self._hair is not None and result.face.width_px >= self.options.hair_min_face_px:
            return FaceResult(result.timestamp_ms, result.face, result.faces_seen, 0, self._hair.segment(rgb, result.face))
        return result

    def close(self) -> None:
        """Release the native graphs now (idempotent)."""
        if self._hair is not None:
            self._hair.close()
            self._hair = None
        super().close()

    def _detect_face(self, rgb: np.ndarray, timestamp_ms: int, pose: PoseLandmarks | None) -> FaceResult:
        """The trainee's face mesh (see `detect`)."""
        if self._landmarker is None:
            raise RuntimeError("FaceEstimator is closed")
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an HxWx3 uint8 RGB frame, got {rgb.shape} {rgb.dtype}")
        self._check_timestamp(timestamp_ms)
        h, w = rgb.shape[:2]
        box = head_box(pose) if pose is not None and self.options.head_crop else None
        video = self.options.running_mode == "video"
        use_crop = box is not None and not (video and box[2] / HEAD_CROP_SCALE > CLOSE_UP_HEAD_FRACTION * min(w, h))
        if use_crop:
            crop, x0, y0, scale = crop_square(rgb, *box, self.options.crop_size)
            meshes = self._run(crop, timestamp_ms)
            mapped = [m * scale + np.array([x0, y0, 0.0]) for m in meshes]
            i = _choose(mapped, box)
            if i is not None:
                return FaceResult(int(timestamp_ms), FaceLandmarks(mapped[i], (w, h), "head_crop"), len(mapped))
            if video:
                return FaceResult(int(timestamp_ms), None, len(mapped))
        meshes = self._run(rgb, timestamp_ms)
        i = _choose(meshes, box)
        face = None
        if i is not None:
            face = FaceLandmarks(meshes[i], (w, h), SOURCE_OFF_POSE if _off_pose_head(meshes[i], box) else "frame")
        return FaceResult(int(timestamp_ms), face, len(meshes))


def create_face_estimator(options: FaceEstimatorOptions | None = None) -> FaceEstimator:
    """Factory mirroring `FaceLandmarker.create_from_options`."""
    return FaceEstimator(options)


@dataclass
class FaceSampler:
    """Runs a face detector at most every `interval_ms` and holds its answer up to `hold_ms`.

    Frames in between get the last answer with its age; after `hold_ms` without a new
    answer they get no face (a held face never outlives the trainee leaving the frame).
    `measure` (optional) turns a fresh `FaceResult` plus the frame into the features the
    caller wants, so held frames reuse them without measuring again.
    """

    detector: FaceDetector
    interval_ms: int = 0
    hold_ms: int = 500
    _last_run_ms: int | None = field(default=None, init=False)
    _last: FaceResult | None = field(default=None, init=False)
    _last_value: Any = field(default=None, init=False)
    runs: int = field(default=0, init=False)

    def step(self, rgb: np.ndarray, timestamp_ms: int, pose: PoseLandmarks | None = None,
             measure: Any = None) -> tuple[FaceResult, Any]:
        """(result, measured value) for this frame: fresh when due, else held."""
        ts = int(timestamp_ms)
        due = self._last_run_ms is None or ts - self._last_run_ms >= self.interval_ms or ts < self._last_run_ms
        if due:
            result = self.detector.detect(rgb, ts, pose)
            self._last_run_ms, self._last, self.runs = ts, result, self.runs + 1
            self._last_value = measure(result, rgb) if measure is not None and result.face is not None else None
            return result, self._last_value
        assert self._last is not None and self._last_run_ms is not None
        age = ts - self._last_run_ms
        if self._last.face is None or age > self.hold_ms:
            return FaceResult(ts, None, 0, age), None
        return FaceResult(ts, self._last.face, self._last.faces_seen, age, self._last.hair), self._last_value

    def close(self) -> None:
        self.detector.close()


class ReplayFaceEstimator:
    """Face detector that replays stored meshes (and hair masks) in order (tests, demos without a model)."""

    def __init__(self, results: Sequence[FaceLandmarks | None], loop: bool = True,
                 hairs: Sequence[HairMask | None] | None = None) -> None:
        self._results = list(results)
        self._hairs = list(hairs) if hairs is not None else [None] * len(self._results)
        if len(self._hairs) != len(self._results):
            raise ValueError("hairs must match results one to one")
        self._loop = loop
        self._i = 0
        self.closed = False

    def detect(self, rgb: np.ndarray, timestamp_ms: int = 0, pose: PoseLandmarks | None = None) -> FaceResult:
        if self.closed:
            raise RuntimeError("ReplayFaceEstimator is closed")
        if not self._results:
            return FaceResult(int(timestamp_ms), None, 0)
        i = self._i % len(self._results) if self._loop else min(self._i, len(self._results) - 1)
        self._i += 1
        face = self._results[i]
        return FaceResult(int(timestamp_ms), face, 0 if face is None else 1, 0, self._hairs[i] if face else None)

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> ReplayFaceEstimator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
