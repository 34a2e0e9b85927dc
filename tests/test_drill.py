"""The drill state machine (posturecheck.drill): no Streamlit, no camera, no model.

A drill must never get stuck: a stuck check times out with a hint, the trainee can skip,
the step is skipped by itself later, unknown and advisory checks never block, and the
page may only say "good" while the hold timer counts.
"""

from __future__ import annotations

import pytest

from posturecheck.drill import (COUNTDOWN, DONE, FIX, HOLDING, NO_PERSON, READY, WRONG_ACTIVITY, DrillError,
                                DrillRunner, load_drills, parse_drills)
from posturecheck.rules import FAIL, PASS, UNKNOWN, Verdict
from posturecheck.session import FrameRecord

STEP_MS = 40


def rec(t_ms: int, activity: str = "standing", status: str = PASS, person: bool = True,
        extra: tuple[Verdict, ...] = ()) -> FrameRecord:
    return FrameRecord(0, t_ms, person, int(person), activity, "front", None,
                       (Verdict("standing.trunk_upright", status, 3.0, None),) + extra)


def no_countdown(drill_id: str):
    from dataclasses import replace

    return replace(load_drills()[drill_id], countdown_s=0.0)


def run(runner: DrillRunner, t0: int, t1: int, **kw):
    p = None
    for t in range(t0, t1, STEP_MS):
        p = runner.update(rec(t, **kw))
    return p


def test_shipped_drills_are_complete_and_carry_their_limits():
    drills = load_drills()
    assert {"auto", "standing", "sitting", "walking", "greeting", "bow", "kiosk"} <= set(drills)
    for d in drills.values():
        assert d.title["zh"] and d.title["en"]
        assert d.countdown_s == 3 and d.auto_skip_after_s == 15 and d.is_advisory("grooming.smile")
        assert not d.is_advisory("standing.trunk_upright")
        for s in d.steps:
            assert s.prompt_text("zh") and s.prompt_text("en") and "{" not in s.prompt_text("zh")
            assert s.hint_text("zh") and s.hint_text("en") and s.timeout_s > s.hold_s
    assert [s.activity for s in drills["kiosk"].steps] == ["standing", "sitting", "standing", "walking"]
    assert drills["kiosk"].steps[0].timeout_s == 25 and "2-3" in drills["kiosk"].steps[0].hint_text("en")
    assert drills["greeting"].steps[1].within_s == 2
    assert drills["kiosk"].kiosk_only and not drills["standing"].kiosk_only


def test_bad_drills_file_is_a_clear_error():
    with pytest.raises(DrillError, match="schema"):
        parse_drills({"drills": []})
    with pytest.raises(DrillError, match="activity"):
        parse_drills({"schema": "posturecheck.drills/1", "drills": [
            {"id": "x", "title": {"en": "x", "zh": "x"}, "steps": [{"activity": "dancing", "prompt": {"en": "a", "zh": "a"}}]}]})
    with pytest.raises(DrillError, match="timeout_s must be a number"):
        parse_drills({"schema": "posturecheck.drills/1", "drills": [
            {"id": "x", "title": {"en": "x", "zh": "x"},
             "steps": [{"activity": "standing", "timeout_s": "long", "prompt": {"en": "a", "zh": "a"}}]}]})


def test_countdown_starts_when_someone_is_seen_then_the_first_step():
    runner = DrillRunner(load_drills()["standing"])
    p = runner.update(rec(0, person=False))
    assert p.state == NO_PERSON and not p.counting
    p = run(runner, 1000, 3000)
    assert p.state == COUNTDOWN and 0.9 < p.countdown_left_s < 1.1 and p.hold_s == 0 and not p.counting
    p = run(runner, 3000, 6000)
    assert p.state == HOLDING and p.counting and 1.8 < p.hold_s < 2.0


def test_hold_timer_counts_only_clean_time_and_resets_on_a_fault():
    runner = DrillRunner(no_countdown("standing"))
    p = run(runner, 0, 5000)
    assert 4.8 <= p.hold_s <= 5.0 and not p.done and p.state == HOLDING and p.counting
    p = run(runner, 5000, 6000, status=FAIL)  # a sustained fault resets the hold
    assert p.hold_s == 0.0 and p.state == FIX and not p.counting and p.blocking == ("standing.trunk_upright",)
    p = run(runner, 6000, 16200)
    assert p.done and p.state == DONE and p.step_index == 1 and p.results[0].in_time is None


def test_short_flicker_does_not_reset_the_hold():
    runner = DrillRunner(no_countdown("standing"))
    run(runner, 0, 3000)
    p = runner.update(rec(3000, status=FAIL))  # one bad frame (< hold_grace_s): still counting, still "holding"
    assert p.counting and p.state == HOLDING
    p = runner.update(rec(3040))
    assert p.hold_s > 2.9


def test_good_is_only_ever_said_while_the_timer_counts():
    """Every frame: state HOLDING <=> counting, and the hold only grows while counting."""
    runner = DrillRunner(load_drills()["kiosk"])
    pattern = ["standing", "walking", "standing", "standing", "sitting", "unknown"]
    t, last_hold = 0, 0.0
    for i in range(3000):
        act = pattern[(i // 37) % len(pattern)]
        status = FAIL if (i // 23) % 3 == 0 else PASS
        p = runner.update(rec(t, activity=act, status=status, person=(i // 101) % 7 != 0))
        assert (p.state == HOLDING) == p.counting, p
        if p.counting:
            assert p.hold_s >= 0
        else:
            assert p.hold_s == 0.0
        last_hold = p.hold_s
        t += STEP_MS
    assert last_hold >= 0


def test_walking_while_asked_to_stand_says_so_and_never_good():
    runner = DrillRunner(no_countdown("kiosk"))
    p = run(runner, 0, 4000, activity="walking")
    assert p.state == WRONG_ACTIVITY and p.activity == "walking" and not p.counting and p.hold_s == 0


def test_unknown_and_advisory_checks_never_block_the_hold():
    """Issue 9: the face model put the head at 29-42 deg yaw while the body faced the camera.
    Such a check is unknown (face/body disagree) or advisory (grooming.*): the hold counts."""
    runner = DrillRunner(no_countdown("kiosk"))
    noisy = (Verdict("grooming.eyes_forward", FAIL, 35.0, "head_yaw_deg"),
             Verdict("grooming.smile", UNKNOWN, None, "face_body_disagree"),
             Verdict("standing.feet", UNKNOWN, None, "not_visible"))
    p = run(runner, 0, 5200, extra=noisy)
    assert p.step_index == 1 and p.results[0].skipped is False


def test_stuck_check_times_out_with_a_hint_then_can_be_skipped():
    drill = no_countdown("kiosk")
    step = drill.steps[0]
    runner = DrillRunner(drill)
    p = run(runner, 0, int(step.timeout_s * 1000) - 200, status=FAIL)
    assert p.state == FIX and not p.timed_out and p.hold_s == 0
    p = run(runner, int(step.timeout_s * 1000) - 200, int(step.timeout_s * 1000) + 200, status=FAIL)
    assert p.timed_out and p.worst_blocker == "standing.trunk_upright" and p.auto_skip_in_s is not None
    assert step.hint_text("zh") and step.hint_text("en")
    p = runner.skip()  # at once, even if no further frame is ever analysed
    assert p.step_index == 1 and p.results[0].skipped and p.results[0].in_time is None
    assert not p.timed_out and p.hold_s == 0 and p.state == WRONG_ACTIVITY  # next step: sit down
    p = runner.update(rec(int(step.timeout_s * 1000) + 240, status=FAIL))
    assert p.step_index == 1 and p.state == WRONG_ACTIVITY and not p.timed_out


def test_a_stuck_step_is_skipped_by_itself_so_the_kiosk_always_moves_on():
    drill = no_countdown("kiosk")
    runner = DrillRunner(drill)
    end_ms = int(sum(s.timeout_s + drill.auto_skip_after_s for s in drill.steps) * 1000) + 2000
    p = run(runner, 0, end_ms, status=FAIL)  # nothing the trainee does ever passes
    assert p.done and p.state == DONE and len(p.results) == len(drill.steps)
    assert all(r.skipped for r in p.results)
    assert p.results[0].reached_after_s == 0.0      # stood at once, but the check never passed
    assert p.results[1].reached_after_s is None     # never sat down


def test_skip_during_countdown_starts_the_first_step():
    runner = DrillRunner(load_drills()["standing"])
    run(runner, 0, 500)
    p = runner.skip()
    assert p.state != COUNTDOWN and p.step_index == 0
    p = runner.update(rec(540))
    assert p.state == HOLDING and p.counting and p.step_index == 0


def test_greeting_stand_up_within_the_limit():
    runner = DrillRunner(no_countdown("greeting"))
    t = 0
    while not runner.progress.step_index:  # sit until the cue
        runner.update(rec(t, "sitting"))
        t += STEP_MS
    assert runner.progress.state == WRONG_ACTIVITY  # the cue: stand up
    cue = t
    while t < cue + 3000:  # too slow: 3 s still seated
        p = runner.update(rec(t, "sitting"))
        t += STEP_MS
    assert p.late
    while not runner.progress.done:
        runner.update(rec(t, "standing"))
        t += STEP_MS
    res = runner.progress.results
    assert res[1].in_time is False and res[1].reached_after_s == pytest.approx(3.0, abs=0.1)


def test_a_new_step_in_the_right_activity_is_ready_not_good():
    runner = DrillRunner(no_countdown("bow"))
    t = 0
    while runner.progress.step_index == 0:
        p = runner.update(rec(t))
        t += STEP_MS
    assert p.state in (READY, WRONG_ACTIVITY) and not p.counting


def test_bow_step_needs_trunk_flexion():
    runner = DrillRunner(no_countdown("bow"))

    class F:
        def __init__(self, tilt):
            self.trunk_tilt_deg = tilt

    def r(t, tilt):
        return FrameRecord(0, t, True, 1, "standing", "side", F(tilt), ())

    t = 0
    while runner.progress.step_index == 0:
        runner.update(r(t, 2.0))
        t += STEP_MS
    for _ in range(60):  # upright: the bow step does not advance
        runner.update(r(t, 3.0))
        t += STEP_MS
    assert runner.progress.step_index == 1 and runner.progress.state == WRONG_ACTIVITY
    while runner.progress.step_index == 1:
        runner.update(r(t, 30.0))
        t += STEP_MS
    assert runner.progress.step_index == 2


def test_the_page_words_come_from_the_same_state_as_the_timer():
    """ui.coach.drill_view: "good" text only while counting; a fix names the blocking check;
    another activity is named; a timed-out step shows its hint and what held it up."""
    from posturecheck.profile import load_profile
    from posturecheck.ui.coach import drill_view

    prof = load_profile()
    drill = load_drills()["kiosk"]
    runner = DrillRunner(drill)

    class R:
        def __init__(self, r):
            self.r, self.view = r, "front"

        def verdict(self, rid):
            return self.r.verdict(rid)

    pattern = ["standing", "walking", "standing", "sitting"]
    for i in range(2500):
        r = rec(i * STEP_MS, activity=pattern[(i // 40) % 4], status=FAIL if (i // 25) % 3 == 0 else PASS)
        p = runner.update(r)
        for lg in ("zh", "en"):
            v = drill_view(drill, p, R(r), prof, None, lg)
            if v is None:
                assert p.done
                continue
            good = "很好，保持" in v.message or "Good, keep it" in v.message
            assert good == (p.state == HOLDING and p.counting), (p, v)
            assert (v.hold_fraction > 0) <= p.counting
            if p.state == FIX:
                assert ("计时暂停" in v.message) if lg == "zh" else ("Timer paused" in v.message)
            if p.state == WRONG_ACTIVITY and p.activity == "walking":
                assert "行姿" in v.message or "walking" in v.message, v.message
            if p.timed_out:
                assert v.hint and drill.steps[p.step_index].hint_text(lg) in v.hint
