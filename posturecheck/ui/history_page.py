"""History page (trainer): trainees, their sessions and scores, per-rule trends, CSV export."""

from __future__ import annotations

import time

import altair as alt
import pandas as pd
import streamlit as st

from ..live import try_load_drills
from ..report import ACTIVITY_WORDS
from ..history import HistoryError
from ..words import seconds
from .common import choice, history_store, history_text, lang, profile, rule_title, tr, trainer_gate
from .results import STATUS_COLOURS, localise, render_report_summary

ALL = "__all__"


def _sessions_frame(rows) -> pd.DataFrame:
    lg = lang()
    drills, _ = try_load_drills()

    def drill_title(d: str | None) -> str:
        return drills[d].title[lg] if d in drills else (d or "-")

    return pd.DataFrame([{
        "id": r.id,
        tr("when"): time.strftime("%Y-%m-%d %H:%M", time.localtime(r.started_at)),
        tr("trainee_short"): r.trainee or "-",
        tr("source"): tr(f"source_{r.source}"),
        tr("drill"): drill_title(r.drill),
        tr("activity"): ACTIVITY_WORDS[lg].get(r.activity or "", r.activity or "-").capitalize(),
        tr("score"): tr("not_judged") if r.score is None else f"{r.score:.0f}",  # same words as the review page
        tr("duration_plain"): "-" if r.duration_s is None else seconds(r.duration_s, lg),  # a photo has no duration
    } for r in rows])


def session_labels(started: list[float]) -> list[str]:
    """One distinct x label per session in time order ("MM-DD HH:MM", a "#n" added when two share a minute):
    a time axis would repeat one tick label for sessions minutes apart."""
    labels: list[str] = []
    seen: dict[str, int] = {}
    for t in started:
        base = time.strftime("%m-%d %H:%M", time.localtime(t))
        seen[base] = seen.get(base, 0) + 1
        labels.append(base if seen[base] == 1 else f"{base} #{seen[base]}")
    return labels


def _score_chart(rows) -> alt.Chart:
    scored = sorted((r for r in rows if r.score is not None), key=lambda r: r.started_at)
    labels = session_labels([r.started_at for r in scored])
    df = pd.DataFrame([{"when": label, "score": r.score, "trainee": r.trainee or "-"}
                       for label, r in zip(labels, scored)])
    return (alt.Chart(df).mark_line(point=True)
            .encode(x=alt.X("when:O", title=tr("when"), sort=labels, axis=alt.Axis(labelAngle=-30)),
                    y=alt.Y("score:Q", title=tr("score"), scale=alt.Scale(domain=[0, 100])),
                    color=alt.Color("trainee:N", title=None),
                    tooltip=[alt.Tooltip("when:O", title=tr("when")), alt.Tooltip("score:Q", title=tr("score")),
                             alt.Tooltip("trainee:N", title=tr("trainee_short"))])
            .properties(height=240))


def rule_label(rule_id: str) -> str:
    """Rule title plus its activity (standing and sitting both have a "Head level")."""
    title = rule_title(profile(), rule_id)
    act = rule_id.split(".", 1)[0]
    words = ACTIVITY_WORDS[lang()]
    return f"{title} · {words[act]}" if act in words else title


def _rule_charts(points) -> tuple[alt.Chart, alt.Chart] | None:
    df = pd.DataFrame([{"session": p.session_id, "t": time.strftime("%m-%d %H:%M", time.localtime(p.started_at)),
                        "rule_id": p.rule_id, "rule": rule_label(p.rule_id), "status": p.status,
                        "status_text": tr(p.status)} for p in points])
    if df.empty:
        return None
    order = list(dict.fromkeys(df.sort_values("rule_id")["rule"]))
    heat = (alt.Chart(df).mark_rect()
            .encode(x=alt.X("session:O", title=tr("sessions")),
                    y=alt.Y("rule:N", sort=order, title=None, axis=alt.Axis(labelLimit=260)),
                    color=alt.Color("status:N", scale=alt.Scale(domain=list(STATUS_COLOURS),
                                                                range=list(STATUS_COLOURS.values())), legend=None),
                    tooltip=["t", "rule", "status_text"])
            .properties(height=alt.Step(22)))
    judged = df[df["status"] != "unknown"]
    rate = judged.groupby("rule")["status"].apply(lambda s: float((s == "pass").mean())).reset_index(name="rate")
    bars = (alt.Chart(rate).mark_bar()
            .encode(x=alt.X("rate:Q", title=tr("pass_rate"), axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
                    y=alt.Y("rule:N", sort=order, title=None, axis=alt.Axis(labelLimit=260)),
                    color=alt.Color("rate:Q", scale=alt.Scale(domain=[0, 1], range=["#dc3228", "#2ca05a"]), legend=None),
                    tooltip=["rule", alt.Tooltip("rate:Q", format=".0%")])
            .properties(height=alt.Step(22)))
    return heat, bars


def page() -> None:
    st.title(tr("history_title"))
    if not trainer_gate():
        return
    store = history_store()
    if store is None:
        return
    st.caption(tr("stored_where", path=store.where))
    try:
        _browse(store)
    except HistoryError as exc:  # a shared server that stopped answering: one line, sessions stay pending
        st.error(tr("history_error", error=history_text(exc)))


def _browse(store) -> None:
    names = [t.name for t in store.trainees()]
    who = choice(st, tr("trainee_short"), [ALL] + names, "pc_hist_trainee",
                 lambda n, everyone=tr("all_trainees"): everyone if n == ALL else n, default=ALL)
    trainee = None if who == ALL else who
    rows = store.sessions(trainee)
    if not rows:
        st.info(tr("no_sessions"))
        return
    st.download_button(tr("download_csv"), store.export_csv(trainee).encode("utf-8-sig"),
                       file_name=f"posturecheck_{trainee or 'all'}.csv", mime="text/csv",
                       key="pc_hist_csv", on_click="ignore")
    st.subheader(tr("score_trend"))
    st.altair_chart(_score_chart(rows), width="stretch")
    charts = _rule_charts(store.rule_trends(trainee))
    if charts is not None:
        st.subheader(tr("rule_trend"))
        c1, c2 = st.columns([3, 2])
        c1.altair_chart(charts[0], width="stretch")
        c2.altair_chart(charts[1], width="stretch")
    st.subheader(tr("sessions"))
    st.dataframe(_sessions_frame(rows), hide_index=True, width="stretch")
    with st.expander(tr("session_detail")):
        by_id = {r.id: r for r in rows}
        score_word = tr("score")
        sid = choice(st, tr("session_pick"), list(by_id), "pc_hist_session",
                     lambda i: " · ".join((time.strftime("%Y-%m-%d %H:%M", time.localtime(by_id[i].started_at)),
                                           by_id[i].trainee or "-",
                                           f"{score_word} {'-' if by_id[i].score is None else f'{by_id[i].score:.0f}'}")))
        report = store.report(int(sid)) if sid is not None else None
        if report is not None:
            render_report_summary(localise(report, profile(), lang()))
    if trainee is not None:
        with st.expander(tr("delete_trainee")):
            if st.button(tr("confirm_delete"), key="pc_hist_delete", type="primary"):
                store.delete_trainee(trainee)
                st.session_state.pop("pc_hist_trainee__value", None)
                st.success(tr("deleted", name=trainee))
                st.rerun()
