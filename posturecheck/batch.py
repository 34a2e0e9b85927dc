"""Trainer review outputs for one drill or a folder of drills (`posturecheck analyze ... --report DIR`).

For each file: analysis → `analysis.json`, `frames.csv/json`, `violations.csv/json`,
the annotated video (`annotated.mp4`, or `annotated.jpg` for a photo) and the
self-contained `report.html`. Several files go into one subfolder each, with
`summary.html` and `summary.csv` beside them, analysed by `workers` processes
(spawned; each owns its own PoseLandmarker). A file that cannot be read becomes
an error row; the batch goes on. A worker that dies (killed by the out-of-memory
killer, a crash in native code) becomes an error row for the file it was
analysing; a fresh worker takes its place and the batch still finishes.

Where the drills run is an `Engine`: `LocalEngine` (these processes, the default) or
`ray_engine.RayEngine` (one task per drill on a Ray cluster); both run the same `_run_job`,
so outputs, progress and error rows do not depend on the engine.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import re
import signal
from multiprocessing.connection import wait
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import cv2

from .analyze import AnalyzeOptions, ClipAnalysis, analyze_path
from .annotate import MAX_MOMENTS, pick_worst_moments, render_image, render_video
from .export import (write_frames_csv, write_frames_json, write_summary_csv, write_violations_csv,
                     write_violations_json)
from .htmlreport import HtmlInputs, SummaryRow, lane_titles, render_html, render_summary_html
from .pose import Estimator
from .report import to_json
from .sources import MediaError

logger = logging.getLogger(__name__)

REPORT_HTML, VIDEO_FILE, PHOTO_FILE = "report.html", "annotated.mp4", "annotated.jpg"
DATA_FILES = ("analysis.json", "frames.csv", "frames.json", "violations.csv", "violations.json")
SUMMARY_HTML, SUMMARY_CSV = "summary.html", "summary.csv"
DEFAULT_MAX_WORKERS = 2
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')

ProgressFn = Callable[[int, int | None], None]


@dataclass(frozen=True)
class ReviewOptions:
    """What to write besides the analysis: language, standard, the annotated video, how many stills."""

    lang: str = "en"
    standard: str | None = None
    video: bool = True
    video_max_side: int | None = 1280
    stills: int = MAX_MOMENTS
    # Threads one review may use for OpenCV and the H.264 encoder (None: their defaults, one per
    # core). `review_paths` with N workers gives each cores / N, so N workers do not fight over
    # the cores (every library starting one thread per core in every worker).
    threads: int | None = None


@dataclass(frozen=True)
class ReviewResult:
    """One drill of a review: where its outputs went, its headline numbers, or its error."""

    file: str
    out_dir: str | None = None
    report: dict[str, Any] | None = None
    error: str | None = None
    error_code: str | None = None
    outputs: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    encoder: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def failed_rules(self) -> list[str]:
        return [r["id"] for r in (self.report or {}).get("rules", []) if r.get("status") == "fail"]

    def summary_row(self, root: Path) -> dict[str, Any]:
        rep = self.report or {}
        titles = lane_titles(rep.get("rules", []), rep.get("lang", "en"))
        href = None
        if self.out_dir is not None and not self.error:
            href = (Path(self.out_dir) / REPORT_HTML).relative_to(root).as_posix()
        return {"file": Path(self.file).name, "activity": rep.get("activity"), "score": rep.get("score"),
                "failed_rules": self.failed_rules, "duration_s": rep.get("duration_s"), "report": href,
                "error": self.error,
                "failed_titles": [titles[r["id"]] for r in rep.get("rules", []) if r.get("status") == "fail"]}


# ----------------------------------------------------------------------------- one file


def _write_data(out_dir: Path, analysis: ClipAnalysis, report: dict[str, Any]) -> list[str]:
    (out_dir / "analysis.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    recs = analysis.session.records
    write_frames_csv(out_dir / "frames.csv", recs, report)
    write_frames_json(out_dir / "frames.json", recs, report)
    write_violations_csv(out_dir / "violations.csv", report)
    write_violations_json(out_dir / "violations.json", report)
    return list(DATA_FILES)


def write_review(analysis: ClipAnalysis, out_dir: str | Path, review: ReviewOptions | None = None, *,
                 progress: ProgressFn | None = None, media: str | Path | None = None) -> ReviewResult:
    """Write every review output of an analysed clip or photo into `out_dir`.

    media: where the clip or photo is read again for the annotated output (default:
    `analysis.source`; differs when a Ray worker analysed a staged copy).
    """
    review = review or ReviewOptions()
    media = analysis.source if media is None else media
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    timings = dict(analysis.timings)
    t0 = time.perf_counter()
    report = to_json(analysis, review.lang, review.standard)
    profile = analysis.session.profile
    files = _write_data(out, analysis, report)
    timings["data_s"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    records = analysis.session.records
    moments = pick_worst_moments(report, records, profile, limit=review.stills) if review.stills else []
    thumbs: dict[int, bytes] = {}
    encoder = None
    video_href = None
    if review.video and records:
        if analysis.kind == "video":
            res = render_video(media, records, report, out / VIDEO_FILE, profile=profile, lang=review.lang,
                               max_side=review.video_max_side, capture=[m.index for m in moments], progress=progress,
                               threads=review.threads)
            video_href = VIDEO_FILE
        else:
            res = render_image(media, records[0], report, out / PHOTO_FILE, profile=profile,
                               lang=review.lang, max_side=review.video_max_side)
        thumbs, encoder = dict(res.thumbnails), res.encoder
        files.insert(0, res.path.name)
    timings["render_s"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    stills = [(m, thumbs[m.index]) for m in moments if m.index in thumbs]
    page = render_html(report, HtmlInputs(profile=profile, records=records, moments=stills, video_href=video_href,
                                          files=files), lang=review.lang)
    (out / REPORT_HTML).write_text(page, encoding="utf-8")
    timings["html_s"] = time.perf_counter() - t2
    return ReviewResult(analysis.source, str(out), report, outputs=(REPORT_HTML, *files), timings=timings,
                        encoder=encoder)


def review_file(path: str | Path, out_dir: str | Path, options: AnalyzeOptions | None = None,
                review: ReviewOptions | None = None, *, estimator: Estimator | None = None,
                progress: ProgressFn | None = None, render_progress: ProgressFn | None = None,
                label: str | None = None) -> ReviewResult:
    """Analyse one file and write its review outputs. Raises `MediaError` for unreadable input.

    label: how the file is named in the outputs (default: `path`); a Ray worker
    analyses a staged copy under the name the trainer gave.
    """
    if review is not None and review.threads:
        cv2.setNumThreads(review.threads)
    t0 = time.perf_counter()
    analysis = analyze_path(path, options, estimator=estimator, progress=progress)
    if label is not None:
        analysis = replace(analysis, source=label)
    t1 = time.perf_counter()
    result = write_review(analysis, out_dir, review, progress=render_progress, media=path)
    result.timings.update({"analyze_s": t1 - t0, "total_s": time.perf_counter() - t0})
    return result


def analyze_file(path: str | Path, options: AnalyzeOptions | None = None, review: ReviewOptions | None = None, *,
                 label: str | None = None) -> ReviewResult:
    """Analyse one file, no outputs written: its JSON report (`analyze` without `--report`)."""
    review = review or ReviewOptions()
    t0 = time.perf_counter()
    analysis = analyze_path(path, options)
    if label is not None:
        analysis = replace(analysis, source=label)
    report = to_json(analysis, review.lang, review.standard)
    return ReviewResult(analysis.source, report=report,
                        timings={**analysis.timings, "total_s": time.perf_counter() - t0})


def error_result(path: str | Path, exc: BaseException, lang: str) -> ReviewResult:
    """The error row of a file that could not be reviewed (one line, in the trainer's language)."""
    if isinstance(exc, MediaError):
        msg = exc.message_zh if lang == "zh" and exc.message_zh else str(exc)
        return ReviewResult(str(path), error=msg, error_code=exc.code)
    name = Path(path).name
    msg = (f"{name}：无法分析（{type(exc).__name__}: {exc}）" if lang == "zh"
           else f"{name}: could not be analysed ({type(exc).__name__}: {exc})")
    return ReviewResult(str(path), error=msg, error_code="internal")


# ----------------------------------------------------------------------------- many files


@dataclass(frozen=True)
class _Job:
    """One drill of a batch. out_dir None: analysis only (the JSON report, no files written).

    label: the name the outputs give the file when `path` is a staged copy (Ray workers).
    """

    index: int
    path: str
    out_dir: str | None
    options: AnalyzeOptions | None
    review: ReviewOptions
    label: str | None = None


def _run_job(job: _Job) -> tuple[int, ReviewResult]:
    """Worker entry (also used in-process and on Ray): never raises for a bad file."""
    try:
        if job.out_dir is None:
            return job.index, analyze_file(job.path, job.options, job.review, label=job.label)
        return job.index, review_file(job.path, job.out_dir, job.options, job.review, label=job.label)
    except Exception as exc:  # noqa: BLE001 - a batch goes on; the error becomes the file's row
        logger.debug("review of %s failed", job.path, exc_info=True)
        return job.index, error_result(job.label or job.path, exc, job.review.lang)


WORKER_STOP_S = 5.0


def _worker_main(conn: Any) -> None:
    """A worker process: run jobs sent over the pipe until told to stop (None)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    while True:
        job = conn.recv()
        if job is None:
            return
        conn.send(_run_job(job))


class _Worker:
    """One spawned worker and the job it is running (None when idle)."""

    def __init__(self, ctx: Any) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child,), daemon=True, name="posturecheck-review")
        self.proc.start()
        child.close()
        self.job: _Job | None = None

    def give(self, job: _Job | None) -> None:
        self.job = job
        if job is not None:
            self.conn.send(job)

    def stop(self) -> None:
        try:
            if self.proc.is_alive():
                self.conn.send(None)
        except (OSError, ValueError):
            pass  # the pipe is already gone
        self.proc.join(WORKER_STOP_S)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(WORKER_STOP_S)
        self.conn.close()


def died_result(job: _Job, exitcode: int | None) -> ReviewResult:
    """The error row of a file whose worker process died while analysing it."""
    name = Path(job.path).name
    how = (f"signal {-exitcode}" if exitcode is not None and exitcode < 0 else f"exit code {exitcode}")
    if exitcode == -signal.SIGKILL:
        how_zh, how_en = "被强制结束（如内存不足）", "killed (e.g. out of memory)"
    else:
        how_zh, how_en = f"意外退出（{how}）", f"stopped unexpectedly ({how})"
    msg = (f"{name}：分析进程{how_zh}，该文件未完成；其余文件继续" if job.review.lang == "zh"
           else f"{name}: the analysis process was {how_en}; this file was not finished, the others went on")
    return ReviewResult(job.path, error=msg, error_code="worker_died")


def run_pool(jobs: Sequence[_Job], workers: int, done: Callable[[int, ReviewResult], None]) -> None:
    """Run jobs on `workers` spawned processes; a worker that dies costs only its own file."""
    ctx = mp.get_context("spawn")
    queue = list(jobs)
    pool = [_Worker(ctx) for _ in range(min(workers, len(queue)))]
    try:
        for w in pool:
            w.give(queue.pop(0) if queue else None)
        while any(w.job is not None for w in pool):
            busy = [w for w in pool if w.job is not None]
            ready = set(wait([w.conn for w in busy] + [w.proc.sentinel for w in busy]))
            for slot, w in enumerate(pool):
                if w.job is None or not (w.conn in ready or w.proc.sentinel in ready):
                    continue
                job = w.job
                try:
                    if w.conn.poll():
                        index, res = w.conn.recv()
                        done(index, res)
                        w.give(queue.pop(0) if queue else None)
                        continue
                except (EOFError, OSError):
                    pass  # the pipe broke: the worker is gone
                w.proc.join(WORKER_STOP_S)
                logger.warning("review worker %s died (exit code %s) while analysing %s; starting another",
                               w.proc.pid, w.proc.exitcode, job.path)
                done(job.index, died_result(job, w.proc.exitcode))
                w.stop()
                pool[slot] = _Worker(ctx) if queue else w
                if pool[slot] is not w:
                    pool[slot].give(queue.pop(0))
                else:
                    w.job = None
    finally:
        for w in pool:
            w.stop()


def subfolder_names(paths: Sequence[Path]) -> list[str]:
    """One folder name per input: its stem (made safe), de-duplicated with the extension or a number."""
    names: list[str] = []
    seen: set[str] = set()
    for p in paths:
        stem = _UNSAFE.sub("_", p.stem).strip(" .") or "clip"
        name = stem
        if name.casefold() in seen:
            name = f"{stem}_{p.suffix.lstrip('.').lower()}" if p.suffix else stem
        n = 2
        while name.casefold() in seen:
            name = f"{stem}_{n}"
            n += 1
        seen.add(name.casefold())
        names.append(name)
    return names


def default_workers(n_files: int) -> int:
    return max(1, min(DEFAULT_MAX_WORKERS, n_files))


def _bar(total: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="drills", unit="video", file=sys.stderr)


DoneFn = Callable[[int, ReviewResult], None]


class Engine(Protocol):
    """Where the drills of a batch run: `run` calls `done(index, result)` once per job as each finishes.

    Every job ends as a result (a bad file or a lost worker is an error row); `run`
    raises `EngineError` only when the engine itself cannot start.
    """

    name: str

    def run(self, jobs: Sequence[_Job], done: DoneFn) -> None: ...


class EngineError(RuntimeError):
    """The engine cannot run (Ray missing, cluster unreachable). `str(e)` English, `message_zh` Chinese."""

    def __init__(self, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.message_zh = message_zh


class LocalEngine:
    """This computer: `workers` spawned processes (see `run_pool`), or in-process for one worker."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers

    def run(self, jobs: Sequence[_Job], done: DoneFn) -> None:
        workers = default_workers(len(jobs)) if self.workers is None else max(1, min(int(self.workers), len(jobs) or 1))
        if workers > 1:
            # Each review's OpenCV/x264 threads get a share of the cores, so workers do not fight.
            share = max(1, (os.cpu_count() or 1) // workers)
            jobs = [replace(j, review=replace(j.review, threads=share))
                    if j.review is not None and j.review.threads is None else j for j in jobs]
            run_pool(jobs, workers, done)
        else:
            for job in jobs:
                done(*_run_job(job))


def make_engine(name: str = "local", *, workers: int | None = None, address: str | None = None) -> Engine:
    """The engine called `name`: "local" (default, no extra packages) or "ray" (`posturecheck[ray]`)."""
    if name == "local":
        return LocalEngine(workers)
    if name == "ray":
        from .ray_engine import RayEngine

        return RayEngine(address, max_in_flight=workers)
    raise ValueError(f"unknown engine {name!r} (local or ray)")


def run_jobs(jobs: Sequence[_Job], engine: Engine, *, show_progress: bool | None = None,
             on_result: Callable[[ReviewResult], None] | None = None, in_order: bool = False) -> list[ReviewResult]:
    """Run jobs on an engine with the drills progress bar; results in input order.

    on_result hears of each result as it finishes, or in input order with `in_order`
    (a finished result then waits for the ones before it).
    """
    show = sys.stderr.isatty() if show_progress is None else show_progress
    bar = _bar(len(jobs), show)
    results: dict[int, ReviewResult] = {}
    order = [j.index for j in jobs]
    told = 0

    def done(i: int, res: ReviewResult) -> None:
        nonlocal told
        results[i] = res
        if bar is not None:
            bar.update(1)
        if on_result is None:
            return
        if not in_order:
            on_result(res)
            return
        while told < len(order) and order[told] in results:
            on_result(results[order[told]])
            told += 1

    try:
        engine.run(jobs, done)
    finally:
        if bar is not None:
            bar.close()
    return [results[j.index] for j in jobs]


def analyze_paths(paths: Sequence[str | Path], options: AnalyzeOptions | None = None,
                  review: ReviewOptions | None = None, *, engine: Engine | None = None,
                  show_progress: bool | None = None,
                  on_result: Callable[[ReviewResult], None] | None = None) -> list[ReviewResult]:
    """Analyse several files on an engine (no files written): one result with its JSON report each.

    on_result hears of the results in input order.
    """
    review = review or ReviewOptions()
    jobs = [_Job(i, str(p), None, options, review) for i, p in enumerate(paths)]
    return run_jobs(jobs, engine or LocalEngine(1), show_progress=show_progress, on_result=on_result,
                    in_order=True)


def review_one(path: str | Path, out_dir: str | Path, options: AnalyzeOptions | None = None,
               review: ReviewOptions | None = None, *, engine: Engine,
               show_progress: bool | None = None) -> ReviewResult:
    """One file's review outputs straight into `out_dir` (as `review_file`), run on `engine`."""
    job = _Job(0, str(path), str(out_dir), options, review or ReviewOptions())
    return run_jobs([job], engine, show_progress=show_progress)[0]


def review_paths(paths: Sequence[str | Path], out_dir: str | Path, options: AnalyzeOptions | None = None,
                 review: ReviewOptions | None = None, *, workers: int | None = None,
                 show_progress: bool | None = None,
                 on_result: Callable[[ReviewResult], None] | None = None,
                 engine: Engine | None = None) -> list[ReviewResult]:
    """Review several files: one subfolder each plus `summary.html` / `summary.csv` in `out_dir`.

    engine: where the drills run (default: `LocalEngine(workers)`, processes on this computer,
    min(2, number of files) by default); show_progress: tqdm bar on stderr (default: when
    stderr is a terminal). Results come back in input order.
    """
    review = review or ReviewOptions()
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    files = [Path(p) for p in paths]
    jobs = [_Job(i, str(p), str(root / name), options, review)
            for i, (p, name) in enumerate(zip(files, subfolder_names(files)))]
    ordered = run_jobs(jobs, engine or LocalEngine(workers), show_progress=show_progress, on_result=on_result)
    write_summary(ordered, root, review.lang)
    return ordered


def write_summary(results: Sequence[ReviewResult], root: str | Path, lang: str) -> tuple[Path, Path]:
    """summary.html and summary.csv of a folder review."""
    root = Path(root)
    rows = [r.summary_row(root) for r in results]
    csv_path = write_summary_csv(root / SUMMARY_CSV, rows)
    html_rows = [SummaryRow(r["file"], r["report"], r["activity"], r["score"], r["failed_titles"], r["duration_s"],
                            r["error"]) for r in rows]
    html_path = root / SUMMARY_HTML
    html_path.write_text(render_summary_html(html_rows, lang, root.name), encoding="utf-8")
    return html_path, csv_path
