"""Rules stage: FrameFeatures + Profile → per-frame verdicts (pass / fail / unknown).

Pure and data-driven: every limit comes from the profile; this module only
knows how to apply a check. `unknown` is returned whenever a needed
measurement is missing or the camera view cannot support it — never a guess.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from .profile import Check, Profile, Rule

logger = logging.getLogger(__name__)

PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"
# Why a verdict is unknown (stable codes, translated by report).
REASON_VIEW = "view"
REASON_HIDDEN = "not_visible"
REASON_ACTIVITY = "activity"
REASON_NO_PERSON = "no_person"
REASON_UNCERTAIN = "uncertain"  # a learned probability inside the profile's abstention band


@dataclass(frozen=True)
class Verdict:
    """One rule on one frame."""

    rule_id: str
    status: str
    value: float | str | bool | None = None
    reason: str | None = None  # for unknown: REASON_*; for fail: the failing feature


def _feature(features: Any, name: str) -> Any:
    """A measurement by name from FrameFeatures (attribute) or clip measurements (mapping)."""
    if isinstance(features, Mapping):
        return features.get(name)
    if not hasattr(features, name):
        raise KeyError(f"profile refers to unknown feature {name!r}")
    return getattr(features, name)


def _apply(check: Check, value: Any) -> str:
    """Status of one check on one measured value."""
    if value is None or value == "unknown":
        return UNKNOWN
    kind = check.kind
    if kind == "probability":
        p = float(value)
        assert check.fail_above is not None and check.pass_below is not None
        if p >= check.fail_above:
            return FAIL
        return PASS if p <= check.pass_below else UNKNOWN
    if kind == "boolean":
        return PASS if bool(value) == check.equals else FAIL
    if kind == "category":
        if check.allowed is not None and value not in check.allowed:
            return FAIL
        if check.forbidden is not None and value in check.forbidden:
            return FAIL
        return PASS
    v = abs(float(value)) if check.abs else float(value)
    if check.min is not None and v < check.min:
        return FAIL
    if check.max is not None and v > check.max:
        return FAIL
    return PASS


def evaluate_rule(rule: Rule, features: Any, *, standard: str | None = None) -> Verdict:
    """Verdict of one rule on one frame's features (or a clip's measurements mapping)."""
    view = features.get("view", "unknown") if isinstance(features, Mapping) else getattr(features, "view", "unknown")
    statuses: list[str] = []
    value: Any = None
    failed_on: str | None = None
    any_view_ok = False
    uncertain = False
    for check in rule.checks_for(standard):
        if view not in check.views:
            continue
        any_view_ok = True
        for name in check.features:
            v = _feature(features, name)
            s = _apply(check, v)
            if s != UNKNOWN and check.min_confidence is not None:
                conf = _feature(features, name + "_conf")
                if conf is None or float(conf) < check.min_confidence:
                    s = UNKNOWN
            uncertain = uncertain or (s == UNKNOWN and v is not None and v != "unknown")
            statuses.append(s)
            if s == FAIL and failed_on is None:
                failed_on, value = name, v  # report the value that broke the rule
            elif value is None and failed_on is None and v is not None and v != "unknown":
                value = v
    if not any_view_ok:
        return Verdict(rule.id, UNKNOWN, None, REASON_VIEW)
    if FAIL in statuses:
        return Verdict(rule.id, FAIL, value, failed_on)
    if UNKNOWN in statuses or not statuses:
        return Verdict(rule.id, UNKNOWN, value, REASON_UNCERTAIN if uncertain else REASON_HIDDEN)
    return Verdict(rule.id, PASS, value)


def rules_for(profile: Profile, activity: str) -> tuple[Rule, ...]:
    """The rules listed for an activity: its own plus every `posture.*` rule.

    For `unknown` every rule a photo can judge (every frame-scope rule) is listed.
    """
    if activity == "unknown":
        return tuple(r for r in profile.rules if r.scope == "frame")
    return tuple(r for r in profile.rules if activity in r.activities or r.id.startswith("posture."))


def applies(rule: Rule, activity: str) -> bool:
    """Whether a rule judges a frame of this activity (`posture.*` rules judge any)."""
    return activity in rule.activities or (activity == "unknown" and rule.id.startswith("posture."))


def evaluate_frame(profile: Profile, features: Any, activity: str, *,
                   rule_ids: Iterable[str] | None = None, standard: str | None = None) -> list[Verdict]:
    """Verdicts for the rules of `activity` (or the given ids) on one frame.

    A rule that does not apply to the frame's activity is `unknown` (reason
    `activity`); with no features (no person) every rule is `unknown`.
    """
    rules = rules_for(profile, activity) if rule_ids is None else tuple(profile.rule(i) for i in rule_ids)
    out: list[Verdict] = []
    for rule in rules:
        if rule.scope != "frame":
            continue  # judged over time by the clip stage
        if features is None:
            out.append(Verdict(rule.id, UNKNOWN, None, REASON_NO_PERSON))
        elif not applies(rule, activity):
            out.append(Verdict(rule.id, UNKNOWN, None, REASON_ACTIVITY))
        else:
            out.append(evaluate_rule(rule, features, standard=standard))
    return out
