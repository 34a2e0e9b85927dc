"""The app in a real browser: headless Chromium with a fake camera fed from a dev clip.

Starts `python -m streamlit run app.py` on a free port, opens Practice in Debian's
Chromium (driven by Playwright with executable_path, never a downloaded browser),
presses Start and waits for live verdicts in the checklist. Saves screenshots of
every page in both languages (and the kiosk) to $POSTURECHECK_SCREENS or /tmp/screens.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from appserver import wait_until_serving

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "data" / "dev"
CLIP = DEV / "vid_tfjs_squats_front.mp4"
REVIEW_CLIP = DEV / "vid_gait_slouch_side_a.mp4"
REVIEW_TIMEOUT_MS = 240_000
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENS = Path(os.environ.get("POSTURECHECK_SCREENS", "/tmp/screens"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                  "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
VERDICT_TIMEOUT_MS = 90_000
START_TIMEOUT_S = 150  # a busy shared machine can take over a minute to start Streamlit

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (apt-get install -y chromium)"),
    pytest.mark.skipif(not CLIP.is_file(), reason=f"dev clip {CLIP.name} not found beside the project (../shared)"),
]


def write_y4m(src: Path, dst: Path, size: tuple[int, int] = (640, 480), fps: int = 15, max_frames: int = 150) -> Path:
    """Decode a clip, letterbox it to `size`, write YUV4MPEG2 (4:2:0) for Chromium's fake camera."""
    w, h = size
    cap = cv2.VideoCapture(str(src))
    src_fps = cap.get(cv2.CAP_PROP_FPS) or fps
    repeat = max(1, round(fps / src_fps))  # a 5 fps clip: repeat frames to keep real time
    with dst.open("wb") as out:
        out.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        n = 0
        while n < max_frames:
            ok, bgr = cap.read()
            if not ok:
                break
            s = min(w / bgr.shape[1], h / bgr.shape[0])
            small = cv2.resize(bgr, (int(bgr.shape[1] * s) // 2 * 2, int(bgr.shape[0] * s) // 2 * 2))
            canvas = np.zeros((h, w, 3), np.uint8)
            y0, x0 = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
            canvas[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small
            yuv = cv2.cvtColor(canvas, cv2.COLOR_BGR2YUV_I420).tobytes()
            for _ in range(repeat):
                out.write(b"FRAME\n" + yuv)
                n += 1
    cap.release()
    assert n > 0, f"could not decode {src}"
    return dst


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(home: Path, port: int, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "POSTURECHECK_HOME": str(home)}
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none", "--client.toolbarMode", "minimal", *extra]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_until_serving(proc, port, START_TIMEOUT_S, lambda: proc.stdout.read().decode(errors="replace"))
    return proc


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@pytest.fixture()
def browser(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    y4m = write_y4m(CLIP, tmp_path / "camera.y4m")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM,
                              args=CHROMIUM_FLAGS + [f"--use-file-for-fake-video-capture={y4m}"])
        try:
            yield b
        finally:
            b.close()


def wait_for_verdicts(page) -> list[str]:
    page.wait_for_selector("div.pc-item[data-status='pass'], div.pc-item[data-status='fail']",
                           timeout=VERDICT_TIMEOUT_MS)
    return page.locator("div.pc-item").evaluate_all("els => els.map(e => e.dataset.status)")


def shot(page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def set_pin_zh(page, pin: str) -> None:
    """First use of a trainer page: choose the PIN in the zh form."""
    page.wait_for_selector("text=首次使用：请设置培训师 PIN", timeout=30_000)
    page.get_by_label("新 PIN").fill(pin)
    page.get_by_label("再输入一次").fill(pin)
    page.get_by_role("button", name="设置 PIN").click()
    page.wait_for_selector("text=首次使用：请设置培训师 PIN", state="detached", timeout=30_000)


def enter_pin_en(page, pin: str) -> None:
    page.get_by_label("Trainer PIN").fill(pin)
    page.get_by_role("button", name="Unlock").click()


def test_trainer_pages_need_the_pin_in_a_real_browser(browser, tmp_path):
    """History, Review and Settings in Chromium: PIN chosen on first use, asked in every new
    browser session, wrong PINs refused and slowed down; the history never shows without it."""
    home = tmp_path / "home"
    from posturecheck.history import HistoryStore

    with HistoryStore(home / "history.sqlite3") as h:
        h.save_session({"activity": "standing", "score": 81.0, "rules": []}, trainee="Trainee Secret", source="live")
    port = free_port()
    server = start_app(home, port)
    try:
        first = browser.new_context(viewport={"width": 1300, "height": 1000})
        page = first.new_page()
        page.goto(f"http://127.0.0.1:{port}/history")
        set_pin_zh(page, "97531")
        page.wait_for_selector("text=Trainee Secret", timeout=30_000)  # unlocked: the history shows
        assert "97531" not in (home / "trainer_pin.json").read_text(encoding="utf-8")
        first.close()

        other = browser.new_context(viewport={"width": 1300, "height": 1000})  # another station
        page = other.new_page()
        for slug in ("history", "settings", "review"):
            page.goto(f"http://127.0.0.1:{port}/{slug}")
            page.wait_for_selector("text=培训师页面已锁定", timeout=30_000)
            assert page.locator("text=Trainee Secret").count() == 0
        page.get_by_text("English", exact=True).click()
        page.wait_for_selector("text=Trainer pages are locked", timeout=30_000)
        for attempt in range(3):
            enter_pin_en(page, f"000{attempt}")
            page.wait_for_timeout(2500)  # the rerun answers
            expected = "Wrong PIN" if attempt < 2 else "Too many wrong PINs"
            page.wait_for_selector(f"[data-testid='stAlertContentError']:has-text('{expected}')", timeout=30_000)
        enter_pin_en(page, "97531")  # right, but within the back-off: still refused
        page.wait_for_timeout(2500)
        page.wait_for_selector("[data-testid='stAlertContentError']:has-text('Too many wrong PINs')", timeout=30_000)
        assert page.locator("text=Trainee Secret").count() == 0
        shot(page, "pin_locked_en")
        other.close()
    finally:
        stop_app(server)
    import json

    attempts = json.loads((home / "trainer_pin_attempts.json").read_text(encoding="utf-8"))
    assert attempts["failures"] >= 3  # persisted: a restart does not reset the count


def test_practice_live_verdicts_and_screens_of_every_page(browser, tmp_path):
    port = free_port()
    server = start_app(tmp_path / "home", port)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1700})
        outside: list[str] = []  # fully offline: nothing but this server
        page.on("request", lambda r: outside.append(r.url) if r.url.startswith("http")
                and not r.url.startswith(f"http://127.0.0.1:{port}") else None)
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector("text=练习：实时仪态检查", timeout=60_000)
        page.get_by_label("学员姓名（可选，填写后保存成绩）").fill("测试学员")
        page.keyboard.press("Enter")
        camera = page.frame_locator("iframe[title*='streamlit_webrtc']").first
        camera.get_by_role("button", name="开始").click(timeout=30_000)
        statuses = wait_for_verdicts(page)
        assert {"pass", "fail"} & set(statuses), statuses
        page.wait_for_timeout(3000)
        shot(page, "practice_zh")
        page.get_by_role("button", name="结束并评分").click()
        page.wait_for_selector("text=成绩已保存到 测试学员 的训练记录。", timeout=30_000)
        page.wait_for_selector("[data-testid='pc-score']", timeout=30_000)
        page.wait_for_timeout(2000)
        shot(page, "practice_zh_score")
        nav = page.locator("[data-testid='stSidebarNav']")
        for name, slug in (("视频点评", "review"), ("训练记录", "history"), ("设置", "settings")):
            nav.get_by_text(name, exact=True).click()
            page.wait_for_timeout(2500)
            if slug == "review":  # the first trainer page: choose the trainer PIN (first use)
                set_pin_zh(page, "8642")
            if slug == "review" and REVIEW_CLIP.is_file():  # a real upload, analysed by the real model
                page.locator("input[type='file']").set_input_files(str(REVIEW_CLIP))
                page.get_by_role("button", name="开始分析").click(timeout=60_000)  # options first, then Analyse
                page.wait_for_selector("text=逐项时间线", timeout=REVIEW_TIMEOUT_MS)
                page.wait_for_selector("[data-testid='stVegaLiteChart'], .vega-embed", timeout=30_000)
            shot(page, f"{slug}_zh")
        page.get_by_text("English", exact=True).click()  # the switch keeps the page
        page.wait_for_selector("h1:has-text('Settings')", timeout=30_000)
        for name, slug, title in (("Practice", "practice", "Practice: live posture check"),
                                  ("Review", "review", "Review a recorded drill"),
                                  ("History", "history", "Training history"), ("Settings", "settings", "Settings")):
            nav.get_by_text(name, exact=True).click()
            page.wait_for_selector(f"h1:has-text('{title}')", timeout=30_000)
            if slug == "practice":  # streamlit-webrtc's own button is translated too
                page.frame_locator("iframe[title*='streamlit_webrtc']").first.get_by_role(
                    "button", name="Start").wait_for(timeout=30_000)
            shot(page, f"{slug}_en")
        assert not outside, outside
    finally:
        stop_app(server)


def test_kiosk_starts_the_camera_by_itself(browser, tmp_path):
    port = free_port()
    server = start_app(tmp_path / "home", port, "--client.showSidebarNavigation", "false", "--", "--kiosk")
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        outside: list[str] = []
        page.on("request", lambda r: outside.append(r.url) if r.url.startswith("http")
                and not r.url.startswith(f"http://127.0.0.1:{port}") else None)
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector("text=仪态自助练习", timeout=60_000)
        # no click: the kiosk presses Start itself; large zh feedback follows
        page.wait_for_selector("div.pc-prompt", timeout=VERDICT_TIMEOUT_MS)  # a person seen: the guided step
        assert page.locator("[data-testid='stSidebarNav']").count() == 0
        shot(page, "kiosk_zh")
        page.get_by_text("English", exact=True).click()
        page.wait_for_selector("text=Posture self-practice", timeout=30_000)
        shot(page, "kiosk_en")
        assert not outside, outside
    finally:
        stop_app(server)
