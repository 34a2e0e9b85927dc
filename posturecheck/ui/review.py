"""Review page (trainer): upload a recorded drill or photo, choose the activity and standard,
press Analyse (with progress), then the annotated video, the per-rule timeline, the violations
with jump-to-time and the downloads. Changing an option afterwards judges the stored landmarks
again (`analyze.rejudge`) without running the model; a part that cannot be made (annotated
video, HTML report, ZIP) is named on the page, and its cause goes to the server log.

The upload is written to a private folder (`$POSTURECHECK_HOME/uploads/<pid>/`, mode 0700)
for the analysis and deleted right after (a server killed mid-analysis: at the next start);
the page keeps only the report, the per-frame records (no pixels) and the video bytes
to play, in this browser session's memory.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import logging
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable

import streamlit as st

from ..analyze import ACTIVITY_CHOICES, AnalyzeOptions, ClipAnalysis, analyze_path, rejudge
from ..report import ACTIVITY_WORDS, to_json
from ..sources import IMAGE_EXTS, VIDEO_EXTS, MediaError
from .applog import log_path, uploads_dir
from .common import (choice, estimator_hook, lang, profile, save_to_history, settings, standard_label, standard_options,
                     tr, trainer_gate)
from .results import render_score, render_verdicts, render_violations, status_runs, timeline_chart

logger = logging.getLogger(__name__)

REVIEW_KEY = "pc_review"
JUMP_KEY = "pc_review_t"
MB = 1024 * 1024
UPLOAD_TYPES = sorted(e.lstrip(".") for e in IMAGE_EXTS | VIDEO_EXTS)
VIDEO_MIME = {".mp4": "video/mp4", ".webm": "video/webm", ".mov": "video/quicktime", ".m4v": "video/mp4"}


def optional(module: str, attr: str) -> Callable[..., Any] | None:
    """A function from a sibling module that may not be installed yet (annotate, htmlreport)."""
    try:
        mod = importlib.import_module(f"posturecheck.{module}")
    except ImportError as exc:
        logger.debug("posturecheck.%s not available: %s", module, exc)
        return None
    fn = getattr(mod, attr, None)
    return fn if callable(fn) else None


def _progress_fn(bar: Any, text: Callable[[int, int | None], str], start: float, span: float) -> Callable[[int, int | None], None]:
    def update(done: int, total: int | None) -> None:
        frac = min(1.0, done / total) if total else 0.0
        if done % 5 == 0 or (total and done >= total):
            bar.progress(start + span * frac, text=text(done, total))
    return update


def _problem(problems: list[str] | None, part: str, exc: BaseException) -> None:
    """Log why a part of the review failed (with its traceback) and keep a line for the page."""
    logger.error("review: %s could not be made: %s", part, exc, exc_info=exc)
    if problems is not None:
        problems.append(part)


def _annotate(path: Path, analysis: ClipAnalysis, report: dict[str, Any], tmp: Path, bar: Any,
              problems: list[str] | None = None) -> tuple[bytes, str] | None:
    """(annotated media bytes, mime) from posturecheck.annotate when available."""
    prof = analysis.session.profile
    try:
        if analysis.kind == "image":
            render = optional("annotate", "render_image")
            if render is None or not analysis.session.records:
                return None
            out = tmp / "annotated.jpg"
            render(path, analysis.session.records[0], report, out, profile=prof, lang=lang())
            return out.read_bytes(), "image/jpeg"
        render = optional("annotate", "render_video")
        if render is None:
            return None
        out = tmp / "annotated.mp4"
        render(path, analysis.session.records, report, out, profile=prof, lang=lang(),
               progress=_progress_fn(bar, lambda d, n: tr("making_video"), 0.7, 0.3))
        return out.read_bytes(), "video/mp4"
    except Exception as exc:  # noqa: BLE001 - fall back to the original video; the page says so
        _problem(problems, "annotated", exc)
        return None


def _html_report(report: dict[str, Any], analysis: ClipAnalysis, problems: list[str] | None = None) -> str | None:
    """The self-contained HTML report (posturecheck.htmlreport) when the review files are not at hand."""
    render = optional("htmlreport", "render_html")
    inputs = optional("htmlreport", "HtmlInputs")
    if render is None or inputs is None:
        if problems is not None:
            problems.append("html")
        return None
    try:
        return render(report, inputs(profile=analysis.session.profile, records=analysis.session.records),
                      lang=lang())
    except Exception as exc:  # noqa: BLE001 - the JSON download stays; the page says so
        _problem(problems, "html", exc)
        return None


def _options(activity: str, standard: str | None) -> AnalyzeOptions:
    s = settings()
    return AnalyzeOptions(activity=activity, model=s.review_model, profile=profile(), standard=standard,
                          max_image_pixels=int(s.max_image_megapixels * 1e6))


def _media_mime(name: str, kind: str) -> str:
    suffix = Path(name).suffix.lower()
    return "image/" + suffix.lstrip(".").replace("jpg", "jpeg") if kind == "image" else VIDEO_MIME.get(suffix, "video/mp4")


def _build(state: dict[str, Any], analysis: ClipAnalysis, bar: Any) -> None:
    """Review files of one judged analysis (the upload is written to a private temp folder only
    while they are made); parts that fail are listed in state["problems"]."""
    name, data, standard = state["name"], state["data"], state["standard"]
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="review_", dir=uploads_dir()) as tmp_s:  # private, 0700
        tmp = Path(tmp_s)
        base = Path(name).name
        path = tmp / (base if base not in ("", ".", "..") else f"upload{Path(name).suffix.lower()}")
        path.write_bytes(data)
        analysis.source = str(path)  # the renderers read the frames again from here
        report = to_json(analysis, lang(), standard)
        outputs = _review_outputs(analysis, standard, tmp / "review", bar, problems)
        if "annotated.mp4" in outputs:
            annotated: tuple[bytes, str] | None = (outputs["annotated.mp4"], "video/mp4")
        elif "annotated.jpg" in outputs:
            annotated = (outputs["annotated.jpg"], "image/jpeg")
        else:
            annotated = _annotate(path, analysis, report, tmp, bar, problems)
    analysis.source = name  # the temp path means nothing to the trainer
    media, mime = annotated if annotated is not None else (data, _media_mime(name, analysis.kind))
    state.update(analysis=analysis, media=media, mime=mime, annotated=annotated is not None, outputs=outputs,
                 lang=lang(), problems=problems)


def _analyse(name: str, data: bytes, activity: str, standard: str | None) -> dict[str, Any] | None:
    """Run the models and the judging with a progress bar; keep the models' answers for re-judging."""
    bar = st.progress(0.0, text=tr("analysing", name=name))
    hook = estimator_hook()
    suffix = Path(name).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="review_", dir=uploads_dir()) as tmp_s:  # private, 0700
        path = Path(tmp_s) / (Path(name).name if Path(name).name not in ("", ".", "..") else f"upload{suffix}")
        path.write_bytes(data)  # errors name the trainer's file
        try:
            analysis = analyze_path(
                path, _options(activity, standard), estimator=hook(None) if hook is not None else None,
                keep_detections=True,
                progress=_progress_fn(bar, lambda d, n: tr("analysing_n", name=name, done=d, total=n or "?"), 0.0, 0.7))
        except MediaError as exc:
            bar.empty()
            st.error(exc.message_zh if lang() == "zh" else exc.message)
            return None
    state: dict[str, Any] = {"name": name, "data": data, "standard": standard, "activity": activity}
    _build(state, analysis, bar)
    bar.empty()
    return state


def _rejudge(state: dict[str, Any], activity: str, standard: str | None) -> None:
    """Judge the stored landmarks with the new options; no model runs (the video is redrawn)."""
    bar = st.progress(0.0, text=tr("rejudging"))
    analysis = rejudge(state["analysis"].detections, _options(activity, standard))
    state.update(activity=activity, standard=standard)
    _build(state, analysis, bar)
    bar.empty()


def _review_outputs(analysis: ClipAnalysis, standard: str | None, out: Path, bar: Any,
                    problems: list[str] | None = None) -> dict[str, bytes]:
    """The trainer review files (annotated video, report.html, CSV/JSON) from posturecheck.batch, if present."""
    write_review = optional("batch", "write_review")
    options = optional("batch", "ReviewOptions")
    if write_review is None or options is None:
        if problems is not None:
            problems.append("files")
        return {}
    if not analysis.session.records:
        return {}
    try:
        res = write_review(analysis, out, options(lang=lang(), standard=standard),
                           progress=_progress_fn(bar, lambda d, n: tr("making_video"), 0.7, 0.3))
        return {name: (out / name).read_bytes() for name in res.outputs if (out / name).is_file()}
    except Exception as exc:  # noqa: BLE001 - fall back to the report and the original video; the page says so
        _problem(problems, "files", exc)
        return {}


def _zip(outputs: dict[str, bytes]) -> Callable[[], bytes]:
    def make() -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, blob in outputs.items():
                zf.writestr(name, blob)
        return buf.getvalue()
    return make


def _jump(t: float) -> None:
    st.session_state[JUMP_KEY] = t


PART_KEYS = {"annotated": "part_annotated", "html": "part_html", "files": "part_files"}


def _render(state: dict[str, Any]) -> None:
    analysis: ClipAnalysis = state["analysis"]
    prof = analysis.session.profile
    report = to_json(analysis, lang(), state["standard"])  # re-worded when the language changes
    report["source"] = state["name"]
    problems = list(state.get("problems") or [])
    left, right = st.columns([3, 2])
    with left:
        if analysis.kind == "image":
            st.image(state["media"], caption=state["name"])
            st.caption(tr("photo_note"))
        else:
            st.markdown(f"**{tr('annotated_video') if state['annotated'] else tr('original_video')}**")
            start = float(st.session_state.get(JUMP_KEY, 0.0))
            st.video(state["media"], format=state["mime"], start_time=int(start), autoplay=start > 0, muted=True)
    with right:
        render_score(report)
        if analysis.kind != "image":
            st.subheader(tr("violations"))
            render_violations(report, _jump, "review")
    render_verdicts(report, prof)
    if analysis.kind != "image":
        st.subheader(tr("timeline"))
        frame_ids = [r["id"] for r in report["rules"] if prof.rule(r["id"]).scope == "frame"]
        titles = {r["id"]: r["title"] for r in report["rules"]}
        chart = timeline_chart(status_runs(analysis.session.records, frame_ids), titles)
        if chart is not None:
            st.altair_chart(chart, width="stretch")
    st.divider()
    stem = Path(state["name"]).stem
    d1, d2, d3, d4 = st.columns(4)
    d1.download_button(tr("download_json"), json.dumps(report, ensure_ascii=False, indent=1).encode("utf-8"),
                       file_name=f"{stem}.json", mime="application/json", key="pc_dl_json", on_click="ignore")
    outputs: dict[str, bytes] = state.get("outputs") or {}
    html = outputs.get("report.html") if state.get("lang") == lang() else None
    if html is None:  # no review files, or the language changed: a fresh page without stills
        text = _html_report(report, analysis, problems)
        html = text.encode("utf-8") if text is not None else None
    if html is not None:
        d2.download_button(tr("download_html"), html, file_name=f"{stem}.html",
                           mime="text/html", key="pc_dl_html", on_click="ignore")
    else:
        d2.caption(tr("part_missing", part=tr("part_html")))
    if state["annotated"]:
        photo = analysis.kind == "image"
        d3.download_button(tr("download_photo") if photo else tr("download_video"), state["media"],
                           file_name=f"{stem}_annotated.{'jpg' if photo else 'mp4'}", mime=state["mime"],
                           key="pc_dl_video", on_click="ignore")
    else:
        d3.caption(tr("part_missing", part=tr("part_annotated")))
    if len(outputs) > 1:
        d4.download_button(tr("download_all"), _zip(outputs), file_name=f"{stem}_review.zip",
                           mime="application/zip", key="pc_dl_zip", on_click="ignore")
    else:
        d4.caption(tr("part_missing", part=tr("part_files")))
    if problems:
        parts = "、".join(tr(PART_KEYS[p]) for p in dict.fromkeys(problems)) if lang() == "zh" else \
            ", ".join(tr(PART_KEYS[p]) for p in dict.fromkeys(problems))
        st.warning(tr("parts_failed", parts=parts, log=log_path()))
    c1, c2 = st.columns([3, 1])
    trainee = c1.text_input(tr("trainee"), key="pc_review_trainee")
    if c2.button(tr("save_history"), key="pc_review_save", disabled=not trainee.strip()):
        outcome, message = save_to_history(report, trainee=trainee, source="upload", drill=None)
        {"saved": st.success, "pending": st.warning}.get(outcome, st.error)(message)


def activity_label() -> Callable[[str], str]:
    """format_func for the activity selectbox, with the language fixed now (AppTest formats later)."""
    lg = lang()
    auto = tr("auto_detect")
    return lambda a: auto if a == "auto" else ACTIVITY_WORDS[lg].get(a, a).capitalize()


def page() -> None:
    st.title(tr("review_title"))
    if not trainer_gate():
        return
    s = settings()
    up = st.file_uploader(tr("upload"), type=UPLOAD_TYPES, help=tr("upload_help", mb=s.max_upload_mb),
                          key="pc_upload")
    c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
    activity = choice(c1, tr("activity"), list(ACTIVITY_CHOICES), "pc_review_activity", activity_label())
    standard = choice(c2, tr("standard"), standard_options(), "pc_review_standard", standard_label(),
                      default=s.standard)
    go = c3.button(tr("analyse"), type="primary", key="pc_review_go", disabled=up is None, width="stretch")
    state = st.session_state.get(REVIEW_KEY)
    if up is None:
        st.caption(tr("privacy_note"))
        if state is not None:  # back on the page: the last analysis of this session
            st.markdown(f"**{state['name']}**")
            _render(state)
        return
    if up.size > s.max_upload_mb * MB:
        st.error(tr("too_big", name=up.name, size=up.size / MB, mb=s.max_upload_mb))
        return
    if Path(up.name).suffix.lower() not in IMAGE_EXTS | VIDEO_EXTS:  # the uploader checks too
        st.error(tr("bad_type", name=up.name, types=", ".join(UPLOAD_TYPES)))
        return
    data = up.getvalue()
    key = hashlib.sha1(data).hexdigest()[:16] + f"|{s.review_model}"
    same_file = state is not None and state.get("key") == key
    if go and not same_file:
        st.session_state.pop(JUMP_KEY, None)
        state = _analyse(up.name, data, activity, standard)
        if state is None:
            st.session_state.pop(REVIEW_KEY, None)
            return
        state["key"] = key
        state["profile_id"] = id(profile())
        st.session_state[REVIEW_KEY] = state
    elif not same_file:
        st.info(tr("press_analyse", name=up.name, button=tr("analyse")))
        return
    elif (state["activity"], state["standard"], state.get("profile_id")) != (activity, standard, id(profile())):
        _rejudge(state, activity, standard)  # the stored landmarks, judged again: no model run
        state["profile_id"] = id(profile())
        st.info(tr("rejudged"))
    elif state.get("lang") != lang():  # the annotated picture's words follow the language (no model run)
        bar = st.progress(0.0, text=tr("making_video"))
        _build(state, state["analysis"], bar)
        bar.empty()
    _render(state)
