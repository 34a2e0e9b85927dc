"""Pose stage: MediaPipe PoseLandmarker (Tasks API) → `PoseLandmarks` of the trainee.

Modelled on the Tasks API itself: an options dataclass, a factory, a context
manager, fail-fast on misuse and explicit strictly increasing `timestamp_ms` in
VIDEO mode. When several people are in view the trainee is the largest, most
central person, then the one that overlaps the previous trainee most.

One person, whole: in groups MediaPipe sometimes returns a skeleton stitched from
two people (one's legs, another's shoulders and face). `check_skeleton` is a cheap
pure test of a skeleton against the world skeleton predicted with it; photos are
searched in tiles, every person found is confirmed on a crop around them, and a
skeleton that fails the check is never returned as the trainee (videos: checked
every frame, re-detected on a crop only when the check fails).

Videos track ONE pose per frame (the model's cheapest path: with `num_poses` > 1 the
tracker reruns its person detector on every frame to look for the others). Other people
are noticed by a periodic whole-frame count (`people_check_interval_ms`, an IMAGE-mode
landmarker with `num_poses`), which also hands the tracker over when the count says the
trainee is someone else than the one followed.
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

# --- Finding everyone in a photo (IMAGE mode) -------------------------------------------
# The pose detector sees the frame letterboxed to 224x224, so in a group photo faces end up
# a few pixels wide and people are missed. Photos are therefore also searched in square,
# half-overlapping tiles: first tiles as large as the frame's short side (TILE_SCALES[0]),
# then, only when that search suggests more people (see FINE_SEARCH_MAX_HEIGHT), tiles of
# half that side.
TILE_SCALES = (1.0, 0.5)
TILE_OVERLAP = 0.5  # tiles overlap by half their side, so everyone is whole in some tile
# The smaller tiles are searched only when the larger ones found nobody, a crowd (at least
# CROWD_MIN_PEOPLE: people hide each other from the detector; on the dev group photo of five
# standing people the larger tiles found 3, the smaller ones all 5), or people smaller (median
# box height) than FINE_SEARCH_MAX_HEIGHT of the larger tiles' side. Each smaller tile is one
# more landmarker run (up to 24 on a 1280x576 photo), so a pair of large people stops here.
FINE_SEARCH_MAX_HEIGHT = 0.6
CROWD_MIN_PEOPLE = 3
# Exhaustive search (`search_every_tile`, the line-up inspection): every level, down to tiles of
# a third of the short side, whatever the larger tiles found. On the 23 dev photos with several
# people it found 70 of 144 people against 57 for the default search, at about twice the time.
EXHAUSTIVE_TILE_SCALES = (1.0, 0.5, 1.0 / 3.0)
# Two detections are one person when their nose and shoulders lie (median) within this many
# torso lengths of each other.
SAME_PERSON_HEAD_FRACTION = 0.35
# A skeleton whose box lies at least PART_MIN_INSIDE inside the box of a person more than
# 1 / PART_MAX_HEIGHT times taller is part of that person (hands, a bag, a print), not a
# person: seen on single-person dev photos; people behind someone show above or beside them.
PART_MIN_INSIDE = 0.7
PART_MAX_HEIGHT = 0.5
# The trainee is re-detected on a crop round its box, grown by CROP_MARGIN of the box size
# on every side (then by TIGHT_CROP_MARGIN when the first crop's skeleton is inconsistent).
CROP_MARGIN = 0.25
TIGHT_CROP_MARGIN = 0.08
# The skeleton found in a crop is the candidate's when its nose, shoulders and hips lie
# (median) within this many torso lengths of the candidate's.
CROP_MATCH_MAX_DISTANCE = 0.5
MATCH_LANDMARKS = (0, 11, 12, 23, 24)
# Videos: everyone in view is counted on the whole frame at most this often (and on the
# first frame); frames in between keep the last count while the trainee is tracked. 1 s:
# a bystander who stays less than a second is not worth a warning, and one count per second
# costs about 3 % of a 30 fps clip's model time, against a detector run on every frame.
PEOPLE_CHECK_INTERVAL_MS = 1000

# --- One person, whole: the skeleton consistency check ----------------------------------
# Limits measured on the real dev media with scripts/measure_consistency.py (full model; the
# trainees of the 68 single-person photos, the 57 people found in the 23 group photos, every
# 3rd frame of the 3 clips: 93), then given a margin; never fitted to one file. A skeleton
# stitched from two people has parts (legs, shoulders, face) whose image geometry no longer
# matches the world skeleton the model predicts for one body. Limitation: when the network
# itself blends two neighbours of the same size into one body, it predicts a matching world
# skeleton too, and this check cannot tell (seen in dense line-ups).
#
# Image vs world: residual of the best scale+shift fit of the world skeleton (x, y) onto the
# image landmarks, RMS over the confident landmarks, in torso lengths. Measured max 0.096
# single-person photos, 0.106 group photos, 0.111 clips; limit 0.111 x 1.6.
MAX_FIT_RESIDUAL = 0.18
# Upper body (face, shoulders, arms) vs lower body (hips, legs): |log| of the ratio of their
# median pixels-per-metre scales. Measured max 0.25 single-person photos, 0.32 group photos,
# 0.30 clips (p95 <= 0.24); limit = a factor of 1.6 (log 0.47), i.e. legs drawn 60 % larger
# or smaller than the shoulders say.
MAX_SCALE_MISMATCH = 0.47
# Direction of each limb/torso segment (world x, y >= MIN_SEGMENT_M long) in the image vs
# the world skeleton, degrees. Measured max 35 single-person photos, 41 group photos, 32
# clips (p95 <= 27); limit 60.
MAX_SEGMENT_ANGLE_DEG = 60.0
MIN_SEGMENT_M = 0.1
# Segments shorter than this in world (x, y), metres, are too foreshortened to give a scale.
MIN_SCALE_SEGMENT_M = 0.06
# World left vs right thigh, shin, upper arm and forearm: |l - r| / mean. Measured max 0.51
# single-person photos, 0.77 group photos (a partly hidden bystander), 0.34 clips; limit 1.0
# (one limb three times the other).
MAX_LIMB_ASYMMETRY = 1.0
# Landmarks at least this visible take part in the image-vs-world fit (all if fewer than 6).
FIT_MIN_VISIBILITY = 0.5
# Segments used by the scale and direction criteria (landmark index pairs).
UPPER_SEGMENTS = ((7, 8), (11, 12), (11, 13), (12, 14), (13, 15), (14, 16))
LOWER_SEGMENTS = ((23, 24), (23, 25), (24, 26), (25, 27), (26, 28))
TORSO_SEGMENTS = ((11, 23), (12, 24))
LIMB_PAIRS = (((23, 25), (24, 26)), ((25, 27), (26, 28)), ((11, 13), (12, 14)), ((13, 15), (14, 16)))


@dataclass(frozen=True)
class SkeletonCheck:
    """Is a skeleton one whole person? `score` is the worst criterion / its limit (ok < 1)."""

    ok: bool
    reason: str
    score: float
    measures: dict[str, float] = field(default_factory=dict, repr=False)


_SEGMENTS = np.array(UPPER_SEGMENTS + LOWER_SEGMENTS + TORSO_SEGMENTS)
_N_UPPER, _N_LOWER = len(UPPER_SEGMENTS), len(LOWER_SEGMENTS)
_LIMBS = np.array(LIMB_PAIRS)  # (pairs, left/right, 2 landmarks)


def skeleton_measures(lm: PoseLandmarks) -> dict[str, float]:
    """The consistency check's raw measures of one skeleton (see the MAX_* limits); needs world.

    Vectorised: this runs on every video frame.
    """
    if lm.world is None:
        return {}
    px, world = lm.px, lm.world
    wxy = world[:, :2]
    out: dict[str, float] = {}
    # Image vs world: best scale + shift of world (x, y) onto the image, RMS residual in torso lengths.
    keep = lm.visibility >= FIT_MIN_VISIBILITY
    if keep.sum() < 6:
        keep = np.ones(len(px), bool)
    xc = wxy[keep] - wxy[keep].mean(0)
    yc = px[keep] - px[keep].mean(0)
    denom = float((xc * xc).sum())
    scale = float((xc * yc).sum()) / denom if denom > 0 else 0.0
    torso = float(np.linalg.norm((world[11] + world[12] - world[23] - world[24]) / 2))
    if scale > 0 and torso > 0:
        res = yc - scale * xc
        out["fit_residual"] = float(np.sqrt((res * res).sum(1).mean())) / (scale * torso)
    else:  # the image does not even point the way the world skeleton does (e.g. upside down)
        out["fit_residual"] = float("inf")
    v = px[_SEGMENTS[:, 1]] - px[_SEGMENTS[:, 0]]
    w = wxy[_SEGMENTS[:, 1]] - wxy[_SEGMENTS[:, 0]]
    nv, nw = np.hypot(v[:, 0], v[:, 1]), np.hypot(w[:, 0], w[:, 1])
    # Upper vs lower body scale (pixels per metre), from segments long enough in world (x, y).
    ppm = np.where(nw >= MIN_SCALE_SEGMENT_M, nv / np.maximum(nw, 1e-9), np.nan)
    up, low = ppm[:_N_UPPER], ppm[_N_UPPER:_N_UPPER + _N_LOWER]
    up, low = up[~np.isnan(up)], low[~np.isnan(low)]
    if up.size and low.size:
        m_up, m_low = float(np.median(up)), float(np.median(low))
        if m_up > 0 and m_low > 0:
            out["scale_mismatch"] = abs(float(np.log(m_up / m_low)))
    # Direction of each segment in the image vs the world skeleton.
    long = (nw >= MIN_SEGMENT_M) & (nv > 0)
    if long.any():
        cos = (v[long] * w[long]).sum(1) / (nv[long] * nw[long])
        out["segment_angle"] = float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))).max())
    # World left vs right limb lengths.
    seg = world[_LIMBS[:, :, 1]] - world[_LIMBS[:, :, 0]]
    lengths = np.sqrt((seg * seg).sum(-1))  # (pairs, 2)
    total = lengths.sum(1)
    ok = total > 0
    if ok.any():
        out["limb_asymmetry"] = float((np.abs(lengths[ok, 0] - lengths[ok, 1]) / (total[ok] / 2)).max())
    return out


_LIMITS = {
    "fit_residual": MAX_FIT_RESIDUAL,
    "scale_mismatch": MAX_SCALE_MISMATCH,
    "segment_angle": MAX_SEGMENT_ANGLE_DEG,
    "limb_asymmetry": MAX_LIMB_ASYMMETRY,
}


def check_skeleton(lm: PoseLandmarks) -> SkeletonCheck:
    """Whether `lm` is plausibly one whole person (not stitched from two); pure and cheap.

    Compares the image landmarks with the metric world skeleton the model predicted along
    with them: one global scale must explain the image (fit residual), the legs must be at
    the shoulders' scale and point where the world limbs point, and world left/right limbs
    must be alike. Without world landmarks nothing can be checked: ok, reason "no_world".
    """
    measures = skeleton_measures(lm)
    if not measures:
        return SkeletonCheck(True, "no_world", 0.0, measures)
    ratios = {k: measures[k] / limit for k, limit in _LIMITS.items() if k in measures}
    worst = max(ratios, key=ratios.__getitem__)
    score = ratios[worst]
    if score >= 1.0:
        return SkeletonCheck(False, worst, score, measures)
    return SkeletonCheck(True, "ok", score, measures)


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
    search_every_tile: bool = False     # IMAGE mode: every tile level of EXHAUSTIVE_TILE_SCALES (line-ups)
    # VIDEO mode with num_poses > 1: track one pose, count everyone this often (None: track
    # num_poses every frame, the detector running each time).
    people_check_interval_ms: int | None = PEOPLE_CHECK_INTERVAL_MS

    def __post_init__(self) -> None:
        if self.running_mode not in RUNNING_MODES:
            raise ValueError(f"running_mode must be one of {RUNNING_MODES}, got {self.running_mode!r}")
        if self.num_poses < 1:
            raise ValueError("num_poses must be >= 1")


@dataclass(frozen=True)
class PoseResult:
    """The estimator's answer for one frame.

    `person` is the trainee (never a skeleton failing `check_skeleton`), or None;
    `people_seen` counts everyone found (photos: confirmed people, tiles included).
    """

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
    return int(np.argmax([trainee_score(p) for p in people]))


def _to_landmarks(image_lms, world_lms, size: tuple[int, int]) -> PoseLandmarks:
    arr = np.array([(p.x, p.y, p.z, p.visibility or 0.0, p.presence or 0.0) for p in image_lms],
                   dtype=np.float64)
    world = None
    if world_lms:
        world = np.array([(p.x, p.y, p.z) for p in world_lms], dtype=np.float64)
    if arr.shape[0] != NUM_LANDMARKS:
        raise RuntimeError(f"model returned {arr.shape[0]} landmarks, expected {NUM_LANDMARKS}")
    return PoseLandmarks(arr[:, :3], arr[:, 3], arr[:, 4], world, size)


Region = tuple[int, int, int, int]  # x0, y0, x1, y1 in frame pixels (x1, y1 exclusive)


def crop_to_frame(lm: PoseLandmarks, region: Region, frame_size: tuple[int, int]) -> PoseLandmarks:
    """Landmarks found in the crop `region` of a frame, in that frame's normalised coordinates.

    x, y: crop-normalised → frame-normalised; z (normalised by the crop's width, like x) is
    rescaled to the frame's width; visibility, presence and world landmarks are unchanged.
    """
    x0, y0, x1, y1 = region
    w, h = frame_size
    cw, ch = x1 - x0, y1 - y0
    image = np.column_stack([(x0 + lm.image[:, 0] * cw) / w,
                             (y0 + lm.image[:, 1] * ch) / h,
                             lm.image[:, 2] * cw / w])
    return PoseLandmarks(image, lm.visibility, lm.presence, lm.world, (int(w), int(h)))


def frame_to_crop(lm: PoseLandmarks, region: Region) -> PoseLandmarks:
    """Inverse of `crop_to_frame`: frame landmarks in the normalised coordinates of `region`."""
    x0, y0, x1, y1 = region
    w, h = lm.image_size
    cw, ch = x1 - x0, y1 - y0
    image = np.column_stack([(lm.image[:, 0] * w - x0) / cw,
                             (lm.image[:, 1] * h - y0) / ch,
                             lm.image[:, 2] * w / cw])
    return PoseLandmarks(image, lm.visibility, lm.presence, lm.world, (int(cw), int(ch)))


def tile_regions(width: int, height: int, scale: float) -> list[Region]:
    """Square tiles of side `scale` x the short side, overlapping by TILE_OVERLAP, covering the frame."""
    side = max(1, int(round(min(width, height) * scale)))
    step = max(1, int(side * (1.0 - TILE_OVERLAP)))

    def starts(length: int) -> list[int]:
        if length <= side:
            return [0]
        n = int(np.ceil((length - side) / step)) + 1
        return [int(round(v)) for v in np.linspace(0, length - side, n)]

    return [(x, y, min(x + side, width), min(y + side, height))
            for y in starts(height) for x in starts(width)]


def crop_region(box: np.ndarray, frame_size: tuple[int, int], margin: float) -> Region:
    """Box grown by `margin` of its size on every side (at least square-ish), clipped to the frame."""
    w, h = frame_size
    x0, y0, x1, y1 = (float(v) for v in box)
    bw, bh = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    # Make the crop no narrower than half its height: the detector wants the whole head and shoulders.
    extra = max(0.0, bh / 2 - bw) / 2
    x0, x1 = x0 - extra, x1 + extra
    bw = x1 - x0
    r = (int(max(0, np.floor(x0 - margin * bw))), int(max(0, np.floor(y0 - margin * bh))),
         int(min(w, np.ceil(x1 + margin * bw))), int(min(h, np.ceil(y1 + margin * bh))))
    if r[2] - r[0] < 2 or r[3] - r[1] < 2:
        return (0, 0, int(w), int(h))
    return r


def _torso_px(lm: PoseLandmarks) -> float:
    p = lm.px
    return float(np.linalg.norm((p[11] + p[12]) / 2 - (p[23] + p[24]) / 2))


def pose_distance(a: PoseLandmarks, b: PoseLandmarks, idx: Sequence[int] = (0, 11, 12)) -> float:
    """Median pixel distance between the landmarks `idx` of two skeletons, in torso lengths."""
    d = float(np.median(np.linalg.norm(a.px[list(idx)] - b.px[list(idx)], axis=1)))
    return d / max(1.0, min(_torso_px(a), _torso_px(b)))


def same_person(a: PoseLandmarks, b: PoseLandmarks) -> bool:
    """Two detections (same frame) of one person: the same nose and shoulders.

    A person cut by a tile edge gives a smaller skeleton round the same head and shoulders;
    neighbours in a line-up overlap in box but not in head.
    """
    return pose_distance(a, b) < SAME_PERSON_HEAD_FRACTION


def part_of(small: PoseLandmarks, big: PoseLandmarks) -> bool:
    """A small skeleton inside a much taller person's box: a hand, bag or print taken for a person."""
    a, b = _bbox(small), _bbox(big)
    ah, bh = a[3] - a[1], b[3] - b[1]
    area = max((a[2] - a[0]) * ah, 1.0)
    inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return bool(ah < PART_MAX_HEIGHT * bh and inter / area >= PART_MIN_INSIDE)


def trainee_score(lm: PoseLandmarks) -> float:
    """How much a person looks like the trainee: large and central (higher is better)."""
    b = _bbox(lm)
    w, h = lm.image_size
    area = (b[2] - b[0]) * (b[3] - b[1]) / float(w * h)
    cx, cy = (b[0] + b[2]) / 2 / w, (b[1] + b[3]) / 2 / h
    off_centre = np.hypot(cx - 0.5, (cy - 0.5) * 0.5)  # horizontal offset matters most
    return float(area * (1.0 - min(off_centre, 0.9)))


class PoseEstimator(NativeTask):
    """MediaPipe PoseLandmarker wrapper; use as a context manager or call `close()`.

    IMAGE mode (photos) searches the whole frame and overlapping tiles, counts everyone,
    in a group confirms each person on a crop around them, and never returns a skeleton
    that fails `check_skeleton`. VIDEO mode runs the tracker once per frame and checks its trainee;
    only when that check fails is the trainee re-detected on a crop (an IMAGE-mode
    landmarker, created on first need).
    """

    def __init__(self, options: PoseEstimatorOptions | None = None) -> None:
        import mediapipe as mp  # imported here so the pure stages never need it

        self.options = options or PoseEstimatorOptions()
        self.model_path = pose_model_path(self.options.model)
        self._mp = mp
        o = self.options
        # VIDEO mode, several poses asked: track one, count the others periodically.
        self._periodic = o.running_mode == "video" and o.num_poses > 1 and o.people_check_interval_ms is not None
        self._adopt(self._create(o.running_mode, 1 if self._periodic else None))
        self._crop_landmarker = None  # VIDEO mode: IMAGE-mode landmarker for re-detection and counting
        self._last_count_ms: int | None = None
        self._count = 0  # people in view at the last count
        self._last_ts: int | None = None
        self._previous: PoseLandmarks | None = None
        self.rejected = 0  # diagnostics: skeletons rejected by check_skeleton so far
        self.runs = 0  # diagnostics: landmarker runs so far (tiles and crops included)
        logger.debug("PoseLandmarker ready: %s (%s mode)", self.model_path.name, self.options.running_mode)

    def _create(self, running_mode: str, num_poses: int | None = None):
        vision = self._mp.tasks.vision
        mode = vision.RunningMode.VIDEO if running_mode == "video" else vision.RunningMode.IMAGE
        task_options = vision.PoseLandmarkerOptions(
            base_options=self._mp.tasks.BaseOptions(model_asset_path=str(self.model_path)),
            running_mode=mode,
            num_poses=num_poses or self.options.num_poses,
            min_pose_detection_confidence=self.options.min_detection_confidence,
            min_pose_presence_confidence=self.options.min_presence_confidence,
            min_tracking_confidence=self.options.min_tracking_confidence,
        )
        block_telemetry()  # before the task runner starts its usage logger
        return vision.PoseLandmarker.create_from_options(task_options)

    def close(self) -> None:
        """Release the landmarker(s)."""
        if self._crop_landmarker is not None:
            self._crop_landmarker.close()
            self._crop_landmarker = None
        super().close()

    def detect(self, rgb: np.ndarray, timestamp_ms: int = 0) -> PoseResult:
        """Run the model on one RGB uint8 frame; VIDEO mode needs strictly increasing timestamps."""
        if self._landmarker is None:
            raise RuntimeError("PoseEstimator is closed")
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an HxWx3 uint8 RGB frame, got {rgb.shape} {rgb.dtype}")
        if self.options.running_mode == "video":
            ts = int(timestamp_ms)
            if self._last_ts is not None and ts <= self._last_ts:
                raise ValueError(f"timestamp_ms must increase strictly: {ts} after {self._last_ts}")
            self._last_ts = ts
            return self._detect_video(rgb, ts)
        return self._detect_image(rgb, int(timestamp_ms))

    # -- running the model ------------------------------------------------------------------
    def _run(self, landmarker, rgb: np.ndarray, region: Region | None = None,
             timestamp_ms: int | None = None) -> list[PoseLandmarks]:
        """Everyone the landmarker finds in `region` of `rgb` (default whole), in frame coordinates."""
        h, w = rgb.shape[:2]
        if region is None or region == (0, 0, w, h):
            region, pixels = (0, 0, w, h), rgb
        else:
            x0, y0, x1, y1 = region
            pixels = rgb[y0:y1, x0:x1]
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(pixels))
        self.runs += 1
        result = landmarker.detect(image) if timestamp_ms is None else landmarker.detect_for_video(image, timestamp_ms)
        crop_size = (pixels.shape[1], pixels.shape[0])
        people = []
        for i, lms in enumerate(result.pose_landmarks or []):
            world = result.pose_world_landmarks[i] if result.pose_world_landmarks else None
            lm = _to_landmarks(lms, world, crop_size)
            people.append(lm if region == (0, 0, w, h) else crop_to_frame(lm, region, (w, h)))
        return people

    def _redetect(self, landmarker, rgb: np.ndarray, target: PoseLandmarks) -> PoseLandmarks | None:
        """Re-run on a crop round `target` (then a tighter one); the consistent match, else None."""
        size = (rgb.shape[1], rgb.shape[0])
        box = _bbox(target)
        for margin in (CROP_MARGIN, TIGHT_CROP_MARGIN):
            found = self._run(landmarker, rgb, crop_region(box, size, margin))
            if not found:
                continue
            distances = [pose_distance(target, p, MATCH_LANDMARKS) for p in found]
            best = int(np.argmin(distances))
            if distances[best] > CROP_MATCH_MAX_DISTANCE:
                continue
            check = check_skeleton(found[best])
            if check.ok:
                return found[best]
            self.rejected += 1
            logger.debug("crop re-detection inconsistent (%s %.2f), margin %.2f", check.reason, check.score, margin)
        return None

    # -- photos ---------------------------------------------------------------------------------
    def _detect_image(self, rgb: np.ndarray, timestamp_ms: int) -> PoseResult:
        """Photos: candidates from the frame and tiles; in a group each is confirmed on a crop.

        One consistent person alone is returned as found in the whole frame. With several
        candidates each (best trainee score first) is re-detected on a crop round it; the
        crop's skeleton replaces it when it is consistent, else the candidate is dropped
        (a stitched skeleton, or a tile artefact such as a hand taken for a face). The
        trainee is the best scoring of the confirmed people; all of them are counted.
        """
        h, w = rgb.shape[:2]
        whole = self._run(self._landmarker, rgb)
        tiled: list[PoseLandmarks] = []
        if self.options.count_people_in_tiles:
            every = self.options.search_every_tile
            scales = EXHAUSTIVE_TILE_SCALES if every else TILE_SCALES
            for level, scale in enumerate(scales):
                if level > 0 and not every and not self._search_finer(_unique(whole, tiled), w, h, scales[level - 1]):
                    break
                for region in tile_regions(w, h, scale):
                    if region != (0, 0, w, h):
                        tiled += self._run(self._landmarker, rgb, region)
        unique = _unique(whole, tiled)
        if len(unique) == 1 and check_skeleton(unique[0]).ok:
            return PoseResult(timestamp_ms, unique[0], 1)  # alone and whole: nobody to be stitched with
        people: list[PoseLandmarks] = []
        for lm in sorted(unique, key=trainee_score, reverse=True):
            if any(same_person(lm, p) or part_of(lm, p) for p in people):
                continue
            confirmed = self._redetect(self._landmarker, rgb, lm)
            if confirmed is not None and not any(same_person(confirmed, p) or part_of(confirmed, p)
                                                 for p in people):
                people.append(confirmed)
        if not people:
            # No crop confirmed anyone (tiny photos leave little to crop): keep the consistent
            # first views, never an inconsistent one.
            people = [lm for lm in unique if check_skeleton(lm).ok]
            if not people:
                if unique:
                    logger.info("none of %d people found is one whole skeleton", len(unique))
                return PoseResult(timestamp_ms, None, 0)
        idx = select_trainee(people)
        others = tuple(p for i, p in enumerate(people) if i != idx)
        return PoseResult(timestamp_ms, people[idx], len(people), others)

    @staticmethod
    def _search_finer(found: Sequence[PoseLandmarks], w: int, h: int, scale: float) -> bool:
        """Search smaller tiles when nobody or a crowd was found, or the people found are small."""
        if not found or len(found) >= CROWD_MIN_PEOPLE:
            return True
        side = min(w, h) * scale
        heights = [_bbox(p)[3] - _bbox(p)[1] for p in found]
        return float(np.median(heights)) < FINE_SEARCH_MAX_HEIGHT * side

    # -- videos ---------------------------------------------------------------------------------
    def _detect_video(self, rgb: np.ndarray, ts: int) -> PoseResult:
        """Clips: one tracker run; the trainee is checked, re-detected on a crop only if it fails.

        With the periodic count (see PEOPLE_CHECK_INTERVAL_MS) everyone is counted on the
        whole frame when due; when that count finds the trainee (same person as before, else
        largest and most central) elsewhere than the tracked pose, the tracker restarts.
        """
        people = self._run(self._landmarker, rgb, timestamp_ms=ts)
        counted: list[PoseLandmarks] | None = None
        last, every = self._last_count_ms, self.options.people_check_interval_ms or 0
        if self._periodic and (last is None or ts - last >= every or ts < last):
            counted = self._count_people(rgb, ts)
            if len(counted) > 1 and people:
                best = counted[select_trainee(counted, self._previous or people[0])]
                if _iou(_bbox(best), _bbox(people[0])) < SAME_PERSON_MIN_IOU:
                    logger.debug("frame %d ms: the tracker followed someone else; restarting it on the trainee", ts)
                    self._restart_tracker()
                    people = [best]
            elif counted and not people:
                people = counted[:1] if len(counted) == 1 else [counted[select_trainee(counted, self._previous)]]
        if not people:
            self._previous = None
            self._count = 0
            return PoseResult(ts, None, 0)
        idx = select_trainee(people, self._previous)
        person = people[idx]
        check = check_skeleton(person)
        if not check.ok:
            self.rejected += 1
            logger.debug("frame %d ms: trainee skeleton inconsistent (%s %.2f)", ts, check.reason, check.score)
            if self._crop_landmarker is None:
                self._crop_landmarker = self._create("image")
            person = self._redetect(self._crop_landmarker, rgb, self._previous or person)
        others = tuple(p for i, p in enumerate(people) if i != idx)
        if person is not None:
            self._previous = person  # else keep following the last whole skeleton
        seen = len(people)
        if self._periodic:
            seen = max(seen, self._count)
        return PoseResult(ts, person, seen, others)

    def _count_people(self, rgb: np.ndarray, ts: int) -> list[PoseLandmarks]:
        """Everyone on the whole frame (IMAGE mode, `num_poses`), one per person; updates the count."""
        if self._crop_landmarker is None:  # one IMAGE-mode landmarker serves counting and crops (memory)
            self._crop_landmarker = self._create("image")
        found = _unique(self._run(self._crop_landmarker, rgb))
        self._last_count_ms, self._count = ts, len(found)
        return found

    def _restart_tracker(self) -> None:
        """A fresh VIDEO-mode tracker (timestamps continue): it finds the most prominent person again."""
        old = self._landmarker
        self._adopt(self._create("video", 1))
        if old is not None:
            old.close()


def _unique(whole: Sequence[PoseLandmarks], tiled: Sequence[PoseLandmarks] = ()) -> list[PoseLandmarks]:
    """One detection per person: the whole-frame view first, else the largest tile view
    (a tile may cut someone off)."""
    unique: list[PoseLandmarks] = []
    for lm in [*sorted(whole, key=_area, reverse=True), *sorted(tiled, key=_area, reverse=True)]:
        if not any(same_person(lm, u) for u in unique):
            unique.append(lm)
    return unique


def _area(lm: PoseLandmarks) -> float:
    b = _bbox(lm)
    return float((b[2] - b[0]) * (b[3] - b[1]))


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
