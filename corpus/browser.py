"""Headless Chromium page running render.html (three.js), shared by the corpus scripts."""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path
from typing import Any, Self

from playwright.sync_api import Browser, Page, Playwright, Route, sync_playwright

CORPUS_DIR = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
    "--disable-gpu-sandbox", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-dev-shm-usage",
]
ORIGIN = "http://corpus.local"


def find_assets(assets_dir: Path) -> list[Path]:
    """The character files (.glb/.gltf) in `assets_dir`, sorted by name."""
    files = sorted(p for p in assets_dir.iterdir() if p.suffix.lower() in (".glb", ".gltf"))
    if not files:
        raise SystemExit(f"no .glb/.gltf characters in {assets_dir}")
    return files


class RendererPage:
    """One Chromium process, one page with the renderer; files are served from disk by route."""

    def __init__(self, assets_dir: Path, characters: list[str] | None = None) -> None:
        self.assets_dir = assets_dir
        files = find_assets(assets_dir)
        if characters:
            files = [f for f in files if f.stem in characters]
        self.assets = {f.stem: f"{ORIGIN}/assets/{f.name}" for f in files}
        self._pw: Playwright | None = None
        self._browser: Browser | None = None
        self.page: Page | None = None
        self.characters: list[str] = []

    def _serve(self, route: Route) -> None:
        path = route.request.url[len(ORIGIN):].split("?")[0].lstrip("/")
        file = self.assets_dir / path[len("assets/"):] if path.startswith("assets/") else CORPUS_DIR / path
        if not file.is_file():
            route.fulfill(status=404, body="not found")
            return
        ctype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if file.suffix == ".js":
            ctype = "text/javascript"
        route.fulfill(status=200, body=file.read_bytes(), headers={"Content-Type": ctype})

    def __enter__(self) -> Self:
        self._pw = sync_playwright().start()
        self._browser = self._pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        self.page = self._browser.new_page()
        self.page.on("pageerror", lambda e: print(f"[page error] {e}", flush=True))
        self.page.route(f"{ORIGIN}/**", self._serve)
        self.page.goto(f"{ORIGIN}/render.html")
        self.page.wait_for_function("window.rendererReady === true", timeout=60_000)
        self.characters = self.page.evaluate("a => window.initRenderer(a)", self.assets)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._browser:
            self._browser.close()
        if self._pw:
            self._pw.stop()

    def call(self, fn: str, spec: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
        """Run `window[fn](spec)`; returns (PNG bytes, meta)."""
        assert self.page is not None
        out = self.page.evaluate(f"s => window.{fn}(s)", spec)
        return base64.b64decode(out["png"]), out["meta"]
