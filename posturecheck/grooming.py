"""Grooming and expression stage: a 478-point face mesh (+ the frame) → `FaceFeatures` → verdicts.

Measurements (this module never holds a limit that judges a trainee; those are the
`grooming.*` rules of the profile):

* Head pose (yaw, pitch, roll) — a weighted scaled-orthographic fit of MediaPipe's
  canonical face model onto the mesh's x and y (see `fit_head_pose`), using the landmarks and weights
  of MediaPipe's own face-geometry pipeline (its Procrustes basis: no mouth or brow
  points, so expressions do not move the fit). The bundled model has no
  face-geometry pipeline and no blendshapes, so this replaces both.
* Smile score — mouth-corner distance in the fitted (frontalised) face, divided by
  the canonical face's neutral mouth width: 1.0 for a neutral mouth, larger when the
  corners are drawn out and up in a smile.
* Gaze yaw — head yaw plus the eyes' own turn, from the model's iris landmarks: each
  iris centre's offset from the middle of its eye corners in the frontalised face,
  over the eyeball radius (asin).
* Hair — from the hair segmentation model's mask (`hair.HairMask`, made by the face
  stage on a crop around the face) against face-mesh regions: the mean hair probability
  of the upper central forehead (bangs; see HAIR_FOREHEAD_SPAN), and the hair share of
  the ear regions (boxes beside the head placed with the fitted head pose), of a band
  beside the neck from the chin down towards the shoulders (long hair worn loose) and of
  a band at collar height beside and behind the neck (hair touching the collar). Bands
  must be mostly inside the frame ("where the view allows").
* Beard — the hair mask over the chin and upper lip, and the colour of those regions
  relative to the trainee's own upper cheeks (Lab a*: a beard or stubble takes the skin's
  redness away, whatever the skin tone or the light's brightness); `None` when the lower
  face is smaller than MIN_LOWER_FACE_PX.
* The old colour measures (`ear_skin`: skin-coloured share of the ear regions) are kept
  in the measurements. Image measurements need a face at least MIN_IMAGE_FACE_PX wide and
  roughly frontal; otherwise they are None (the rule says `unknown`).

Judging: `grooming_verdicts` applies the profile's `grooming.*` rules to the
`face_*` measurements. Which rules apply depends on the standard the trainee
chose (`--standard men|women`); a rule whose check list is empty for a standard
(`standard = { women = [] }` in the profile) does not apply to it, and with no
standard chosen only the rules common to both are judged. Gender is never
inferred from the image.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, fields
from importlib import resources
from typing import Any, Iterable, Sequence

import cv2
import numpy as np

from .face import SOURCE_OFF_POSE, FaceLandmarks
from .hair import HAIR_MIN_PROBABILITY, MIN_MASK_PIXELS, HairMask
from .features import view_from_yaw
from .landmarks import PoseLandmarks
from .profile import GROOMING_PREFIX, Check, Profile, Rule
from .rules import FAIL, PASS, UNKNOWN, Verdict, _apply, evaluate_rule

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

logger = logging.getLogger(__name__)

# ============================================================================ canonical face
# MediaPipe's canonical face model and Procrustes basis, from
# `geometry_pipeline_metadata_landmarks.binarypb` in npm @mediapipe/face_mesh@0.4.1657299874
# (Apache-2.0; file sha256 bdbcda96dfcb7da883da124aaa2c55dee49770d934f0fcc71747f8c21bdc75b4).
# (landmark index, weight, x, y, z): centimetres, x to the face's left (image right in a
# front view), y up, z out of the face towards the camera.
CANONICAL_BASIS: tuple[tuple[int, float, float, float, float], ...] = (
    (4, 0.070910, 0.0000, -0.4632, 7.5866),
    (6, 0.032100, 0.0000, 2.4733, 5.7886),
    (10, 0.008447, 0.0000, 8.2618, 4.4815),
    (33, 0.058724, -4.4459, 2.6640, 3.1734),
    (54, 0.007667, -6.2793, 6.6154, 1.4259),
    (67, 0.009078, -3.5240, 8.0060, 3.7292),
    (117, 0.009792, -5.2587, 0.9458, 2.9743),
    (119, 0.014565, -3.3007, 0.8616, 3.8728),
    (121, 0.018591, -1.8207, 1.4680, 4.2241),
    (127, 0.005198, -7.7431, 2.3650, -2.0052),
    (129, 0.120625, -1.7858, -0.9783, 4.8505),
    (132, 0.005560, -7.2709, -2.8909, -2.2525),
    (133, 0.053286, -1.8564, 2.5852, 3.7579),
    (136, 0.066890, -5.0853, -7.1786, 0.7147),
    (143, 0.014817, -6.4076, 2.2360, 1.5608),
    (147, 0.014263, -6.2349, -1.9444, 1.6635),
    (198, 0.025462, -1.2468, 0.2303, 5.6810),
    (205, 0.047252, -3.8329, -1.5373, 4.1377),
    (263, 0.058724, 4.4459, 2.6640, 3.1734),
    (284, 0.007667, 6.2793, 6.6154, 1.4259),
    (297, 0.009078, 3.5240, 8.0060, 3.7292),
    (346, 0.009792, 5.2587, 0.9458, 2.9743),
    (348, 0.014565, 3.3007, 0.8616, 3.8728),
    (350, 0.018591, 1.8207, 1.4680, 4.2241),
    (356, 0.005198, 7.7431, 2.3650, -2.0052),
    (358, 0.120625, 1.7858, -0.9783, 4.8505),
    (361, 0.005560, 7.2709, -2.8909, -2.2525),
    (362, 0.053286, 1.8564, 2.5852, 3.7579),
    (365, 0.066890, 5.0853, -7.1786, 0.7147),
    (372, 0.014817, 6.4076, 2.2360, 1.5608),
    (376, 0.014263, 6.2349, -1.9444, 1.6635),
    (420, 0.025462, 1.2468, 0.2303, 5.6810),
    (425, 0.047252, 3.8329, -1.5373, 4.1377),
)
_BASIS_IDX = np.array([b[0] for b in CANONICAL_BASIS])
_BASIS_W = np.array([b[1] for b in CANONICAL_BASIS]) / sum(b[1] for b in CANONICAL_BASIS)
_BASIS_XYZ = np.array([b[2:] for b in CANONICAL_BASIS], dtype=np.float64)

# Mesh landmarks (MediaPipe FaceMesh numbering).
MOUTH_CORNERS = (61, 291)
LIP_MIDDLE = (13, 14)         # middle of the upper and of the lower lip's inner edge
# Neutral mouth width of the canonical face, |61 - 291| in cm.
CANONICAL_MOUTH_WIDTH_CM = 4.9124
# Pitch of the canonical fit for a face looking straight at the camera: the canonical model's
# "up" is tilted against a natural head carriage. The median pitch of the fit over all 64 dev
# faces (no labels used; most photos look at the camera) is -10°; the median over the 48 faces
# labelled "not turned or tilted" is -10.6°. Reported pitch is relative to it: 0 = eyes level
# with the camera, + chin up, − bowed. (scripts/evaluate_grooming.py re-estimates it without
# the face being judged, for its cross-validated head-turned figure.)
NEUTRAL_FACE_PITCH_DEG = -10.0

# --- image regions ------------------------------------------------------------------------
# Upper cheeks: the trainee's own skin colour (above any beard, below glasses).
CHEEK_RIGHT = (117, 101, 36, 205, 50)
CHEEK_LEFT = (346, 330, 266, 425, 280)
# Central forehead: from just above each brow point towards the mesh top (10 / 67 / 297),
# between these fractions of the way: clear of the brows, below the mesh's edge.
FOREHEAD_COLUMNS = ((105, 67), (107, 109), (9, 10), (336, 338), (334, 297))
FOREHEAD_SPAN = (0.2, 0.9)
# The bangs region for the hair mask: the upper forehead, from 0.4 of the way from the brows
# to the mesh top (point 10, below a natural hairline: the forehead is a third of the face)
# up to the mesh top. A fringe hangs from the hairline, so whatever its length it covers this
# part first; the lower forehead, where brows, glasses and shadows are, only a long fringe
# reaches (the whole brow-to-top span, 0.1–0.9, missed short and side-swept fringes).
HAIR_FOREHEAD_SPAN = (0.4, 1.0)
UPPER_LIP = (98, 97, 2, 326, 327, 391, 393, 164, 167, 165)
CHIN = (32, 208, 199, 428, 262, 369, 400, 377, 152, 148, 176, 140)
# The chin and cheek polygons are shrunk towards their centre by this factor before pixels are
# read: their edges lie on the jaw line (below it: the shadow under the jaw, the neck, the
# collar or the background) and beside the nose and under the eyes; seen on the annotated
# lower-face crops of the dev men, the unshrunk chin region's lower edge ran along the jaw.
REGION_SHRINK = 0.75
# Ear region in canonical cm (per side, x mirrored): beside the head at ear height,
# from the face's side contour outwards and back (the hull of this box's projection).
EAR_BOX_X = (8.0, 9.6)
EAR_BOX_Y = (-3.0, 3.5)
EAR_BOX_Z = (-2.0, -6.0)
# An ear is looked at only when its side of the head faces the camera at least this much
# (a head turned by more hides the far ear behind it).
EAR_MIN_FACING_DEG = -15.0
# Bands beside the neck (canonical cm, per side, x mirrored; the chin is at y ≈ -7):
# loose long hair hangs in LOOSE_BOX from the chin down towards the shoulders; hair that
# touches the collar reaches COLLAR_BOX, at collar height beside and behind the neck.
LOOSE_BOX_X, LOOSE_BOX_Y, LOOSE_BOX_Z = (5.0, 11.0), (-8.0, -14.0), (-1.0, -5.0)
COLLAR_BOX_X, COLLAR_BOX_Y, COLLAR_BOX_Z = (4.0, 8.0), (-10.0, -14.0), (-3.0, -7.0)
MIN_BAND_IN_FRAME = 0.6       # a band is judged when at least this share of it is in the frame
# Eyes: corners (outer, inner) and iris centre per eye (subject's right, left).
EYE_CORNERS = ((33, 133), (263, 362))
IRIS_CENTRES = (468, 473)
EYEBALL_RADIUS_CM = 1.2       # human eyeball radius; the canonical face is in cm
MAX_GAZE_YAW_DEG = 40.0       # beyond this head yaw the far eye's iris is guessed: no gaze

# --- measurement validity -----------------------------------------------------------------
MIN_IMAGE_FACE_PX = 64        # image measurements need a face (mesh width) at least this wide
MAX_IMAGE_YAW_DEG = 30.0      # ...and a roughly frontal face
MAX_SMILE_YAW_DEG = 45.0      # smile from the mesh: the far mouth corner is guessed beyond this
MIN_REGION_PIXELS = 12        # fewer pixels in a region: no measurement
MEASURE_FACE_PX = 128         # colour statistics on the face resized to at most this width (speed)
MIN_LOWER_FACE_PX = 24        # beard: nose tip to chin at least this many frame pixels
NOSE_TIP, CHIN_TIP = 1, 152
# Skin model: a pixel is skin-coloured when its distance to the cheek median, in units of the
# cheek's robust spread (floored at these Lab values: L, a, b), is at most SKIN_MAX_DISTANCE.
SKIN_SPREAD_FLOOR_LAB = (8.0, 4.0, 4.0)
SKIN_MAX_DISTANCE = 3.0

# --- rule inputs ---------------------------------------------------------------------------
BADGE_RULE = "grooming.badge"
STANDARDS = ("men", "women")
# Unknown reasons of grooming verdicts (translated by report).
REASON_NO_FACE = "no_face"
REASON_NOT_FOR_STANDARD = "not_for_standard"
REASON_NO_STANDARD = "no_standard"
REASON_BADGE_NOT_CONFIGURED = "badge_not_configured"
REASON_FACE_TOO_SMALL = "face_too_small"
REASON_NO_BODY = "no_person"
REASON_FACE_BODY_DISAGREE = "face_body_disagree"
# observations.face booleans: name → (rule id, feature, True when the check ...)
FACE_FLAGS: tuple[tuple[str, str, str, str], ...] = (
    ("smiling", "grooming.smile", "face_smile_score", PASS),
    ("bangs", "grooming.hair_forehead", "face_forehead_hair", FAIL),
    ("ears_covered", "grooming.hair_ears", "face_ear_hair", FAIL),
    ("beard", "grooming.no_beard", "face_beard", FAIL),
)



@dataclass(frozen=True)
class HeadPose:
    """Rigid fit of the canonical face: camera = scale · rotation · canonical + translation.

    Camera frame: x right, y up, z towards the camera, pixels. Angles in degrees:
    yaw + = turned to the person's own left, pitch + = chin up (relative to
    NEUTRAL_FACE_PITCH_DEG), roll + = head tilted towards the person's own left shoulder.
    """

    yaw_deg: float
    pitch_deg: float
    roll_deg: float
    scale: float                 # pixels per canonical cm
    rotation: np.ndarray         # (3, 3) canonical → camera
    translation: np.ndarray      # (3,) pixels
    fit_error_cm: float          # weighted RMS residual of the basis points

    def project(self, canonical_cm: np.ndarray) -> np.ndarray:
        """(N, 3) canonical cm → (N, 2) frame pixels (x right, y down)."""
        cam = self.scale * canonical_cm @ self.rotation.T + self.translation
        return np.stack([cam[:, 0], -cam[:, 1]], axis=1)

    def frontalise(self, points_px: np.ndarray) -> np.ndarray:
        """(N, 3) mesh pixels → the same points in canonical cm (pose and size removed)."""
        cam = _to_camera(points_px)
        return (cam - self.translation) @ self.rotation / self.scale


@dataclass(frozen=True)
class FaceFeatures:
    """Measurements of one face in one frame (None when the frame cannot show them).

    Angles in degrees (see `HeadPose`); `smile_score` 1.0 = neutral canonical mouth, `smile_lift`
    the mouth corners' height above the middle of the lips (÷ the neutral mouth width);
    `forehead_hair` mean hair probability of the upper central forehead; `ear_hair`, `loose_hair`,
    `collar_hair`, `beard_hair` hair shares (0–1) of the ear regions, the band beside the
    neck below the chin, the collar band, the chin + upper lip; `beard` the chin and upper
    lip's loss of redness against the cheeks (Lab a* units), `beard_dark` their share of the
    cheeks' lightness lost (0 = as light, 1 = black); `ear_skin` the old colour
    measure (skin-coloured share of the clearer visible ear region).
    """

    found: bool
    yaw_deg: float
    pitch_deg: float
    roll_deg: float
    smile_score: float | None
    forehead_hair: float | None
    ear_skin: float | None
    beard: float | None
    face_width_px: float
    source: str = "frame"
    gaze_yaw_deg: float | None = None
    ear_hair: float | None = None
    loose_hair: float | None = None
    collar_hair: float | None = None
    beard_hair: float | None = None
    beard_dark: float | None = None
    smile_lift: float | None = None

    def rule_inputs(self) -> dict[str, Any]:
        """The `face_*` measurements the profile's grooming checks name, plus the face's view."""
        d = {f"face_{k}": v for k, v in asdict(self).items() if k not in ("found", "source")}
        d["view"] = view_from_yaw(self.yaw_deg)
        return d


# Every feature name a grooming check may use.
FACE_FEATURE_NAMES: tuple[str, ...] = tuple(f"face_{f.name}" for f in fields(FaceFeatures)
                                            if f.name not in ("found", "source"))
BADGE_FEATURE_NAMES: tuple[str, ...] = ("badge_left_chest",)
ANGLE_FEATURES: tuple[str, ...] = ("face_yaw_deg", "face_pitch_deg", "face_roll_deg", "face_gaze_yaw_deg")
GROOMING_FEATURES: tuple[str, ...] = FACE_FEATURE_NAMES + BADGE_FEATURE_NAMES


# ============================================================================ geometry


def _to_camera(points_px: np.ndarray) -> np.ndarray:
    """Mesh pixels (x right, y down, z away) → right-handed camera frame (x right, y up, z to camera)."""
    cam = np.array(points_px, dtype=np.float64, copy=True)
    cam[:, 1] *= -1.0
    cam[:, 2] *= -1.0
    return cam


def fit_head_pose(points_px: np.ndarray, neutral_pitch_deg: float | None = None) -> HeadPose:
    """Weighted scaled-orthographic fit of the canonical basis onto the mesh's x, y → `HeadPose`.

    The rotation comes from what the image shows, the x and y of the mesh: a weighted
    least-squares 2×3 map from the canonical points to their pixels, made the nearest
    scale × (two orthonormal rows); the third row is their cross product. The mesh's z (the
    landmark model's guess of depth) is not used for the angles. On the 64 dev faces this
    reads about 1.2× the yaw of a rigid 3-D fit that includes z (1.3× that of a nose-to-cheek
    asymmetry estimate with the canonical face's proportions); with no true angles for those
    faces, the by-eye "turned or tilted" labels decided: leave-one-out F1 0.52 → 0.58.
    `neutral_pitch_deg` (default NEUTRAL_FACE_PITCH_DEG): the fit's pitch of a level gaze.
    """
    cam = _to_camera(points_px[_BASIS_IDX])
    src = _BASIS_XYZ
    w = _BASIS_W[:, None]
    mu_s, mu_d = (w * src).sum(0), (w * cam).sum(0)
    s_c, d_c = src - mu_s, cam - mu_d
    affine = np.linalg.solve((w * s_c).T @ s_c, (w * s_c).T @ d_c[:, :2]).T  # (2, 3) = scale · rows
    u, sv, vt = np.linalg.svd(affine, full_matrices=False)
    rows = u @ vt
    rot = np.vstack([rows, np.cross(rows[0], rows[1])])
    scale = float(sv.mean())
    trans = mu_d - scale * rot @ mu_s
    resid = (cam - (scale * src @ rot.T + trans)) / scale
    err = float(np.sqrt((_BASIS_W * (resid ** 2).sum(1)).sum()))
    # Angles of the head relative to "looking straight at the camera" (the canonical face
    # pitched by NEUTRAL_FACE_PITCH_DEG), so yaw, pitch and roll do not mix for a level gaze.
    neutral = NEUTRAL_FACE_PITCH_DEG if neutral_pitch_deg is None else float(neutral_pitch_deg)
    rel = rot @ _pitch_matrix(-neutral)
    normal = rel[:, 2]  # the face's forward direction in the camera frame
    yaw = math.degrees(math.atan2(normal[0], normal[2]))
    pitch = math.degrees(math.atan2(normal[1], math.hypot(normal[0], normal[2])))
    roll = -math.degrees(math.atan2(rel[1, 0], rel[0, 0]))
    return HeadPose(yaw, pitch, roll, scale, rot, trans, err)


def _pitch_matrix(deg: float) -> np.ndarray:
    """Rotation about the camera x axis that turns a face's forward direction up by `deg`."""
    a = math.radians(deg)
    return np.array([[1.0, 0.0, 0.0], [0.0, math.cos(a), math.sin(a)], [0.0, -math.sin(a), math.cos(a)]])


def smile_score(points_px: np.ndarray, pose: HeadPose) -> float:
    """Mouth-corner distance in the frontalised face ÷ the canonical neutral mouth width."""
    corners = pose.frontalise(points_px[list(MOUTH_CORNERS)])
    return float(np.linalg.norm(corners[0, :2] - corners[1, :2]) / CANONICAL_MOUTH_WIDTH_CM)


def smile_lift(points_px: np.ndarray, pose: HeadPose) -> float:
    """How far the mouth corners sit above the middle of the lips, in the frontalised face,
    ÷ the canonical neutral mouth width (a smile draws the corners up as well as out; an
    open mouth that talks widens the mouth but does not lift its corners)."""
    p = pose.frontalise(points_px[list(MOUTH_CORNERS) + list(LIP_MIDDLE)])
    return float(((p[0, 1] + p[1, 1]) - (p[2, 1] + p[3, 1])) / 2.0 / CANONICAL_MOUTH_WIDTH_CM)


# ============================================================================ image regions


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB → float32 CIE Lab (L 0–100, a and b around 0), via OpenCV's fast 8-bit path."""
    lab = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2Lab).astype(np.float32)
    lab[..., 0] *= 100.0 / 255.0
    lab[..., 1:] -= 128.0
    return lab


def _polygon_pixels(lab: np.ndarray, origin: np.ndarray, poly_px: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """(N, 3) Lab pixels inside a frame-pixel polygon (lab: the frame from `origin`, resized by `scale`)."""
    h, w = lab.shape[:2]
    pts = np.round((poly_px - origin) * scale).astype(np.int32)
    if len(pts) < 3:
        return np.empty((0, 3), np.float32)
    x0, y0 = np.clip(pts.min(0), 0, [w, h])
    x1, y1 = np.clip(pts.max(0) + 1, 0, [w, h])
    if x1 <= x0 or y1 <= y0:
        return np.empty((0, 3), np.float32)
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [pts - np.array([x0, y0])], 1)
    return lab[y0:y1, x0:x1][mask > 0]


@dataclass(frozen=True)
class SkinModel:
    """Robust Lab colour statistics of the trainee's cheeks."""

    median: np.ndarray
    spread: np.ndarray

    @classmethod
    def from_pixels(cls, pixels: np.ndarray) -> SkinModel:
        med = np.median(pixels, axis=0)
        mad = np.median(np.abs(pixels - med), axis=0) * 1.4826
        return cls(med, np.maximum(mad, SKIN_SPREAD_FLOOR_LAB))

    def is_skin(self, pixels: np.ndarray) -> np.ndarray:
        d2 = (((pixels - self.median) / self.spread) ** 2).sum(axis=1)
        return d2 <= SKIN_MAX_DISTANCE ** 2


def _lerp(points: np.ndarray, a: int, b: int, f: float) -> np.ndarray:
    return points[a, :2] + (points[b, :2] - points[a, :2]) * f


def forehead_polygon(points_px: np.ndarray) -> np.ndarray:
    lo, hi = FOREHEAD_SPAN
    low = [_lerp(points_px, a, b, lo) for a, b in FOREHEAD_COLUMNS]
    high = [_lerp(points_px, a, b, hi) for a, b in reversed(FOREHEAD_COLUMNS)]
    return np.array(low + high)


def ear_polygon(pose: HeadPose, side: int) -> np.ndarray:
    """Frame-pixel hull of the ear box on one side (-1 = the person's right, +1 = left)."""
    corners = np.array([[side * x, y, z] for x in EAR_BOX_X for y in EAR_BOX_Y for z in EAR_BOX_Z])
    return cv2.convexHull(pose.project(corners).astype(np.float32)).reshape(-1, 2)


def ear_faces_camera(pose: HeadPose, side: int) -> bool:
    """Whether the ear on `side` is turned towards the camera enough to be seen."""
    outward_z = side * pose.rotation[2, 0]  # z (towards camera) of the side's outward direction
    return math.degrees(math.asin(max(-1.0, min(1.0, outward_z)))) >= EAR_MIN_FACING_DEG


def _regions_box(points_px: np.ndarray, pose: HeadPose, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Frame-pixel box holding the face and both ear regions (clipped to the frame)."""
    pts = [points_px[:468, :2]] + [ear_polygon(pose, s) for s in (-1, 1)]
    allp = np.vstack(pts)
    w, h = size
    x0, y0 = np.floor(allp.min(0)).astype(int) - 2
    x1, y1 = np.ceil(allp.max(0)).astype(int) + 2
    return max(0, x0), max(0, y0), min(w, x1), min(h, y1)


def shrink_polygon(poly_px: np.ndarray, factor: float = REGION_SHRINK) -> np.ndarray:
    """The polygon scaled by `factor` about its vertex mean (its inner part, clear of its edges)."""
    poly = np.asarray(poly_px, dtype=np.float64)[:, :2]
    centre = poly.mean(axis=0)
    return centre + (poly - centre) * factor


def chin_polygon(points_px: np.ndarray) -> np.ndarray:
    """The chin region (CHIN, shrunk clear of the jaw line) in frame pixels."""
    return shrink_polygon(points_px[list(CHIN), :2])


def _fraction(mask: np.ndarray) -> float | None:
    return float(mask.mean()) if mask.size >= MIN_REGION_PIXELS else None


def measure_regions(rgb: np.ndarray, points_px: np.ndarray, pose: HeadPose
                    ) -> tuple[float | None, float | None, float | None, float | None]:
    """(forehead colour measure, ear_skin, beard, beard_dark) from the frame's colours around the mesh.

    forehead: the share of the central forehead that is not skin-coloured (the old bangs
    measure, kept for comparison); beard: how much less red (Lab a*) the chin and upper lip
    are than the upper cheeks; beard_dark: the share of the cheeks' lightness (L*) the chin
    and upper lip lose (a ratio, so the light's brightness cancels out); both averaged over
    the two regions.
    """
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = _regions_box(points_px, pose, (w, h))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None, None, None, None
    roi = rgb[y0:y1, x0:x1]
    scale = min(1.0, MEASURE_FACE_PX / max(float(np.ptp(points_px[:468, 0])), 1.0))
    if scale < 1.0:
        size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
        roi = cv2.resize(roi, size, interpolation=cv2.INTER_AREA)
        scale = size[0] / float(x1 - x0)
    lab = rgb_to_lab(roi)
    origin = np.array([x0, y0], dtype=np.float64)

    def pixels(poly: np.ndarray) -> np.ndarray:
        return _polygon_pixels(lab, origin, poly, scale)

    cheeks = np.vstack([pixels(shrink_polygon(points_px[list(c), :2])) for c in (CHEEK_RIGHT, CHEEK_LEFT)])
    if len(cheeks) < 2 * MIN_REGION_PIXELS:
        return None, None, None, None
    skin = SkinModel.from_pixels(cheeks)

    def not_skin(poly: np.ndarray) -> float | None:
        px = pixels(poly)
        return _fraction(~skin.is_skin(px)) if len(px) else None

    forehead = not_skin(forehead_polygon(points_px))
    deficits, darker = [], []
    for region in (chin_polygon(points_px), points_px[list(UPPER_LIP), :2]):
        px = pixels(region)
        if len(px) >= MIN_REGION_PIXELS:
            deficits.append(float(skin.median[1] - np.median(px[:, 1])))
            darker.append(1.0 - float(np.median(px[:, 0])) / max(float(skin.median[0]), 1.0))
    beard = float(np.mean(deficits)) if len(deficits) == 2 else None
    beard_dark = float(np.mean(darker)) if len(darker) == 2 else None
    ears = []
    for side in (-1, 1):
        if ear_faces_camera(pose, side):
            px = pixels(ear_polygon(pose, side))
            frac = _fraction(skin.is_skin(px)) if len(px) else None
            if frac is not None:
                ears.append(frac)
    ear_skin = max(ears) if ears else None
    return forehead, ear_skin, beard, beard_dark


def gaze_yaw(points_px: np.ndarray, pose: HeadPose) -> float | None:
    """Head yaw + the eyes' turn in the head (mean of both irises), degrees; + = own left."""
    if abs(pose.yaw_deg) > MAX_GAZE_YAW_DEG:
        return None
    turns = []
    for (outer, inner), iris in zip(EYE_CORNERS, IRIS_CENTRES):
        can = pose.frontalise(points_px[[outer, inner, iris]])
        offset = can[2, 0] - (can[0, 0] + can[1, 0]) / 2.0  # canonical x = the face's left
        turns.append(math.degrees(math.asin(max(-1.0, min(1.0, offset / EYEBALL_RADIUS_CM)))))
    return pose.yaw_deg + float(np.mean(turns))


def _box_polygon(pose: HeadPose, side: int, xs: tuple[float, float], ys: tuple[float, float],
                 zs: tuple[float, float]) -> np.ndarray:
    """Frame-pixel hull of a canonical-cm box on one side (-1 = the person's right, +1 = left)."""
    corners = np.array([[side * x, y, z] for x in xs for y in ys for z in zs])
    return cv2.convexHull(pose.project(corners).astype(np.float32)).reshape(-1, 2)


def hair_forehead_polygon(points_px: np.ndarray) -> np.ndarray:
    """The upper central forehead for the hair mask (HAIR_FOREHEAD_SPAN of the brow→mesh-top columns)."""
    lo, hi = HAIR_FOREHEAD_SPAN
    low = [_lerp(points_px, a, b, lo) for a, b in FOREHEAD_COLUMNS]
    high = [_lerp(points_px, a, b, hi) for a, b in reversed(FOREHEAD_COLUMNS)]
    return np.array(low + high)


def loose_polygon(pose: HeadPose, side: int) -> np.ndarray:
    """Band beside the neck from the chin towards the shoulder (long hair worn loose)."""
    return _box_polygon(pose, side, LOOSE_BOX_X, LOOSE_BOX_Y, LOOSE_BOX_Z)


def collar_polygon(pose: HeadPose, side: int) -> np.ndarray:
    """Band at collar height beside and behind the neck."""
    return _box_polygon(pose, side, COLLAR_BOX_X, COLLAR_BOX_Y, COLLAR_BOX_Z)


def _band_hair(hair: HairMask, polys: Sequence[np.ndarray]) -> float | None:
    """Largest hair share of the bands that are mostly inside the frame (None if none is)."""
    vals = [hair.fraction(p) for p in polys if hair.inside_fraction(p) >= MIN_BAND_IN_FRAME]
    vals = [v for v in vals if v is not None]
    return max(vals) if vals else None


def measure_hair(hair: HairMask, points_px: np.ndarray, pose: HeadPose
                 ) -> tuple[float | None, float | None, float | None, float | None, float | None]:
    """(forehead_hair, ear_hair, loose_hair, collar_hair, beard_hair) from the hair mask."""
    region = hair.region(hair_forehead_polygon(points_px))
    forehead = float(region.mean()) if region.size >= MIN_MASK_PIXELS else None
    ears = [hair.fraction(ear_polygon(pose, s)) for s in (-1, 1)]
    ears = [e for e in ears if e is not None]
    ear = float(np.mean(ears)) if ears else None
    loose = _band_hair(hair, [loose_polygon(pose, s) for s in (-1, 1)])
    collar = _band_hair(hair, [collar_polygon(pose, s) for s in (-1, 1)])
    lower = [hair.region(r) for r in (chin_polygon(points_px), points_px[list(UPPER_LIP), :2])]
    lower_px = np.concatenate(lower)
    beard = float((lower_px >= HAIR_MIN_PROBABILITY).mean()) if lower_px.size >= MIN_MASK_PIXELS else None
    return forehead, ear, loose, collar, beard


def _r(v: float | None, nd: int = 4) -> float | None:
    return None if v is None else round(float(v), nd)


def measure_face(face: FaceLandmarks, rgb: np.ndarray | None = None, hair: HairMask | None = None) -> FaceFeatures:
    """All grooming measurements of one face; image ones only when `rgb` (and, for hair, the
    hair mask) is given and usable."""
    pts = face.points
    pose = fit_head_pose(pts)
    width = face.width_px
    mouth_seen = abs(pose.yaw_deg) <= MAX_SMILE_YAW_DEG
    smile = smile_score(pts, pose) if mouth_seen else None
    lift = smile_lift(pts, pose) if mouth_seen else None
    gaze = gaze_yaw(pts, pose)
    ear_skin = beard = beard_dark = None
    forehead = ear_hair = loose = collar = beard_hair = None
    usable = width >= MIN_IMAGE_FACE_PX and abs(pose.yaw_deg) <= MAX_IMAGE_YAW_DEG
    if rgb is not None and usable:
        _, ear_skin, beard, beard_dark = measure_regions(rgb, pts, pose)
    if hair is not None and usable:
        forehead, ear_hair, loose, collar, beard_hair = measure_hair(hair, pts, pose)
    if float(np.linalg.norm(pts[CHIN_TIP, :2] - pts[NOSE_TIP, :2])) < MIN_LOWER_FACE_PX:
        beard = beard_hair = beard_dark = None
    return FaceFeatures(True, round(pose.yaw_deg, 2), round(pose.pitch_deg, 2), round(pose.roll_deg, 2),
                        _r(smile), _r(forehead), _r(ear_skin), _r(beard, 2), round(width, 1), face.source,
                        _r(gaze, 2), _r(ear_hair), _r(loose), _r(collar), _r(beard_hair), _r(beard_dark),
                        _r(lift))


# ============================================================================ badge


class ColorError(ValueError):
    """A badge colour that cannot be read; `message_zh` says it in Chinese."""

    def __init__(self, text: str) -> None:
        super().__init__(f"badge colour {text!r} is not a colour: use #RRGGBB or R,G,B")
        self.message_zh = f"工号牌颜色“{text}”无法识别：请使用 #RRGGBB 或 R,G,B 格式。"


def parse_color(text: str) -> tuple[int, int, int]:
    """'#c00000', 'c00000' or '192,0,0' → (r, g, b); ColorError (a ValueError) otherwise."""
    t = text.strip().lstrip("#")
    try:
        if "," in t:
            rgb = tuple(int(v) for v in t.split(","))
        elif len(t) == 6:
            rgb = tuple(int(t[i:i + 2], 16) for i in (0, 2, 4))
        else:
            raise ValueError
    except ValueError:
        rgb = ()
    if len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb):
        raise ColorError(text)
    return rgb  # type: ignore[return-value]


# Left chest (the person's own left): a box from the left shoulder towards the body's
# midline and down the trunk, in fractions of the shoulder width / shoulder-to-hip length.
BADGE_BOX_ACROSS = (0.1, 0.5)   # from the left shoulder towards the midline
BADGE_BOX_DOWN = (0.1, 0.45)    # from the shoulder line towards the hips
BADGE_MAX_DELTA_E = 20.0        # a pixel matches the badge colour within this Lab distance
BADGE_MIN_VISIBILITY = 0.5


def measure_badge(rgb: np.ndarray, pose: PoseLandmarks, color: tuple[int, int, int]) -> float | None:
    """Fraction of the left-chest box whose colour matches the badge, or None if not visible."""
    vis = pose.visibility
    if min(vis[11], vis[12], vis[23], vis[24]) < BADGE_MIN_VISIBILITY:
        return None
    px = pose.px
    ls, rs, lh, rh = px[11], px[12], px[23], px[24]
    across = (rs - ls)
    down = ((lh + rh) / 2.0) - ((ls + rs) / 2.0)
    if np.linalg.norm(across) < 8 or np.linalg.norm(down) < 8:
        return None
    a0, a1 = BADGE_BOX_ACROSS
    d0, d1 = BADGE_BOX_DOWN
    poly = np.array([ls + a0 * across + d0 * down, ls + a1 * across + d0 * down,
                     ls + a1 * across + d1 * down, ls + a0 * across + d1 * down])
    h, w = rgb.shape[:2]
    x0, y0 = np.clip(np.floor(poly.min(0)).astype(int), 0, [w, h])
    x1, y1 = np.clip(np.ceil(poly.max(0)).astype(int) + 1, 0, [w, h])
    if x1 - x0 < 3 or y1 - y0 < 3:
        return None
    lab = rgb_to_lab(rgb[y0:y1, x0:x1])
    pixels = _polygon_pixels(lab, np.array([x0, y0], dtype=np.float64), poly)
    if len(pixels) < MIN_REGION_PIXELS:
        return None
    ref = cv2.cvtColor(np.array([[color]], np.float32) / 255.0, cv2.COLOR_RGB2Lab)[0, 0]
    return round(float((np.linalg.norm(pixels - ref, axis=1) <= BADGE_MAX_DELTA_E).mean()), 4)


# ============================================================================ judging


def is_grooming(rule: Rule) -> bool:
    return rule.id.startswith(GROOMING_PREFIX)


def grooming_rules(profile: Profile) -> tuple[Rule, ...]:
    return tuple(r for r in profile.rules if is_grooming(r))


def applies_to_standard(rule: Rule, standard: str | None) -> bool:
    """A rule with an empty check list for a standard does not apply to it; with no
    standard chosen only rules that apply to both standards are judged."""
    if standard is not None:
        return bool(rule.checks_for(standard))
    return all(rule.checks_for(s) for s in STANDARDS)


def body_head_yaw(feats: Any) -> float | None:
    """The head's yaw to the camera from the body model (body yaw + head yaw relative to the
    trunk), or None when either is unknown."""
    if feats is None or feats.body_yaw_deg is None or feats.head_yaw_deg is None:
        return None
    return float(feats.body_yaw_deg) + float(feats.head_yaw_deg)


def face_body_disagree(profile: Profile, face: FaceFeatures | None, body_head_yaw_deg: float | None) -> bool:
    """Whether the face model's head yaw and the body model's (body yaw + head yaw relative to
    the trunk) differ by more than the profile's `face_body_max_yaw_diff_deg`."""
    if face is None or body_head_yaw_deg is None or not math.isfinite(body_head_yaw_deg):
        return False
    diff = abs((face.yaw_deg - body_head_yaw_deg + 180.0) % 360.0 - 180.0)
    return diff > profile.face_body_max_yaw_diff_deg


def grooming_verdicts(profile: Profile, face: FaceFeatures | None, *, standard: str | None = None,
                      badge: float | None = None, badge_configured: bool = False,
                      body_view: str = "unknown", body_head_yaw_deg: float | None = None) -> list[Verdict]:
    """Verdicts of the profile's `grooming.*` rules on one frame.

    `body_head_yaw_deg`: the head's yaw to the camera from the body model; when it and the
    face model's yaw disagree (see `face_body_disagree`), the rules that use the head's
    angles say `unknown` (reason `face_body_disagree`) rather than fail. A face found away
    from the pose head (`face.SOURCE_OFF_POSE`: a close-up on which the pose skeleton is
    misplaced) is judged on its own: the body's view and head yaw are not its.
    """
    out: list[Verdict] = []
    if face is not None and face.source == SOURCE_OFF_POSE:
        body_view, body_head_yaw_deg = "unknown", None
    disagree = face_body_disagree(profile, face, body_head_yaw_deg)
    for rule in grooming_rules(profile):
        if not applies_to_standard(rule, standard):
            reason = REASON_NO_STANDARD if standard is None else REASON_NOT_FOR_STANDARD
            out.append(Verdict(rule.id, UNKNOWN, None, reason))
            continue
        names = {n for c in rule.checks_for(standard) for n in c.features}
        if names & set(BADGE_FEATURE_NAMES):
            if not badge_configured:
                out.append(Verdict(rule.id, UNKNOWN, None, REASON_BADGE_NOT_CONFIGURED))
            elif badge is None and body_view == "unknown":
                out.append(Verdict(rule.id, UNKNOWN, None, REASON_NO_BODY))
            else:
                out.append(evaluate_rule(rule, {"view": body_view, "badge_left_chest": badge}, standard=standard))
            continue
        if face is None:
            out.append(Verdict(rule.id, UNKNOWN, None, REASON_NO_FACE))
            continue
        inputs = face.rule_inputs()
        if body_view != "unknown":  # where the body faces decides what the camera can judge
            inputs["view"] = body_view
        if disagree and names & set(ANGLE_FEATURES):
            out.append(Verdict(rule.id, UNKNOWN, None, REASON_FACE_BODY_DISAGREE))
            continue
        v = evaluate_rule(rule, inputs, standard=standard)
        if v.status == UNKNOWN and v.reason == "not_visible" and face.face_width_px < MIN_IMAGE_FACE_PX:
            v = Verdict(rule.id, UNKNOWN, v.value, REASON_FACE_TOO_SMALL)
        out.append(v)
    return out


def _check_for(profile: Profile, rule_id: str, feature: str) -> Check | None:
    try:
        rule = profile.rule(rule_id)
    except KeyError:
        return None
    return rule.check_for_feature(feature)


def face_flags(profile: Profile, face: FaceFeatures | None) -> dict[str, bool | None]:
    """smiling / bangs / ears_covered / beard for one face, from the profile's limits (any standard).

    Each flag applies every check of its rule that names a face measurement (a rule fails
    when any check fails); `None` when none of them can be measured.
    """
    out: dict[str, bool | None] = {}
    inputs = face.rule_inputs() if face is not None else {}
    for name, rule_id, feature, when in FACE_FLAGS:
        try:
            rule = profile.rule(rule_id)
        except KeyError:
            out[name] = None
            continue
        checks = [c for c in rule.checks if all(f in FACE_FEATURE_NAMES for f in c.features)]
        if _check_for(profile, rule_id, feature) is None:
            checks = []
        statuses = [_apply(c, inputs[c.features[0]]) for c in checks
                    if len(c.features) == 1 and inputs.get(c.features[0]) is not None]
        statuses = [st for st in statuses if st != UNKNOWN]
        if not statuses:
            out[name] = None
        else:
            status = FAIL if FAIL in statuses else PASS
            out[name] = status == when
    return out


def _median(values: Iterable[float | None]) -> float | None:
    vals = [float(v) for v in values if v is not None]
    return round(float(np.median(vals)), 3) if vals else None


def _majority(values: Iterable[bool | None]) -> bool | None:
    vals = [v for v in values if v is not None]
    return (sum(vals) > len(vals) / 2) if vals else None


def face_observation(profile: Profile, faces: Sequence[FaceFeatures | None]) -> dict[str, Any]:
    """`observations.face` for a photo or clip: medians of the angles and smile score over
    the frames with a face, majority of the per-frame flags (whatever the standard)."""
    seen = [f for f in faces if f is not None]
    flags = [face_flags(profile, f) for f in seen]
    obs: dict[str, Any] = {"found": bool(seen)}
    for key in ("yaw_deg", "pitch_deg", "roll_deg", "smile_score"):
        obs[key] = _median(getattr(f, key) for f in seen)
    for name, *_ in FACE_FLAGS:
        obs[name] = _majority(fl[name] for fl in flags)
    return obs


# ============================================================================ greeting drill (二站 / 三声)

GREETING_STAND_LIMIT_S = 2.0     # STANDARDS.md 二站; used when drills.toml has no greeting step
GREETING_MIN_SEATED_S = 0.3      # the clip must start with at least this much sitting
GREETING_MIN_STANDING_S = 0.5    # standing must hold this long to count as "stood up"
GREETING_MIN_HOLD_S = 0.3        # facing the camera / smiling must last this long after standing
GREETING_START_WINDOW_S = 1.0    # "starts seated": the first sitting frame within this time
UPRIGHT = ("standing", "walking")


def greeting_stand_limit_s() -> float:
    """The 二站 time limit: `within_s` of the greeting drill's standing step in profiles/drills.toml."""
    try:
        text = resources.files("posturecheck.profiles").joinpath("drills.toml").read_text(encoding="utf-8")
        data = tomllib.loads(text)
        for drill in data.get("drills", []):
            if drill.get("id") == "greeting":
                for step in drill.get("steps", []):
                    if step.get("activity") == "standing" and step.get("within_s") is not None:
                        return float(step["within_s"])
    except (OSError, tomllib.TOMLDecodeError, TypeError, ValueError):
        logger.debug("drills.toml unreadable; greeting limit defaults to %.1f s", GREETING_STAND_LIMIT_S)
    return GREETING_STAND_LIMIT_S


def _held(times_s: Sequence[float], ok: Sequence[bool], min_s: float) -> bool:
    """Whether `ok` holds for at least `min_s` in total (frame durations from the timestamps)."""
    if not times_s:
        return False
    total = 0.0
    for i, good in enumerate(ok):
        if good:
            nxt = times_s[i + 1] if i + 1 < len(times_s) else times_s[i] + (
                (times_s[i] - times_s[i - 1]) if i > 0 else 0.0)
            total += min(nxt - times_s[i], 0.5)
    return total + 1e-9 >= min_s or (len(times_s) == 1 and ok[0])


def greeting_observation(times_ms: Sequence[int], raw_activity: Sequence[str], faces: Sequence[FaceFeatures | None],
                         eyes_forward: Sequence[bool | None], smiling: Sequence[bool | None],
                         limit_s: float | None = None) -> dict[str, Any] | None:
    """The greeting drill: a clip that starts seated → time to stand, facing the camera, smile.

    `raw_activity` is the per-frame posture before hysteresis (so the stand time is not
    delayed by the tracker's confirmation time). Returns None when the clip does not start
    seated or nobody stands up.
    """
    if not times_ms:
        return None
    t = [(ts - times_ms[0]) / 1000.0 for ts in times_ms]
    known = [i for i, a in enumerate(raw_activity) if a == "sitting" or a in UPRIGHT]
    if not known or raw_activity[known[0]] != "sitting" or t[known[0]] > GREETING_START_WINDOW_S:
        return None
    limit = greeting_stand_limit_s() if limit_s is None else limit_s
    stood: int | None = None
    seated_until = t[known[0]]
    for i in known:
        if raw_activity[i] == "sitting":
            seated_until = t[i]
        elif seated_until - t[known[0]] >= GREETING_MIN_SEATED_S:
            # Upright from here on for GREETING_MIN_STANDING_S (walking counts: stepping forward to greet).
            run = [j for j in known if j >= i and t[j] - t[i] <= GREETING_MIN_STANDING_S]
            if all(raw_activity[j] in UPRIGHT for j in run) and t[run[-1]] - t[i] >= GREETING_MIN_STANDING_S - 0.05:
                stood = i
                break
    if stood is None:
        return None
    after = list(range(stood, len(t)))
    times_after = [t[i] for i in after]
    faced = _held(times_after, [faces[i] is not None and eyes_forward[i] is True for i in after], GREETING_MIN_HOLD_S)
    smiled = _held(times_after, [smiling[i] is True for i in after], GREETING_MIN_HOLD_S)
    return {"stood_up_s": round(t[stood], 2), "limit_s": limit, "within_limit": t[stood] <= limit + 1e-9,
            "faced_camera": faced, "smiled": smiled}


__all__ = [
    "FaceFeatures", "HeadPose", "SkinModel", "fit_head_pose", "smile_score", "smile_lift", "measure_face", "measure_regions",
    "measure_hair", "gaze_yaw", "chin_polygon", "shrink_polygon", "face_body_disagree", "body_head_yaw",
    "measure_badge", "parse_color", "grooming_rules", "grooming_verdicts", "applies_to_standard", "face_flags",
    "face_observation", "greeting_observation", "greeting_stand_limit_s", "GROOMING_FEATURES", "is_grooming",
]


def measure_face_result(result: Any, rgb: np.ndarray) -> FaceFeatures | None:
    """Face measurements of a fresh detector answer (FaceSampler's `measure`: held frames reuse them)."""
    return measure_face(result.face, rgb, getattr(result, "hair", None)) if result.face is not None else None
