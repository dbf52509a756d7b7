"""The dossier's page machinery: templates, headings with bookmarks and contents, "Page X sur Y".

The document is laid out in (usually) two passes with `multiBuild`: the first pass only
paginates (its canvas skips the costly text drawing of the big grids) and records where
each section starts and how many pages there are; the second draws everything with the
contents' page numbers and the page total known. The contents are seeded with their final
entries so both passes lay out the same, and a tracker makes `multiBuild` run again should
the page total still move.
"""

from __future__ import annotations

import gc
import tempfile
import types
from datetime import UTC, datetime

from reportlab import rl_config
from reportlab.pdfbase import pdfdoc
from reportlab.pdfbase.pdfdoc import (
    PDFArray,
    PDFBase85Encode,
    PDFDictionary,
    PDFName,
    PDFPage,
    PDFStream,
    PDFZCompress,
)
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, NextPageTemplate, PageTemplate, Paragraph
from reportlab.platypus.tableofcontents import TableOfContents

from .fonts import REGULAR
from .styles import H1, H2, MARGIN_BOTTOM, MARGIN_TOP, MARGIN_X, PAGE_HEIGHT, PAGE_WIDTH, TOC_STYLES
from .text import clean, esc, visual


class Heading(Paragraph):
    """A section or sub-section title: an entry in the contents and a PDF bookmark."""

    def __init__(self, text: str, key: str, level: int = 0) -> None:
        super().__init__(esc(text), H1 if level == 0 else H2)
        self.plain_text = clean(text)
        self.key = key
        self.level = level


class PageCounter(Flowable):
    """A zero-size indexing flowable: knows the page total of the previous pass."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0
        self._counted = 0
        self.doc = None

    def isIndexing(self):  # noqa: N802 - reportlab's API
        return 1

    def isSatisfied(self):  # noqa: N802
        return self._counted == self.total

    def beforeBuild(self):  # noqa: N802
        self.total = self._counted

    def afterBuild(self):  # noqa: N802
        self._counted = self.doc.page

    def notify(self, kind, stuff):
        return None

    def wrap(self, available_width, available_height):
        return 0, 0

    def draw(self):
        return None


def canvas_factory(generated_at: datetime, pages: PageSpool | None = None):
    """A canvasmaker whose first canvas only paginates and every later one draws.

    The PDF creation and modification dates are the generation time, and reportlab's
    invariant mode fixes everything else, so the bytes depend on the data alone. The drawing
    canvases keep their finished pages' compressed streams in `pages` until the file is written.
    """
    stamp = generated_at.astimezone(UTC).strftime("D:%Y%m%d%H%M%S+00'00'")
    made = []

    class DossierCanvas(Canvas):
        layout_only = False

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.setDateFormatter(lambda *parts: stamp)
            if _spooled_format is not None:
                self._doc.format = types.MethodType(_spooled_format, self._doc)

        def showPage(self):  # noqa: N802 - reportlab's API
            super().showPage()
            _compress_now(self._doc.Pages.pages[-1], None if self.layout_only else pages)

    class LayoutCanvas(DossierCanvas):
        layout_only = True

    def make(*args, **kwargs):
        made.append(1)
        return (LayoutCanvas if len(made) == 1 else DossierCanvas)(*args, **kwargs)

    return make


class PageSpool:
    """A temporary file holding finished pages' compressed content streams until the PDF file is written.

    A history of a million rows is some 70,000 pages, 300 MB of compressed streams: on disk, not in memory,
    each read back once when reportlab writes its page into the file.
    """

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="dossier-pages-")  # noqa: SIM115 - closed by close()

    def keep(self, content: bytes | str) -> tuple[int, int, bool]:
        """Store `content` (ASCII text when ASCII85-encoded): where it lies, and whether it was text."""
        text = isinstance(content, str)
        data = content.encode("ascii") if text else content
        offset = self._file.seek(0, 2)
        self._file.write(data)
        return offset, len(data), text

    def read(self, offset: int, length: int, text: bool) -> bytes | str:
        self._file.seek(offset)
        data = self._file.read(length)
        return data.decode("ascii") if text else data

    def close(self) -> None:
        self._file.close()


def _compress_now(page: PDFPage, pages: PageSpool | None) -> None:
    """Compress a finished page's content stream now rather than when the file is written, and keep it
    in `pages` (in memory without).

    reportlab keeps every page's drawing operators as text until it writes the file; a history
    of a million rows is tens of thousands of pages. The stream object is the one reportlab would
    write (its filters, applied as `PDFStream.format` does), so the file is byte for byte the same.
    """
    stream = page.stream
    if not stream or not page.compression or page.Contents:
        return
    filters = [PDFBase85Encode, PDFZCompress] if rl_config.useA85 else [PDFZCompress]
    content = stream
    for encoder in reversed(filters):
        content = encoder.encode(content)
    dictionary = PDFDictionary({"Filter": PDFArray([PDFName(f.pdfname) for f in filters])})
    if pages is None:
        page.Contents = _WrittenOnce(dictionary, content=content)
    else:
        page.Contents = _Spooled(dictionary, pages, *pages.keep(content))
    page.stream = None


class _SpooledFile(pdfdoc.PDFFile):
    """reportlab's collector of the formatted file, written to a temporary file as it goes.

    reportlab keeps every formatted object (the pages, the embedded bundle) in a list and joins
    them into the file at the end: the list and the file, twice the size of the PDF, at once. Here
    the objects go to disk as they are formatted and only the finished file is read back.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)  # writes the header into self.strings
        self._spool = tempfile.TemporaryFile(prefix="dossier-pdf-")  # noqa: SIM115 - closed in format()
        self._spool.writelines(self.strings)
        self.strings = None
        self.write = self._spool.write

    def format(self, document) -> bytes:
        try:
            self._spool.seek(0)
            return self._spool.read()
        finally:
            self._spool.close()


def _spooling(format_function):
    """PDFDocument.format as reportlab wrote it, collecting into a `_SpooledFile`; None if reportlab's
    code no longer builds its collector the way this expects (the PDF is then collected in memory)."""
    code = format_function.__code__
    if "PDFFile" not in code.co_names or "_digiSigs" not in code.co_consts:
        return None
    namespace = {**vars(pdfdoc), "PDFFile": _SpooledFile}
    spooled = types.FunctionType(code, namespace, code.co_name, format_function.__defaults__)

    def format_spooled(document):
        if getattr(document, "_digiSigs", None):  # reportlab's signing reads the collected strings
            return format_function(document)
        return spooled(document)

    return format_spooled


_spooled_format = _spooling(pdfdoc.PDFDocument.format)


class _WrittenOnce(PDFStream):
    """A page's compressed stream, let go once formatted into the file (the file holds its copy)."""

    def format(self, document):
        formatted = super().format(document)
        self.content = b" "
        return formatted


class _Spooled(_WrittenOnce):
    """A page's compressed stream kept in a `PageSpool`, read back only to be formatted into the file."""

    def __init__(self, dictionary: PDFDictionary, pages: PageSpool, offset: int, length: int, text: bool) -> None:
        super().__init__(dictionary, content=b" ")
        self._where = (pages, offset, length, text)

    def format(self, document):
        pages, *where = self._where
        self.content = pages.read(*where)
        return super().format(document)


class DossierDocTemplate(BaseDocTemplate):
    def __init__(self, buffer, *, footer_left: str, page_label, counter: PageCounter, **kwargs) -> None:
        super().__init__(
            buffer,
            pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
            leftMargin=MARGIN_X,
            rightMargin=MARGIN_X,
            topMargin=MARGIN_TOP,
            bottomMargin=MARGIN_BOTTOM,
            invariant=1,
            **kwargs,
        )
        self.footer_left = visual(clean(footer_left))
        self.page_label = page_label
        self.counter = counter
        counter.doc = self
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body")
        self.addPageTemplates(
            [
                PageTemplate(id="cover", frames=[frame], onPage=self._footer),
                PageTemplate(id="body", frames=[frame], onPage=self._footer),
            ]
        )

    def handle_documentBegin(self):  # noqa: N802 - reportlab's API
        super().handle_documentBegin()
        if not getattr(self.canv, "layout_only", False):
            # The paginating pass's canvas (thousands of pages for a long history) is garbage in
            # reference cycles by now: free it before the drawing pass fills its own.
            gc.collect()

    def _footer(self, canv, doc) -> None:
        if getattr(canv, "layout_only", False):
            return
        canv.saveState()
        canv.setFont(REGULAR, 7.5)
        canv.setFillGray(0.3)
        y = MARGIN_BOTTOM - 18
        canv.drawString(MARGIN_X, y, self.footer_left)
        canv.drawRightString(PAGE_WIDTH - MARGIN_X, y, self.page_label(doc.page, self.counter.total or doc.page))
        canv.setStrokeGray(0.6)
        canv.setLineWidth(0.4)
        canv.line(MARGIN_X, y + 9, PAGE_WIDTH - MARGIN_X, y + 9)
        canv.restoreState()

    def afterFlowable(self, flowable):  # noqa: N802 - reportlab's API
        if isinstance(flowable, Heading):
            self.canv.bookmarkPage(flowable.key)
            self.canv.addOutlineEntry(flowable.plain_text, flowable.key, level=flowable.level, closed=False)
            self.notify("TOCEntry", (flowable.level, esc(flowable.plain_text), self.page, flowable.key))


def contents(entries: list[tuple[int, str, str]]) -> TableOfContents:
    """The table of contents, seeded with its entries so the first pass lays it out at full size."""
    toc = TableOfContents(levelStyles=TOC_STYLES, dotsMinLevel=0)
    toc._entries = [(level, esc(text), 0, key) for level, text, key in entries]
    return toc


def to_body() -> NextPageTemplate:
    return NextPageTemplate("body")
