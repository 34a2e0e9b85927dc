"""Train the shipped posture classifiers from the rendered corpus's landmarks.

Usage: python scripts/train_classifiers.py [--corpus corpus/data/landmarks_full.npz]
                                           [--out posturecheck/models/posture_classifiers.npz]

Reproduces `posturecheck/models/posture_classifiers.npz` from the committed
corpus landmarks (no renders or assets needed). Real photos are never used for
fitting: the dev set stays out-of-sample for scripts/evaluate_dev.py.

1. Every found render becomes a pose vector (posturecheck.learned.pose_vector)
   and its mirror image (left/right swapped) with mirrored labels.
2. Held-out figures: 3 folds grouped by character (a character never appears in
   both train and test); per task precision/recall/F1 per class and accuracy are
   printed from those out-of-fold predictions.
3. Calibration: one temperature per task, fitted on the out-of-fold logits
   (minimum log-loss), so probabilities mean what they say on unseen bodies.
4. The final networks (ENSEMBLE seeds per task, mean logits) are fitted on every
   render and saved with the temperatures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from posturecheck.landmarks import PoseLandmarks  # noqa: E402
from posturecheck.learned import Classifier, mirror, pose_vector, save_classifiers  # noqa: E402
from posturecheck.registry import FEET_STANCES, HAND_PLACES  # noqa: E402

ACTIVITIES = ("standing", "sitting", "walking")
SEED = 20261201
HIDDEN = (128, 64)
ALPHA = 1e-2           # L2 penalty: renders are cleaner than photos, keep the nets smooth
JITTER_SD = 0.01        # landmark jitter (normalised image units / metres) added to training copies
JITTER_COPIES = 1
MAX_EPOCHS = 150
FOLDS = 3               # held-out figures: 3 folds grouped by character
ENSEMBLE = 5            # networks per task in the shipped file (mean logits)
BAND_PRECISION = 0.8    # abstention bands suggested for the profile: 80 % right on held-out renders


def _load(path: Path) -> tuple[list[PoseLandmarks | None], list[dict[str, Any]]]:
    z = np.load(path, allow_pickle=False)
    meta = json.loads(str(z["meta"]))
    people: list[PoseLandmarks | None] = []
    for i in range(len(meta)):
        if not bool(z["found"][i]):
            people.append(None)
            continue
        world = z["world"][i].astype(np.float64)
        people.append(PoseLandmarks(z["image"][i].astype(np.float64), z["visibility"][i].astype(np.float64),
                                    z["presence"][i].astype(np.float64),
                                    None if not np.all(np.isfinite(world)) else world,
                                    (int(z["image_size"][i][0]), int(z["image_size"][i][1]))))
    return people, meta


def _jittered(lm: PoseLandmarks, rng: np.random.Generator) -> PoseLandmarks:
    image = lm.image + rng.normal(0.0, JITTER_SD, lm.image.shape)
    world = None if lm.world is None else lm.world + rng.normal(0.0, JITTER_SD, lm.world.shape)
    return PoseLandmarks(image, lm.visibility, lm.presence, world, lm.image_size)


Task = tuple[str, tuple[str, ...], Callable[[dict[str, Any], bool], str | None]]


def _hand(meta: dict[str, Any], mirrored: bool) -> str | None:
    # the mirrored body's left hand is the original right hand
    v = meta.get("hand_right" if mirrored else "hand_left")
    return v if v in HAND_PLACES else None


def _yes_no(key: str) -> Callable[[dict[str, Any], bool], str | None]:
    def f(meta: dict[str, Any], mirrored: bool) -> str | None:
        v = meta.get(key)
        return None if v is None else ("yes" if v else "no")
    return f


def _activity(meta: dict[str, Any], mirrored: bool) -> str | None:
    return meta.get("activity") if meta.get("activity") in ACTIVITIES else None


def _feet(meta: dict[str, Any], mirrored: bool) -> str | None:
    if meta.get("activity") != "standing" or meta.get("visible") not in (None, "full_body"):
        return None
    return meta.get("feet") if meta.get("feet") in FEET_STANCES else None


TASKS: tuple[Task, ...] = (
    ("hand", HAND_PLACES, _hand),
    ("legs_crossed", ("no", "yes"), _yes_no("legs_crossed")),
    ("trunk_lean", ("no", "yes"), _yes_no("leaning_or_slouching")),
    ("activity", ACTIVITIES, _activity),
    ("feet", FEET_STANCES, _feet),
)


def _fit(x: np.ndarray, y: np.ndarray, classes: tuple[str, ...], seeds: int = 1) -> Any:
    """A standardiser and `seeds` networks trained from different random starts."""
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    xs = scaler.transform(x)
    nets = [MLPClassifier(hidden_layer_sizes=HIDDEN, alpha=ALPHA, max_iter=MAX_EPOCHS, early_stopping=True,
                          n_iter_no_change=10, batch_size=256, random_state=SEED + k).fit(xs, y)
            for k in range(seeds)]
    return scaler, nets


def _to_classifier(name: str, classes: tuple[str, ...], scaler: Any, nets: list[Any],
                   temperature: float) -> Classifier:
    """Export a fitted scaler + MLPs as NumPy arrays (the networks share the class order)."""
    members = tuple(tuple((w.copy(), b.copy()) for w, b in zip(n.coefs_, n.intercepts_)) for n in nets)
    out_classes = tuple(str(c) for c in nets[0].classes_)
    if len(out_classes) == 2 and members[0][-1][0].shape[1] == 1 and out_classes != ("no", "yes"):
        raise ValueError(f"{name}: binary classes must be no/yes, got {out_classes}")
    scale = scaler.scale_.copy()
    scale[scale < 1e-9] = 1.0
    return Classifier(name, out_classes, scaler.mean_.copy(), scale, members, temperature)


def _fit_temperature(logits: np.ndarray, y_idx: np.ndarray) -> float:
    """Temperature minimising the out-of-fold log-loss (grid search; one scalar)."""
    best_t, best = 1.0, np.inf
    for t in np.exp(np.linspace(np.log(0.25), np.log(8.0), 80)):
        if logits.shape[1] == 1:
            p1 = 1.0 / (1.0 + np.exp(-logits[:, 0] / t))
            p = np.clip(np.where(y_idx == 1, p1, 1.0 - p1), 1e-9, 1.0)
        else:
            z = logits / t
            z = z - z.max(axis=1, keepdims=True)
            pr = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
            p = np.clip(pr[np.arange(len(y_idx)), y_idx], 1e-9, 1.0)
        loss = float(-np.mean(np.log(p)))
        if loss < best:
            best, best_t = loss, float(t)
    return best_t


def _rows(people: list[PoseLandmarks | None], meta: list[dict[str, Any]], label: Callable, rng: np.random.Generator,
          jitter: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs, ys, groups = [], [], []
    for lm, m in zip(people, meta):
        if lm is None:
            continue
        variants = [lm] + ([_jittered(lm, rng) for _ in range(JITTER_COPIES)] if jitter else [])
        for v in variants:
            for mirrored, body in ((False, v), (True, mirror(v))):
                y = label(m, mirrored)
                if y is None:
                    continue
                x = pose_vector(body)
                if x is None:
                    continue
                xs.append(x)
                ys.append(y)
                groups.append(m.get("character", "?"))
    return np.array(xs, dtype=np.float32), np.array(ys), np.array(groups)


def _calibrated(logits: np.ndarray, temperature: float) -> np.ndarray:
    """(n, classes) probabilities from out-of-fold logits and the fitted temperature."""
    if logits.shape[1] == 1:
        p1 = 1.0 / (1.0 + np.exp(-logits[:, 0] / temperature))
        return np.stack([1.0 - p1, p1], axis=1)
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)


def _bands(proba: np.ndarray, y_idx: np.ndarray, classes: tuple[str, ...]) -> dict[str, Any]:
    """Per class, the abstention band that reaches BAND_PRECISION on held-out renders.

    fail_above: the lowest probability at which "it is this class" is right at least
    BAND_PRECISION of the time; pass_below: the highest at which "it is not" is. The
    share of held-out rows that get an answer is the band's coverage. The profile's
    bands are set from these (the profile holds the limits; this only informs them).
    """
    out: dict[str, Any] = {}
    grid = np.round(np.arange(0.05, 0.96, 0.05), 2)
    for j, c in enumerate(classes):
        p, pos = proba[:, j], y_idx == j
        fail = next((float(t) for t in grid if t >= 0.5 and (p >= t).sum() >= 10
                     and pos[p >= t].mean() >= BAND_PRECISION), None)
        ok = next((float(t) for t in grid[::-1] if t <= 0.5 and (p <= t).sum() >= 10
                   and (~pos[p <= t]).mean() >= BAND_PRECISION), None)
        answered = ((p >= fail) if fail is not None else np.zeros(len(p), bool)) | \
            ((p <= ok) if ok is not None else np.zeros(len(p), bool))
        out[c] = {"fail_above": fail, "pass_below": ok, "coverage": float(answered.mean())}
    print(f"    bands at precision {BAND_PRECISION}: " + ", ".join(
        f"{c} {b['pass_below']}/{b['fail_above']} cov {b['coverage']:.2f}" for c, b in out.items()))
    return out


def _character_folds(groups: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Folds grouped by character (no body in both train and test), at most FOLDS of them."""
    from sklearn.model_selection import GroupKFold

    n = min(FOLDS, len(set(groups)))
    if n < 2:
        return []
    return list(GroupKFold(n_splits=n).split(np.zeros(len(groups)), groups=groups))


def _report(name: str, classes: tuple[str, ...], y: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    out: dict[str, Any] = {"n": int(len(y)), "accuracy": float(np.mean(y == pred))}
    per = {}
    for c in classes:
        tp = int(np.sum((y == c) & (pred == c)))
        fp = int(np.sum((y != c) & (pred == c)))
        fn = int(np.sum((y == c) & (pred != c)))
        p = tp / (tp + fp) if tp + fp else float("nan")
        r = tp / (tp + fn) if tp + fn else float("nan")
        f1 = 2 * p * r / (p + r) if tp else 0.0
        per[c] = {"n": int(np.sum(y == c)), "precision": p, "recall": r, "f1": f1}
    out["classes"] = per
    print(f"  {name}: held-out accuracy {out['accuracy']:.3f} (n={len(y)})")
    for c, d in per.items():
        print(f"    {c:14s} n={d['n']:5d} P={d['precision']:.2f} R={d['recall']:.2f} F1={d['f1']:.2f}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus" / "data" / "landmarks_full.npz")
    ap.add_argument("--out", type=Path, default=ROOT / "posturecheck" / "models" / "posture_classifiers.npz")
    ap.add_argument("--report", type=Path, default=ROOT / "corpus" / "data" / "training_report.json")
    args = ap.parse_args(argv)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # small matrices: one BLAS thread is fastest and leaves the other core free
    people, meta = _load(args.corpus)
    chars = Counter(m.get("character", "?") for m, p in zip(meta, people) if p is not None)
    print(f"corpus {args.corpus.name}: {len(meta)} renders, {sum(p is not None for p in people)} with a person; "
          f"characters {dict(chars)}")
    rng = np.random.default_rng(SEED)
    tasks: dict[str, Classifier] = {}
    report: dict[str, Any] = {}
    for name, classes, label in TASKS:
        x, y, g = _rows(people, meta, label, rng, jitter=True)
        if len(set(y)) < 2:
            raise SystemExit(f"{name}: the corpus has fewer than two classes")
        # leave-one-character-out predictions (the jittered copies share their render's group)
        oof_logits: list[np.ndarray] = []
        oof_y: list[np.ndarray] = []
        for tr, te in _character_folds(g):
            if len(set(y[tr])) < 2:
                continue
            scaler, nets = _fit(x[tr], y[tr], classes)
            c = _to_classifier(name, classes, scaler, nets, 1.0)
            lg = c.logits(x[te])
            if lg.shape[1] != 1 and (lg.shape[1] != len(classes) or c.classes != classes):
                # put the columns in `classes` order; a class missing from this fold gets a large negative logit
                full = np.full((len(lg), len(classes)), -1e3)
                for j, cl in enumerate(c.classes):
                    full[:, classes.index(cl)] = lg[:, j]
                lg = full
            oof_logits.append(lg)
            oof_y.append(y[te])
        if oof_logits:
            lg = np.concatenate(oof_logits)
            yy = np.concatenate(oof_y)
            if lg.shape[1] == 1:
                y_idx = (yy == "yes").astype(int)
                pred = np.where(lg[:, 0] > 0, "yes", "no")
            else:
                y_idx = np.array([classes.index(v) for v in yy])
                pred = np.array(classes)[lg.argmax(axis=1)]
            temperature = _fit_temperature(lg, y_idx)
            report[name] = _report(name, classes, yy, pred)
            report[name]["temperature"] = temperature
            report[name]["bands"] = _bands(_calibrated(lg, temperature), y_idx, classes)
        else:
            temperature = 1.0
        scaler, nets = _fit(x, y, classes, seeds=ENSEMBLE)
        final = _to_classifier(name, classes, scaler, nets, temperature)
        if final.members[0][-1][0].shape[1] not in (1, len(classes)):
            raise SystemExit(f"{name}: the corpus lacks classes {set(classes) - set(final.classes)}")
        tasks[name] = final
        print(f"  {name}: fitted on {len(y)} rows, classes {final.classes}, temperature {temperature:.2f}")
    digest = hashlib.sha256(args.corpus.read_bytes()).hexdigest()
    meta_out = {"version": f"1.{digest[:8]}", "corpus": args.corpus.name, "corpus_sha256": digest,
                "trained_on": "rendered characters only (corpus/); never real photos",
                "hidden": list(HIDDEN), "alpha": ALPHA, "ensemble": ENSEMBLE}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_classifiers(args.out, tasks, meta_out)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps({"meta": meta_out, "held_out": report}, indent=1, default=float),
                           encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB) and {args.report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
