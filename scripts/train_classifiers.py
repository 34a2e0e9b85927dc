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
3. Calibration: one temperature per task, fitted on the out-of-fold logits of the
   same ensemble as shipped (minimum log-loss), so probabilities mean what they say
   on unseen bodies. The report also gives, from the same held-out predictions, each
   yes/no flag's best band (hand flags combined per render exactly as the product
   does: features.hand_flag_probabilities) and each category's confidence floor.
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
JITTER_SD = 0.01        # landmark jitter (normalised image units / metres) for optional training copies
# No jittered copies: a copy and its original fell on both sides of the networks' early-stopping
# split, so validation never stopped them and they grew over-confident (held-out temperature 5.4).
JITTER_COPIES = 0
MAX_EPOCHS = 150
FOLDS = 3               # held-out figures: 3 folds grouped by character
ENSEMBLE = 5            # networks per task in the shipped file (mean logits)
RECIPE = 2              # bump when the training recipe changes (the model version is RECIPE.corpus-hash)
BAND_PRECISION = 0.8    # per-class bands of the report: 80 % right on held-out renders
NEG_PRECISION = 0.95    # a flag's pass_below: "no" answers right 95 % of the time on held-out renders
CONF_ACCURACY = 0.8     # a category's min_confidence: the top class right 80 % of the time


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
          jitter: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows of (vector, label, character group) and each row's (render index, variant, mirrored)."""
    xs, ys, groups, ids = [], [], [], []
    for r, (lm, m) in enumerate(zip(people, meta)):
        if lm is None:
            continue
        variants = [lm] + ([_jittered(lm, rng) for _ in range(JITTER_COPIES)] if jitter else [])
        for k, v in enumerate(variants):
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
                ids.append((r, k, int(mirrored)))
    return np.array(xs, dtype=np.float32), np.array(ys), np.array(groups), np.array(ids, dtype=np.int64).reshape(-1, 3)


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


_GRID = np.round(np.arange(0.05, 0.951, 0.025), 3)


def _flag_band(p: np.ndarray, pos: np.ndarray) -> dict[str, Any]:
    """A yes/no probability's band on held-out renders: fail at the F1-best threshold, pass where "no" is safe.

    fail_above: the threshold with the best held-out F1 (rare postures are missed at 0.5 by a
    calibrated probability). pass_below: the highest threshold up to fail_above at which "no"
    answers are right NEG_PRECISION of the time; in between the rule says unknown.
    """
    def f1(t: float) -> float:
        pred = p >= t
        tp = int(np.sum(pred & pos))
        return 2 * tp / max(int(pred.sum()) + int(pos.sum()), 1)

    fail = max(_GRID, key=lambda t: (f1(float(t)), -abs(float(t) - 0.5)))
    ok = next((float(t) for t in _GRID[::-1] if t <= fail and (p <= t).sum() >= 10
               and (~pos[p <= t]).mean() >= NEG_PRECISION), None)
    pass_below = ok if ok is not None else float(fail)
    pred = p >= fail
    answered = pred | (p <= pass_below)
    tp, fp, fn = int(np.sum(pred & pos)), int(np.sum(pred & ~pos)), int(np.sum(~pred & pos & answered))
    return {"fail_above": float(fail), "pass_below": pass_below, "n": int(len(p)), "positives": int(pos.sum()),
            "f1": 2 * tp / max(2 * tp + fp + fn, 1), "coverage": float(answered.mean())}


def _confidence_floor(proba: np.ndarray, y_idx: np.ndarray) -> dict[str, Any]:
    """The lowest top-class probability at which the top class is right CONF_ACCURACY of the time."""
    conf, right = proba.max(axis=1), proba.argmax(axis=1) == y_idx
    floor = next((float(t) for t in _GRID if (conf >= t).sum() >= 10 and right[conf >= t].mean() >= CONF_ACCURACY),
                 None)
    cover = float(np.mean(conf >= floor)) if floor is not None else 0.0
    return {"min_confidence": floor, "coverage": cover, "accuracy_all": float(right.mean())}


def _hand_flag_bands(meta: list[dict[str, Any]], ids: np.ndarray, proba: np.ndarray) -> dict[str, Any]:
    """Bands of every hand flag from held-out hand probabilities, combined per render as the product does."""
    from posturecheck.features import HAND_FLAGS, hand_flag_probabilities

    per: dict[int, dict[int, dict[str, float]]] = {}
    for (r, k, mirrored), row in zip(ids, proba):
        if k == 0:
            per.setdefault(int(r), {})[int(mirrored)] = dict(zip(HAND_PLACES, (float(v) for v in row)))
    out = {}
    for flag, (place, mode) in HAND_FLAGS.items():
        ps, ys = [], []
        for r, sides in per.items():
            left, right = meta[r].get("hand_left"), meta[r].get("hand_right")
            if 0 not in sides or 1 not in sides or left not in HAND_PLACES or right not in HAND_PLACES:
                continue
            p = hand_flag_probabilities(sides[0], sides[1])[flag]
            ps.append(p)
            ys.append((left == place and right == place) if mode == "both" else (left == place or right == place))
        out[flag] = _flag_band(np.array(ps, dtype=float), np.array(ys, dtype=bool))
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
        x, y, g, ids = _rows(people, meta, label, rng, jitter=True)
        if len(set(y)) < 2:
            raise SystemExit(f"{name}: the corpus has fewer than two classes")
        # leave-one-character-out predictions (the jittered copies share their render's group)
        oof_logits: list[np.ndarray] = []
        oof_y: list[np.ndarray] = []
        oof_ids: list[np.ndarray] = []
        for tr, te in _character_folds(g):
            if len(set(y[tr])) < 2:
                continue
            scaler, nets = _fit(x[tr], y[tr], classes, seeds=ENSEMBLE)  # held out exactly as shipped
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
            oof_ids.append(ids[te])
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
            proba = _calibrated(lg, temperature)
            report[name]["bands"] = _bands(proba, y_idx, classes)
            if lg.shape[1] == 1:
                report[name]["flag_band"] = _flag_band(proba[:, 1], y_idx == 1)
            else:
                report[name]["confidence"] = _confidence_floor(proba, y_idx)
            if name == "hand":
                report["hand_flags"] = _hand_flag_bands(meta, np.concatenate(oof_ids), proba)
        else:
            temperature = 1.0
        scaler, nets = _fit(x, y, classes, seeds=ENSEMBLE)
        final = _to_classifier(name, classes, scaler, nets, temperature)
        if final.members[0][-1][0].shape[1] not in (1, len(classes)):
            raise SystemExit(f"{name}: the corpus lacks classes {set(classes) - set(final.classes)}")
        tasks[name] = final
        print(f"  {name}: fitted on {len(y)} rows, classes {final.classes}, temperature {temperature:.2f}")
    digest = hashlib.sha256(args.corpus.read_bytes()).hexdigest()
    meta_out = {"version": f"{RECIPE}.{digest[:8]}", "corpus": args.corpus.name, "corpus_sha256": digest,
                "trained_on": "rendered characters only (corpus/); never real photos",
                "hidden": list(HIDDEN), "alpha": ALPHA, "ensemble": ENSEMBLE}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_classifiers(args.out, tasks, meta_out)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps({"meta": meta_out, "held_out": report}, indent=1, default=float),
                           encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB) and {args.report}")
    print("held-out bands for the profile (posturecheck/profiles/default.toml):")
    for flag, b in report.get("hand_flags", {}).items():
        print(f"  {flag}_p: fail_above {b['fail_above']} pass_below {b['pass_below']} (F1 {b['f1']:.2f}, "
              f"coverage {b['coverage']:.2f})")
    for name in ("legs_crossed", "trunk_lean"):
        if "flag_band" in report.get(name, {}):
            b = report[name]["flag_band"]
            print(f"  {name}_p: fail_above {b['fail_above']} pass_below {b['pass_below']} (F1 {b['f1']:.2f}, "
                  f"coverage {b['coverage']:.2f})")
    for name in ("hand", "feet", "activity"):
        if "confidence" in report.get(name, {}):
            c = report[name]["confidence"]
            print(f"  {name} min_confidence {c['min_confidence']} (coverage {c['coverage']:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
