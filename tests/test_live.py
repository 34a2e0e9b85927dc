"""Live pipeline without a camera or a model: drills, hold timer, queue, dropping, overlay, cleanup."""

from __future__ import annotations

import json
import queue
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from posturecheck.landmarks import PoseLandmarks
from posturecheck.live import (RESULT_QUEUE_SIZE, STATUS_COLOURS, LiveConfig, LiveProcessor, draw_overlay, edge_statuses,
                               load_drills)
from posturecheck.pose import PoseResult, ReplayEstimator
from posturecheck.profile import load_profile
from posturecheck.rules import FAIL, PASS, Verdict
from posturecheck.session import FrameRecord

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def replay_landmarks(name: str = "vid_gait_normal_side") -> list[PoseLandmarks | None]:
    data = json.loads((FIXTURES / "dev_video" / f"{name}.json").read_text(encoding="utf-8"))
    return [None if f["landmarks"] is None else PoseLandmarks.from_dict(f["landmarks"]) for f in data["frames"]]


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def rec(t_ms: int, activity: str = "standing", status: str = PASS, person: bool = True) -> FrameRecord:
    return FrameRecord(0, t_ms, person, int(person), activity, "front", None,
                       (Verdict("standing.trunk_upright", status, 3.0, None),))


# Drills (state machine, hold timer, timeouts, skipping): tests/test_drill.py


# ---------------------------------------------------------------- processor


def make_processor(drill="standing", **kw):
    clock = FakeClock()
    made = []

    def factory(cfg):
        est = ReplayEstimator(replay_landmarks())
        made.append(est)
        return est

    proc = LiveProcessor(LiveConfig(**kw), load_profile(), drill=load_drills()[drill] if drill else None,
                         estimator_factory=factory, clock=clock)
    return proc, clock, made


def test_one_estimator_per_session_and_a_report_at_the_end():
    proc, clock, made = make_processor("walking")
    rgb = np.zeros((480, 640, 3), np.uint8)
    for _ in range(120):
        clock.t += 1 / 30
        r = proc.process(rgb)
    assert len(made) == 1  # not one per frame
    assert r.person_found and r.activity == "walking" and r.drill is not None
    assert proc.results.qsize() <= RESULT_QUEUE_SIZE
    assert proc.latest().seq == r.seq and proc.results.empty()
    ids = proc.checklist_rule_ids(r.activity)
    assert "walking.trunk_upright" in ids and not any(i.startswith("standing.") for i in ids)
    report = proc.finish("zh")
    assert report["schema"] == "posturecheck.analysis/1" and report["score"] is not None
    assert report["drill"]["id"] == "walking" and report["lang"] == "zh"
    proc.stop()
    assert made[0].closed


def test_finish_without_a_person_gives_no_report():
    proc = LiveProcessor(LiveConfig(), load_profile(), estimator_factory=lambda c: ReplayEstimator([None]),
                         clock=FakeClock())
    proc.process(np.zeros((10, 10, 3), np.uint8))
    assert proc.finish() is None


def test_results_queue_keeps_the_newest():
    proc, clock, _ = make_processor()
    rgb = np.zeros((120, 160, 3), np.uint8)
    for _ in range(10):
        clock.t += 0.04
        proc.process(rgb)
    got = proc.drain()
    assert len(got) == RESULT_QUEUE_SIZE and got[-1].seq == 9


class SlowEstimator:
    """Takes `delay` seconds per frame, like a model on a busy machine."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.lms = replay_landmarks()
        self.calls = 0
        self.closed = False
        self.timestamps: list[int] = []

    def detect(self, rgb, timestamp_ms=0):
        time.sleep(self.delay)
        self.timestamps.append(timestamp_ms)
        lm = self.lms[self.calls % len(self.lms)]
        self.calls += 1
        return PoseResult(timestamp_ms, lm, 1)

    def close(self):
        self.closed = True


def test_worker_drops_stale_frames_under_load_and_cleans_up():
    est = SlowEstimator(0.05)
    proc = LiveProcessor(LiveConfig(), load_profile(), estimator_factory=lambda c: est)
    proc.start()
    rgb = np.zeros((120, 160, 3), np.uint8)
    for _ in range(60):  # 100 fps in, ~20 fps out
        proc.submit(rgb)
        time.sleep(0.01)
    time.sleep(0.2)
    assert proc.running
    latest = proc.latest()
    proc.on_ended()  # the stream ended: worker joined, model released
    assert not proc.running and est.closed and proc.ended
    assert 0 < est.calls < 60 and proc.dropped >= 60 - est.calls - 1
    assert latest is not None and latest.latency_ms < 200
    assert all(b > a for a, b in zip(est.timestamps, est.timestamps[1:]))  # VIDEO mode: strictly increasing


def test_frames_waiting_too_long_are_not_analysed():
    est = SlowEstimator(0.0)
    clock = FakeClock()
    proc = LiveProcessor(LiveConfig(), load_profile(), estimator_factory=lambda c: est, clock=clock)
    proc.submit(np.zeros((8, 8, 3), np.uint8))
    clock.t += 2.0  # the frame is now 2 s old
    proc.start()
    time.sleep(0.3)
    proc.stop()
    assert est.calls == 0 and proc.dropped == 1


def test_restart_after_stop_makes_a_new_estimator():
    proc, clock, made = make_processor()
    proc.process(np.zeros((8, 8, 3), np.uint8))
    proc.stop()
    clock.t += 1
    proc.process(np.zeros((8, 8, 3), np.uint8))
    assert len(made) == 2 and made[0].closed and not made[1].closed
    proc.stop()


def test_recv_returns_an_annotated_frame_and_never_raises():
    av = pytest.importorskip("av")
    proc, clock, _ = make_processor()
    for _ in range(30):  # the walker enters the frame: a skeleton to draw
        clock.t += 1 / 30
        proc.process(np.zeros((480, 640, 3), np.uint8))
    frame = av.VideoFrame.from_ndarray(np.full((480, 640, 3), 40, np.uint8), format="rgb24")
    frame.pts = 1234
    out = proc.recv(frame)
    arr = out.to_ndarray(format="rgb24")
    assert arr.shape == (480, 640, 3) and out.pts == 1234
    assert (arr != 40).any()  # the skeleton was drawn
    assert proc.frames_in == 1

    class Broken:
        def to_ndarray(self, format):
            raise ValueError("bad frame")

    broken = Broken()
    assert proc.recv(broken) is broken


def test_overlay_colours_follow_rule_status():
    prof = load_profile()
    lm = replay_landmarks()[30]
    statuses = edge_statuses(prof, [Verdict("standing.trunk_upright", FAIL, 20.0, "trunk_tilt_deg"),
                                    Verdict("standing.legs_straight", PASS, 175.0)])
    assert statuses[(11, 23)] == FAIL and statuses[(25, 27)] == PASS and statuses[(13, 15)] == "unknown"
    img = draw_overlay(np.zeros((540, 960, 3), np.uint8), lm, statuses)
    colours = {tuple(c) for c in img.reshape(-1, 3)[::7]}
    assert STATUS_COLOURS[FAIL] in colours and STATUS_COLOURS[PASS] in colours


def test_no_frames_are_kept_unless_asked(tmp_path):
    proc, clock, _ = make_processor()
    for _ in range(5):
        clock.t += 0.1
        proc.process(np.zeros((120, 160, 3), np.uint8))
    proc.stop()
    assert proc.recorded == []
    proc2, clock2, _ = make_processor(record_dir=tmp_path / "videos")
    for _ in range(5):
        clock2.t += 0.1
        proc2.process(np.zeros((120, 160, 3), np.uint8))
    proc2.stop()
    assert len(proc2.recorded) == 1 and proc2.recorded[0].stat().st_size > 0


def test_process_is_safe_to_call_from_the_worker_while_the_page_reads():
    proc, clock, _ = make_processor()
    stop = threading.Event()
    errors = []

    def reader():
        while not stop.is_set():
            try:
                proc.latest()
                proc.finish()
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

    th = threading.Thread(target=reader)
    th.start()
    for _ in range(100):
        clock.t += 0.03
        proc.process(np.zeros((60, 80, 3), np.uint8))
    stop.set()
    th.join()
    assert not errors
    assert isinstance(proc.results, queue.Queue)


def test_face_stage_runs_at_a_lower_rate_and_adds_grooming_checks():
    """Live practice judges grooming while standing; the face model runs at most every face_interval_ms."""
    import json
    from pathlib import Path

    from posturecheck.face import FaceLandmarks, ReplayFaceEstimator

    fx = Path(__file__).resolve().parent / "fixtures" / "face"
    mesh = FaceLandmarks.from_dict(json.loads(next(iter(sorted(fx.glob("*.json")))).read_text("utf-8"))["face"])
    faces: list = []

    def face_factory():
        faces.append(ReplayFaceEstimator([mesh]))
        return faces[-1]

    t0 = 1000.0
    proc = LiveProcessor(LiveConfig(face_interval_ms=200), load_profile(), drill=load_drills()["standing"],
                         estimator_factory=lambda c: ReplayEstimator(replay_landmarks()), face_factory=face_factory)
    rgb = np.full((480, 640, 3), 128, np.uint8)
    for i in range(30):  # one second at 30 fps
        r = proc.process(rgb, captured_at=t0 + i / 30)
    assert len(faces) == 1 and proc._face_sampler.runs <= 6  # ~5 Hz, not 30
    grooming = {v.rule_id for v in r.verdicts if v.rule_id.startswith("grooming.")}
    assert {"grooming.smile", "grooming.eyes_forward"} <= grooming
    assert "grooming.smile" in proc.checklist_rule_ids("standing")
    proc.stop()
    assert faces[0].closed


def test_practice_recordings_never_share_a_name(tmp_path):
    from posturecheck.live import recording_path

    now = 1_700_000_000.0
    paths = [recording_path(tmp_path, now) for _ in range(3)]  # three recordings in the same second
    assert len({p.name for p in paths}) == 3 and all(p.is_file() for p in paths)
    assert paths[0].name.endswith("00.mp4") or paths[0].suffix == ".mp4"
    assert paths[1].stem == paths[0].stem + "_2" and paths[2].stem == paths[0].stem + "_3"


def test_live_and_offline_give_the_same_verdicts_on_the_same_frames(tmp_path):
    """One frame loop (FrameAnalyzer) and one end (analyze.finalize): the same frames through the
    live processor and through `analyze_path` give the same verdict on every frame and the same
    report (rules, observations incl. the face, warnings)."""
    import cv2

    from posturecheck.analyze import AnalyzeOptions, analyze_path
    from posturecheck.face import FaceLandmarks, ReplayFaceEstimator
    from posturecheck.report import to_json

    lms = replay_landmarks()
    fx = FIXTURES / "face"
    mesh = FaceLandmarks.from_dict(json.loads(next(iter(sorted(fx.glob("*.json")))).read_text("utf-8"))["face"])
    video = tmp_path / "blank.avi"
    w = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (64, 48))
    for _ in lms:
        w.write(np.zeros((48, 64, 3), np.uint8))
    w.release()
    profile = load_profile()
    offline = analyze_path(video, AnalyzeOptions(standard="men", profile=profile),
                           estimator=ReplayEstimator(lms, loop=False), face_estimator=ReplayFaceEstimator([mesh]))
    clock = FakeClock()
    proc = LiveProcessor(LiveConfig(standard="men", face_interval_ms=100, max_side=0), profile,
                         estimator_factory=lambda c: ReplayEstimator(lms, loop=False),
                         face_factory=lambda: ReplayFaceEstimator([mesh]), clock=clock)
    rgb = np.zeros((48, 64, 3), np.uint8)
    live = [proc.process(rgb, captured_at=clock.t + (r.timestamp_ms + 0.5) / 1000.0) for r in offline.session.records]
    assert len(live) == len(offline.session.records) > 100
    for a, b in zip(offline.session.records, live):
        assert a.timestamp_ms == b.timestamp_ms
        assert a.verdicts == b.verdicts, a.index
    report = proc.finish("en")
    proc.stop()
    ref = to_json(offline, "en", "men")
    assert report is not None
    assert [(r["id"], r["status"], r["value"]) for r in report["rules"]] == \
        [(r["id"], r["status"], r["value"]) for r in ref["rules"]]
    assert report["observations"]["face"] == ref["observations"]["face"] and report["observations"]["face"]["found"]
    assert report["warnings"] == ref["warnings"] and report["score"] == ref["score"]
