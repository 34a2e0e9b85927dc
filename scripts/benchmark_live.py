"""Benchmark the live pipeline (posturecheck.live.LiveProcessor) at 640x480.

Feeds decoded frames of a dev clip, resized to 640x480, the way the webcam does:
a producer thread hands a frame over every 1/fps seconds (`submit`, latest frame
wins) while the worker thread runs the model, the analyzer and the drill. Reports
processed fps, frame-to-verdict latency (frame handed over -> verdict in the
queue) and dropped frames, for the lite and the full model and num_poses 1 and 2.
Also the raw throughput (frames back to back, no pacing). Notes the machine load,
because numbers taken on a busy machine are not comparable.

    python scripts/benchmark_live.py [--clip PATH] [--seconds 15] [--models lite full] [--num-poses 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from posturecheck.live import LiveConfig, LiveProcessor, load_drills  # noqa: E402
from posturecheck.profile import load_profile  # noqa: E402

DEFAULT_CLIP = ROOT.parent / "shared" / "data" / "dev" / "vid_gait_normal_side.mp4"
SIZE = (640, 480)
WARMUP_S = 1.5


def load_frames(path: Path, size: tuple[int, int] = SIZE) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(cv2.resize(bgr, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB))
    cap.release()
    if not frames:
        raise SystemExit(f"could not decode {path}")
    return frames


def paced_run(frames: list[np.ndarray], model: str, num_poses: int, seconds: float, fps: float) -> dict:
    """Camera-like feed at `fps` for `seconds`; measures after a warm-up."""
    proc = LiveProcessor(LiveConfig(model=model, num_poses=num_poses), load_profile(), drill=load_drills()["auto"])
    proc.start()
    stop = threading.Event()

    def producer() -> None:
        i = 0
        t_next = time.monotonic()
        while not stop.is_set():
            proc.submit(frames[i % len(frames)])
            i += 1
            t_next += 1.0 / fps
            time.sleep(max(0.0, t_next - time.monotonic()))

    th = threading.Thread(target=producer, daemon=True)
    th.start()
    time.sleep(WARMUP_S)  # model creation and first frames
    proc.drain()
    seq0, dropped0, in0 = (proc._latest.seq if proc._latest else 0), proc.dropped, proc.frames_in
    latencies: list[float] = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        latencies += [r.latency_ms for r in proc.drain()]
        time.sleep(0.005)
    elapsed = time.monotonic() - t0
    latest = proc._latest
    stop.set()
    th.join()
    processed = (latest.seq if latest else 0) - seq0
    fed = proc.frames_in - in0
    dropped = proc.dropped - dropped0
    proc.stop()
    return {"model": model, "num_poses": num_poses, "fed_fps": round(fed / elapsed, 1),
            "processed_fps": round(processed / elapsed, 1), "dropped": dropped, "fed": fed,
            "latency_ms_p50": round(statistics.median(latencies), 1) if latencies else None,
            "latency_ms_p95": round(float(np.percentile(latencies, 95)), 1) if latencies else None}


def raw_throughput(frames: list[np.ndarray], model: str, num_poses: int, n: int) -> dict:
    proc = LiveProcessor(LiveConfig(model=model, num_poses=num_poses), load_profile())
    for f in frames[:10]:
        proc.process(f)
    t0 = time.perf_counter()
    for i in range(n):
        proc.process(frames[i % len(frames)])
    dt = time.perf_counter() - t0
    proc.stop()
    return {"model": model, "num_poses": num_poses, "raw_fps": round(n / dt, 1), "ms_per_frame": round(1000 * dt / n, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    ap.add_argument("--seconds", type=float, default=15.0, help="measured time per paced run")
    ap.add_argument("--fps", type=float, default=30.0, help="camera frame rate of the feed")
    ap.add_argument("--models", nargs="+", default=["lite", "full"])
    ap.add_argument("--num-poses", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--raw-frames", type=int, default=300)
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    if not args.clip.is_file():
        print(f"clip not found: {args.clip}", file=sys.stderr)
        return 2
    frames = load_frames(args.clip)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load_before = os.getloadavg()
    print(f"clip {args.clip.name}: {len(frames)} frames at {SIZE[0]}x{SIZE[1]}; {cores} cores; "
          f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    results = {"clip": args.clip.name, "cores": cores, "load_before": load_before, "paced": [], "raw": []}
    for model in args.models:
        for n in args.num_poses:
            raw = raw_throughput(frames, model, n, args.raw_frames)
            paced = paced_run(frames, model, n, args.seconds, args.fps)
            results["raw"].append(raw)
            results["paced"].append(paced)
            print(f"{model:5s} num_poses={n}: raw {raw['raw_fps']:5.1f} fps ({raw['ms_per_frame']:.1f} ms/frame); "
                  f"camera feed {paced['fed_fps']:.0f} fps -> processed {paced['processed_fps']:5.1f} fps, "
                  f"latency p50 {paced['latency_ms_p50']} ms p95 {paced['latency_ms_p95']} ms, "
                  f"dropped {paced['dropped']}/{paced['fed']}", flush=True)
    results["load_after"] = os.getloadavg()
    print(f"load average after {results['load_after'][0]:.2f} {results['load_after'][1]:.2f} "
          f"{results['load_after'][2]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
