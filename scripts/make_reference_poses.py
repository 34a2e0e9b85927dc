"""Build the shipped reference poses (posturecheck/reference_poses/*.json) from explicit geometry.

The bodies come from the synthetic skeleton of tests/skeleton.py, placed as the written
standard (../shared/STANDARDS.md) describes: standing — heels together, toes apart about a
fist (~10 cm), legs straight; men: right hand lightly holding the left wrist in front of the
lower abdomen; women: hands overlapped in front of the lower abdomen, right over left, feet V
or T (丁字步); sitting — trunk upright with a slight forward lean, thighs horizontal, knees
~90°, hands on the thighs. Landmarks only. Run: python scripts/make_reference_poses.py
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from skeleton import _sym, lean_trunk, set_arm, sit, upright  # noqa: E402

from posturecheck.landmarks import LM  # noqa: E402
from posturecheck.reference import SHIPPED_DIR, ReferencePose  # noqa: E402

FOOT_LEN = 0.20      # heel to toe tip, metres
TOE_GAP = 0.12       # "两脚尖间距约一个拳头": about a fist (~10-12 cm) between the toe tips
HEEL_X = 0.01        # heels together (landmark centres 2 cm apart)
CREATED = "2026-11-22"
SOURCE = ("synthetic: built by scripts/make_reference_poses.py from the written standard's geometry "
          "(../shared/STANDARDS.md, {what}); skeleton proportions of tests/skeleton.py; no photo used")


def _legs_together(b: np.ndarray) -> np.ndarray:
    """Straight legs converging to heels together."""
    b = b.copy()
    _sym(b, LM.LEFT_KNEE, LM.RIGHT_KNEE, 0.075, 0.43, 0.0)
    _sym(b, LM.LEFT_ANKLE, LM.RIGHT_ANKLE, 0.045, 0.85, 0.0)
    return b


def v_feet(b: np.ndarray) -> np.ndarray:
    """Heels together, each foot turned out so the toe tips are TOE_GAP apart."""
    b = _legs_together(b)
    half = math.asin((TOE_GAP / 2 - HEEL_X) / FOOT_LEN)
    _sym(b, LM.LEFT_HEEL, LM.RIGHT_HEEL, HEEL_X, 0.90, 0.05)
    _sym(b, LM.LEFT_FOOT_INDEX, LM.RIGHT_FOOT_INDEX, HEEL_X + FOOT_LEN * math.sin(half), 0.92,
         0.05 - FOOT_LEN * math.cos(half))
    return b


def t_feet(b: np.ndarray) -> np.ndarray:
    """丁字步: left foot forward-out (~30°), right heel against the left foot's instep, right foot turned out ~60°."""
    b = _legs_together(b)
    lh = np.array([0.03, 0.90, -0.02])
    la = math.radians(30.0)
    b[LM.LEFT_HEEL] = lh
    b[LM.LEFT_FOOT_INDEX] = lh + FOOT_LEN * np.array([math.sin(la), 0.1, -math.cos(la)])
    b[LM.LEFT_ANKLE] = lh + (0.01, -0.05, -0.04)
    instep = lh + 0.4 * (b[LM.LEFT_FOOT_INDEX] - lh)
    rh = instep + (-0.035, 0.0, 0.0)
    ra = math.radians(60.0)
    b[LM.RIGHT_HEEL] = rh
    b[LM.RIGHT_FOOT_INDEX] = rh + FOOT_LEN * np.array([-math.sin(ra), 0.1, -math.cos(ra)])
    b[LM.RIGHT_ANKLE] = rh + (0.0, -0.05, -0.04)
    for hip, knee, ankle in ((LM.LEFT_HIP, LM.LEFT_KNEE, LM.LEFT_ANKLE), (LM.RIGHT_HIP, LM.RIGHT_KNEE, LM.RIGHT_ANKLE)):
        b[knee] = (b[hip] + b[ankle]) / 2  # legs straight
    return b


def man_hands(b: np.ndarray) -> np.ndarray:
    """Left wrist in front of the lower abdomen, the right hand over it holding it."""
    b = set_arm(b, "left", (0.21, -0.26, -0.03), (0.03, -0.04, -0.16), hand_down=(-0.07, 0.02, 0.0))
    return set_arm(b, "right", (0.21, -0.26, -0.03), (0.06, -0.03, -0.18), hand_down=(-0.08, 0.0, 0.0))


def woman_hands(b: np.ndarray) -> np.ndarray:
    """Hands overlapped in front of the lower abdomen, right over left (closer to the camera)."""
    b = set_arm(b, "left", (0.21, -0.27, -0.03), (0.04, -0.09, -0.15), hand_down=(-0.07, 0.02, 0.0))
    return set_arm(b, "right", (0.21, -0.27, -0.03), (0.04, -0.08, -0.18), hand_down=(-0.07, 0.02, 0.0))


def sitting() -> np.ndarray:
    """Thighs horizontal, knees ~90°, trunk 5° forward, hands resting on the thighs."""
    b = lean_trunk(upright(), 5.0)
    b = sit(b)
    for side in ("left", "right"):
        b = set_arm(b, side, (0.19, -0.24, -0.06), (0.13, -0.04, -0.28), hand_down=(0.0, 0.02, -0.09))
    return b


POSES = {
    "man_v_stance": (lambda: man_hands(v_feet(upright())),
                     "Men's standard standing stance: V feet (heels together, toes a fist apart), legs "
                     "straight, right hand holding the left wrist in front of the lower abdomen",
                     "Standing, men's variant"),
    "woman_v_stance": (lambda: woman_hands(v_feet(upright())),
                       "Women's standard standing stance: V feet, legs straight, hands overlapped in front "
                       "of the lower abdomen, right over left", "Standing, women's variant with V feet"),
    "woman_t_stance": (lambda: woman_hands(t_feet(upright())),
                       "Women's standard standing stance, T (丁字步) feet: right heel at the left foot's "
                       "instep; hands overlapped in front, right over left", "Standing, women's 丁 variant"),
    "sitting": (sitting,
                "Standard sitting: trunk upright with a slight forward lean, thighs horizontal, knees about "
                "90°, feet flat, hands resting on the thighs", "Sitting"),
}


def main() -> None:
    SHIPPED_DIR.mkdir(parents=True, exist_ok=True)
    for name, (build, description, what) in POSES.items():
        ref = ReferencePose(name, description, SOURCE.format(what=what), CREATED, build(), np.ones(33))
        path = SHIPPED_DIR / f"{name}.json"
        path.write_text(json.dumps(ref.to_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(path)


if __name__ == "__main__":
    main()
