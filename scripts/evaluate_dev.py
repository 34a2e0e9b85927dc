"""Agreement of `posturecheck analyze` with the dev-set labels (real model, real media).

Usage: python scripts/evaluate_dev.py [--model full] [--details]
Prints right / wrong / unknown per label over ../shared/data/dev.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from posturecheck.analyze import AnalyzeOptions, analyze_path
from posturecheck.evaluation import compare, tally
from posturecheck.report import to_json

DEV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dev"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="full")
    ap.add_argument("--details", action="store_true", help="print every wrong/unknown item")
    args = ap.parse_args()
    labels = json.loads((DEV / "labels.json").read_text(encoding="utf-8"))
    results = []
    for item in labels:
        rep = to_json(analyze_path(DEV / item["file"], AnalyzeOptions(model=args.model)))
        res = compare(rep, item)
        results.append(res)
        if args.details:
            bad = {k: v for k, v in res.items() if v in ("wrong", "unknown")}
            obs = rep["observations"]
            print(f"{item['id']:32s} act={rep['activity']:8s} view={rep['view']:7s} hands={obs['hands']['left']}/{obs['hands']['right']} "
                  f"feet={obs['feet']} {bad}")
    print(f"{'label':22s} {'right':>5s} {'wrong':>5s} {'unknown':>7s}")
    total = {"right": 0, "wrong": 0, "unknown": 0}
    for name, c in tally(results).items():
        print(f"{name:22s} {c['right']:5d} {c['wrong']:5d} {c['unknown']:7d}")
        for k in total:
            total[k] += c[k]
    print(f"{'TOTAL':22s} {total['right']:5d} {total['wrong']:5d} {total['unknown']:7d}")


if __name__ == "__main__":
    main()
