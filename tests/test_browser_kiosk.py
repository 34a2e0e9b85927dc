"""First contact in a real browser (issue 9): Chinese drawn with real glyphs on a machine
with no system CJK font (app, kiosk, HTML report), the kiosk starting with no terminal
and no prompt, and a kiosk drill that never says "good" while its timer stands still.

Debian's Chromium driven by Playwright (executable_path, never a downloaded browser),
with a fontconfig that hides every CJK font of the machine, so a check that passes here
would fail on tofu. Reuses tests/test_browser.py's helpers (fake camera, free port).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from test_browser import (CHROMIUM, CHROMIUM_FLAGS, CLIP, SCREENS, START_TIMEOUT_S, VERDICT_TIMEOUT_MS, free_port,
                          start_app, stop_app, write_y4m)
from appserver import wait_until_serving

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (apt-get install -y chromium)"),
]



CJK_LANGS = ("zh-cn", "zh-tw", "zh-hk", "zh-sg", "zh-mo", "ja", "ko")
CJK_GLOBS = ("*CJK*", "*cjk*", "*wqy*", "*WenQuanYi*", "*arphic*", "*uming*", "*ukai*", "*DroidSansFallback*",
             "*SourceHan*", "*NotoSansSC*", "*NotoSerifSC*", "*NotoSansTC*")


def no_cjk_fontconfig(tmp: Path) -> Path:
    """The machine's own fontconfig (with its aliases: Arial -> Liberation Sans...) minus every
    font that covers Chinese, Japanese or Korean: a fresh kiosk without a CJK font."""
    rejects = "".join(f"<pattern><patelt name='lang'><string>{lg}</string></patelt></pattern>" for lg in CJK_LANGS)
    rejects += "".join(f"<glob>{g}</glob>" for g in CJK_GLOBS)
    system = "<include ignore_missing='yes'>/etc/fonts/fonts.conf</include>"
    conf = tmp / "fonts.conf"
    conf.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>{system}<selectfont><rejectfont>{rejects}</rejectfont></selectfont>
<cachedir>{tmp / "fc-cache"}</cachedir></fontconfig>
""", encoding="utf-8")
    fc_list = shutil.which("fc-list")
    if fc_list:
        env = {**os.environ, "FONTCONFIG_FILE": str(conf)}
        zh = subprocess.run([fc_list, ":lang=zh"], capture_output=True, text=True, env=env).stdout.strip()
        assert zh == "", f"the test fontconfig still has CJK fonts: {zh[:200]}"
        latin = subprocess.run([fc_list, ":lang=en"], capture_output=True, text=True, env=env).stdout.strip()
        assert latin, "the test fontconfig lost the Latin fonts too"
    return conf


@pytest.fixture()
def bare_browser(tmp_path):
    """Chromium that sees no CJK font at all (FONTCONFIG_FILE), with the fake camera."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    conf = no_cjk_fontconfig(tmp_path)
    args = list(CHROMIUM_FLAGS) + ["--autoplay-policy=no-user-gesture-required"]  # as the README's kiosk command
    if CLIP.is_file():
        args.append(f"--use-file-for-fake-video-capture={write_y4m(CLIP, tmp_path / 'camera.y4m')}")
    env = {**os.environ, "FONTCONFIG_FILE": str(conf)}
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=args, env=env)
        try:
            yield b
        finally:
            b.close()


def glyph_cells(page, selector: str) -> tuple[bytes, bytes, bytes, bytes]:
    """Screenshots of two different Chinese characters of the element's own text drawn (1) inside it,
    with its font, and (2) with a font stack that cannot have them (a generic family: on this machine
    the missing-glyph box, which looks the same for both)."""
    text = page.inner_text(selector)
    pair = list(dict.fromkeys(ch for ch in text if "\u4e00" <= ch <= "\u9fff"))[:2]
    assert len(pair) == 2, (selector, text)
    page.evaluate("""([sel, a, b]) => {
        for (const id of ["pc-t-a", "pc-t-b", "pc-t-c", "pc-t-d"]) document.getElementById(id)?.remove();
        const host = document.querySelector(sel);
        let x = 10;
        for (const [id, ch, fam] of [["pc-t-a", a, null], ["pc-t-b", b, null],
                                     ["pc-t-c", a, "monospace"], ["pc-t-d", b, "monospace"]]) {
            const s = document.createElement("span");
            s.id = id; s.textContent = ch;
            // fixed, whole-pixel places: the same glyph always rasterises the same way
            s.style.cssText = `position:fixed;left:${x}px;top:300px;z-index:2147483647;display:block;width:56px;` +
                              "height:56px;font-size:40px;line-height:56px;text-align:center;color:#000;background:#fff";
            x += 70;
            if (fam) s.style.fontFamily = fam;
            host.appendChild(s);
        }
    }""", [selector, *pair])
    page.wait_for_timeout(800)
    return tuple(page.locator(f"#{i}").screenshot() for i in ("pc-t-a", "pc-t-b", "pc-t-c", "pc-t-d"))


def cjk_fonts_of(page, selector: str) -> list[dict]:
    """The fonts Chromium really drew the element's text with (DevTools CSS.getPlatformFontsForNode)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    assert node, selector
    return cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]


def assert_real_glyphs(page, selector: str) -> None:
    """The element's Chinese is drawn with the bundled font, and two characters differ from each
    other and from the box the machine would draw without it (fails on tofu)."""
    fonts = cjk_fonts_of(page, selector)
    assert any(f["familyName"].startswith("Noto Sans CJK") and f["isCustomFont"] for f in fonts), (selector, fonts)
    a, b, tofu_a, tofu_b = (ink(c) for c in glyph_cells(page, selector))
    assert differs(tofu_a, tofu_b) < 0.01, "this machine should have no CJK font (the check would prove nothing)"
    assert differs(a, b) > 0.03, f"{selector}: two different characters drew the same bitmap (missing-glyph boxes)"
    assert differs(a, tofu_a) > 0.03 and differs(b, tofu_b) > 0.03


def ink(png: bytes):
    """A screenshot as a boolean ink mask."""
    import cv2
    import numpy as np

    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    return img < 128


def differs(a, b) -> float:
    """Share of pixels where two ink masks disagree."""
    h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    return float((a[:h, :w] != b[:h, :w]).mean())


def shot(page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(SCREENS / f"{name}.png"))


GAIT = CLIP.parent / "vid_gait_normal_side.mp4"


@pytest.mark.skipif(not GAIT.is_file(), reason=f"dev clip {GAIT.name} not found beside the project (../shared)")
def test_report_html_draws_every_chinese_string(bare_browser, tmp_path):
    """The HTML report's embedded font: the strings that were boxes (summary heading, stat labels,
    first rule row, fail badges) are drawn with it. The real clip's report (its stills make the
    page big) showed the bug; the committed landmarks replace the model."""
    from posturecheck.analyze import AnalyzeOptions, analyze_path
    from posturecheck.batch import REPORT_HTML, ReviewOptions, write_review
    from posturecheck.pose import ReplayEstimator
    from test_live import replay_landmarks

    analysis = analyze_path(GAIT, AnalyzeOptions(),
                            estimator=ReplayEstimator(replay_landmarks("vid_gait_normal_side"), loop=False))
    out = Path(write_review(analysis, tmp_path / "rep", ReviewOptions(lang="zh", video=False)).out_dir)
    page = bare_browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto((out / REPORT_HTML).as_uri())
    page.wait_for_timeout(1500)
    # the first of each: these were drawn with the system Latin font's missing-glyph box
    for sel in (".card h2", ".stat .t", "td.rule", ".pill.fail", "header.top h1"):
        assert any(f["isCustomFont"] for f in cjk_fonts_of(page, sel)), (sel, cjk_fonts_of(page, sel))
    assert_real_glyphs(page, ".card h2")
    page.screenshot(path=str(tmp_path / "report.png"))


@pytest.mark.skipif(not CLIP.is_file(), reason=f"dev clip {CLIP.name} not found beside the project (../shared)")
def test_practice_page_draws_chinese_without_a_system_font(bare_browser, tmp_path):
    port = free_port()
    server = start_app(tmp_path / "home", port)
    try:
        page = bare_browser.new_page(viewport={"width": 1600, "height": 1100})
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector("h1:has-text('练习：实时仪态检查')", timeout=60_000)
        camera = page.frame_locator("iframe[title*='streamlit_webrtc']").first
        camera.get_by_role("button", name="开始").click(timeout=30_000)  # inside the widget: the font too
        page.wait_for_selector("div.pc-drill", timeout=VERDICT_TIMEOUT_MS)
        shot(page, "practice_zh")
        assert_real_glyphs(page, "h1")
        assert_real_glyphs(page, "div.pc-drill .pc-prompt")
        page.get_by_text("English", exact=True).click()
        page.wait_for_selector("h1:has-text('Practice: live posture check')", timeout=30_000)
        start = page.frame_locator("iframe[title*='streamlit_webrtc']").first.get_by_role("button", name="Start")
        page.wait_for_timeout(3000)
        if start.count() and start.is_visible():  # the widget may have kept playing across the switch
            start.click(timeout=30_000)
        page.wait_for_selector("div.pc-drill", timeout=VERDICT_TIMEOUT_MS)
        shot(page, "practice_en")
    finally:
        stop_app(server)


def start_kiosk_unattended(home: Path, port: int, log: Path) -> subprocess.Popen:
    """`posturecheck kiosk` as an autostart entry runs it: fresh account, no terminal, no stdin."""
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    env.update(HOME=str(home), POSTURECHECK_HOME=str(home / ".posturecheck"), PYTHONPATH=str(ROOT))
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "posturecheck", "kiosk", "--port", str(port)], cwd=home,
                                env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # no controlling terminal
    wait_until_serving(proc, port, START_TIMEOUT_S, lambda: log.read_text(errors='replace'))
    return proc


@pytest.mark.skipif(not CLIP.is_file(), reason=f"dev clip {CLIP.name} not found beside the project (../shared)")
def test_kiosk_starts_unattended_reads_from_afar_and_never_says_good_while_not_counting(bare_browser, tmp_path):
    home = tmp_path / "account"
    log = tmp_path / "kiosk.log"
    port = free_port()
    server = start_kiosk_unattended(home, port, log)
    try:
        page = bare_browser.new_page(viewport={"width": 1920, "height": 1080})
        outside: list[str] = []
        page.on("request", lambda r: outside.append(r.url) if r.url.startswith("http")
                and not r.url.startswith(f"http://127.0.0.1:{port}") else None)
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector("text=仪态自助练习", timeout=60_000)
        # the camera starts by itself and the trainee is seen (the drill leaves "nobody there")
        page.wait_for_selector("div.pc-drill:not([data-state='no_person'])", timeout=VERDICT_TIMEOUT_MS)
        # trainees see no camera buttons ("select device", stop) inside the widget
        frame = page.frame_locator("iframe[title*='streamlit_webrtc']").first
        buttons = frame.locator("button")
        assert buttons.count() >= 1 and all(not buttons.nth(i).is_visible() for i in range(buttons.count()))
        # readable from 2-3 m on 1920x1080: step prompt, message and hold text >= 48 px
        for sel in (".pc-drill .pc-prompt", ".pc-drill .pc-msg", ".pc-drill .pc-hold span"):
            px = float(page.eval_on_selector(sel, "e => parseFloat(getComputedStyle(e).fontSize)"))
            assert px >= 48, (sel, px)
        # prompt and timer come from one state: "good" only while the timer counts
        seen = set()
        for _ in range(40):
            state = page.eval_on_selector("div.pc-drill", "e => [e.dataset.state, e.dataset.counting, "
                                          "e.querySelector('.pc-msg').textContent]")
            seen.add(state[0])
            assert ("很好，保持" in state[2]) == (state[1] == "true"), state
            page.wait_for_timeout(500)
        shot(page, "kiosk_zh")
        # spoken cues (on by default in the kiosk): a phrase made offline, played by the page
        from posturecheck.speech import engine

        if engine() is not None:
            spoken = page.get_attribute(".pc-spoken", "data-text", timeout=30_000)
            assert spoken and any("\u4e00" <= ch <= "\u9fff" for ch in spoken), spoken
            page.wait_for_function("() => [...document.querySelectorAll('audio')].some(a => a.currentTime > 0)",
                                   timeout=30_000)
        # the trainee can always skip a step
        step_before = page.inner_text(".pc-drill .pc-step")
        page.get_by_role("button", name="跳过这一步").click()
        page.wait_for_function("s => document.querySelector('.pc-drill .pc-step') && "
                               "document.querySelector('.pc-drill .pc-step').textContent !== s",
                               arg=step_before, timeout=30_000)
        assert_real_glyphs(page, ".pc-kiosk-title")
        page.reload()
        page.wait_for_selector("div.pc-drill", timeout=VERDICT_TIMEOUT_MS)
        page.get_by_text("English", exact=True).click()
        page.wait_for_selector("text=Posture self-practice", timeout=30_000)
        page.wait_for_selector("div.pc-drill", timeout=VERDICT_TIMEOUT_MS)
        shot(page, "kiosk_en")
        assert not outside, outside
    finally:
        stop_app(server)
    out = log.read_text(errors="replace")
    for bad in ("Email", "Welcome to Streamlit", "usage statistics", "gatherUsageStats", "External URL"):
        assert bad not in out, (bad, out)
    assert not (home / ".streamlit" / "credentials.toml").exists()  # nothing asked, nothing saved
