"""Report stage: a ClipAnalysis → the `posturecheck.analysis/1` JSON object or a text table.

All user-facing wording for verdicts lives in the profile (rule titles and
fix messages) and in the small tables below (status words, unknown reasons).
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any

from .analyze import ClipAnalysis
from .profile import Profile, Rule
from .rules import FAIL, PASS
from .words import VALUE_WORDS, plain_value, report_value_text, seconds

SCHEMA = "posturecheck.analysis/1"

STATUS_WORDS = {
    "en": {"pass": "pass", "fail": "FAIL", "unknown": "unknown"},
    "zh": {"pass": "合格", "fail": "不合格", "unknown": "无法判断"},
}
PASS_TEMPLATE = {"en": "{title}: OK.", "zh": "{title}：符合标准。"}
REASONS = {
    "en": {
        "view": "{title}: the camera view ({view}) cannot judge this; {hint}",
        "not_visible": "{title}: the body parts needed are not visible in the frame.",
        "uncertain": "{title}: the camera cannot tell clearly; face the camera with the whole body in view.",
        "activity": "{title}: not checked for this activity.",
        "no_person": "{title}: no person found.",
        "no_frames": "{title}: no frames were analysed.",
        "single_frame": "{title}: judged over time; a photo cannot show it.",
        "not_measured": "{title}: could not be measured in this clip.",
        "no_face": "{title}: no face was found; face the camera, closer than about 2 m, well lit.",
        "face_too_small": "{title}: the face is too small in the picture to see this; move closer or film a head-and-shoulders shot.",
        "not_for_standard": "{title}: not part of the chosen standard.",
        "face_body_disagree": "{title}: the face and body models disagree on where the head is turned; face the camera squarely and hold still.",
        "no_standard": "{title}: judged only for one standard; choose the men's or women's standard "
                       "(command line: --standard men or women).",
        "badge_not_configured": "{title}: the organisation's badge colour is not set "
                                "(command line: --badge-color #RRGGBB).",
        "too_short": "{title}: this part of the clip is too short to judge over time.",
        "few_strides": "{title}: too few full strides were seen; walk at least 3 strides across a side view.",
        "one_arm": "{title}: only one arm can be seen from one side; walk past the camera and back so both arms are filmed.",
        "no_steps": "{title}: no regular steps were found; walk at an even pace with the feet in view.",
        "legs_hidden": "{title}: the knees and feet are not in the frame; move the camera so the legs are in view.",
    },
    "zh": {
        "view": "{title}：当前机位（{view}）无法判断此项；{hint}",
        "not_visible": "{title}：画面中看不到所需的身体部位。",
        "uncertain": "{title}：画面无法清楚判断；请面向镜头，全身入镜。",
        "activity": "{title}：此动作不检查该项。",
        "no_person": "{title}：画面中没有找到人。",
        "no_frames": "{title}：没有可分析的画面。",
        "single_frame": "{title}：需要在视频中随时间判断，照片无法判断。",
        "not_measured": "{title}：本段视频无法测量此项。",
        "no_face": "{title}：没有找到人脸；请面向镜头，距离约2米以内，光线充足。",
        "face_too_small": "{title}：画面中人脸太小，无法判断；请靠近镜头或拍摄半身像。",
        "not_for_standard": "{title}：所选标准不含此项。",
        "face_body_disagree": "{title}：面部与身体模型对头部朝向的判断不一致，无法判断；请正对镜头并保持不动。",
        "no_standard": "{title}：此项只适用于一种标准；请选择“男士”或“女士”标准（命令行选项：--standard men 或 women）。",
        "badge_not_configured": "{title}：尚未设置本单位工号牌的颜色（命令行选项：--badge-color，后接颜色值，如 #C8102E）。",
        "too_short": "{title}：该动作持续时间太短，无法随时间判断。",
        "few_strides": "{title}：完整步伐太少；请从侧面拍摄，至少走3个完整步伐。",
        "one_arm": "{title}：从一侧只能看到一只手臂；请走过镜头再走回来，拍到双臂。",
        "no_steps": "{title}：没有找到规律的步伐；请匀速行走，双脚入镜。",
        "legs_hidden": "{title}：画面中看不到膝盖和双脚；请调整机位，让双腿入镜。",
    },
}
VIEW_WORDS = {
    "en": {"front": "front", "side": "side", "back": "back", "oblique": "oblique", "unknown": "unknown"},
    "zh": {"front": "正面", "side": "侧面", "back": "背面", "oblique": "斜侧", "unknown": "未知"},
}
VIEW_HINTS = {
    "en": {"front": "film from the front.", "side": "film from the side.", "any": "move the camera so the whole body is in view."},
    "zh": {"front": "请从正面拍摄。", "side": "请从侧面拍摄。", "any": "请调整机位，让全身入镜。"},
}
ACTIVITY_WORDS = {
    "en": {"standing": "standing", "sitting": "sitting", "walking": "walking", "unknown": "unknown"},
    "zh": {"standing": "站姿", "sitting": "坐姿", "walking": "行姿", "unknown": "未知"},
}
WARNINGS = {
    "en": {"no_person": "No person was found: make sure the trainee is in the frame and well lit.",
           "people": "{n} people were seen; the largest, most central person was analysed.",
           "face_only": "Only the face was found: grooming was judged; film the whole body to judge posture."},
    "zh": {"no_person": "没有找到人：请确认学员在画面内且光线充足。",
           "people": "画面中有{n}人，已分析最大、最居中的一位。",
           "face_only": "只找到人脸：已检查仪容仪表；如需检查仪态，请拍摄全身。"},
}
OBSERVATION_WORDS = VALUE_WORDS  # hand places, feet stances, yes/no (posturecheck.words)
LABELS = {
    "en": {"source": "Source", "activity": "Activity", "view": "View", "score": "Score", "frames": "Frames",
           "duration": "Duration", "rule": "Rule", "status": "Status", "value": "Value", "limit": "Limit",
           "failed": "Failed", "advice": "Advice", "hands": "Hands (L/R)", "feet": "Feet",
           "legs_crossed": "Legs crossed", "trunk": "Trunk tilt", "warnings": "Warnings", "segments": "Segments",
           "id": "Rule id"},
    "zh": {"source": "文件", "activity": "动作", "view": "机位", "score": "得分", "frames": "帧数",
           "duration": "时长", "rule": "规则", "status": "结果", "value": "测量值", "limit": "标准",
           "failed": "不合格占比", "advice": "建议", "hands": "手位（左/右）", "feet": "脚位",
           "legs_crossed": "翘腿", "trunk": "躯干倾斜", "warnings": "提示", "segments": "分段",
           "id": "规则编号"},
}


def _lang(lang: str) -> str:
    return "zh" if lang.lower().startswith("zh") else "en"


def _num(v: Any) -> Any:
    if isinstance(v, float):
        return None if math.isnan(v) or math.isinf(v) else round(v, 3)
    return v


def _hint_for(rule: Rule, lang: str) -> str:
    views = {v for c in rule.checks for v in c.views}
    if views == {"side"}:
        return VIEW_HINTS[lang]["side"]
    if "side" not in views:
        return VIEW_HINTS[lang]["front"]
    return VIEW_HINTS[lang]["any"]


def rule_message(rule: Rule, status: str, value: Any, reason: str | None, lang: str,
                 view: str = "unknown", standard: str | None = None) -> str:
    """The sentence a trainee reads for one verdict."""
    lang = _lang(lang)
    title = rule.title[lang]
    if status == PASS:
        return PASS_TEMPLATE[lang].format(title=title)
    if status == FAIL:
        check = rule.check_for_feature(reason, standard) if reason else None
        template = check.message[lang] if check is not None and check.message else rule.messages[lang]
        limit = (check.limit_text(lang, labelled=False) if check is not None and check.kind == "range" else rule.limit_text(standard, lang)) or ""
        try:
            return template.format(value=value if isinstance(value, (int, float)) else float("nan"),
                                              limit=limit)
        except (ValueError, KeyError, IndexError):
            return template
    template = REASONS[lang].get(reason or "not_visible")
    if template is None:  # a free-text reason from a measurement (e.g. "front view: film from the side")
        return f"{title}: {reason}" if lang == "en" else f"{title}：{reason}"
    return template.format(title=title, view=VIEW_WORDS[lang].get(view, view), hint=_hint_for(rule, lang))


def warning_text(code: str, lang: str) -> str:
    lang = _lang(lang)
    if code in ("no_person", "face_only"):
        return WARNINGS[lang][code]
    if code.startswith("people:"):
        return WARNINGS[lang]["people"].format(n=code.split(":", 1)[1])
    return code


def to_json(analysis: ClipAnalysis, lang: str = "en", standard: str | None = None) -> dict[str, Any]:
    """The `posturecheck.analysis/1` object (extra keys: intervals, known_s, title, severity)."""
    profile: Profile = analysis.session.profile
    view = analysis.session.view()
    rules = []
    for s in analysis.summaries:
        rule = profile.rule(s.rule_id)
        value = s.value if isinstance(s.value, (int, float)) and not isinstance(s.value, bool) else None
        rules.append({
            "id": s.rule_id,
            "status": s.status,
            "value": _num(value),
            "limit": rule.limit_text(standard, _lang(lang)),
            "fail_fraction": _num(s.fail_fraction),
            "message": rule_message(rule, s.status, value, s.reason, lang, view, standard),
            "title": rule.title[_lang(lang)],
            "severity": rule.severity,
            "observed": None if value is not None or s.value is None else s.value,
            "reason": s.reason,
            "intervals": [{"start_s": i.start_s, "end_s": i.end_s, "peak_value": _num(i.peak_value)}
                          for i in s.intervals],
        })
    return {
        "schema": SCHEMA,
        "source": analysis.source,
        "kind": analysis.kind,
        "frames_analyzed": analysis.frames_analyzed,
        "duration_s": analysis.duration_s,
        "person_found": analysis.person_found,
        "people_seen": analysis.people_seen,
        "activity": analysis.activity,
        "view": view,
        "score": analysis.score,
        "rules": rules,
        "observations": {**analysis.session.observations(), **analysis.extra_observations},
        "segments": [{"start_s": round(s.start_s, 3), "end_s": round(s.end_s, 3), "activity": s.activity}
                     for s in analysis.segments],
        "warnings": [warning_text(w, lang) for w in analysis.warnings],
        "lang": _lang(lang),
        "standard": standard,
    }


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _pad(s: str, width: int) -> str:
    return s + " " * max(0, width - _width(s))


def _fmt_value(v: Any, lang: str = "en") -> str:
    return plain_value(v, lang)


OVERTIME_WORDS = {
    "en": {"arm": "Arm swing per stride, {side} arm (forward/back°): upper arm {upper}; whole arm {whole}",
           "left": "left", "right": "right",
           "bow": "Bow {i}: {angle:.0f}° (nearest drill angle {std:.0f}°), held {hold:.1f}s, {back}",
           "back": "back upright", "not_back": "did not return upright",
           "bow_check": "Bow check (asked {asked:.0f}° ±{tol:.0f}°): {status}{measured}",
           "measured": ", measured {m:.0f}°", "no_bow": " (no bow found)"},
    "zh": {"arm": "每步摆臂（{side}臂，前/后°）：上臂 {upper}；整臂 {whole}",
           "left": "左", "right": "右",
           "bow": "鞠躬 {i}：{angle:.0f}°（最接近标准角度{std:.0f}°），保持{hold:.1f}秒，{back}",
           "back": "已还原站直", "not_back": "未还原站直",
           "bow_check": "鞠躬检查（要求{asked:.0f}° ±{tol:.0f}°）：{status}{measured}",
           "measured": "，实测{m:.0f}°", "no_bow": "（未检测到鞠躬）"},
}


def _overtime_lines(obs: dict[str, Any], lang: str) -> list[str]:
    """Per-stride arm swing of the arms seen reliably, bows and the bow check (when present)."""
    w = OVERTIME_WORDS[lang]
    lines = []
    arms = obs.get("arm_swing") or {}
    for side in ("left", "right"):
        a = arms.get(side)
        if not a or not a.get("reliable"):
            continue
        upper = ", ".join(f"{round(f)}/{round(b)}" for f, b in zip(a["forward_deg"], a["backward_deg"]))
        whole = ", ".join(f"{round(f)}/{round(b)}" for f, b in zip(a.get("forward_arm_deg", []),
                                                                   a.get("backward_arm_deg", [])))
        lines.append(w["arm"].format(side=w[side], upper=upper or "-", whole=whole or "-"))
    for i, b in enumerate(obs.get("bows") or [], 1):
        lines.append(w["bow"].format(i=i, angle=b["max_flexion_deg"], std=b["nearest_standard_deg"], hold=b["hold_s"],
                                     back=w["back"] if b["returned_upright"] else w["not_back"]))
    check = obs.get("bow_check")
    if check:
        measured = (w["measured"].format(m=check["measured_deg"]) if check.get("measured_deg") is not None
                    else w["no_bow"])
        lines.append(w["bow_check"].format(asked=check["asked_deg"], tol=check["tolerance_deg"],
                                           status=STATUS_WORDS[lang][check["status"]], measured=measured))
    return lines


FACE_WORDS = {
    "en": {"face": "Face: yaw {yaw}° pitch {pitch}° roll {roll}°, smile score {smile} (smiling {smiling}), "
                   "bangs {bangs}, ears covered {ears}, beard {beard}",
           "no_face": "Face: not found",
           "greeting": "Greeting: stood up after {t:.1f}s (limit {limit:.0f}s: {within}), faced the camera {faced}, "
                       "smiled {smiled}"},
    "zh": {"face": "面部：偏转{yaw}° 俯仰{pitch}° 侧倾{roll}°，微笑分{smile}（微笑：{smiling}），"
                   "刘海遮额：{bangs}，头发盖耳：{ears}，胡须：{beard}",
           "no_face": "面部：未找到",
           "greeting": "起立迎客：{t:.1f}秒后起立（要求{limit:.0f}秒内：{within}），面向镜头：{faced}，微笑：{smiled}"},
}


def _face_lines(obs: dict[str, Any], lang: str) -> list[str]:
    """observations.face (measurements, never identity) and the greeting drill, when present."""
    w = FACE_WORDS[lang]
    lines = []
    face = obs.get("face")
    if face is not None:
        if not face.get("found"):
            lines.append(w["no_face"])
        else:
            yn = lambda v: _fmt_value(v, lang)  # noqa: E731
            num = lambda v: "-" if v is None else f"{v:.0f}"  # noqa: E731
            lines.append(w["face"].format(yaw=num(face["yaw_deg"]), pitch=num(face["pitch_deg"]),
                                          roll=num(face["roll_deg"]),
                                          smile="-" if face["smile_score"] is None else f"{face['smile_score']:.2f}",
                                          smiling=yn(face["smiling"]), bangs=yn(face["bangs"]),
                                          ears=yn(face["ears_covered"]), beard=yn(face["beard"])))
    g = obs.get("greeting")
    if g is not None:
        lines.append(w["greeting"].format(t=g["stood_up_s"], limit=g["limit_s"], within=_fmt_value(g["within_limit"], lang),
                                          faced=_fmt_value(g["faced_camera"], lang), smiled=_fmt_value(g["smiled"], lang)))
    return lines


def _reference_lines(obs: dict[str, Any], lang: str) -> list[str]:
    """observations.reference: "Similarity to REF: 82/100; most different: right elbow 35°, …"."""
    ref = obs.get("reference")
    if ref is None:
        return []
    from .reference import JOINT_NAMES_ZH

    score = "-" if ref.get("score") is None else f"{ref['score']:.0f}"
    worst = ", ".join(f"{JOINT_NAMES_ZH.get(j['joint'], j['joint']) if lang == 'zh' else j['joint']} "
                      f"{abs(j['diff_deg']):.0f}°" for j in ref.get("worst", [])) or "-"
    if lang == "zh":
        return [f"与参考姿势 {ref['name']} 的相似度：{score}/100；差异最大：{worst}"]
    return [f"Similarity to {ref['name']}: {score}/100; most different: {worst}"]


def to_text(report: dict[str, Any], lang: str = "en", profile: Profile | None = None, ids: bool = False) -> str:
    """A readable table (CJK-width aware) of one JSON report: rule titles (their ids with `ids`),
    values in words and units of `lang` (with `profile`), no time share for a photo."""
    lang = _lang(lang)
    L = LABELS[lang]
    st = STATUS_WORDS[lang]
    obs = report["observations"]
    photo = report.get("kind") == "image"
    lines = [
        f"{L['source']}: {report['source']}",
        f"{L['activity']}: {ACTIVITY_WORDS[lang].get(report['activity'], report['activity'])}   "
        f"{L['view']}: {VIEW_WORDS[lang].get(report['view'], report['view'])}   "
        f"{L['score']}: {('无法评分' if lang == 'zh' else 'not judged') if report['score'] is None else report['score']}   "
        f"{L['frames']}: {report['frames_analyzed']}"
        + (f"   {L['duration']}: {seconds(report['duration_s'], lang)}" if report.get("duration_s") else ""),
        f"{L['hands']}: {_fmt_value(obs['hands']['left'], lang)}/{_fmt_value(obs['hands']['right'], lang)}   "
        f"{L['feet']}: {_fmt_value(obs['feet'], lang)}   {L['legs_crossed']}: {_fmt_value(obs['legs_crossed'], lang)}   "
        f"{L['trunk']}: {_fmt_value(obs['trunk_tilt_deg'])}°",
        *_overtime_lines(obs, lang),
        *_face_lines(obs, lang),
        *_reference_lines(obs, lang),
        "",
    ]
    rows = [((L["id"],) if ids else ()) + (L["rule"], L["status"], L["value"], L["limit"], L["failed"], L["advice"])]
    for r in report["rules"]:
        ff = "-" if r["fail_fraction"] is None or photo or r["status"] == "unknown" else f"{100 * r['fail_fraction']:.0f}%"
        shown = report_value_text(r, profile, lang, report.get("standard"))
        rows.append(((r["id"],) if ids else ()) + (r.get("title") or r["id"], st[r["status"]], shown,
                                                   r["limit"] or "-", ff, "" if r["status"] == "pass" else r["message"]))
    n = len(rows[0]) - 1
    widths = [max(_width(row[i]) for row in rows) for i in range(n)]
    for row in rows:
        lines.append("  ".join(_pad(row[i], widths[i]) for i in range(n)) + "  " + row[n])
    if report["segments"] and len(report["segments"]) > 1:
        sep = "、" if lang == "zh" else ", "
        segs = sep.join(f"{s['start_s']:.1f}–{seconds(s['end_s'], lang)} {ACTIVITY_WORDS[lang].get(s['activity'], s['activity'])}"
                        for s in report["segments"])
        lines += ["", f"{L['segments']}: {segs}"]
    if report["warnings"]:
        lines += ["", f"{L['warnings']}:"] + [f"  - {w}" for w in report["warnings"]]
    return "\n".join(lines)
