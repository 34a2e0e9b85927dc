"""Live pipeline for the webcam (no Streamlit here): frames in, overlay and verdicts out.

`LiveProcessor` is made once per browser session. The WebRTC callback thread only
hands frames over (`recv` / `submit`, latest frame wins, older unprocessed frames
are dropped) and draws the newest skeleton on the frame it returns; a worker thread
owns the one `PoseEstimator` (VIDEO mode, monotonic timestamps), runs
`FrameAnalyzer` and puts `LiveResult`s into a small `queue.Queue` that the page
reads. `stop()` (also called when the stream ends) joins the worker and closes the
estimator. Drills (`drill.py`, `profiles/drills.toml`) turn the verdicts into a guided
sequence with a hold timer; `finish()` gives the same JSON report as an upload:
the per-frame part is the same `FrameAnalyzer`, the end the same `analyze.finalize`
(face extras, greeting, no-person and several-people warnings), so the same frames
give the same verdicts live and offline (tests/test_live.py). The page shows the
frames really analysed per second over the last FPS_WINDOW_S and the latency from
hand-over to verdict (waiting included); a frame that waited too long is dropped.
No pixels are kept unless `LiveConfig.record_dir` is set by the trainer.
"""

from __future__ import annotations

import collections
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import cv2
import numpy as np

from .analyze import FACE_HOLD_MS, FrameAnalyzer, finalize
from .drill import (DRILLS_SCHEMA, Drill, DrillError, DrillProgress, DrillRunner, DrillStep,  # noqa: F401 (re-exported)
                    StepResult, load_drills, parse_drills)
from .face import FaceEstimator, FaceEstimatorOptions, FaceSampler
from .grooming import applies_to_standard, grooming_rules, measure_face_result
from .landmarks import SKELETON_EDGES, PoseLandmarks
from .pose import Estimator, PoseEstimator, PoseEstimatorOptions
from .profile import Profile, ProfileError, load_profile
from .rules import FAIL, PASS, UNKNOWN, Verdict, rules_for
from .session import Session

logger = logging.getLogger(__name__)

LIVE_MAX_SIDE = 640            # frames are downscaled to this long side before the model
RESULT_QUEUE_SIZE = 2          # the page only wants the newest verdicts
STALE_FRAME_S = 0.5            # a frame waiting longer than this is dropped, not analysed
WORKER_IDLE_WAIT_S = 0.5
FPS_WINDOW_S = 2.0             # fps shown = frames analysed in the last this many seconds / their span
RECORD_FPS = 15.0              # opt-in recordings are written at most this often

# Overlay colours (RGB) by rule status, and which body parts a feature is about.
STATUS_COLOURS = {PASS: (40, 200, 80), FAIL: (235, 50, 40), UNKNOWN: (170, 170, 170)}
_TORSO = ((11, 23), (12, 24), (23, 24), (11, 12))
_ARMS = ((11, 13), (13, 15), (12, 14), (14, 16), (15, 19), (16, 20))
_LEGS = ((23, 25), (25, 27), (24, 26), (26, 28))
_FEET = ((27, 29), (29, 31), (27, 31), (28, 30), (30, 32), (28, 32))
_HEAD = ((0, 7), (0, 8))
FEATURE_PARTS: tuple[tuple[str, tuple[tuple[int, int], ...]], ...] = (
    ("trunk", _TORSO), ("shoulder", ((11, 12),)), ("head", _HEAD), ("knee_angle", _LEGS),
    ("knee_gap", _LEGS), ("legs", _LEGS), ("ankle", _FEET), ("heel", _FEET), ("toe", _FEET),
    ("feet", _FEET), ("hand", _ARMS), ("arms", _ARMS),
)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class LiveConfig:
    """How the live pipeline runs (the app's Settings fill this)."""

    model: str = "lite"
    num_poses: int = 1
    max_side: int = LIVE_MAX_SIDE
    standard: str | None = None
    smooth: bool = True
    record_dir: Path | None = None   # opt-in (trainer's setting): write annotated videos here
    # Grooming (smile, eyes forward, hair, beard) on a head crop. The face model runs at most
    # every `face_interval_ms` (5 Hz) and its answer is held in between, so lite pose + face
    # keeps >= 25 fps on two cores (scripts/benchmark_face.py).
    face: bool = True
    face_interval_ms: int = 200


@dataclass(frozen=True)
class LiveResult:
    """What the page shows for one analysed frame (no pixels)."""

    seq: int
    timestamp_ms: int
    latency_ms: float            # capture (frame handed over) → verdict ready
    person_found: bool
    people_seen: int
    activity: str
    view: str
    verdicts: tuple[Verdict, ...]
    fps: float
    dropped: int
    drill: DrillProgress | None = None
    landmarks: PoseLandmarks | None = field(default=None, repr=False)

    def verdict(self, rule_id: str) -> Verdict | None:
        for v in self.verdicts:
            if v.rule_id == rule_id:
                return v
        return None


def edge_statuses(profile: Profile, verdicts: Sequence[Verdict]) -> dict[tuple[int, int], str]:
    """Status per skeleton edge: fail if a failing rule is about that body part, else pass/unknown."""
    out: dict[tuple[int, int], str] = {e: UNKNOWN for e in SKELETON_EDGES}
    rank = {UNKNOWN: 0, PASS: 1, FAIL: 2}
    for v in verdicts:
        try:
            rule = profile.rule(v.rule_id)
        except KeyError:
            continue
        names = {n for c in rule.checks for n in c.features}
        for key, edges in FEATURE_PARTS:
            if any(key in n for n in names):
                for e in edges:
                    if e in out and rank[v.status] > rank[out[e]]:
                        out[e] = v.status
    return out


def draw_overlay(rgb: np.ndarray, lm: PoseLandmarks | None, statuses: dict[tuple[int, int], str]) -> np.ndarray:
    """Draw the skeleton on an RGB frame (in place) in rule-status colours; returns the frame."""
    if lm is None:
        return rgb
    h, w = rgb.shape[:2]
    pts = lm.image[:, :2] * np.array([w, h])
    vis = lm.visibility
    thick = max(2, int(round(min(w, h) / 160)))
    for a, b in SKELETON_EDGES:
        if vis[a] < 0.3 or vis[b] < 0.3:
            continue
        colour = STATUS_COLOURS[statuses.get((a, b), UNKNOWN)]
        pa = (int(pts[a, 0]), int(pts[a, 1]))
        pb = (int(pts[b, 0]), int(pts[b, 1]))
        cv2.line(rgb, pa, pb, colour, thick, cv2.LINE_AA)
    for i in range(11, 33):
        if vis[i] >= 0.3:
            cv2.circle(rgb, (int(pts[i, 0]), int(pts[i, 1])), thick + 1, (255, 255, 255), -1, cv2.LINE_AA)
    return rgb


def _resize(rgb: np.ndarray, max_side: int | None) -> np.ndarray:
    h, w = rgb.shape[:2]
    if not max_side or max(h, w) <= max_side:
        return np.ascontiguousarray(rgb)
    s = max_side / float(max(h, w))
    return cv2.resize(rgb, (max(1, int(round(w * s))), max(1, int(round(h * s)))), interpolation=cv2.INTER_AREA)


EstimatorFactory = Callable[[LiveConfig], Estimator]


def default_face_factory() -> Any:
    """The bundled FaceLandmarker in VIDEO mode (head crop from the pose)."""
    # One hair-model run per face (no mirror average): live practice holds each answer 0.5 s
    # and judges grooming over seconds, so the cheaper, noisier mask is enough there.
    return FaceEstimator(FaceEstimatorOptions(running_mode="video", hair_flip_average=False))


def default_estimator_factory(config: LiveConfig) -> Estimator:
    """The real model: PoseLandmarker in VIDEO mode."""
    return PoseEstimator(PoseEstimatorOptions(model=config.model, running_mode="video", num_poses=config.num_poses))


def recording_path(folder: Path, now: float | None = None) -> Path:
    """A new, unused practice video name: time to the second, then a number if that name is taken.

    The file is created empty here (O_EXCL), so two processors starting in the same
    second (two browser tabs, app and kiosk) never write to the same file.
    """
    stamp = time.strftime("practice_%Y%m%d_%H%M%S", time.localtime(now))
    n = 1
    while True:
        path = folder / (f"{stamp}.mp4" if n == 1 else f"{stamp}_{n}.mp4")
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            n += 1
            continue
        os.close(fd)
        return path


class LiveProcessor:
    """One per browser session: owns the estimator, the analyzer and the drill state.

    Thread roles: `recv`/`submit` run in the WebRTC callback thread and never block on
    the model; the worker thread (`start`) runs `process`; the page calls `latest`,
    `drain`, `start_drill`, `finish` and `status`. Tests and the benchmark may call
    `process` directly without the worker.
    """

    def __init__(self, config: LiveConfig | None = None, profile: Profile | None = None, *,
                 drill: Drill | None = None, estimator_factory: EstimatorFactory | None = None,
                 face_factory: Callable[[], Any] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config or LiveConfig()
        self.profile = profile or load_profile()
        self._factory = estimator_factory or default_estimator_factory
        # The face stage runs with the real pose model, or when a test injects a face detector.
        if face_factory is None and estimator_factory is None and self.config.face:
            face_factory = default_face_factory
        self._face_factory = face_factory
        self._face_sampler: FaceSampler | None = None
        self._clock = clock
        self.results: queue.Queue[LiveResult] = queue.Queue(maxsize=RESULT_QUEUE_SIZE)
        self._t0 = clock()
        self._last_ts = -1
        self._lock = threading.Lock()          # analysis state (analyzer, session, drill)
        self._slot_lock = threading.Lock()     # the one waiting frame
        self._slot: tuple[np.ndarray, float] | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._estimator: Estimator | None = None
        self._latest: LiveResult | None = None
        self._statuses: dict[tuple[int, int], str] = {}
        self._seq = 0
        self._fps = 0.0
        self._done_times: collections.deque[float] = collections.deque()  # clock() of recent analysed frames
        self.dropped = 0
        self.frames_in = 0
        self.last_frame_at: float | None = None   # clock() of the last frame handed over
        self.error: str | None = None
        self.ended = False
        self._writer: Any = None
        self._last_written = 0.0
        self.recorded: list[Path] = []   # videos written (only with config.record_dir)
        self.set_drill(drill)

    # ------------------------------------------------------------ drill / session
    def set_drill(self, drill: Drill | None) -> None:
        """Choose the drill (None = free practice, auto activity) and start it afresh."""
        with self._lock:
            self.drill = drill
            activity = drill.analysis_activity if drill is not None else "auto"
            self._analyzer = FrameAnalyzer(self.profile, activity=activity, standard=self.config.standard,
                                           smooth=self.config.smooth, grooming=self._face_factory is not None)
            self._runner = DrillRunner(drill) if drill is not None else None
            self.session = Session(self.profile)
            self._faces: list[Any] = []          # per record: the face features (face stage on)
            self._raw_activity: list[str] = []   # per record: the posture before hysteresis
            self.started_at = time.time()

    def restart(self) -> None:
        """Start the current drill again (kiosk idle reset, 'try again')."""
        self.set_drill(self.drill)

    def skip_step(self) -> None:
        """The trainee skips the current drill step now (the step is reported as skipped)."""
        with self._lock:
            if self._runner is not None:
                self._runner.skip()

    def drill_progress(self) -> DrillProgress | None:
        """The drill's newest state (also after a skip that no frame has followed yet)."""
        with self._lock:
            return self._runner.progress if self._runner is not None else None

    def current_step(self) -> DrillStep | None:
        """The drill step the trainee is on (None without a drill or when done)."""
        if self._runner is None or self.drill is None:
            return None
        i = self._runner.progress.step_index
        return self.drill.steps[i] if i < len(self.drill.steps) else None

    def checklist_rule_ids(self, activity: str | None = None) -> tuple[str, ...]:
        """The rules the page lists: the drill's activities, or the detected one."""
        acts: Sequence[str]
        step = self.current_step()
        if self.drill is not None and self.drill.analysis_activity != "auto":
            acts = (self.drill.analysis_activity,)
        elif step is not None and step.activity != "any":  # guided: the step's activity, not a misdetection
            acts = (step.activity,)
        elif activity and activity != "unknown":
            acts = (activity,)
        elif self.drill is not None:
            acts = self.drill.activities[:1]
        else:
            acts = ("standing",)
        ids: list[str] = []
        for a in acts:
            for r in rules_for(self.profile, a):
                if r.scope == "frame" and a in r.activities and r.id not in ids:
                    ids.append(r.id)
        if self._face_factory is not None and "standing" in acts:  # facing the customer: grooming too
            ids.extend(r.id for r in grooming_rules(self.profile)
                       if applies_to_standard(r, self.config.standard) and r.id != "grooming.badge")
        return tuple(ids)

    # ------------------------------------------------------------ producer side
    def submit(self, rgb: np.ndarray, captured_at: float | None = None) -> None:
        """Hand a frame to the worker without waiting; an older waiting frame is dropped."""
        now = self._clock() if captured_at is None else captured_at
        with self._slot_lock:
            if self._slot is not None:
                self.dropped += 1
            self._slot = (rgb, now)
            self.frames_in += 1
            self.last_frame_at = now
            self.ended = False  # pictures again (camera back)
        self._wake.set()

    def annotate(self, rgb: np.ndarray) -> np.ndarray:
        """Draw the newest skeleton on a frame (in place)."""
        latest = self._latest
        if latest is None or latest.landmarks is None:
            return rgb
        return draw_overlay(rgb, latest.landmarks, self._statuses)

    def recv(self, frame: Any) -> Any:
        """streamlit-webrtc `video_frame_callback`: hand over, draw, return. Never raises."""
        import av  # only the live app needs PyAV

        try:
            rgb = frame.to_ndarray(format="rgb24")
            self.submit(rgb)
            out = self.annotate(rgb.copy())
            new = av.VideoFrame.from_ndarray(out, format="rgb24")
            new.pts = frame.pts
            if frame.time_base is not None:
                new.time_base = frame.time_base
            return new
        except Exception as exc:  # noqa: BLE001 - a live session must not crash on one bad frame
            logger.warning("live frame failed: %s", exc)
            return frame

    def on_ended(self) -> None:
        """streamlit-webrtc `on_video_ended`: the camera track ended (stop, unplug, tab closed)."""
        self.ended = True
        self.stop()

    # ------------------------------------------------------------ worker
    def start(self) -> None:
        """Start the worker thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self.ended = False
        self.error = None
        self._thread = threading.Thread(target=self._run, name="posturecheck-live", daemon=True)
        self._thread.start()

    def _take(self) -> tuple[np.ndarray, float] | None:
        with self._slot_lock:
            item, self._slot = self._slot, None
        return item

    def _run(self) -> None:
        try:
            # Load the models now, while the camera starts, not when the first frame arrives
            # (that made the first verdicts come seconds after Start).
            self._ensure_estimator()
            self._ensure_face_sampler()
            while not self._stop.is_set():
                self._wake.wait(WORKER_IDLE_WAIT_S)
                self._wake.clear()
                item = self._take()
                if item is None:
                    continue
                rgb, captured = item
                if self._clock() - captured > STALE_FRAME_S:
                    self.dropped += 1
                    continue
                try:
                    self.process(rgb, captured)
                except ValueError as exc:  # bad frame: skip it, keep the session
                    logger.warning("live frame skipped: %s", exc)
        except Exception as exc:  # noqa: BLE001 - reported on the page, never a traceback
            logger.exception("live worker stopped")
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self._close_estimator()

    def _ensure_estimator(self) -> Estimator:
        if self._estimator is None:
            self._estimator = self._factory(self.config)
        return self._estimator

    def _ensure_face_sampler(self) -> FaceSampler | None:
        if self._face_sampler is None and self._face_factory is not None:
            self._face_sampler = FaceSampler(self._face_factory(), interval_ms=self.config.face_interval_ms,
                                             hold_ms=FACE_HOLD_MS)
        return self._face_sampler

    def _close_estimator(self) -> None:
        est, self._estimator = self._estimator, None
        if est is not None:
            est.close()
        sampler, self._face_sampler = self._face_sampler, None
        if sampler is not None:
            sampler.close()
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def _timestamp(self, captured: float) -> int:
        ts = int((captured - self._t0) * 1000.0)
        if ts <= self._last_ts:
            ts = self._last_ts + 1
        self._last_ts = ts
        return ts

    def process(self, rgb: np.ndarray, captured_at: float | None = None) -> LiveResult:
        """Analyse one RGB frame now (worker thread, tests, benchmark)."""
        captured = self._clock() if captured_at is None else captured_at
        small = _resize(rgb, self.config.max_side)
        estimator = self._ensure_estimator()
        ts = self._timestamp(captured)
        pose = estimator.detect(small, ts)
        face = None
        sampler = self._ensure_face_sampler()
        if sampler is not None:
            _, face = sampler.step(small, ts, pose.person, measure=measure_face_result)
        with self._lock:
            rec = self._analyzer.process(pose, self._seq, face=face)
            try:
                self.session.add(rec)
                self._faces.append(face)
                self._raw_activity.append(self._analyzer.last_raw_activity)
            except ValueError:  # clock went backwards: keep the verdicts, skip the record
                logger.debug("live record out of order at %d ms", ts)
            progress = self._runner.update(rec) if self._runner is not None else None
            statuses = edge_statuses(self.profile, rec.verdicts)
        done = self._clock()
        # Honest rate: frames really analysed over the last FPS_WINDOW_S (not a smoothed
        # instant rate, which hides stalls); latency is hand-over to verdict, waiting included.
        times = self._done_times
        times.append(done)
        while times and done - times[0] > FPS_WINDOW_S:
            times.popleft()
        self._fps = (len(times) - 1) / (done - times[0]) if len(times) > 1 and done > times[0] else 0.0
        result = LiveResult(self._seq, ts, round((done - captured) * 1000.0, 1), rec.person_found,
                            rec.people_seen, rec.activity, rec.view, rec.verdicts, round(self._fps, 1),
                            self.dropped, progress, pose.person)
        self._seq += 1
        self._statuses = statuses
        self._latest = result
        self._publish(result)
        if self.config.record_dir is not None:
            self._record(rgb, pose.person, statuses, done)
        return result

    def _publish(self, result: LiveResult) -> None:
        while True:
            try:
                self.results.put_nowait(result)
                return
            except queue.Full:
                try:
                    self.results.get_nowait()  # the page missed it: the newest wins
                except queue.Empty:
                    pass

    def _record(self, rgb: np.ndarray, lm: PoseLandmarks | None, statuses: dict, now: float) -> None:
        if now - self._last_written < 1.0 / RECORD_FPS:
            return
        frame = draw_overlay(_resize(rgb, self.config.max_side).copy(), lm, statuses)
        if self._writer is None:
            folder = Path(self.config.record_dir)  # type: ignore[arg-type]
            folder.mkdir(parents=True, exist_ok=True)
            path = recording_path(folder)
            h, w = frame.shape[:2]
            self._writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), RECORD_FPS, (w, h))
            self.recorded.append(path)
        self._writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        self._last_written = now

    def stop(self, timeout: float = 3.0) -> None:
        """Stop the worker and release the estimator (and any recording)."""
        self._stop.set()
        self._wake.set()
        th = self._thread
        if th is not None and th is not threading.current_thread():
            th.join(timeout)
        self._thread = None
        if th is None or not th.is_alive():
            self._close_estimator()

    close = stop

    # ------------------------------------------------------------ page side
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def latest(self) -> LiveResult | None:
        """The newest result (also drains the queue)."""
        self.drain()
        return self._latest

    def drain(self) -> list[LiveResult]:
        out: list[LiveResult] = []
        while True:
            try:
                out.append(self.results.get_nowait())
            except queue.Empty:
                return out

    def seconds_since_frame(self) -> float | None:
        return None if self.last_frame_at is None else self._clock() - self.last_frame_at

    def finish(self, lang: str = "en") -> dict[str, Any] | None:
        """The drill's JSON report (`posturecheck.analysis/1` + `drill`), or None if nothing was seen."""
        from .report import to_json  # report imports analyze; keep import time small

        with self._lock:
            session = Session(self.profile, list(self.session.records))
            faces = list(self._faces) if self._face_factory is not None else None
            raw_activity = list(self._raw_activity)
            progress = self._runner.progress if self._runner is not None else None
            forced = self.drill.analysis_activity if self.drill is not None else "auto"
        if not session.records:
            return None
        last = session.records[-1].timestamp_ms - session.records[0].timestamp_ms
        # The same end as a file's analysis (analyze.finalize): face extras, warnings and all.
        analysis = finalize(session, "video", f"live:{self.drill.id if self.drill else 'free'}",
                            forced_activity=forced, faces=faces, raw_activity=raw_activity,
                            duration_s=round(last / 1000.0, 3))
        if not analysis.person_found and not analysis.face_found:
            return None
        report = to_json(analysis, lang, self.config.standard)
        report["drill"] = None if self.drill is None else {
            "id": self.drill.id,
            "steps_done": progress.step_index if progress else 0,
            "steps_total": len(self.drill.steps),
            "completed": bool(progress and progress.done),
            "steps": [{"reached_after_s": r.reached_after_s, "in_time": r.in_time, "skipped": r.skipped}
                      for r in (progress.results if progress else ())],
        }
        return report


def try_load_drills() -> tuple[dict[str, Drill], str | None]:
    """Drills and an error text (never raises: the app still runs on a broken file)."""
    try:
        return load_drills(), None
    except (DrillError, ProfileError, OSError) as exc:
        return {}, str(exc)
