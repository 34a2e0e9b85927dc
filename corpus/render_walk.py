"""Walking-in-place clip with exact arm-swing truth (mp4 + truth CSV).

    python corpus/render_walk.py --azimuth 90 --out /work/renders/walks

Camera azimuth: 0 = in front of the person, +90 = on the person's LEFT side (left arm
nearest), -90 = right side, 180 = behind. Writes walk_<character>_az<deg>.mp4 and
truth_<character>_az<deg>.csv: per frame `frame,t_s,left_sagittal_deg,right_sagittal_deg,
left_3d_deg,right_3d_deg` = signed angle of the upper arm (shoulder->elbow) from the trunk
line (mid-shoulder -> mid-hip) in the body's sagittal plane (+ forward), and the unsigned
3-D angle. Same convention as shared/data/armswing_dev/truth_g1.0.csv.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser import RendererPage


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--azimuth", type=float, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--assets", type=Path, default=Path("/work/assets/characters"))
    ap.add_argument("--character", default="Xbot")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--cycle", type=float, default=1.0, help="gait cycle (s)")
    ap.add_argument("--size", default="720x960")
    ap.add_argument("--arm-amp", type=float, default=24.5, help="commanded swing amplitude (deg)")
    ap.add_argument("--arm-off", type=float, default=8.5, help="commanded swing offset (deg, + forward)")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    w, h = (int(x) for x in args.size.split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    tag = f"{args.character}_az{round(args.azimuth):+d}"
    n = round(args.seconds * args.fps)
    rows = []
    with tempfile.TemporaryDirectory() as tmp, RendererPage(args.assets, [args.character]) as r:
        for i in range(n):
            t = i / args.fps
            spec = {"seed": args.seed, "character": args.character, "azimuth": args.azimuth, "phase": (t / args.cycle) % 1.0,
                    "w": w, "h": h, "armAmp": args.arm_amp, "armOff": args.arm_off, "jpeg": True}
            png, m = r.call("renderWalkFrame", spec)
            Path(tmp, f"f{i:04d}.jpg").write_bytes(png)  # JPEG q95 frames: faster, then x264
            rows.append([i, f"{t:.4f}", f"{m['left_sagittal_deg']:.3f}", f"{m['right_sagittal_deg']:.3f}",
                         f"{m['left_3d_deg']:.3f}", f"{m['right_3d_deg']:.3f}"])
        mp4 = args.out / f"walk_{tag}.mp4"
        subprocess.run([shutil.which("ffmpeg") or "ffmpeg", "-y", "-loglevel", "error", "-framerate", str(args.fps),
                        "-i", str(Path(tmp, "f%04d.jpg")), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "18", str(mp4)],
                       check=True)
    with (args.out / f"truth_{tag}.csv").open("w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["frame", "t_s", "left_sagittal_deg", "right_sagittal_deg", "left_3d_deg", "right_3d_deg"])
        wr.writerows(rows)
    print(f"wrote {mp4} and truth_{tag}.csv ({n} frames)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
