"""`analyze --engine ray` against a real Ray cluster on 127.0.0.1 gives what the local engine gives (issue 10).

The fixture starts a throwaway head node (`ray start --head --block`, 2 CPUs, no dashboard, usage
statistics off, its own temp dir) and stops it through its own process id: `ray stop` would stop
every Ray on the machine. RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 keeps Ray from swapping 127.0.0.1
for the machine's network address, so every connection stays on loopback.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "data" / "dev"
RAY_START_TIMEOUT_S = 120
RUN_TIMEOUT_S = 600
LOOPBACK_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}


def _ray_cli() -> str | None:
    try:
        import ray  # noqa: F401
    except ImportError:
        return None
    beside = Path(sys.executable).with_name("ray")
    return str(beside) if beside.is_file() else shutil.which("ray")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


HEAD_SESSION: dict[str, int] = {}


@contextlib.contextmanager
def ray_head() -> Iterator[str]:
    """A throwaway head node on 127.0.0.1 (2 CPUs); yields its address, stops it on exit."""
    cli = _ray_cli()
    if cli is None:
        reason = "Ray is not installed (pip install -e '.[test]' installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; CI must run the Ray engine test")
        pytest.skip(reason)
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="pcray-", dir="/tmp")  # short: Ray's unix sockets live here
    env = {**os.environ, **LOOPBACK_ENV, "PYTHONPATH": str(ROOT)}  # workers import this checkout
    log = open(Path(tmp) / "ray-start.log", "w+", encoding="utf-8")
    proc = subprocess.Popen([cli, "start", "--head", "--port", str(port), "--node-ip-address", "127.0.0.1",
                             "--num-cpus", "2", "--include-dashboard=false", "--disable-usage-stats",
                             "--temp-dir", tmp, "--block"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + RAY_START_TIMEOUT_S
        while "Ray runtime started" not in Path(log.name).read_text(encoding="utf-8", errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("ray start failed:\n" + Path(log.name).read_text(encoding="utf-8", errors="replace")[-3000:])
            time.sleep(0.5)
        HEAD_SESSION[f"127.0.0.1:{port}"] = proc.pid  # its workers are in this session (start_new_session)
        yield f"127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)  # `ray start --block` stops its raylet, GCS and workers
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # anything of this head's own process group still there
        except ProcessLookupError:
            pass
        proc.wait(10)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def ray_address():
    with ray_head() as address:
        yield address


def blank_clip(path: Path, frames: int = 30) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (320, 240))
    for i in range(frames):
        writer.write(np.full((240, 320, 3), (i * 7) % 255, np.uint8))
    writer.release()
    return path


@pytest.fixture(scope="module")
def drills(tmp_path_factory) -> Path:
    """A blank clip, a damaged 'video', and (when ../shared is here) a real photo of a trainee."""
    folder = tmp_path_factory.mktemp("drills")
    blank_clip(folder / "blank.avi")
    (folder / "broken.mp4").write_bytes(b"not a video at all " * 64)
    photo = DEV / "img_imper_women1.jpg"
    if photo.is_file():
        shutil.copy(photo, folder / photo.name)
    return folder


def cli(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **LOOPBACK_ENV, "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8", "POSTURECHECK_LANG": "en",
           **(env_extra or {})}  # English messages (the one language setting; C alone means Chinese)
    return subprocess.run([sys.executable, "-m", "posturecheck", "analyze", *args], env=env, capture_output=True,
                          text=True, timeout=RUN_TIMEOUT_S)


FONT = re.compile(r"url\(data:font/[^)]*\)")
GENERATED = re.compile(r"(<b>(?:Generated|生成时间)</b>)[^<]*")


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root; HTML without its embedded font subset and "Generated" time (both carry the clock)."""
    out = {}
    for f in sorted(root.rglob("*")):
        if f.is_file():
            data = f.read_bytes()
            if f.suffix == ".html":
                data = GENERATED.sub(r"\1", FONT.sub("url(font)", data.decode("utf-8"))).encode("utf-8")
            out[f.relative_to(root).as_posix()] = data
    return out


def video_shape(path: Path) -> tuple[int, int, int]:
    """(frames, width, height) of an encoded video."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        frames = 0
        while cap.grab():
            frames += 1
        return frames, int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    finally:
        cap.release()


def assert_same_review(got_root: Path, want_root: Path) -> None:
    """The same review files; byte for byte except the videos.

    x264's bytes depend on its thread count (a share of this machine's cores locally, the
    task's one CPU on Ray): for a video the same frame count and size must agree.
    """
    want, got = tree(want_root), tree(got_root)
    assert sorted(got) == sorted(want)
    for name in want:
        if name.endswith(".mp4"):
            assert video_shape(got_root / name) == video_shape(want_root / name), name
        else:
            assert got[name] == want[name], f"{name} differs between the local and the Ray engine"


def test_report_on_ray_is_the_local_report(ray_address, drills, tmp_path):
    common = [str(drills), "--model", "lite", "--lang", "en"]
    local = cli(*common, "--report", str(tmp_path / "local" / "review"))  # same folder name: it titles the summary
    remote = cli(*common, "--report", str(tmp_path / "ray" / "review"), "--engine", "ray", "--address", ray_address)
    assert local.returncode == remote.returncode == 1, (local.stderr, remote.stderr)  # partly failed: broken.mp4
    # the same per-file lines (in finishing order, so compared as sets) and the same error line
    lines = lambda p: sorted(line for line in p.stdout.splitlines() if not line.startswith("Summary:"))  # noqa: E731
    assert lines(local) == lines(remote) and len(lines(remote)) == len(list(drills.iterdir())) - 1
    assert "broken.mp4: this file is not a readable video" in remote.stderr
    assert "Traceback" not in remote.stderr
    want, got = tree(tmp_path / "local" / "review"), tree(tmp_path / "ray" / "review")
    assert sorted(got) == sorted(want)
    assert "blank/annotated.mp4" in got and "summary.csv" in got and not any(k.startswith("broken/") for k in got)
    assert_same_review(tmp_path / "ray" / "review", tmp_path / "local" / "review")


def test_plain_analyze_on_ray_prints_what_local_prints(ray_address, drills):
    common = [str(drills), "--model", "lite", "--format", "json", "--no-face"]
    local = cli(*common)
    remote = cli(*common, "--engine", "ray", "--address", ray_address)
    assert local.returncode == remote.returncode == 1, (local.stderr, remote.stderr)
    assert remote.stdout == local.stdout and remote.stdout.count("\n") == len(list(drills.iterdir()))


def test_one_drill_on_ray_writes_straight_into_the_report_folder(ray_address, drills, tmp_path):
    common = [str(drills / "blank.avi"), "--model", "lite", "--no-face", "--lang", "zh"]
    local = cli(*common, "--report", str(tmp_path / "local" / "one"))
    remote = cli(*common, "--report", str(tmp_path / "ray" / "one"), "--engine", "ray", "--address", ray_address)
    assert local.returncode == remote.returncode == 0, (local.stderr, remote.stderr)
    got = tree(tmp_path / "ray" / "one")
    assert "report.html" in got and "annotated.mp4" in got
    assert_same_review(tmp_path / "ray" / "one", tmp_path / "local" / "one")
    assert remote.stdout.replace("/ray/", "/local/") == local.stdout


def test_unreachable_cluster_is_one_line_in_the_users_language(drills):
    port = free_port()  # nothing listens there
    for lang, words in (("en", "cannot reach the Ray cluster"), ("zh", "无法连接 Ray 集群")):
        t0 = time.monotonic()
        res = cli(str(drills), "--engine", "ray", "--address", f"127.0.0.1:{port}", "--lang", lang)
        assert res.returncode == 2 and words in res.stderr and "Traceback" not in res.stderr
        assert len(res.stderr.strip().splitlines()) == 1 and time.monotonic() - t0 < 60


def test_without_ray_installed_the_message_says_how_to_install(drills, tmp_path):
    fake = tmp_path / "noray" / "ray"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError(\"No module named 'ray'\")\n", encoding="utf-8")
    env = {"PYTHONPATH": f"{tmp_path / 'noray'}{os.pathsep}{ROOT}"}
    res = cli(str(drills), "--engine", "ray", "--lang", "en", env_extra=env)
    assert res.returncode == 2 and "pip install 'posturecheck[ray]'" in res.stderr and "Traceback" not in res.stderr
    local = cli(str(drills / "blank.avi"), "--model", "lite", "--no-face", env_extra=env)  # the default needs no Ray
    assert local.returncode == 0, local.stderr


def running_tasks(session: int) -> list[int]:
    """Ray workers of this test's cluster (same session id) running a drill right now (Linux /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            sid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[3])
        except (OSError, ValueError, IndexError):
            continue
        if sid == session and cmdline.startswith(b"ray::_run_staged"):
            pids.append(int(entry.name))
    return pids


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="finds the Ray worker processes through Linux /proc")
def test_a_worker_killed_twice_costs_only_its_own_drill(ray_address, tmp_path):
    """The out-of-memory killer's SIGKILL on the worker of one drill (and on its one retry): an error row,
    the other drills are reviewed and summarised."""
    folder = tmp_path / "drills"
    folder.mkdir()
    blank_clip(folder / "a_long.avi", frames=600)
    blank_clip(folder / "b.avi")
    blank_clip(folder / "c.avi")
    out = tmp_path / "review"
    env = {**os.environ, **LOOPBACK_ENV, "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8"}
    proc = subprocess.Popen([sys.executable, "-m", "posturecheck", "analyze", str(folder), "--report", str(out),
                             "--engine", "ray", "--address", ray_address, "--workers", "1", "--model", "lite",
                             "--no-face", "--lang", "en"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    killed = []
    try:
        for _ in range(2):  # the first run and its one retry
            deadline = time.monotonic() + 180
            while not (pids := [p for p in running_tasks(HEAD_SESSION[ray_address]) if p not in killed]):
                assert proc.poll() is None and time.monotonic() < deadline, "no Ray worker ran the long drill"
                time.sleep(0.2)
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])
        stdout, stderr = proc.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, stderr
    assert "a_long.avi: the Ray worker or node was lost" in stderr and "Traceback" not in stderr
    assert "b.avi: " in stdout and "c.avi: " in stdout
    rows = (out / "summary.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(rows) == 4 and "worker or node was lost" in rows[1]
    assert (out / "b" / "report.html").is_file() and not (out / "a_long").exists()


def test_a_head_that_dies_mid_batch_keeps_the_finished_drills_and_says_so(tmp_path):
    """The whole cluster goes (its head killed) while the second of three drills runs: the first drill's
    review is kept, the other two are error rows saying the cluster stopped answering, the summary is
    written, one line per file, no Ray log dump or traceback on the terminal."""
    folder = tmp_path / "drills"
    folder.mkdir()
    blank_clip(folder / "a.avi")
    blank_clip(folder / "b_long.avi", frames=1500)
    blank_clip(folder / "c.avi")
    out = tmp_path / "review"
    with ray_head() as address:
        env = {**os.environ, **LOOPBACK_ENV, "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8",
               "POSTURECHECK_HOME": str(tmp_path / "home")}
        proc = subprocess.Popen([sys.executable, "-m", "posturecheck", "analyze", str(folder), "--report", str(out),
                                 "--engine", "ray", "--address", address, "--workers", "1", "--model", "lite",
                                 "--no-face", "--lang", "en"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 300
            while not (out / "a" / "report.html").is_file():
                assert proc.poll() is None and time.monotonic() < deadline, "the first drill never finished"
                time.sleep(0.2)
            os.killpg(HEAD_SESSION[address], signal.SIGKILL)  # head: GCS, raylet and its workers at once
            stdout, stderr = proc.communicate(timeout=RUN_TIMEOUT_S)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 1, stderr
    lost = "the Ray cluster at " + address + " stopped answering mid-batch"
    assert f"b_long.avi: {lost}" in stderr and f"c.avi: {lost}" in stderr, stderr
    assert "Traceback" not in stderr and "raylet" not in stderr.lower(), stderr
    assert "a.avi: " in stdout
    rows = (out / "summary.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(rows) == 4 and sum("stopped answering" in r for r in rows) == 2
    assert (out / "a" / "report.html").is_file() and not (out / "b_long").exists()
    assert (tmp_path / "home" / "logs" / "ray-driver.log").is_file()  # Ray's own messages went there
