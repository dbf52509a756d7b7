"""Page geometry, paragraph styles and the small layout helpers the sections share."""

from __future__ import annotations

from collections.abc import Iterable

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from .fonts import BOLD, REGULAR
from .text import esc, pieces

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 16 * mm
MARGIN_TOP = 18 * mm
MARGIN_BOTTOM = 16 * mm
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN_X - 12  # the frame's own padding (6 pt each side)

BODY = ParagraphStyle("Body", fontName=REGULAR, fontSize=9, leading=12, spaceAfter=3)
SMALL = ParagraphStyle("Small", parent=BODY, fontSize=7.5, leading=9.5, textColor=colors.HexColor("#444444"))
LABEL = ParagraphStyle("Label", parent=BODY, fontName=BOLD, spaceAfter=0, keepWithNext=1)
VALUE = ParagraphStyle("Value", parent=BODY, leftIndent=10, spaceAfter=5)
CELL = ParagraphStyle("Cell", parent=BODY, fontSize=8, leading=10, spaceAfter=0)
CELL_BOLD = ParagraphStyle("CellBold", parent=CELL, fontName=BOLD)
TITLE = ParagraphStyle("Title", parent=BODY, fontName=BOLD, fontSize=20, leading=25, spaceAfter=10)
SUBTITLE = ParagraphStyle("Subtitle", parent=BODY, fontSize=12, leading=16, spaceAfter=14)
H1 = ParagraphStyle("H1", parent=BODY, fontName=BOLD, fontSize=14, leading=18, spaceBefore=4, spaceAfter=8)
H2 = ParagraphStyle("H2", parent=BODY, fontName=BOLD, fontSize=10.5, leading=14, spaceBefore=8, spaceAfter=4)
ALERT = ParagraphStyle("Alert", parent=BODY, fontName=BOLD, textColor=colors.HexColor("#a00000"))
TOC_STYLES = [
    ParagraphStyle("TOC1", parent=BODY, fontSize=10, leading=15, leftIndent=0, firstLineIndent=0),
    ParagraphStyle("TOC2", parent=BODY, fontSize=9, leading=12, leftIndent=14, firstLineIndent=0),
]

GRID_STYLE = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#a6a6a6")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
)
KV_STYLE = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#a6a6a6")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f2f2f2")),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
)


def para(value: object, style: ParagraphStyle = BODY, *, empty: str | None = None) -> Paragraph:
    """A paragraph of user text, escaped so reportlab prints it literally."""
    return Paragraph(esc(value) if empty is None else esc(value, empty=empty), style)


def markup(trusted_markup: str, style: ParagraphStyle = BODY) -> Paragraph:
    """A paragraph of the dossier's own markup; any user text inside must already be escaped."""
    return Paragraph(trusted_markup, style)


def paras(value: object, style: ParagraphStyle = BODY, *, empty: str = "—") -> list[Paragraph]:
    """User text of any length as consecutive paragraphs of bounded size (`text.pieces`): linear layout.

    The pieces flow as one paragraph would: only the first keeps the space before, the last the space after.
    """
    parts = pieces(value)
    if len(parts) == 1:
        return [para(value, style, empty=empty)]
    first, middle, last = _continued(style)
    styles = [first, *[middle] * (len(parts) - 2), last]
    return [Paragraph(esc(part, empty=""), s) for part, s in zip(parts, styles, strict=True)]


_CONTINUED: dict[str, tuple[ParagraphStyle, ParagraphStyle, ParagraphStyle]] = {}


def _continued(style: ParagraphStyle) -> tuple[ParagraphStyle, ParagraphStyle, ParagraphStyle]:
    if style.name not in _CONTINUED:
        _CONTINUED[style.name] = (
            ParagraphStyle(f"{style.name}-first", parent=style, spaceAfter=0),
            ParagraphStyle(f"{style.name}-middle", parent=style, spaceBefore=0, spaceAfter=0),
            ParagraphStyle(f"{style.name}-last", parent=style, spaceBefore=0),
        )
    return _CONTINUED[style.name]


def fields(pairs: Iterable[tuple[str, object]], *, empty: str = "—") -> list[Flowable]:
    """Label then value, one after the other: values of any length split across pages."""
    out: list[Flowable] = []
    for label, value in pairs:
        out.append(para(label, LABEL))
        out.extend(paras(value, VALUE, empty=empty))
    return out


def small_table(header: list[str], rows: list[list[object]], widths: list[float]) -> Table:
    """A reportlab Table of escaped paragraphs, for the short tables (obligations, controllers...)."""
    data = [[para(h, CELL_BOLD) for h in header]]
    data.extend([para(v, CELL) for v in row] for row in rows)
    scale = FRAME_WIDTH / sum(widths)
    return Table(data, colWidths=[w * scale for w in widths], repeatRows=1, style=GRID_STYLE, splitInRow=1)


def spacer(height: float = 6) -> Spacer:
    return Spacer(1, height)


def keep(*flowables: Flowable) -> KeepTogether:
    return KeepTogether(list(flowables))


# A reportlab Table re-measures all its remaining rows at each page split, so a label/value block is a
# stack of small tables drawn as one grid: runs of short rows, and each piece of a long value alone.
KV_ROWS_PER_TABLE = 8


def kv_table(pairs: Iterable[tuple[str, object]], *, label_share: float = 0.3) -> list[Flowable]:
    """A two-column label/value grid; a long value continues on rows of bounded size, across pages.

    Returned as flowables to add to the story (`*kv_table(...)`): small tables stacked edge to edge,
    so laying it out costs work in proportion to its text.
    """
    widths = [FRAME_WIDTH * label_share, FRAME_WIDTH * (1 - label_share)]
    tables: list[Flowable] = []
    short: list[list[Paragraph]] = []

    def flush() -> None:
        if short:
            tables.append(Table(list(short), colWidths=widths, style=KV_STYLE, splitInRow=1))
            short.clear()

    for label, value in pairs:
        parts = pieces(value)
        if len(parts) == 1:
            short.append([para(label, CELL_BOLD), para(value, CELL)])
            if len(short) == KV_ROWS_PER_TABLE:
                flush()
            continue
        flush()
        for index, part in enumerate(parts):
            row = [para(label if index == 0 else "", CELL_BOLD, empty=""), para(part, CELL, empty="")]
            tables.append(Table([row], colWidths=widths, style=KV_STYLE, splitInRow=1))
    flush()
    return tables
