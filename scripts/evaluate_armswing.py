"""Arm swing against exact truth: rendered walks from the left, the right and oblique views.

Usage:
    python scripts/evaluate_armswing.py                 # committed landmark fixtures (+ renders if present)
    python scripts/evaluate_armswing.py --extract       # (re)write the mirrored clip's landmark fixture
    python scripts/evaluate_armswing.py --renders DIR   # also every DIR/*.mp4 with a truth CSV beside it
    python scripts/evaluate_armswing.py --save-fixture az-90   # write that render's landmarks to the fixtures

Clips:
- left side: tests/fixtures/armswing/walk_g1.0_side.json, landmarks of
  ../shared/data/armswing_dev/walk_g1.0_side.mp4 (camera on the person's LEFT side);
  truth ../shared/data/armswing_dev/truth_g1.0.csv.
- right side: tests/fixtures/armswing/walk_g1.0_side_mirrored.json, landmarks of the same
  clip mirrored horizontally (cv2.flip at run time). A mirrored left-side view of a person
  is a right-side view of the mirrored person: MediaPipe labels the near arm RIGHT, and
  its truth is the left arm's column.
- renders: DIR/<name>.mp4 (default /work/renders/walks) with a truth CSV of the same
  format (matched by name; see `_truth_for`); landmarks are extracted with the project's
  pose stage (VIDEO mode) and cached beside this run in --cache.

Per stride it prints the measured forward/backward peak of each arm measured reliably
(the near arm), the truth's peak nearest in time, the error, the view and whether the
measurement answered `unknown`; then per clip the max |error|. Target: within
TARGET_DEG from either side; an oblique view within TARGET_DEG or `unknown`.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from posturecheck.landmarks import PoseLandmarks
from posturecheck.temporal import ArmMeasure, ArmSwing, measure_arm_swing

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "armswing_dev"
FIXTURES = ROOT / "tests" / "fixtures" / "armswing"
LEFT_FIXTURE = FIXTURES / "walk_g1.0_side.json"
MIRRORED_FIXTURE = FIXTURES / "walk_g1.0_side_mirrored.json"
DEV_VIDEO = SHARED / "walk_g1.0_side.mp4"
DEV_TRUTH = SHARED / "truth_g1.0.csv"
RENDERS = Path("/work/renders/walks")
CACHE = Path("/tmp/posturecheck_armswing_cache")

TARGET_DEG = 4.0
# A measured peak is paired with the truth peak nearest in time, within this share of a stride.
MATCH_FRACTION = 0.25
# Truth peaks: extrema of the per-frame truth over +/- this share of a stride.
TRUTH_PEAK_FRACTION = 0.3
DEFAULT_STRIDE_S = 1.0
MAX_SIDE = 1280
AZIMUTH_RE = re.compile(r"(?:azimuth|az)[_=]?([mp+-]?\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Truth:
    """Per-frame signed sagittal angles (+ forward) of each arm, frame i at t_s[i]."""

    t_s: np.ndarray
    left: np.ndarray
    right: np.ndarray

    def arm(self, side: str) -> np.ndarray:
        return self.left if side == "left" else self.right

    def swapped(self) -> Truth:
        """The truth of the mirrored person (left and right exchanged)."""
        return Truth(self.t_s, self.right, self.left)


@dataclass(frozen=True)
class Clip:
    name: str
    view: str  # what the camera sees: "left side", "right side", "azimuth 60", ...
    times_ms: list[int]
    landmarks: list[PoseLandmarks | None]
    truth: Truth


# --------------------------------------------------------------------------- loading


def read_truth(path: Path) -> Truth:
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    def col(key: str) -> np.ndarray:
        return np.array([float(r[key]) for r in rows])

    return Truth(col("t_s"), col("left_sagittal_deg"), col("right_sagittal_deg"))


def load_landmarks(path: Path) -> tuple[list[int], list[PoseLandmarks | None]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    times = [int(f["timestamp_ms"]) for f in data["frames"]]
    lms = [None if f["landmarks"] is None else PoseLandmarks.from_dict(f["landmarks"]) for f in data["frames"]]
    return times, lms


def extract(video: Path, mirror: bool, model: str = "full") -> dict:
    """Landmark fixture of a video (optionally mirrored) from the project's pose stage, VIDEO mode."""
    import cv2

    from posturecheck.pose import PoseEstimator, PoseEstimatorOptions
    from posturecheck.sources import VideoSource

    frames = []
    with VideoSource(video, max_side=MAX_SIDE) as src, \
            PoseEstimator(PoseEstimatorOptions(model=model, running_mode="video")) as est:
        fps = src.info.fps
        for fr in src:
            rgb = np.ascontiguousarray(cv2.flip(fr.rgb, 1)) if mirror else fr.rgb
            res = est.detect(rgb, fr.timestamp_ms)
            frames.append({"timestamp_ms": fr.timestamp_ms,
                           "landmarks": None if res.person is None else res.person.to_dict()})
    return {"fps": fps, "model": model, "frames": frames}


def write_mirrored_fixture() -> Path:
    fx = extract(DEV_VIDEO, mirror=True)
    fx = {"id": "walk_g1.0_side_mirrored",
          "source": "shared/data/armswing_dev/walk_g1.0_side.mp4 mirrored horizontally (cv2.flip(frame, 1))",
          **fx}
    MIRRORED_FIXTURE.write_text(json.dumps(fx, separators=(",", ":")), encoding="utf-8")
    return MIRRORED_FIXTURE


def _truth_for(video: Path) -> Path | None:
    """The truth CSV of a rendered clip: <stem>.csv, <stem>_truth.csv, truth_<stem>.csv or
    truth_<stem minus a 'walk_' prefix>.csv."""
    stem = video.stem
    bare = stem.removeprefix("walk_")
    for name in (f"{stem}.csv", f"{stem}_truth.csv", f"truth_{stem}.csv", f"truth_{bare}.csv", f"{bare}_truth.csv"):
        if (video.parent / name).is_file():
            return video.parent / name
    return None


def _view_of(name: str) -> str:
    m = AZIMUTH_RE.search(name)
    if m is None:
        return "render"
    return f"azimuth {int(m.group(1).lower().replace('m', '-').replace('p', ''))}"


def render_clips(folder: Path, cache: Path, save: tuple[str, ...] = ()) -> list[Clip]:
    """Clips of the rendered walks in `folder`; landmarks of those whose name contains one of
    `save` are also written to the test fixtures (landmarks only)."""
    clips = []
    cache.mkdir(parents=True, exist_ok=True)
    for video in sorted(folder.glob("*.mp4")):
        truth_path = _truth_for(video)
        if truth_path is None:
            print(f"# {video.name}: no truth CSV found, skipped", file=sys.stderr)
            continue
        cached = cache / f"{video.stem}.json"
        if not cached.is_file() or cached.stat().st_mtime < video.stat().st_mtime:
            cached.write_text(json.dumps(extract(video, mirror=False), separators=(",", ":")), encoding="utf-8")
        if any(key in video.stem for key in save):
            fx = {"id": video.stem, "source": f"{video.name} (corpus/render_walk.py), truth {truth_path.name}",
                  **json.loads(cached.read_text(encoding="utf-8"))}
            (FIXTURES / f"{video.stem}.json").write_text(json.dumps(fx, separators=(",", ":")), encoding="utf-8")
        times, lms = load_landmarks(cached)
        clips.append(Clip(video.stem, _view_of(video.stem), times, lms, read_truth(truth_path)))
    return clips


def dev_clips() -> list[Clip]:
    if not DEV_TRUTH.is_file():
        print(f"# {DEV_TRUTH} not found: no dev clips", file=sys.stderr)
        return []
    truth = read_truth(DEV_TRUTH)
    clips = []
    for path, view, t in ((LEFT_FIXTURE, "left side", truth), (MIRRORED_FIXTURE, "right side (mirrored)",
                                                                 truth.swapped())):
        if path.is_file():
            times, lms = load_landmarks(path)
            clips.append(Clip(path.stem, view, times, lms, t))
        else:
            print(f"# {path} missing (run with --extract)", file=sys.stderr)
    return clips


# --------------------------------------------------------------------------- scoring


def truth_peaks(t: np.ndarray, x: np.ndarray, stride_s: float, sign: int) -> list[tuple[float, float]]:
    """(time, value) of the truth's forward (sign +1) or backward (-1) peaks: samples that are
    the extremum within +/- TRUTH_PEAK_FRACTION of a stride."""
    half = TRUTH_PEAK_FRACTION * stride_s
    out = []
    for i in range(len(t)):
        win = (t >= t[i] - half) & (t <= t[i] + half)
        if sign * x[i] >= np.max(sign * x[win]) and (not out or t[i] - out[-1][0] > half):
            out.append((float(t[i]), float(x[i])))
    return out


def score_arm(arm: ArmMeasure, truth: np.ndarray, t_s: np.ndarray, stride_s: float
              ) -> list[tuple[str, float, float, float | None, float | None]]:
    """Rows (peak, time, measured, truth, error) for one arm; backward peaks signed (- back)."""
    rows = []
    for kind, sign, times, vals in (("forward", 1, arm.forward_t_s, arm.forward_deg),
                                    ("backward", -1, arm.backward_t_s, [-v for v in arm.backward_deg])):
        peaks = truth_peaks(t_s, truth, stride_s, sign)
        for t, v in zip(times, vals):
            best = min(peaks, key=lambda p: abs(p[0] - t)) if peaks else None
            if best is None or abs(best[0] - t) > MATCH_FRACTION * stride_s:
                rows.append((kind, t, v, None, None))
            else:
                rows.append((kind, t, v, best[1], v - best[1]))
    return rows


def evaluate(clip: Clip) -> dict:
    a: ArmSwing = measure_arm_swing(clip.times_ms, clip.landmarks)
    stride = a.stride_period_s or DEFAULT_STRIDE_S
    near = a.near_side
    print(f"\n== {clip.name}: camera sees the {clip.view}; measured view {a.view}, near arm {near}, "
          f"facing image-{a.facing}, stride {a.stride_period_s} s")
    errors: dict[str, list[float]] = {"forward": [], "backward": []}
    unknown = True
    for side in ("left", "right"):
        arm = getattr(a, side)
        if not arm.reliable:
            if side == near or near is None:
                print(f"  {side:5s} arm: unknown ({arm.reason})")
            continue
        unknown = False
        rows = score_arm(arm, clip.truth.arm(side), clip.truth.t_s, stride)
        print(f"  {side} arm (upper arm, deg; backward signed -):")
        print(f"    {'peak':8s} {'t_s':>6s} {'measured':>9s} {'truth':>7s} {'error':>7s}")
        for kind, t, v, tv, err in rows:
            tv_s = f"{tv:7.1f}" if tv is not None else "      -"
            err_s = f"{err:+7.1f}" if err is not None else "      -"
            print(f"    {kind:8s} {t:6.2f} {v:9.1f} {tv_s} {err_s}")
            if err is not None:
                errors[kind].append(err)
        print(f"    whole arm (shoulder->wrist) forward peaks: {arm.forward_arm_deg}")
    fwd, bwd = errors["forward"], errors["backward"]
    return {"name": clip.name, "view": clip.view, "measured_view": a.view, "unknown": unknown,
            "max_fwd": max((abs(e) for e in fwd), default=None), "max_bwd": max((abs(e) for e in bwd), default=None),
            "median_fwd": float(np.median(fwd)) if fwd else None, "strides": len(fwd)}


def _fmt(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "      -"
    return f"{x:+7.1f}" if signed else f"{x:7.1f}"


def _camera_kind(view: str) -> str:
    """"side", "front" or "oblique": what the camera truly sees (from the clip's name)."""
    m = re.match(r"azimuth (-?\d+)", view)
    if m is None:
        return "side" if "side" in view else "oblique"
    az = abs(int(m.group(1))) % 360
    az = min(az, 360 - az)
    if az in (0, 180):
        return "front"
    return "side" if az == 90 else "oblique"


def summarise(results: list[dict]) -> bool:
    print("\n== summary (upper arm, degrees)")
    print(f"  {'clip':34s} {'camera sees':22s} {'measured':9s} {'strides':>7s} {'med fwd':>7s} "
          f"{'max|fwd|':>8s} {'max|bwd|':>8s}  verdict")
    ok_all = True
    for r in results:
        kind = _camera_kind(r["view"])
        if r["unknown"]:
            ok = kind != "side"
            verdict = "unknown" + ("" if ok else " (a side view should be measured)")
        else:
            ok = (r["max_fwd"] or 0.0) <= TARGET_DEG and kind != "front"
            verdict = "within target" if ok else (f"forward error above {TARGET_DEG:g} deg" if kind != "front"
                                                  else "measured from the front")
        ok_all &= ok
        print(f"  {r['name']:34s} {r['view']:22s} {r['measured_view']:9s} {r['strides']:7d} "
              f"{_fmt(r['median_fwd'], True)} {_fmt(r['max_fwd']):>8s} {_fmt(r['max_bwd']):>8s}  {verdict}")
    return ok_all


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--extract", action="store_true", help="re-extract the mirrored dev clip's landmark fixture")
    ap.add_argument("--renders", type=Path, default=RENDERS, help="folder of rendered walks with truth CSVs")
    ap.add_argument("--cache", type=Path, default=CACHE, help="where render landmarks are cached")
    ap.add_argument("--save-fixture", action="append", default=[], metavar="NAME",
                    help="also write the landmarks of renders whose name contains NAME to tests/fixtures/armswing")
    args = ap.parse_args(argv)
    if args.extract:
        print(f"wrote {write_mirrored_fixture()}")
    clips = dev_clips()
    if args.renders.is_dir():
        clips += render_clips(args.renders, args.cache, tuple(args.save_fixture))
    else:
        print(f"# {args.renders} not found: renders skipped", file=sys.stderr)
    if not clips:
        print("no clips with truth found", file=sys.stderr)
        return 2
    return 0 if summarise([evaluate(c) for c in clips]) else 1


if __name__ == "__main__":
    sys.exit(main())
