"""Guided drills as a pure state machine (no Streamlit, no camera): frames in, one state out.

A drill (`profiles/drills.toml`) is a countdown, then steps. A step is done when the
trainee has held its activity for `hold_s` seconds in a row; with `require_pass` only
time in which no *blocking* check fails counts. What the page says and what the hold
timer shows both come from one `DrillProgress.state`, so the page can never say
"good, keep it" while the timer is not counting.

A drill never gets stuck on something the camera cannot judge:
- a check that is `unknown` never blocks the hold (only `fail` does);
- `advisory` checks (e.g. `grooming.*`: the face model at 2–3 m, head yaw the body
  disagrees with) are shown and spoken but never block it;
- a step not done within its `timeout_s` shows a hint naming what blocked it most, the
  trainee may skip it at any time, and after `auto_skip_after_s` more it is skipped
  by itself (an unattended kiosk always moves on). Skipped steps are reported as such.
Every limit lives in the drills file (`[defaults]`, overridable per drill and step).
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

from .rules import FAIL

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

DRILLS_SCHEMA = "posturecheck.drills/1"
ACTIVITIES_FOR_STEPS = ("standing", "sitting", "walking", "any")

# Drill states (DrillProgress.state): what the page shows and says.
COUNTDOWN = "countdown"          # before the first step: 3, 2, 1
NO_PERSON = "no_person"          # nobody in view
WRONG_ACTIVITY = "wrong_activity"  # e.g. walking while the step asks to stand
FIX = "fix"                      # right activity, a blocking check fails: the timer does not count
READY = "ready"                  # a new step just began in the right activity: its timer starts next frame
HOLDING = "holding"              # the timer counts (the only state that may say "good")
DONE = "done"

# Used when a drills file has no [defaults] (values of the shipped file).
FALLBACK_DEFAULTS: dict[str, Any] = {
    "countdown_s": 3.0, "hold_grace_s": 0.3, "step_timeout_s": 30.0, "auto_skip_after_s": 15.0,
    "advisory": ["grooming.*"],
    "hint": {"en": "Hard to get? Check the camera sees your whole body, or skip this step.",
             "zh": "做不到？请确认镜头能看到全身，或跳过这一步。"},
}


class DrillError(ValueError):
    """The drills file is missing or does not follow the schema."""


@dataclass(frozen=True)
class DrillStep:
    """One step of a drill: reach `activity` (within `within_s`) and hold it for `hold_s`."""

    activity: str
    hold_s: float
    prompt: dict[str, str]
    within_s: float | None = None
    require_pass: bool = True
    min_trunk_tilt_deg: float | None = None
    timeout_s: float = FALLBACK_DEFAULTS["step_timeout_s"]
    hint: dict[str, str] = field(default_factory=lambda: dict(FALLBACK_DEFAULTS["hint"]))

    def prompt_text(self, lang: str) -> str:
        text = self.prompt.get(lang) or self.prompt.get("en", "")
        try:
            return text.format(hold=self.hold_s, angle=self.min_trunk_tilt_deg or 0.0)
        except (KeyError, ValueError, IndexError):
            return text

    def hint_text(self, lang: str) -> str:
        return self.hint.get(lang) or self.hint.get("en", "")


@dataclass(frozen=True)
class Drill:
    id: str
    title: dict[str, str]
    steps: tuple[DrillStep, ...]
    analysis_activity: str = "auto"
    kiosk_only: bool = False
    countdown_s: float = 0.0
    hold_grace_s: float = FALLBACK_DEFAULTS["hold_grace_s"]
    auto_skip_after_s: float | None = FALLBACK_DEFAULTS["auto_skip_after_s"]
    advisory: tuple[str, ...] = ()   # rule-id patterns that never block a hold

    @property
    def activities(self) -> tuple[str, ...]:
        """Activities whose rules the drill's checklist shows (in step order)."""
        seen: list[str] = []
        for s in self.steps:
            acts = ("standing", "sitting", "walking") if s.activity == "any" else (s.activity,)
            for a in acts:
                if a not in seen:
                    seen.append(a)
        return tuple(seen)

    def is_advisory(self, rule_id: str) -> bool:
        return any(fnmatch.fnmatchcase(rule_id, pat) for pat in self.advisory)


def _num(d: dict[str, Any], key: str, default: Any, where: str) -> Any:
    value = d.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DrillError(f"{where}: {key} must be a number")
    if value < 0:
        raise DrillError(f"{where}: {key} must be >= 0")
    return float(value)


def _texts(value: Any, where: str, key: str) -> dict[str, str]:
    if not isinstance(value, dict) or not value.get("en") or not value.get("zh"):
        raise DrillError(f"{where}: needs {key}.en and {key}.zh")
    return {"en": str(value["en"]), "zh": str(value["zh"])}


def _drill_step(d: dict[str, Any], where: str, defaults: dict[str, Any]) -> DrillStep:
    act = d.get("activity")
    if act not in ACTIVITIES_FOR_STEPS:
        raise DrillError(f"{where}: activity must be one of {ACTIVITIES_FOR_STEPS}")
    prompt = _texts(d.get("prompt"), where, "prompt")
    hint = _texts(d.get("hint", defaults["hint"]), where, "hint")
    return DrillStep(act, _num(d, "hold_s", 0.0, where), prompt, _num(d, "within_s", None, where),
                     bool(d.get("require_pass", True)), _num(d, "min_trunk_tilt_deg", None, where),
                     _num(d, "timeout_s", defaults["step_timeout_s"], where), hint)


def _defaults(data: dict[str, Any]) -> dict[str, Any]:
    raw = data.get("defaults", {})
    if not isinstance(raw, dict):
        raise DrillError("drills: [defaults] must be a table")
    out = dict(FALLBACK_DEFAULTS)
    for key in ("countdown_s", "hold_grace_s", "step_timeout_s", "auto_skip_after_s"):
        out[key] = _num(raw, key, out[key], "defaults")
    if "hint" in raw:
        out["hint"] = _texts(raw["hint"], "defaults", "hint")
    adv = raw.get("advisory", out["advisory"])
    if not isinstance(adv, list) or not all(isinstance(a, str) for a in adv):
        raise DrillError("defaults: advisory must be a list of rule ids (wildcards allowed)")
    out["advisory"] = adv
    return out


def parse_drills(data: dict[str, Any]) -> dict[str, Drill]:
    """Drills by id from parsed TOML."""
    if data.get("schema") != DRILLS_SCHEMA:
        raise DrillError(f"drills: expected schema = \"{DRILLS_SCHEMA}\"")
    defaults = _defaults(data)
    out: dict[str, Drill] = {}
    for i, d in enumerate(data.get("drills", [])):
        did = d.get("id")
        if not did:
            raise DrillError(f"drills[{i}]: needs an id")
        where = f"drill {did}"
        steps = tuple(_drill_step(s, f"{where}.steps[{j}]", defaults) for j, s in enumerate(d.get("steps", [])))
        if not steps:
            raise DrillError(f"{where}: no steps")
        title = _texts(d.get("title"), where, "title")
        act = d.get("analysis_activity", "auto")
        if act not in ("auto", "standing", "sitting", "walking"):
            raise DrillError(f"{where}: analysis_activity must be auto, standing, sitting or walking")
        adv = d.get("advisory", defaults["advisory"])
        if not isinstance(adv, list):
            raise DrillError(f"{where}: advisory must be a list of rule ids")
        out[did] = Drill(did, title, steps, act, bool(d.get("kiosk_only", False)),
                         _num(d, "countdown_s", defaults["countdown_s"], where),
                         _num(d, "hold_grace_s", defaults["hold_grace_s"], where),
                         _num(d, "auto_skip_after_s", defaults["auto_skip_after_s"], where),
                         tuple(str(a) for a in adv))
    return out


def load_drills(path: str | Path | None = None) -> dict[str, Drill]:
    """The shipped drills (profiles/drills.toml) or a drills file."""
    if path is None:
        text = resources.files("posturecheck.profiles").joinpath("drills.toml").read_text(encoding="utf-8")
    else:
        p = Path(path)
        if not p.is_file():
            raise DrillError(f"drills file not found: {p}")
        text = p.read_text(encoding="utf-8")
    try:
        return parse_drills(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise DrillError(f"drills: not valid TOML ({exc})") from exc


@dataclass(frozen=True)
class StepResult:
    """How one finished step went: time to reach it after the cue, whether in time, whether skipped."""

    reached_after_s: float | None  # None when the step was skipped before it was reached
    in_time: bool | None           # None when the step has no time limit (or was skipped)
    skipped: bool = False


@dataclass(frozen=True)
class DrillProgress:
    """Everything the page shows and says about the drill, from one state."""

    drill_id: str
    step_index: int          # == steps_total when done
    steps_total: int
    hold_s: float
    hold_target_s: float
    step_elapsed_s: float
    done: bool
    late: bool               # the current step's time limit has passed without reaching it
    results: tuple[StepResult, ...] = ()
    state: str = HOLDING
    counting: bool = False   # the hold timer is running on this frame (only then may the page say "good")
    activity: str = "unknown"        # the activity seen on this frame
    blocking: tuple[str, ...] = ()   # failing checks that stop the timer on this frame
    timed_out: bool = False          # the step is past its timeout: show its hint and offer "skip"
    worst_blocker: str | None = None  # the check that blocked this step most (for the hint)
    countdown_left_s: float = 0.0
    auto_skip_in_s: float | None = None  # seconds until the step is skipped by itself (after the timeout)


class DrillRunner:
    """Steps through a drill as frames arrive (timestamps in ms, monotonic); `skip()` any time."""

    def __init__(self, drill: Drill) -> None:
        self.drill = drill
        self.reset()

    def reset(self) -> None:
        self._index = 0
        self._countdown_start_ms: int | None = None
        self._step_start_ms: int | None = None
        self._hold_start_ms: int | None = None
        self._last_ok_ms: int | None = None
        self._reached_ms: int | None = None
        self._last_ms: int | None = None
        self._blockers: Counter[str] = Counter()
        self._results: list[StepResult] = []
        first = self.drill.steps[0]
        self._progress = DrillProgress(self.drill.id, 0, len(self.drill.steps), 0.0, first.hold_s, 0.0, False, False,
                                       state=NO_PERSON, countdown_left_s=self.drill.countdown_s)

    @property
    def progress(self) -> DrillProgress:
        return self._progress

    def skip(self) -> DrillProgress:
        """The trainee skips the current step now (during the countdown: starts the first step).

        Applied at once, not at the next analysed frame: a skip must work even when the
        camera or the model has stopped delivering.
        """
        steps = self.drill.steps
        if self._index >= len(steps):
            return self._progress
        t = self._last_ms if self._last_ms is not None else 0
        activity = self._progress.activity
        if self._step_start_ms is None:  # countdown (or nobody seen yet): begin the first step
            self._step_start_ms = t
            return self._emit(t, NO_PERSON if activity == "unknown" else WRONG_ACTIVITY, activity, 0.0, 0.0)
        reached = None if self._reached_ms is None else round((self._reached_ms - self._step_start_ms) / 1000.0, 2)
        self._next_step(t, StepResult(reached, None, skipped=True))
        if self._index >= len(steps):
            return self._emit(t, DONE, activity, 0.0, 0.0)
        return self._emit(t, NO_PERSON if activity == "unknown" else WRONG_ACTIVITY, activity, 0.0, 0.0)

    def _blocking(self, step: DrillStep, verdicts: Sequence[Any]) -> tuple[str, ...]:
        if not step.require_pass:
            return ()
        return tuple(v.rule_id for v in verdicts if v.status == FAIL and not self.drill.is_advisory(v.rule_id))

    def _activity_ok(self, step: DrillStep, rec: Any) -> bool:
        act_ok = rec.activity != "unknown" if step.activity == "any" else rec.activity == step.activity
        if act_ok and step.min_trunk_tilt_deg is not None:
            tilt = getattr(rec.features, "trunk_tilt_deg", None)
            act_ok = tilt is not None and tilt >= step.min_trunk_tilt_deg
        return act_ok

    def _next_step(self, t: int, result: StepResult) -> None:
        self._results.append(result)
        self._index += 1
        self._step_start_ms = t
        self._hold_start_ms = self._last_ok_ms = self._reached_ms = None
        self._blockers.clear()

    def update(self, rec: Any) -> DrillProgress:
        """One analysed frame (a `session.FrameRecord`): advance the drill and return its state."""
        steps = self.drill.steps
        t = rec.timestamp_ms
        self._last_ms = t
        if self._index >= len(steps):
            return self._progress
        grace_ms = self.drill.hold_grace_s * 1000.0
        # Countdown: starts when someone is first seen, then the first step begins.
        if self.drill.countdown_s > 0 and self._step_start_ms is None:
            if self._countdown_start_ms is None:
                if not rec.person_found:
                    return self._emit(t, NO_PERSON, rec.activity, 0.0, 0.0, countdown_left=self.drill.countdown_s)
                self._countdown_start_ms = t
            left = self.drill.countdown_s - (t - self._countdown_start_ms) / 1000.0
            if left > 0:
                return self._emit(t, COUNTDOWN, rec.activity, 0.0, 0.0, countdown_left=left)
        if self._step_start_ms is None:
            self._step_start_ms = t
        step = steps[self._index]
        elapsed = (t - self._step_start_ms) / 1000.0
        if self.drill.auto_skip_after_s is not None and elapsed >= step.timeout_s + self.drill.auto_skip_after_s:
            reached = None if self._reached_ms is None else round((self._reached_ms - self._step_start_ms) / 1000.0, 2)
            self._next_step(t, StepResult(reached, None, skipped=True))
            return self._after_step(t, rec)
        blocking: tuple[str, ...] = ()
        if not rec.person_found:
            state, counts = NO_PERSON, False
        elif not self._activity_ok(step, rec):
            state, counts = WRONG_ACTIVITY, False
        else:
            if self._reached_ms is None:
                self._reached_ms = t
            blocking = self._blocking(step, rec.verdicts)
            self._blockers.update(blocking)
            state, counts = (FIX, False) if blocking else (HOLDING, True)
        if counts:
            if self._hold_start_ms is None or (self._last_ok_ms is not None and t - self._last_ok_ms > grace_ms):
                self._hold_start_ms = t
            self._last_ok_ms = t
        elif self._last_ok_ms is not None and t - self._last_ok_ms > grace_ms:
            self._hold_start_ms = None
        # Inside the grace period a brief slip keeps counting (and the page keeps saying so).
        counting = self._hold_start_ms is not None and (counts or (self._last_ok_ms is not None
                                                                   and t - self._last_ok_ms <= grace_ms))
        if counting and not counts:
            state = HOLDING
        hold = (t - self._hold_start_ms) / 1000.0 if counting and self._hold_start_ms is not None else 0.0
        if counting and hold >= step.hold_s and self._reached_ms is not None:
            reached_after = (self._reached_ms - self._step_start_ms) / 1000.0
            in_time = None if step.within_s is None else reached_after <= step.within_s
            self._next_step(t, StepResult(round(reached_after, 2), in_time))
            return self._after_step(t, rec)
        return self._emit(t, state, rec.activity, hold, elapsed, counting=counting, blocking=blocking)

    def _after_step(self, t: int, rec: Any) -> DrillProgress:
        if self._index >= len(self.drill.steps):
            return self._emit(t, DONE, rec.activity, 0.0, 0.0)
        step = self.drill.steps[self._index]
        state = NO_PERSON if not rec.person_found else READY if self._activity_ok(step, rec) else WRONG_ACTIVITY
        return self._emit(t, state, rec.activity, 0.0, 0.0)

    def _emit(self, t: int, state: str, activity: str | None, hold: float, elapsed: float, *, counting: bool = False,
              blocking: tuple[str, ...] = (), countdown_left: float = 0.0) -> DrillProgress:
        steps = self.drill.steps
        done = self._index >= len(steps)
        step = steps[min(self._index, len(steps) - 1)]
        late = (not done and step.within_s is not None and self._reached_ms is None and elapsed > step.within_s)
        timed_out = not done and state != COUNTDOWN and elapsed >= step.timeout_s
        auto_in = None
        if timed_out and self.drill.auto_skip_after_s is not None:
            auto_in = max(0.0, step.timeout_s + self.drill.auto_skip_after_s - elapsed)
        worst = self._blockers.most_common(1)[0][0] if self._blockers else None
        self._progress = DrillProgress(
            self.drill.id, self._index, len(steps), round(hold, 2), step.hold_s, round(elapsed, 2), done,
            late, tuple(self._results), DONE if done else state, counting and not done,
            activity or "unknown", blocking, timed_out, worst,
            round(max(0.0, countdown_left), 2), None if auto_in is None else round(auto_in, 1))
        return self._progress
