"""Showing a `posturecheck.analysis/1` report: score, verdict table, timeline, violations."""

from __future__ import annotations

import html
from typing import Any, Callable, Sequence

import altair as alt
import pandas as pd
import streamlit as st

from ..profile import Profile
from ..report import ACTIVITY_WORDS, rule_message
from ..words import report_value_text, seconds
from ..session import FrameRecord, frame_durations
from .common import lang, profile, status_word, tr

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


def rule_rows(report: dict[str, Any], prof: Profile | None = None) -> list[dict[str, Any]]:
    """The verdict table's rows in words: title, status, value (with its meaning), limit, failed share, advice.

    A photo has no time, so its failed share is "-" (its verdict is the one frame's).
    """
    lg = lang()
    prof = prof if prof is not None else profile()
    photo = report.get("kind") == "image"
    rows = []
    for r in report.get("rules", []):
        value = report_value_text(r, prof, lg, report.get("standard"))
        ff = r.get("fail_fraction")
        rows.append({
            "id": r["id"], "status": r["status"], "title": r.get("title", r["id"]), "severity": r.get("severity", ""),
            "status_text": status_word(r["status"]), "value": value, "limit": r.get("limit") or "-",
            "failed": "-" if ff is None or photo or r["status"] == "unknown" else f"{100 * ff:.0f}%",
            "advice": "" if r["status"] == "pass" else r.get("message", ""),
        })
    return rows


def verdict_table(report: dict[str, Any], prof: Profile | None = None) -> pd.DataFrame:
    """The verdict rows as a DataFrame with translated column names (CSV-like views, tests)."""
    photo = report.get("kind") == "image"
    cols = [("title", "rule"), ("status_text", "status"), ("value", "value"), ("limit", "limit"),
            ("failed", "failed_pct"), ("advice", "advice")]
    if photo:
        cols = [c for c in cols if c[0] != "failed"]
    return pd.DataFrame([{tr(label): row[k] for k, label in cols} for row in rule_rows(report, prof)])


TABLE_CSS = """
.pc-verdicts {width: 100%; border-collapse: collapse; table-layout: auto; font-size: 0.95rem;}
.pc-verdicts th {text-align: left; border-bottom: 2px solid rgba(128,128,128,0.4); padding: 0.35rem 0.5rem;}
.pc-verdicts td {vertical-align: top; border-bottom: 1px solid rgba(128,128,128,0.2); padding: 0.35rem 0.5rem;
                 white-space: normal; overflow-wrap: anywhere; word-break: normal;}
.pc-verdicts td:nth-child(2), .pc-verdicts td:nth-child(3) {white-space: nowrap;}
.pc-verdicts td:first-child {min-width: 7.5em;}
.pc-verdicts tr[data-status='fail'] td:first-child {border-left: 5px solid #dc3228;}
.pc-verdicts tr[data-status='pass'] td:first-child {border-left: 5px solid #2ca05a;}
.pc-verdicts tr[data-status='unknown'] td:first-child {border-left: 5px solid #b4b4b4;}
.pc-cards {display: flex; flex-wrap: wrap; gap: 0.8rem; margin-bottom: 0.6rem;}
.pc-card {flex: 1 1 8rem; min-width: 8rem; padding: 0.5rem 0.8rem; border-radius: 0.5rem;
          background: rgba(128,128,128,0.08);}
.pc-card .pc-label {font-size: 0.85rem; opacity: 0.75;}
.pc-card .pc-big {font-size: 2.0rem; font-weight: 700; line-height: 1.2; white-space: normal; overflow-wrap: anywhere;}
.pc-card .pc-mid {font-size: 1.25rem; font-weight: 600; line-height: 1.3; white-space: normal; overflow-wrap: anywhere;}
"""


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def render_score(report: dict[str, Any]) -> None:
    """Score, activity and duration as wrapping cards (long words never cut off)."""
    lg = lang()
    sc = report.get("score")
    score_text = tr("not_judged") if sc is None else f"{sc:.0f}"
    cards = [f'<div class="pc-card" data-testid="pc-score" data-score="{"" if sc is None else sc}">'
             f'<div class="pc-label">{_esc(tr("score"))}</div>'
             f'<div class="{"pc-mid" if sc is None else "pc-big"}">{_esc(score_text)}</div></div>',
             f'<div class="pc-card"><div class="pc-label">{_esc(tr("activity"))}</div><div class="pc-mid">'
             f'{_esc(ACTIVITY_WORDS[lg].get(report.get("activity", ""), report.get("activity", "-")).capitalize())}</div></div>']
    if report.get("duration_s"):
        cards.append(f'<div class="pc-card"><div class="pc-label">{_esc(tr("duration_plain"))}</div>'
                     f'<div class="pc-mid">{_esc(seconds(report["duration_s"], lg))}</div></div>')
    if sc is None:
        cards.append(f'<div class="pc-card" style="flex-basis: 100%"><div class="pc-label">'
                     f'{_esc(tr("not_judged_why"))}</div></div>')
    st.markdown(f"<style>{TABLE_CSS}</style><div class='pc-cards'>{''.join(cards)}</div>", unsafe_allow_html=True)


def render_verdicts(report: dict[str, Any], prof: Profile | None = None) -> None:
    """The per-rule verdict table (wrapping, every word translated) and the report's notes."""
    st.subheader(tr("verdicts"))
    photo = report.get("kind") == "image"
    heads = [tr("rule"), tr("status"), tr("value"), tr("limit")] + ([] if photo else [tr("failed_pct")]) + [tr("advice")]
    body = []
    for row in rule_rows(report, prof):
        cells = [row["title"], row["status_text"], row["value"], row["limit"]] + ([] if photo else [row["failed"]]) \
            + [row["advice"]]
        body.append(f'<tr data-rule="{_esc(row["id"])}" data-status="{_esc(row["status"])}" '
                    f'data-severity="{_esc(row["severity"])}">'
                    + "".join(f"<td>{_esc(c)}</td>" for c in cells) + "</tr>")
    st.markdown(f"<style>{TABLE_CSS}</style><table class='pc-verdicts' data-testid='pc-verdicts'><thead><tr>"
                + "".join(f"<th>{_esc(h)}</th>" for h in heads) + "</tr></thead><tbody>" + "".join(body)
                + "</tbody></table>", unsafe_allow_html=True)
    if photo:
        st.caption(tr("photo_no_time"))
    for w in report.get("warnings", []):
        st.warning(w)


def render_report_summary(report: dict[str, Any], prof: Profile | None = None) -> None:
    """Score, activity and the per-rule verdict table."""
    render_score(report)
    render_verdicts(report, prof)


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
                      help=f"{tr('jump')} {seconds(v['start_s'], lang())}")
