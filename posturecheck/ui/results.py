"""Showing a `posturecheck.analysis/1` report: score, verdict table, timeline, violations."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import altair as alt
import pandas as pd
import streamlit as st

from ..profile import Profile
from ..report import ACTIVITY_WORDS, OBSERVATION_WORDS, rule_message
from ..session import FrameRecord, frame_durations
from .common import lang, status_word, tr

STATUS_COLOURS = {"pass": "#2ca05a", "fail": "#dc3228", "unknown": "#b4b4b4"}


def status_runs(records: Sequence[FrameRecord], rule_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Per rule, consecutive frames with the same status merged: rule_id, start_s, end_s, status."""
    if not records:
        return []
    durations = frame_durations([r.timestamp_ms for r in records])
    out: list[dict[str, Any]] = []
    for rid in rule_ids:
        cur: dict[str, Any] | None = None
        for rec, d in zip(records, durations):
            v = rec.verdict(rid)
            status = v.status if v is not None else "unknown"
            t0 = rec.timestamp_ms / 1000.0
            if cur is not None and cur["status"] == status:
                cur["end_s"] = round(t0 + d, 3)
            else:
                cur = {"rule_id": rid, "start_s": round(t0, 3), "end_s": round(t0 + d, 3), "status": status}
                out.append(cur)
    return out


def localise(report: dict[str, Any], prof: Profile, lg: str) -> dict[str, Any]:
    """The report's words (titles, limits, messages, warnings) in `lg`; stored reports keep their language."""
    if report.get("lang") == lg:
        return report
    out = dict(report, lang=lg, rules=[])
    for r in report.get("rules", []):
        try:
            rule = prof.rule(r["id"])
        except KeyError:
            out["rules"].append(r)
            continue
        value = r.get("value")
        out["rules"].append(dict(r, title=rule.title[lg], limit=rule.limit_text(report.get("standard"), lg),
                                 message=rule_message(rule, r["status"], value, r.get("reason"), lg,
                                                      report.get("view", "unknown"), report.get("standard"))))
    return out


def _fmt_value(val: Any) -> str:
    words = OBSERVATION_WORDS[lang()]
    if val is None or isinstance(val, bool):
        return words.get(val, "-")
    if isinstance(val, float):
        return f"{val:.2f}" if abs(val) < 10 else f"{val:.0f}"
    return str(words.get(val, val)) if isinstance(val, str) else str(val)


def verdict_table(report: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for r in report.get("rules", []):
        val = r.get("value") if r.get("value") is not None else r.get("observed")
        ff = r.get("fail_fraction")
        rows.append({
            tr("rule"): r.get("title", r["id"]),
            tr("status"): status_word(r["status"]),
            tr("value"): _fmt_value(val),
            tr("limit"): r.get("limit") or "-",
            tr("failed_pct"): "-" if ff is None else f"{100 * ff:.0f}%",
            tr("advice"): "" if r["status"] == "pass" else r.get("message", ""),
        })
    return pd.DataFrame(rows)


def render_score(report: dict[str, Any]) -> None:
    """Score, activity and duration as large numbers."""
    lg = lang()
    c1, c2, c3 = st.columns(3)
    c1.metric(tr("score"), "-" if report.get("score") is None else f"{report['score']:.0f}")
    c2.metric(tr("activity"), ACTIVITY_WORDS[lg].get(report.get("activity", ""), report.get("activity", "-")))
    if report.get("duration_s"):
        c3.metric(tr("duration"), f"{report['duration_s']:.1f}")


def render_verdicts(report: dict[str, Any]) -> None:
    """The per-rule verdict table and the report's notes."""
    st.subheader(tr("verdicts"))
    st.dataframe(verdict_table(report), hide_index=True, width="stretch")
    for w in report.get("warnings", []):
        st.warning(w)


def render_report_summary(report: dict[str, Any]) -> None:
    """Score, activity and the per-rule verdict table."""
    render_score(report)
    render_verdicts(report)


def timeline_chart(runs: list[dict[str, Any]], titles: dict[str, str]) -> alt.Chart | None:
    """Gantt-like chart: one row per rule, coloured by status over time."""
    if not runs:
        return None
    df = pd.DataFrame(runs)
    df["rule"] = df["rule_id"].map(lambda r: titles.get(r, r))
    df["status_text"] = df["status"].map(lambda s: tr(s))
    order = list(dict.fromkeys(df["rule"]))
    return (alt.Chart(df).mark_bar()
            .encode(x=alt.X("start_s:Q", title=tr("time_s")), x2="end_s:Q",
                    y=alt.Y("rule:N", sort=order, title=None),
                    color=alt.Color("status:N", scale=alt.Scale(domain=list(STATUS_COLOURS),
                                                                range=list(STATUS_COLOURS.values())),
                                    legend=alt.Legend(title=None, orient="top",
                                                      labelExpr=_legend_expr())),
                    tooltip=["rule", "status_text", "start_s", "end_s"])
            .properties(height=alt.Step(26)))


def _legend_expr() -> str:
    words = {s: tr(s) for s in STATUS_COLOURS}
    return " : ".join(f"datum.label == '{s}' ? '{w}'" for s, w in words.items()) + " : datum.label"


def violations(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Sustained violations, in time order: rule title, start, end, message."""
    out = []
    for r in report["rules"]:
        if r["status"] != "fail":
            continue
        for iv in r.get("intervals", []):
            out.append({"rule_id": r["id"], "title": r.get("title", r["id"]), "start_s": iv["start_s"],
                        "end_s": iv["end_s"], "message": r["message"]})
    return sorted(out, key=lambda v: v["start_s"])


def render_violations(report: dict[str, Any], on_jump: Callable[[float], None] | None, key: str) -> None:
    items = violations(report)
    if not items:
        st.success(tr("no_violations"))
        return
    for i, v in enumerate(items):
        c1, c2 = st.columns([5, 1])
        c1.markdown(f"**{v['title']}** · {tr('from_to', a=v['start_s'], b=v['end_s'])}  \n{v['message']}")
        if on_jump is not None:
            c2.button("▶", key=f"{key}-jump-{i}", on_click=on_jump, args=(float(v["start_s"]),),
                      help=f"{tr('jump')} {v['start_s']:.1f} s")
