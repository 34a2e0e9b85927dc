"""Hand stage: MediaPipe HandLandmarker (Tasks API) on crops around the pose's wrists.

Modelled on `face.py`: an options dataclass, a factory, a context manager, fail-fast
checks and strictly increasing `timestamp_ms` in VIDEO mode. The bundled model
(`models/hand_landmarker.task`, built by `models/build_hand.py`) is BlazePalm + the
21-point hand landmark model. In full-body frames a hand is a few dozen pixels wide, too
small for the palm detector's 192 px input, so the model runs on a square crop around each
visible wrist of the trainee's pose (sized from the forearm, the pose's hand points and the
shoulders), upscaled to `crop_size`. The 21 points are mapped back to frame pixels and each
hand found is given to the pose's left or right wrist by distance. MediaPipe's handedness
label is kept for information only: its documentation describes it as assuming a mirrored
(selfie) image, a mirrored camera feed flips it, and it can be wrong (on the 30 unmirrored dev
photos it named the subject's own side for 33 of the 35 hands assigned here, the other 2
with scores 0.65 and 0.82).

Running mode: the landmarker always runs in the Tasks IMAGE mode, one call per crop. VIDEO
mode tracks a hand from the previous call's landmarks in the previous *input's*
coordinates; the crop moves and changes size with the wrist every frame, and the two
wrists' crops would alternate through one tracker, so the tracked region would be stale
(the same reason as in `face.py`). IMAGE mode runs the palm detector on every crop; that
is the price (scripts/benchmark_hands.py: about 20-35 ms per frame for one hand, 40-70 ms
for two on this project's 2-core test machine, so the stage runs at a reduced rate). `running_mode="video"` keeps
the VIDEO contract for callers (strictly increasing timestamps). No pixels are kept.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from .face import crop_square
from .landmarks import LM, PoseLandmarks
from .models import MODELS_DIR, ModelNotFoundError
from .native import NativeTask, block_telemetry

logger = logging.getLogger(__name__)

HAND_MODEL_PATH = MODELS_DIR / "hand_landmarker.task"
NUM_HAND_POINTS = 21
RUNNING_MODES = ("image", "video")
SIDES = ("left", "right")  # the subject's own left / right, as in the pose landmarks
# Pose landmarks of each side: (elbow, wrist, (pinky, index, thumb)).
POSE_ARM = {
    "left": (LM.LEFT_ELBOW, LM.LEFT_WRIST, (LM.LEFT_PINKY, LM.LEFT_INDEX, LM.LEFT_THUMB)),
    "right": (LM.RIGHT_ELBOW, LM.RIGHT_WRIST, (LM.RIGHT_PINKY, LM.RIGHT_INDEX, LM.RIGHT_THUMB)),
}
HAND_WRIST, HAND_MIDDLE_MCP = 0, 9  # MediaPipe hand landmark indices


@dataclass(frozen=True)
class HandEstimatorOptions:
    """What to run and how to crop around the pose's wrists (estimation options, not judging limits).

    Hand length (wrist to middle fingertip) is estimated from the pose as the largest of:
    `hand_per_forearm` x elbow-wrist, `hand_per_knuckles` x the farthest of the pose's pinky,
    index and thumb points from the wrist, `hand_per_shoulders` x shoulder width (each from
    points seen with at least `min_point_visibility`). Adult proportions: hand ~0.75 forearm,
    ~0.45 shoulder width; the pose's hand points sit about half a hand from the wrist.
    """

    running_mode: str = "image"
    num_hands_per_crop: int = 2          # a crop around one wrist may hold both hands
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    crop_size: int = 256                 # crops are resized (usually upscaled) to this square size
    min_wrist_visibility: float = 0.5    # a wrist seen less surely than this gets no crop
    min_point_visibility: float = 0.5    # elbow, hand points, shoulders used for the hand size
    hand_per_forearm: float = 0.75
    hand_per_knuckles: float = 2.0
    hand_per_shoulders: float = 0.45
    crop_hands: float = 2.4              # crop side in hand lengths
    crop_shift: float = 0.35             # crop centre moved this many hand lengths from the wrist towards the hand
    min_crop_px: float = 16.0            # a smaller crop (a far-away hand) is not run
    merge_crop_overlap: float = 0.5      # wrist crops sharing this fraction of the smaller one become one crop (above 1: never)
    max_wrist_offset: float = 1.0        # a hand's wrist farther than this (hand lengths) from a pose wrist is not the trainee's
    same_hand_max_offset: float = 0.5    # two finds are one hand if their points differ by less than this (palm lengths, mean)
    model_path: str | None = None

    def __post_init__(self) -> None:
        if self.running_mode not in RUNNING_MODES:
            raise ValueError(f"running_mode must be one of {RUNNING_MODES}, got {self.running_mode!r}")
        if self.num_hands_per_crop < 1:
            raise ValueError("num_hands_per_crop must be >= 1")
        if self.crop_size < 64:
            raise ValueError("crop_size must be >= 64")
        for name in ("hand_per_forearm", "hand_per_knuckles", "hand_per_shoulders", "crop_hands",
                     "min_crop_px", "max_wrist_offset", "same_hand_max_offset", "merge_crop_overlap"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0")


@dataclass(frozen=True)
class HandCrop:
    """A square crop around one pose wrist ("left"/"right"), or around both ("both": the wrists are
    close, e.g. hands clasped): centre and side in frame pixels, and the (larger) hand length used."""

    side: str
    cx: float
    cy: float
    size: float
    hand_px: float

    @property
    def origin(self) -> tuple[float, float]:
        """Top-left corner in frame pixels (the crop is `crop_square`'s, rounded the same way)."""
        side_i = max(4, int(round(self.size)))
        return float(int(round(self.cx - side_i / 2))), float(int(round(self.cy - side_i / 2)))

    @property
    def side_px(self) -> float:
        return float(max(4, int(round(self.size))))

    def to_frame(self, norm: np.ndarray) -> np.ndarray:
        """(N, 3) landmarks normalised to the crop (x, y in 0..1, z in crop widths) -> frame pixels."""
        x0, y0 = self.origin
        s = self.side_px
        return np.asarray(norm, dtype=np.float64) * s + np.array([x0, y0, 0.0])

    def to_dict(self) -> dict[str, Any]:
        return {"side": self.side, "cx": round(self.cx, 3), "cy": round(self.cy, 3),
                "size": round(self.size, 3), "hand_px": round(self.hand_px, 3)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HandCrop:
        return cls(str(d["side"]), float(d["cx"]), float(d["cy"]), float(d["size"]), float(d["hand_px"]))


@dataclass(frozen=True)
class CropHand:
    """One hand as the model returned it on a crop: points normalised to the crop."""

    points: np.ndarray          # (21, 3): x, y in 0..1 of the crop, z in crop widths
    world: np.ndarray | None    # (21, 3) metres, origin at the hand's centre
    handedness: str             # MediaPipe's label ("Left"/"Right", selfie convention)
    handedness_score: float

    def to_dict(self) -> dict[str, Any]:
        return {"points": np.round(self.points, 5).tolist(),
                "world": None if self.world is None else np.round(self.world, 5).tolist(),
                "handedness": self.handedness, "handedness_score": round(self.handedness_score, 4)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CropHand:
        world = d.get("world")
        return cls(np.asarray(d["points"], dtype=np.float64),
                   None if world is None else np.asarray(world, dtype=np.float64),
                   str(d["handedness"]), float(d["handedness_score"]))


@dataclass(frozen=True)
class HandLandmarks:
    """One of the trainee's hands in one frame.

    side: the pose wrist it was assigned to ("left"/"right", the subject's own).
    points: (21, 3) in pixels of the analysed frame (x right, y down, z depth relative to
    the wrist in the same pixel scale, smaller = nearer the camera).
    world: (21, 3) metres around the hand's centre, or None.
    handedness, handedness_score: MediaPipe's label and its confidence, for information only
    (the Tasks API exposes no hand presence score; every hand returned passed
    `min_presence_confidence`). crop: the crop the hand was found on.
    """

    side: str
    points: np.ndarray
    world: np.ndarray | None
    handedness: str
    handedness_score: float
    crop: HandCrop

    def __post_init__(self) -> None:
        if self.side not in SIDES:
            raise ValueError(f"side must be one of {SIDES}, got {self.side!r}")
        if self.points.shape != (NUM_HAND_POINTS, 3):
            raise ValueError(f"hand points must be ({NUM_HAND_POINTS}, 3), got {self.points.shape}")

    @property
    def wrist_px(self) -> np.ndarray:
        return self.points[HAND_WRIST, :2]

    @property
    def palm_px(self) -> float:
        """Wrist to middle-finger knuckle, in frame pixels."""
        return float(np.linalg.norm(self.points[HAND_MIDDLE_MCP, :2] - self.points[HAND_WRIST, :2]))


@dataclass(frozen=True)
class HandsResult:
    """The hand estimator's answer for one frame: the trainee's left and right hand, or None each."""

    timestamp_ms: int
    left: HandLandmarks | None
    right: HandLandmarks | None
    crops: tuple[HandCrop, ...] = ()
    hands_seen: int = 0         # distinct hands found on the crops (assigned or not)

    def side(self, name: str) -> HandLandmarks | None:
        if name not in SIDES:
            raise ValueError(f"side must be one of {SIDES}, got {name!r}")
        return self.left if name == "left" else self.right


class HandDetector(Protocol):
    """Anything that finds the trainee's hands in an RGB frame given the pose."""

    def detect(self, rgb: np.ndarray, timestamp_ms: int, pose: PoseLandmarks | None) -> HandsResult: ...

    def close(self) -> None: ...


def hand_model_path(path: str | None = None) -> str:
    """The bundled HandLandmarker `.task` (or `path`), checked to exist."""
    p = HAND_MODEL_PATH if path is None else Path(path).expanduser()
    if not p.is_file():
        raise ModelNotFoundError(f"hand model file not found: {p}")
    return str(p)


def hand_length_px(pose: PoseLandmarks, side: str, options: HandEstimatorOptions) -> float | None:
    """Estimated hand length (wrist to middle fingertip) in frame pixels, or None if nothing to go by."""
    elbow, wrist, hand_pts = POSE_ARM[side]
    px, vis, seen = pose.px, pose.visibility, options.min_point_visibility
    guesses = []
    if vis[elbow] >= seen:
        guesses.append(options.hand_per_forearm * float(np.linalg.norm(px[elbow] - px[wrist])))
    near = [float(np.linalg.norm(px[i] - px[wrist])) for i in hand_pts if vis[i] >= seen]
    if near:
        guesses.append(options.hand_per_knuckles * max(near))
    if vis[LM.LEFT_SHOULDER] >= seen and vis[LM.RIGHT_SHOULDER] >= seen:
        guesses.append(options.hand_per_shoulders
                       * float(np.linalg.norm(px[LM.LEFT_SHOULDER] - px[LM.RIGHT_SHOULDER])))
    return max(guesses) if guesses else None


def wrist_crop(pose: PoseLandmarks, side: str, options: HandEstimatorOptions) -> HandCrop | None:
    """The crop around one wrist, or None (wrist unseen or outside the frame, or hand too small)."""
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, got {side!r}")
    elbow, wrist, hand_pts = POSE_ARM[side]
    w, h = pose.image_size
    x, y = pose.px[wrist]
    if pose.visibility[wrist] < options.min_wrist_visibility or not (0 <= x < w and 0 <= y < h):
        return None
    hand = hand_length_px(pose, side, options)
    if hand is None or options.crop_hands * hand < options.min_crop_px:
        return None
    seen = [i for i in hand_pts if pose.visibility[i] >= options.min_point_visibility]
    if seen:
        toward = pose.px[seen].mean(axis=0) - pose.px[wrist]
    elif pose.visibility[elbow] >= options.min_point_visibility:
        toward = pose.px[wrist] - pose.px[elbow]
    else:
        toward = np.zeros(2)
    norm = float(np.linalg.norm(toward))
    shift = toward / norm * options.crop_shift * hand if norm > 0 else np.zeros(2)
    return HandCrop(side, float(x + shift[0]), float(y + shift[1]), options.crop_hands * hand, hand)


def crop_overlap(a: HandCrop, b: HandCrop) -> float:
    """Area shared by two crops, as a fraction of the smaller one."""
    ix = min(a.cx + a.size / 2, b.cx + b.size / 2) - max(a.cx - a.size / 2, b.cx - b.size / 2)
    iy = min(a.cy + a.size / 2, b.cy + b.size / 2) - max(a.cy - a.size / 2, b.cy - b.size / 2)
    return max(0.0, ix) * max(0.0, iy) / min(a.size, b.size) ** 2


def merge_crops(a: HandCrop, b: HandCrop) -> HandCrop:
    """The square around both crops (one model run instead of two for hands close together)."""
    x0, x1 = min(a.cx - a.size / 2, b.cx - b.size / 2), max(a.cx + a.size / 2, b.cx + b.size / 2)
    y0, y1 = min(a.cy - a.size / 2, b.cy - b.size / 2), max(a.cy + a.size / 2, b.cy + b.size / 2)
    return HandCrop("both", (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0), max(a.hand_px, b.hand_px))


def _palm_len(points: np.ndarray) -> float:
    return float(np.linalg.norm(points[HAND_MIDDLE_MCP, :2] - points[HAND_WRIST, :2]))


def merge_duplicates(found: Sequence[tuple[HandCrop, CropHand, np.ndarray]],
                     options: HandEstimatorOptions) -> list[tuple[HandCrop, CropHand, np.ndarray]]:
    """One entry per physical hand: finds whose points differ by less than
    `same_hand_max_offset` palm lengths (mean over the 21 points) are one hand; the find
    nearer its own crop's centre is kept (the hand sits better inside that crop)."""
    def centred(item: tuple[HandCrop, CropHand, np.ndarray]) -> float:
        crop, _, pts = item
        return float(np.hypot(*(pts[:, :2].mean(axis=0) - (crop.cx, crop.cy)))) / crop.size

    kept: list[tuple[HandCrop, CropHand, np.ndarray]] = []
    for item in sorted(found, key=centred):
        pts = item[2]
        dup = False
        for other in kept:
            palm = max(1e-6, min(_palm_len(pts), _palm_len(other[2])))
            if float(np.linalg.norm(pts[:, :2] - other[2][:, :2], axis=1).mean()) < options.same_hand_max_offset * palm:
                dup = True
                break
        if not dup:
            kept.append(item)
    return kept


def assign_sides(hands: Sequence[np.ndarray], pose: PoseLandmarks, hand_px: dict[str, float],
                 options: HandEstimatorOptions) -> dict[str, int]:
    """Give each pose wrist (with a hand length in `hand_px`) at most one hand, one-to-one,
    minimising the summed wrist-to-wrist distance in hand lengths; a hand farther than
    `max_wrist_offset` hand lengths from a wrist cannot take it. Returns side -> hand index."""
    sides = [s for s in SIDES if s in hand_px]
    cost = {(s, i): float(np.linalg.norm(pts[HAND_WRIST, :2] - pose.px[POSE_ARM[s][1]])) / hand_px[s]
            for s in sides for i, pts in enumerate(hands)}
    allowed = [[None, *[i for i in range(len(hands)) if cost[s, i] <= options.max_wrist_offset]]
               for s in sides]
    best: dict[str, int] = {}
    best_key = (0, 0.0)  # (hands assigned, -total cost): more hands first, then cheaper
    for pick in itertools.product(*allowed):
        chosen = {s: i for s, i in zip(sides, pick, strict=True) if i is not None}
        if len(set(chosen.values())) < len(chosen):
            continue  # one hand cannot take both wrists
        key = (len(chosen), -sum(cost[s, i] for s, i in chosen.items()))
        if key > best_key:
            best, best_key = chosen, key
    return best


def locate_hands(frame_size: tuple[int, int], pose: PoseLandmarks,
                 run_crop: Callable[[HandCrop], Sequence[CropHand]],
                 options: HandEstimatorOptions, timestamp_ms: int = 0) -> HandsResult:
    """The trainee's hands: crop around each wrist (one crop for both when they overlap by
    `merge_crop_overlap`), run `run_crop` on each crop (the model, or a replay), map the
    points to the frame, merge duplicate finds and assign sides."""
    if tuple(pose.image_size) != tuple(frame_size):
        raise ValueError(f"pose landmarks are for a {pose.image_size} frame, got a {frame_size} frame")
    crops = tuple(c for c in (wrist_crop(pose, s, options) for s in SIDES) if c is not None)
    hand_px = {c.side: c.hand_px for c in crops}
    if len(crops) == 2 and crop_overlap(*crops) >= options.merge_crop_overlap:
        crops = (merge_crops(*crops),)
    found = [(crop, hand, crop.to_frame(hand.points)) for crop in crops for hand in run_crop(crop)]
    distinct = merge_duplicates(found, options)
    chosen = assign_sides([pts for _, _, pts in distinct], pose, hand_px, options)
    out: dict[str, HandLandmarks | None] = {s: None for s in SIDES}
    for side, i in chosen.items():
        crop, hand, pts = distinct[i]
        out[side] = HandLandmarks(side, pts, hand.world, hand.handedness, hand.handedness_score, crop)
    return HandsResult(int(timestamp_ms), out["left"], out["right"], crops, len(distinct))


class HandEstimator(NativeTask):
    """MediaPipe HandLandmarker on wrist crops; use as a context manager or call `close()`."""

    def __init__(self, options: HandEstimatorOptions | None = None) -> None:
        import mediapipe as mp  # imported here so the pure stages never need it

        self.options = options or HandEstimatorOptions()
        self.model_path = hand_model_path(self.options.model_path)
        vision = mp.tasks.vision
        task_options = vision.HandLandmarkerOptions(
            base_options=mp.tasks.BaseOptions(model_asset_path=self.model_path),
            running_mode=vision.RunningMode.IMAGE,  # see the module doc
            num_hands=self.options.num_hands_per_crop,
            min_hand_detection_confidence=self.options.min_detection_confidence,
            min_hand_presence_confidence=self.options.min_presence_confidence,
            min_tracking_confidence=self.options.min_tracking_confidence,
        )
        self._mp = mp
        block_telemetry()  # before the task runner starts its usage logger
        self._adopt(vision.HandLandmarker.create_from_options(task_options))
        self._last_ts: int | None = None
        logger.debug("HandLandmarker ready: %s (%s mode)", self.model_path, self.options.running_mode)

    def run_image(self, rgb: np.ndarray) -> list[CropHand]:
        """All hands the model finds on one RGB uint8 image: x, y normalised to it, z in image widths."""
        if self._landmarker is None:
            raise RuntimeError("HandEstimator is closed")
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        result = self._landmarker.detect(image)
        hands = []
        for i, lms in enumerate(result.hand_landmarks or []):
            pts = np.array([(p.x, p.y, p.z) for p in lms], dtype=np.float64)
            if pts.shape != (NUM_HAND_POINTS, 3):
                raise RuntimeError(f"hand model returned {pts.shape[0]} points, expected {NUM_HAND_POINTS}")
            world = None
            if result.hand_world_landmarks and i < len(result.hand_world_landmarks):
                world = np.array([(p.x, p.y, p.z) for p in result.hand_world_landmarks[i]], dtype=np.float64)
            cat = result.handedness[i][0] if result.handedness and result.handedness[i] else None
            hands.append(CropHand(pts, world, cat.category_name if cat else "",
                                  float(cat.score) if cat else 0.0))
        return hands

    def run_crop(self, rgb: np.ndarray, crop: HandCrop) -> list[CropHand]:
        """All hands the model finds on one crop of `rgb` (resized to `crop_size`), normalised to the crop."""
        image, *_ = crop_square(rgb, crop.cx, crop.cy, crop.size, self.options.crop_size)
        return self.run_image(image)

    def _check_timestamp(self, timestamp_ms: int) -> None:
        if self.options.running_mode != "video":
            return
        ts = int(timestamp_ms)
        if self._last_ts is not None and ts <= self._last_ts:
            raise ValueError(f"timestamp_ms must increase strictly: {ts} after {self._last_ts}")
        self._last_ts = ts

    def detect(self, rgb: np.ndarray, timestamp_ms: int = 0, pose: PoseLandmarks | None = None) -> HandsResult:
        """The trainee's hands in one RGB uint8 frame, from crops around `pose`'s wrists.

        Without a pose (or with no usable wrist) no crop is run and both sides are None.
        """
        if self._landmarker is None:
            raise RuntimeError("HandEstimator is closed")
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an HxWx3 uint8 RGB frame, got {rgb.shape} {rgb.dtype}")
        self._check_timestamp(timestamp_ms)
        if pose is None:
            return HandsResult(int(timestamp_ms), None, None)
        h, w = rgb.shape[:2]
        return locate_hands((w, h), pose, lambda crop: self.run_crop(rgb, crop), self.options, timestamp_ms)


def create_hand_estimator(options: HandEstimatorOptions | None = None) -> HandEstimator:
    """Factory mirroring `HandLandmarker.create_from_options`."""
    return HandEstimator(options)
