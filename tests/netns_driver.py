"""Drive the app or the kiosk in headless Chromium, inside the DNS-probe namespace (test helper).

`python netns_driver.py app|kiosk URL CAMERA.y4m PHOTO`: app = choose the trainer PIN on Review and
upload PHOTO (the server runs the real pose and face models); kiosk = let the camera start and
wait for a person to be seen (the live pose model runs). Chromium resolves nothing itself
(--host-resolver-rules), so every DNS query the probe logs comes from the server.
"""

from __future__ import annotations

import shutil
import sys
import time
import urllib.request

from playwright.sync_api import sync_playwright

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
         "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
         "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]


def wait_up(url: str, timeout: float = 90.0) -> None:
    """The server answers its health check (it is still starting when the driver starts)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def main(mode: str, url: str, y4m: str, photo: str) -> None:
    wait_up(url)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=FLAGS + [f"--use-file-for-fake-video-capture={y4m}"])
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        if mode == "app":
            page.goto(url + "/review")
            page.wait_for_selector("text=首次使用：请设置培训师 PIN", timeout=60_000)
            page.get_by_label("新 PIN").fill("2580")
            page.get_by_label("再输入一次").fill("2580")
            page.get_by_role("button", name="设置 PIN").click()
            page.wait_for_selector("input[type='file']", state="attached", timeout=60_000)
            page.locator("input[type='file']").set_input_files(photo)
            page.get_by_role("button", name="开始分析").click(timeout=60_000)  # options first, then Analyse
            page.wait_for_selector("h3:has-text('结论'), [data-testid='stHeadingWithActionElements']:has-text('结论')", timeout=240_000)
        else:
            page.goto(url)
            page.wait_for_selector("div.pc-prompt", timeout=120_000)  # a person seen by the live model
            page.wait_for_timeout(3000)
        print("DRIVER OK", flush=True)
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:5])
