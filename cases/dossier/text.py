"""Making user text safe for reportlab: escaping for Paragraph markup, bounded pieces and fast line wrapping.

Layout cost must stay linear in the size of the text, whatever the user typed. reportlab
re-breaks a Paragraph's remaining text each time it splits it across a page, so one
paragraph of n characters spread over n/k pages costs n²/k: a 200 kB unbroken word took
minutes. `pieces` cuts long text into paragraphs of at most PIECE_CHARS characters
(between words when it can), so each is laid out a bounded number of times.
"""

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
    """User text as a plain printable string: None is empty, controls removed, tabs and CRs normalised,
    a character the font cannot draw replaced by a visible placeholder. Idempotent; `visual` comes last."""
    if value is None:
        return ""
    text = str(value)
    if not text.isprintable():
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
        text = _UNPRINTABLE.sub("", text)
    return text if text.isascii() else _drawable(text)


# Arabic, Hebrew (and their presentation forms): written right to left.
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_ARABIC = re.compile("[\u0600-\u08ff]")


@lru_cache(maxsize=1)
def _font_characters() -> frozenset[int]:
    """The code points the dossier's font (DejaVu Sans) has a glyph for."""
    from .fonts import REGULAR, register_fonts

    register_fonts()
    return frozenset(getFont(REGULAR).face.charToGlyph)


def placeholder(char: str) -> str:
    """What is printed instead of a character the font lacks: its code point, visibly (never a blank box)."""
    return f"[U+{ord(char):04X}]"


@lru_cache(maxsize=1)
def _font_strings() -> frozenset[str]:
    """The characters the font draws, and the newline, as strings (for a subset test at C speed)."""
    return frozenset(map(chr, _font_characters())) | {"\n"}


def _drawable(text: str) -> str:
    if _font_strings().issuperset(text):
        return text
    known = _font_characters()
    return "".join(char if ord(char) in known or char == "\n" else placeholder(char) for char in text)


def visual(text: str) -> str:
    """Cleaned text as it is drawn: Arabic letters joined in their contextual forms, each line in display
    order (Unicode bidi). Applied once, where text becomes a Paragraph or a drawn line (never twice:
    a second pass would reverse it again)."""
    if text.isascii() or not _RTL.search(text):
        return text
    from arabic_reshaper import reshape
    from bidi import get_display

    if _ARABIC.search(text):
        text = reshape(text)
    return "\n".join(get_display(line) for line in text.split("\n"))


# At most this many characters in one Paragraph: a few dozen lines, well under a page.
PIECE_CHARS = 1500


def pieces(value: object, size: int = PIECE_CHARS) -> list[str]:
    """User text cut into pieces of at most `size` characters, at a line break or a space when there is one.

    A piece ends at the last newline of its window, else at its last space (the newline or space
    is dropped: the next piece starts on a new line), else it is cut inside the word, which is
    longer than any line anyway. Empty text is one empty piece.
    """
    text = clean(value)
    if len(text) <= size:
        return [text]
    out: list[str] = []
    start = 0
    while len(text) - start > size:
        end = start + size
        cut = text.rfind("\n", start + size // 2, end + 1)
        if cut < 0:
            cut = text.rfind(" ", start + size // 2, end + 1)
        if cut < 0:
            out.append(text[start:end])
            start = end
        else:
            out.append(text[start:cut])
            start = cut + 1
    out.append(text[start:])
    return out


def esc(value: object, *, empty: str = EMPTY) -> str:
    """User text as Paragraph markup that prints literally: `<b>`, `&` and `<font` stay text."""
    text = clean(value)
    if not text.strip():
        return escape(empty)
    return escape(visual(text)).replace("\n", "<br/>")


@lru_cache(maxsize=8)
def ascii_max_width(font: str, size: float) -> float:
    """The widest printable ASCII character's width: text of n such characters is at most n times it."""
    return max(stringWidth(chr(c), font, size) for c in range(32, 127))


@lru_cache(maxsize=8)
def text_metrics(font: str) -> tuple[dict[int, float], float]:
    """Advance widths of the font's characters (1/1000 em) and the width of the others."""
    face = getFont(font).face
    return face.charWidths, face.defaultWidth


@lru_cache(maxsize=8)
def _width(font: str):
    """The font's own string width (reportlab's C routine for TrueType fonts), without the lookup."""
    return getFont(font).stringWidth


# Text this short is first measured whole (reportlab's C width, the same advances summed): most cells fit.
_SHORT = 200


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy word wrap of plain text to `width` points; words too long for a line are cut.

    Cumulative character widths (reportlab adds advances without kerning, so this is its
    own measure) let each line break be found by bisection instead of word by word.
    """
    if "\n" not in text and (
        (text.isascii() and len(text) * ascii_max_width(font, size) <= width)
        or (len(text) < _SHORT and _width(font)(text, size) <= width)
    ):
        return [text]
    widths, default = text_metrics(font)
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
