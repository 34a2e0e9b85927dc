"""Agreement of `posturecheck analyze` with the dev-set labels (real model, real media).

Usage: python scripts/evaluate_dev.py [--model full] [--cache DIR] [--details] [--json OUT]

Runs the product (`analyze_path`, default options) on every item of
../shared/data/dev and prints, per label, precision, recall, F1 (accuracy for
activity and view) and coverage (share of labelled items not answered
`unknown`), plus a confusion matrix of the main hand placement.

Nothing in the product is fitted to these items: the learned classifiers are
trained on rendered characters only (scripts/train_classifiers.py), so every
figure printed here is out-of-sample. Reports are cached per item in --cache so
that a second run (or the old version's run for a before/after table) is quick.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from posturecheck.evaluation import (HAND_CLASSES, LABELS, PREDICTORS, confusion, detector_metrics,
                                     hand_class_predicted, hand_class_truth, truth)

DEV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dev"


def _report(path: Path, model: str, cache: Path | None) -> dict[str, Any]:
    if cache is not None:
        hit = cache / (path.name + ".json")
        if hit.is_file():
            return json.loads(hit.read_text(encoding="utf-8"))
    from posturecheck.analyze import AnalyzeOptions, analyze_path
    from posturecheck.report import to_json
    try:
        rep = to_json(analyze_path(path, AnalyzeOptions(model=model)))
    except Exception as exc:  # noqa: BLE001 - an item the tool refuses is scored as unknown, and said
        rep = {"error": f"{type(exc).__name__}: {exc}"}
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        (cache / (path.name + ".json")).write_text(json.dumps(rep), encoding="utf-8")
    return rep


def _fmt(x: float) -> str:
    return "  -  " if x != x else f"{x:5.2f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="full")
    ap.add_argument("--dev", type=Path, default=DEV, help="dev-set folder (labels.json + media)")
    ap.add_argument("--cache", type=Path, default=None, help="folder to keep/reuse per-item report JSON")
    ap.add_argument("--details", action="store_true", help="print every wrong/unknown item")
    ap.add_argument("--json", type=Path, default=None, help="write the metrics table as JSON")
    args = ap.parse_args(argv)
    if not (args.dev / "labels.json").is_file():
        print(f"dev set not found at {args.dev} (it lives in ../shared/data/dev beside the repo)", file=sys.stderr)
        return 2
    labels = json.loads((args.dev / "labels.json").read_text(encoding="utf-8"))
    pairs: dict[str, list[tuple[Any, Any]]] = {name: [] for name in LABELS}
    hand_pairs: list[tuple[str | None, str | None]] = []
    t0 = time.perf_counter()
    for i, item in enumerate(labels, 1):
        rep = _report(args.dev / item["file"], args.model, args.cache)
        print(f"\r{i}/{len(labels)} {item['id'][:40]:40s}", end="", file=sys.stderr, flush=True)
        row = {}
        for name in LABELS:
            t = truth(item, name)
            p = None if "error" in rep else PREDICTORS[name](rep)
            pairs[name].append((t, p))
            row[name] = (t, p)
        hand_pairs.append((hand_class_truth(item), hand_class_predicted(rep)))
        if args.details:
            bad = {k: f"{t}->{p}" for k, (t, p) in row.items() if t is not None and p != t}
            print(f"\n{item['id']:34s} {rep.get('activity', rep.get('error'))!s:9s} {bad}")
    print(f"\r{len(labels)} items in {time.perf_counter() - t0:.0f} s" + " " * 40, file=sys.stderr)
    print(f"{'label':22s} {'n':>3s} {'cover':>5s} {'prec':>5s} {'recall':>6s} {'F1':>5s} {'acc':>5s}  tp/fp/fn/tn")
    table = []
    for name in LABELS:
        m = detector_metrics(pairs[name], name)
        binary = name not in ("activity", "view")
        print(f"{name:22s} {m.n:3d} {_fmt(m.coverage)} {_fmt(m.precision) if binary else '  -  '} "
              f"{_fmt(m.recall) if binary else '  -   '} {_fmt(m.f1) if binary else '  -  '} {_fmt(m.accuracy)}"
              + (f"  {m.tp}/{m.fp}/{m.fn}/{m.tn}" if binary else ""))
        table.append({"label": name, "n": m.n, "coverage": m.coverage, "precision": m.precision,
                      "recall": m.recall, "f1": m.f1, "accuracy": m.accuracy,
                      "tp": m.tp, "fp": m.fp, "fn": m.fn, "tn": m.tn})
    print("\nMain hand placement (rows: label, columns: tool; ? = unknown)")
    cm = confusion(hand_pairs, HAND_CLASSES)
    short = [c[:8] for c in HAND_CLASSES] + ["?"]
    print(" " * 14 + " ".join(f"{c:>8s}" for c in short))
    for cls, row in zip(HAND_CLASSES, cm):
        print(f"{cls:14s}" + " ".join(f"{v:8d}" for v in row))
    if args.json is not None:
        args.json.write_text(json.dumps({"labels": table, "hand_confusion": {"classes": list(HAND_CLASSES),
                                                                            "matrix": cm}}, indent=1),
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
