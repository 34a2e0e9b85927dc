"""The Streamlit app through streamlit.testing.v1.AppTest: every page, both languages.

No camera and no model: the webrtc widget is replaced by a fake (it needs a browser),
and the estimator by a landmark replay (`ReplayEstimator`), both through session-state
hooks. POSTURECHECK_HOME points every stored file at a temporary folder.
"""

from __future__ import annotations

import importlib.util
import json
import os
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from posturecheck.history import HistoryStore  # noqa: E402
from posturecheck.landmarks import PoseLandmarks  # noqa: E402
from posturecheck.pose import ReplayEstimator  # noqa: E402
from posturecheck.profile import ProfileError, load_profile  # noqa: E402
from posturecheck.ui import settings as app_settings  # noqa: E402
from posturecheck.ui.settings_page import apply_edits, check_rows, rule_rows  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
VIEWS = "posturecheck/ui/views"
FIXTURES = ROOT / "tests" / "fixtures" / "dev_video"
TIMEOUT = 60


def gait_landmarks(name: str = "vid_gait_normal_side") -> list[PoseLandmarks | None]:
    data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return [None if f["landmarks"] is None else PoseLandmarks.from_dict(f["landmarks"]) for f in data["frames"]]


class FakeStreamer:
    """Stands in for streamlit_webrtc.webrtc_streamer and remembers how it was called."""

    def __init__(self, playing: bool = False) -> None:
        self.playing = playing
        self.calls: list[dict] = []

    def __call__(self, **kwargs):
        self.calls.append(kwargs)
        playing = self.playing

        class State:
            pass

        class Ctx:
            state = State()

        Ctx.state.playing = playing
        return Ctx()


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("POSTURECHECK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("POSTURECHECK_KIOSK", raising=False)
    return tmp_path / "home"


def make_app(lang: str = "zh", streamer: FakeStreamer | None = None,
             trainer: bool = True) -> tuple[AppTest, FakeStreamer]:
    """The app with fakes; `trainer`: the trainer pages are unlocked (as after entering the PIN)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if trainer:
        at.session_state["pc_trainer_unlocked"] = True
    streamer = streamer or FakeStreamer()
    lms = gait_landmarks()
    at.session_state["pc_webrtc_streamer"] = streamer
    at.session_state["pc_estimator_factory"] = lambda cfg: ReplayEstimator(lms)
    at.session_state["pc_lang"] = lang
    return at, streamer


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [t.value for t in at.title]
    parts += [e.value for e in at.info] + [e.value for e in at.error] + [e.value for e in at.success]
    parts += [e.value for e in at.warning] + [s.value for s in at.subheader]
    return "\n".join(str(p) for p in parts)


def feed(proc, frames: int, fps: float = 25.0) -> None:
    """Frames as if from the camera (the replay ignores the pixels)."""
    rgb = np.zeros((480, 640, 3), np.uint8)
    t0 = time.monotonic()
    for i in range(frames):
        proc.process(rgb, captured_at=t0 + i / fps)


TITLES = {
    "practice": {"zh": "练习：实时仪态检查", "en": "Practice: live posture check"},
    "review": {"zh": "视频点评", "en": "Review a recorded drill"},
    "history": {"zh": "训练记录", "en": "Training history"},
    "settings": {"zh": "设置", "en": "Settings"},
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_renders_in_both_languages(home, lang):
    at, _ = make_app(lang)
    at.run()
    assert not at.exception
    assert at.title[0].value == TITLES["practice"][lang]
    for page in ("review", "history", "settings"):
        at.switch_page(f"{VIEWS}/{page}.py").run()
        assert not at.exception, page
        assert at.title[0].value == TITLES[page][lang]


def test_language_switch_in_the_sidebar(home):
    at, streamer = make_app("zh")
    at.run()
    assert streamer.calls[-1]["translations"]["start"] == "开始"
    at.sidebar.radio[0].set_value("en").run()
    assert at.title[0].value == TITLES["practice"]["en"]
    assert streamer.calls[-1]["translations"]["start"] == "Start"
    assert streamer.calls[-1]["translations"]["device_access_denied"].startswith("Camera access was denied")


def test_practice_wires_the_camera_for_offline_use(home):
    at, streamer = make_app()
    at.run()
    kw = streamer.calls[-1]
    assert kw["rtc_configuration"] == {"iceServers": []}  # no STUN server: offline training rooms
    assert kw["media_stream_constraints"]["audio"] is False
    assert kw["media_stream_constraints"]["video"]["width"]["ideal"] == 640
    proc = at.session_state["pc_live"]
    assert kw["video_frame_callback"] == proc.recv and kw["on_video_ended"] == proc.on_ended
    assert kw["async_processing"] is True and kw["desired_playing_state"] is None
    assert "摄像头未开启" in texts(at)


def test_practice_live_checklist_and_hold_timer(home):
    at, _ = make_app("en", FakeStreamer(playing=True))
    at.run()
    assert "Waiting for the camera picture" in texts(at)
    at.selectbox(key="pc_drill__en").set_value("walking").run()
    proc = at.session_state["pc_live"]
    assert proc.drill.id == "walking"
    feed(proc, 100)
    proc.last_frame_at = time.monotonic()  # the camera is delivering
    at.run()
    assert not at.exception
    page = texts(at)
    assert "data-rule='walking.trunk_upright'" in page and "data-status='pass'" in page
    assert "Walk tall" not in page or "data-status='fail'" in page  # fixes only for failing rules
    assert "Walk past the camera" in page  # the drill prompt
    # one drill state drives prompt, message and timer (posturecheck.drill; tests/test_drill.py)
    assert "class='pc-drill" in page and "class='pc-hold'" in page
    assert ("data-counting='true'" in page) == ("Good, keep it!" in page)
    assert proc.running  # the worker runs while the camera plays
    proc.stop()


def test_practice_camera_problems_are_explained(home):
    at, _ = make_app("en", FakeStreamer(playing=True))
    at.run()
    proc = at.session_state["pc_live"]
    proc.last_frame_at = time.monotonic() - 10  # frames stopped coming (unplugged)
    at.run()
    assert "No picture from the camera" in texts(at)
    proc.ended = True  # the track ended (unplugged) while the page still plays
    proc.last_frame_at = time.monotonic()
    at.run()
    assert "No picture from the camera" in texts(at)
    proc.submit(np.zeros((8, 8, 3), np.uint8))  # pictures again: the page recovers
    at.run()
    assert "No picture" not in texts(at)
    proc.stop()
    at2, _ = make_app("en", FakeStreamer(playing=False))
    at2.run()
    assert "The camera is off" in texts(at2)


def test_practice_finish_scores_and_saves_a_named_trainee(home):
    at, _ = make_app("en")
    at.run()
    at.text_input(key="pc_trainee").set_value("Li Na").run()
    at.selectbox(key="pc_drill__en").set_value("walking").run()
    feed(at.session_state["pc_live"], 100)
    at.button(key="pc_finish").click().run()
    assert not at.exception
    assert "Saved to Li Na's history" in texts(at)
    assert 'data-testid="pc-score"' in texts(at)
    with HistoryStore(home / "history.sqlite3") as h:
        rows = h.sessions("Li Na")
        assert len(rows) == 1 and rows[0].source == "live" and rows[0].drill == "walking"
        assert rows[0].score is not None and rows[0].video_path is None  # no frames kept by default


def test_practice_unnamed_session_is_not_saved(home):
    at, _ = make_app("en")
    at.run()
    feed(at.session_state["pc_live"], 60)
    at.button(key="pc_finish").click().run()
    assert "was not saved" in texts(at)
    assert not (home / "history.sqlite3").exists() or HistoryStore(home / "history.sqlite3").sessions() == []


def blank_video(path: Path, frames: int = 40) -> bytes:
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (160, 120))
    for i in range(frames):
        w.write(np.full((120, 160, 3), (i * 5) % 255, np.uint8))
    w.release()
    return path.read_bytes()


def test_review_upload_timeline_violations_and_download(home, tmp_path):
    at, _ = make_app("en")
    at.run()
    at.switch_page(f"{VIEWS}/review.py").run()
    data = blank_video(tmp_path / "drill.avi")
    at.file_uploader[0].set_value(("drill.avi", data, "video/x-msvideo")).run()
    assert "pc_review" not in at.session_state and "press “Analyse”" in texts(at)  # nothing runs before Analyse
    at.button(key="pc_review_go").click().run()
    assert not at.exception
    page = texts(at)
    assert "Verdicts" in page and "Per-rule timeline" in page and "Violations" in page
    assert page.count("<tr data-rule=") >= 3
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    downloads = at.get("download_button")
    assert downloads and any("JSON" in (d.proto.label or "") for d in downloads)
    if importlib.util.find_spec("posturecheck.batch") is not None:  # review files (video, HTML) are wired in
        labels = " ".join(d.proto.label or "" for d in downloads)
        assert "HTML" in labels and "ZIP" in labels
        assert at.session_state["pc_review"]["annotated"] and "report.html" in at.session_state["pc_review"]["outputs"]
    # the analysis is kept for this session: a rerun (e.g. a jump) does not analyse again
    state = at.session_state["pc_review"]
    at.run()
    assert at.session_state["pc_review"] is state
    assert not list(Path(home).glob("**/*.avi"))  # the upload is not stored


def test_review_jump_to_time(home, tmp_path):
    at, _ = make_app("en")
    slouch = gait_landmarks("vid_gait_slouch_side_a")
    at.session_state["pc_estimator_factory"] = lambda cfg: ReplayEstimator(slouch, loop=False)
    at.run()
    at.switch_page(f"{VIEWS}/review.py").run()
    at.selectbox(key="pc_review_activity__en").set_value("walking")
    at.file_uploader[0].set_value(("slouch.avi", blank_video(tmp_path / "d.avi", len(slouch)), "video/x-msvideo"))
    at.run()
    at.button(key="pc_review_go").click().run()
    assert not at.exception
    jumps = [b for b in at.button if b.key and "-jump-" in b.key]
    assert jumps, "a slouched walk has a sustained violation"
    jumps[-1].click().run()
    assert at.session_state["pc_review_t"] > 0
    video = at.get("video")[0]
    assert video.proto.start_time == int(at.session_state["pc_review_t"])


def test_review_rejects_too_large_uploads(home, tmp_path):
    at, _ = make_app("en")
    at.run()
    at.session_state["pc_settings"] = app_settings.AppSettings(max_upload_mb=1)
    at.switch_page(f"{VIEWS}/review.py").run()
    at.file_uploader[0].set_value(("big.mp4", b"\0" * (2 * 1024 * 1024), "video/mp4")).run()
    assert "too large" in texts(at)
    assert "pc_review" not in at.session_state


def test_review_damaged_video_gives_one_clear_line(home):
    at, _ = make_app("zh")
    at.run()
    at.switch_page(f"{VIEWS}/review.py").run()
    at.file_uploader[0].set_value(("broken.mp4", b"not a video at all" * 100, "video/mp4")).run()
    at.button(key="pc_review_go").click().run()
    assert not at.exception
    assert at.error and "broken.mp4" in at.error[0].value


def test_history_page_shows_trainees_trends_and_csv(home):
    with HistoryStore(home / "history.sqlite3") as h:
        for i, score in enumerate((60.0, 75.0, 90.0)):
            h.save_session({"activity": "standing", "score": score, "duration_s": 10.0, "frames_analyzed": 250,
                            "rules": [{"id": "standing.trunk_upright", "status": "fail" if i == 0 else "pass",
                                       "value": 5.0, "fail_fraction": 0.3 if i == 0 else 0.0}]},
                           trainee="Wang Fang", source="live", drill="standing", started_at=1.7e9 + i * 86400)
    at, _ = make_app("en")
    at.run()
    at.switch_page(f"{VIEWS}/history.py").run()
    assert not at.exception
    assert "Score over time" in texts(at) and "Per-rule trend" in texts(at)
    at.selectbox(key="pc_hist_trainee__en").set_value("Wang Fang").run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 3
    assert any("CSV" in (d.proto.label or "") for d in at.get("download_button"))


def test_history_page_empty(home):
    at, _ = make_app("zh")
    at.run()
    at.switch_page(f"{VIEWS}/history.py").run()
    assert "还没有训练记录" in texts(at)


def test_settings_saves_and_validates_ice_servers(home):
    at, _ = make_app("en")
    at.run()
    at.switch_page(f"{VIEWS}/settings.py").run()
    at.text_area[0].set_value("[{\"urls\": \"http://nope\"}]")
    at.button[0].click().run()  # the form's submit button
    assert at.error and "Invalid ICE configuration" in at.error[0].value
    assert not (home / "settings.json").exists()
    at.text_area[0].set_value("[{\"urls\": [\"turn:10.0.0.2:3478\"], \"username\": \"u\", \"credential\": \"p\"}]")
    next(s for s in at.selectbox if s.label == "Live model").set_value("full")
    at.button[0].click().run()
    assert not at.exception and "Settings saved" in texts(at)
    saved = app_settings.load_settings(home)
    assert saved.live_model == "full" and saved.ice_servers[0]["urls"] == ["turn:10.0.0.2:3478"]


def test_profile_edits_are_validated_and_saved_as_toml(home):
    data = app_settings.profile_data(home)
    rules, checks = rule_rows(data), check_rows(data)
    row = checks.index[checks["id"] == "standing.shoulders_level"][0]
    checks.loc[row, checks.columns[6]] = 12.0  # max (column order: r, c, id, rule, feature, min, max, unit)
    edited = apply_edits(data, rules, checks)
    path = app_settings.save_profile_data(edited, home)
    assert path == home / "profile.toml"
    prof, err = app_settings.load_user_profile(home)
    assert err is None and prof.rule("standing.shoulders_level").checks[0].max == 12.0
    assert prof.ids == load_profile().ids  # rule ids are a contract: all kept
    bad = checks.copy()
    bad.loc[row, bad.columns[5]] = 50.0  # min above max
    with pytest.raises(ProfileError):
        app_settings.save_profile_data(apply_edits(data, rules, bad), home)
    assert app_settings.load_user_profile(home)[0].rule("standing.shoulders_level").checks[0].max == 12.0
    app_settings.reset_profile(home)
    assert app_settings.load_user_profile(home)[0].source == "default"


def test_settings_profile_editor_renders_and_resets(home):
    edited = apply_edits(app_settings.profile_data(home), rule_rows(app_settings.profile_data(home)),
                         check_rows(app_settings.profile_data(home)))
    app_settings.save_profile_data(edited, home)
    at, _ = make_app("zh")
    at.run()
    at.switch_page(f"{VIEWS}/settings.py").run()
    assert "profile.toml" in texts(at)
    at.button(key="pc_reset_profile").click().run()
    assert not at.exception and "已恢复默认规则标准" in texts(at)
    assert not (home / "profile.toml").exists()


def test_kiosk_is_full_screen_autostarts_and_hides_trainer_pages(home, monkeypatch):
    monkeypatch.setenv("POSTURECHECK_KIOSK", "1")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    streamer = FakeStreamer(playing=True)
    lms = gait_landmarks()
    at.session_state["pc_webrtc_streamer"] = streamer
    at.session_state["pc_estimator_factory"] = lambda cfg: ReplayEstimator(lms)
    at.run()
    assert not at.exception
    assert "仪态自助练习" in texts(at)  # zh-CN by default
    # the camera starts by itself: a same-origin script presses the widget's own Start button
    scripts = [e for e in at.get("iframe") if "streamlit_webrtc" in (e.proto.srcdoc or "")]
    assert any("开始" in e.proto.srcdoc for e in scripts)
    # trainees get no Start/Stop/"select device" buttons inside the camera widget, and the font
    assert any("button {display: none !important;}" in e.proto.srcdoc for e in scripts)
    assert any("cjk_font" in e.proto.srcdoc for e in scripts)
    assert streamer.calls[-1]["rtc_configuration"] == {"iceServers": []}
    assert not at.sidebar.radio  # no sidebar language/nav: trainer pages are not reachable
    with pytest.raises(ValueError):
        at.switch_page(f"{VIEWS}/history.py")
        at.run()
    assert "stSidebar" in texts(at)  # CSS hides the sidebar and toolbar
    proc = at.session_state["pc_kiosk_live"]
    assert proc.drill.id == "kiosk" and proc.config.record_dir is None
    feed(proc, 50)
    proc.last_frame_at = time.monotonic()
    at.run()
    assert not at.exception and "请保持标准站姿" in texts(at) or "请站到镜头前" in texts(at)
    proc.stop()


def test_kiosk_idle_reset_forgets_the_attempt(home, monkeypatch):
    monkeypatch.setenv("POSTURECHECK_KIOSK", "1")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["pc_webrtc_streamer"] = FakeStreamer(playing=True)
    at.session_state["pc_estimator_factory"] = lambda cfg: ReplayEstimator([None])  # nobody in view
    at.session_state["pc_settings"] = app_settings.AppSettings(kiosk_idle_s=5.0)
    at.run()
    proc = at.session_state["pc_kiosk_live"]
    feed(proc, 10)
    proc.last_frame_at = time.monotonic()
    at.session_state["pc_kiosk_state"]["last_seen"] = time.monotonic() - 60
    at.run()
    assert not at.exception
    assert proc.session.records == []  # restarted: nothing kept
    assert not (home / "history.sqlite3").exists()
    proc.stop()


def test_cli_builds_the_streamlit_command():
    from posturecheck.cli import app_command, build_parser

    args = build_parser().parse_args(["kiosk", "--port", "8600", "--headless"])
    cmd = app_command(args)
    assert cmd[1:4] == ["-m", "streamlit", "run"] and Path(cmd[4]).name == "main.py" and Path(cmd[4]).is_file()
    assert cmd[cmd.index("--server.port") + 1] == "8600" and cmd[-2:] == ["--", "--kiosk"]
    assert cmd[cmd.index("--client.toolbarMode") + 1] == "minimal"
    assert cmd[cmd.index("--browser.gatherUsageStats") + 1] == "false"
    # unattended: no first-run e-mail prompt, never a browser window for the kiosk
    assert cmd[cmd.index("--server.showEmailPrompt") + 1] == "false"
    assert cmd[cmd.index("--server.headless") + 1] == "true"
    kiosk = app_command(build_parser().parse_args(["kiosk"]))
    assert kiosk[kiosk.index("--server.headless") + 1] == "true"
    app = app_command(build_parser().parse_args(["app"]))
    assert "--kiosk" not in app and app[app.index("--server.address") + 1] == "127.0.0.1"  # loopback only


def test_dataframe_helpers_are_plain_pandas():
    assert isinstance(rule_rows(app_settings.profile_data()), pd.DataFrame)


# ----------------------------------------------------------------------------- issue 14


@pytest.mark.parametrize("slug", ["history", "settings", "review"])
def test_trainer_pages_need_the_pin_set_on_first_use(home, slug):
    from posturecheck import trainer_pin

    with HistoryStore(home / "history.sqlite3") as h:
        h.save_session({"activity": "standing", "score": 77.0, "rules": []}, trainee="Secret Name", source="live")
    at, _ = make_app("en", trainer=False)
    at.run()
    at.switch_page(f"{VIEWS}/{slug}.py").run()
    assert not at.exception
    assert "First use: choose a trainer PIN" in texts(at) and "Secret Name" not in texts(at)
    at.text_input(key="pc_pin_new").set_value("12")
    at.text_input(key="pc_pin_again").set_value("12")
    at.button[0].click().run()
    assert "4 to 128 characters" in texts(at) and not trainer_pin.pin_is_set(home)
    at.text_input(key="pc_pin_new").set_value("2468")
    at.text_input(key="pc_pin_again").set_value("2468")
    at.button[0].click().run()
    assert trainer_pin.pin_is_set(home) and at.session_state["pc_trainer_unlocked"]
    stored = (home / trainer_pin.PIN_FILE).read_text(encoding="utf-8")
    assert "2468" not in stored and '"kdf": "scrypt"' in stored
    if slug == "history":
        assert "Secret Name" in texts(at) or at.selectbox(key="pc_hist_trainee__en").options

    again, _ = make_app("en", trainer=False)  # another browser session: locked, PIN asked
    again.run()
    again.switch_page(f"{VIEWS}/{slug}.py").run()
    assert "Trainer pages are locked" in texts(again)
    again.text_input(key="pc_pin").set_value("0000")
    again.button[0].click().run()
    assert "Wrong PIN" in texts(again) and not again.session_state["pc_trainer_unlocked"] \
        if "pc_trainer_unlocked" in again.session_state else "Wrong PIN" in texts(again)
    again.text_input(key="pc_pin").set_value("2468")
    again.button[0].click().run()
    assert again.session_state["pc_trainer_unlocked"] and "Trainer pages are locked" not in texts(again)


def test_pin_attempts_are_rate_limited_and_persisted(home):
    from posturecheck import trainer_pin

    trainer_pin.set_pin("1357", home)
    results = [trainer_pin.check_pin("bad", home) for _ in range(trainer_pin.FREE_ATTEMPTS)]
    assert [r.ok for r in results] == [False] * 3 and results[-1].wait_s >= trainer_pin.BACKOFF_FIRST_S
    assert trainer_pin.check_pin("1357", home).wait_s > 0  # even the right PIN waits: no guessing in bulk
    assert trainer_pin.wait_needed(home) > 0  # persisted on disk: a restart does not reset it
    data = json.loads((home / trainer_pin.ATTEMPTS_FILE).read_text(encoding="utf-8"))
    assert data["failures"] == 3
    data["locked_until"] = 0  # the wait is over
    (home / trainer_pin.ATTEMPTS_FILE).write_text(json.dumps(data), encoding="utf-8")
    second = trainer_pin.check_pin("bad", home)
    assert second.wait_s >= 2 * trainer_pin.BACKOFF_FIRST_S - 1  # doubles
    (home / trainer_pin.ATTEMPTS_FILE).write_text(json.dumps({**data, "failures": 4, "locked_until": 0}))
    assert trainer_pin.check_pin("1357", home).ok and not (home / trainer_pin.ATTEMPTS_FILE).exists()
    if os.name == "posix":
        assert (home / trainer_pin.PIN_FILE).stat().st_mode & 0o077 == 0


def test_pin_is_changed_in_settings(home):
    from posturecheck import trainer_pin

    trainer_pin.set_pin("1111", home)
    at, _ = make_app("en")
    at.run()
    at.switch_page(f"{VIEWS}/settings.py").run()
    at.text_input(key="pc_pin_current").set_value("9999")
    at.text_input(key="pc_pin_change_new").set_value("2222")
    at.text_input(key="pc_pin_change_again").set_value("2222")
    form_buttons = [b for b in at.button if b.label == "Change PIN"]
    form_buttons[0].click().run()
    assert "current PIN is wrong" in texts(at)
    at.text_input(key="pc_pin_current").set_value("1111")
    [b for b in at.button if b.label == "Change PIN"][0].click().run()
    assert "PIN changed" in texts(at)
    assert trainer_pin.check_pin("2222", home).ok


def test_practice_finish_with_a_damaged_or_locked_history_shows_a_plain_message(home, monkeypatch):
    home.mkdir(parents=True, exist_ok=True)
    (home / "history.sqlite3").write_text("not a database\n" * 100, encoding="utf-8")
    at, _ = make_app("en")
    at.run()
    at.text_input(key="pc_trainee").set_value("Li Na").run()
    feed(at.session_state["pc_live"], 60)
    at.button(key="pc_finish").click().run()
    assert not at.exception
    assert "Saved to Li Na's history" in texts(at) and "was damaged" in texts(at)
    assert list(home.glob("history.sqlite3.corrupt-*"))

    from posturecheck.history import HistoryPending

    def pending(self, *a, **k):
        raise HistoryPending(home / "history.sqlite3.pending" / "x.json", "database is locked")

    monkeypatch.setattr(HistoryStore, "save_session", pending)
    feed(at.session_state["pc_live"], 60)
    at.button(key="pc_finish").click().run()
    assert not at.exception and "Score kept" in texts(at)
    assert 'data-testid="pc-score"' in texts(at)  # the score is still shown


def test_kiosk_save_errors_are_a_plain_line(home, monkeypatch):
    from posturecheck.ui import kiosk

    shown: list[str] = []
    monkeypatch.setattr(kiosk, "save_to_history", lambda report, **kw: ("error", "Could not save: disk full"))
    monkeypatch.setattr(kiosk.st, "caption", lambda text, *a, **k: shown.append(text))
    monkeypatch.setattr(kiosk, "_big", lambda *a, **k: None)
    monkeypatch.setattr(kiosk, "render_drill", lambda *a, **k: None)
    monkeypatch.setattr(kiosk, "speak", lambda *a, **k: None)
    monkeypatch.setattr(kiosk, "settings", lambda: app_settings.AppSettings(kiosk_keep="scores"))
    monkeypatch.setattr(kiosk, "lang", lambda: "en")
    monkeypatch.setattr(kiosk, "camera_message", lambda proc, playing: None)
    state = {"last_seen": time.monotonic(), "done_at": None, "score": None, "retry_at": time.monotonic(), "saved": False}
    monkeypatch.setattr(kiosk, "_state", lambda: state)

    class Drill:
        done = True

    class Result:
        person_found = True
        drill = Drill()

    class Proc:
        drill = None

        def latest(self):
            return Result()

        def drill_progress(self):
            return Drill()

        def finish(self, lg):
            return {"score": 88.0, "rules": []}

    kiosk._panel.__wrapped__(Proc(), True, False) if hasattr(kiosk._panel, "__wrapped__") \
        else kiosk._panel(Proc(), True, False)
    assert state["saved"] and state["score"] == 88.0 and "Could not save: disk full" in shown


# ----------------------------------------------------------------------------- issue 9 (review flow)


def test_review_waits_for_analyse_then_rejudges_without_the_model(home, tmp_path):
    """Options are chosen first; a changed option re-judges the stored landmarks (no model call);
    the choice survives a language switch (no "Choose an option")."""
    at, _ = make_app("en")
    slouch = gait_landmarks("vid_gait_slouch_side_a")
    calls: list[int] = []

    def factory(cfg):
        calls.append(1)
        return ReplayEstimator(slouch, loop=False)

    at.session_state["pc_estimator_factory"] = factory
    at.run()
    at.switch_page(f"{VIEWS}/review.py").run()
    at.file_uploader[0].set_value(("slouch.avi", blank_video(tmp_path / "d.avi", len(slouch)), "video/x-msvideo"))
    at.run()
    assert not calls and "pc_review" not in at.session_state
    at.selectbox(key="pc_review_activity__en").set_value("walking").run()
    at.button(key="pc_review_go").click().run()
    assert not at.exception and len(calls) == 1
    state = at.session_state["pc_review"]
    assert state["analysis"].activity == "walking"
    at.selectbox(key="pc_review_activity__en").set_value("standing").run()
    assert not at.exception and len(calls) == 1  # judged again, the model did not run
    assert "Judged again with the new options" in texts(at)
    assert at.session_state["pc_review"]["analysis"].activity == "standing"
    import re

    shown = re.sub(r"<[^>]+>", " ", texts(at))  # what the trainer reads (ids stay in the rows' attributes)
    for raw in ("in_pocket", "ankle_gap_sw", "knee_angle_min_deg", " major ", " minor ", "_sw", "_deg"):
        assert raw not in shown, shown[max(0, shown.find(raw) - 200):shown.find(raw) + 100]
    at.session_state["pc_lang"] = "zh"
    at.run()
    assert at.selectbox(key="pc_review_activity__zh").value == "standing"
    assert not at.exception and len(calls) == 1


def test_practice_choices_survive_a_language_switch(home):
    """The drill and standard stay chosen after switching language (no "Choose an option")."""
    at, _ = make_app("en")
    at.run()
    at.selectbox(key="pc_drill__en").set_value("walking").run()
    at.selectbox(key="pc_standard__en").set_value("women").run()
    at.session_state["pc_lang"] = "zh"
    at.run()
    assert not at.exception
    assert at.selectbox(key="pc_drill__zh").value == "walking"
    assert at.selectbox(key="pc_standard__zh").value == "women"
    assert at.session_state["pc_live"].drill.id == "walking"
