"""Benchmark (not a test): cost of the hand stage per frame (posturecheck.hands).

Usage: python scripts/benchmark_hands.py [--repeat 30] [--cores 2] [--per-crop 2]

Frames are dev photos (../shared/data/dev) with the trainee's pose from
tests/fixtures/dev/*.json (the pose model's cost is not included). Cases:
two hands (both wrists cropped, a hand found on each), one hand (the same photos with the
right wrist marked unseen: one crop), hands clasped (two crops, each finding both hands),
no hand found (two crops, nothing on them: the palm detector alone). Each case is timed
`--repeat` times per photo after one warm-up call; prints median and 90th percentile in ms
per frame (wall clock, and CPU time of the process, all threads), and the machine's load average (numbers under load mean little).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path

import numpy as np

from posturecheck.hands import HandEstimator, HandEstimatorOptions
from posturecheck.landmarks import LM, PoseLandmarks
from posturecheck.sources import read_image

ROOT = Path(__file__).resolve().parents[1]
POSES = ROOT / "tests" / "fixtures" / "dev"
CASES = {
    "two hands": ("img_moore_man_red_jacket", "img_moore_woman_shorts", "img_uni_plaid_sunglasses"),
    "one hand": ("img_moore_man_red_jacket", "img_moore_woman_shorts", "img_uni_plaid_sunglasses"),
    "hands clasped": ("img_tfpose_bench_hands_clasped",),
    "no hand found": ("img_econ_coat_man", "img_h36m_directions_back"),
}


def _load(photo_id: str, hide_right: bool) -> tuple[np.ndarray, PoseLandmarks]:
    rec = json.loads((POSES / f"{photo_id}.json").read_text())
    pose = PoseLandmarks.from_dict(rec["landmarks"])
    if hide_right:
        vis = pose.visibility.copy()
        vis[LM.RIGHT_WRIST] = 0.0
        pose = dataclasses.replace(pose, visibility=vis)
    return read_image(ROOT.parent / rec["source"]), pose


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--per-crop", type=int, default=HandEstimatorOptions().num_hands_per_crop,
                    help="num_hands_per_crop")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cores])
    load_before = os.getloadavg()
    options = HandEstimatorOptions(num_hands_per_crop=args.per_crop)
    with HandEstimator(options) as est:
        for case, ids in CASES.items():
            times, cpu, found, crops = [], [], [], []
            for photo_id in ids:
                rgb, pose = _load(photo_id, hide_right=case == "one hand")
                est.detect(rgb, 0, pose)  # warm-up
                for _ in range(args.repeat):
                    t0, c0 = time.perf_counter(), time.process_time()
                    result = est.detect(rgb, 0, pose)
                    times.append((time.perf_counter() - t0) * 1000.0)
                    cpu.append((time.process_time() - c0) * 1000.0)
                found.append(sum(h is not None for h in (result.left, result.right)))
                crops.append(len(result.crops))
            print(f"{case:14s} median {np.median(times):6.1f} ms  p90 {np.percentile(times, 90):6.1f} ms  "
                  f"CPU median {np.median(cpu):6.1f} ms  (crops per frame {crops}, hands assigned {found}, {len(times)} runs)")
    print(f"num_hands_per_crop={args.per_crop}, cores={args.cores}; load average before "
          f"{load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
