"""Benchmark (not a test): speed and memory of the trainer's review (`analyze --report`).

Usage: python scripts/benchmark_review.py [--model full] [--lang zh|en] [--workers 2] [--quick]

1. One 30 fps 1280x720 drill (30 s; --quick 10 s): analysis, annotated H.264 video, HTML
   report and tables, as seconds and the whole review as a multiple of real time (clip
   seconds per wall-clock second; > 1 = faster than real time).
2. A folder of four drills (10 s 720p each; --quick 5 s) reviewed by one worker and by
   `--workers` worker processes: wall time, multiple of real time, speed-up.
3. Peak RSS of the whole review of a 1-minute and a 10-minute 1920x1080 drill, each in a
   fresh process (--quick: the 1-minute one only); 3b. the same with replayed landmarks on a
   blank video for 1 and 10 minutes (every frame kept, no pose model): growth per minute.
Clips are made with ffmpeg from a dev clip (../shared/data/dev) into a temp dir that is
deleted at the end; nothing is written into the repo. The machine may be shared: the load
average is printed with the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from benchmark import make_clip  # noqa: E402  (scripts/ is not a package)

from posturecheck.analyze import AnalyzeOptions  # noqa: E402
from posturecheck.annotate import find_cjk_font, pick_encoder  # noqa: E402
from posturecheck.batch import ReviewOptions, review_file, review_paths  # noqa: E402

# Run in a fresh process: one review, then its own peak RSS (MiB) as JSON on stdout's last line.
RSS_CHILD = """
import json, resource, sys, time
def peak_mib():
    # VmHWM: this program's own peak (ru_maxrss would carry the parent's size over fork + exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
from posturecheck.analyze import AnalyzeOptions
from posturecheck.batch import ReviewOptions, review_file
t0 = time.perf_counter()
res = review_file(sys.argv[1], sys.argv[2], AnalyzeOptions(model=sys.argv[3]), ReviewOptions(lang=sys.argv[4]))
print(json.dumps({"rss_mib": peak_mib(),
                  "wall_s": time.perf_counter() - t0, "frames": res.report["frames_analyzed"] if res.report else 0,
                  "error": res.error}))
"""


# Fresh process: the whole review of a `minutes`-long 30 fps drill whose landmarks are replayed
# (the dev walk's, looped) on a blank 64x48 video: everything kept per frame (records, face
# answers, tables, report) at full length, without the model's time. Peak RSS as JSON.
REPLAY_CHILD = """
import json, resource, sys
def peak_mib():
    # VmHWM: this program's own peak (ru_maxrss would carry the parent's size over fork + exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
from pathlib import Path
import cv2, numpy as np
from posturecheck.analyze import AnalyzeOptions, analyze_path
from posturecheck.batch import ReviewOptions, write_review
from posturecheck.landmarks import PoseLandmarks
from posturecheck.pose import ReplayEstimator
minutes, out, fixture = float(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
data = json.loads(fixture.read_text(encoding="utf-8"))
lms = [None if f["landmarks"] is None else PoseLandmarks.from_dict(f["landmarks"]) for f in data["frames"]]
out.mkdir(parents=True, exist_ok=True)
video = out / "blank.avi"
w = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (64, 48))
blank = np.zeros((48, 64, 3), np.uint8)
for _ in range(int(minutes * 60 * 30)):
    w.write(blank)
w.release()
analysis = analyze_path(video, AnalyzeOptions(), estimator=ReplayEstimator(lms, loop=True))
res = write_review(analysis, out / "review", ReviewOptions(lang="zh"))
print(json.dumps({"rss_mib": peak_mib(),
                  "frames": analysis.frames_analyzed, "error": res.error}))
"""
FIXTURE = HERE.parent / "tests" / "fixtures" / "dev_video" / "vid_gait_normal_side.json"


def replay_rss(minutes: float, tmp: Path) -> float:
    out = subprocess.run([sys.executable, "-c", REPLAY_CHILD, str(minutes), str(tmp / f"replay_{minutes:g}"),
                          str(FIXTURE)], check=True, capture_output=True, text=True)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"  {minutes:4g} min replayed: peak RSS {data['rss_mib']:7.1f} MiB   ({data['frames']} frames kept)")
    sys.stdout.flush()
    return float(data["rss_mib"])


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def one_video(video: Path, tmp: Path, options: AnalyzeOptions, review: ReviewOptions) -> None:
    res = review_file(video, tmp / "single", options, review)
    t = res.timings
    dur = float((res.report or {}).get("duration_s") or 0.0)
    report_s = t["data_s"] + t["render_s"] + t["html_s"]
    print(f"== 2a. whole review of one drill: {video.name} ({dur:.1f} s of 30 fps 1280x720 video, "
          f"{res.report['frames_analyzed']} frames analysed)  load: {load()}")
    print(f"  analysis (decode + pose + face + rules): {t['analyze_s']:7.2f} s   {dur / t['analyze_s']:6.2f} x real time")
    print(f"  review outputs (all):                     {report_s:7.2f} s")
    print(f"    annotated video (decode+draw+H.264):     {t['render_s']:6.2f} s")
    print(f"    HTML (incl. font subset):                {t['html_s']:6.2f} s")
    print(f"    CSV/JSON tables:                         {t['data_s']:6.2f} s")
    print(f"  whole review:                             {t['total_s']:7.2f} s   {dur / t['total_s']:6.2f} x real time"
          f"  (target >= 1.7)")
    sys.stdout.flush()


def folder(clips: list[Path], tmp: Path, options: AnalyzeOptions, review: ReviewOptions, workers: int) -> None:
    runs = {}
    for label, n in (("1 worker", 1), (f"{workers} workers", workers)):
        t0 = time.perf_counter()
        results = review_paths(clips, tmp / f"out_{n}", options, review, workers=n, show_progress=False)
        runs[label] = (time.perf_counter() - t0, results)
    total = sum(float((r.report or {}).get("duration_s") or 0.0) for r in next(iter(runs.values()))[1])
    print(f"== 2b. a folder of {len(clips)} drills ({total:.1f} s of 720p video)  load: {load()}")
    for label, (wall, results) in runs.items():
        bad = sum(1 for r in results if r.error)
        print(f"  {label:10s} {wall:7.2f} s   {total / wall:6.2f} x real time" + (f"   ({bad} errors)" if bad else ""))
    one, many = (w for w, _ in runs.values())
    print(f"  speed-up with {workers} workers: {one / many:.2f}x  (target >= 1.8)")
    sys.stdout.flush()


def peak_rss(video: Path, tmp: Path, model: str, lang: str, label: str) -> None:
    out = subprocess.run([sys.executable, "-c", RSS_CHILD, str(video), str(tmp / f"rss_{label}"), model, lang],
                         check=True, capture_output=True, text=True)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"  {label:10s} 1920x1080: peak RSS {data['rss_mib']:7.1f} MiB   ({data['frames']} frames analysed, "
          f"review {data['wall_s']:.0f} s{', ERROR ' + data['error'] if data['error'] else ''})  (target < 1024 MiB)")
    sys.stdout.flush()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="full")
    ap.add_argument("--lang", choices=("zh", "en"), default="zh")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="shorter clips; no 10-minute drill")
    ap.add_argument("--skip", default="", help="comma list of parts to skip: one,folder,rss,replay")
    args = ap.parse_args()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    font = find_cjk_font()
    print(f"cores: {os.cpu_count()}  model: {args.model}  lang: {args.lang}  encoder: {pick_encoder()}  "
          f"font: {font.name if font else 'none'}  load: {load()}")
    options = AnalyzeOptions(model=args.model)
    review = ReviewOptions(lang=args.lang)
    tmp = Path(tempfile.mkdtemp(prefix="posturecheck_bench_review_"))
    try:
        if "one" not in skip:
            one_video(make_clip(tmp / "drill_720p.mp4", 10 if args.quick else 30, 1280, 720), tmp, options, review)
        if "folder" not in skip:
            src = tmp / "drills"
            src.mkdir()
            clips = [make_clip(src / f"drill_{i + 1}.mp4", 5 if args.quick else 10, 1280, 720) for i in range(4)]
            folder(clips, tmp, options, review, args.workers)
        if "rss" not in skip:
            print(f"== 3. memory of the whole review (fresh process each)  load: {load()}")
            peak_rss(make_clip(tmp / "drill_1min.mp4", 60, 1920, 1080), tmp, args.model, args.lang, "1 minute")
            if not args.quick:
                peak_rss(make_clip(tmp / "drill_10min.mp4", 600, 1920, 1080), tmp, args.model, args.lang, "10 minutes")
        if "replay" not in skip:
            print(f"== 3b. growth with length: the whole review with replayed landmarks, every frame of a 30 fps "
                  f"drill kept (no pose model)  load: {load()}")
            a, b = replay_rss(1, tmp), replay_rss(10, tmp)
            print(f"  growth: {(b - a) / 9:.1f} MiB per minute of 30 fps video "
                  f"(so 10 minutes at the 20 fps analysis rate add about {(b - a) / 9 * 10 * 2 / 3:.0f} MiB "
                  f"to a 1-minute review)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
