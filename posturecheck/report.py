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
        "activity": "{title}: not checked for this activity.",
        "no_person": "{title}: no person found.",
        "no_frames": "{title}: no frames were analysed.",
        "single_frame": "{title}: judged over time; a photo cannot show it.",
        "not_measured": "{title}: could not be measured in this clip.",
    },
    "zh": {
        "view": "{title}：当前机位（{view}）无法判断此项；{hint}",
        "not_visible": "{title}：画面中看不到所需的身体部位。",
        "activity": "{title}：此动作不检查该项。",
        "no_person": "{title}：画面中没有找到人。",
        "no_frames": "{title}：没有可分析的画面。",
        "single_frame": "{title}：需要在视频中随时间判断，照片无法判断。",
        "not_measured": "{title}：本段视频无法测量此项。",
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
           "people": "{n} people were seen; the largest, most central person was analysed."},
    "zh": {"no_person": "没有找到人：请确认学员在画面内且光线充足。",
           "people": "画面中有{n}人，已分析最大、最居中的一位。"},
}
OBSERVATION_WORDS = {
    "en": {True: "yes", False: "no", None: "-"},
    "zh": {True: "是", False: "否", None: "-", "hanging": "自然下垂", "clasped_front": "腹前相握",
           "behind_back": "背后", "crossed": "抱胸", "on_hip": "叉腰", "in_pocket": "插兜", "raised": "抬起",
           "other": "其他", "unknown": "未知", "v": "V字步", "together": "并拢", "parallel": "平行",
           "t": "丁字步", "apart_wide": "过宽"},
}
LABELS = {
    "en": {"source": "Source", "activity": "Activity", "view": "View", "score": "Score", "frames": "Frames",
           "duration": "Duration", "rule": "Rule", "status": "Status", "value": "Value", "limit": "Limit",
           "failed": "Failed", "advice": "Advice", "hands": "Hands (L/R)", "feet": "Feet",
           "legs_crossed": "Legs crossed", "trunk": "Trunk tilt", "warnings": "Warnings", "segments": "Segments"},
    "zh": {"source": "文件", "activity": "动作", "view": "机位", "score": "得分", "frames": "帧数",
           "duration": "时长", "rule": "规则", "status": "结果", "value": "测量值", "limit": "标准",
           "failed": "不合格占比", "advice": "建议", "hands": "手位（左/右）", "feet": "脚位",
           "legs_crossed": "翘腿", "trunk": "躯干倾斜", "warnings": "提示", "segments": "分段"},
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
    if code == "no_person":
        return WARNINGS[lang]["no_person"]
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
    if v is None or isinstance(v, bool):
        return OBSERVATION_WORDS[lang].get(v, str(v))
    if isinstance(v, str):
        return OBSERVATION_WORDS[lang].get(v, v)
    if isinstance(v, float):
        return f"{v:.2f}" if abs(v) < 10 else f"{v:.0f}"
    return str(v)


def to_text(report: dict[str, Any], lang: str = "en") -> str:
    """A readable table (CJK-width aware) of one JSON report."""
    lang = _lang(lang)
    L = LABELS[lang]
    st = STATUS_WORDS[lang]
    obs = report["observations"]
    lines = [
        f"{L['source']}: {report['source']}",
        f"{L['activity']}: {ACTIVITY_WORDS[lang].get(report['activity'], report['activity'])}   "
        f"{L['view']}: {VIEW_WORDS[lang].get(report['view'], report['view'])}   "
        f"{L['score']}: {'-' if report['score'] is None else report['score']}   "
        f"{L['frames']}: {report['frames_analyzed']}"
        + (f"   {L['duration']}: {report['duration_s']:.1f}s" if report.get("duration_s") else ""),
        f"{L['hands']}: {_fmt_value(obs['hands']['left'], lang)}/{_fmt_value(obs['hands']['right'], lang)}   "
        f"{L['feet']}: {_fmt_value(obs['feet'], lang)}   {L['legs_crossed']}: {_fmt_value(obs['legs_crossed'], lang)}   "
        f"{L['trunk']}: {_fmt_value(obs['trunk_tilt_deg'])}°",
        "",
    ]
    rows = [(L["rule"], L["status"], L["value"], L["limit"], L["failed"], L["advice"])]
    for r in report["rules"]:
        ff = "-" if r["fail_fraction"] is None else f"{100 * r['fail_fraction']:.0f}%"
        val = r["value"] if r["value"] is not None else r.get("observed")
        rows.append((r["id"], st[r["status"]], _fmt_value(val, lang), r["limit"] or "-", ff,
                     "" if r["status"] == "pass" else r["message"]))
    widths = [max(_width(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        lines.append("  ".join(_pad(row[i], widths[i]) for i in range(5)) + "  " + row[5])
    if report["segments"] and len(report["segments"]) > 1:
        segs = ", ".join(f"{s['start_s']:.1f}-{s['end_s']:.1f}s {ACTIVITY_WORDS[lang].get(s['activity'], s['activity'])}"
                         for s in report["segments"])
        lines += ["", f"{L['segments']}: {segs}"]
    if report["warnings"]:
        lines += ["", f"{L['warnings']}:"] + [f"  - {w}" for w in report["warnings"]]
    return "\n".join(lines)
