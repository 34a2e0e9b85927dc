"""Contact sheet of renders with their labels (for eyeballing the postures).

    python corpus/contact_sheet.py --renders /work/renders/run1 --out /tmp/sheet.png [--ids s1,s2] [--n 20]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from PIL import Image, ImageDraw

CELL = 300


def caption(m: dict) -> list[str]:
    """Short label lines for one sample."""
    lines = [f"{m['id']} {m['character']} {m['activity']} {m['view']} yaw{m['body_yaw_deg']:.0f}",
             f"L:{m['hand_left']}/{m['hand_left_detail']}", f"R:{m['hand_right']}/{m['hand_right_detail']}"]
    if m["activity"] == "standing":
        lines.append(f"feet:{m['feet']} cross:{m['legs_crossed_kind']} w1:{m['weight_on_one_leg']}")
    elif m["activity"] == "sitting":
        lines.append(f"sit:{m['sitting_style']} cross:{m['legs_crossed_kind']} wide:{m['knees_wide']} str:{m['legs_stretched']}")
    lines.append(f"lean{m['trunk_lean_deg']} lat{m['trunk_lateral_deg']} slouch:{m['slouch']} n{m['n_people']}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--renders", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--ids", default="")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--cols", type=int, default=5)
    args = ap.parse_args(argv)
    metas = [json.loads(x) for x in (args.renders / "meta.jsonl").read_text().splitlines() if x.strip()]
    if args.ids:
        want = args.ids.split(",")
        by = {m["id"]: m for m in metas}
        metas = [by[i] for i in want if i in by]
    metas = metas[: args.n]
    rows = (len(metas) + args.cols - 1) // args.cols
    sheet = Image.new("RGB", (args.cols * CELL, rows * (CELL + 70)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, m in enumerate(metas):
        im = Image.open(args.renders / f"{m['id']}.png").convert("RGB")
        im.thumbnail((CELL, CELL))
        x, y = (i % args.cols) * CELL, (i // args.cols) * (CELL + 70)
        sheet.paste(im, (x + (CELL - im.width) // 2, y))
        for k, line in enumerate(caption(m)):
            draw.text((x + 3, y + CELL + 2 + 13 * k), line, fill="black")
    sheet.save(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
