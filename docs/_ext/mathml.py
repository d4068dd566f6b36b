"""MkDocs hook: TeX kept by ``pymdownx.arithmatex`` becomes MathML at build time.

Browsers draw MathML themselves, so the pages need no script and load nothing (MathJax and
KaTeX would come from a CDN or add a megabyte of fonts). A formula latex2mathml cannot read
is a build warning (``mkdocs build --strict`` fails on it) and stays visible as TeX.
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any

from latex2mathml.converter import convert

log = logging.getLogger("mkdocs.hooks.mathml")

ARITHMATEX = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">\s*\\(?P<open>[(\[])(?P<tex>.*?)\\[)\]]\s*</(?P=tag)>',
    re.DOTALL,
)


def mathml_from_arithmatex(text: str, *, where: str = "") -> str:
    """Replace every arithmatex span or div in ``text`` by MathML."""

    def repl(match: re.Match[str]) -> str:
        tex = html.unescape(match["tex"]).strip()
        display = "block" if match["open"] == "[" else "inline"
        try:
            return convert(tex, display=display)
        except Exception as exc:  # latex2mathml raises several types for bad TeX
            log.warning("%s: cannot convert TeX %r to MathML (%s)", where, tex, exc)
            return f"<code>{html.escape(tex)}</code>"

    return ARITHMATEX.sub(repl, text)


def on_page_content(html_text: str, page: Any, **kwargs: Any) -> str:
    """Convert the page's formulas."""
    return mathml_from_arithmatex(html_text, where=page.file.src_uri)
