"""Self-contained HTML review report (and the summary page of a folder of drills).

Built from the `posturecheck.analysis/1` dict (whatever rules and observations
it holds) plus, when at hand, the per-frame records (for the timeline's
judged / not-judged runs) and a few JPEG stills. Everything is inline — CSS,
SVG charts, base64 stills and a subset of the CJK font — so the page opens
offline, looks the same on every machine and prints on A4. No script, no URL.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import logging
import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from . import __version__
from .annotate import Moment, find_cjk_font, format_value
from .profile import Profile
from .report import ACTIVITY_WORDS, OBSERVATION_WORDS, STATUS_WORDS, VIEW_WORDS
from .rules import FAIL, PASS, UNKNOWN
from .session import FrameRecord, frame_durations

logger = logging.getLogger(__name__)

# The standard's own words for arm swing: "双臂……前后以30度或35度自然摆动" (drawn as a guide band;
# pass/fail comes from the profile's walking.arm_swing limits).
STANDARD_ARM_SWING_DEG = (30.0, 35.0)
ARM_SWING_RULE = "walking.arm_swing"
# Score colours on the report (display only).
SCORE_GOOD, SCORE_FAIR = 90.0, 70.0
EMBED_FONT_FAMILY = "PostureCheck CJK"

T = {
    "en": {
        "title": "Posture review", "brand": "posturecheck · service-etiquette training",
        "score": "Score", "of100": "of 100", "passed": "met", "failed": "not met", "unknown": "not judged",
        "activity": "Activity", "view": "Camera view", "duration": "Duration", "frames": "Frames",
        "standard": "Standard", "generated": "Generated", "profile": "Profile",
        "overview": "Overview", "rules": "Rules", "rule": "Rule", "status": "Result", "value": "Trainee", "limit": "Limit",
        "compliance": "Time to standard", "violations": "Violations", "advice": "What to do",
        "median": "typical", "worst": "worst", "timeline": "Timeline",
        "timeline_note": "Bars show when each rule was met (green), slipped briefly (amber), was violated "
                         "for longer than allowed (red) or could not be judged (grey).",
        "activity_row": "Activity", "arm_swing": "Arm swing per stride",
        "arm_note": "Upper-arm angle from the trunk line at each stride's forward (●) and backward (○) peak. "
                    "Dark band: the standard's {lo:g}–{hi:g}°.", "arm_pass": " Light band: pass range {lo:g}–{hi:g}°.",
        "left_arm": "Left arm", "right_arm": "Right arm", "stride": "stride", "not_reliable": "not reliable",
        "reliable": "reliable", "no_data": "not measured",
        "far_arm": "the far arm, hidden by the body from the side", "moments": "Worst moments", "observations": "Measurements",
        "no_moments": "No violation: no stills are included.", "warnings": "Notes", "files": "Files in this folder",
        "video": "Annotated video", "none": "—", "all_met": "All judged rules met.",
        "privacy": "Made on this computer by posturecheck {version}; nothing was uploaded. ",
        "privacy_stills": "This report contains {n} still image(s) of the trainee taken from the video, included "
                          "only because a report was asked for. ",
        "privacy_video": "The annotated video beside it shows the trainee too. ",
        "privacy_delete": "Delete the report folder to delete them. The CSV and JSON files hold numbers only.",
        "font_note": "Chinese text: {font}, SIL Open Font License 1.1.",
        "forward": "forward", "backward": "backward", "seconds": "s",
        "summary_title": "Drill review summary", "file": "File", "failed_rules": "Rules not met",
        "error": "Error", "report": "Report", "open": "open", "videos": "Drills", "mean_score": "Mean score",
        "errors": "Errors",
        "lineup_title": "Line-up inspection", "people_found": "People found", "person": "Person {n} from the left",
        "frame_at": "Frame inspected",
        "lineup_privacy": "Made on this computer by posturecheck {version}; nothing was uploaded. The crops above "
                          "show the people inspected: delete this page to delete them.",
    },
    "zh": {
        "title": "仪态训练复盘报告", "brand": "posturecheck · 服务礼仪训练",
        "score": "得分", "of100": "满分 100", "passed": "合格", "failed": "不合格", "unknown": "无法判断",
        "activity": "动作", "view": "机位", "duration": "时长", "frames": "帧数",
        "standard": "标准", "generated": "生成时间", "profile": "规则配置",
        "overview": "结果概览", "rules": "各项规则", "rule": "规则", "status": "结果", "value": "学员", "limit": "标准",
        "compliance": "达标时间占比", "violations": "违规", "advice": "改进建议",
        "median": "典型值", "worst": "最差", "timeline": "时间轴",
        "timeline_note": "色条表示各规则在何时合格（绿）、短暂偏差（橙）、持续违规超过允许时长（红）或无法判断（灰）。",
        "activity_row": "动作", "arm_swing": "每步摆臂角度",
        "arm_note": "每一步上臂相对躯干线向前（●）和向后（○）摆动的最大角度。深色带：标准要求的 {lo:g}–{hi:g}°。",
        "arm_pass": "浅色带：合格范围 {lo:g}–{hi:g}°。",
        "left_arm": "左臂", "right_arm": "右臂", "stride": "步", "not_reliable": "不可靠",
        "reliable": "可靠", "no_data": "未测得", "far_arm": "远离镜头的手臂，侧面拍摄时被身体遮挡", "moments": "问题瞬间", "observations": "测量值",
        "no_moments": "没有违规，未包含截图。", "warnings": "提示", "files": "本文件夹中的文件",
        "video": "标注视频", "none": "—", "all_met": "所有可判断的规则均合格。",
        "privacy": "本报告由 posturecheck {version} 在本机生成，未上传任何数据。",
        "privacy_stills": "报告中包含 {n} 张取自视频的学员截图，仅因您要求生成报告而保存。",
        "privacy_video": "同目录下的标注视频也包含学员画面。",
        "privacy_delete": "删除报告文件夹即可删除这些画面。CSV 和 JSON 文件只含数值。",
        "font_note": "中文字体：{font}，SIL Open Font License 1.1。",
        "forward": "向前", "backward": "向后", "seconds": "秒",
        "summary_title": "训练视频汇总", "file": "文件", "failed_rules": "不合格规则",
        "error": "错误", "report": "报告", "open": "打开", "videos": "视频数", "mean_score": "平均得分",
        "errors": "出错",
        "lineup_title": "班前会仪容仪表检查", "people_found": "检出人数", "person": "左起第 {n} 人",
        "frame_at": "检查画面",
        "lineup_privacy": "本页由 posturecheck {version} 在本机生成，未上传任何数据。上方的截图显示了受检人员；删除本页即删除截图。",
    },
}
FILE_WORDS = {
    "en": {"annotated.mp4": "video with the skeleton and verdicts (shows the trainee)",
           "annotated.jpg": "photo with the skeleton and verdicts (shows the trainee)",
           "analysis.json": "the full analysis (posturecheck.analysis/1)",
           "frames.csv": "per-frame measurements and rule results", "frames.json": "the same as JSON",
           "violations.csv": "one row per violation", "violations.json": "the same as JSON"},
    "zh": {"annotated.mp4": "带骨架和判定结果的视频（含学员画面）",
           "annotated.jpg": "带骨架和判定结果的照片（含学员画面）",
           "analysis.json": "完整分析结果（posturecheck.analysis/1）",
           "frames.csv": "逐帧测量值与规则结果", "frames.json": "同上（JSON 格式）",
           "violations.csv": "每次违规一行", "violations.json": "同上（JSON 格式）"},
}
OBS_NAMES = {
    "en": {"hands": "Hands (left / right)", "feet": "Feet", "legs_crossed": "Legs crossed",
           "trunk_tilt_deg": "Trunk tilt", "head_yaw_deg": "Head yaw", "head_pitch_deg": "Head pitch",
           "head_roll_deg": "Head roll", "bows": "Bows", "leg_jiggle": "Leg jiggle", "steps": "Steps", "face": "Face",
           "sway": "Sway"},
    "zh": {"hands": "手位（左/右）", "feet": "脚位", "legs_crossed": "翘腿", "trunk_tilt_deg": "躯干倾斜",
           "head_yaw_deg": "头部左右转动", "head_pitch_deg": "头部俯仰", "head_roll_deg": "头部侧倾",
           "bows": "鞠躬", "leg_jiggle": "抖腿", "steps": "步伐", "face": "面部", "sway": "摆动"},
}
STATUS_CLASS = {PASS: "pass", FAIL: "fail", UNKNOWN: "unknown"}
ACTIVITY_COLOURS = {"standing": "#4c78a8", "sitting": "#9c6ade", "walking": "#2a9d8f", "unknown": "#c9ced6"}
RUN_COLOURS = {"pass": "#bfe8cf", "brief": "#f6d28b", "unknown": "#e4e7ec"}
FAIL_COLOUR = "#d64541"

CSS = """
:root{--ink:#1d2733;--muted:#5d6b7a;--line:#e3e7ed;--bg:#f4f6f9;--card:#fff;--accent:#1f3a5f;
--pass:#1e9e5a;--fail:#d64541;--brief:#e6a23c;--unknown:#9aa3ad}
*{box-sizing:border-box}
html{-webkit-print-color-adjust:exact;print-color-adjust:exact}
.person-head{display:flex;gap:16px;align-items:flex-start}.person-head img.crop{max-height:240px;border-radius:6px}
.person section.card{box-shadow:none;padding:0}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.55 "__CJK__",-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif}
.page{max-width:1080px;margin:0 auto;padding:28px 28px 40px}
header.top{background:var(--accent);color:#fff;border-radius:14px;padding:22px 28px;margin-bottom:18px}
header.top .brand{font-size:12px;letter-spacing:.08em;text-transform:uppercase;opacity:.75}
header.top h1{margin:4px 0 10px;font-size:26px;font-weight:600;word-break:break-all}
.meta{display:flex;flex-wrap:wrap;gap:6px 22px;font-size:13px;opacity:.92}
.meta b{font-weight:600;opacity:.75;margin-right:6px}
.grid{display:grid;grid-template-columns:220px 1fr;gap:18px;margin-bottom:18px}
.card{background:var(--card);border:1px solid var(--line);border-radius:14px;padding:18px 22px;
box-shadow:0 1px 2px rgba(16,24,40,.04);margin-bottom:18px}
.card.keep,.grid{break-inside:avoid}
tr{break-inside:avoid}
.grid .card{margin-bottom:0}
.card h2{font-size:16px;margin:0 0 12px;color:var(--accent);break-after:avoid}
.scorecard{display:flex;flex-direction:column;align-items:center;justify-content:center;text-align:center}
.scorecard svg{width:150px;height:150px}
.scorecard .label{color:var(--muted);font-size:13px;margin-top:4px}
.stats{display:grid;grid-template-columns:repeat(3,1fr);gap:12px}
.stat{border-radius:10px;background:var(--bg);padding:12px 14px}
.stat .n{font-size:26px;font-weight:700;line-height:1.1}
.stat .t{color:var(--muted);font-size:12.5px}
.stat.pass .n{color:var(--pass)}.stat.fail .n{color:var(--fail)}.stat.unknown .n{color:var(--unknown)}
.keyline{margin-top:12px;color:var(--muted);font-size:13px}
table{width:100%;border-collapse:collapse}
th{text-align:left;font-size:12px;font-weight:600;color:var(--muted);text-transform:uppercase;
letter-spacing:.04em;border-bottom:1px solid var(--line);padding:8px 8px}
td{border-bottom:1px solid var(--line);padding:9px 8px;vertical-align:top}
tr:last-child td{border-bottom:0}
td.rule .id{display:block;font:11.5px/1.3 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color:var(--muted)}
td.num{white-space:nowrap;font-variant-numeric:tabular-nums}
td.limit{font-size:13px;max-width:240px}
tr.has-advice td{border-bottom:0;padding-bottom:3px}
tr.advice td{padding-top:0;color:var(--muted);font-size:13px}
tr.advice td span{display:inline-block;font-size:11px;font-weight:600;text-transform:uppercase;letter-spacing:.04em;
color:var(--accent);background:#e8eef6;border-radius:4px;padding:0 6px;margin-right:8px}
.pill{display:inline-block;border-radius:999px;padding:1px 10px;font-size:12px;font-weight:600;white-space:nowrap}
.pill.pass{background:#e3f5eb;color:var(--pass)}.pill.fail{background:#fbe6e5;color:var(--fail)}
.pill.unknown{background:#eef0f3;color:var(--muted)}.pill.mid{background:#fcf1de;color:#a86a0c}
td.nowrap{white-space:nowrap}
.bar{width:110px;height:8px;border-radius:4px;background:#eef0f3;overflow:hidden;display:inline-block;
vertical-align:middle;margin-right:8px}
.bar i{display:block;height:100%;background:var(--pass)}
.bar.low i{background:var(--fail)}.bar.mid i{background:var(--brief)}
.note{color:var(--muted);font-size:12.5px;margin:8px 0 0}
svg{display:block;width:100%;height:auto}
svg text{font-size:11px;fill:var(--muted)}
svg .lab{fill:var(--ink);font-size:11.5px}
.moments{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:14px}
figure{margin:0;background:var(--bg);border-radius:10px;overflow:hidden;break-inside:avoid}
figure img{display:block;width:100%;height:auto}
figcaption{padding:8px 10px;font-size:12.5px}
figcaption b{color:var(--fail)}
.arms{display:grid;grid-template-columns:1fr 1fr;gap:18px}
.arms h3{font-size:13.5px;margin:0 0 4px}
.arms .sub{color:var(--muted);font-size:12px;margin-bottom:4px}
video{width:100%;max-height:520px;border-radius:10px;background:#000}
ul.plain{margin:0;padding-left:18px}
footer{color:var(--muted);font-size:12px;margin-top:8px;padding:0 4px}
a{color:var(--accent)}
.err{color:var(--fail)}
@media screen and (max-width:760px){.grid{grid-template-columns:1fr}.arms{grid-template-columns:1fr}}
@media print{body{background:#fff;font-size:12px}.page{max-width:none;padding:0}
.card{box-shadow:none;border-color:#d5dae1}video,.screen-only{display:none}
.grid{grid-template-columns:190px 1fr}.moments{grid-template-columns:repeat(4,1fr)}
@page{size:A4;margin:12mm}}
"""


def _lang(lang: str | None) -> str:
    return "zh" if (lang or "en").lower().startswith("zh") else "en"


def esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _mmss(t: float) -> str:
    m, s = divmod(max(float(t), 0.0), 60.0)
    return f"{int(m)}:{s:04.1f}"


def _fmt_duration(t: float | None, lang: str) -> str:
    if t is None:
        return T[lang]["none"]
    return f"{t:.1f} {T[lang]['seconds']}"


def _axis_label(t: float, step: float) -> str:
    m, s = divmod(max(float(t), 0.0), 60.0)
    return f"{int(m)}:{s:04.1f}" if step < 1 else f"{int(m)}:{int(round(s)):02d}"


def _nice_step(span: float, target: int = 8) -> float:
    raw = max(span, 1e-6) / target
    for step in (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600):
        if step >= raw:
            return float(step)
    return float(math.ceil(raw / 600) * 600)


# ----------------------------------------------------------------------------- font


def embedded_font_css(text: str) -> str:
    """@font-face with a base64 subset of the CJK font covering the non-ASCII characters of `text` ('' if none)."""
    chars = {ch for ch in text if ord(ch) > 0x7F}
    src = find_cjk_font()
    if not chars or src is None:
        return ""
    try:
        from fontTools import subset, ttLib
    except ImportError:
        logger.info("fontTools missing: the report relies on the viewer's Chinese fonts")
        return ""
    try:
        font = ttLib.TTFont(str(src.path), fontNumber=src.index, lazy=True)
        options = subset.Options()
        options.layout_features = ["*"]
        options.notdef_outline = True
        options.name_IDs = ["*"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(text="".join(sorted(chars)))
        subsetter.subset(font)
        buf = io.BytesIO()
        font.flavor = None
        font.save(buf)
    except Exception as exc:  # noqa: BLE001 - fontTools raises many types; the report must still be written
        logger.warning("could not embed the Chinese font (%s); the report relies on the viewer's fonts", exc)
        return ""
    fmt = "opentype" if buf.getvalue()[:4] == b"OTTO" else "truetype"
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    # First in the body's font stack, limited to exactly the characters it holds: Chromium
    # resolved runs laid out while this data: font was still decoding to the system Latin font
    # (its .notdef boxes) and kept them after the font loaded when it came after Arial in the
    # stack (seen: the summary heading, stat labels, first rule row, fail badges). One face at
    # weight 400: bold text gets a synthesised bold instead of a fallback.
    return (f'@font-face{{font-family:"{EMBED_FONT_FAMILY}";font-style:normal;font-weight:400;font-display:block;'
            f'src:url(data:font/{"otf" if fmt == "opentype" else "ttf"};base64,{data}) format("{fmt}");'
            f'unicode-range:{unicode_range(chars)}}}')


def unicode_range(chars: set[str] | str) -> str:
    """A CSS unicode-range covering exactly `chars` (consecutive code points merged)."""
    points = sorted({ord(c) for c in chars})
    out: list[str] = []
    i = 0
    while i < len(points):
        j = i
        while j + 1 < len(points) and points[j + 1] == points[j] + 1:
            j += 1
        out.append(f"U+{points[i]:X}" if i == j else f"U+{points[i]:X}-{points[j]:X}")
        i = j + 1
    return ",".join(out)


def _page(title: str, body: str, lang: str) -> str:
    """The whole document, with the CJK font subset for exactly the characters used."""
    css = CSS.replace("__CJK__", EMBED_FONT_FAMILY)
    font_css = embedded_font_css(title + body)
    return (f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="generator" content="posturecheck {esc(__version__)}">\n'
            f"<title>{esc(title)}</title>\n<style>{font_css}{css}</style>\n</head>\n<body>\n"
            f'<div class="page">\n{body}\n</div>\n</body>\n</html>\n')


# ----------------------------------------------------------------------------- pieces


def _rule_unit(rule_id: str, reason: str | None, profile: Profile | None) -> str:
    if profile is None:
        return ""
    try:
        rule = profile.rule(rule_id)
    except KeyError:
        return ""
    check = rule.check_for_feature(reason) if reason else None
    if check is None:
        ranges = [c for c in rule.checks if c.kind == "range"]
        check = ranges[0] if ranges else None
    return check.unit if check is not None else ""


def score_svg(score: float | None) -> str:
    """Donut of the score."""
    r, c = 52, 2 * math.pi * 52
    frac = 0.0 if score is None else max(0.0, min(1.0, score / 100.0))
    colour = "#9aa3ad" if score is None else "#1e9e5a" if score >= SCORE_GOOD else "#e6a23c" if score >= SCORE_FAIR else "#d64541"
    text = "—" if score is None else f"{score:.0f}"
    return (f'<svg viewBox="0 0 128 128" width="150" height="150" role="img" aria-label="score {esc(text)}">'
            f'<circle cx="64" cy="64" r="{r}" fill="none" stroke="#eef0f3" stroke-width="12"/>'
            f'<circle cx="64" cy="64" r="{r}" fill="none" stroke="{colour}" stroke-width="12" stroke-linecap="round" '
            f'stroke-dasharray="{c * frac:.1f} {c:.1f}" transform="rotate(-90 64 64)"/>'
            f'<text x="64" y="74" text-anchor="middle" style="font-size:34px;font-weight:700;fill:#1d2733">{esc(text)}</text>'
            f"</svg>")


def _header(report: Mapping[str, Any], lang: str, profile: Profile | None, generated: _dt.datetime) -> str:
    L = T[lang]
    name = str(report.get("source", "")).replace("\\", "/").rsplit("/", 1)[-1]
    meta = [
        (L["activity"], ACTIVITY_WORDS[lang].get(report.get("activity", "unknown"), report.get("activity"))),
        (L["view"], VIEW_WORDS[lang].get(report.get("view", "unknown"), report.get("view"))),
    ]
    if report.get("kind") == "video":
        meta.append((L["duration"], _fmt_duration(report.get("duration_s"), lang)))
    meta.append((L["frames"], report.get("frames_analyzed", 0)))
    if report.get("standard"):
        meta.append((L["standard"], report["standard"]))
    if profile is not None:
        meta.append((L["profile"], profile.name))
    meta.append((L["generated"], generated.strftime("%Y-%m-%d %H:%M")))
    items = "".join(f"<span><b>{esc(k)}</b>{esc(v)}</span>" for k, v in meta)
    return (f'<header class="top"><div class="brand">{esc(L["brand"])}</div><h1>{esc(L["title"])} — {esc(name)}</h1>'
            f'<div class="meta">{items}</div></header>')


def _overview(report: Mapping[str, Any], lang: str) -> str:
    L = T[lang]
    rules = report.get("rules", [])
    counts = {s: sum(1 for r in rules if r.get("status") == s) for s in (PASS, FAIL, UNKNOWN)}
    failed = [r for r in rules if r.get("status") == FAIL]
    keyline = (L["all_met"] if not failed and counts[PASS] else
               "、".join(esc(r.get("title", r["id"])) for r in failed) if lang == "zh" else
               ", ".join(esc(r.get("title", r["id"])) for r in failed))
    if failed:
        keyline = f'{esc(L["failed"])}: {keyline}' if lang == "en" else f'{esc(L["failed"])}：{keyline}'
    stats = "".join(f'<div class="stat {cls}"><div class="n">{counts[s]}</div><div class="t">{esc(L[key])}</div></div>'
                    for s, cls, key in ((PASS, "pass", "passed"), (FAIL, "fail", "failed"), (UNKNOWN, "unknown", "unknown")))
    return (f'<div class="grid"><div class="card scorecard">{score_svg(report.get("score"))}'
            f'<div class="label">{esc(L["score"])} · {esc(L["of100"])}</div></div>'
            f'<div class="card"><h2>{esc(L["overview"])}</h2><div class="stats">{stats}</div>'
            f'<div class="keyline">{keyline}</div></div></div>')


def _value_cell(r: Mapping[str, Any], lang: str, profile: Profile | None) -> str:
    unit = _rule_unit(r["id"], r.get("reason"), profile)
    value = r.get("value") if r.get("value") is not None else r.get("observed")
    parts = []
    if value is not None:
        parts.append(esc(format_value(value, unit, lang)))
    peaks = [i.get("peak_value") for i in r.get("intervals") or () if i.get("peak_value") is not None]
    nums = [p for p in peaks if isinstance(p, (int, float)) and not isinstance(p, bool)]
    if nums:
        worst = max(nums, key=abs)
        parts.append(f'<span class="note">{esc(T[lang]["worst"])} {esc(format_value(worst, unit, lang))}</span>')
    elif peaks and value is None:
        parts.append(esc(format_value(peaks[0], "", lang)))
    return "<br>".join(parts) or T[lang]["none"]


def _compliance_cell(r: Mapping[str, Any], lang: str) -> str:
    ff = r.get("fail_fraction")
    if ff is None:
        return T[lang]["none"]
    share = max(0.0, min(1.0, 1.0 - float(ff)))
    cls = "" if share >= 0.9 else "mid" if share >= 0.7 else "low"
    return f'<span class="bar {cls}"><i style="width:{100 * share:.0f}%"></i></span>{100 * share:.0f}%'


def _violations_cell(r: Mapping[str, Any], lang: str) -> str:
    ivs = r.get("intervals") or []
    if not ivs:
        return T[lang]["none"]
    total = sum(float(i["end_s"]) - float(i["start_s"]) for i in ivs)
    if lang == "zh":
        return f"{len(ivs)} 次，共 {total:.1f} 秒"
    return f"{len(ivs)}×, {total:.1f} s in all"


def rules_table(report: Mapping[str, Any], lang: str, profile: Profile | None) -> str:
    L = T[lang]
    order = {FAIL: 0, PASS: 1, UNKNOWN: 2}
    rows = []
    video = report.get("kind") != "image"  # a photo has no time: no share of time, no intervals
    titles = lane_titles(report.get("rules", []), lang)
    for r in sorted(report.get("rules", []), key=lambda r: order.get(r.get("status"), 3)):
        status = r.get("status", UNKNOWN)
        advice = r.get("message", "") if status != PASS else ""
        cls = ' class="has-advice"' if advice else ""
        over_time = (f'<td class="num">{_compliance_cell(r, lang)}</td><td class="num">{_violations_cell(r, lang)}</td>'
                     if video else "")
        rows.append(
            f'<tr{cls}><td class="rule">{esc(titles[r["id"]])}<span class="id">{esc(r["id"])}</span></td>'
            f'<td><span class="pill {STATUS_CLASS.get(status, "unknown")}">{esc(STATUS_WORDS[lang].get(status, status))}</span></td>'
            f'<td class="num">{_value_cell(r, lang, profile)}</td>'
            f'<td class="limit">{esc(r.get("limit") or L["none"])}</td>{over_time}</tr>')
        if advice:
            rows.append(f'<tr class="advice"><td colspan="{6 if video else 4}"><span>{esc(L["advice"])}</span>'
                        f'{esc(advice)}</td></tr>')
    keys = ("rule", "status", "value", "limit") + (("compliance", "violations") if video else ())
    head = "".join(f"<th>{esc(L[k])}</th>" for k in keys)
    return (f'<section class="card"><h2>{esc(L["rules"])}</h2><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></section>')


# ----------------------------------------------------------------------------- timeline


def lane_titles(rules: Sequence[Mapping[str, Any]], lang: str) -> dict[str, str]:
    """Rule titles for the timeline, with the activity added where two rules share a title."""
    titles = {r["id"]: str(r.get("title") or r["id"]) for r in rules}
    counts: dict[str, int] = {}
    for t in titles.values():
        counts[t] = counts.get(t, 0) + 1
    out = {}
    for rid, t in titles.items():
        prefix = rid.split(".", 1)[0]
        if counts[t] > 1 and prefix in ACTIVITY_WORDS[lang]:
            t = f"{t} · {ACTIVITY_WORDS[lang][prefix]}"
        out[rid] = t
    return out


def _clip_runs(rule: Mapping[str, Any], segments: Sequence[Mapping[str, Any]], profile: Profile | None,
               duration: float) -> list[tuple[float, float, str]]:
    """Runs of a clip-scope rule: judged during the segments of its activities, else not judged."""
    judged = "pass" if rule.get("status") in (PASS, FAIL) else "unknown"
    acts: tuple[str, ...] | None = None
    if profile is not None:
        try:
            acts = profile.rule(rule["id"]).activities
        except KeyError:
            acts = None
    if not acts or not segments:  # no profile entry, or a rule for every activity (grooming)
        return [(0.0, duration, judged)]
    return [(float(s["start_s"]), float(s["end_s"]), judged if s.get("activity") in acts else "unknown")
            for s in segments]


def _frame_runs(records: Sequence[FrameRecord], rule_id: str, end_s: float) -> list[tuple[float, float, str]]:
    """(start, end, pass|brief|unknown) runs of one frame-scope rule."""
    if not records:
        return []
    durs = frame_durations([r.timestamp_ms for r in records])
    runs: list[tuple[float, float, str]] = []
    for rec, d in zip(records, durs):
        v = rec.verdict(rule_id)
        st = "unknown" if v is None or v.status == UNKNOWN else "brief" if v.status == FAIL else "pass"
        t0 = rec.timestamp_ms / 1000.0
        t1 = min(t0 + d, end_s) if end_s else t0 + d
        if runs and runs[-1][2] == st and abs(runs[-1][1] - t0) < 1e-6:
            runs[-1] = (runs[-1][0], t1, st)
        else:
            runs.append((t0, t1, st))
    return runs


def timeline_svg(report: Mapping[str, Any], lang: str, records: Sequence[FrameRecord] | None,
                 moments: Sequence[Moment] = (), profile: Profile | None = None) -> str:
    """Activity segments and one lane per rule (runs from the records, violation intervals in red)."""
    L = T[lang]
    duration = float(report.get("duration_s") or 0.0)
    if duration <= 0:
        return ""
    rules = report.get("rules", [])
    label_w, width, row_h, top = 190.0, 1000.0, 20.0, 26.0
    plot_w = width - label_w - 10
    height = top + row_h * (len(rules) + 1) + 30

    def x(t: float) -> float:
        return label_w + plot_w * max(0.0, min(t, duration)) / duration

    out = [f'<svg viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{esc(L["timeline"])}">']
    step = _nice_step(duration)
    t = 0.0
    while t <= duration + 1e-6:
        out.append(f'<line x1="{x(t):.1f}" y1="{top - 4}" x2="{x(t):.1f}" y2="{height - 26}" stroke="#eef0f3"/>'
                   f'<text x="{x(t):.1f}" y="{top - 10}" text-anchor="middle">{esc(_axis_label(t, step))}</text>')
        t += step
    y = top
    out.append(f'<text class="lab" x="0" y="{y + 14}">{esc(L["activity_row"])}</text>')
    segments = report.get("segments") or [{"start_s": 0.0, "end_s": duration, "activity": report.get("activity")}]
    for seg in segments:
        act = seg.get("activity", "unknown")
        x0, x1 = x(seg["start_s"]), x(seg["end_s"])
        colour = ACTIVITY_COLOURS.get(act, "#c9ced6")
        out.append(f'<rect x="{x0:.1f}" y="{y + 3}" width="{max(x1 - x0, 1):.1f}" height="{row_h - 6}" rx="3" fill="{colour}">'
                   f'<title>{esc(ACTIVITY_WORDS[lang].get(act, act))} {seg["start_s"]:.1f}–{seg["end_s"]:.1f}s</title></rect>')
        if x1 - x0 > 48:
            out.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{y + 14}" text-anchor="middle" style="fill:#fff;font-size:10.5px">'
                       f'{esc(ACTIVITY_WORDS[lang].get(act, act))}</text>')
    frame_ids = {v.rule_id for rec in records or () for v in rec.verdicts}
    by_id = {r["id"]: _frame_runs(records or (), r["id"], duration) for r in rules if r["id"] in frame_ids}
    titles = lane_titles(rules, lang)
    for r in rules:
        y += row_h
        title = titles[r["id"]]
        out.append(f'<text class="lab" x="0" y="{y + 14}">{esc(title[:26])}<title>{esc(r["id"])}</title></text>')
        runs = by_id.get(r["id"]) or _clip_runs(r, segments, profile, duration)
        for s, e, st in runs:
            out.append(f'<rect x="{x(s):.1f}" y="{y + 4}" width="{max(x(e) - x(s), 0.8):.1f}" height="{row_h - 8}" '
                       f'fill="{RUN_COLOURS[st]}"/>')
        ivs = [(float(i["start_s"]), float(i["end_s"])) for i in r.get("intervals") or [] if "start_s" in i]
        if r.get("status") == FAIL and not ivs:
            ivs = [(0.0, duration)]  # failed over the whole clip
        for s, e in ivs:
            out.append(f'<rect x="{x(s):.1f}" y="{y + 2}" width="{max(x(e) - x(s), 1.5):.1f}" height="{row_h - 4}" rx="2" '
                       f'fill="{FAIL_COLOUR}"><title>{esc(title)} {s:.1f}–{e:.1f}s</title></rect>')
    y += row_h + 8
    for n, m in enumerate(moments, 1):
        out.append(f'<path d="M{x(m.t_s) - 5:.1f},{y + 10} L{x(m.t_s) + 5:.1f},{y + 10} L{x(m.t_s):.1f},{y + 2} Z" fill="#1f3a5f"/>'
                   f'<text x="{x(m.t_s):.1f}" y="{y + 21}" text-anchor="middle" style="fill:#1f3a5f;font-weight:600">{n}</text>')
    out.append("</svg>")
    return (f'<section class="card keep"><h2>{esc(L["timeline"])}</h2>{"".join(out)}'
            f'<p class="note">{esc(L["timeline_note"])}</p></section>')


# ----------------------------------------------------------------------------- arm swing


def arm_pass_band(profile: Profile | None) -> tuple[float, float] | None:
    """The profile's pass range for arm swing (min, max of its first two-sided range check), if any."""
    if profile is None:
        return None
    try:
        rule = profile.rule(ARM_SWING_RULE)
    except KeyError:
        return None
    for c in rule.checks:
        if c.kind == "range" and c.min is not None and c.max is not None:
            return float(c.min), float(c.max)
    return None


def _nums(xs: Any) -> list[float]:
    if not isinstance(xs, (list, tuple)):
        return []
    return [float(v) for v in xs if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]


def _arm_panel(arm: Mapping[str, Any], title: str, lang: str, band: tuple[float, float] | None) -> str:
    L = T[lang]
    fwd, bwd = _nums(arm.get("forward_deg")), _nums(arm.get("backward_deg"))
    n = max(len(fwd), len(bwd))
    reliable = bool(arm.get("reliable"))
    if reliable:
        sub = L["reliable"]
    elif arm.get("near") is False:
        sub = f'{L["not_reliable"]} ({L["far_arm"]})'
    else:
        sub = L["not_reliable"] + (f' ({arm.get("reason")})' if arm.get("reason") and lang == "en" else "")
    if fwd:
        sub += f' · {L["forward"]} {sorted(fwd)[len(fwd) // 2]:.0f}°'
    if bwd:
        sub += f' · {L["backward"]} {sorted(bwd)[len(bwd) // 2]:.0f}°'
    w, h, left, bottom, top = 460.0, 210.0, 34.0, 24.0, 8.0
    ymax = max([60.0] + [v + 5 for v in fwd + bwd])
    ymin = min([0.0] + [v - 5 for v in fwd + bwd])

    def ys(v: float) -> float:
        return top + (h - top - bottom) * (ymax - v) / (ymax - ymin)

    def xs(i: int) -> float:
        return left + (w - left - 10) * (i + 0.5) / max(n, 1)

    out = [f'<svg viewBox="0 0 {w:.0f} {h:.0f}" role="img" aria-label="{esc(title)}">']
    if band is not None:
        out.append(f'<rect x="{left}" y="{ys(band[1]):.1f}" width="{w - left - 10}" height="{ys(band[0]) - ys(band[1]):.1f}" fill="#e3f5eb"/>')
    lo, hi = STANDARD_ARM_SWING_DEG
    out.append(f'<rect x="{left}" y="{ys(hi):.1f}" width="{w - left - 10}" height="{ys(lo) - ys(hi):.1f}" fill="#9fdcb8"/>')
    for v in range(int(math.ceil(ymin / 10) * 10), int(ymax) + 1, 10):
        out.append(f'<line x1="{left}" x2="{w - 10}" y1="{ys(v):.1f}" y2="{ys(v):.1f}" stroke="#eef0f3"/>'
                   f'<text x="{left - 6}" y="{ys(v) + 4:.1f}" text-anchor="end">{v}°</text>')
    opacity = "1" if reliable else "0.45"
    for series, filled in ((fwd, True), (bwd, False)):
        if not series:
            continue
        pts = " ".join(f"{xs(i):.1f},{ys(v):.1f}" for i, v in enumerate(series))
        out.append(f'<polyline points="{pts}" fill="none" stroke="#1f3a5f" stroke-width="1.5" '
                   f'stroke-dasharray="{"" if filled else "4 3"}" opacity="{opacity}"/>')
        for i, v in enumerate(series):
            ok = band is None or band[0] <= v <= band[1]
            colour = "#1f3a5f" if ok else FAIL_COLOUR
            out.append(f'<circle cx="{xs(i):.1f}" cy="{ys(v):.1f}" r="4.5" fill="{colour if filled else "#fff"}" '
                       f'stroke="{colour}" stroke-width="2" opacity="{opacity}"><title>{i + 1}: {v:.1f}°</title></circle>')
    for i in range(n):
        out.append(f'<text x="{xs(i):.1f}" y="{h - 6}" text-anchor="middle">{i + 1}</text>')
    if n == 0:
        out.append(f'<text x="{(left + w) / 2:.0f}" y="{ys(ymax - 6):.0f}" text-anchor="middle">{esc(L["no_data"])}</text>')
    out.append("</svg>")
    return f'<div><h3>{esc(title)}</h3><div class="sub">{esc(sub)}</div>{"".join(out)}</div>'


def arm_swing_section(report: Mapping[str, Any], lang: str, profile: Profile | None) -> str:
    """Per-stride arm swing of both arms against the standard's band ('' when not measured)."""
    obs = (report.get("observations") or {}).get("arm_swing")
    if not isinstance(obs, Mapping):
        return ""
    arms = [(obs.get(side), T[lang][key]) for side, key in (("left", "left_arm"), ("right", "right_arm"))]
    arms = [(a, t) for a, t in arms if isinstance(a, Mapping)]
    if not arms or not any(_nums(a.get("forward_deg")) or _nums(a.get("backward_deg")) for a, _ in arms):
        return ""
    band = arm_pass_band(profile)
    note = T[lang]["arm_note"].format(lo=STANDARD_ARM_SWING_DEG[0], hi=STANDARD_ARM_SWING_DEG[1])
    if band is not None:
        note += T[lang]["arm_pass"].format(lo=band[0], hi=band[1])
    panels = "".join(_arm_panel(a, t, lang, band) for a, t in arms)
    return (f'<section class="card keep"><h2>{esc(T[lang]["arm_swing"])}</h2><div class="arms">{panels}</div>'
            f'<p class="note">{esc(note)}</p></section>')


# ----------------------------------------------------------------------------- other sections


def moments_section(moments: Sequence[tuple[Moment, bytes]], lang: str) -> str:
    L = T[lang]
    if not moments:
        return f'<section class="card"><h2>{esc(L["moments"])}</h2><p class="note">{esc(L["no_moments"])}</p></section>'
    figs = []
    for n, (m, jpeg) in enumerate(moments, 1):
        data = base64.b64encode(jpeg).decode("ascii")
        value = format_value(m.value, m.unit, lang)
        figs.append(f'<figure><img alt="{esc(m.title)} {m.t_s:.1f}s" src="data:image/jpeg;base64,{data}">'
                    f'<figcaption><b>{n}</b> · {esc(_mmss(m.t_s))} · {esc(m.title)}'
                    f'{(" · " + esc(value)) if value else ""}</figcaption></figure>')
    return f'<section class="card"><h2>{esc(L["moments"])}</h2><div class="moments">{"".join(figs)}</div></section>'


def _obs_value(v: Any, lang: str) -> str:
    if isinstance(v, float):
        return f"{v:.1f}"
    if isinstance(v, (bool, str)) or v is None:
        return OBSERVATION_WORDS[lang].get(v, str(v)) if not isinstance(v, str) else OBSERVATION_WORDS[lang].get(v, v)
    return str(v)


def _events_text(events: Sequence[Mapping[str, Any]]) -> str:
    """A list of events (bows, jiggles, ...) as its count and each event's first angle, if any."""
    degs = []
    for e in events:
        key = next((k for k, x in e.items() if k.endswith("_deg") and isinstance(x, (int, float))
                    and not isinstance(x, bool)), None)
        if key is not None:
            degs.append(f"{float(e[key]):.0f}°")
    return f"{len(events)}" + (f" ({', '.join(degs[:8])})" if degs else "")


def _obs_rows(obs: Mapping[str, Any], lang: str) -> Iterable[tuple[str, str]]:
    names = OBS_NAMES[lang]
    for key, v in obs.items():
        if key == "arm_swing":
            continue
        name = names.get(key, key.replace("_", " "))
        if key == "hands" and isinstance(v, Mapping):
            yield name, f'{_obs_value(v.get("left"), lang)} / {_obs_value(v.get("right"), lang)}'
        elif isinstance(v, Mapping):
            flat = [(k, x) for k, x in v.items() if isinstance(x, (int, float, str, bool))]
            if flat:
                yield name, "; ".join(f"{k.replace('_', ' ')} {_obs_value(x, lang)}" for k, x in flat[:6])
        elif isinstance(v, list):
            nums = _nums(v)
            if nums:
                yield name, ", ".join(f"{x:.1f}" for x in nums[:12]) + (" …" if len(nums) > 12 else "")
            elif v and all(isinstance(x, Mapping) for x in v):
                yield name, _events_text(v)
        else:
            unit = "°" if key.endswith("_deg") and v is not None else ""
            yield name, _obs_value(v, lang) + unit


def observations_section(report: Mapping[str, Any], lang: str) -> str:
    obs = report.get("observations") or {}
    rows = "".join(f"<tr><td>{esc(k)}</td><td class='num'>{esc(v)}</td></tr>" for k, v in _obs_rows(obs, lang))
    if not rows:
        return ""
    return f'<section class="card"><h2>{esc(T[lang]["observations"])}</h2><table><tbody>{rows}</tbody></table></section>'


def _video_section(video_href: str | None, lang: str) -> str:
    if not video_href:
        return ""
    return (f'<section class="card screen-only"><h2>{esc(T[lang]["video"])}</h2>'
            f'<video controls preload="metadata" src="{esc(video_href)}"></video></section>')


def _files_section(files: Sequence[str], warnings: Sequence[str], lang: str) -> str:
    parts = []
    if warnings:
        parts.append(f'<h2>{esc(T[lang]["warnings"])}</h2><ul class="plain">'
                     + "".join(f"<li>{esc(w)}</li>" for w in warnings) + "</ul>")
    if files:
        words = FILE_WORDS[lang]
        items = "".join(f'<li><a href="{esc(f)}">{esc(f)}</a> — {esc(words.get(f, ""))}</li>' for f in files)
        parts.append(f'<h2 style="margin-top:{14 if warnings else 0}px">{esc(T[lang]["files"])}</h2><ul class="plain">{items}</ul>')
    return f'<section class="card">{"".join(parts)}</section>' if parts else ""


def _footer(lang: str, n_stills: int, has_video: bool) -> str:
    L = T[lang]
    text = L["privacy"].format(version=__version__)
    if n_stills:
        text += L["privacy_stills"].format(n=n_stills)
    if has_video:
        text += L["privacy_video"]
    if n_stills or has_video:
        text += L["privacy_delete"]
    font = find_cjk_font()
    if font is not None:
        text += " " + L["font_note"].format(font=font.name)
    return f"<footer>{esc(text)}</footer>"


@dataclass(frozen=True)
class HtmlInputs:
    """Optional extras for `render_html` beyond the JSON report."""

    profile: Profile | None = None
    records: Sequence[FrameRecord] | None = None
    moments: Sequence[tuple[Moment, bytes]] = ()
    video_href: str | None = None
    files: Sequence[str] = ()


def render_html(report: Mapping[str, Any], extras: HtmlInputs | None = None, lang: str | None = None,
                generated: _dt.datetime | None = None) -> str:
    """The review report page of one clip or photo."""
    x = extras or HtmlInputs()
    lang = _lang(lang or report.get("lang"))
    generated = generated or _dt.datetime.now()
    body = [
        _header(report, lang, x.profile, generated),
        _overview(report, lang),
        rules_table(report, lang, x.profile),
        timeline_svg(report, lang, x.records, [m for m, _ in x.moments], x.profile) if report.get("kind") == "video" else "",
        arm_swing_section(report, lang, x.profile),
        moments_section(x.moments, lang),
        _video_section(x.video_href, lang),
        observations_section(report, lang),
        _files_section(x.files, report.get("warnings") or [], lang),
        _footer(lang, len(x.moments), bool(x.video_href)),
    ]
    name = str(report.get("source", "")).replace("\\", "/").rsplit("/", 1)[-1]
    return _page(f'{T[lang]["title"]} — {name}', "\n".join(b for b in body if b), lang)


# ----------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class SummaryRow:
    """One drill of a folder review."""

    file: str
    report_href: str | None
    activity: str | None
    score: float | None
    failed_rules: Sequence[str]     # titles in the report's language
    duration_s: float | None
    error: str | None = None


def render_summary_html(rows: Sequence[SummaryRow], lang: str = "en", folder: str = "",
                        generated: _dt.datetime | None = None) -> str:
    """The summary page of a folder review: one row per drill, linked to its report."""
    lang = _lang(lang)
    L = T[lang]
    generated = generated or _dt.datetime.now()
    scores = [r.score for r in rows if r.score is not None]
    errors = sum(1 for r in rows if r.error)
    meta = [(L["videos"], len(rows)), (L["mean_score"], f"{sum(scores) / len(scores):.0f}" if scores else L["none"]),
            (L["errors"], errors), (L["generated"], generated.strftime("%Y-%m-%d %H:%M"))]
    items = "".join(f"<span><b>{esc(k)}</b>{esc(v)}</span>" for k, v in meta)
    head = "".join(f"<th>{esc(L[k])}</th>" for k in ("file", "activity", "score", "failed_rules", "duration", "report"))
    body = []
    sep = "、" if lang == "zh" else ", "
    for r in rows:
        if r.error:
            body.append(f'<tr><td>{esc(r.file)}</td><td colspan="5" class="err"><span class="pill fail">{esc(L["error"])}</span> '
                        f'{esc(r.error)}</td></tr>')
            continue
        score = L["none"] if r.score is None else f"{r.score:.0f}"
        cls = "unknown" if r.score is None else "pass" if r.score >= SCORE_GOOD else "mid" if r.score >= SCORE_FAIR else "fail"
        link = f'<a href="{esc(r.report_href)}">{esc(L["open"])}</a>' if r.report_href else L["none"]
        body.append(f'<tr><td>{esc(r.file)}</td><td class="nowrap">{esc(ACTIVITY_WORDS[lang].get(r.activity or "unknown", r.activity))}</td>'
                    f'<td class="num"><span class="pill {cls}">{esc(score)}</span></td>'
                    f'<td>{esc(sep.join(r.failed_rules) or L["none"])}</td>'
                    f'<td class="num">{esc(_fmt_duration(r.duration_s, lang))}</td><td class="nowrap">{link}</td></tr>')
    page = (f'<header class="top"><div class="brand">{esc(L["brand"])}</div><h1>{esc(L["summary_title"])}'
            f'{(" — " + esc(folder)) if folder else ""}</h1><div class="meta">{items}</div></header>'
            f'<section class="card"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></section>'
            f'<footer>{esc(L["privacy"].format(version=__version__))}</footer>')
    return _page(L["summary_title"], page, lang)


# ----------------------------------------------------------------------------- line-up


def render_lineup_html(lineup: Mapping[str, Any], crops: Mapping[int, bytes], profile: Profile | None = None,
                       generated: _dt.datetime | None = None) -> str:
    """The line-up page: one card per person (left to right) with the crop, score, rules not met
    and the rules table. `lineup` is the `posturecheck.lineup/1` object; `crops` JPEG bytes by position."""
    lang = _lang(lineup.get("lang"))
    L = T[lang]
    generated = generated or _dt.datetime.now()
    people = lineup.get("people") or []
    scores = [p["score"] for p in people if p.get("score") is not None]
    name = str(lineup.get("source", "")).replace("\\", "/").rsplit("/", 1)[-1]
    meta = [(L["people_found"], len(people)),
            (L["mean_score"], f"{sum(scores) / len(scores):.0f}" if scores else L["none"]),
            (L["generated"], generated.strftime("%Y-%m-%d %H:%M"))]
    if lineup.get("kind") == "video":
        meta.insert(1, (L["frame_at"], _mmss(float(lineup.get("timestamp_s") or 0.0))))
    items = "".join(f"<span><b>{esc(k)}</b>{esc(v)}</span>" for k, v in meta)
    sep = "、" if lang == "zh" else ", "
    cards = []
    for p in people:
        titles = lane_titles(p.get("rules", []), lang)
        failed = [titles[r["id"]] for r in p.get("rules", []) if r.get("status") == FAIL]
        score = p.get("score")
        cls = "unknown" if score is None else "pass" if score >= SCORE_GOOD else "mid" if score >= SCORE_FAIR else "fail"
        jpeg = crops.get(int(p.get("position", 0)), b"")
        img = (f'<img class="crop" alt="{esc(L["person"].format(n=p.get("position")))}" '
               f'src="data:image/jpeg;base64,{base64.b64encode(jpeg).decode("ascii")}">' if jpeg else "")
        head = (f'<h2>{esc(L["person"].format(n=p.get("position")))} '
                f'<span class="pill {cls}">{esc(L["none"] if score is None else f"{score:.0f}")}</span></h2>'
                f'<p>{esc(ACTIVITY_WORDS[lang].get(p.get("activity") or "unknown", p.get("activity")))} · '
                f'{esc(L["failed_rules"] + ": " + sep.join(failed) if failed else L["all_met"])}</p>')
        cards.append(f'<section class="card person"><div class="person-head">{img}<div>{head}</div></div>'
                     f'<details{" open" if len(people) == 1 else ""}><summary>{esc(L["rules"])}</summary>'
                     f'{rules_table(p, lang, profile)}</details></section>')
    warnings = "".join(f"<p>{esc(w)}</p>" for w in lineup.get("warnings") or [])
    page = (f'<header class="top"><div class="brand">{esc(L["brand"])}</div><h1>{esc(L["lineup_title"])} — '
            f'{esc(name)}</h1><div class="meta">{items}</div></header>'
            + (f'<section class="card">{warnings}</section>' if warnings else "")
            + "".join(cards)
            + f'<footer>{esc(L["lineup_privacy"].format(version=__version__))}</footer>')
    return _page(f'{L["lineup_title"]} — {name}', page, lang)
