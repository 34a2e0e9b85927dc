"""Extract landmark fixtures from the dev media in ../shared (landmarks only, no pixels).

Usage: python scripts/extract_fixtures.py [--model full] [--videos]
Writes tests/fixtures/dev/<id>.json (photos: every detected person, the chosen trainee first)
and, with --videos, tests/fixtures/dev_video/<id>.json (per-frame trainee landmarks).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from posturecheck.pose import PoseEstimator, PoseEstimatorOptions
from posturecheck.sources import VideoSource, read_image

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "data" / "dev"


def photo_fixture(est: PoseEstimator, item: dict) -> dict:
    rgb = read_image(DEV / item["file"])
    res = est.detect(rgb)
    people = [] if res.person is None else [res.person, *res.others]
    return {
        "id": item["id"], "source": f"shared/data/dev/{item['file']}", "model": est.model_path.name,
        "people_seen": res.people_seen,
        "landmarks": None if res.person is None else res.person.to_dict(),
        "others": [p.to_dict() for p in people[1:]],
    }


def video_fixture(model: str, item: dict, max_side: int) -> dict:
    frames = []
    with VideoSource(DEV / item["file"], max_side=max_side) as src, \
            PoseEstimator(PoseEstimatorOptions(model=model, running_mode="video")) as est:
        fps = src.info.fps
        for fr in src:
            res = est.detect(fr.rgb, fr.timestamp_ms)
            frames.append({"index": fr.index, "timestamp_ms": fr.timestamp_ms, "people_seen": res.people_seen,
                           "landmarks": None if res.person is None else res.person.to_dict()})
    return {"id": item["id"], "source": f"shared/data/dev/{item['file']}", "model": model, "fps": fps, "frames": frames}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="full")
    ap.add_argument("--videos", action="store_true")
    ap.add_argument("--max-side", type=int, default=1280)
    args = ap.parse_args()
    labels = json.loads((DEV / "labels.json").read_text(encoding="utf-8"))
    out = ROOT / "tests" / "fixtures" / "dev"
    out.mkdir(parents=True, exist_ok=True)
    with PoseEstimator(PoseEstimatorOptions(model=args.model, running_mode="image", num_poses=5)) as est:
        for item in labels:
            if item["kind"] != "image":
                continue
            fx = photo_fixture(est, item)
            (out / f"{item['id']}.json").write_text(json.dumps(fx, separators=(",", ":")), encoding="utf-8")
            print(item["id"], "people_seen", fx["people_seen"])
    if args.videos:
        vout = ROOT / "tests" / "fixtures" / "dev_video"
        vout.mkdir(parents=True, exist_ok=True)
        for item in labels:
            if item["kind"] == "video":
                fx = video_fixture(args.model, item, args.max_side)
                (vout / f"{item['id']}.json").write_text(json.dumps(fx, separators=(",", ":")), encoding="utf-8")
                print(item["id"], "frames", len(fx["frames"]))


if __name__ == "__main__":
    main()
