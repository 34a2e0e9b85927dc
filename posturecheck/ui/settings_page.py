"""Settings page (trainer): app settings and the rule profile's limits (saved as TOML)."""

from __future__ import annotations

import copy
import json
import math
from dataclasses import replace
from typing import Any

import pandas as pd
import streamlit as st

from ..profile import SEVERITIES, ProfileError
from ..trainer_pin import PinError, set_pin
from ..history import HistoryError, HistoryStore, history_target, redact_url
from .common import (NEXT_LANG_KEY, history_from_command_line, history_text, lang, profile, reload_profile, set_settings,
                     settings, standard_label, standard_options, tr, trainer_gate)
from .i18n import LANG_NAMES, t
from .settings import (CAMERA_SIZES, KIOSK_KEEP, MEGAPIXELS_RANGE, MODELS, profile_data, profile_path, reset_profile, save_profile_data,
                       save_settings, validate_ice_servers, videos_dir, ice_error_text)
from ..profile import UNIT_WORDS
from ..words import feature_label, severity_label


def _general() -> None:
    s = settings()
    st.subheader(tr("general"))
    with st.form("pc_settings_form"):
        c1, c2, c3 = st.columns(3)
        new_lang = c1.selectbox(tr("default_language"), list(LANG_NAMES), index=list(LANG_NAMES).index(s.lang),
                                format_func=LANG_NAMES.get)
        live_model = c2.selectbox(tr("live_model"), MODELS, index=MODELS.index(s.live_model), help=tr("model_help"))
        review_model = c3.selectbox(tr("review_model"), MODELS, index=MODELS.index(s.review_model))
        c4, c5, c6 = st.columns(3)
        cams = list(CAMERA_SIZES)
        camera = c4.selectbox(tr("camera_resolution"), cams, index=cams.index(s.camera) if s.camera in cams else 0)
        upload = c5.number_input(tr("upload_limit"), min_value=1, max_value=4096, value=int(s.max_upload_mb), step=50,
                                 help=tr("upload_limit_help"))
        opts = standard_options()
        standard = c6.selectbox(tr("standard"), opts, index=opts.index(s.standard) if s.standard in opts else 0,
                                format_func=standard_label())
        megapixels = st.number_input(tr("max_megapixels"), min_value=MEGAPIXELS_RANGE[0], max_value=MEGAPIXELS_RANGE[1],
                                     value=float(s.max_image_megapixels), step=10.0, help=tr("max_megapixels_help"))
        keep_video = st.checkbox(tr("keep_video"), value=s.keep_video, help=tr("keep_video_help", path=videos_dir()))
        ice_text = st.text_area(tr("ice"), value=json.dumps(s.ice_servers, ensure_ascii=False), help=tr("ice_help"),
                                height=80)
        history_url = st.text_input(tr("history_url"), value=s.history_url, help=tr("history_url_help"),
                                    placeholder="postgresql://kiosk@db.example:5432/posturecheck")
        st.markdown(f"**{tr('kiosk_settings')}**")
        k1, k2 = st.columns(2)
        idle = k1.number_input(tr("kiosk_idle"), min_value=5.0, max_value=3600.0, value=float(s.kiosk_idle_s), step=5.0)
        keep = k2.selectbox(tr("kiosk_keep"), KIOSK_KEEP, index=KIOSK_KEEP.index(s.kiosk_keep),
                            format_func=lambda k, lg=lang(): t(f"keep_{k}", lg))
        submitted = st.form_submit_button(tr("save_settings"), type="primary")
    if submitted:
        try:
            ice = validate_ice_servers(json.loads(ice_text or "[]"))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            st.error(tr("ice_bad", error=ice_error_text(exc, lang())))
            return
        history_url = (history_url or "").strip()
        if history_url and not history_url.startswith(("postgresql://", "postgres://")):
            st.error(tr("history_url_bad"))
            return
        new = replace(s, lang=new_lang, live_model=live_model, review_model=review_model, camera=camera,
                      max_upload_mb=int(upload), standard=standard, keep_video=bool(keep_video), ice_servers=ice,
                      kiosk_idle_s=float(idle), kiosk_keep=keep, max_image_megapixels=float(megapixels),
                      history_url=history_url)
        if history_url and history_url != s.history_url and not _check_history(history_url):
            return
        path = save_settings(new)
        set_settings(new)
        st.session_state[NEXT_LANG_KEY] = new_lang  # applied at the next run (the widget owns pc_lang now)
        st.success(tr("settings_saved", path=path))
    if history_from_command_line():
        st.info(tr("history_env_wins", where=redact_url(history_target())))


def _check_history(url: str) -> bool:
    """Open a new shared history once: False (and why) when it cannot be used; a server away is only a warning."""
    try:
        store = HistoryStore(url=url)
    except HistoryError as exc:
        st.error(tr("history_error", error=history_text(exc)))
        return False
    try:
        if store.offline:
            st.warning(tr("history_url_offline", where=store.where, error=store.offline))
        else:
            st.success(tr("history_url_ok", where=store.where))
    finally:
        store.close()
    return True


def _is_range(check: dict[str, Any]) -> bool:
    """A numeric min/max check (not a category, yes/no or learned-probability band)."""
    return not any(k in check for k in ("allowed", "forbidden", "equals", "fail_above", "pass_below"))


def rule_rows(data: dict[str, Any]) -> pd.DataFrame:
    defaults = data.get("defaults", {})
    lg = lang()
    return pd.DataFrame([{
        "id": r["id"], tr("rule"): r.get("title", {}).get(lg, r["id"]),
        tr("severity"): severity_label(r.get("severity", defaults.get("severity", "major")), lg),
        tr("min_duration"): float(r.get("min_duration_s", defaults.get("min_duration_s", 1.0))),
    } for r in data.get("rules", [])])


def check_rows(data: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for ri, r in enumerate(data.get("rules", [])):
        for ci, c in enumerate(r.get("checks", [])):
            if not _is_range(c):
                continue
            names = [c["feature"]] if isinstance(c["feature"], str) else list(c["feature"])
            feat = "、".join(feature_label(n, lang()) for n in names) if lang() == "zh" else \
                ", ".join(feature_label(n, lang()) for n in names)
            rows.append({"r": ri, "c": ci, "id": r["id"], tr("rule"): r.get("title", {}).get(lang(), r["id"]),
                         tr("feature"): feat,
                         tr("min"): c.get("min"), tr("max"): c.get("max"), tr("unit"): UNIT_WORDS[lang()].get(c.get("unit", ""), c.get("unit", "")).strip()})
    return pd.DataFrame(rows)


def _num(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ProfileError(f"not a number: {v!r}") from None
    return None if math.isnan(f) else f


def apply_edits(data: dict[str, Any], rules: pd.DataFrame, checks: pd.DataFrame) -> dict[str, Any]:
    """A copy of the profile dict with the edited severities, durations and limits."""
    out = copy.deepcopy(data)
    by_id = {r["id"]: r for r in out.get("rules", [])}
    for _, row in rules.iterrows():
        rule = by_id[row["id"]]
        shown = row[tr("severity")]
        sev = next((k for k in SEVERITIES if shown in (k, severity_label(k, lang()))), shown)
        if sev not in SEVERITIES:
            raise ProfileError(f"rule {row['id']}: severity must be one of {sorted(SEVERITIES)}")
        rule["severity"] = sev
        dur = _num(row[tr("min_duration")])
        if dur is None or dur < 0:
            raise ProfileError(f"rule {row['id']}: min. duration must be a number >= 0")
        rule["min_duration_s"] = dur
    for _, row in checks.iterrows():
        check = out["rules"][int(row["r"])]["checks"][int(row["c"])]
        for key, col in (("min", tr("min")), ("max", tr("max"))):
            v = _num(row[col])
            if v is None:
                check.pop(key, None)
            else:
                check[key] = v
    return out


def _profile_editor() -> None:
    st.subheader(tr("profile_title"))
    st.caption(tr("profile_help", path=profile_path()))
    st.caption(tr("profile_in_use", source=profile().source))
    data = profile_data()
    st.markdown(f"**{tr('rule_settings')}**")
    rules = st.data_editor(rule_rows(data), hide_index=True, width="stretch", key=f"pc_rules_editor_{lang()}",
                           disabled=["id", tr("rule")],
                           column_config={"id": None, tr("severity"): st.column_config.SelectboxColumn(
                               options=[severity_label(k, lang()) for k in SEVERITIES]),
                                          tr("min_duration"): st.column_config.NumberColumn(min_value=0.0, step=0.1)})
    st.markdown(f"**{tr('check_limits')}**")
    checks = st.data_editor(check_rows(data), hide_index=True, width="stretch", key=f"pc_checks_editor_{lang()}",
                            disabled=["r", "c", "id", tr("rule"), tr("feature"), tr("unit")],
                            column_config={"r": None, "c": None, "id": None,
                                           tr("min"): st.column_config.NumberColumn(step=0.5),
                                           tr("max"): st.column_config.NumberColumn(step=0.5)})
    c1, c2 = st.columns(2)
    if c1.button(tr("save_profile"), type="primary", key="pc_save_profile"):
        try:
            path = save_profile_data(apply_edits(data, rules, checks))
        except ProfileError as exc:
            st.error(tr("profile_bad", error=exc))
        else:
            reload_profile()
            st.success(tr("profile_saved", path=path))
    if c2.button(tr("reset_profile"), key="pc_reset_profile"):
        reset_profile()
        reload_profile()
        for k in ("pc_rules_editor", "pc_checks_editor"):
            st.session_state.pop(f"{k}_{lang()}", None)
        st.success(tr("profile_reset"))


def _pin_editor() -> None:
    st.subheader(tr("pin_change_title"))
    with st.form("pc_pin_change_form"):
        c1, c2, c3 = st.columns(3)
        current = c1.text_input(tr("pin_current"), type="password", key="pc_pin_current")
        new = c2.text_input(tr("pin_new"), type="password", key="pc_pin_change_new")
        again = c3.text_input(tr("pin_confirm"), type="password", key="pc_pin_change_again")
        go = st.form_submit_button(tr("pin_change"))
    if go:
        try:
            set_pin(new, current=current, confirm=again)
        except PinError as exc:
            st.error(exc.message_zh if lang() == "zh" else str(exc))
        else:
            st.success(tr("pin_changed"))


def page() -> None:
    st.title(tr("settings_title"))
    if not trainer_gate():
        return
    _general()
    st.divider()
    _profile_editor()
    st.divider()
    _pin_editor()
