"""Per-frame posture measurements from one person's pose landmarks.

`compute_features` turns a `PoseLandmarks` into a `FrameFeatures`: angles in
degrees, distances in shoulder widths (``*_sw``, normalised by
`body_size_px`), and categorical observations (view, hand places, feet
stance). This module measures and observes; it never judges pass/fail (the
rule limits live in the TOML profiles).

Conventions
-----------
* Image coordinates are in square pixels, y down; the camera is assumed level,
  so image vertical is gravity.
* World landmarks (MediaPipe) are metric, hip-centred and camera-aligned:
  x to image right, y down, z away from the camera.
* Body yaw: 0 = facing the camera, +90 = turned to the person's own left (the
  front faces image right), -90 = turned to their right, ±180 = back to the
  camera.
* Visibility gating: a landmark is usable when its visibility is at least
  `min_visibility` and it lies inside the frame. A measurement that needs an
  unusable landmark, or a view that cannot show it, is None / "unknown".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .landmarks import LM, PoseLandmarks

VIEWS = ("front", "side", "back", "oblique", "unknown")
HAND_PLACES = ("hanging", "clasped_front", "behind_back", "crossed", "on_hip", "in_pocket", "raised", "other",
               "unknown")
FEET_STANCES = ("v", "together", "parallel", "t", "apart_wide", "unknown")

# --- view (|body yaw| in degrees) -------------------------------------------------------------
FRONT_MAX_YAW_DEG = 30.0
SIDE_MIN_YAW_DEG = 60.0
SIDE_MAX_YAW_DEG = 120.0
BACK_MIN_YAW_DEG = 150.0
FRONTAL_VIEWS = ("front", "back", "oblique")

# --- body proportions and head geometry ------------------------------------------------------
# Typical shoulder width / torso length (mid-hip to mid-shoulder) of MediaPipe landmarks;
# only used when world landmarks are missing.
SW_PER_TORSO = 0.65
# In a level head the nose tip sits this far below the ear line (median of upright dev photos,
# MediaPipe world landmarks); head_pitch_deg is measured from there.
NEUTRAL_NOSE_BELOW_EARS_DEG = 12.0
# Seen from the side, MediaPipe's mid-hip→mid-shoulder line of an upright person leans back by
# about this much (hip landmarks sit forward of the shoulder joints; medians of upright dev
# side views: walking −4°, sitting −11°). trunk_lean_deg is measured from there.
NEUTRAL_TRUNK_LEAN_DEG = -7.0
# Foreshortening corrections are capped at this cosine (60°) so that noise is not blown up.
MIN_COS_CORRECTION = 0.5
# Nose-to-ears (or toe-to-heel) horizontal offset needed to trust a facing direction.
FACING_MIN_OFFSET_SW = 0.1

# --- hands (shoulder widths; heights are measured up the trunk from the hip line) ------------
CLASP_MAX_WRIST_GAP_SW = 0.75     # both wrists this close together
CLASP_MAX_MIDLINE_SW = 0.4        # their midpoint this close to the midline
CLASP_MAX_WRIST_LATERAL_SW = 0.6  # each wrist within the torso's width
CLASP_MAX_ELBOW_DEG = 155.0       # both elbows bent (hanging arms are straighter)
CLASP_LOW_SW, CLASP_HIGH_SW = -0.6, 0.75  # lap / lower abdomen, below the chest
CROSS_MIN_OVER_MIDLINE_SW = 0.15  # wrist past the midline onto the other side
CROSS_LOW_SW = 0.3                # chest level: above this, up to the shoulders
CROSS_MAX_ELBOW_DEG = 130.0
ON_HIP_MIN_ELBOW_OUT_SW = 0.25    # elbow out to the side of the shoulder line
ON_HIP_MAX_ELBOW_DEG = 140.0
ON_HIP_LOW_SW, ON_HIP_HIGH_SW = 0.0, 0.8
SEATED_ON_HIP_LOW_SW = 0.25      # seated, hands on the lap sit at the hip line: the waist is higher
ON_HIP_MAX_WRIST_HIP_SW = 0.8
BEHIND_MAX_MIDLINE_SW = 0.25      # wrist hidden or seen near the midline of the back
BEHIND_MIN_BACK_SW = 0.2          # side view: wrist behind the trunk line
BEHIND_MAX_ELBOW_DEG = 150.0
BEHIND_LOW_SW, BEHIND_HIGH_SW = -0.6, 0.8
POCKET_MAX_WRIST_HIP_SW = 0.6     # wrist next to the same-side hip
POCKET_LOW_SW, POCKET_HIGH_SW = -0.15, 0.7
POCKET_RAISED_WRIST_SW = 0.2      # a straight hanging arm keeps the wrist below this
POCKET_MAX_ELBOW_DEG = 145.0
POCKET_MIN_LATERAL_SW = 0.15     # at the side or front of the thigh, not at the midline
POCKET_MAX_LATERAL_SW = 0.6      # within the hip's width plus a hand (a hanging arm is wider)
POCKET_MAX_FORWARD_SW = 0.35      # side view: at the side of the hip, not out in front
HANG_MIN_ELBOW_DEG = 140.0
HANG_MAX_UPPER_ARM_DEG = 45.0
HANG_MAX_WRIST_SW = 0.4
SEATED_HANG_MAX_WRIST_SW = -0.2   # seated: a hanging hand is below the seat line
SEATED_MIN_THIGH_DEG = 45.0       # both thighs at least this far from vertical: seated
# MediaPipe world knees read 150-165° on straight-legged people seen from the front, so in
# front/back/oblique views the world angle is used only when it shows a clear bend.
KNEE_WORLD_BENT_DEG = 140.0

# --- feet and legs (shoulder widths) ---------------------------------------------------------
APART_WIDE_MIN_SW = 1.0           # ankle gap wider than the shoulders
FEET_CLOSE_SW = 0.35              # "together": heels and toes this close
V_MAX_HEEL_GAP_SW = 0.3
V_MIN_TOE_SPREAD_SW = 0.15        # toes at least this much further apart than the heels
T_MAX_HEEL_TO_INSTEP_SW = 0.25
T_INSTEP_FRACTION = 0.5           # instep: this far from the heel towards the toes
T_MAX_INSTEP_TO_HEEL_RATIO = 0.6  # the heel is clearly nearer the instep than the other heel
LEG_CROSS_MARGIN_SW = 0.05        # left/right order flipped by at least this much
FIGURE4_MAX_ANKLE_KNEE_SW = 0.5
FIGURE4_MIN_ANKLE_RAISE_SW = 0.5


@dataclass(frozen=True)
class FrameFeatures:
    """Measurements and observations of one person in one frame (see module docstring).

    Angles are degrees, ``*_sw`` are shoulder widths (`body_size_px`); None / "unknown"
    when the landmarks needed are not usable or the view cannot show the thing.
    """

    view: str                           # VIEWS, from |body yaw|: front ≤30°, side 60–120°, back ≥150°
    body_yaw_deg: float | None          # 0 facing the camera, +90 turned to own left, ±180 back
    body_size_px: float | None          # shoulder width in px, valid in every view
    trunk_tilt_deg: float | None        # unsigned, mid-hip→mid-shoulder from image vertical (side: |trunk_lean_deg|)
    trunk_lean_deg: float | None        # side view only: + forward, − backward, 0 = NEUTRAL_TRUNK_LEAN_DEG
    trunk_lateral_deg: float | None     # front/back/oblique: + towards the person's left
    shoulder_tilt_deg: float | None     # front/back/oblique: asin(height difference / body size)
    head_roll_deg: float | None         # front/oblique: eye (ear) line from horizontal, yaw-corrected
    head_pitch_deg: float | None        # + chin up, − bowed; 0 = nose NEUTRAL_NOSE_BELOW_EARS_DEG below ears
    head_yaw_deg: float | None          # head yaw minus body yaw, + = looking to own left (world)
    knee_angle_left_deg: float | None   # hip-knee-ankle, 180 = straight
    knee_angle_right_deg: float | None
    knee_angle_min_deg: float | None
    knee_angle_max_deg: float | None
    heel_gap_sw: float | None           # front/back/oblique only (lateral gaps)
    toe_gap_sw: float | None
    ankle_gap_sw: float | None
    knee_gap_sw: float | None
    hand_left: str                      # HAND_PLACES, the person's own left hand
    hand_right: str
    feet: str                           # FEET_STANCES (standing stance; front-ish views)
    legs_crossed: bool | None
    arms_crossed: bool | None
    hands_on_hips: bool | None          # True if either hand; None if unsure about one
    hands_in_pockets: bool | None
    hands_behind_back: bool | None
    hip_center_x_sw: float | None       # hip centre image position / body_size_px
    hip_center_y_sw: float | None
    full_body_visible: bool             # nose, shoulders, hips, knees, ankles usable


# ============================================================================ geometry helpers


def angle_deg(a: Sequence[float], b: Sequence[float], c: Sequence[float]) -> float:
    """Angle a-b-c at b in degrees (2-D or 3-D); NaN when a segment has zero length."""
    u = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    v = np.asarray(c, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    nu, nv = float(np.linalg.norm(u)), float(np.linalg.norm(v))
    if nu < 1e-12 or nv < 1e-12:
        return float("nan")
    return float(np.degrees(np.arccos(np.clip(float(u @ v) / (nu * nv), -1.0, 1.0))))


def tilt_from_vertical_deg(p_low: Sequence[float], p_high: Sequence[float]) -> float:
    """Unsigned angle of the image segment p_low→p_high from straight up (y down), 0..180."""
    dx = float(p_high[0]) - float(p_low[0])
    dy = float(p_high[1]) - float(p_low[1])
    return float(math.degrees(math.atan2(abs(dx), -dy)))


def tilt_from_horizontal_deg(p1: Sequence[float], p2: Sequence[float]) -> float:
    """Unsigned angle of the image line p1-p2 from horizontal, 0..90 (direction-free)."""
    dx = abs(float(p2[0]) - float(p1[0]))
    dy = abs(float(p2[1]) - float(p1[1]))
    return float(math.degrees(math.atan2(dy, dx)))


def _wrap_deg(a: float) -> float:
    """Wrap an angle to (-180, 180]."""
    a = (a + 180.0) % 360.0 - 180.0
    return 180.0 if a == -180.0 else a


def _unit(v: np.ndarray) -> np.ndarray | None:
    n = float(np.linalg.norm(v))
    return None if n < 1e-9 else v / n


def usable_mask(lm: PoseLandmarks, min_visibility: float = 0.5) -> np.ndarray:
    """(33,) bool per landmark: visibility >= min_visibility and inside the frame (cached per frame)."""
    cache = lm.__dict__.setdefault("_usable_cache", {})  # frozen dataclass: cache beside the fields
    mask = cache.get(min_visibility)
    if mask is None:
        xy = lm.image[:, :2]
        finite = np.all(np.isfinite(lm.image), axis=1)
        inside = np.all((xy >= 0.0) & (xy <= 1.0), axis=1)
        mask = (lm.visibility >= min_visibility) & inside & finite
        mask.flags.writeable = False
        cache[min_visibility] = mask
    return mask


def _torso_points(pts: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(shoulder point, hip point): midpoints, or one side's pair when the other side is hidden."""
    if ok[LM.LEFT_SHOULDER] and ok[LM.RIGHT_SHOULDER] and ok[LM.LEFT_HIP] and ok[LM.RIGHT_HIP]:
        return ((pts[LM.LEFT_SHOULDER] + pts[LM.RIGHT_SHOULDER]) / 2,
                (pts[LM.LEFT_HIP] + pts[LM.RIGHT_HIP]) / 2)
    for s, h in ((LM.LEFT_SHOULDER, LM.LEFT_HIP), (LM.RIGHT_SHOULDER, LM.RIGHT_HIP)):
        if ok[s] and ok[h]:
            return pts[s], pts[h]
    return None


# ================================================================================ view / yaw


def _pair_yaw_unit(world: np.ndarray, left: int, right: int) -> np.ndarray | None:
    """Unit (cos, sin) of the yaw given by the world vector right→left (None if vertical)."""
    v = world[left] - world[right]
    return _unit(np.array([v[0], v[2]]))


def _image_yaw_deg(lm: PoseLandmarks, ok: np.ndarray) -> float | None:
    """Yaw magnitude from the apparent shoulder width (no world landmarks).

    The sign comes from the nose offset in front-ish views; when it cannot be told the
    magnitude is returned (>= 0).
    """
    if not (ok[LM.LEFT_SHOULDER] and ok[LM.RIGHT_SHOULDER]):
        return None
    px = lm.px
    tp = _torso_points(px, ok)
    if tp is None:
        return None
    torso = float(np.linalg.norm(tp[0] - tp[1]))
    if torso < 1.0:
        return None
    width = float(px[LM.LEFT_SHOULDER, 0] - px[LM.RIGHT_SHOULDER, 0])
    c = min(abs(width) / (SW_PER_TORSO * torso), 1.0)
    mag = math.degrees(math.acos(c))
    if width < 0:
        mag = 180.0 - mag
    if mag < 90.0 and ok[LM.NOSE]:
        off = float(px[LM.NOSE, 0] - tp[0][0])
        if abs(off) >= FACING_MIN_OFFSET_SW * SW_PER_TORSO * torso:
            return mag if off > 0 else -mag
    return mag


def view_from_yaw(yaw_deg: float | None) -> str:
    """Name the view for a body yaw: front, oblique, side or back (unknown for None)."""
    if yaw_deg is None or not math.isfinite(yaw_deg):
        return "unknown"
    a = abs(_wrap_deg(yaw_deg))
    if a <= FRONT_MAX_YAW_DEG:
        return "front"
    if a >= BACK_MIN_YAW_DEG:
        return "back"
    if SIDE_MIN_YAW_DEG <= a <= SIDE_MAX_YAW_DEG:
        return "side"
    return "oblique"


def estimate_view(lm: PoseLandmarks, *, min_visibility: float = 0.5) -> tuple[str, float | None]:
    """(view, body_yaw_deg) from the world shoulder and hip lines; image left/right order as fallback.

    A shoulder or hip pair counts when at least one of its two landmarks is usable (from
    the side the far one is hidden by the body, but its world position is still modelled).
    """
    ok = usable_mask(lm, min_visibility)
    pairs = [(LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER), (LM.LEFT_HIP, LM.RIGHT_HIP)]
    pairs = [p for p in pairs if ok[p[0]] or ok[p[1]]]
    if not pairs:
        return "unknown", None
    yaw: float | None = None
    if lm.world is not None:
        vecs = [v for v in (_pair_yaw_unit(lm.world, a, b) for a, b in pairs) if v is not None]
        if vecs:
            m = np.mean(vecs, axis=0)
            if float(np.linalg.norm(m)) > 1e-6:
                yaw = math.degrees(math.atan2(m[1], m[0]))
    if yaw is None:
        yaw = _image_yaw_deg(lm, ok)
    if yaw is None:
        return "unknown", None
    return view_from_yaw(yaw), float(yaw)


# =============================================================================== body size


def _body_size_px(lm: PoseLandmarks, ok: np.ndarray) -> float | None:
    """Shoulder width in pixels, valid in every view.

    px-per-metre is the larger of image/world torso length and image/world shoulder width
    (whichever segment is least foreshortened); times the world shoulder width. Without
    world landmarks: max(image shoulder width, SW_PER_TORSO × image torso length).
    """
    px = lm.px
    tp = _torso_points(px, ok)
    if tp is None:
        return None
    torso_px = float(np.linalg.norm(tp[0] - tp[1]))
    sw_img = 0.0
    if ok[LM.LEFT_SHOULDER] and ok[LM.RIGHT_SHOULDER]:
        sw_img = float(np.linalg.norm(px[LM.LEFT_SHOULDER] - px[LM.RIGHT_SHOULDER]))
    if lm.world is not None:
        w = lm.world
        sw_w = float(np.linalg.norm(w[LM.LEFT_SHOULDER] - w[LM.RIGHT_SHOULDER]))
        torso_w = float(np.linalg.norm((w[LM.LEFT_SHOULDER] + w[LM.RIGHT_SHOULDER]) / 2
                                       - (w[LM.LEFT_HIP] + w[LM.RIGHT_HIP]) / 2))
        if sw_w > 1e-6 and torso_w > 1e-6:
            scale = max(torso_px / torso_w, sw_img / sw_w)
            size = sw_w * scale
            return size if size > 1.0 else None
    size = max(sw_img, SW_PER_TORSO * torso_px)
    return size if size > 1.0 else None


# ============================================================================ facing / frames


def _facing_sign(lm: PoseLandmarks, ok: np.ndarray, yaw: float | None, size: float) -> int | None:
    """+1 when the person faces image right, -1 image left (nose vs ears, then toes vs heels, then yaw)."""
    px = lm.px
    ears = [px[i, 0] for i in (LM.LEFT_EAR, LM.RIGHT_EAR) if ok[i]]
    if ok[LM.NOSE] and ears:
        off = float(px[LM.NOSE, 0] - np.mean(ears))
        if abs(off) >= FACING_MIN_OFFSET_SW * size:
            return 1 if off > 0 else -1
    offs = [float(px[t, 0] - px[h, 0]) for t, h in ((LM.LEFT_FOOT_INDEX, LM.LEFT_HEEL),
                                                    (LM.RIGHT_FOOT_INDEX, LM.RIGHT_HEEL)) if ok[t] and ok[h]]
    if offs and abs(float(np.mean(offs))) >= FACING_MIN_OFFSET_SW * size:
        return 1 if float(np.mean(offs)) > 0 else -1
    if yaw is not None and lm.world is not None and abs(math.sin(math.radians(yaw))) > 0.5:
        return 1 if math.sin(math.radians(yaw)) > 0 else -1
    return None


@dataclass(frozen=True)
class _Frame:
    """2-D torso frame in the image: origin on the hip line, unit vectors, scales (px per sw)."""

    origin: np.ndarray
    across: np.ndarray        # frontal views: towards the person's left; side view: forward
    up: np.ndarray            # along the trunk, towards the shoulders
    across_scale: float
    up_scale: float
    shoulder_up: float        # height of the shoulder line above the hip line (sw)

    def coords(self, p: np.ndarray) -> np.ndarray:
        q = np.asarray(p, dtype=np.float64) - self.origin
        return np.array([float(q @ self.across) / self.across_scale, float(q @ self.up) / self.up_scale])


def _frontal_frame(px: np.ndarray, ok: np.ndarray, size: float) -> _Frame | None:
    """Frame for front/back/oblique views; lateral distances are in apparent shoulder widths."""
    need = (LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER, LM.LEFT_HIP, LM.RIGHT_HIP)
    if not all(ok[i] for i in need):
        return None
    lat = _unit((px[LM.LEFT_SHOULDER] - px[LM.RIGHT_SHOULDER]) + (px[LM.LEFT_HIP] - px[LM.RIGHT_HIP]))
    if lat is None:
        return None
    sh = (px[LM.LEFT_SHOULDER] + px[LM.RIGHT_SHOULDER]) / 2
    hip = (px[LM.LEFT_HIP] + px[LM.RIGHT_HIP]) / 2
    up = np.array([lat[1], -lat[0]])
    if float((sh - hip) @ up) < 0:
        up = -up
    lat_scale = abs(float((px[LM.LEFT_SHOULDER] - px[LM.RIGHT_SHOULDER]) @ lat))
    lat_scale = max(lat_scale, MIN_COS_CORRECTION * size * 0.5)
    return _Frame(hip, lat, up, lat_scale, size, float((sh - hip) @ up) / size)


def _side_frame(px: np.ndarray, ok: np.ndarray, size: float, facing: int | None) -> _Frame | None:
    """Frame for a side view: 'across' points forward (the way the person faces)."""
    tp = _torso_points(px, ok)
    if tp is None or facing is None:
        return None
    up = _unit(tp[0] - tp[1])
    if up is None:
        return None
    fwd = np.array([-up[1], up[0]])
    if fwd[0] * facing < 0:
        fwd = -fwd
    return _Frame(tp[1], fwd, up, size, size, float(np.linalg.norm(tp[0] - tp[1])) / size)


def _world_lateral(lm: PoseLandmarks) -> tuple[np.ndarray, np.ndarray, float] | None:
    """(origin, horizontal unit towards the person's left, shoulder width) in world metres."""
    if lm.world is None:
        return None
    w = lm.world
    v = (w[LM.LEFT_SHOULDER] - w[LM.RIGHT_SHOULDER]) + (w[LM.LEFT_HIP] - w[LM.RIGHT_HIP])
    lat = _unit(np.array([v[0], 0.0, v[2]]))
    sw = float(np.linalg.norm(w[LM.LEFT_SHOULDER] - w[LM.RIGHT_SHOULDER]))
    if lat is None or sw < 1e-6:
        return None
    return (w[LM.LEFT_HIP] + w[LM.RIGHT_HIP]) / 2, lat, sw


# ====================================================================================== legs


def thigh_from_vertical_deg(lm: PoseLandmarks, side: str, *, min_visibility: float = 0.5,
                            view: str | None = None) -> float | None:
    """Angle of the hip→knee segment from straight down (0 = standing thigh, 90 = seated).

    Side view: image plane; otherwise the world segment (3-D, so a thigh pointing at the
    camera reads ~90); without world landmarks, image only.
    """
    ok = usable_mask(lm, min_visibility)
    hip, knee = (LM.LEFT_HIP, LM.LEFT_KNEE) if side == "left" else (LM.RIGHT_HIP, LM.RIGHT_KNEE)
    if not (ok[hip] and ok[knee]):
        return None
    if view is None:
        view = estimate_view(lm, min_visibility=min_visibility)[0]
    if view != "side" and lm.world is not None:
        v = lm.world[knee] - lm.world[hip]
    else:
        p = lm.px
        v = np.array([*(p[knee] - p[hip]), 0.0])
    n = float(np.linalg.norm(v))
    if n < 1e-9:
        return None
    return float(math.degrees(math.acos(np.clip(v[1] / n, -1.0, 1.0))))


def _seated(lm: PoseLandmarks, min_visibility: float, view: str) -> bool:
    angles = [thigh_from_vertical_deg(lm, s, min_visibility=min_visibility, view=view) for s in ("left", "right")]
    angles = [a for a in angles if a is not None]
    return bool(angles) and min(angles) >= SEATED_MIN_THIGH_DEG


def _knee_angle(lm: PoseLandmarks, ok: np.ndarray, side: str, view: str) -> float | None:
    """Hip-knee-ankle angle, 180 = straight.

    Side view: image plane (the bend is in the picture). Other views: the world 3-D angle
    when it shows a clear bend (< KNEE_WORLD_BENT_DEG: seated, squatting, striding), else
    the image-plane angle (world knees are biased towards bent on straight legs).
    """
    ids = (LM.LEFT_HIP, LM.LEFT_KNEE, LM.LEFT_ANKLE) if side == "left" else (LM.RIGHT_HIP, LM.RIGHT_KNEE,
                                                                               LM.RIGHT_ANKLE)
    if not all(ok[i] for i in ids):
        return None
    px = lm.px
    a = angle_deg(px[ids[0]], px[ids[1]], px[ids[2]])
    if view != "side" and lm.world is not None:
        w = lm.world
        aw = angle_deg(w[ids[0]], w[ids[1]], w[ids[2]])
        if not math.isnan(aw) and aw < KNEE_WORLD_BENT_DEG:
            a = aw
    return None if math.isnan(a) else a


def _gap_sw(px: np.ndarray, ok: np.ndarray, a: int, b: int, size: float, cos_yaw: float) -> float | None:
    """Image distance between a and b in shoulder widths, horizontal part corrected for yaw."""
    if not (ok[a] and ok[b]):
        return None
    d = px[a] - px[b]
    return float(math.hypot(d[0] / cos_yaw, d[1]) / size)


def classify_feet(lm: PoseLandmarks, body_size_px: float | None, *, min_visibility: float = 0.5,
                  view: str | None = None, yaw_deg: float | None = None) -> str:
    """Standing feet stance: v, together, parallel, t, apart_wide or unknown.

    Needs a front-ish view (front, back, oblique) and both ankles, heels and toes usable.
    Gaps are image distances in shoulder widths (horizontal part corrected for yaw); the
    T test (a heel at the other foot's instep) uses world positions when available.
    """
    if body_size_px is None or body_size_px <= 0:
        return "unknown"
    if view is None or (yaw_deg is None and view != "unknown"):
        view, yaw_deg = estimate_view(lm, min_visibility=min_visibility)
    if view not in FRONTAL_VIEWS:
        return "unknown"
    ok = usable_mask(lm, min_visibility)
    ids = (LM.LEFT_ANKLE, LM.RIGHT_ANKLE, LM.LEFT_HEEL, LM.RIGHT_HEEL, LM.LEFT_FOOT_INDEX, LM.RIGHT_FOOT_INDEX)
    if not all(ok[i] for i in ids):
        return "unknown"
    cos_yaw = max(abs(math.cos(math.radians(yaw_deg or 0.0))), MIN_COS_CORRECTION)
    px = lm.px
    ankle = _gap_sw(px, ok, LM.LEFT_ANKLE, LM.RIGHT_ANKLE, body_size_px, cos_yaw)
    heel = _gap_sw(px, ok, LM.LEFT_HEEL, LM.RIGHT_HEEL, body_size_px, cos_yaw)
    toe = _gap_sw(px, ok, LM.LEFT_FOOT_INDEX, LM.RIGHT_FOOT_INDEX, body_size_px, cos_yaw)
    assert ankle is not None and heel is not None and toe is not None
    if ankle > APART_WIDE_MIN_SW:
        return "apart_wide"
    if _t_stance(lm, px, body_size_px):
        return "t"
    if heel < V_MAX_HEEL_GAP_SW and toe >= heel + V_MIN_TOE_SPREAD_SW:
        return "v"
    if heel < FEET_CLOSE_SW and toe < FEET_CLOSE_SW:
        return "together"
    return "parallel"


def _t_stance(lm: PoseLandmarks, px: np.ndarray, size: float) -> bool:
    """One heel at the other foot's instep (and clearly nearer it than the other heel)."""
    if lm.world is not None:
        pts = lm.world
        unit = float(np.linalg.norm(pts[LM.LEFT_SHOULDER] - pts[LM.RIGHT_SHOULDER]))
    else:
        pts, unit = px, size
    if unit <= 1e-9:
        return False
    for heel_a, heel_b, toe_b in ((LM.LEFT_HEEL, LM.RIGHT_HEEL, LM.RIGHT_FOOT_INDEX),
                                  (LM.RIGHT_HEEL, LM.LEFT_HEEL, LM.LEFT_FOOT_INDEX)):
        instep = pts[heel_b] + T_INSTEP_FRACTION * (pts[toe_b] - pts[heel_b])
        d_instep = float(np.linalg.norm(pts[heel_a] - instep)) / unit
        d_heel = float(np.linalg.norm(pts[heel_a] - pts[heel_b])) / unit
        if d_instep <= T_MAX_HEEL_TO_INSTEP_SW and d_instep <= T_MAX_INSTEP_TO_HEEL_RATIO * d_heel:
            return True
    return False


def _legs_crossed(lm: PoseLandmarks, ok: np.ndarray, view: str, size: float,
                  frame: _Frame | None) -> bool | None:
    """Knee over knee or ankles crossed (left/right order flipped), or an ankle on the other knee.

    The order is read in the image for front/back views and along the world left-right
    axis for side/oblique views.
    """
    ids = (LM.LEFT_HIP, LM.RIGHT_HIP, LM.LEFT_KNEE, LM.RIGHT_KNEE, LM.LEFT_ANKLE, LM.RIGHT_ANKLE)
    if not all(ok[i] for i in ids):
        return None
    # ankle resting on the other knee (figure-4), image distances
    px = lm.px
    for ankle_a, knee_b, ankle_b in ((LM.LEFT_ANKLE, LM.RIGHT_KNEE, LM.RIGHT_ANKLE),
                                     (LM.RIGHT_ANKLE, LM.LEFT_KNEE, LM.LEFT_ANKLE)):
        near = float(np.linalg.norm(px[ankle_a] - px[knee_b])) / size <= FIGURE4_MAX_ANKLE_KNEE_SW
        raised = float(px[ankle_b, 1] - px[ankle_a, 1]) / size >= FIGURE4_MIN_ANKLE_RAISE_SW
        if near and raised:
            return True
    # left/right order of knees and ankles against the hips
    if view in ("front", "back") and frame is not None:
        lat = {i: frame.coords(px[i])[0] for i in ids}
    elif view in ("side", "oblique"):
        # turned bodies mix stride into the image's left/right order: use the world's
        wl = _world_lateral(lm)
        if wl is None:
            return None
        origin, axis, sw = wl
        lat = {i: float((lm.world[i] - origin) @ axis) / sw for i in ids}
    else:
        return None
    for a, b in ((LM.LEFT_KNEE, LM.RIGHT_KNEE), (LM.LEFT_ANKLE, LM.RIGHT_ANKLE)):
        if lat[a] - lat[b] < -LEG_CROSS_MARGIN_SW:
            return True
    return False


# ===================================================================================== hands


@dataclass(frozen=True)
class ArmGeometry:
    """One arm in torso coordinates (shoulder widths; NaN where nothing tells).

    lateral: wrist distance from the midline, + towards the arm's own side.
    up: wrist height above the hip line, along the trunk.
    forward: wrist ahead (+) of / behind (-) the trunk (image from the side, else world).
    elbow_out: elbow lateral minus shoulder lateral (+ = elbow out to the side).
    elbow_deg: shoulder-elbow-wrist angle in the image; elbow_bend_deg: the same in 3-D
    from the side (a bend across the body is invisible there), else the image angle.
    wrist_hip: wrist to same-side hip in the picture's torso plane.
    """

    lateral: float
    up: float
    forward: float
    shoulder_up: float
    elbow_out: float
    elbow_deg: float
    elbow_bend_deg: float
    upper_arm_from_down_deg: float
    wrist_hip: float
    wrist_visible: bool
    hand_visible: bool
    wrist_below_elbow: bool


_ARM = {
    "left": (LM.LEFT_SHOULDER, LM.LEFT_ELBOW, LM.LEFT_WRIST, LM.LEFT_HIP, (LM.LEFT_INDEX, LM.LEFT_PINKY)),
    "right": (LM.RIGHT_SHOULDER, LM.RIGHT_ELBOW, LM.RIGHT_WRIST, LM.RIGHT_HIP, (LM.RIGHT_INDEX, LM.RIGHT_PINKY)),
}


def _world_torso(lm: PoseLandmarks) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float] | None:
    """(origin, lateral → left, up along the trunk, forward, shoulder width) in world metres."""
    wl = _world_lateral(lm)
    if wl is None:
        return None
    origin, lat, sw = wl
    w = lm.world
    up = (w[LM.LEFT_SHOULDER] + w[LM.RIGHT_SHOULDER]) / 2 - origin
    up = _unit(up - (up @ lat) * lat)
    if up is None:
        return None
    return origin, lat, up, np.cross(lat, up), sw


def _arm_geometry(lm: PoseLandmarks, ok: np.ndarray, side: str, view: str, frame: _Frame) -> ArmGeometry:
    s, e, w, h, hand = _ARM[side]
    sign = 1.0 if side == "left" else -1.0
    px = lm.px
    cs, ce, cw, ch = (frame.coords(px[i]) for i in (s, e, w, h))
    nan = float("nan")
    wt = _world_torso(lm)
    elbow_img = angle_deg(px[s], px[e], px[w])
    elbow_bend = elbow_img
    if view == "side":
        forward, up = float(cw[0]), float(cw[1])
        lateral = elbow_out = nan
        if wt is not None:
            origin, lat, _, _, sw = wt
            wlat = {i: sign * float((lm.world[i] - origin) @ lat) / sw for i in (s, e, w)}
            lateral, elbow_out = wlat[w], wlat[e] - wlat[s]
            bend = angle_deg(lm.world[s], lm.world[e], lm.world[w])
            elbow_bend = bend if not math.isnan(bend) else elbow_img
    else:
        lateral, up = sign * float(cw[0]), float(cw[1])
        elbow_out = sign * float(ce[0] - cs[0])
        forward = nan
        if wt is not None:
            origin, _, _, fwd, sw = wt
            forward = float((lm.world[w] - origin) @ fwd) / sw
    ua = _unit(px[e] - px[s])
    upper_from_down = nan if ua is None else float(math.degrees(math.acos(np.clip(ua @ -frame.up, -1.0, 1.0))))
    return ArmGeometry(
        lateral=lateral, up=up, forward=forward, shoulder_up=float(cs[1]), elbow_out=elbow_out,
        elbow_deg=elbow_img, elbow_bend_deg=elbow_bend, upper_arm_from_down_deg=upper_from_down,
        wrist_hip=float(np.linalg.norm(cw - ch)), wrist_visible=bool(ok[w]),
        hand_visible=bool(any(ok[i] for i in hand)), wrist_below_elbow=bool(cw[1] < ce[1]),
    )


def _between(x: float, lo: float, hi: float) -> bool:
    return bool(lo <= x <= hi)  # False for NaN


def _camera_sees_front(view: str, yaw: float | None) -> bool:
    return view == "front" or (view == "oblique" and yaw is not None and abs(yaw) < 90.0)


def _is_crossed(g: ArmGeometry) -> bool:
    """Wrist past the midline at chest level with the elbow bent (folded arm)."""
    return (g.lateral <= -CROSS_MIN_OVER_MIDLINE_SW and _between(g.up, CROSS_LOW_SW, g.shoulder_up + 0.2)
            and g.elbow_bend_deg <= CROSS_MAX_ELBOW_DEG)


def _is_on_hip(g: ArmGeometry, view: str, seated: bool) -> bool:
    """Wrist at the hip/waist, elbow bent and out to the side (叉腰)."""
    low = SEATED_ON_HIP_LOW_SW if seated else ON_HIP_LOW_SW
    return (g.elbow_out >= ON_HIP_MIN_ELBOW_OUT_SW and g.elbow_bend_deg <= ON_HIP_MAX_ELBOW_DEG
            and _between(g.up, low, ON_HIP_HIGH_SW) and g.wrist_hip <= ON_HIP_MAX_WRIST_HIP_SW
            and (view == "side" or g.lateral >= 0.1))


def _is_pocket_place(g: ArmGeometry, view: str, seated: bool, lower: float = POCKET_LOW_SW) -> bool:
    """Wrist next to the same-side hip, at or a little above the hip line (not seated)."""
    if seated or g.wrist_hip > POCKET_MAX_WRIST_HIP_SW or not _between(g.up, lower, POCKET_HIGH_SW):
        return False
    if view == "side":
        return abs(g.forward) <= POCKET_MAX_FORWARD_SW and (math.isnan(g.lateral) or g.lateral >= 0.0)
    return _between(g.lateral, POCKET_MIN_LATERAL_SW, POCKET_MAX_LATERAL_SW)


def _clasp(g: ArmGeometry, other: ArmGeometry | None, gap: float, view: str, sees_front: bool) -> str | None:
    """Both hands together near the midline below the chest: clasped_front or behind_back."""
    if other is None or not other.wrist_visible or not gap <= CLASP_MAX_WRIST_GAP_SW:
        return None
    if not all(_between(a.up, CLASP_LOW_SW, CLASP_HIGH_SW) and a.elbow_bend_deg <= CLASP_MAX_ELBOW_DEG
               and abs(a.lateral) <= CLASP_MAX_WRIST_LATERAL_SW for a in (g, other)):
        return None
    if view == "side":
        if g.forward > 0 and other.forward > 0:
            return "clasped_front"
        if g.forward < -BEHIND_MIN_BACK_SW and other.forward < -BEHIND_MIN_BACK_SW:
            return "behind_back"
        return None
    if abs(g.lateral - other.lateral) / 2 > CLASP_MAX_MIDLINE_SW:
        return None  # (lateral is outwards per side: the signed midpoint is (gl - ol) / 2)
    if not sees_front:
        return "behind_back"
    if g.forward <= -BEHIND_MIN_BACK_SW and other.forward <= -BEHIND_MIN_BACK_SW:
        return "behind_back"  # seen from the front but clearly behind the trunk (world depth)
    return "clasped_front"


def _classify_arm(g: ArmGeometry, other: ArmGeometry | None, other_wrist_gap: float, view: str,
                  sees_front: bool, seated: bool) -> str:
    """Decision rules for one hand (see classify_hand)."""
    if not g.wrist_visible:
        # hidden hand: tucked under the other arm, behind the back, or in a pocket
        if _is_crossed(g) and (view == "side" or sees_front):
            return "crossed"
        if view == "side" or not sees_front:
            return "unknown"
        if _is_on_hip(g, view, seated):
            return "on_hip"
        if g.lateral <= BEHIND_MAX_MIDLINE_SW and _between(g.up, BEHIND_LOW_SW, BEHIND_HIGH_SW):
            return "behind_back"
        if _is_pocket_place(g, view, seated, lower=POCKET_LOW_SW - 0.15):
            return "in_pocket"
        return "unknown"

    if g.up > g.shoulder_up:
        return "raised"
    if (view == "side" or sees_front) and _is_crossed(g) and not (view == "side" and g.forward < 0):
        return "crossed"
    clasp = _clasp(g, other, other_wrist_gap, view, sees_front)
    if clasp is not None:
        return clasp
    if _is_on_hip(g, view, seated):
        return "on_hip"

    # behind the back: behind the trunk line (side) or at the midline seen from behind
    if view == "side":
        near_midline = g.lateral <= BEHIND_MAX_MIDLINE_SW + 0.1
        if g.forward <= -BEHIND_MIN_BACK_SW and _between(g.up, BEHIND_LOW_SW, BEHIND_HIGH_SW) \
                and (near_midline or (math.isnan(g.lateral) and g.elbow_deg <= BEHIND_MAX_ELBOW_DEG)):
            return "behind_back"
    elif not sees_front and g.lateral <= BEHIND_MAX_MIDLINE_SW and _between(g.up, BEHIND_LOW_SW, BEHIND_HIGH_SW):
        return "behind_back"

    # hand in a pocket: next to the hip, wrist raised above a hanging one, elbow bent or fingers hidden
    if _is_pocket_place(g, view, seated) and (g.up >= POCKET_RAISED_WRIST_SW or g.elbow_deg <= POCKET_MAX_ELBOW_DEG
                                              or not g.hand_visible):
        return "in_pocket"

    hang_top = SEATED_HANG_MAX_WRIST_SW if seated else HANG_MAX_WRIST_SW
    if g.wrist_below_elbow and g.up <= hang_top and g.elbow_deg >= HANG_MIN_ELBOW_DEG \
            and g.upper_arm_from_down_deg <= HANG_MAX_UPPER_ARM_DEG:
        return "hanging"
    return "other"


def _frame_for_view(lm: PoseLandmarks, ok: np.ndarray, view: str, yaw: float | None,
                    size: float) -> _Frame | None:
    if view in FRONTAL_VIEWS:
        return _frontal_frame(lm.px, ok, size)
    if view == "side":
        return _side_frame(lm.px, ok, size, _facing_sign(lm, ok, yaw, size))
    return None


def classify_hand(lm: PoseLandmarks, side: str, *, min_visibility: float = 0.5, view: str | None = None,
                  yaw_deg: float | None = None, body_size_px: float | None = None) -> str:
    """Where the person's `side` ("left"/"right") hand is: one of HAND_PLACES.

    Rules, in order, in torso coordinates (shoulder widths): raised (wrist above the
    shoulder); crossed (wrist past the midline at chest level, elbow bent); clasped_front
    (both wrists together near the midline below the chest; seen from behind this is
    behind_back); on_hip (wrist at hip/waist, elbow bent and out to the side); behind_back
    (side view: behind the trunk line with the elbow bent; back view: at the midline);
    in_pocket (wrist next to the hip, raised above where a hanging arm puts it, or elbow
    bent, or fingers hidden); hanging (upper arm down, elbow nearly straight); other.
    A wrist hidden from a front view is read from its modelled position: under the other
    arm (crossed), near the midline (behind_back) or at the hip (in_pocket); else unknown.
    """
    if side not in _ARM:
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    ok = usable_mask(lm, min_visibility)
    if view is None:
        view, yaw_deg = estimate_view(lm, min_visibility=min_visibility)
    if body_size_px is None:
        body_size_px = _body_size_px(lm, ok)
    if body_size_px is None or view == "unknown":
        return "unknown"
    frame = _frame_for_view(lm, ok, view, yaw_deg, body_size_px)
    return _classify_hand_in_frame(lm, ok, side, view, yaw_deg, frame, _seated(lm, min_visibility, view))


def _classify_hand_in_frame(lm: PoseLandmarks, ok: np.ndarray, side: str, view: str, yaw: float | None,
                            frame: _Frame | None, seated: bool) -> str:
    s, e, *_ = _ARM[side]
    if frame is None or not (ok[s] and ok[e]):
        return "unknown"
    g = _arm_geometry(lm, ok, side, view, frame)
    other_side = "right" if side == "left" else "left"
    os_, oe, ow, *_ = _ARM[other_side]
    other = _arm_geometry(lm, ok, other_side, view, frame) if (ok[os_] and ok[oe]) else None
    if view == "side":
        wl = _world_lateral(lm)
        gap = float("nan") if wl is None else float(np.linalg.norm(lm.world[_ARM[side][2]] - lm.world[ow])) / wl[2]
    else:
        gap = float(np.linalg.norm(frame.coords(lm.px[_ARM[side][2]]) - frame.coords(lm.px[ow])))
    return _classify_arm(g, other, gap, view, _camera_sees_front(view, yaw), seated)


def _any_flag(places: tuple[str, str], place: str) -> bool | None:
    """True if either hand is at `place`; False if both are known and neither is; else None."""
    if place in places:
        return True
    if "unknown" in places:
        return None
    return False


def _arms_crossed(places: tuple[str, str]) -> bool | None:
    """Folded arms: one hand crossed and the other not clearly elsewhere (hanging, on hip...)."""
    if "crossed" in places:
        other = places[1] if places[0] == "crossed" else places[0]
        return other in ("crossed", "other", "unknown")
    if "unknown" in places:
        return None
    return False


# ====================================================================================== head


def _head_abs_yaw(lm: PoseLandmarks, ok: np.ndarray, view: str) -> float | None:
    """Head yaw relative to the camera (same sign convention as body yaw), world landmarks."""
    if lm.world is None or not (ok[LM.LEFT_EAR] or ok[LM.RIGHT_EAR]):
        return None
    w = lm.world
    vecs = []
    ear = _unit(np.array([w[LM.LEFT_EAR, 0] - w[LM.RIGHT_EAR, 0], w[LM.LEFT_EAR, 2] - w[LM.RIGHT_EAR, 2]]))
    if ear is not None:
        vecs.append(ear)
    if view != "back" and ok[LM.NOSE]:
        n = w[LM.NOSE] - (w[LM.LEFT_EAR] + w[LM.RIGHT_EAR]) / 2
        # forward (x, -z) → yaw = atan2(x, -z); as (cos, sin): (-z, x)
        nv = _unit(np.array([-n[2], n[0]]))
        if nv is not None:
            vecs.append(nv)
    if not vecs:
        return None
    m = np.mean(vecs, axis=0)
    if float(np.linalg.norm(m)) < 1e-6:
        return None
    return float(math.degrees(math.atan2(m[1], m[0])))


def _head_roll(lm: PoseLandmarks, ok: np.ndarray, head_yaw: float | None) -> float | None:
    """Tilt of the eye line (ears as fallback) from horizontal, corrected for head yaw."""
    px = lm.px
    for a, b in ((LM.LEFT_EYE, LM.RIGHT_EYE), (LM.LEFT_EAR, LM.RIGHT_EAR)):
        if ok[a] and ok[b]:
            d = px[a] - px[b]
            c = 1.0 if head_yaw is None else max(abs(math.cos(math.radians(head_yaw))), MIN_COS_CORRECTION)
            if abs(d[0]) < 1e-9 and abs(d[1]) < 1e-9:
                return None
            return float(math.degrees(math.atan2(abs(d[1]), abs(d[0]) / c)))
    return None


def _head_pitch(lm: PoseLandmarks, ok: np.ndarray, view: str) -> float | None:
    """Elevation of the ears→nose line plus NEUTRAL_NOSE_BELOW_EARS_DEG: 0 = level, + chin up.

    From the side the image line is used; in front/oblique views the world line.
    """
    ears = [i for i in (LM.LEFT_EAR, LM.RIGHT_EAR) if ok[i]]
    if not ok[LM.NOSE] or not ears or view in ("back", "unknown"):
        return None
    if view == "side":
        px = lm.px
        v = px[LM.NOSE] - np.mean(px[ears], axis=0)
        raw = math.degrees(math.atan2(-v[1], abs(v[0])))
    elif lm.world is not None:
        w = lm.world
        v = w[LM.NOSE] - (w[LM.LEFT_EAR] + w[LM.RIGHT_EAR]) / 2
        raw = math.degrees(math.atan2(-v[1], math.hypot(v[0], v[2])))
    else:
        return None
    return float(raw + NEUTRAL_NOSE_BELOW_EARS_DEG)


# ================================================================================== features


def _full_body_visible(ok: np.ndarray, view: str) -> bool:
    if not ok[LM.NOSE]:
        return False
    pairs = ((LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER), (LM.LEFT_HIP, LM.RIGHT_HIP),
             (LM.LEFT_KNEE, LM.RIGHT_KNEE), (LM.LEFT_ANKLE, LM.RIGHT_ANKLE))
    if view in ("front", "back"):
        return all(ok[a] and ok[b] for a, b in pairs)
    return all(ok[a] or ok[b] for a, b in pairs)


def compute_features(lm: PoseLandmarks, *, min_visibility: float = 0.5) -> FrameFeatures:
    """Measure one person in one frame (see FrameFeatures and the module docstring)."""
    ok = usable_mask(lm, min_visibility)
    px = lm.px
    view, yaw = estimate_view(lm, min_visibility=min_visibility)
    size = _body_size_px(lm, ok)
    tp = _torso_points(px, ok)
    frontal = view in FRONTAL_VIEWS

    trunk_tilt = trunk_lean = trunk_lateral = None
    if tp is not None:
        sh, hip = tp
        trunk_tilt = tilt_from_vertical_deg(hip, sh)
        d = sh - hip
        if view == "side" and size is not None:
            facing = _facing_sign(lm, ok, yaw, size)
            if facing is not None:
                raw = float(math.degrees(math.atan2(d[0] * facing, -d[1])))
                trunk_lean = raw - NEUTRAL_TRUNK_LEAN_DEG
                trunk_tilt = abs(trunk_lean)  # from the side the image tilt is the sagittal lean
        elif frontal:
            pairs = [(a, b) for a, b in ((LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER), (LM.LEFT_HIP, LM.RIGHT_HIP))
                     if ok[a] and ok[b]]
            if pairs:
                left_dx = sum(float(px[a, 0] - px[b, 0]) for a, b in pairs)
                if abs(left_dx) > 1e-9:
                    trunk_lateral = float(math.degrees(math.atan2(d[0] * math.copysign(1.0, left_dx), -d[1])))

    shoulder_tilt = None
    if frontal and size is not None and ok[LM.LEFT_SHOULDER] and ok[LM.RIGHT_SHOULDER]:
        dy = abs(float(px[LM.LEFT_SHOULDER, 1] - px[LM.RIGHT_SHOULDER, 1]))
        # the true shoulder width in px is `size`: asin(dy / size) undoes yaw foreshortening
        shoulder_tilt = float(math.degrees(math.asin(min(dy / size, 1.0))))

    head_abs = _head_abs_yaw(lm, ok, view) if view != "unknown" else None
    head_yaw = None if (head_abs is None or yaw is None or lm.world is None) else _wrap_deg(head_abs - yaw)
    head_roll = _head_roll(lm, ok, head_abs) if view in ("front", "oblique") else None
    head_pitch = _head_pitch(lm, ok, view)

    knee_l = _knee_angle(lm, ok, "left", view)
    knee_r = _knee_angle(lm, ok, "right", view)
    knees = [k for k in (knee_l, knee_r) if k is not None]

    heel_gap = toe_gap = ankle_gap = knee_gap = None
    if frontal and size is not None:
        cos_yaw = max(abs(math.cos(math.radians(yaw or 0.0))), MIN_COS_CORRECTION)
        heel_gap = _gap_sw(px, ok, LM.LEFT_HEEL, LM.RIGHT_HEEL, size, cos_yaw)
        toe_gap = _gap_sw(px, ok, LM.LEFT_FOOT_INDEX, LM.RIGHT_FOOT_INDEX, size, cos_yaw)
        ankle_gap = _gap_sw(px, ok, LM.LEFT_ANKLE, LM.RIGHT_ANKLE, size, cos_yaw)
        knee_gap = _gap_sw(px, ok, LM.LEFT_KNEE, LM.RIGHT_KNEE, size, cos_yaw)

    hand_l = hand_r = "unknown"
    feet = "unknown"
    legs_crossed = None
    hip_x = hip_y = None
    if size is not None and view != "unknown":
        frame = _frame_for_view(lm, ok, view, yaw, size)
        seated = _seated(lm, min_visibility, view)
        hand_l = _classify_hand_in_frame(lm, ok, "left", view, yaw, frame, seated)
        hand_r = _classify_hand_in_frame(lm, ok, "right", view, yaw, frame, seated)
        feet = classify_feet(lm, size, min_visibility=min_visibility, view=view, yaw_deg=yaw)
        legs_crossed = _legs_crossed(lm, ok, view, size, frame)
    if size is not None and tp is not None:
        hip_x, hip_y = float(tp[1][0] / size), float(tp[1][1] / size)

    places = (hand_l, hand_r)
    return FrameFeatures(
        view=view, body_yaw_deg=yaw, body_size_px=size,
        trunk_tilt_deg=trunk_tilt, trunk_lean_deg=trunk_lean, trunk_lateral_deg=trunk_lateral,
        shoulder_tilt_deg=shoulder_tilt, head_roll_deg=head_roll, head_pitch_deg=head_pitch,
        head_yaw_deg=head_yaw,
        knee_angle_left_deg=knee_l, knee_angle_right_deg=knee_r,
        knee_angle_min_deg=min(knees) if knees else None, knee_angle_max_deg=max(knees) if knees else None,
        heel_gap_sw=heel_gap, toe_gap_sw=toe_gap, ankle_gap_sw=ankle_gap, knee_gap_sw=knee_gap,
        hand_left=hand_l, hand_right=hand_r, feet=feet, legs_crossed=legs_crossed,
        arms_crossed=_arms_crossed(places), hands_on_hips=_any_flag(places, "on_hip"),
        hands_in_pockets=_any_flag(places, "in_pocket"), hands_behind_back=_any_flag(places, "behind_back"),
        hip_center_x_sw=hip_x, hip_center_y_sw=hip_y,
        full_body_visible=_full_body_visible(ok, view),
    )


# ================================================================================= smoothing


class OneEuroFilter:
    """1€ filter (Casiez, Roussel & Vogel, CHI 2012), element-wise over an array.

    Low cutoff (`min_cutoff`, Hz) removes jitter when still; the cutoff rises with speed
    (`beta` × |dx/dt|) so fast motion lags little. Uses real timestamps, so dropped or
    irregular frames are handled; a timestamp that does not advance returns the last output.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.0, d_cutoff: float = 1.0) -> None:
        if min_cutoff <= 0 or d_cutoff <= 0 or beta < 0:
            raise ValueError("min_cutoff and d_cutoff must be > 0 and beta >= 0")
        self.min_cutoff, self.beta, self.d_cutoff = float(min_cutoff), float(beta), float(d_cutoff)
        self.reset()

    def reset(self) -> None:
        """Forget the history (the next sample passes through unchanged)."""
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    @staticmethod
    def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
        tau = 1.0 / (2.0 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def __call__(self, x: np.ndarray, t_s: float) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self._x is None or self._t is None or self._x.shape != x.shape:
            self._x, self._dx, self._t = x.copy(), np.zeros_like(x), float(t_s)
            return x.copy()
        dt = float(t_s) - self._t
        if dt <= 0:
            return self._x.copy()
        dx = (x - self._x) / dt
        a_d = self._alpha(self.d_cutoff, dt)
        dx_hat = a_d * dx + (1.0 - a_d) * self._dx
        cutoff = self.min_cutoff + self.beta * np.abs(dx_hat)
        a = self._alpha(cutoff, dt)
        x_hat = a * x + (1.0 - a) * self._x
        self._x, self._dx, self._t = x_hat, dx_hat, float(t_s)
        return x_hat.copy()


class LandmarkSmoother:
    """Smooths a person's landmarks over time with one-euro filters (image xyz and world).

    Image coordinates are filtered in units of the frame height (so the same `beta` works
    for any aspect ratio); world coordinates in metres. Call `reset()` when the person is
    lost; a gap longer than `max_gap_ms` or a timestamp going backwards resets by itself.
    """

    def __init__(self, min_cutoff: float = 1.5, beta: float = 3.0, d_cutoff: float = 1.0,
                 world_min_cutoff: float = 1.5, world_beta: float = 3.0, max_gap_ms: int = 1000) -> None:
        self._image = OneEuroFilter(min_cutoff, beta, d_cutoff)
        self._world = OneEuroFilter(world_min_cutoff, world_beta, d_cutoff)
        self.max_gap_ms = int(max_gap_ms)
        self._last_ms: int | None = None

    def reset(self) -> None:
        """Forget the history, e.g. when the tracked person is lost."""
        self._image.reset()
        self._world.reset()
        self._last_ms = None

    def __call__(self, lm: PoseLandmarks, timestamp_ms: int) -> PoseLandmarks:
        if self._last_ms is not None and (timestamp_ms < self._last_ms
                                          or timestamp_ms - self._last_ms > self.max_gap_ms):
            self.reset()
        self._last_ms = int(timestamp_ms)
        t = timestamp_ms / 1000.0
        w, h = lm.image_size
        scale = np.array([w / h, 1.0, w / h]) if h > 0 else np.ones(3)
        image = self._image(lm.image * scale, t) / scale
        world = None if lm.world is None else self._world(lm.world, t)
        if lm.world is None:
            self._world.reset()
        return lm.replace_image(image, world)
