"""Nothing leaves the machine (issue 14): `analyze`, `app` and `kiosk` resolve no host name.

Each runs inside a fresh network namespace (`ip netns add`) whose only resolver is a fake
DNS server on the namespace's loopback (tests/dnsprobe.py) that logs every query;
`ip netns exec` bind-mounts /etc/netns/NAME/resolv.conf over /etc/resolv.conf. A positive
control shows the probe works: MediaPipe's Tasks runtime on its own resolves
`play.googleapis.com` (its usage logger) and posturecheck, which blocks that logger
(posturecheck.native.block_telemetry), resolves nothing. Skipped where namespaces are not
allowed (not root, no `ip`, a container without CAP_SYS_ADMIN).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "data" / "dev"
PHOTO = DEV / "img_econ_lean_wall.jpg"
CLIP = DEV / "vid_tfjs_squats_front.mp4"
IP = shutil.which("ip")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SETTLE_S = 8.0  # MediaPipe's logger flushes in the background: give it time to try


def _namespaces_allowed() -> str | None:
    if IP is None:
        return "the `ip` command (iproute2) is not installed"
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "network namespaces need root (ip netns add)"
    name = f"pcprobe{os.getpid()}"
    res = subprocess.run([IP, "netns", "add", name], capture_output=True, text=True)
    if res.returncode != 0:
        return f"network namespaces are not allowed here: {res.stderr.strip()}"
    subprocess.run([IP, "netns", "del", name], capture_output=True)
    return None


SKIP = _namespaces_allowed()
needs_netns = pytest.mark.skipif(SKIP is not None, reason=SKIP or "")


class Probe:
    """A network namespace with a logging fake resolver; `names()` are the queried names."""

    def __init__(self, tmp: Path) -> None:
        self.name = f"pcdns{os.getpid()}"
        self.log = tmp / "dns.log"
        self.etc = Path("/etc/netns") / self.name
        subprocess.run([IP, "netns", "add", self.name], check=True)
        subprocess.run([IP, "netns", "exec", self.name, IP, "link", "set", "lo", "up"], check=True)
        # A private link inside the namespace (no route out) so WebRTC has a non-loopback host candidate.
        for argv in (["link", "add", "pcv0", "type", "veth", "peer", "name", "pcv1"],
                     ["addr", "add", "10.200.0.1/24", "dev", "pcv0"], ["addr", "add", "10.200.0.2/24", "dev", "pcv1"],
                     ["link", "set", "pcv0", "up"], ["link", "set", "pcv1", "up"]):
            subprocess.run([IP, "netns", "exec", self.name, IP, *argv], check=True)
        self.etc.mkdir(parents=True, exist_ok=True)
        (self.etc / "resolv.conf").write_text("nameserver 127.0.0.1\noptions attempts:1 timeout:1\n")
        self.server = subprocess.Popen(self.cmd(sys.executable, str(ROOT / "tests" / "dnsprobe.py"), str(self.log)))
        deadline = time.monotonic() + 10
        while not (self.log.is_file() and "#ready" in self.log.read_text()):
            assert time.monotonic() < deadline, "the fake resolver did not start"
            time.sleep(0.1)
        self.check_probe()

    def cmd(self, *argv: str) -> list[str]:
        return [IP, "netns", "exec", self.name, *argv]

    def names(self) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if line and not line.startswith("#")]

    def reset(self) -> None:
        with self.log.open("w") as fh:
            fh.write("#ready\n")

    def check_probe(self) -> None:
        """The probe sees a lookup made in the namespace (and nothing else is listening)."""
        subprocess.run(self.cmd("getent", "hosts", "probe-check.example"), capture_output=True)
        assert "probe-check.example" in self.names()
        self.reset()

    def close(self) -> None:
        self.server.kill()
        self.server.wait(5)
        subprocess.run([IP, "netns", "del", self.name], capture_output=True)
        shutil.rmtree(self.etc, ignore_errors=True)


@pytest.fixture()
def probe(tmp_path):
    p = Probe(tmp_path)
    try:
        yield p
    finally:
        p.close()


def env(home: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    return {**clean, "PYTHONPATH": str(ROOT), "POSTURECHECK_HOME": str(home), "LANG": "C.UTF-8"}


RAW_MEDIAPIPE = """
import time, numpy as np, mediapipe as mp
from mediapipe.tasks.python import vision
opts = vision.PoseLandmarkerOptions(base_options=mp.tasks.BaseOptions(model_asset_path=%r),
                                    running_mode=vision.RunningMode.IMAGE)
with vision.PoseLandmarker.create_from_options(opts) as lm:
    lm.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.zeros((256, 256, 3), np.uint8)))
    time.sleep(%f)
"""


@needs_netns
def test_probe_sees_mediapipe_phone_home_without_the_block(probe, tmp_path):
    """Positive control: MediaPipe's Tasks runtime alone looks up its logging host."""
    model = str(ROOT / "posturecheck" / "models" / "pose_landmarker_lite.task")
    subprocess.run(probe.cmd(sys.executable, "-c", RAW_MEDIAPIPE % (model, 3.0)), env=env(tmp_path),
                   capture_output=True, timeout=120)
    names = probe.names()
    print("raw MediaPipe resolved:", names)
    assert "play.googleapis.com" in names


@needs_netns
@pytest.mark.skipif(not PHOTO.is_file(), reason="dev photo not found beside the project (../shared)")
def test_analyze_resolves_no_name(probe, tmp_path):
    import cv2
    import numpy as np

    clip = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (320, 240))
    for i in range(20):
        writer.write(np.full((240, 320, 3), i * 5, np.uint8))
    writer.release()
    res = subprocess.run(probe.cmd(sys.executable, "-m", "posturecheck", "analyze", str(PHOTO), str(clip),
                                   "--format", "json"), env=env(tmp_path / "home"), capture_output=True,
                         text=True, timeout=300)
    assert res.returncode in (0, 1), res.stderr[-2000:]
    time.sleep(SETTLE_S)
    print("analyze resolved:", probe.names())
    assert probe.names() == []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@needs_netns
@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")
@pytest.mark.skipif(not (PHOTO.is_file() and CLIP.is_file()), reason="dev media not found beside the project (../shared)")
@pytest.mark.parametrize("mode", ["app", "kiosk"])
def test_app_and_kiosk_resolve_no_name(probe, tmp_path, mode):
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    from tests.test_browser import write_y4m

    y4m = write_y4m(CLIP, tmp_path / "camera.y4m")
    port = free_port()
    home = tmp_path / "home"
    server = subprocess.Popen(probe.cmd(sys.executable, "-m", "posturecheck", mode, "--headless", "--port", str(port)),
                              env=env(home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        driver = subprocess.run(probe.cmd(sys.executable, str(ROOT / "tests" / "netns_driver.py"), mode,
                                          f"http://127.0.0.1:{port}", str(y4m), str(PHOTO)),
                                env=env(home), capture_output=True, text=True, timeout=400)
        assert "DRIVER OK" in driver.stdout, driver.stdout[-1500:] + driver.stderr[-3000:]
        time.sleep(SETTLE_S)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
    print(f"{mode} resolved:", probe.names())
    assert probe.names() == []


def test_block_telemetry_leaves_loopback_reachable(monkeypatch):
    """The sink applies to every host but this computer's own (e.g. the app's health check)."""

    from posturecheck.native import LOOPBACK_ONLY, PROXY_VARS, TELEMETRY_SINK, block_telemetry

    fake: dict[str, str] = {"NO_PROXY": "*", "https_proxy": "http://corp-proxy:3128"}
    block_telemetry(fake)
    assert all(fake[k] == TELEMETRY_SINK for k in PROXY_VARS)
    assert fake["NO_PROXY"] == fake["no_proxy"] == LOOPBACK_ONLY  # a user's "*" cannot exempt Google
    for key, value in fake.items():
        monkeypatch.setenv(key, value)
    assert urllib.request.proxy_bypass("127.0.0.1") and not urllib.request.proxy_bypass("play.googleapis.com")
