"""Extract the trainee's landmarks from every dev item into one compact file (no pixels).

Usage: python scripts/extract_dev_landmarks.py [--model full] [--out tests/fixtures/dev_landmarks.npz]

Photos: the pose stage in IMAGE mode (the trainee it picks). Videos: the trainee at
three evenly spaced frames (VIDEO mode). The dev labels each item carries are kept
beside the landmarks so that tests and quick classifier checks run without
../shared (landmarks and labels are derived data; the media stay in ../shared).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from posturecheck.pose import PoseEstimator, PoseEstimatorOptions
from posturecheck.sources import VideoSource, read_image

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "data" / "dev"
LABEL_KEYS = ("id", "source_repo", "kind", "n_people", "activity", "view", "full_body_visible", "arms_crossed",
              "hands_on_hips", "hands_in_pockets", "hands_behind_back", "hands_clasped_front", "arms_hanging",
              "legs_crossed", "feet_v_or_together", "feet_apart_wide", "leaning_or_slouching",
              "head_tilted_or_turned")
VIDEO_SAMPLES = 3


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="full")
    ap.add_argument("--dev", type=Path, default=DEV)
    ap.add_argument("--out", type=Path, default=ROOT / "tests" / "fixtures" / "dev_landmarks.npz")
    args = ap.parse_args()
    labels = json.loads((args.dev / "labels.json").read_text(encoding="utf-8"))
    rows: list[dict] = []
    arrays: dict[str, list] = {"image": [], "world": [], "visibility": [], "presence": [], "image_size": [],
                               "found": []}

    def add(item: dict, lm, frame: int | None) -> None:
        meta = {k: item.get(k) for k in LABEL_KEYS}
        meta["frame"] = frame
        rows.append(meta)
        arrays["found"].append(lm is not None)
        if lm is None:
            arrays["image"].append(np.full((33, 3), np.nan))
            arrays["world"].append(np.full((33, 3), np.nan))
            arrays["visibility"].append(np.zeros(33))
            arrays["presence"].append(np.zeros(33))
            arrays["image_size"].append((0, 0))
            return
        arrays["image"].append(lm.image)
        arrays["world"].append(lm.world if lm.world is not None else np.full((33, 3), np.nan))
        arrays["visibility"].append(lm.visibility)
        arrays["presence"].append(lm.presence)
        arrays["image_size"].append(lm.image_size)

    with PoseEstimator(PoseEstimatorOptions(model=args.model, running_mode="image")) as est:
        for item in labels:
            if item["kind"] == "image":
                add(item, est.detect(read_image(args.dev / item["file"])).person, None)
    for item in labels:
        if item["kind"] != "video":
            continue
        with VideoSource(args.dev / item["file"], max_side=1280) as src, \
                PoseEstimator(PoseEstimatorOptions(model=args.model, running_mode="video")) as vest:
            results = [(fr.index, vest.detect(fr.rgb, fr.timestamp_ms).person) for fr in src]
        picks = np.linspace(0, len(results) - 1, VIDEO_SAMPLES + 2)[1:-1].round().astype(int)
        for i in picks:
            add(item, results[i][1], int(results[i][0]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out, meta=np.array(json.dumps(rows)),
        image=np.array(arrays["image"], dtype=np.float32), world=np.array(arrays["world"], dtype=np.float32),
        visibility=np.array(arrays["visibility"], dtype=np.float32),
        presence=np.array(arrays["presence"], dtype=np.float32),
        image_size=np.array(arrays["image_size"], dtype=np.int32), found=np.array(arrays["found"], dtype=bool))
    print(f"{len(rows)} rows ({sum(arrays['found'])} with a person) -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
