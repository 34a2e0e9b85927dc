"""Line-up page in a real browser (Debian Chromium via Playwright's executable_path), the app started
the way a supervisor does (`posturecheck app` from another folder).

The camera path takes a photo of Chromium's fake camera (a test pattern: nobody in it) and must say
so in one line; the upload path inspects a real group photo of five people from ../shared and must
show one card with a crop per person found and offer the page with the crops. Screenshots go to
$POSTURECHECK_SCREENS (default /tmp/screens).
"""

from __future__ import annotations

import pytest

from test_browser import CHROMIUM, CHROMIUM_FLAGS, ROOT, free_port, set_pin_zh, stop_app
from test_browser import shot as _shot
from test_browser_review import choose, start_posturecheck_app, visible_text

GROUP = ROOT.parent / "shared" / "data" / "dev" / "img_econ_group5_handonhip.jpg"  # five people in a row
INSPECT_TIMEOUT_MS = 240_000

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (apt-get install -y chromium)"),
    pytest.mark.skipif(not GROUP.is_file(), reason=f"dev photo {GROUP.name} not found beside the project (../shared)"),
]


def test_lineup_page_camera_and_upload_in_a_real_browser(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    home = tmp_path / "home"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    port = free_port()
    server, err = start_posturecheck_app(home, port, elsewhere)
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 2600})
            page.goto(f"http://127.0.0.1:{port}/lineup")
            set_pin_zh(page, "8642")
            page.wait_for_selector("h1:has-text('班前会仪容仪表检查')", timeout=60_000)

            # Camera: the fake device's test pattern has nobody in it. The button takes a picture only
            # once the stream plays.
            page.wait_for_function("() => { const v = document.querySelector('video');"
                                   " return v !== null && v.readyState >= 2 && v.videoWidth > 0; }", timeout=60_000)
            page.wait_for_timeout(1500)
            page.get_by_role("button", name="Take Photo").click()
            page.wait_for_selector("text=画面中没有找到人", timeout=INSPECT_TIMEOUT_MS)
            _shot(page, "lineup_camera_nobody_zh")

            # Upload: a real group photo.
            choose(page, "画面来源", "上传文件")
            page.locator("input[type='file']").set_input_files(str(GROUP))
            page.get_by_role("button", name="开始检查").click()
            page.wait_for_selector("text=平均得分", timeout=INSPECT_TIMEOUT_MS)
            page.wait_for_timeout(2000)
            text = visible_text(page)
            cards = [n for n in range(1, 8) if f"左起第 {n} 人" in text]
            assert 4 <= len(cards) <= 5 and cards == list(range(1, len(cards) + 1)), text[:2000]
            assert page.locator("[data-testid='stImage'] img").count() == len(cards)
            downloads = page.locator("[data-testid='stDownloadButton'] button").all_inner_texts()
            assert any("下载检查页面" in d for d in downloads), downloads
            assert "Traceback" not in text and "Error" not in text
            _shot(page, "lineup_upload_zh")
            browser.close()
    finally:
        stop_app(server)
    assert "Traceback" not in err.read_text(errors="replace")
