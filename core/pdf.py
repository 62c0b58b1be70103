"""PDF documents in Chinese with an embedded CJK font, for every app that prints a document
(routing's written notices, closure's written replies, reports' bulletins).

Use::

    from core.pdf import register_cjk_font, build_document

    font = register_cjk_font()          # the reportlab font name to put in a ParagraphStyle
    pdf_bytes = build_document(title="...", number="...", lines=[...], author="...")

``register_cjk_font()`` looks for a TrueType CJK font (setting/env ``CJK_FONT_PATH`` first, then
Debian's fonts-wqy-microhei / fonts-wqy-zenhei, installed by scripts/test.sh, scripts/run.sh and
the Dockerfile) and registers it with reportlab's ``TTFont``, which embeds a subset of the glyphs
in the PDF, so the document shows the same on any viewer. A ``.ttc`` collection needs a
``subfontIndex``. Only TrueType outlines work: reportlab cannot embed CFF/OpenType fonts such as
Noto Sans CJK ``.otf``/``.ttc``. Without a font file it falls back to the Adobe CID font
STSong-Light (not embedded: a viewer without it shows boxes) and logs a warning saying which
package to install.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

logger = logging.getLogger(__name__)

FONT_NAME = "CJK"
FALLBACK_FONT_NAME = "STSong-Light"
# (path, subfont index in a .ttc collection). First one found wins.
CANDIDATES: list[tuple[str, int]] = [
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0),
]
IDEOGRAPHIC_SPACE = "\u3000"


def _configured_path() -> tuple[str, int] | None:
    from django.conf import settings

    path = getattr(settings, "CJK_FONT_PATH", "") or os.environ.get("CJK_FONT_PATH", "")
    if not path:
        return None
    index = int(
        getattr(settings, "CJK_FONT_INDEX", 0) or os.environ.get("CJK_FONT_INDEX", "0") or 0
    )
    return path, index


def find_cjk_font() -> tuple[str, int] | None:
    """The CJK TrueType font file to embed and its subfont index, or None."""
    configured = _configured_path()
    candidates = ([configured] if configured else []) + CANDIDATES
    for path, index in candidates:
        if Path(path).is_file():
            return path, index
    if configured:
        logger.warning("CJK_FONT_PATH %s does not exist", configured[0])
    return None


def register_cjk_font() -> str:
    """Register the CJK font with reportlab (once per process) and return its font name.

    Returns ``"CJK"`` for an embedded TrueType font, or ``"STSong-Light"`` (not embedded) when no
    font file is found or it cannot be read."""
    from reportlab.pdfbase import pdfmetrics

    registered = pdfmetrics.getRegisteredFontNames()
    if FONT_NAME in registered:
        return FONT_NAME
    found = find_cjk_font()
    if found is not None:
        from reportlab.pdfbase.ttfonts import TTFont

        path, index = found
        try:
            font = (
                TTFont(FONT_NAME, path, subfontIndex=index)
                if path.endswith(".ttc")
                else (TTFont(FONT_NAME, path))
            )
            pdfmetrics.registerFont(font)
            return FONT_NAME
        except Exception:  # noqa: BLE001 - an unreadable/CFF font: fall back, say why
            logger.exception(
                "cannot use the CJK font %s; falling back to %s", path, FALLBACK_FONT_NAME
            )
    else:
        logger.warning(
            "No CJK TrueType font found (install fonts-wqy-microhei or set CJK_FONT_PATH); "
            "PDFs use %s, which is not embedded and shows as boxes on viewers without it.",
            FALLBACK_FONT_NAME,
        )
    if FALLBACK_FONT_NAME not in registered:
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont

        pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT_NAME))
    return FALLBACK_FONT_NAME


def escape(text: str) -> str:
    """Text for a reportlab Paragraph (its markup is XML-like)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class Signature:
    """The issuing body and the date, right-aligned at the end of a document."""

    issuer: str
    date: str


def build_document(
    *,
    title: str,
    lines: Iterable[str],
    number: str = "",
    author: str = "",
    signature: Signature | None = None,
) -> bytes:
    """A4 PDF of an official document: centred title, optional number line, then the text.

    ``lines`` is plain text, one paragraph per line. A line starting with ideographic spaces
    (the Chinese paragraph indent, "　　") becomes an indented paragraph; an empty line becomes
    vertical space. No character goes to the PDF that the font lacks (no ``&nbsp;``, no U+3000
    runs), so nothing extracts as U+FFFD."""
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    font = register_cjk_font()
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=30 * mm,
        bottomMargin=25 * mm,
        title=title,
        author=author,
        creator="joint petition reception center",
    )
    size = 13
    title_style = ParagraphStyle(
        "title", fontName=font, fontSize=20, leading=28, alignment=TA_CENTER
    )
    body = ParagraphStyle("body", fontName=font, fontSize=size, leading=22, wordWrap="CJK")
    indented = ParagraphStyle("indented", parent=body, firstLineIndent=2 * size)
    right = ParagraphStyle("right", parent=body, alignment=TA_RIGHT)
    story: list[object] = [Paragraph(escape(title), title_style), Spacer(1, 4 * mm)]
    if number:
        story.append(
            Paragraph(escape(f"编号：{number}"), ParagraphStyle("no", parent=body, alignment=1))
        )
    story.append(Spacer(1, 8 * mm))
    for line in lines:
        text = line.rstrip()
        if not text.strip():
            story.append(Spacer(1, 4 * mm))
        elif text.startswith(IDEOGRAPHIC_SPACE):
            story.append(Paragraph(escape(text.lstrip(IDEOGRAPHIC_SPACE + " ")), indented))
        else:
            story.append(Paragraph(escape(text.strip()), body))
    if signature is not None:
        story += [
            Spacer(1, 12 * mm),
            Paragraph(escape(signature.issuer), right),
            Paragraph(escape(signature.date), right),
        ]
    doc.build(story)  # type: ignore[arg-type]
    return buffer.getvalue()


def split_signature(text: str, issuer: str) -> tuple[Sequence[str], Signature | None]:
    """Split a stored document text whose last two lines are the issuer and the date into the
    body lines and a Signature (so the PDF right-aligns them); otherwise no signature."""
    lines = text.rstrip("\n").split("\n")
    if len(lines) >= 2 and lines[-2].strip() == issuer.strip():
        body = lines[:-2]
        while body and not body[-1].strip():
            body.pop()
        return body, Signature(issuer=lines[-2].strip(), date=lines[-1].strip())
    return lines, None
