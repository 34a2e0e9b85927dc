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
from typing import TYPE_CHECKING, Sequence

import numpy as np

from .landmarks import LM, PoseLandmarks

if TYPE_CHECKING:
    from .learned import ClassifierSet

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

# --- knees
# MediaPipe world knees read 150-165° on straight-legged people seen from the front, so in
# front/back/oblique views the world angle is used only when it shows a clear bend.
KNEE_WORLD_BENT_DEG = 140.0


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
    hand_left: str                      # HAND_PLACES, the person's own left hand (learned, most likely)
    hand_right: str
    feet: str                           # FEET_STANCES (learned standing stance, most likely)
    legs_crossed: bool | None           # legs_crossed_p >= 0.5 (the likelier answer)
    arms_crossed: bool | None
    hands_on_hips: bool | None          # True if either hand is more likely than not
    hands_in_pockets: bool | None
    hands_behind_back: bool | None
    hip_center_x_sw: float | None       # hip centre image position / body_size_px
    hip_center_y_sw: float | None
    full_body_visible: bool             # nose, shoulders, hips, knees, ankles usable
    # learned, calibrated probabilities (posturecheck.learned); the profile sets the bands
    hand_left_conf: float | None = None
    hand_right_conf: float | None = None
    feet_conf: float | None = None
    arms_crossed_p: float | None = None
    hands_on_hips_p: float | None = None
    hands_in_pockets_p: float | None = None
    hands_behind_back_p: float | None = None
    hands_clasped_front_p: float | None = None
    legs_crossed_p: float | None = None
    trunk_lean_p: float | None = None
    posture: str = "unknown"            # single-frame activity: standing / sitting / walking (learned)
    posture_conf: float | None = None


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


# ====================================================================================== legs


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


# ============================================================================ learned postures


@dataclass(frozen=True)
class LearnedObservations:
    """What the learned classifiers say about one person (defaults: nothing can be told)."""

    hand_left: str = "unknown"
    hand_right: str = "unknown"
    hand_left_conf: float | None = None
    hand_right_conf: float | None = None
    feet: str = "unknown"
    feet_conf: float | None = None
    arms_crossed_p: float | None = None
    hands_on_hips_p: float | None = None
    hands_in_pockets_p: float | None = None
    hands_behind_back_p: float | None = None
    hands_clasped_front_p: float | None = None
    legs_crossed_p: float | None = None
    trunk_lean_p: float | None = None
    posture: str = "unknown"
    posture_conf: float | None = None

    def as_fields(self) -> dict[str, object]:
        """The FrameFeatures fields, with each yes/no flag as the likelier answer of its probability."""
        d: dict[str, object] = dict(self.__dict__)
        for flag in ("arms_crossed", "hands_on_hips", "hands_in_pockets", "hands_behind_back", "legs_crossed"):
            p = d[flag + "_p"]
            d[flag] = None if p is None else bool(p >= 0.5)
        return d


def _inside(lm: PoseLandmarks) -> np.ndarray:
    """(33,) landmarks inside the frame (whatever their visibility)."""
    xy = lm.image[:, :2]
    return np.all(np.isfinite(xy), axis=1) & np.all((xy >= 0.0) & (xy <= 1.0), axis=1)


def _either(p_left: float | None, p_right: float | None) -> float | None:
    """P(at least one hand does it) from each hand's probability (independent hands).

    With one hand unknown, only a likely "yes" from the other can be said.
    """
    if p_left is not None and p_right is not None:
        return 1.0 - (1.0 - p_left) * (1.0 - p_right)
    known = p_left if p_left is not None else p_right
    return known if known is not None and known >= 0.5 else None


# Each yes/no hand flag of the rules: the hand place it is about, and whether one hand
# doing it is enough ("either") or both must ("both": hands clasped in front).
HAND_FLAGS: dict[str, tuple[str, str]] = {
    "arms_crossed": ("crossed", "either"),
    "hands_on_hips": ("on_hip", "either"),
    "hands_in_pockets": ("in_pocket", "either"),
    "hands_behind_back": ("behind_back", "either"),
    "hands_clasped_front": ("clasped_front", "both"),
}


def hand_flag_probabilities(left: dict[str, float] | None,
                            right: dict[str, float] | None) -> dict[str, float | None]:
    """Each hand flag's probability from the two hands' place probabilities (None = an arm unseen).

    The one definition used by the product and by the training script's held-out bands.
    """
    out: dict[str, float | None] = {}
    for flag, (place, mode) in HAND_FLAGS.items():
        if mode == "both":
            out[flag] = math.sqrt(left[place] * right[place]) if left is not None and right is not None else None
        else:
            out[flag] = _either(None if left is None else left[place], None if right is None else right[place])
    return out


def learned_observations(lm: PoseLandmarks, *, min_visibility: float = 0.5,
                         models: ClassifierSet | None = None) -> LearnedObservations:
    """Hand places, flags, legs crossed, trunk lean, feet stance and posture from the learned models.

    A task answers only when the body parts it needs are in the frame: an arm needs its
    shoulder and its elbow or wrist; legs crossed needs both knees and ankles; the feet
    need both ankles usable (visible) and heels and toes in the frame; posture needs the
    hips and a knee; trunk lean needs a shoulder and a hip.
    """
    from . import learned  # the models load lazily, once

    probs = learned.predict(lm, models)
    if probs is None:
        return LearnedObservations()
    inside = _inside(lm)
    ok = usable_mask(lm, min_visibility)

    def arm_seen(s: int, e: int, w: int) -> bool:
        return bool(inside[s] and (inside[e] or inside[w]))

    def best(p: dict[str, float]) -> tuple[str, float]:
        k = max(p, key=lambda c: p[c])
        return k, p[k]

    left_ok = arm_seen(LM.LEFT_SHOULDER, LM.LEFT_ELBOW, LM.LEFT_WRIST)
    right_ok = arm_seen(LM.RIGHT_SHOULDER, LM.RIGHT_ELBOW, LM.RIGHT_WRIST)
    hl, hl_conf = best(probs.hand_left) if left_ok else ("unknown", None)
    hr, hr_conf = best(probs.hand_right) if right_ok else ("unknown", None)

    flags = hand_flag_probabilities(probs.hand_left if left_ok else None, probs.hand_right if right_ok else None)
    legs_ok = all(inside[i] for i in (LM.LEFT_KNEE, LM.RIGHT_KNEE, LM.LEFT_ANKLE, LM.RIGHT_ANKLE))
    feet_ok = bool(ok[LM.LEFT_ANKLE] and ok[LM.RIGHT_ANKLE]) and all(
        inside[i] for i in (LM.LEFT_HEEL, LM.RIGHT_HEEL, LM.LEFT_FOOT_INDEX, LM.RIGHT_FOOT_INDEX))
    trunk_ok = bool((ok[LM.LEFT_SHOULDER] or ok[LM.RIGHT_SHOULDER]) and (ok[LM.LEFT_HIP] or ok[LM.RIGHT_HIP]))
    posture_ok = bool(inside[LM.LEFT_HIP] and inside[LM.RIGHT_HIP] and (inside[LM.LEFT_KNEE] or inside[LM.RIGHT_KNEE]))
    feet, feet_conf = best(probs.feet) if feet_ok else ("unknown", None)
    posture, posture_conf = best(probs.activity) if posture_ok else ("unknown", None)
    return LearnedObservations(
        hand_left=hl, hand_right=hr, hand_left_conf=hl_conf, hand_right_conf=hr_conf,
        feet=feet, feet_conf=feet_conf,
        **{f"{flag}_p": p for flag, p in flags.items()},
        legs_crossed_p=probs.legs_crossed if legs_ok else None,
        trunk_lean_p=probs.trunk_lean if trunk_ok else None,
        posture=posture, posture_conf=posture_conf,
    )


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

    hip_x = hip_y = None
    if size is not None and tp is not None:
        hip_x, hip_y = float(tp[1][0] / size), float(tp[1][1] / size)
    # Each learned task checks the body parts it needs itself (learned_observations). Not gated on
    # the body size: that needs the hips in the frame, and a trainee filmed close (hips below the
    # frame's edge, arms in plain view) had every hand rule "not visible".
    observed = learned_observations(lm, min_visibility=min_visibility) if view != "unknown" \
        else LearnedObservations()
    return FrameFeatures(
        view=view, body_yaw_deg=yaw, body_size_px=size,
        trunk_tilt_deg=trunk_tilt, trunk_lean_deg=trunk_lean, trunk_lateral_deg=trunk_lateral,
        shoulder_tilt_deg=shoulder_tilt, head_roll_deg=head_roll, head_pitch_deg=head_pitch,
        head_yaw_deg=head_yaw,
        knee_angle_left_deg=knee_l, knee_angle_right_deg=knee_r,
        knee_angle_min_deg=min(knees) if knees else None, knee_angle_max_deg=max(knees) if knees else None,
        heel_gap_sw=heel_gap, toe_gap_sw=toe_gap, ankle_gap_sw=ankle_gap, knee_gap_sw=knee_gap,
        hip_center_x_sw=hip_x, hip_center_y_sw=hip_y,
        full_body_visible=_full_body_visible(ok, view),
        **observed.as_fields(),
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
