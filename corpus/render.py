"""Render labelled samples: PNGs + meta.jsonl in /work/renders/<run>/ (resumable).

    python corpus/render.py --assets /work/assets/characters --out /work/renders/run1 --n 600
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser import RendererPage


def done_ids(meta_path: Path) -> set[str]:
    """Ids already in meta.jsonl (whose PNG exists)."""
    if not meta_path.exists():
        return set()
    ids = set()
    for line in meta_path.read_text().splitlines():
        try:
            ids.add(json.loads(line)["id"])
        except (json.JSONDecodeError, KeyError):
            continue
    return ids


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--assets", type=Path, default=Path("/work/assets/characters"))
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--n", type=int, default=100, help="number of samples (seeds start..start+n-1)")
    ap.add_argument("--start", type=int, default=0, help="first seed")
    ap.add_argument("--override", default="{}", help="JSON merged into every spec (e.g. '{\"activity\":\"sitting\"}')")
    ap.add_argument("--prefix", default="s", help="id prefix")
    ap.add_argument("--characters", default="", help="comma-separated subset of character names")
    ap.add_argument("--restart-every", type=int, default=1500, help="restart Chromium after this many renders")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    meta_path = args.out / "meta.jsonl"
    have = done_ids(meta_path)
    todo = [s for s in range(args.start, args.start + args.n) if f"{args.prefix}{s}" not in have]
    override = json.loads(args.override)
    chars = [c for c in args.characters.split(",") if c] or None
    t_start = time.time()
    n_done = 0
    times: list[float] = []
    while todo:
        with RendererPage(args.assets, chars) as r, meta_path.open("a") as meta_f:
            print(f"characters: {r.characters}; {len(todo)} to render", flush=True)
            for _ in range(min(len(todo), args.restart_every)):
                seed = todo.pop(0)
                sid = f"{args.prefix}{seed}"
                t0 = time.time()
                png, meta = r.call("renderSample", {"seed": seed, "id": sid, **override})
                (args.out / f"{sid}.png").write_bytes(png)
                meta["render_s"] = round(time.time() - t0, 3)
                meta_f.write(json.dumps(meta) + "\n")
                meta_f.flush()
                times.append(time.time() - t0)
                n_done += 1
                if n_done % 25 == 0:
                    recent = times[-25:]
                    print(f"{n_done} rendered, {sum(recent) / len(recent):.2f} s/img recent, "
                          f"{(time.time() - t_start) / n_done:.2f} s/img overall", flush=True)
    if times:
        print(f"done: {n_done} in {time.time() - t_start:.0f} s ({sum(times) / len(times):.2f} s/img)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
