"""Feature registry: every measurement a rule profile may name, with its kind, unit and origin.

A profile check names features; the profile loader looks each one up here and
refuses a profile whose feature is unknown, used with the wrong kind of check
(a range on a category, `equals` on a number...) or with a category value the
feature never takes. So a typo fails at load with a message naming the rule,
not later with a KeyError or a silent `unknown`.

The table is data only (no imports of the measuring modules, so the judge
stage can use it without cycles); `tests/test_registry.py` checks that it
matches `FrameFeatures`, the clip stage's `CLIP_FEATURES` and the face stage's
`FACE_FEATURE_NAMES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["number", "category", "boolean", "probability"]
Scope = Literal["frame", "clip", "face"]

HAND_PLACES = ("hanging", "clasped_front", "behind_back", "crossed", "on_hip", "in_pocket", "raised", "other")
FEET_STANCES = ("v", "together", "parallel", "t", "apart_wide")
VIEWS = ("front", "side", "back", "oblique")
ACTIVITIES = ("standing", "sitting", "walking")


@dataclass(frozen=True)
class FeatureSpec:
    """One measurement: what it is, how a check may use it, and which stage makes it."""

    name: str
    kind: Kind
    scope: Scope
    unit: str
    source: str
    description: str
    values: tuple[str, ...] = ()   # category features: every value it can take (besides "unknown")


def _f(name: str, kind: Kind, unit: str, source: str, description: str,
       values: tuple[str, ...] = (), scope: Scope = "frame") -> FeatureSpec:
    return FeatureSpec(name, kind, scope, unit, source, description, values)


_FRAME = "features.compute_features"
_LEARNED = "learned posture classifiers (models/posture_classifiers.npz) via features.compute_features"
_CLIP = "overtime.CLIP_FEATURES"
_FACE = "face stage (grooming.FaceFeatures)"

FEATURES: dict[str, FeatureSpec] = {s.name: s for s in (
    # ---- frame: geometry
    _f("view", "category", "", _FRAME, "camera view from |body yaw|", VIEWS),
    _f("body_yaw_deg", "number", "°", _FRAME, "0 facing the camera, +90 turned to own left"),
    _f("body_size_px", "number", "px", _FRAME, "shoulder width in pixels"),
    _f("trunk_tilt_deg", "number", "°", _FRAME, "unsigned trunk angle from vertical"),
    _f("trunk_lean_deg", "number", "°", _FRAME, "side view: + forward, − backward"),
    _f("trunk_lateral_deg", "number", "°", _FRAME, "frontal views: + towards own left"),
    _f("shoulder_tilt_deg", "number", "°", _FRAME, "shoulder line from horizontal"),
    _f("head_roll_deg", "number", "°", _FRAME, "eye line from horizontal"),
    _f("head_pitch_deg", "number", "°", _FRAME, "+ chin up, − bowed"),
    _f("head_yaw_deg", "number", "°", _FRAME, "head yaw relative to the body"),
    _f("knee_angle_left_deg", "number", "°", _FRAME, "hip-knee-ankle, 180 straight"),
    _f("knee_angle_right_deg", "number", "°", _FRAME, "hip-knee-ankle, 180 straight"),
    _f("knee_angle_min_deg", "number", "°", _FRAME, "the more bent knee"),
    _f("knee_angle_max_deg", "number", "°", _FRAME, "the straighter knee"),
    _f("heel_gap_sw", "number", "×shoulder", _FRAME, "heel gap in shoulder widths"),
    _f("toe_gap_sw", "number", "×shoulder", _FRAME, "toe gap in shoulder widths"),
    _f("ankle_gap_sw", "number", "×shoulder", _FRAME, "ankle gap in shoulder widths"),
    _f("knee_gap_sw", "number", "×shoulder", _FRAME, "knee gap in shoulder widths"),
    _f("hip_center_x_sw", "number", "×shoulder", _FRAME, "hip centre x / shoulder width"),
    _f("hip_center_y_sw", "number", "×shoulder", _FRAME, "hip centre y / shoulder width"),
    _f("full_body_visible", "boolean", "", _FRAME, "nose, shoulders, hips, knees, ankles usable"),
    # ---- frame: learned (calibrated probabilities; the profile sets the decision band)
    _f("hand_left", "category", "", _LEARNED, "where the left hand is (most likely place)", HAND_PLACES),
    _f("hand_right", "category", "", _LEARNED, "where the right hand is (most likely place)", HAND_PLACES),
    _f("hand_left_conf", "probability", "", _LEARNED, "probability of hand_left's place"),
    _f("hand_right_conf", "probability", "", _LEARNED, "probability of hand_right's place"),
    _f("feet", "category", "", _LEARNED, "standing feet stance (most likely)", FEET_STANCES),
    _f("feet_conf", "probability", "", _LEARNED, "probability of the feet stance"),
    _f("arms_crossed_p", "probability", "", _LEARNED, "P(arms folded across the chest)"),
    _f("hands_on_hips_p", "probability", "", _LEARNED, "P(at least one hand on the hip)"),
    _f("hands_in_pockets_p", "probability", "", _LEARNED, "P(at least one hand in a pocket)"),
    _f("hands_behind_back_p", "probability", "", _LEARNED, "P(at least one hand behind the back)"),
    _f("hands_clasped_front_p", "probability", "", _LEARNED, "P(hands clasped in front)"),
    _f("legs_crossed_p", "probability", "", _LEARNED, "P(knee over knee, ankle on knee or crossed standing)"),
    _f("trunk_lean_p", "probability", "", _LEARNED, "P(trunk leaning ≥ 10°, sideways ≥ 8° or slouched)"),
    _f("posture", "category", "", _LEARNED, "single-frame activity (most likely)", ACTIVITIES),
    _f("posture_conf", "probability", "", _LEARNED, "probability of the posture"),
    _f("arms_crossed", "boolean", "", _LEARNED, "arms_crossed_p ≥ 0.5 (the likelier answer)"),
    _f("hands_on_hips", "boolean", "", _LEARNED, "hands_on_hips_p ≥ 0.5"),
    _f("hands_in_pockets", "boolean", "", _LEARNED, "hands_in_pockets_p ≥ 0.5"),
    _f("hands_behind_back", "boolean", "", _LEARNED, "hands_behind_back_p ≥ 0.5"),
    _f("legs_crossed", "boolean", "", _LEARNED, "legs_crossed_p ≥ 0.5"),
    # ---- clip (over time)
    _f("arm_swing_forward_deg", "number", "°", _CLIP, "upper arm's forward swing per stride", scope="clip"),
    _f("arm_swing_whole_forward_deg", "number", "°", _CLIP, "whole arm's forward swing per stride",
       scope="clip"),
    _f("arm_swing_forearm_only", "boolean", "", _CLIP, "forearm swings, upper arm hangs (per stride)",
       scope="clip"),
    _f("arm_symmetry_ratio", "number", "", _CLIP, "smaller / larger arm swing", scope="clip"),
    _f("step_time_cv", "number", "", _CLIP, "step time coefficient of variation", scope="clip"),
    _f("trunk_sway_sw", "number", "×shoulder", _CLIP, "trunk sway amplitude", scope="clip"),
    _f("hip_sway_sw", "number", "×shoulder", _CLIP, "hip sway amplitude", scope="clip"),
    _f("leg_jiggle_sw", "number", "×shoulder", _CLIP, "2–8 Hz knee jiggle amplitude", scope="clip"),
    _f("head_shake_deg", "number", "°", _CLIP, "head yaw swings", scope="clip"),
    # ---- face stage (grooming.* rules)
    _f("face_yaw_deg", "number", "°", _FACE, "head yaw from the face model", scope="face"),
    _f("face_pitch_deg", "number", "°", _FACE, "head pitch from the face model", scope="face"),
    _f("face_roll_deg", "number", "°", _FACE, "head roll from the face model", scope="face"),
    _f("face_smile_score", "number", "", _FACE, "mouth width vs neutral (1.0 = neutral)", scope="face"),
    _f("face_smile_lift", "number", "", _FACE, "mouth corners above the middle of the lips (÷ mouth width)",
       scope="face"),
    _f("face_forehead_hair", "number", "", _FACE, "mean hair probability of the central forehead (hair mask)",
       scope="face"),
    _f("face_ear_skin", "number", "", _FACE, "skin share of the clearer ear region (colour)", scope="face"),
    _f("face_beard", "number", "", _FACE, "chin/upper lip redness lost vs the cheeks (Lab a*)", scope="face"),
    _f("face_gaze_yaw_deg", "number", "°", _FACE, "head yaw plus the eyes' turn (irises)", scope="face"),
    _f("face_ear_hair", "number", "", _FACE, "hair share of the ear regions (hair mask)", scope="face"),
    _f("face_loose_hair", "number", "", _FACE, "hair share beside the neck below the chin", scope="face"),
    _f("face_collar_hair", "number", "", _FACE, "hair share of the collar band", scope="face"),
    _f("face_beard_hair", "number", "", _FACE, "hair share of the chin and upper lip", scope="face"),
    _f("face_beard_dark", "number", "", _FACE, "chin/upper lip lightness lost vs the cheeks", scope="face"),
    _f("face_face_width_px", "number", "px", _FACE, "face width in pixels", scope="face"),
    _f("badge_left_chest", "number", "", "grooming.measure_badge", "badge colour share on the left chest",
       scope="face"),
)}


def register(spec: FeatureSpec) -> None:
    """Add a feature (used by stages outside the core table, e.g. the face stage)."""
    if spec.name in FEATURES and FEATURES[spec.name] != spec:
        raise ValueError(f"feature {spec.name!r} is already registered differently")
    FEATURES[spec.name] = spec


# Which check kinds fit which feature kinds.
CHECK_KINDS: dict[str, tuple[Kind, ...]] = {
    "range": ("number", "probability"),
    "category": ("category",),
    "boolean": ("boolean",),
    "probability": ("probability",),
}


def lookup(name: str) -> FeatureSpec | None:
    """The spec of a feature, or None when no stage makes it."""
    return FEATURES.get(name)


def close_matches(name: str, n: int = 3) -> list[str]:
    """Registered names that look like `name` (for "did you mean" in error messages)."""
    import difflib

    return difflib.get_close_matches(name, list(FEATURES), n=n)
