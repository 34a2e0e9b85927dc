"""Compare analysis reports with dev-set labels (labels.json of ../shared/data/dev).

Each label maps to one prediction read from the `posturecheck.analysis/1` JSON;
a prediction of None means the tool said `unknown`. Used by
`scripts/evaluate_dev.py` and the integration tests.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

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


def _verdict_or_observation(rep: dict[str, Any], rule_id: str, observation: str) -> bool | None:
    """The rule's verdict where the activity has the rule (its band), else the observation."""
    present = any(r["id"] == rule_id for r in rep["rules"])
    return _rule(rep, rule_id) if present else rep["observations"].get(observation)


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
    "legs_crossed": lambda rep: _verdict_or_observation(rep, "posture.legs_crossed", "legs_crossed"),
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


# ---------------------------------------------------------------------------- detector metrics

HAND_CLASSES = ("crossed", "on_hip", "in_pocket", "clasped_front", "behind_back", "hanging", "other")
# Label flag → hand class, in the order a single "main" hand placement is named when several hold.
_HAND_FLAGS = (("arms_crossed", "crossed"), ("hands_on_hips", "on_hip"), ("hands_in_pockets", "in_pocket"),
               ("hands_clasped_front", "clasped_front"), ("hands_behind_back", "behind_back"),
               ("arms_hanging", "hanging"))


@dataclass(frozen=True)
class DetectorMetrics:
    """Precision, recall, F1 and coverage of one yes/no detector against labels.

    `coverage` is the share of labelled items on which the tool gave an answer (not
    unknown); precision/recall/F1 are over the answered items only. Multi-class labels
    (activity, view) use `accuracy` over answered items instead.
    """

    label: str
    n: int
    answered: int
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    correct: int = 0

    @property
    def coverage(self) -> float:
        return self.answered / self.n if self.n else float("nan")

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    @property
    def f1(self) -> float:
        if self.tp == 0:
            return 0.0 if (self.fp or self.fn) else float("nan")
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r)

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else float("nan")


def detector_metrics(pairs: Iterable[tuple[Any, Any]], label: str) -> DetectorMetrics:
    """Metrics from (truth, prediction) pairs; truth None = not labelled, prediction None = unknown."""
    n = answered = tp = fp = fn = tn = correct = 0
    for t, p in pairs:
        if t is None:
            continue
        n += 1
        if p is None:
            continue
        answered += 1
        correct += int(p == t)
        if isinstance(t, bool):
            tp += int(t and p)
            fp += int((not t) and bool(p))
            fn += int(t and not p)
            tn += int((not t) and not p)
    return DetectorMetrics(label, n, answered, tp, fp, fn, tn, correct)


def hand_class_truth(label: dict[str, Any]) -> str | None:
    """The item's main hand placement from its flags (first flag that holds), None if unlabelled."""
    flags = [label.get(k) for k, _ in _HAND_FLAGS]
    for (key, cls), v in zip(_HAND_FLAGS, flags):
        if v is True:
            return cls
    return None if any(v is None for v in flags) else "other"


def hand_class_predicted(report: dict[str, Any]) -> str | None:
    """The report's main hand placement in the same order as `hand_class_truth` (None = unknown)."""
    if "error" in report:
        return None
    hands = set(_hands(report))
    for _, cls in _HAND_FLAGS:
        if cls == "hanging":
            if hands == {"hanging"}:
                return "hanging"
        elif cls in hands:
            return cls
    return None if "unknown" in hands else "other"


def confusion(pairs: Iterable[tuple[str | None, str | None]], classes: Sequence[str]) -> list[list[int]]:
    """Rows = truth, columns = prediction (+ a last column for unknown)."""
    idx = {c: i for i, c in enumerate(classes)}
    m = [[0] * (len(classes) + 1) for _ in classes]
    for t, p in pairs:
        if t is None or t not in idx:
            continue
        m[idx[t]][idx[p] if p in idx else len(classes)] += 1
    return m
