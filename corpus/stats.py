"""Counts and MediaPipe found-rate per label class in a landmarks npz.

    python corpus/stats.py corpus/data/landmarks_full.npz [--markdown]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

KEYS = ("activity", "hand_left", "hand_right", "feet", "legs_crossed_kind", "sitting_style", "view", "visible",
        "character", "n_people", "slouch", "weight_on_one_leg", "leaning_or_slouching", "arms_crossed",
        "hands_on_hips", "hands_in_pockets", "hands_behind_back", "hands_clasped_front", "arms_hanging",
        "knees_wide", "legs_stretched")


def table(metas: list[dict], found: np.ndarray) -> dict[str, dict[str, tuple[int, float]]]:
    """{key: {value: (count, found_rate)}}."""
    out: dict[str, dict[str, tuple[int, float]]] = {}
    for k in KEYS:
        acc: dict[str, list[bool]] = defaultdict(list)
        for m, f in zip(metas, found):
            acc[str(m.get(k))].append(bool(f))
        out[k] = {v: (len(fs), float(np.mean(fs))) for v, fs in sorted(acc.items())}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("npz", type=Path)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args(argv)
    with np.load(args.npz) as z:
        metas = json.loads(str(z["meta"]))
        found = z["found"]
        seen = z["people_seen"]
    print(f"{len(metas)} samples, found {found.mean():.3f}, people_seen==n_people "
          f"{np.mean([s == m['n_people'] for s, m in zip(seen, metas)]):.3f}")
    hands = defaultdict(list)
    for m, f in zip(metas, found):
        for h in ("hand_left", "hand_right"):
            hands[m[h]].append(bool(f))
    t = table(metas, found)
    t["hand (either side)"] = {v: (len(fs), float(np.mean(fs))) for v, fs in sorted(hands.items())}
    for k, rows in t.items():
        if args.markdown:
            print(f"\n**{k}**: " + ", ".join(f"{v} {n} ({r:.0%})" for v, (n, r) in rows.items()))
        else:
            print(f"{k:>22}: " + "  ".join(f"{v}={n}({r:.2f})" for v, (n, r) in rows.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
