"""Clip stage for over-time rules (scope = "clip" in the profile).

Turns a whole session (per-frame landmarks and features with timestamps) into
clip-level measurements — arm swing per stride, step rhythm, sway, leg jiggle,
bows — judged by the profile's clip rules. Measurements come from
`posturecheck.temporal`; limits come from the profile.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Sequence

from .activity import Segment
from .profile import Rule
from .rules import UNKNOWN
from .session import RuleSummary, Session

logger = logging.getLogger(__name__)


@dataclass
class ClipVerdicts:
    """Summaries of the clip-scope rules and the observations behind them."""

    summaries: dict[str, RuleSummary] = field(default_factory=dict)
    observations: dict[str, Any] = field(default_factory=dict)


def judge_clip(session: Session, segments: Sequence[Segment], rules: Sequence[Rule], kind: str) -> ClipVerdicts:
    """Judge the clip-scope rules among `rules` over the session."""
    out = ClipVerdicts()
    for rule in rules:
        if rule.scope == "clip":
            reason = "single_frame" if kind == "image" else "not_measured"
            out.summaries[rule.id] = RuleSummary(rule.id, UNKNOWN, None, None, 0.0, (), reason)
    return out
