"""Record hand fixtures (tests/fixtures/hands/*.json) from dev photos: no pixels, only landmarks.

Usage: python scripts/record_hand_fixtures.py [NAME ...]

For each fixture (default: all in FIXTURES below: a dev photo ID and option overrides) the
trainee's pose landmarks are taken from tests/fixtures/dev/ID.json (scripts/extract_dev_landmarks.py), the hand stage
(posturecheck.hands, default options but the overrides) runs on the photo in ../shared/data/dev, and the
fixture stores: the pose, the crops, what the model returned on each crop (21 points
normalised to the crop, world points, handedness) and the resulting hands in frame
pixels. tests/test_hands.py replays the crops through the crop/assignment logic without
the model; tests/test_hand_model.py checks the model still gives these points.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from posturecheck.hands import HandEstimator, HandsResult, locate_hands
from posturecheck.landmarks import PoseLandmarks
from posturecheck.sources import read_image

ROOT = Path(__file__).resolve().parents[1]
POSES = ROOT / "tests" / "fixtures" / "dev"
OUT = ROOT / "tests" / "fixtures" / "hands"
# name -> (photo ID, option overrides). Two hands apart; hands clasped (one crop for both
# wrists), and the same with a crop per wrist (each sees both hands); one hand only (the other
# gloved); one wrist out of sight (a single crop) with bystanders; a hand holding a bag.
FIXTURES = {
    "img_moore_man_red_jacket": ("img_moore_man_red_jacket", {}),
    "img_tfpose_bench_hands_clasped": ("img_tfpose_bench_hands_clasped", {}),
    "img_tfpose_bench_hands_clasped_separate_crops": ("img_tfpose_bench_hands_clasped",
                                                      {"merge_crop_overlap": 2.0}),
    "img_cnet_walk_front": ("img_cnet_walk_front", {}),
    "img_openpose_wii_standing": ("img_openpose_wii_standing", {}),
    "img_mgd_black_dress": ("img_mgd_black_dress", {}),
}


def _hand(result: HandsResult, side: str) -> dict | None:
    hand = result.side(side)
    if hand is None:
        return None
    return {"points": [[round(v, 2) for v in p] for p in hand.points.tolist()],
            "handedness": hand.handedness, "crop_side": hand.crop.side}


def record(photo_id: str, overrides: dict, estimator: HandEstimator) -> dict:
    pose_rec = json.loads((POSES / f"{photo_id}.json").read_text())
    pose = PoseLandmarks.from_dict(pose_rec["landmarks"])
    source = ROOT.parent / pose_rec["source"]
    rgb = read_image(source)
    h, w = rgb.shape[:2]
    if (w, h) != pose.image_size:
        raise SystemExit(f"{photo_id}: photo is {w}x{h}, pose fixture {pose.image_size}")
    seen: list[dict] = []

    def run(crop):
        hands = estimator.run_crop(rgb, crop)
        seen.append({"crop": crop.to_dict(), "hands": [hd.to_dict() for hd in hands]})
        return hands

    options = dataclasses.replace(estimator.options, **overrides)
    result = locate_hands((w, h), pose, run, options)
    return {"id": photo_id, "source": pose_rec["source"], "model": "hand_landmarker.task",
            "options": overrides, "pose": pose_rec["landmarks"], "crops": seen,
            "hands_seen": result.hands_seen,
            "left": _hand(result, "left"), "right": _hand(result, "right")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("names", nargs="*", default=list(FIXTURES), help=f"any of {', '.join(FIXTURES)}")
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in FIXTURES]
    if unknown:
        parser.error(f"unknown fixture(s) {unknown}; known: {', '.join(FIXTURES)}")
    OUT.mkdir(parents=True, exist_ok=True)
    with HandEstimator() as estimator:
        for name in args.names:
            rec = record(*FIXTURES[name], estimator)
            (OUT / f"{name}.json").write_text(json.dumps(rec, indent=1) + "\n")
            print(f"{name}: left={'yes' if rec['left'] else 'no'} right={'yes' if rec['right'] else 'no'} "
                  f"hands_seen={rec['hands_seen']} crops={len(rec['crops'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
