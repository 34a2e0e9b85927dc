"""Grooming and expression checks on real faces: agreement with labels, cross-validation, face counts.

Usage:
  python scripts/evaluate_grooming.py [--details] [--no-dev] [--write-fixtures]

1. ../shared/data/grooming_dev (64 labelled faces): runs pose + face the way `analyze` does
   (face model on a crop around the pose head, the whole frame as fallback), measures each
   face, and prints right / wrong / unknown per observation (smiling, bangs, ears_covered,
   beard, head turned) with the profile's limits. Then, per measurement, the leave-one-out
   cross-validated accuracy of a single threshold refitted on the other 63 faces: how well
   "one threshold" generalises to a face it was not chosen on (the profile's round limits
   were picked near the dev optimum, so the agreement above is optimistic; the CV is not).
2. ../shared/data/dev full-body photos: how many faces the face model finds on the whole
   frame and how many via the crop around the pose head.
3. --write-fixtures: tests/fixtures/face/<id>.json for a fixed subset of faces: mesh
   landmarks (pixels, rounded) and the labels the unit tests use. Landmarks only, no pixels.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Callable

import numpy as np

from posturecheck.face import FaceEstimator, FaceEstimatorOptions
from posturecheck.grooming import FaceFeatures, face_flags, grooming_verdicts, measure_face
from posturecheck.pose import PoseEstimator, PoseEstimatorOptions
from posturecheck.profile import load_profile
from posturecheck.rules import FAIL, UNKNOWN
from posturecheck.sources import read_image

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
GROOMING = SHARED / "grooming_dev"
DEV = SHARED / "dev"
FIXTURES = ROOT / "tests" / "fixtures" / "face"
MAX_SIDE = 1280  # as `analyze`
# Faces whose meshes are committed as fixtures: smiling / not, turned / not, both sources.
FIXTURE_IDS = ("celebahq_10583", "celebahq_12083", "celebahq_14761", "celebahq_23438", "celebahq_25916",
               "celebahq_16364", "celebahq_10849", "celebahq_15485", "celebahq_9205", "celebahq_19129",
               "deepface_img3", "deepface_img21", "deepface_img29", "deepface_img47", "deepface_img13",
               "celebahq_24869")
LABEL_FIELDS = ("male", "smiling", "bangs", "ears_covered", "beard", "head_turned_or_tilted")

# observation → (label field, prediction from one face's flags / eyes_forward verdict)
Predict = Callable[[dict[str, Any], str | None], bool | None]
OBSERVATIONS: tuple[tuple[str, str, Predict], ...] = (
    ("smiling", "smiling", lambda fl, eyes: fl["smiling"]),
    ("bangs", "bangs", lambda fl, eyes: fl["bangs"]),
    ("ears_covered", "ears_covered", lambda fl, eyes: fl["ears_covered"]),
    ("beard", "beard", lambda fl, eyes: fl["beard"]),
    ("head_turned", "head_turned_or_tilted", lambda fl, eyes: None if eyes in (None, UNKNOWN) else eyes == FAIL),
)
# measurement → (label field, larger value means the label is true?)
MEASUREMENTS: tuple[tuple[str, str, int], ...] = (
    ("smile_score", "smiling", +1),
    ("forehead_hair", "bangs", +1),
    ("ear_skin", "ears_covered", -1),
    ("beard", "beard", +1),
)


def detect_faces(items: list[dict], folder: Path) -> dict[str, tuple[Any, Any, str]]:
    """id → (FaceLandmarks | None via the analyze path, FaceLandmarks | None on the whole frame, pose found?)."""
    out = {}
    with PoseEstimator(PoseEstimatorOptions(model="full", running_mode="image", num_poses=5)) as pose_est, \
            FaceEstimator(FaceEstimatorOptions(running_mode="image")) as face_est, \
            FaceEstimator(FaceEstimatorOptions(running_mode="image", head_crop=False)) as whole_est:
        for item in items:
            rgb = read_image(folder / item["file"], max_side=MAX_SIDE)
            pose = pose_est.detect(rgb).person
            face = face_est.detect(rgb, 0, pose).face
            whole = whole_est.detect(rgb).face
            out[item["id"]] = (face, whole, "pose" if pose is not None else "no pose", rgb)
    return out


def _best_threshold(x: np.ndarray, y: np.ndarray) -> float:
    cands = np.unique(x)
    acc = [np.mean((x >= t) == y) for t in cands]
    return float(cands[int(np.argmax(acc))])


def loo_accuracy(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """(leave-one-out accuracy of a refitted threshold, threshold on all, its accuracy on all)."""
    ok = 0
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        ok += int((x[i] >= _best_threshold(x[keep], y[keep])) == y[i])
    t = _best_threshold(x, y)
    return ok / len(y), t, float(np.mean((x >= t) == y))


def grooming_dev(details: bool, write_fixtures: bool) -> None:
    profile = load_profile()
    items = json.loads((GROOMING / "labels.json").read_text(encoding="utf-8"))
    found = detect_faces(items, GROOMING)
    feats: dict[str, FaceFeatures | None] = {}
    counts = {name: {"right": 0, "wrong": 0, "unknown": 0} for name, *_ in OBSERVATIONS}
    for item in items:
        face, _, _, rgb = found[item["id"]]
        ff = measure_face(face, rgb) if face is not None else None
        feats[item["id"]] = ff
        flags = face_flags(profile, ff)
        eyes = next(v.status for v in grooming_verdicts(profile, ff) if v.rule_id == "grooming.eyes_forward")
        wrong = []
        for name, label_field, predict in OBSERVATIONS:
            truth = item.get(label_field)
            if truth is None:
                continue
            pred = predict(flags, eyes)
            key = "unknown" if pred is None else ("right" if pred == truth else "wrong")
            counts[name][key] += 1
            if key != "right":
                wrong.append(f"{name}={pred} (label {truth})")
        if details and (wrong or ff is None):
            desc = "no face" if ff is None else (f"yaw {ff.yaw_deg:.0f} pitch {ff.pitch_deg:.0f} roll {ff.roll_deg:.0f} "
                                                 f"smile {ff.smile_score} forehead {ff.forehead_hair} "
                                                 f"ear {ff.ear_skin} beard {ff.beard}")
            print(f"  {item['id']:18s} {desc}: {', '.join(wrong)}")
    n_found = sum(f is not None for f in feats.values())
    print(f"grooming_dev: face found on {n_found}/{len(items)} photos")
    print(f"{'observation':14s} {'right':>5s} {'wrong':>5s} {'unknown':>7s} {'agreement':>9s}")
    for name, c in counts.items():
        judged = c["right"] + c["wrong"]
        print(f"{name:14s} {c['right']:5d} {c['wrong']:5d} {c['unknown']:7d} {c['right'] / max(judged, 1):9.2f}")
    print("\nLeave-one-out CV of one threshold per measurement (refitted on the other faces):")
    print(f"{'measurement':14s} {'n':>3s} {'CV acc':>6s} {'all-data best':>13s} {'at':>7s} {'majority':>8s}")
    for attr, label_field, sign in MEASUREMENTS:
        pairs = [(getattr(f, attr), it[label_field]) for it in items
                 if (f := feats[it["id"]]) is not None and getattr(f, attr) is not None and it[label_field] is not None]
        x = sign * np.array([p[0] for p in pairs], dtype=float)
        y = np.array([p[1] for p in pairs], dtype=bool)
        cv, t, acc = loo_accuracy(x, y)
        majority = max(y.mean(), 1 - y.mean())
        print(f"{attr:14s} {len(y):3d} {cv:6.2f} {acc:13.2f} {sign * t:7.3f} {majority:8.2f}")
    if write_fixtures:
        FIXTURES.mkdir(parents=True, exist_ok=True)
        by_id = {it["id"]: it for it in items}
        for fid in FIXTURE_IDS:
            face = found[fid][0]
            if face is None:
                continue
            d = face.to_dict()
            d["points"] = np.round(face.points, 1).tolist()
            data = {"id": fid, "source": f"shared/data/grooming_dev/{by_id[fid]['file']}",
                    "labels": {k: by_id[fid].get(k) for k in LABEL_FIELDS}, "face": d}
            (FIXTURES / f"{fid}.json").write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
        print(f"\nwrote {len(FIXTURE_IDS)} fixtures to {FIXTURES}")


def dev_full_body() -> None:
    items = [it for it in json.loads((DEV / "labels.json").read_text(encoding="utf-8")) if it["kind"] == "image"]
    found = detect_faces(items, DEV)
    crop = sum(v[0] is not None for v in found.values())
    via_crop = sum(v[0] is not None and v[0].source == "head_crop" for v in found.values())
    whole = sum(v[1] is not None for v in found.values())
    poses = sum(v[2] == "pose" for v in found.values())
    print(f"\ndev full-body photos: {len(items)} photos, pose found on {poses}")
    print(f"  face found on the whole frame only: {whole}")
    print(f"  face found the analyze way (head crop, whole-frame fallback): {crop} ({via_crop} via the head crop)")
    for it in items:
        face, wh, pose, rgb = found[it["id"]]
        w = "-" if face is None else f"{face.width_px:.0f}px {face.source}"
        print(f"    {it['id']:32s} {rgb.shape[1]}x{rgb.shape[0]}  {pose:8s} face: {w:18s} whole frame: "
              f"{'yes' if wh is not None else 'no'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--details", action="store_true", help="print every face with a wrong or unknown observation")
    ap.add_argument("--no-dev", action="store_true", help="skip the full-body dev photos")
    ap.add_argument("--write-fixtures", action="store_true", help="write tests/fixtures/face/*.json")
    args = ap.parse_args()
    if not GROOMING.is_dir():
        raise SystemExit(f"{GROOMING} not found (shared/ must be beside the project)")
    grooming_dev(args.details, args.write_fixtures)
    if not args.no_dev and DEV.is_dir():
        dev_full_body()


if __name__ == "__main__":
    main()
