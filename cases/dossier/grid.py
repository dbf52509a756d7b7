"""A fast, page-splittable text table for the dossier's long sections (history, evidence, chronology).

reportlab's `Table` styles and measures every cell and `drawString` encodes each string
character by character: fine for a page, far too slow for 100,000 history rows. A
`TextGrid` holds cells already wrapped to their column (plain text, never markup, so user
input cannot inject anything), knows each row's height, splits between rows in one
bisection, and draws a whole grid with one text object whose strings are encoded through a
translation table. Rows taller than `MAX_ROW_LINES` are cut into continuation rows at build
time, so any single value (even a 10,000-character description) fits on a page.

For tables as long as a case's history (a million rows), `RowSpill` keeps the wrapped rows out
of memory: they are written to a temporary file as they are made, and a `StreamedGrid` reads them
back chunk by chunk while each layout pass fills its pages, holding about one page of rows.
"""

from __future__ import annotations

import marshal
import re
import tempfile
import weakref
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

from reportlab.lib.rl_accel import escapePDF, fp_str
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import Flowable

from .fonts import BOLD, REGULAR
from .text import ascii_max_width, clean, text_metrics, visual, wrap

FONT_SIZE = 6.5
LEADING = 8.0
PAD = 2.0
MAX_ROW_LINES = 70
CHUNK_ROWS = 200
SHOWN_CACHE_CHARS = 40
SHOWN_CACHE_SIZE = 8192
# Distinct values wrapped once and kept for the rows after (dates, users, fields, a value that comes
# back as the next change's "before"); cleared when full, so memory stays flat however long the table.
WRAP_CACHE_SIZE = 4096
RULE_GREY = 0.65
HEADER_GREY = 0.9


@dataclass(frozen=True)
class Column:
    title: str
    width: float


class _Encoder:
    """Encodes text to the codes of the DejaVu subsets of one PDF document, fast.

    Characters are assigned to subsets by reportlab itself (`TTFont.splitString`), so the
    embedded subsets and their ToUnicode maps stay reportlab's; this only caches the
    mapping and encodes the common case (every character in subset 0) with `str.translate`.
    """

    def __init__(self, font_name: str, doc) -> None:
        self.font = pdfmetrics.getFont(font_name)
        self.doc = doc
        self.known: set[str] = set()
        self.other_subsets: set[str] = set()
        self.table: dict[int, str] = {}
        # Whether every ASCII character learned so far is its own code in subset 0 (reportlab's usual
        # assignment): ASCII text then needs no translation.
        self.ascii_as_is = True
        # Dates, users, objects, fields and reasons repeat from row to row: encode each once
        # (long lines rarely repeat; keeping them would only grow memory).
        self.shown: dict[str, str] = {}
        self.selected: dict[int, str] = {}

    def _learn(self, chars: list[str]) -> None:
        # In order of appearance, never set order: subset codes must not depend on string hashing.
        for ch in chars:
            ((subset, code),) = self.font.splitString(ch, self.doc)
            self.known.add(ch)
            if subset:
                self.other_subsets.add(ch)
            else:
                self.table[ord(ch)] = chr(code[0])
            if ch.isascii() and (subset or code[0] != ord(ch)):
                self.ascii_as_is = False

    def select(self, subset: int) -> str:
        """The `Tf` operator selecting `subset` of the font (the font is named in the document on first use)."""
        selected = self.selected.get(subset)
        if selected is None:
            name = self.font.getSubsetInternalName(subset, self.doc)
            selected = self.selected[subset] = f"{name} {FONT_SIZE} Tf"
        return selected

    def show(self, text: str) -> str | None:
        """The `(...) Tj` operator for `text` if it lies wholly in subset 0, else None."""
        shown = self.shown.get(text)
        if shown is None:
            # runs(text) when it is one run in subset 0, without building its list (most lines are new).
            self._know(text)
            if not self.other_subsets.isdisjoint(text):
                return None
            shown = f"({escapePDF(self._in_subset_0(text))}) Tj"
            if len(text) <= SHOWN_CACHE_CHARS:
                if len(self.shown) >= SHOWN_CACHE_SIZE:  # every row has its own instant: keep memory flat
                    self.shown.clear()
                self.shown[text] = shown
        return shown

    def runs(self, text: str) -> list[tuple[int, str]]:
        """(subset, encoded string) runs of `text`."""
        self._know(text)
        if self.other_subsets.isdisjoint(text):
            return [(0, self._in_subset_0(text))]
        return [(subset, code.decode("latin-1")) for subset, code in self.font.splitString(text, self.doc)]

    def _know(self, text: str) -> None:
        """Learn the characters of `text` not met before (the set tests iterate the string: no set is built)."""
        if not self.known.issuperset(text):
            self._learn([ch for ch in dict.fromkeys(text) if ch not in self.known])

    def _in_subset_0(self, text: str) -> str:
        """`text` encoded in subset 0 (every character known and in it)."""
        return text if self.ascii_as_is and text.isascii() else text.translate(self.table)


def _encoder(canv, font_name: str) -> _Encoder:
    cache = canv.__dict__.setdefault("_dossier_encoders", {})
    if font_name not in cache:
        cache[font_name] = _Encoder(font_name, canv._doc)
    return cache[font_name]


class TextGrid(Flowable):
    """A table of pre-wrapped plain-text cells with a repeated header row."""

    def __init__(
        self,
        columns: Sequence[Column],
        rows: list[list[list[str]]],
        header: list[list[str]],
        heights: list[float] | None = None,
    ) -> None:
        super().__init__()
        self.columns = list(columns)
        self.rows = rows
        self.header = header
        self.header_height = _height(header)
        self.heights = heights if heights is not None else [_height(row) for row in rows]
        self.bottoms = list(accumulate(self.heights, initial=self.header_height))
        self.width = sum(c.width for c in self.columns)
        self.height = self.bottoms[-1]

    def wrap(self, available_width, available_height):
        return self.width, self.height

    def split(self, available_width, available_height):
        fits = bisect_right(self.bottoms, available_height) - 1
        if fits < 1 or fits >= len(self.rows):
            return [] if fits < 1 else [self]
        return [
            TextGrid(self.columns, self.rows[:fits], self.header, self.heights[:fits]),
            TextGrid(self.columns, self.rows[fits:], self.header, self.heights[fits:]),
        ]

    def draw(self):
        canv = self.canv
        if getattr(canv, "layout_only", False):
            return
        xs = list(accumulate((c.width for c in self.columns), initial=0.0))
        top = self.height
        canv.saveState()
        canv.setFillGray(HEADER_GREY)
        canv.rect(0, top - self.header_height, self.width, self.header_height, stroke=0, fill=1)
        canv.setFillGray(0)
        canv.setStrokeGray(RULE_GREY)
        canv.setLineWidth(0.25)
        lines = [(x, 0, x, top) for x in xs]
        lines.extend((0, top - b, self.width, top - b) for b in (0.0, *self.bottoms))
        canv.lines(lines)
        code: list[str] = ["BT"]
        lefts = [fp_str(x + PAD) for x in xs]
        self._cells(canv, code, self.header, lefts, top, BOLD)
        for row, offset in zip(self.rows, self.bottoms, strict=False):
            self._cells(canv, code, row, lefts, top - offset, REGULAR)
        code.append("ET")
        canv.addLiteral("\n".join(code))
        canv.restoreState()

    @staticmethod
    def _cells(canv, code: list[str], row: list[list[str]], lefts: list[str], row_top: float, font_name: str):
        encoder = _encoder(canv, font_name)
        tops = _tops(row_top, max(map(len, row)))
        # The header and the body rows use different faces: select the font again for each row.
        current = None
        append = code.append
        cached = encoder.shown.get
        for cell, left in zip(row, lefts, strict=False):
            for line, y in zip(cell, tops, strict=False):
                if not line:
                    continue
                append(f"1 0 0 1 {left} {y} Tm")
                shown = cached(line) or encoder.show(line)
                if shown is not None:
                    if current != 0:
                        append(encoder.select(0))
                        current = 0
                    append(shown)
                    continue
                for subset, encoded in encoder.runs(line):
                    if subset != current:
                        append(encoder.select(subset))
                        current = subset
                    append(f"({escapePDF(encoded)}) Tj")


# The baselines of a row's lines (fp_str), by the row's top and its number of lines: rows are a whole
# number of lines and pads high, so the same few hundred tops come back on every page.
_TOPS: dict[tuple[float, int], list[str]] = {}


def _tops(row_top: float, lines: int) -> list[str]:
    tops = _TOPS.get((row_top, lines))
    if tops is None:
        if len(_TOPS) >= 4096:
            _TOPS.clear()
        tops = _TOPS[row_top, lines] = [fp_str(row_top - PAD - FONT_SIZE - i * LEADING) for i in range(lines)]
    return tops


def _height(row: list[list[str]]) -> float:
    return max(map(len, row), default=1) * LEADING + 2 * PAD


@lru_cache(maxsize=1)
def _digits_alike() -> bool:
    """Whether the font gives all ten ASCII digits the same width."""
    widths, default = text_metrics(REGULAR)
    return len({widths.get(ord(d), default) for d in "0123456789"}) == 1


_TO_ZERO = str.maketrans("123456789", "000000000")
_NONZERO = re.compile("[1-9]")


def _shape(text: str) -> str:
    """What decides how `text` wraps: each character's width and which ones are spaces or line breaks.
    Digits all have the same width in the font: an instant, an amount or a number in a reason has the
    same shape as every other of its length, so it is wrapped once (the same breaks, its own digits)."""
    if not _digits_alike():
        return text
    # str.translate is fast on ASCII text only; a regular expression is faster on the rest.
    return text.translate(_TO_ZERO) if text.isascii() else _NONZERO.sub("0", text)


def _cuts(shape: str, lines: list[str]) -> list[tuple[int, int]] | None:
    """Where each of wrap's `lines` of `shape` starts and ends in it, or None unless that is certain.

    wrap starts a line where the last one ended, or one character later when it broke at a space or a
    line break (which is dropped): a line found at exactly one of the two places is placed; one found
    at both or neither is not, and the text is then wrapped on its own.
    """
    cuts, position, size = [], 0, len(shape)
    for line in lines:
        here = shape.startswith(line, position)
        after = position < size and shape[position] in " \n" and shape.startswith(line, position + 1)
        if here == after:
            return None
        if after:
            position += 1
        cuts.append((position, position + len(line)))
        position += len(line)
    return cuts if position == size else None


def _one_line_chars(width: float) -> int:
    """The most characters n with n * (widest ASCII glyph) <= the cell's line width: wrap's own test."""
    widest, line = ascii_max_width(REGULAR, FONT_SIZE), width - 2 * PAD
    n = max(0, int(line / widest) + 1)
    while n and n * widest > line:
        n -= 1
    return n


def wrap_cell(value: object, width: float, font_name: str = REGULAR) -> list[str]:
    text = visual(clean(value))
    return wrap(text, font_name, FONT_SIZE, width - 2 * PAD) if text else [""]


class _Wrapper:
    """Wraps rows of values to their columns, cutting rows taller than MAX_ROW_LINES into pieces."""

    def __init__(self, columns: Sequence[Column]) -> None:
        # Dates, users, objects and fields repeat from row to row, and a field's value comes back as
        # the "before" of its next change: wrap each distinct value once per column width.
        by_width: dict[float, dict[object, list[str]]] = {}
        # (width, cache, how many characters of the widest ASCII glyph fit on a line of the cell).
        self.columns = [(c.width, by_width.setdefault(c.width, {}), _one_line_chars(c.width)) for c in columns]
        # (width, shape) -> where its lines start and end.
        self.cuts: dict[tuple[float, str], list[tuple[int, int]]] = {}

    def cells(self, values: Sequence[object]) -> list[list[str]]:
        """The row's cells, each wrapped to its column."""
        if len(values) != len(self.columns):
            raise ValueError(f"a row of {len(values)} values for {len(self.columns)} columns")
        cells = []
        for value, (width, cache, fits) in zip(values, self.columns, strict=True):
            # Printable ASCII text short enough for one line even in the widest glyph is its own
            # cell: what clean, visual and wrap make of it (and most cells are such text).
            if type(value) is str and len(value) <= fits and value.isascii() and value.isprintable():
                cells.append([value])
                continue
            cell = cache.get(value)
            if cell is None:
                if len(cache) >= WRAP_CACHE_SIZE:
                    cache.clear()
                cell = cache[value] = self._wrap(value, width)
            cells.append(cell)
        return cells

    def _wrap(self, value: object, width: float) -> list[str]:
        """wrap_cell(value, width), the line breaks found once per shape of text (see _shape)."""
        text = visual(clean(value))
        if not text:
            return [""]
        shape = _shape(text)
        cuts = self.cuts.get((width, shape))
        if cuts is None:
            lines = wrap(shape, REGULAR, FONT_SIZE, width - 2 * PAD)
            cuts = _cuts(shape, lines)
            if cuts is None:  # breaks not told apart from the lines alone: wrap the text itself
                return wrap(text, REGULAR, FONT_SIZE, width - 2 * PAD)
            if len(self.cuts) >= WRAP_CACHE_SIZE:
                self.cuts.clear()
            self.cuts[width, shape] = cuts
        return [text[start:end] for start, end in cuts]

    def pieces(self, values: Sequence[object]) -> Iterable[list[list[str]]]:
        return _cut(self.cells(values))


def grids(columns: Sequence[Column], rows: Iterable[Sequence[object]], *, chunk: int = CHUNK_ROWS) -> list[TextGrid]:
    """Wrap `rows` of plain values into page-sized `TextGrid`s (at most `chunk` rows each)."""
    header = [wrap_cell(c.title, c.width, BOLD) for c in columns]
    result: list[TextGrid] = []
    pending: list[list[list[str]]] = []
    heights: list[float] = []
    wrapper = _Wrapper(columns)
    for piece in (piece for values in rows for piece in wrapper.pieces(values)):
        pending.append(piece)
        heights.append(_height(piece))
        if len(pending) >= chunk:
            result.append(TextGrid(columns, pending, header, heights))
            pending, heights = [], []
    if pending or not result:
        result.append(TextGrid(columns, pending, header, heights))
    return result


class RowSpill:
    """A long table's wrapped rows, written to an anonymous temporary file as they come (`add`,
    then `close`) and read back in chunks as many times as the layout needs (`chunks`).

    Only the chunk being written and the one being read are in memory, whatever the number of
    rows; the file disappears when the spill is closed or collected. The chunks are marshalled
    lists of strings and floats that this process wrote itself.
    """

    def __init__(self, columns: Sequence[Column], *, chunk: int | None = None) -> None:
        self.columns = list(columns)
        self.header = [wrap_cell(c.title, c.width, BOLD) for c in self.columns]
        self.chunk = chunk or CHUNK_ROWS
        self.pieces = 0
        self._file = tempfile.TemporaryFile(prefix="dossier-rows-")  # noqa: SIM115 - closed by close()
        self._end = 0
        self._pending: list[list[list[str]]] = []
        self._heights: list[float] = []
        self._wrapper = _Wrapper(self.columns)

    def add(self, values: Sequence[object]) -> None:
        """The next row, as plain values (one per column)."""
        cells = self._wrapper.cells(values)
        tallest = max(map(len, cells))
        if tallest > MAX_ROW_LINES:
            for piece in _cut(cells):
                self._add_piece(piece)
            return
        self._pending.append(cells)
        self._heights.append(tallest * LEADING + 2 * PAD)  # _height(cells)
        self.pieces += 1
        if len(self._pending) >= self.chunk:
            self._flush()

    def _add_piece(self, piece: list[list[str]]) -> None:
        self._pending.append(piece)
        self._heights.append(_height(piece))
        self.pieces += 1
        if len(self._pending) >= self.chunk:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            rows = marshal.dumps(self._pending)
            self._file.seek(self._end)
            marshal.dump((self._heights, len(rows)), self._file)
            self._file.write(rows)
            self._end = self._file.tell()
            self._pending, self._heights = [], []

    def close_writing(self) -> None:
        """Every row is added: write the last chunk and free the wrapping caches."""
        self._flush()
        self._file.flush()
        self._wrapper = None

    def chunks(self, *, rows: bool = True) -> Iterator[tuple[list, list[float]]]:
        """The (rows, heights) chunks in the order written; each call reads the file from its start.

        With `rows=False` (a pass that only paginates), the rows are not read: each is None.
        """
        position = 0
        while position < self._end:
            self._file.seek(position)
            heights, size = marshal.load(self._file)  # noqa: S302 - our own anonymous file, written above
            position = self._file.tell() + size
            if rows:
                yield marshal.loads(self._file.read(size)), heights  # noqa: S302 - likewise
            else:
                yield [None] * len(heights), heights

    def close(self) -> None:
        self._file.close()


class _Cursor:
    """One layout pass's reading position in a spill, with the rows looked at but not yet laid out."""

    def __init__(self, spill: RowSpill, canv) -> None:
        # Which pass this is (each has its own canvas), not holding on to the canvas and its pages.
        self.canv = weakref.ref(canv)
        # The first pass only paginates (document.canvas_factory): it needs the rows' heights alone.
        self._chunks = spill.chunks(rows=not getattr(canv, "layout_only", False))
        self.rows: list[list[list[str]]] = []
        self.heights: list[float] = []
        self.done = False

    def fit(self, height: float) -> tuple[int, float, bool]:
        """(how many rows fit in `height`, their height, whether they are all the rows left)."""
        total, count = 0.0, 0
        while True:
            while count < len(self.heights):
                if total + self.heights[count] > height:
                    return count, total, False
                total += self.heights[count]
                count += 1
            if self.done:
                return count, total, True
            chunk = next(self._chunks, None)
            if chunk is None:
                self.done = True
            else:
                self.rows.extend(chunk[0])
                self.heights.extend(chunk[1])

    def take(self, count: int) -> tuple[list[list[list[str]]], list[float]]:
        rows, heights = self.rows[:count], self.heights[:count]
        del self.rows[:count], self.heights[:count]
        return rows, heights


class StreamedGrid(Flowable):
    """A `TextGrid` over a `RowSpill`: each page's rows are read as the page is laid out.

    reportlab lays the document out more than once (`multiBuild`): the grid in the story starts
    reading the spill again on each pass (each pass has its own canvas); what a split leaves for
    the next page is a continuation sharing the pass's reading position.
    """

    def __init__(self, spill: RowSpill, cursor: _Cursor | None = None) -> None:
        super().__init__()
        self.spill = spill
        self._cursor = cursor
        self._restarts = cursor is None
        self.width = sum(c.width for c in spill.columns)
        self.header_height = _height(spill.header)
        self.height = self.header_height

    def _reading(self) -> _Cursor:
        if self._cursor is None or (self._restarts and self._cursor.canv() is not self.canv):
            self._cursor = _Cursor(self.spill, self.canv)
        return self._cursor

    def wrap(self, available_width, available_height):
        count, total, last = self._reading().fit(available_height - self.header_height)
        if last:
            self.height = self.header_height + total
        else:  # taller than the space: reportlab splits it
            self.height = max(available_height, self.header_height + total) + 1
        return self.width, self.height

    def split(self, available_width, available_height):
        cursor = self._reading()
        count, _, last = cursor.fit(available_height - self.header_height)
        if last:
            return [self]
        if count < 1:
            return []
        rows, heights = cursor.take(count)
        return [TextGrid(self.spill.columns, rows, self.spill.header, heights), StreamedGrid(self.spill, cursor)]

    def draw(self):
        cursor = self._reading()
        count, _, _ = cursor.fit(float("inf"))
        rows, heights = cursor.take(count)
        self.drawn = grid = TextGrid(self.spill.columns, rows, self.spill.header, heights)  # the last page's rows
        grid.canv = self.canv
        try:
            grid.draw()
        finally:
            del grid.canv  # the pass's canvas (and its pages) must not outlive the pass


def _cut(cells: list[list[str]]) -> Iterable[list[list[str]]]:
    """A row of at most MAX_ROW_LINES lines, or its continuation pieces."""
    tallest = max(len(c) for c in cells)
    if tallest <= MAX_ROW_LINES:
        yield cells
        return
    for start in range(0, tallest, MAX_ROW_LINES):
        yield [c[start : start + MAX_ROW_LINES] for c in cells]
