"""The Unicode TrueType fonts embedded in every dossier (DejaVu, shipped in cases/dossier/fonts/)."""

from __future__ import annotations

import re
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"


_ASTRAL_ENTRY = re.compile(r"^<([0-9A-F]{2})> <([0-9A-F]{5,6})>$", re.MULTILINE)
_reportlab_to_unicode_cmap = ttfonts.makeToUnicodeCMap


def _to_unicode_cmap(fontname, subset):
    """reportlab's ToUnicode CMap, with characters beyond U+FFFF (emoji) written as UTF-16 pairs.

    reportlab writes them as 5-6 hex digits, which is not a valid CMap string: readers then
    lose the text of the whole subset. A UTF-16BE surrogate pair is what the PDF format says.
    """

    def utf16(match: re.Match) -> str:
        pair = chr(int(match.group(2), 16)).encode("utf-16-be").hex().upper()
        return f"<{match.group(1)}> <{pair}>"

    return _ASTRAL_ENTRY.sub(utf16, _reportlab_to_unicode_cmap(fontname, subset))


def register_fonts() -> None:
    """Register DejaVu Sans (regular and bold) with reportlab once per process."""
    ttfonts.makeToUnicodeCMap = _to_unicode_cmap
    if REGULAR in pdfmetrics.getRegisteredFontNames():
        return
    pdfmetrics.registerFont(TTFont(REGULAR, FONT_DIR / "DejaVuSans.ttf"))
    pdfmetrics.registerFont(TTFont(BOLD, FONT_DIR / "DejaVuSans-Bold.ttf"))
    # Lets Paragraph markup such as <b> (in our own labels) pick the bold face.
    addMapping(REGULAR, 0, 0, REGULAR)
    addMapping(REGULAR, 1, 0, BOLD)
    addMapping(REGULAR, 0, 1, REGULAR)
    addMapping(REGULAR, 1, 1, BOLD)
