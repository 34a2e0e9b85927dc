"""The app server on a training-room machine (issue 14): loopback only, a clear message when the
port is taken, a log file for tracebacks the browser does not show, private uploads cleaned at start."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("streamlit")

from posturecheck.ui import applog  # noqa: E402
from appserver import wait_until_serving

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on `port` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            addr, port_hex = local.rsplit(":", 1)
            if state == "0A" and int(port_hex, 16) == port:
                found.add(addr)
    return found


LOOPBACK_V4 = "0100007F"


def wait_up(proc: subprocess.Popen, port: int, timeout: float = 90) -> None:
    wait_until_serving(proc, port, timeout, lambda: proc.stdout.read() or "")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@pytest.mark.skipif(not Path("/proc/net/tcp").is_file(), reason="needs Linux /proc/net/tcp to list listening sockets")
@pytest.mark.parametrize("how", ["posturecheck app", "streamlit run app.py"])
def test_every_documented_start_listens_on_loopback_only(tmp_path, how):
    port = free_port()
    env = {**os.environ, "POSTURECHECK_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT), "POSTURECHECK_LANG": "en"}
    if how == "posturecheck app":
        cmd = [sys.executable, "-m", "posturecheck", "app", "--headless", "--port", str(port)]
    else:  # exactly the README's line, from the checkout (reads .streamlit/config.toml)
        cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
               "--server.headless", "true"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_up(proc, port)
        assert listening_addresses(port) == {LOOPBACK_V4}, listening_addresses(port)
    finally:
        stop(proc)
    out = proc.stdout.read()
    if how == "posturecheck app":
        assert f"Server log: {tmp_path / 'home' / 'logs' / 'server.log'}" in out


def test_repository_config_binds_loopback_and_hides_tracebacks():
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert cfg["server"]["address"] == "127.0.0.1"
    assert cfg["client"]["showErrorDetails"] == "none" and cfg["browser"]["gatherUsageStats"] is False
    from posturecheck.cli import app_command, build_parser

    cmd = app_command(build_parser().parse_args(["app"]))
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--client.showErrorDetails") + 1] == "none"


@pytest.mark.parametrize("lang,words", [("en", "port {port} is already in use"), ("zh", "端口 {port} 已被占用")])
def test_port_in_use_is_one_clear_line_and_a_nonzero_exit(tmp_path, lang, words):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "POSTURECHECK_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT),
               "LANG": "zh_CN.UTF-8" if lang == "zh" else "en_US.UTF-8"}  # the locale names the language
        env.pop("POSTURECHECK_LANG", None)
        res = subprocess.run([sys.executable, "-m", "posturecheck", "app", "--headless", "--port", str(port)],
                             env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and words.format(port=port) in lines[0] and "Traceback" not in res.stderr


def test_server_log_gets_uncaught_tracebacks(tmp_path):
    from streamlit import error_util

    path = applog.setup_server_logging(tmp_path)
    try:
        raise RuntimeError("boom in a page")
    except RuntimeError as exc:
        error_util._log_uncaught_app_exception(exc)
    logging.getLogger("posturecheck.ui").warning("a posturecheck line")
    for h in logging.getLogger("posturecheck").handlers:
        h.flush()
    text = path.read_text(encoding="utf-8")
    assert "boom in a page" in text and "Traceback" in text and "a posturecheck line" in text
    assert path == tmp_path / "logs" / "server.log"


def test_uploads_are_private_and_leftovers_are_removed_at_start(tmp_path):
    mine = applog.uploads_dir(tmp_path)
    assert mine.parent == tmp_path / "uploads" and mine.name == str(os.getpid())
    if os.name == "posix":
        assert mine.stat().st_mode & 0o777 == 0o700 and mine.parent.stat().st_mode & 0o777 == 0o700
    (mine / "in_use.mp4").write_bytes(b"x")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp_path / "uploads" / str(dead.pid)  # a server killed mid-analysis
    (left / "review_x").mkdir(parents=True)
    (left / "review_x" / "trainee.mp4").write_bytes(b"frames")
    (tmp_path / "uploads" / "stray.mov").write_bytes(b"frames")
    removed = applog.clean_uploads(tmp_path)
    assert set(removed) == {left, tmp_path / "uploads" / "stray.mov"}
    assert not left.exists() and (mine / "in_use.mp4").is_file()  # a live server's upload stays


def test_review_upload_lives_in_the_private_folder_and_is_gone_after(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    home = tmp_path / "home"
    monkeypatch.setenv("POSTURECHECK_HOME", str(home))
    seen: list[Path] = []
    import posturecheck.ui.review as review

    real = review.analyze_path

    def spy(path, *a, **k):
        seen.append(Path(path))
        assert Path(path).is_file()
        return real(path, *a, **k)

    monkeypatch.setattr(review, "analyze_path", spy)
    from tests.test_app import blank_video, gait_landmarks  # noqa: PLC0415
    from posturecheck.pose import ReplayEstimator

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["pc_trainer_unlocked"] = True
    at.session_state["pc_lang"] = "en"
    lms = gait_landmarks()
    at.session_state["pc_estimator_factory"] = lambda cfg: ReplayEstimator(lms)
    at.run()
    at.switch_page("posturecheck/ui/views/review.py").run()
    at.file_uploader[0].set_value(("drill.avi", blank_video(tmp_path / "drill.avi"), "video/x-msvideo")).run()
    at.button(key="pc_review_go").click().run()  # options first, then Analyse
    assert not at.exception and seen
    assert seen[0].parent.parent == home / "uploads" / str(os.getpid())
    assert not seen[0].exists() and not seen[0].parent.exists()
