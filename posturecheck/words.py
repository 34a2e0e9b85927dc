"""Words for codes a user could otherwise see raw: measurement names, observed values, severities, units.

One table for the CLI, the app and the reports (zh / en). A value is shown with what it is
about ("in a pocket", "75 % likely", "4.2 × shoulder width", "3.5 秒"), never as a bare code.
"""

from __future__ import annotations

import math
from typing import Any

from .profile import UNIT_WORDS, Rule

FEATURE_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "feet": "feet stance", "ankle_gap_sw": "gap between the ankles", "knee_angle_min_deg": "straighter knee angle",
        "knee_angle_max_deg": "bent knee angle", "trunk_lean_p": "leaning or slouching", "shoulder_tilt_deg": "shoulder tilt",
        "head_roll_deg": "head tilt (sideways)", "head_pitch_deg": "head tilt (up/down)", "head_yaw_deg": "head turn",
        "hand_left": "left hand", "hand_right": "right hand", "arms_crossed_p": "arms crossed",
        "hands_on_hips_p": "hands on the hips", "hands_in_pockets_p": "hands in the pockets",
        "hands_behind_back_p": "hands behind the back", "legs_crossed_p": "legs crossed", "knee_gap_sw": "gap between the knees",
        "arm_swing_forward_deg": "forward arm swing", "arm_swing_forearm_only": "swinging only the forearm",
        "arm_symmetry_ratio": "left/right arm swing ratio", "head_shake_deg": "head shaking", "trunk_sway_sw": "trunk sway",
        "step_time_cv": "step rhythm variation", "hip_sway_sw": "hip sway", "leg_jiggle_sw": "leg jiggling",
        "face_smile_score": "smile score", "face_yaw_deg": "face turn", "face_pitch_deg": "face tilt (up/down)",
        "face_roll_deg": "face tilt (sideways)", "face_gaze_yaw_deg": "gaze direction", "face_forehead_hair": "hair over the forehead",
        "face_ear_hair": "hair over the ears", "face_beard": "beard", "face_beard_hair": "beard hair",
        "face_beard_dark": "beard shadow", "face_collar_hair": "hair on the collar", "face_loose_hair": "loose long hair",
        "badge_left_chest": "badge on the left chest",
    },
    "zh": {
        "feet": "脚位", "ankle_gap_sw": "两踝间距", "knee_angle_min_deg": "膝关节角度（较弯一侧）",
        "knee_angle_max_deg": "膝关节角度（较直一侧）", "trunk_lean_p": "身体前倾或含胸", "shoulder_tilt_deg": "双肩倾斜",
        "head_roll_deg": "头部侧倾", "head_pitch_deg": "头部俯仰", "head_yaw_deg": "头部转动",
        "hand_left": "左手", "hand_right": "右手", "arms_crossed_p": "双臂抱胸",
        "hands_on_hips_p": "双手叉腰", "hands_in_pockets_p": "手插衣袋", "hands_behind_back_p": "双手背后",
        "legs_crossed_p": "翘腿", "knee_gap_sw": "两膝间距", "arm_swing_forward_deg": "手臂前摆幅度",
        "arm_swing_forearm_only": "只摆小臂", "arm_symmetry_ratio": "左右摆臂比例", "head_shake_deg": "摇头晃脑",
        "trunk_sway_sw": "身体左右摇晃", "step_time_cv": "步伐节奏不均", "hip_sway_sw": "扭胯", "leg_jiggle_sw": "抖腿",
        "face_smile_score": "微笑分", "face_yaw_deg": "面部转动", "face_pitch_deg": "面部俯仰", "face_roll_deg": "面部侧倾",
        "face_gaze_yaw_deg": "目光方向", "face_forehead_hair": "刘海遮额", "face_ear_hair": "头发盖耳", "face_beard": "胡须",
        "face_beard_hair": "胡须", "face_beard_dark": "胡茬", "face_collar_hair": "头发过领", "face_loose_hair": "长发披散",
        "badge_left_chest": "左胸工号牌",
    },
}
VALUE_WORDS: dict[str, dict[Any, str]] = {
    "en": {True: "yes", False: "no", None: "-", "hanging": "hanging", "clasped_front": "clasped in front",
           "behind_back": "behind the back", "crossed": "arms crossed", "on_hip": "on the hip", "in_pocket": "in a pocket",
           "raised": "raised", "other": "other", "unknown": "unknown", "v": "V stance", "together": "together",
           "parallel": "parallel", "t": "T stance", "apart_wide": "too wide apart"},
    "zh": {True: "是", False: "否", None: "-", "hanging": "自然下垂", "clasped_front": "腹前相握",
           "behind_back": "背后", "crossed": "抱胸", "on_hip": "叉腰", "in_pocket": "插兜", "raised": "抬起",
           "other": "其他", "unknown": "未知", "v": "V字步", "together": "并拢", "parallel": "平行",
           "t": "丁字步", "apart_wide": "过宽"},
}
DETECTED = {"en": {True: "seen", False: "not seen"}, "zh": {True: "有", False: "没有"}}
LIKELY = {"en": "{p:.0f} % likely", "zh": "可能性 {p:.0f}%"}
SEVERITY_WORDS = {"en": {"major": "Important (weight 2)", "minor": "Minor (weight 1)"},
                  "zh": {"major": "重要（权重 2）", "minor": "次要（权重 1）"}}


def norm(lang: str) -> str:
    return "zh" if (lang or "").lower().startswith("zh") else "en"


def feature_label(name: str, lang: str) -> str:
    """A measurement's name in words (the code itself when it has none)."""
    return FEATURE_WORDS[norm(lang)].get(name, name)


def severity_label(severity: str, lang: str) -> str:
    return SEVERITY_WORDS[norm(lang)].get(severity, severity)


def seconds(x: float, lang: str, digits: int = 1) -> str:
    """A duration with the unit of the user's language: "3.5 s" / "3.5秒"."""
    return f"{x:.{digits}f}{UNIT_WORDS[norm(lang)]['s']}"


def plain_value(v: Any, lang: str) -> str:
    """A value without knowing its rule: category and yes/no words, rounded numbers."""
    words = VALUE_WORDS[norm(lang)]
    if v is None or isinstance(v, bool):
        return words.get(v, str(v))
    if isinstance(v, str):
        return words.get(v, v)
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return "-"
        return f"{v:.2f}" if abs(v) < 10 else f"{v:.0f}"
    return str(v)


def report_value_text(row: dict[str, Any], profile: Any, lang: str, standard: str | None = None) -> str:
    """A JSON report rule row's measured value in words (its rule from `profile` decides how),
    or plainly when the profile does not know the rule. One reading for the CLI and the app."""
    val = row.get("value") if row.get("value") is not None else row.get("observed")
    rule = None
    if profile is not None:
        try:
            rule = profile.rule(row["id"])
        except KeyError:
            rule = None
    if rule is None:
        return plain_value(val, lang)
    return value_text(rule, val, row.get("reason") if row.get("status") == "fail" else None, lang, standard)


def value_text(rule: Rule, value: Any, reason: str | None, lang: str, standard: str | None = None) -> str:
    """What was measured for one rule, in words: the check's kind and unit decide how it reads."""
    if value is None:
        return "-"
    lg = norm(lang)
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    fits = {"probability": number, "range": number, "boolean": isinstance(value, bool), "category": isinstance(value, str)}
    first = rule.check_for_feature(reason, standard) if reason else None
    candidates = ([first] if first is not None else []) + list(rule.checks_for(standard))
    check = next((c for c in candidates if fits.get(c.kind, False)), None)  # the check this value belongs to
    if check is None:
        return plain_value(value, lg)
    if check.kind == "probability" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return LIKELY[lg].format(p=100.0 * float(value))
    if check.kind == "boolean" and isinstance(value, bool):
        return f"{feature_label(check.features[0], lg)}：{DETECTED[lg][value]}" if lg == "zh" \
            else f"{feature_label(check.features[0], lg)}: {DETECTED[lg][value]}"
    if check.kind == "range" and isinstance(value, (int, float)) and not isinstance(value, bool):
        unit = UNIT_WORDS[lg].get(check.unit or "", check.unit or "")
        unit = f" {unit}" if lg == "en" and unit.startswith("×") else unit
        num = float(value)
        text = f"{num:.1f}" if abs(num) < 10 else f"{num:.0f}"
        if check.unit == "°":
            text = f"{num:.0f}"
        return text + unit
    return plain_value(value, lg)
