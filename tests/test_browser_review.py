"""Review page in a real browser (Debian Chromium via Playwright's executable_path), started the
way a trainer does — `posturecheck app` from another folder — not from the checkout.

Uploads a dev photo, chooses activity and standard, presses Analyse, checks the score agrees
with the verdict table (recomputed from the rows' statuses and severities), that no raw code is
shown, that all four downloads are offered, that changing the standard re-judges without the
model, and that the choices survive a language switch. Screenshots of every page in both
languages go to $POSTURECHECK_SCREENS (default /tmp/screens).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_browser import CHROMIUM, CHROMIUM_FLAGS, ROOT, free_port, set_pin_zh, stop_app
from test_browser import shot as _shot
from appserver import wait_until_serving


def shot(page, name: str, busy: bool = True) -> None:
    """After the Review page's progress bars (analysis, video) and lazily loaded widgets are done."""
    if busy:
        page.wait_for_selector("[data-testid='stProgress']", state="detached", timeout=180_000)
    page.wait_for_timeout(3000)
    _shot(page, name)


DEV = ROOT.parent / "shared" / "data" / "dev"
PHOTO = DEV / "img_dresscode_051482_pocket.jpg"
CLIP = DEV / "vid_gait_slouch_side_a.mp4"
START_TIMEOUT_S = 150
ANALYSE_TIMEOUT_MS = 180_000
WEIGHTS = {"major": 2.0, "minor": 1.0}
RAW_CODES = ("in_pocket", "clasped_front", "apart_wide", "ankle_gap_sw", "knee_angle_min_deg", "_deg", "_sw",
             "major", "minor", "Choose an option", "hands_in_pockets")

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (apt-get install -y chromium)"),
    pytest.mark.skipif(not PHOTO.is_file(), reason=f"dev photo {PHOTO.name} not found beside the project (../shared)"),
]


def start_posturecheck_app(home: Path, port: int, cwd: Path) -> tuple[subprocess.Popen, Path]:
    """`python -m posturecheck app` from `cwd` (not the checkout); stderr kept in a file."""
    err = home.parent / "server_stderr.txt"
    env = {**os.environ, "POSTURECHECK_HOME": str(home), "PYTHONPATH": str(ROOT), "POSTURECHECK_LANG": "zh"}
    proc = subprocess.Popen([sys.executable, "-m", "posturecheck", "app", "--port", str(port), "--headless"],
                            cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err.open("wb"))
    wait_until_serving(proc, port, START_TIMEOUT_S, lambda: err.read_text(errors='replace'))
    return proc, err


def choose(page, label: str, option: str) -> None:
    box = page.locator("[data-testid='stSelectbox']").filter(has_text=label).first
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    page.wait_for_timeout(1500)


def page_score_agrees_with_rows(page) -> tuple[str, list[tuple[str, str, str]]]:
    score = page.locator("[data-testid='pc-score']").first.get_attribute("data-score")
    rows = page.locator("table.pc-verdicts tbody tr").evaluate_all(
        "els => els.map(e => [e.dataset.rule, e.dataset.status, e.dataset.severity])")
    judged = [(rid, st, sev) for rid, st, sev in rows if st in ("pass", "fail")]
    body = [r for r in judged if not r[0].startswith("grooming.")]
    if not body:
        assert score == "", (score, rows)  # not judged: no number
    else:
        expect = 100.0 * sum(WEIGHTS[sev] for _, st, sev in judged if st == "pass") / sum(WEIGHTS[sev] for *_, sev in judged)
        assert score != "" and abs(float(score) - expect) <= 0.11, (score, expect, rows)
        assert (float(score) == 100.0) == all(st == "pass" for _, st, _ in judged)
    return score, rows


def visible_text(page) -> str:
    return page.locator("section.main, [data-testid='stMain']").first.inner_text()


def test_review_choose_analyse_rejudge_in_a_real_browser(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    home = tmp_path / "home"
    elsewhere = tmp_path / "elsewhere"  # a trainer's folder: no .streamlit/, no checkout
    elsewhere.mkdir()
    port = free_port()
    server, err = start_posturecheck_app(home, port, elsewhere)
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 2600})  # Streamlit scrolls inside: tall
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("text=练习：实时仪态检查", timeout=60_000)
            shot(page, "main_practice_zh", busy=False)
            page.goto(f"http://127.0.0.1:{port}/review")
            set_pin_zh(page, "8642")
            page.locator("input[type='file']").set_input_files(str(PHOTO))
            page.wait_for_selector("text=已上传", timeout=60_000)  # nothing runs before Analyse
            assert page.locator("table.pc-verdicts").count() == 0
            choose(page, "动作", "站姿")
            choose(page, "标准", "男士")
            page.get_by_role("button", name="开始分析").click()
            page.wait_for_selector("table.pc-verdicts", timeout=ANALYSE_TIMEOUT_MS)
            page.wait_for_timeout(2000)
            score, rows = page_score_agrees_with_rows(page)
            text = visible_text(page)
            for raw in RAW_CODES:
                assert raw not in text, (raw, text[max(0, text.find(raw) - 200):text.find(raw) + 80])
            heads = page.locator("table.pc-verdicts th").all_inner_texts()
            assert "不合格占比" not in heads and "建议" in heads, heads  # a photo has no share of time
            downloads = page.locator("[data-testid='stDownloadButton'] button").all_inner_texts()
            assert len(downloads) == 4, (downloads, text[-800:])  # JSON, HTML, annotated photo, ZIP
            shot(page, "review_photo_zh")

            choose(page, "标准", "女士")  # re-judged from the stored landmarks
            page.wait_for_selector("text=已按新选项重新判断", timeout=60_000)
            page_score_agrees_with_rows(page)

            page.get_by_text("English", exact=True).click()
            page.wait_for_selector("h1:has-text('Review a recorded drill')", timeout=30_000)
            page.wait_for_selector("table.pc-verdicts", timeout=60_000)
            page.wait_for_timeout(2000)
            text = visible_text(page)
            assert "Choose an option" not in text
            boxes = page.locator("[data-testid='stSelectbox']").evaluate_all(
                "els => els.map(e => e.innerText + ' | ' + Array.from(e.querySelectorAll('input'))"
                ".map(i => i.value).join(' '))")  # the shown choice (the placeholder shows only when none)
            assert any(b.endswith("| Standing") for b in boxes) and any(b.endswith("| Women") for b in boxes), boxes
            for raw in RAW_CODES:
                assert raw not in text, (raw, text[max(0, text.find(raw) - 200):text.find(raw) + 80])
            page_score_agrees_with_rows(page)
            shot(page, "review_photo_en")

            page.get_by_label("Trainee name (optional; named sessions are saved)").fill("Li Na")
            page.keyboard.press("Enter")
            page.get_by_role("button", name="Save to history").click()
            page.wait_for_selector("text=Saved to Li Na's history", timeout=30_000)

            if CLIP.is_file():  # a recorded drill: timeline, violations, failed share, four downloads
                page.locator("input[type='file']").set_input_files(str(CLIP))
                page.wait_for_selector("text=is uploaded", timeout=60_000)
                choose(page, "Activity", "Auto-detect")
                page.get_by_role("button", name="Analyse").click()
                page.wait_for_selector("text=Per-rule timeline", timeout=ANALYSE_TIMEOUT_MS)
                page.wait_for_selector("table.pc-verdicts", timeout=60_000)
                page.wait_for_timeout(2500)
                page_score_agrees_with_rows(page)
                heads = page.locator("table.pc-verdicts th").all_inner_texts()
                assert "Failed" in heads, heads
                text = visible_text(page)
                for raw in RAW_CODES:
                    assert raw not in text, (raw, text[max(0, text.find(raw) - 200):text.find(raw) + 80])
                downloads = page.locator("[data-testid='stDownloadButton'] button").all_inner_texts()
                assert len(downloads) == 4, (downloads, text[-800:])
                shot(page, "review_video_en")
                page.get_by_label("Trainee name (optional; named sessions are saved)").fill("Li Na")
                page.keyboard.press("Enter")
                page.get_by_role("button", name="Save to history").click()
                page.wait_for_selector("text=Saved to Li Na's history", timeout=30_000)
                page.get_by_text("中文", exact=True).click()
                page.wait_for_selector("h1:has-text('视频点评')", timeout=30_000)
                page.wait_for_selector("table.pc-verdicts th:has-text('不合格占比')", timeout=180_000)
                page.wait_for_timeout(2500)
                shot(page, "review_video_zh")
                page.get_by_text("English", exact=True).click()
                page.wait_for_selector("h1:has-text('Review a recorded drill')", timeout=30_000)

            nav = page.locator("[data-testid='stSidebarNav']")
            for name, slug, title in (("History", "history", "Training history"), ("Settings", "settings", "Settings"),
                                      ("Practice", "practice", "Practice: live posture check")):
                nav.get_by_text(name, exact=True).click()
                page.wait_for_selector(f"h1:has-text('{title}')", timeout=30_000)
                shot(page, f"{slug}_en", busy=False)
            page.get_by_text("中文", exact=True).click()
            page.wait_for_selector("h1:has-text('练习：实时仪态检查')", timeout=30_000)
            for name, slug, title in (("训练记录", "history", "训练记录"), ("设置", "settings", "设置")):
                nav.get_by_text(name, exact=True).click()
                page.wait_for_selector(f"h1:has-text('{title}')", timeout=30_000)
                shot(page, f"{slug}_zh", busy=False)
            browser.close()
    finally:
        stop_app(server)
    log = (home / "logs" / "server.log").read_text(encoding="utf-8")
    stderr = err.read_text(encoding="utf-8", errors="replace")
    assert "server log:" in log and "server log:" in stderr  # the log file AND the terminal
