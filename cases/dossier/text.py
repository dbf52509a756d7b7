"""Making user text safe for reportlab: escaping for Paragraph markup and fast line wrapping."""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache
from itertools import accumulate, repeat
from xml.sax.saxutils import escape

from reportlab.pdfbase.pdfmetrics import getFont, stringWidth

# C0 controls (but tab and newline), DEL and lone surrogates cannot be printed or encoded.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
EMPTY = "—"


def clean(value: object) -> str:
    """User text as a plain printable string: None is empty, controls removed, tabs and CRs normalised."""
    if value is None:
        return ""
    text = str(value)
    if text.isprintable():
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    return _UNPRINTABLE.sub("", text)


def esc(value: object, *, empty: str = EMPTY) -> str:
    """User text as Paragraph markup that prints literally: `<b>`, `&` and `<font` stay text."""
    text = clean(value)
    if not text.strip():
        return escape(empty)
    return escape(text).replace("\n", "<br/>")


@lru_cache(maxsize=8)
def _ascii_max_width(font: str, size: float) -> float:
    return max(stringWidth(chr(c), font, size) for c in range(32, 127))


@lru_cache(maxsize=8)
def _metrics(font: str) -> tuple[dict[int, float], float]:
    """Advance widths of the font's characters (1/1000 em) and the width of the others."""
    face = getFont(font).face
    return face.charWidths, face.defaultWidth


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy word wrap of plain text to `width` points; words too long for a line are cut.

    Cumulative character widths (reportlab adds advances without kerning, so this is its
    own measure) let each line break be found by bisection instead of word by word.
    """
    if "\n" not in text and text.isascii() and len(text) * _ascii_max_width(font, size) <= width:
        return [text]
    widths, default = _metrics(font)
    limit = width * 1000 / size
    lines: list[str] = []
    for para in text.split("\n"):
        cumulative = list(accumulate(map(widths.get, map(ord, para), repeat(default))))
        start, base = 0, 0.0
        while cumulative and cumulative[-1] - base > limit:
            fits = bisect_right(cumulative, base + limit, lo=start) - start
            end = start + max(fits, 1)
            space = para.rfind(" ", start, end + 1)
            if space > start:
                lines.append(para[start:space])
                start = space + 1
            else:
                lines.append(para[start:end])
                start = end
            base = cumulative[start - 1] if start else 0.0
        lines.append(para[start:])
    return lines
