"""Benchmark (not a test): end-to-end `analyze` speed vs raw MediaPipe on the same frames.

Usage: python scripts/benchmark.py [VIDEO] [--model full|lite] [--repeat 2]
Prints, measured in one run: end-to-end analyze fps (pose rules; and with the face
stage), raw `detect_for_video` fps on the same decoded frames, their ratio,
rule-engine (features + rules + session) time per frame, and peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import mediapipe as mp

from posturecheck.analyze import AnalyzeOptions, analyze_path
from posturecheck.models import pose_model_path
from posturecheck.sources import VideoSource

DEFAULT_VIDEO = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dev" / "vid_gait_normal_side.mp4"


def raw_fps(frames, model: str, num_poses: int) -> float:
    """MediaPipe alone: detect_for_video on already decoded frames."""
    vision = mp.tasks.vision
    opts = vision.PoseLandmarkerOptions(
        base_options=mp.tasks.BaseOptions(model_asset_path=str(pose_model_path(model))),
        running_mode=vision.RunningMode.VIDEO, num_poses=num_poses)
    with vision.PoseLandmarker.create_from_options(opts) as lm:
        t0 = time.perf_counter()
        for f in frames:
            lm.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=f.rgb), f.timestamp_ms)
        return len(frames) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("video", nargs="?", type=Path, default=DEFAULT_VIDEO)
    ap.add_argument("--model", default="full")
    ap.add_argument("--repeat", type=int, default=3, help="alternate raw/end-to-end runs this many times, keep the best of each")
    args = ap.parse_args()
    options = AnalyzeOptions(model=args.model, face=False)
    with_face = AnalyzeOptions(model=args.model, face=True)
    with VideoSource(args.video, max_side=options.max_side) as src:
        frames = list(src)
    raws, e2es, faces, rules_ms = [], [], [], []
    for _ in range(args.repeat):  # interleaved so that machine load hits all three alike
        raws.append(raw_fps(frames, args.model, options.num_poses))
        t0 = time.perf_counter()
        result = analyze_path(args.video, options)
        e2es.append(result.frames_analyzed / (time.perf_counter() - t0))
        rules_ms.append(1000.0 * result.timings["rules_s"] / result.frames_analyzed)
        t0 = time.perf_counter()
        result_face = analyze_path(args.video, with_face)
        faces.append(result_face.frames_analyzed / (time.perf_counter() - t0))
    raw, e2e, e2e_face = max(raws), max(e2es), max(faces)
    h, w = frames[0].rgb.shape[:2]
    print(f"video: {args.video.name}  frames: {len(frames)}  size: {w}x{h}  model: {args.model}  num_poses: {options.num_poses}")
    print(f"raw detect_for_video fps:        {raw:8.1f}")
    print(f"end-to-end analyze fps:          {e2e:8.1f}  (decode + pose + features + rules + session, --no-face)")
    print(f"ratio end-to-end / raw:          {e2e / raw:8.3f}  (target >= 0.9)")
    print(f"with face checks (10 Hz) fps:    {e2e_face:8.1f}  ratio to raw pose: {e2e_face / raw:.3f}")
    print(f"rule engine per frame (ms):      {min(rules_ms):8.3f}  (features + activity + rules + session)")
    print(f"peak RSS (MiB):                  {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:8.1f}")


if __name__ == "__main__":
    main()
