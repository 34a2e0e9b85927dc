"""Rule profiles: the standards' limits, durations, severities and messages as data.

A profile is a TOML file (see `profiles/default.toml`) loaded into frozen,
typed dataclasses. Nothing in the code holds a rule limit; a trainer can copy
the default profile, edit it and pass it with `--profile FILE`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from . import registry

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

logger = logging.getLogger(__name__)

PROFILE_SCHEMA = "posturecheck.profile/1"
SEVERITIES = {"major": 2.0, "minor": 1.0}
ALL_VIEWS = ("front", "side", "back", "oblique")
LANGS = ("en", "zh")
# Units as a user reads them (the one table; posturecheck.words and the annotated video use it too).
UNIT_WORDS = {"zh": {"×shoulder": "倍肩宽", "°": "°", "s": "秒"}, "en": {"×shoulder": "× shoulder width", "°": "°", "s": " s"}}
GROOMING_PREFIX = "grooming."


ACTIVITY_NAMES = ("standing", "sitting", "walking")
# Measurements that are magnitudes (never below 0): a negative limit on them can never be met.
NON_NEGATIVE_SUFFIXES = ("_sw", "_ratio", "_cv")
NON_NEGATIVE_FEATURES = frozenset({"trunk_tilt_deg", "knee_angle_min_deg", "knee_angle_max_deg", "head_shake_deg"})


class ProfileError(ValueError):
    """The profile file is missing, not TOML, or does not follow the schema.

    `str(e)` names the file and the field (English); `message_zh` says the same in Chinese.
    """

    def __init__(self, message: str, message_zh: str | None = None) -> None:
        super().__init__(message)
        self.message_zh = message_zh or f"规则配置文件有误：{message}"


def _table(v: Any, where: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise ProfileError(f"{where}: expected a table, got {v!r}")
    return v


def _tables(v: Any, where: str) -> list[dict[str, Any]]:
    """A TOML array of tables ([[...]]); anything else is refused naming the field."""
    if not isinstance(v, list):
        raise ProfileError(f"{where}: expected a list of tables ([[{where.rsplit('.', 1)[-1]}]]), got {v!r}")
    for i, item in enumerate(v):
        if not isinstance(item, dict):
            raise ProfileError(f"{where}[{i}]: expected a table, got {item!r}")
    return v


def known_rule_ids() -> frozenset[str]:
    """The public rule ids: those of the shipped default profile."""
    text = resources.files("posturecheck.profiles").joinpath("default.toml").read_text(encoding="utf-8")
    return frozenset(r["id"] for r in tomllib.loads(text).get("rules", []) if isinstance(r, dict) and "id" in r)


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
    # Probability checks (learned classifiers): fail at or above `fail_above`, pass at or
    # below `pass_below`, `unknown` in between (the abstention band trades coverage for precision).
    fail_above: float | None = None
    pass_below: float | None = None
    # Category checks on a learned category: `unknown` when its `<feature>_conf` is below this.
    min_confidence: float | None = None

    @property
    def kind(self) -> str:
        if self.fail_above is not None:
            return "probability"
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
        if self.kind == "probability":
            return f"p ≥ {self.fail_above:g}"
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
    # Over a clip the rule also fails when it failed for at least this share of its judged
    # time, even in slips each shorter than min_duration_s (see posturecheck.scoring).
    max_fail_share: float = 0.25
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
    # Videos are analysed at most this many frames per second (None: every frame); the
    # derivation is in the profile's [defaults] and README ("Analysis rate").
    analysis_fps: float | None = None

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
    if not math.isfinite(v):
        raise ProfileError(f"{where}: expected a finite number, got {v!r}")
    return float(v)


def _bool(v: Any, where: str) -> bool:
    if not isinstance(v, bool):
        raise ProfileError(f"{where}: expected true or false, got {v!r}")
    return v


def _non_negative(features: tuple[str, ...], absolute: bool) -> bool:
    return absolute or all(f.endswith(NON_NEGATIVE_SUFFIXES) or f in NON_NEGATIVE_FEATURES for f in features)


_CHECK_KEYS = {"feature", "min", "max", "abs", "allowed", "forbidden", "equals", "views", "unit", "label", "message",
               "fail_above", "pass_below", "min_confidence"}


def _probability(v: Any, where: str) -> float | None:
    x = _num(v, where)
    if x is not None and not 0.0 <= x <= 1.0:
        raise ProfileError(f"{where}: a probability must be between 0 and 1, got {v!r}")
    return x


def _validate_features(c: Check, scope: str, where: str) -> None:
    """Every feature the check names exists for the rule's scope and fits the check's kind."""
    allowed_scopes = {"frame": ("frame",), "clip": ("clip", "frame"), "grooming": ("face",)}[scope]
    for name in c.features:
        spec = registry.lookup(name)
        if spec is None or spec.scope not in allowed_scopes:
            hint = registry.close_matches(name)
            raise ProfileError(f"{where}.feature: unknown feature {name!r}"
                               + (f" (did you mean {', '.join(map(repr, hint))}?)" if hint else ""))
        if spec.kind not in registry.CHECK_KINDS[c.kind]:
            raise ProfileError(f"{where}: {name!r} is a {spec.kind} feature; a {c.kind} check cannot use it")
        if c.kind == "category":
            bad = set((c.allowed or ()) + (c.forbidden or ())) - set(spec.values)
            if bad:
                raise ProfileError(f"{where}: {name!r} never takes the values {sorted(bad)} "
                                   f"(it takes {', '.join(spec.values)})")
            if c.min_confidence is not None and registry.lookup(name + "_conf") is None:
                raise ProfileError(f"{where}: {name!r} has no confidence, so min_confidence cannot apply")


def _check(d: dict[str, Any], where: str) -> Check:
    d = _table(d, where)
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
        abs=_bool(d.get("abs", False), where + ".abs"),
        allowed=_tuple(d["allowed"], where + ".allowed") if "allowed" in d else None,
        forbidden=_tuple(d["forbidden"], where + ".forbidden") if "forbidden" in d else None,
        equals=None if d.get("equals") is None else _bool(d["equals"], where + ".equals"),
        views=views,
        unit=str(d.get("unit", "")),
        label=dict(_table(d["label"], where + ".label")) if "label" in d else None,
        message=dict(_table(d["message"], where + ".message")) if "message" in d else None,
        fail_above=_probability(d.get("fail_above"), where + ".fail_above"),
        pass_below=_probability(d.get("pass_below"), where + ".pass_below"),
        min_confidence=_probability(d.get("min_confidence"), where + ".min_confidence"),
    )
    if (c.fail_above is None) != (c.pass_below is None):
        raise ProfileError(f"{where}: a probability check needs both fail_above and pass_below")
    if c.fail_above is not None and c.pass_below is not None and c.pass_below > c.fail_above:
        raise ProfileError(f"{where}: pass_below {c.pass_below} is above fail_above {c.fail_above}")
    if c.min_confidence is not None and c.kind != "category":
        raise ProfileError(f"{where}: min_confidence applies to category checks only")
    for key in ("label", "message"):
        if getattr(c, key) is not None and not all(lang in getattr(c, key) for lang in LANGS):
            raise ProfileError(f"{where}.{key}: needs both en and zh")
    if c.kind == "range" and c.min is None and c.max is None:
        raise ProfileError(f"{where}: a check needs min/max, allowed/forbidden or equals")
    if c.min is not None and c.max is not None and c.min > c.max:
        raise ProfileError(f"{where}: min {c.min} is above max {c.max}")
    if _non_negative(c.features, c.abs):
        for key in ("max", "min"):
            v = getattr(c, key)
            if v is not None and v < 0:
                raise ProfileError(f"{where}.{key}: {v:g} can never be met: "
                                   f"{'|x|' if c.abs else ', '.join(c.features)} is never negative")
    return c


def _rule(d: dict[str, Any], defaults: dict[str, Any], where: str,
          known_ids: frozenset[str] | None = None) -> Rule:
    d = _table(d, where)
    if "id" not in d:
        raise ProfileError(f"{where}: a rule needs an `id`")
    rid = d["id"]
    if not isinstance(rid, str):
        raise ProfileError(f"{where}.id: expected a rule id string, got {rid!r}")
    if known_ids is not None and rid not in known_ids:
        raise ProfileError(f"{where}.id: unknown rule id {rid!r} (rule ids are fixed; see `posturecheck rules`)")
    where = f"rule {rid}"
    checks = tuple(_check(c, f"{where}.checks[{i}]") for i, c in enumerate(_tables(d.get("checks", []), where + ".checks")))
    if not checks:
        raise ProfileError(f"{where}: no checks")
    standard_checks = {
        std: tuple(_check(c, f"{where}.standard.{std}[{i}]") for i, c in enumerate(_tables(cs, f"{where}.standard.{std}")))
        for std, cs in _table(d.get("standard", {}), where + ".standard").items()
    }
    bad_std = set(standard_checks) - {"men", "women"}
    if bad_std:
        raise ProfileError(f"{where}.standard: unknown standards {sorted(bad_std)} (men, women)")
    severity = d.get("severity", defaults.get("severity", "major"))
    if severity not in SEVERITIES:
        raise ProfileError(f"{where}: severity must be one of {sorted(SEVERITIES)}")
    messages = _table(d.get("message", {}), where + ".message")
    title = _table(d.get("title", {}), where + ".title")
    for lang in LANGS:
        if lang not in messages or lang not in title:
            raise ProfileError(f"{where}: needs `title.{lang}` and `message.{lang}`")
    min_dur = _num(d.get("min_duration_s", defaults.get("min_duration_s", 1.0)), where + ".min_duration_s")
    if min_dur is not None and min_dur < 0:
        raise ProfileError(f"{where}.min_duration_s: a duration cannot be negative ({min_dur:g})")
    share = _num(d.get("max_fail_share", defaults.get("max_fail_share", 0.25)), where + ".max_fail_share")
    if share is None or not 0.0 < share <= 1.0:
        raise ProfileError(f"{where}.max_fail_share: expected a share above 0 and at most 1, got {share!r}")
    activities = _tuple(d.get("activities", []), where + ".activities")
    bad_acts = [a for a in activities if a not in ACTIVITY_NAMES]
    if bad_acts:
        raise ProfileError(f"{where}.activities: unknown {bad_acts} (allowed: {', '.join(ACTIVITY_NAMES)})")
    scope = d.get("scope", "frame")
    if scope not in ("frame", "clip"):
        raise ProfileError(f"{where}: scope must be 'frame' or 'clip'")
    # grooming.* rules are judged on the face stage's measurements (see grooming.is_grooming)
    feature_scope = "grooming" if str(rid).startswith(GROOMING_PREFIX) else scope
    for i, c in enumerate(checks):
        _validate_features(c, feature_scope, f"{where}.checks[{i}]")
    for std, cs in standard_checks.items():
        for i, c in enumerate(cs):
            _validate_features(c, feature_scope, f"{where}.standard.{std}[{i}]")
    return Rule(
        id=rid,
        activities=activities,
        checks=checks,
        messages=dict(messages),
        title=dict(title),
        severity=severity,
        min_duration_s=float(min_dur or 0.0),
        max_fail_share=float(share),
        scope=scope,
        standard_checks=standard_checks,
    )


def parse_profile(data: dict[str, Any], source: str = "") -> Profile:
    """Build a Profile from parsed TOML; errors name the file and the bad field."""
    try:
        return _parse_profile(data, source)
    except ProfileError as exc:
        if source and not str(exc).startswith(source):
            raise ProfileError(f"{source}: {exc}") from exc
        raise


# The fastest signal judged over time is the leg jiggle (overtime.JIGGLE_BAND_HZ, up to 8 Hz):
# it needs more than twice that many frames per second (Nyquist), so `analysis_fps` below
# this is refused. tests/test_overtime.py keeps the two in step.
MIN_ANALYSIS_FPS = 16.0


def _parse_profile(data: dict[str, Any], source: str) -> Profile:
    if data.get("schema") != PROFILE_SCHEMA:
        raise ProfileError(f"{source or 'profile'}: expected schema = \"{PROFILE_SCHEMA}\"")
    defaults = _table(data.get("defaults", {}), "defaults")
    default_min_dur = _num(defaults.get("min_duration_s", 1.0), "defaults.min_duration_s")
    if default_min_dur is not None and default_min_dur < 0:
        raise ProfileError(f"defaults.min_duration_s: a duration cannot be negative ({default_min_dur:g})")
    min_visibility = _num(defaults.get("min_visibility", 0.5), "defaults.min_visibility")
    if min_visibility is None or not 0.0 <= min_visibility <= 1.0:
        raise ProfileError(f"defaults.min_visibility: expected a number from 0 to 1, got {min_visibility!r}")
    analysis_fps = _num(defaults.get("analysis_fps"), "defaults.analysis_fps")
    if analysis_fps is not None and analysis_fps < MIN_ANALYSIS_FPS:
        raise ProfileError(f"defaults.analysis_fps: at least {MIN_ANALYSIS_FPS:g} frames per second (twice the "
                           f"fastest leg jiggle judged, 8 Hz), got {analysis_fps:g}")
    known = None if source == "default" else known_rule_ids()
    rules = tuple(_rule(r, defaults, f"rules[{i}]", known) for i, r in enumerate(_tables(data.get("rules", []), "rules")))
    ids = [r.id for r in rules]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise ProfileError(f"{source}: duplicate rule ids {sorted(dup)}")
    return Profile(
        name=str(data.get("name", "custom")),
        description=str(data.get("description", "")),
        rules=rules,
        min_visibility=float(min_visibility),
        source=source,
        face_body_max_yaw_diff_deg=float(_num(defaults.get("face_body_max_yaw_diff_deg", 30.0),
                                              "defaults.face_body_max_yaw_diff_deg") or 30.0),
        analysis_fps=float(analysis_fps) if analysis_fps is not None else None,
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
        source = str(p)
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ProfileError(f"{source}: not UTF-8 text (byte {exc.start}); save the file as UTF-8",
                               f"{source}：不是 UTF-8 编码（第 {exc.start} 字节）；请另存为 UTF-8") from exc
        except OSError as exc:
            raise ProfileError(f"{source}: cannot be read ({exc.strerror})",
                               f"{source}：无法读取（{exc.strerror}）") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{source}: not valid TOML ({exc})") from exc
    return parse_profile(data, source)
