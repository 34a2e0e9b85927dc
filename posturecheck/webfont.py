"""The bundled Chinese font for web pages (no Streamlit here).

A fresh machine (many Linux kiosks) has no system CJK font, so the browser would draw
every Chinese string as empty boxes. The app therefore serves the font posturecheck
already depends on (Noto Sans CJK SC from the `noto-cjk-sans-otc` package, see
`annotate.find_cjk_font`): the SC face is copied once out of the font collection
(`.ttc`, which browsers cannot load) into the user's cache folder
(`$XDG_CACHE_HOME/posturecheck/fonts/`, default `~/.cache/...`) as a plain OpenType file, and pages declare it with a CJK-only `unicode-range`, so Latin text
keeps its own font and only Chinese characters come from this file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path

from .annotate import find_cjk_font

logger = logging.getLogger(__name__)

FONTS_DIR = "fonts"


def cache_dir() -> Path:
    """Where derived, re-creatable files go: $XDG_CACHE_HOME/posturecheck (default ~/.cache/posturecheck)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "posturecheck"
# CJK radicals, punctuation, kana/bopomofo, ideographs (ext. A, unified, compatibility),
# vertical and half/full-width forms. Latin, digits and Western punctuation are left to
# the page's own font.
CJK_UNICODE_RANGE = ("U+2E80-2FDF, U+3000-303F, U+3040-30FF, U+3100-312F, U+31C0-31EF, U+3200-33FF, "
                     "U+3400-4DBF, U+4E00-9FFF, U+F900-FAFF, U+FE30-FE4F, U+FF00-FFEF")
# Streamlit's own font families (its frontend declares each as a 100–900 variable face):
# a face with the same family, weight range and style joins each of them for CJK only.
STREAMLIT_FAMILIES = ("Source Sans", "Source Code Pro", "Source Serif")
# The name pages use when they put the font into their own font stack.
FAMILY = "PostureCheck CJK"

_lock = threading.Lock()


def webfont_file(folder: Path | None = None) -> Path | None:
    """The bundled CJK face as a standalone .otf (made once, reused), or None without a CJK font.

    The file name carries a hash of the source font (path, face, size, mtime), so a new
    font package gives a new file. Written to a temporary name and renamed: two servers
    starting together never see half a file.
    """
    src = find_cjk_font()
    if src is None:
        return None
    st = src.path.stat()
    key = hashlib.sha256(f"{src.path.resolve()}#{src.index}#{st.st_size}#{st.st_mtime_ns}".encode()).hexdigest()[:12]
    stem = "".join(ch if ch.isalnum() else "-" for ch in src.name).strip("-") or "cjk"
    folder = folder or cache_dir() / FONTS_DIR
    out = folder / f"{stem}-{key}.otf"
    with _lock:
        if out.is_file() and out.stat().st_size > 0:
            return out
        from fontTools import ttLib

        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{out.name}.{os.getpid()}.tmp"
        try:
            # Tables are copied as they are (not decompiled): about 2 s for the 16 MB SC face.
            font = ttLib.TTFont(str(src.path), fontNumber=src.index)
            font.save(str(tmp), reorderTables=False)
            font.close()
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
    logger.info("CJK web font written: %s (from %s)", out, src.describe())
    return out


def font_face_css(url: str, families: tuple[str, ...] = (FAMILY,) + STREAMLIT_FAMILIES) -> str:
    """@font-face rules naming `url` under each family, for CJK characters only.

    Each rule spans weights 100–900 and both styles like Streamlit's own variable faces
    (a face joins a family's other faces only when its descriptors are the same).
    """
    rules = []
    for fam in families:
        for style in ("normal", "italic"):
            rules.append(f'@font-face{{font-family:"{fam}";font-style:{style};font-weight:100 900;'
                         f'font-display:block;src:url("{url}") format("opentype");'
                         f"unicode-range:{CJK_UNICODE_RANGE}}}")
    return "\n".join(rules)
