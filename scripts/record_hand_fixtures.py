"""Record hand fixtures (tests/fixtures/hands/*.json) from dev photos: no pixels, only landmarks.

Usage: python scripts/record_hand_fixtures.py [ID ...]

For each dev photo ID (default: the list below) the trainee's pose landmarks are taken
from tests/fixtures/dev/ID.json (scripts/extract_dev_landmarks.py), the hand stage
(posturecheck.hands, default options) runs on the photo in ../shared/data/dev, and the
fixture stores: the pose, the crops, what the model returned on each crop (21 points
normalised to the crop, world points, handedness) and the resulting hands in frame
pixels. tests/test_hands.py replays the crops through the crop/assignment logic without
the model; tests/test_hand_model.py checks the model still gives these points.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from posturecheck.hands import HandEstimator, HandsResult, locate_hands
from posturecheck.landmarks import PoseLandmarks
from posturecheck.sources import read_image

ROOT = Path(__file__).resolve().parents[1]
POSES = ROOT / "tests" / "fixtures" / "dev"
OUT = ROOT / "tests" / "fixtures" / "hands"
# Two hands apart, hands clasped (both crops see both hands), one hand only (the other
# gloved), one wrist out of sight (a single crop) with bystanders, a hand holding a bag.
DEFAULT_IDS = ("img_moore_man_red_jacket", "img_tfpose_bench_hands_clasped", "img_cnet_walk_front",
               "img_openpose_wii_standing", "img_mgd_black_dress")


def _hand(result: HandsResult, side: str) -> dict | None:
    hand = result.side(side)
    if hand is None:
        return None
    return {"points": [[round(v, 2) for v in p] for p in hand.points.tolist()],
            "handedness": hand.handedness, "crop_side": hand.crop.side}


def record(photo_id: str, estimator: HandEstimator) -> dict:
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

    result = locate_hands((w, h), pose, run, estimator.options)
    return {"id": photo_id, "source": pose_rec["source"], "model": "hand_landmarker.task",
            "pose": pose_rec["landmarks"], "crops": seen,
            "hands_seen": result.hands_seen,
            "left": _hand(result, "left"), "right": _hand(result, "right")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("ids", nargs="*", default=list(DEFAULT_IDS))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with HandEstimator() as estimator:
        for photo_id in args.ids:
            rec = record(photo_id, estimator)
            (OUT / f"{photo_id}.json").write_text(json.dumps(rec, indent=1) + "\n")
            print(f"{photo_id}: left={'yes' if rec['left'] else 'no'} right={'yes' if rec['right'] else 'no'} "
                  f"hands_seen={rec['hands_seen']} crops={len(rec['crops'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
