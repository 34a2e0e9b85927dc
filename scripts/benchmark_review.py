"""Benchmark (not a test): speed of the trainer review outputs (`analyze --report`).

Usage: python scripts/benchmark_review.py [--model full|lite] [--lang zh|en] [--workers 2]

1. One video (vid_gait_normal_side.mp4): analysis, report generation (annotated video,
   tables, HTML) and the whole review, as seconds and as a multiple of real time
   (clip seconds reviewed per wall-clock second; > 1 = faster than real time).
2. A folder of four videos (the three dev videos + one of them again, linked into a
   temp dir) on `--workers` processes: wall time and throughput as a multiple of real
   time, against the same four reviewed one after the other in one process.
Reads ../shared/data/dev; writes only to a temp dir (deleted at the end). The machine
has 2 cores shared with others: run it on a quiet machine and say so with the numbers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from posturecheck.analyze import AnalyzeOptions
from posturecheck.annotate import find_cjk_font, pick_encoder
from posturecheck.batch import ReviewOptions, review_file, review_paths

DEV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dev"
VIDEOS = ("vid_gait_normal_side.mp4", "vid_gait_slouch_side_a.mp4", "vid_tfjs_squats_front.mp4")


def link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.symlink(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def one_video(tmp: Path, options: AnalyzeOptions, review: ReviewOptions) -> None:
    video = DEV / VIDEOS[0]
    res = review_file(video, tmp / "single", options, review)
    t = res.timings
    dur = float((res.report or {}).get("duration_s") or 0.0)
    report_s = t["data_s"] + t["render_s"] + t["html_s"]
    print(f"one video: {video.name}  ({dur:.1f} s of video, {res.report['frames_analyzed']} frames)")
    print(f"  analysis (decode + pose + rules):     {t['analyze_s']:7.2f} s   {dur / t['analyze_s']:6.2f} x real time")
    print(f"  report generation (all outputs):      {report_s:7.2f} s   {dur / report_s:6.2f} x real time")
    print(f"    annotated video (decode+draw+H.264): {t['render_s']:6.2f} s")
    print(f"    HTML (incl. font subset):            {t['html_s']:6.2f} s")
    print(f"    CSV/JSON tables:                     {t['data_s']:6.2f} s")
    print(f"  whole review:                         {t['total_s']:7.2f} s   {dur / t['total_s']:6.2f} x real time")


def folder(tmp: Path, options: AnalyzeOptions, review: ReviewOptions, workers: int) -> None:
    src = tmp / "drills"
    src.mkdir()
    names = list(VIDEOS) + [VIDEOS[0]]
    paths = []
    for i, name in enumerate(names):
        dst = src / f"{i + 1}_{name}"
        link_or_copy(DEV / name, dst)
        paths.append(dst)
    runs = {}
    for label, n in (("sequential (1 process)", 1), (f"parallel ({workers} workers)", workers)):
        t0 = time.perf_counter()
        results = review_paths(paths, tmp / f"out_{n}", options, review, workers=n, show_progress=False)
        runs[label] = (time.perf_counter() - t0, results)
    total = sum(float((r.report or {}).get("duration_s") or 0.0) for r in next(iter(runs.values()))[1])
    print(f"folder of {len(paths)} videos ({total:.1f} s of video):")
    for label, (wall, results) in runs.items():
        bad = sum(1 for r in results if r.error)
        print(f"  {label:26s} {wall:7.2f} s   {total / wall:6.2f} x real time" + (f"   ({bad} errors)" if bad else ""))
    seq, par = (w for w, _ in runs.values())
    print(f"  speed-up with {workers} workers: {seq / par:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="full")
    ap.add_argument("--lang", choices=("zh", "en"), default="zh")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    if not all((DEV / v).is_file() for v in VIDEOS):
        raise SystemExit(f"needs the dev videos in {DEV}")
    font = find_cjk_font()
    print(f"cores: {os.cpu_count()}  model: {args.model}  lang: {args.lang}  encoder: {pick_encoder()}  "
          f"font: {font.name if font else 'none'}  load: {os.getloadavg()[0]:.2f}")
    options = AnalyzeOptions(model=args.model)
    review = ReviewOptions(lang=args.lang)
    tmp = Path(tempfile.mkdtemp(prefix="posturecheck_bench_"))
    try:
        one_video(tmp, options, review)
        folder(tmp, options, review, args.workers)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
