"""The one definition of a rule's clip verdict and of the session score (pure, no I/O).

Used by every place that shows a score or a verdict (CLI, app, kiosk, HTML report,
exports, history), so a score can never contradict the verdict table beside it.

- **A rule over a clip fails** when it fails continuously for at least its
  `min_duration_s`, *or* when it fails for at least `max_fail_share` of the time it
  could be judged (both from the profile). Shorter, rarer slips pass, and a rule that
  passes therefore never shows more than `max_fail_share` of its time failed.
  A photo is one frame: its verdict is that frame's.
- **The score** (0–100) is the severity-weighted share of the *judged* rules that are
  met: a passed rule counts its weight (`major` 2, `minor` 1), a failed rule 0, an
  `unknown` rule is left out. So the score is 100 exactly when no judged rule failed.
- **No score** (`None`, shown as "not judged") when no body rule could be judged:
  face (`grooming.*`) rules alone never make a posture score.
"""

from __future__ import annotations

from typing import Sequence

from .profile import GROOMING_PREFIX, Profile, Rule
from .rules import FAIL, PASS

__all__ = ["clip_fails", "score"]


def clip_fails(rule: Rule, sustained: bool, fail_fraction: float | None) -> bool:
    """Whether a rule fails over a clip: a sustained failure, or failed for its share of the judged time."""
    if sustained:
        return True
    return fail_fraction is not None and fail_fraction + 1e-9 >= rule.max_fail_share


def score(summaries: Sequence[object], profile: Profile) -> float | None:
    """0–100 severity-weighted share of judged rules met; None when no body rule was judged.

    `summaries` are `session.RuleSummary`-like objects (`rule_id`, `status`).
    """
    met = total = 0.0
    body_judged = False
    for s in summaries:
        status = getattr(s, "status")
        if status not in (PASS, FAIL):
            continue
        rule_id = getattr(s, "rule_id")
        weight = profile.rule(rule_id).weight
        total += weight
        met += weight if status == PASS else 0.0
        body_judged = body_judged or not rule_id.startswith(GROOMING_PREFIX)
    if not body_judged or total <= 0:
        return None
    return round(100.0 * met / total, 1)
