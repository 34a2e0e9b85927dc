"""Benchmark (not a test): cost of the face stage per frame, and the live pipeline's fps.

Usage: python scripts/benchmark_face.py [--video PATH] [--frames 150] [--cores 2] [--repeat 2]

Frames: live-sized (long side 640, as posturecheck.live) from a video, or by default the
upper-body press photos of ../shared/data/grooming_dev held for 1 s each with a small
per-frame shift (30 fps timestamps). The process is pinned to `--cores` CPUs.

Prints, per frame: pose (lite, VIDEO) alone; the face model on the head crop (VIDEO, no
hair); the whole face stage per face as live practice runs it (face model + one hair-model
run) and as analyze runs it (the hair model on the crop and its mirror); one hair-model run; measure_face (head pose, smile, gaze, colour and hair
regions) per fresh face; grooming verdicts;
then the whole live loop (lite pose + face + FrameAnalyzer with grooming) in fps with the
face model on every frame and at lower rates (the answer held up to 0.5 s), and the
machine's load average before and after (numbers under load mean little).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import cv2
import numpy as np

from posturecheck.analyze import FACE_HOLD_MS, FrameAnalyzer
from posturecheck.face import FaceEstimator, FaceEstimatorOptions, FaceSampler
from posturecheck.grooming import grooming_verdicts, measure_face_result
from posturecheck.hair import HairSegmenter
from posturecheck.pose import PoseEstimator, PoseEstimatorOptions
from posturecheck.profile import load_profile
from posturecheck.sources import VideoSource, read_image

GROOMING = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "grooming_dev"
LIVE_MAX_SIDE = 640
FPS = 30.0
TARGET_FPS = 25.0


def _fit(rgb: np.ndarray, max_side: int = LIVE_MAX_SIDE) -> np.ndarray:
    h, w = rgb.shape[:2]
    s = max_side / max(h, w)
    return cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA) if s < 1 else rgb


def make_frames(video: Path | None, n: int) -> list[np.ndarray]:
    if video is not None:
        with VideoSource(video, max_side=LIVE_MAX_SIDE) as src:
            return [f.rgb for _, f in zip(range(n), src)]
    photos = [_fit(read_image(p)) for p in sorted(GROOMING.glob("deepface_*.jpg"))]
    if not photos:
        raise SystemExit(f"no photos in {GROOMING}; pass --video")
    frames = []
    for i in range(n):
        base = photos[(i // int(FPS)) % len(photos)]
        shift = np.float32([[1, 0, (i % 10) - 5], [0, 1, 0]])
        frames.append(cv2.warpAffine(base, shift, (base.shape[1], base.shape[0]), borderMode=cv2.BORDER_REPLICATE))
    return frames


def ts(i: int) -> int:
    return int(round(i * 1000.0 / FPS))


def stage_costs(frames: list[np.ndarray]) -> dict[str, float]:
    """ms per frame of each stage, run separately."""
    profile = load_profile()
    out: dict[str, float] = {}
    with PoseEstimator(PoseEstimatorOptions(model="lite", running_mode="video")) as pose_est:
        t0 = time.perf_counter()
        poses = [pose_est.detect(f, ts(i)).person for i, f in enumerate(frames)]
        out["pose lite"] = 1000 * (time.perf_counter() - t0) / len(frames)
    with FaceEstimator(FaceEstimatorOptions(running_mode="video", hair=False)) as face_est:
        t0 = time.perf_counter()
        faces = [face_est.detect(f, ts(i), p).face for i, (f, p) in enumerate(zip(frames, poses))]
        out["face model (head crop)"] = 1000 * (time.perf_counter() - t0) / len(frames)
    with FaceEstimator(FaceEstimatorOptions(running_mode="video", hair_flip_average=False)) as face_est:
        t0 = time.perf_counter()
        results = [face_est.detect(f, ts(i), p) for i, (f, p) in enumerate(zip(frames, poses))]
        n_faces = max(1, sum(r.face is not None for r in results))
        out["face stage/face (live)"] = 1000 * (time.perf_counter() - t0) / n_faces
    with FaceEstimator(FaceEstimatorOptions(running_mode="video")) as face_est:
        t0 = time.perf_counter()
        results = [face_est.detect(f, ts(i), p) for i, (f, p) in enumerate(zip(frames, poses))]
        n_faces = max(1, sum(r.face is not None for r in results))
        out["face stage/face (analyze)"] = 1000 * (time.perf_counter() - t0) / n_faces
    with HairSegmenter(flip_average=False) as seg:
        pairs = [(f, r.face) for f, r in zip(frames, results) if r.face is not None]
        if pairs:
            t0 = time.perf_counter()
            for f, face in pairs:
                seg.segment(f, face)
            out["hair model run per face"] = 1000 * (time.perf_counter() - t0) / len(pairs)
    found = [(f, r) for f, r in zip(frames, results) if r.face is not None]
    out["faces found"] = float(len(found))
    if found:
        t0 = time.perf_counter()
        feats = [measure_face_result(r, f) for f, r in found]
        out["measure_face"] = 1000 * (time.perf_counter() - t0) / len(found)
        t0 = time.perf_counter()
        for ff in feats:
            grooming_verdicts(profile, ff, standard="men")
        out["grooming verdicts"] = 1000 * (time.perf_counter() - t0) / len(feats)
    return out


def live_fps(frames: list[np.ndarray], interval_ms: int | None) -> tuple[float, int]:
    """fps of lite pose + (face every `interval_ms`, None = no face) + FrameAnalyzer, and face runs."""
    profile = load_profile()
    analyzer = FrameAnalyzer(profile, grooming=interval_ms is not None)
    with PoseEstimator(PoseEstimatorOptions(model="lite", running_mode="video")) as pose_est, \
            FaceEstimator(FaceEstimatorOptions(running_mode="video", hair_flip_average=False)) as face_est:
        sampler = FaceSampler(face_est, interval_ms=interval_ms or 0, hold_ms=FACE_HOLD_MS)
        t0 = time.perf_counter()
        for i, rgb in enumerate(frames):
            res = pose_est.detect(rgb, ts(i))
            face = None
            if interval_ms is not None:
                _, face = sampler.step(rgb, ts(i), res.person, measure=measure_face_result)
            analyzer.process(res, i, face=face)
        return len(frames) / (time.perf_counter() - t0), sampler.runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--video", type=Path)
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2, help="keep the best of this many runs")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))[: args.cores]
        os.sched_setaffinity(0, cpus)
        print(f"pinned to CPUs {cpus}")
    load_before = os.getloadavg()
    frames = make_frames(args.video, args.frames)
    h, w = frames[0].shape[:2]
    print(f"frames: {len(frames)} at {w}x{h}, {FPS:.0f} fps timestamps")
    costs = [stage_costs(frames) for _ in range(args.repeat)]
    print("per frame (best of runs):")
    for key in costs[0]:
        if key == "faces found":
            print(f"  faces found: {int(costs[0][key])}/{len(frames)}")
        else:
            print(f"  {key:26s} {min(c.get(key, float('nan')) for c in costs):7.2f} ms")
    print("live loop (lite pose + face + FrameAnalyzer with grooming):")
    for label, interval in (("pose only, no face", None), ("face every frame", 0), ("face at 10 Hz", 100),
                            ("face at 5 Hz", 200)):
        runs = [live_fps(frames, interval) for _ in range(args.repeat)]
        fps, face_runs = max(runs)
        flag = "ok" if fps >= TARGET_FPS else f"below {TARGET_FPS:.0f}"
        print(f"  {label:22s} {fps:6.1f} fps  (face model runs: {face_runs})  {flag}")
    print(f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f} "
          f"(on {os.cpu_count()} CPUs; other work on the machine lowers these numbers)")


if __name__ == "__main__":
    main()
