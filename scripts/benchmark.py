"""Benchmark (not a test): end-to-end `analyze` speed against the model's own speed, and memory.

Usage: python scripts/benchmark.py [VIDEO] [--models lite,full] [--repeat 2] [--quick] [--no-review]

In ONE run on the same machine it prints:
1. floor fps: a minimal loop that only decodes the frames (same size as `analyze`) and runs
   the bundled PoseLandmarker in VIDEO mode, one pose per frame (the least the model needs);
2. end-to-end fps of `analyze_path` + the JSON report with every feature on (smoothing,
   every rule, the face stage, the over-time stage, noticing others), as the clip's frames per
   second (analyze runs the model at the profile's analysis rate, 20 fps), and the ratio to
   the floor, for each model (runs interleaved, best of `--repeat`, so load hits both alike);
   the same as CPU time per clip frame (all threads), which other processes' load disturbs less;
3. unless `--no-review`: scripts/benchmark_review.py's numbers (whole review of a 30 fps
   720p drill as a multiple of real time, a folder on 1 vs 2 workers, peak RSS of the
   review of a 1-minute and a 10-minute 1080p drill, each in a fresh process).

Without VIDEO a 30 s 960x540 clip is made with ffmpeg from a dev clip into a temp dir
(never into the repo). `--quick`: one model (full), one repeat, shorter clips.
The machine may be shared: the load average is printed; ratios measured in one run count.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mediapipe as mp

from posturecheck.analyze import AnalyzeOptions, analyze_path
from posturecheck.models import pose_model_path
from posturecheck.native import block_telemetry
from posturecheck.profile import load_profile
from posturecheck.report import to_json
from posturecheck.sources import VideoSource

HERE = Path(__file__).resolve().parent
DEV_CLIP = HERE.parents[0].parent / "shared" / "data" / "dev" / "vid_gait_normal_side.mp4"


def make_clip(out: Path, seconds: float, width: int, height: int, fps: int = 30, src: Path = DEV_CLIP) -> Path:
    """Loop a dev clip to `seconds` at `width`x`height`, `fps` (H.264) with ffmpeg."""
    if not src.is_file():
        raise SystemExit(f"needs the dev clip {src} (../shared/data/dev)")
    cmd = ["ffmpeg", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(src), "-t", f"{seconds:g}", "-an",
           "-vf", f"scale={width}:{height},fps={fps}", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "23",
           "-pix_fmt", "yuv420p", str(out)]
    subprocess.run(cmd, check=True)
    return out


def cpu_s() -> float:
    """CPU seconds used by this process so far (every thread, user + system)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def floor_fps(video: Path, model: str, max_side: int | None) -> tuple[float, int, float]:
    """Decode + PoseLandmarker (VIDEO mode, one pose) and nothing else: the model's own speed.

    Returns (fps, frames, CPU ms per frame)."""
    vision = mp.tasks.vision
    block_telemetry()
    c0 = cpu_s()
    t0 = time.perf_counter()
    opts = vision.PoseLandmarkerOptions(
        base_options=mp.tasks.BaseOptions(model_asset_path=str(pose_model_path(model))),
        running_mode=vision.RunningMode.VIDEO, num_poses=1)
    n = 0
    with vision.PoseLandmarker.create_from_options(opts) as lm, VideoSource(video, max_side=max_side) as src:
        for f in src:
            lm.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=f.rgb), f.timestamp_ms)
            n += 1
    return n / (time.perf_counter() - t0), n, 1000 * (cpu_s() - c0) / max(n, 1)


def end_to_end_fps(video: Path, options: AnalyzeOptions, clip_frames: int) -> tuple[float, int, float, dict]:
    """`analyze` as the CLI runs it (analysis + JSON report), every feature on.

    Speed is the clip's frames per wall-clock second (`clip_frames`, all decoded), so it compares
    with the floor, which runs the model on every frame; `analyze` runs it on the frames of the
    profile's analysis rate. Returns (clip fps, frames analysed, CPU ms per clip frame, timings)."""
    c0 = cpu_s()
    t0 = time.perf_counter()
    result = analyze_path(video, options)
    to_json(result, "en", options.standard)
    wall = time.perf_counter() - t0
    return clip_frames / wall, result.frames_analyzed, 1000 * (cpu_s() - c0) / max(clip_frames, 1), result.timings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("video", nargs="?", type=Path, default=None)
    ap.add_argument("--models", default="lite,full")
    ap.add_argument("--repeat", type=int, default=2, help="alternate floor/end-to-end runs, keep the best of each")
    ap.add_argument("--quick", action="store_true", help="full model only, one repeat, shorter clips")
    ap.add_argument("--no-review", action="store_true", help="skip the review/workers/memory part")
    args = ap.parse_args()
    models = ["full"] if args.quick else [m.strip() for m in args.models.split(",") if m.strip()]
    repeat = 1 if args.quick else max(1, args.repeat)
    tmp = Path(tempfile.mkdtemp(prefix="posturecheck_bench_"))
    try:
        video = args.video or make_clip(tmp / "clip_960x540.mp4", 10 if args.quick else 30, 960, 540)
        print(f"cores: {os.cpu_count()}  load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}  "
              f"python: {sys.version.split()[0]}  mediapipe: {mp.__version__}")
        print(f"== 1. model speed: {video.name}, every feature on (smoothing, all rules, face stage, over-time "
              f"stage, noticing others)")
        options = AnalyzeOptions()
        for model in models:
            opts = AnalyzeOptions(model=model, standard="men")  # --standard: the grooming rules are judged too
            floors, e2es, floor_cpu, e2e_cpu = [], [], [], []
            timings: dict = {}
            for _ in range(repeat):  # interleaved so that machine load hits both alike
                f, n, c = floor_fps(video, model, options.max_side)
                floors.append(f)
                floor_cpu.append(c)
                e, n2, c, timings = end_to_end_fps(video, opts, n)
                e2es.append(e)
                e2e_cpu.append(c)
            floor, e2e = max(floors), max(e2es)
            fc, ec = min(floor_cpu), min(e2e_cpu)
            print(f"  {model:4s}  clip frames {n} (analysed by analyze: {n2})   floor (decode + PoseLandmarker on "
                  f"every frame) {floor:6.1f} fps   end-to-end analyze {e2e:6.1f} fps   ratio {e2e / floor:5.3f}  "
                  f"(target >= 0.95)")
            print(f"        CPU per clip frame: floor {fc:6.2f} ms   end-to-end {ec:6.2f} ms   "
                  f"ratio floor/end-to-end {fc / ec:5.3f}  (CPU time: less sensitive to other processes' load)")
            if not args.quick:  # the same with every frame analysed: what the analysis rate buys
                every = AnalyzeOptions(model=model, standard="men",
                                       profile=dataclasses.replace(load_profile(), analysis_fps=None))
                e1, n3, c1, _ = end_to_end_fps(video, every, n)
                print(f"        every frame analysed (analysis_fps off, one run): {e1:6.1f} fps   ratio {e1 / floor:5.3f}"
                      f"   CPU {c1:6.2f} ms per frame   ratio {fc / c1:5.3f}")
            print("        wall time per analysed frame in each stage's thread (ms): " + "  ".join(
                f"{k[:-2]} {1000 * v / max(n2, 1):.2f}" for k, v in timings.items() if k.endswith("_s")))
        print(f"  peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB  "
              f"load average now: {os.getloadavg()[0]:.2f}")
        sys.stdout.flush()
        if not args.no_review:
            cmd = [sys.executable, str(HERE / "benchmark_review.py")] + (["--quick"] if args.quick else [])
            subprocess.run(cmd, check=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
