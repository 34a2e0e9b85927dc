"""Where the limits of `posturecheck.pose.check_skeleton` come from: its measures on the dev media.

Usage: python scripts/measure_consistency.py [--model full] [--groups]
Prints, per measure, the median / 95th percentile / maximum over the trainees of the
single-person photos (labels.json n_people == 1), the people found in group photos, and
every 3rd frame of the clips, next to the limit in posturecheck/pose.py. With --groups,
also people found vs n_people for every group photo. Reads ../shared/data/dev in place.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from posturecheck import pose
from posturecheck.pose import PoseEstimator, PoseEstimatorOptions, check_skeleton, skeleton_measures
from posturecheck.sources import open_source

DEV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dev"
LIMITS = {"fit_residual": pose.MAX_FIT_RESIDUAL, "scale_mismatch": pose.MAX_SCALE_MISMATCH,
          "segment_angle": pose.MAX_SEGMENT_ANGLE_DEG, "limb_asymmetry": pose.MAX_LIMB_ASYMMETRY}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="full")
    ap.add_argument("--groups", action="store_true", help="print people found vs n_people per group photo")
    args = ap.parse_args()
    labels = json.loads((DEV / "labels.json").read_text(encoding="utf-8"))
    measures: dict[str, list[dict[str, float]]] = {"single": [], "group": [], "clip": []}
    with PoseEstimator(PoseEstimatorOptions(model=args.model, running_mode="image", num_poses=5)) as est:
        for item in labels:
            if item["kind"] != "image":
                continue
            with open_source(DEV / item["file"], max_side=1280) as src:
                rgb = next(iter(src)).rgb
            t0, runs0 = time.perf_counter(), est.runs
            res = est.detect(rgb)
            dt, runs = time.perf_counter() - t0, est.runs - runs0
            people = [] if res.person is None else [res.person, *res.others]
            group = (item.get("n_people") or 1) > 1
            measures["group" if group else "single"] += [skeleton_measures(p) for p in people]
            if group and args.groups:
                ok = None if res.person is None else check_skeleton(res.person).ok
                print(f"{item['id']:32s} people {res.people_seen:2d} / {item['n_people']:2d}  "
                      f"trainee consistent {ok}  {runs:2d} landmarker runs  {dt:.2f} s")
    for item in labels:
        if item["kind"] != "video":
            continue
        with open_source(DEV / item["file"], max_side=1280) as src, \
                PoseEstimator(PoseEstimatorOptions(model=args.model, running_mode="video")) as est:
            for fr in src:
                res = est.detect(fr.rgb, fr.timestamp_ms)
                if fr.index % 3 == 0 and res.person is not None:
                    measures["clip"].append(skeleton_measures(res.person))
    for name, limit in LIMITS.items():
        print(f"{name} (limit {limit:g})")
        for group, rows in measures.items():
            vals = np.array([r[name] for r in rows if name in r])
            if vals.size:
                print(f"  {group:7s} n={vals.size:3d}  p50 {np.median(vals):7.3f}  p95 {np.percentile(vals, 95):7.3f}"
                      f"  max {vals.max():7.3f}")


if __name__ == "__main__":
    main()
