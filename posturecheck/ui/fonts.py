"""Chinese on every page without a system CJK font, and styling inside the camera widget.

The font file comes from `posturecheck.webfont` (made once per server). Streamlit serves
it like a custom component's file (`component/<name>/<file>`, a plain GET on this
server, cached by the browser), so it works from any folder and with an installed
package. The page gets @font-face rules that add the font to Streamlit's own families
for CJK characters only. The camera widget (streamlit-webrtc) is a separate document
in a same-origin iframe: `style_camera_frames` puts CSS into it (the font, the kiosk
hiding the widget's buttons, the mirrored self-view), again after each remount.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import streamlit as st
import streamlit.components.v1 as components

from ..webfont import CJK_UNICODE_RANGE, FAMILY, font_face_css, webfont_file

logger = logging.getLogger(__name__)

COMPONENT = "cjk_font"
MISSING_KEY = "pc_font_missing_logged"
MIRROR_CSS = "video {transform: scaleX(-1);}"  # the self-view as in a mirror (the analysis is unchanged)

FRAME_JS = """
<script>
(function () {
  const id = %(id)s;
  const fontUrl = %(url)s ? new URL(%(url)s, window.parent.location.href).href : null;
  const family = %(family)s;
  const extra = %(css)s;
  function dress() {
    let frames;
    try { frames = window.parent.document.querySelectorAll("iframe[title*='streamlit_webrtc']"); }
    catch (e) { return; }
    for (const f of frames) {
      let doc;
      try { doc = f.contentDocument; } catch (e) { continue; }
      if (!doc || !doc.head || !doc.body) continue;
      let text = extra;
      if (fontUrl) {
        const base = f.dataset.pcFont || f.contentWindow.getComputedStyle(doc.body).fontFamily || "sans-serif";
        f.dataset.pcFont = base;
        text = '@font-face{font-family:"' + family + '";font-weight:100 900;font-display:block;' +
               'src:url("' + fontUrl + '") format("opentype");unicode-range:%(range)s}' +
               'body, body * {font-family: "' + family + '", ' + base + ' !important;}' + extra;
      }
      let style = doc.getElementById(id);
      if (!style) { style = doc.createElement("style"); style.id = id; doc.head.appendChild(style); }
      if (style.textContent !== text) style.textContent = text;
    }
  }
  dress();
  setInterval(dress, 700);
})();
</script>
"""


@st.cache_resource(show_spinner=False)
def _font_file() -> Path | None:
    """Once per server process: the CJK web font file (made on the first start, then reused)."""
    try:
        return webfont_file()
    except (OSError, ImportError, ValueError) as exc:  # the app still runs; Chinese may show as boxes
        logger.error("could not prepare the Chinese web font: %s", exc)
        return None


def font_url() -> str | None:
    """The page-relative URL of the CJK font, served by this Streamlit server (None without a font)."""
    path = _font_file()
    if path is None:
        if not st.session_state.get(MISSING_KEY):
            st.session_state[MISSING_KEY] = True
            logger.warning("no CJK font found: Chinese text relies on the browser's system fonts")
        return None
    components.declare_component(COMPONENT, path=str(path.parent))
    return f"component/{__name__}.{COMPONENT}/{path.name}"


def style_camera_frames(style_id: str, css: str, *, font: str | None = None) -> None:
    """Put `css` (and the CJK font, when `font` is its URL) into every camera widget iframe, kept there."""
    components.html(FRAME_JS % {"id": json.dumps(style_id), "url": json.dumps(font), "family": json.dumps(FAMILY),
                                "css": json.dumps(css), "range": CJK_UNICODE_RANGE}, height=0)


def inject_page_fonts() -> None:
    """Every page calls this first: the CJK font for the page and inside the camera widget."""
    url = font_url()
    if url is None:
        return
    st.markdown(f"<style>{font_face_css(url)}</style>", unsafe_allow_html=True)
    style_camera_frames("pc-font-style", "", font=url)
