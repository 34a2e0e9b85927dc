"""Rule profiles: the standards' limits, durations, severities and messages as data.

A profile is a TOML file (see `profiles/default.toml`) loaded into frozen,
typed dataclasses. Nothing in the code holds a rule limit; a trainer can copy
the default profile, edit it and pass it with `--profile FILE`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

logger = logging.getLogger(__name__)

PROFILE_SCHEMA = "posturecheck.profile/1"
SEVERITIES = {"major": 2.0, "minor": 1.0}
ALL_VIEWS = ("front", "side", "back", "oblique")
LANGS = ("en", "zh")
UNIT_WORDS = {"zh": {"×shoulder": "倍肩宽"}}


class ProfileError(ValueError):
    """The profile file is missing, not TOML, or does not follow the schema."""


@dataclass(frozen=True)
class Check:
    """One condition on one or more FrameFeatures fields.

    Numeric: `min`/`max` (optionally on the absolute value). Categorical:
    `allowed` or `forbidden` values. Boolean: `equals`. `views` limits the
    check to camera views that can support it.
    """

    features: tuple[str, ...]
    min: float | None = None
    max: float | None = None
    abs: bool = False
    allowed: tuple[str, ...] | None = None
    forbidden: tuple[str, ...] | None = None
    equals: bool | None = None
    views: tuple[str, ...] = ALL_VIEWS
    unit: str = ""
    label: dict[str, str] | None = None    # short name for limit texts, e.g. {"en": "head pitch"}
    message: dict[str, str] | None = None  # replaces the rule's message when this check fails

    @property
    def kind(self) -> str:
        if self.equals is not None:
            return "boolean"
        if self.allowed is not None or self.forbidden is not None:
            return "category"
        return "range"

    def limit_text(self, lang: str | None = None, labelled: bool = True) -> str:
        """Human-readable limit, e.g. `≤ 8°`, `-5..15°`, or `head pitch ≥ -15°` with a label."""
        u = UNIT_WORDS.get(lang or "en", {}).get(self.unit, self.unit)
        pre = "|x| " if self.abs else ""
        if self.label and lang and labelled:
            pre = f"{self.label.get(lang, self.label.get('en', ''))} {pre}"
        if self.kind == "boolean":
            return f"= {str(self.equals).lower()}"
        if self.kind == "category":
            return ("in " + "/".join(self.allowed)) if self.allowed is not None else ("not " + "/".join(self.forbidden or ()))
        if self.min is not None and self.max is not None:
            return f"{pre}{self.min:g}..{self.max:g}{u}"
        if self.max is not None:
            return f"{pre}≤ {self.max:g}{u}"
        return f"{pre}≥ {self.min:g}{u}"


@dataclass(frozen=True)
class Rule:
    """A rule of STANDARDS.md: id, where it applies, what is checked, how it is said."""

    id: str
    activities: tuple[str, ...]
    checks: tuple[Check, ...]
    messages: dict[str, str]
    title: dict[str, str]
    severity: str = "major"
    min_duration_s: float = 1.0
    # "frame": judged on every frame from FrameFeatures; "clip": judged over time from
    # clip-level measurements (arm swing per stride, rhythm, sway, jiggle, bows).
    scope: str = "frame"
    # Per-standard (men/women) replacement checks, e.g. men may hold hands behind the back.
    standard_checks: dict[str, tuple[Check, ...]] = field(default_factory=dict)

    @property
    def weight(self) -> float:
        return SEVERITIES[self.severity]

    def checks_for(self, standard: str | None) -> tuple[Check, ...]:
        if standard and standard in self.standard_checks:
            return self.standard_checks[standard]
        return self.checks

    def limit_text(self, standard: str | None = None, lang: str = "en") -> str | None:
        ranges = [c for c in self.checks_for(standard) if c.kind == "range"]
        parts = [c.limit_text(lang, labelled=len(ranges) > 1) for c in ranges]
        return "; ".join(parts) if parts else None

    def check_for_feature(self, name: str, standard: str | None = None) -> Check | None:
        for c in self.checks_for(standard):
            if name in c.features:
                return c
        return None


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    rules: tuple[Rule, ...]
    min_visibility: float = 0.5
    source: str = ""
    # Grooming: the face model's and the body model's head yaw may differ by this much
    # before the head-angle rules say `unknown` (set in the profile's [defaults]).
    face_body_max_yaw_diff_deg: float = 30.0

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.rules)

    @property
    def frame_rule_ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.rules if r.scope == "frame")


def _tuple(v: Any, where: str) -> tuple[str, ...]:
    if isinstance(v, str):
        return (v,)
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return tuple(v)
    raise ProfileError(f"{where}: expected a string or a list of strings, got {v!r}")


def _num(v: Any, where: str) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ProfileError(f"{where}: expected a number, got {v!r}")
    return float(v)


_CHECK_KEYS = {"feature", "min", "max", "abs", "allowed", "forbidden", "equals", "views", "unit", "label", "message"}


def _check(d: dict[str, Any], where: str) -> Check:
    unknown = set(d) - _CHECK_KEYS
    if unknown:
        raise ProfileError(f"{where}: unknown keys {sorted(unknown)}")
    if "feature" not in d:
        raise ProfileError(f"{where}: a check needs `feature`")
    views = _tuple(d.get("views", list(ALL_VIEWS)), where + ".views")
    bad = set(views) - set(ALL_VIEWS)
    if bad:
        raise ProfileError(f"{where}.views: unknown views {sorted(bad)}")
    c = Check(
        features=_tuple(d["feature"], where + ".feature"),
        min=_num(d.get("min"), where + ".min"),
        max=_num(d.get("max"), where + ".max"),
        abs=bool(d.get("abs", False)),
        allowed=_tuple(d["allowed"], where + ".allowed") if "allowed" in d else None,
        forbidden=_tuple(d["forbidden"], where + ".forbidden") if "forbidden" in d else None,
        equals=d.get("equals"),
        views=views,
        unit=str(d.get("unit", "")),
        label=dict(d["label"]) if "label" in d else None,
        message=dict(d["message"]) if "message" in d else None,
    )
    for key in ("label", "message"):
        if getattr(c, key) is not None and not all(lang in getattr(c, key) for lang in LANGS):
            raise ProfileError(f"{where}.{key}: needs both en and zh")
    if c.kind == "range" and c.min is None and c.max is None:
        raise ProfileError(f"{where}: a check needs min/max, allowed/forbidden or equals")
    if c.min is not None and c.max is not None and c.min > c.max:
        raise ProfileError(f"{where}: min {c.min} is above max {c.max}")
    return c


def _rule(d: dict[str, Any], defaults: dict[str, Any], where: str) -> Rule:
    if "id" not in d:
        raise ProfileError(f"{where}: a rule needs an `id`")
    rid = d["id"]
    where = f"rule {rid}"
    checks = tuple(_check(c, f"{where}.checks[{i}]") for i, c in enumerate(d.get("checks", [])))
    if not checks:
        raise ProfileError(f"{where}: no checks")
    standard_checks = {
        std: tuple(_check(c, f"{where}.standard.{std}[{i}]") for i, c in enumerate(cs))
        for std, cs in d.get("standard", {}).items()
    }
    severity = d.get("severity", defaults.get("severity", "major"))
    if severity not in SEVERITIES:
        raise ProfileError(f"{where}: severity must be one of {sorted(SEVERITIES)}")
    messages = d.get("message", {})
    title = d.get("title", {})
    for lang in LANGS:
        if lang not in messages or lang not in title:
            raise ProfileError(f"{where}: needs `title.{lang}` and `message.{lang}`")
    min_dur = _num(d.get("min_duration_s", defaults.get("min_duration_s", 1.0)), where + ".min_duration_s")
    scope = d.get("scope", "frame")
    if scope not in ("frame", "clip"):
        raise ProfileError(f"{where}: scope must be 'frame' or 'clip'")
    return Rule(
        id=rid,
        activities=_tuple(d.get("activities", []), where + ".activities"),
        checks=checks,
        messages=dict(messages),
        title=dict(title),
        severity=severity,
        min_duration_s=float(min_dur or 0.0),
        scope=scope,
        standard_checks=standard_checks,
    )


def parse_profile(data: dict[str, Any], source: str = "") -> Profile:
    """Build a Profile from parsed TOML, with errors that name the bad rule."""
    if data.get("schema") != PROFILE_SCHEMA:
        raise ProfileError(f"{source or 'profile'}: expected schema = \"{PROFILE_SCHEMA}\"")
    defaults = data.get("defaults", {})
    rules = tuple(_rule(r, defaults, f"rules[{i}]") for i, r in enumerate(data.get("rules", [])))
    ids = [r.id for r in rules]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise ProfileError(f"{source}: duplicate rule ids {sorted(dup)}")
    return Profile(
        name=str(data.get("name", "custom")),
        description=str(data.get("description", "")),
        rules=rules,
        min_visibility=float(defaults.get("min_visibility", 0.5)),
        source=source,
        face_body_max_yaw_diff_deg=float(_num(defaults.get("face_body_max_yaw_diff_deg", 30.0),
                                              "defaults.face_body_max_yaw_diff_deg") or 30.0),
    )


def load_profile(path: str | Path | None = None) -> Profile:
    """Load a profile file, or the default shipped with the package when `path` is None."""
    if path is None:
        text = resources.files("posturecheck.profiles").joinpath("default.toml").read_text(encoding="utf-8")
        source = "default"
    else:
        p = Path(path)
        if not p.is_file():
            raise ProfileError(f"profile not found: {p}")
        text = p.read_text(encoding="utf-8")
        source = str(p)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{source}: not valid TOML ({exc})") from exc
    return parse_profile(data, source)
