"""Run the project's pose stage on every render and store the landmarks with the labels.

    python corpus/extract_landmarks.py --renders /work/renders/run1 --model full \
        --out corpus/data/landmarks_full.npz [--follow]

Resumable: ids already in --out are skipped and new ones appended; the file is rewritten
atomically every --save-every samples. --follow keeps polling meta.jsonl for new renders
(the renderer may still be running) until nothing new arrives for --idle seconds.
Arrays: ids (N,) str, image (N,33,3) f32, world (N,33,3) f32 (NaN if missing),
visibility/presence (N,33) f32, image_size (N,2) i32, found (N,) bool, people_seen (N,) i16,
meta = one JSON string (list of label dicts, same order).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from posturecheck.pose import PoseEstimator, PoseEstimatorOptions

DROP_KEYS = ("render_s",)
N_LM = 33


class Store:
    """The growing landmark table, loaded from / saved to one compressed npz."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.cols: dict[str, list[Any]] = {k: [] for k in
                                           ("ids", "image", "world", "visibility", "presence", "image_size", "found", "people_seen")}
        self.meta: list[dict[str, Any]] = []
        if path.exists():
            with np.load(path, allow_pickle=False) as z:
                for k in self.cols:
                    self.cols[k] = list(z[k])
                self.meta = json.loads(str(z["meta"]))
        self.have = {str(i) for i in self.cols["ids"]}

    def __len__(self) -> int:
        return len(self.meta)

    def add(self, sid: str, meta: dict[str, Any], person: Any, people_seen: int, size: tuple[int, int]) -> None:
        nan = np.full((N_LM, 3), np.nan, np.float32)
        c = self.cols
        c["ids"].append(sid)
        c["found"].append(person is not None)
        c["people_seen"].append(people_seen)
        c["image_size"].append(np.array(size, np.int32))
        if person is None:
            c["image"].append(nan)
            c["world"].append(nan)
            c["visibility"].append(np.zeros(N_LM, np.float32))
            c["presence"].append(np.zeros(N_LM, np.float32))
        else:
            c["image"].append(np.asarray(person.image, np.float32))
            c["world"].append(nan if person.world is None else np.asarray(person.world, np.float32))
            c["visibility"].append(np.asarray(person.visibility, np.float32))
            c["presence"].append(np.asarray(person.presence, np.float32))
        self.meta.append({k: v for k, v in meta.items() if k not in DROP_KEYS})
        self.have.add(sid)

    def resync(self, latest: dict[str, dict[str, Any]]) -> None:
        """Take the labels from meta.jsonl again (meta.jsonl is the source of truth)."""
        for i, sid in enumerate(self.cols["ids"]):
            m = latest.get(str(sid))
            if m is not None:
                self.meta[i] = {k: v for k, v in m.items() if k not in DROP_KEYS}

    def save(self) -> None:
        """Atomic rewrite of the npz."""
        c = self.cols
        arrays = {
            "ids": np.array(c["ids"], dtype=str),
            "image": np.array(c["image"], np.float32).reshape(-1, N_LM, 3),
            "world": np.array(c["world"], np.float32).reshape(-1, N_LM, 3),
            "visibility": np.array(c["visibility"], np.float32).reshape(-1, N_LM),
            "presence": np.array(c["presence"], np.float32).reshape(-1, N_LM),
            "image_size": np.array(c["image_size"], np.int32).reshape(-1, 2),
            "found": np.array(c["found"], bool),
            "people_seen": np.array(c["people_seen"], np.int16),
            "meta": np.array(json.dumps(self.meta, separators=(",", ":"))),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp.npz")
        np.savez_compressed(tmp, **arrays)
        os.replace(tmp, self.path)


def read_meta(renders: Path) -> list[dict[str, Any]]:
    """All complete lines of meta.jsonl."""
    p = renders / "meta.jsonl"
    if not p.exists():
        return []
    out = []
    for line in p.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line still being written
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--renders", type=Path, nargs="+", required=True)
    ap.add_argument("--model", default="full")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--save-every", type=int, default=200)
    ap.add_argument("--follow", action="store_true", help="keep polling for new renders")
    ap.add_argument("--idle", type=float, default=300.0, help="--follow: stop after this many idle seconds")
    args = ap.parse_args(argv)
    store = Store(args.out)
    print(f"{len(store)} samples already in {args.out}", flush=True)
    store.resync({m["id"]: m for d in args.renders for m in read_meta(d)})
    opts = PoseEstimatorOptions(model=args.model, running_mode="image", num_poses=2)
    last_new = time.time()
    since_save = 0
    times: list[float] = []
    with PoseEstimator(opts) as est:
        while True:
            metas = [(d, m) for d in args.renders for m in read_meta(d)]
            latest = {m["id"]: m for _, m in metas}
            todo = [(d, m) for d, m in metas if m["id"] not in store.have]
            todo = [(d, m) for d, m in todo if (d / f"{m['id']}.png").exists()]
            for d, m in todo:
                t0 = time.time()
                rgb = np.asarray(Image.open(d / f"{m['id']}.png").convert("RGB"))
                res = est.detect(rgb)
                store.add(m["id"], m, res.person, int(res.people_seen), (rgb.shape[1], rgb.shape[0]))
                times.append(time.time() - t0)
                since_save += 1
                if since_save >= args.save_every:
                    store.resync(latest)
                    store.save()
                    since_save = 0
                    print(f"{len(store)} samples saved ({np.mean(times[-args.save_every:]):.2f} s/img)", flush=True)
            if todo:
                last_new = time.time()
            elif since_save:  # idle: flush what is pending
                store.resync(latest)
                store.save()
                since_save = 0
                print(f"{len(store)} samples saved (idle)", flush=True)
            if not args.follow or time.time() - last_new > args.idle:
                break
            time.sleep(5)
    store.resync({m["id"]: m for d in args.renders for m in read_meta(d)})
    store.save()
    found = np.array(store.cols["found"], bool)
    print(f"done: {len(store)} samples, found {found.mean() if len(found) else 0:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
