"""Compare analysis reports with dev-set labels (labels.json of ../shared/data/dev).

Each label maps to one prediction read from the `posturecheck.analysis/1` JSON;
a prediction of None means the tool said `unknown`. Used by
`scripts/evaluate_dev.py` and the integration tests.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable, Iterable

LABELS = ("activity", "view", "multi_person", "arms_crossed", "hands_on_hips", "hands_in_pockets",
          "hands_behind_back", "hands_clasped_front", "arms_hanging", "legs_crossed", "feet_v_or_together",
          "feet_apart_wide", "leaning_or_slouching", "head_tilted_or_turned")
HEAD_YAW_TURNED_DEG = 25.0  # walking.head_forward's limit, used for "head turned"
HEAD_PITCH_LIMIT_DEG = 15.0  # standing.head_level's limits
HEAD_ROLL_LIMIT_DEG = 8.0


def _rule(rep: dict[str, Any], rule_id: str) -> bool | None:
    for r in rep["rules"]:
        if r["id"] == rule_id:
            return None if r["status"] == "unknown" else r["status"] == "fail"
    return None


def _any_fail(rep: dict[str, Any], ids: Iterable[str]) -> bool | None:
    vals = [_rule(rep, i) for i in ids]
    if any(v is True for v in vals):
        return True
    if any(v is False for v in vals):
        return False
    return None


def _hands(rep: dict[str, Any]) -> tuple[str, str]:
    h = rep["observations"]["hands"]
    return h["left"], h["right"]


def _either_hand(place: str) -> Callable[[dict[str, Any]], bool | None]:
    def pred(rep: dict[str, Any]) -> bool | None:
        hands = _hands(rep)
        if place in hands:
            return True
        return None if "unknown" in hands else False
    return pred


def _arms_hanging(rep: dict[str, Any]) -> bool | None:
    hands = _hands(rep)
    if "unknown" in hands:
        return None
    return all(h == "hanging" for h in hands)


def _feet_v(rep: dict[str, Any]) -> bool | None:
    feet = rep["observations"]["feet"]
    return None if feet == "unknown" else feet in ("v", "together", "t")


def _feet_wide(rep: dict[str, Any]) -> bool | None:
    if rep["activity"] == "sitting":
        return _rule(rep, "sitting.knees")
    feet = rep["observations"]["feet"]
    return None if feet == "unknown" else feet == "apart_wide"


def _leaning(rep: dict[str, Any]) -> bool | None:
    act = rep["activity"]
    if act == "standing":
        return _any_fail(rep, ["standing.trunk_upright", "standing.legs_straight"])
    if act in ("sitting", "walking"):
        return _rule(rep, f"{act}.trunk_upright")
    return None


def _head(rep: dict[str, Any]) -> bool | None:
    """Head tilted or turned, by the standard's limits (roll ≤ 8°, pitch ±15°, yaw ±25°)."""
    obs = rep["observations"]
    yaw, pitch, roll = obs.get("head_yaw_deg"), obs.get("head_pitch_deg"), obs.get("head_roll_deg")
    if all(v is None for v in (yaw, pitch, roll)):
        return None
    return bool((yaw is not None and abs(yaw) > HEAD_YAW_TURNED_DEG)
                or (pitch is not None and abs(pitch) > HEAD_PITCH_LIMIT_DEG)
                or (roll is not None and roll > HEAD_ROLL_LIMIT_DEG))


PREDICTORS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "activity": lambda rep: None if rep["activity"] == "unknown" else rep["activity"],
    "view": lambda rep: None if rep["view"] == "unknown" else rep["view"],
    "multi_person": lambda rep: rep["people_seen"] > 1 if rep["person_found"] else None,
    "arms_crossed": lambda rep: _rule(rep, "posture.arms_crossed"),
    "hands_on_hips": lambda rep: _rule(rep, "posture.hands_on_hips"),
    "hands_in_pockets": lambda rep: _rule(rep, "posture.hands_in_pockets"),
    "hands_behind_back": _either_hand("behind_back"),
    "hands_clasped_front": _either_hand("clasped_front"),
    "arms_hanging": _arms_hanging,
    "legs_crossed": lambda rep: rep["observations"]["legs_crossed"],
    "feet_v_or_together": _feet_v,
    "feet_apart_wide": _feet_wide,
    "leaning_or_slouching": _leaning,
    "head_tilted_or_turned": _head,
}


def truth(label: dict[str, Any], name: str) -> Any:
    """The label's value for one comparison (None = not labelled / not applicable)."""
    if name == "multi_person":
        return label["n_people"] > 1
    if name == "activity" and label["activity"] == "other":
        return None
    return label.get(name)


def compare(report: dict[str, Any], label: dict[str, Any]) -> dict[str, str]:
    """Per label: 'right', 'wrong', 'unknown' (tool abstained) or 'skip' (no label)."""
    out: dict[str, str] = {}
    for name in LABELS:
        t = truth(label, name)
        if t is None:
            out[name] = "skip"
            continue
        p = PREDICTORS[name](report) if "error" not in report else None
        out[name] = "unknown" if p is None else ("right" if p == t else "wrong")
    return out


def tally(results: Iterable[dict[str, str]]) -> dict[str, dict[str, int]]:
    """Counts of right/wrong/unknown per label."""
    table: dict[str, dict[str, int]] = defaultdict(lambda: {"right": 0, "wrong": 0, "unknown": 0})
    for res in results:
        for name, outcome in res.items():
            if outcome != "skip":
                table[name][outcome] += 1
    return {name: table[name] for name in LABELS if name in table}
