"""The dossier's history section streams: its rows are read once, spilled to temporary files and laid
out page by page on each pass, never all held; every row is still printed, in chain order."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from pypdf import PdfReader
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

from cases import services
from cases.dossier import grid
from cases.dossier.builder import render_dossier
from cases.dossier.fonts import register_fonts
from cases.dossier.grid import Column, RowSpill, StreamedGrid, TextGrid
from cases.history import drop_trigger_statements, verify_chain
from cases.models import BreachCase

GENERATED_AT = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)
REVISIONS = 45


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def fonts():
    register_fonts()  # the grids measure and draw with the dossier's fonts


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    # A few rows per spilled chunk: the case's history spans many chunks and many pages.
    monkeypatch.setattr(grid, "CHUNK_ROWS", 7)


@pytest.fixture
def long_case(open_case, dpo):
    case = open_case()
    for i in range(REVISIONS):
        case = services.case_update_facts(
            case, acting_user=dpo, change_reason=f"Revision-{i:03d}", description=f"Description version {i:03d}"
        )
    return case


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in reader.pages))


def test_every_row_is_printed_once_in_chain_order_across_chunks_and_pages(long_case):
    result = render_dossier(long_case, generated_at=GENERATED_AT, sign=False)
    text = _text(result.pdf)
    changes = text[text.rindex("Modifications champ par champ") :]
    found = re.findall(r"Revision-(\d{3})", changes)
    # Each revision changes one field: one line in the activity log (before), one in the changes here.
    assert found == [f"{i:03d}" for i in range(REVISIONS)]
    assert re.findall(r"Description version (\d{3})", changes)[:3] == ["000", "000", "001"]  # before/after pairs
    # Revisions within two seconds by one person are one action: the log names its first reason.
    activity = text[text.rindex("Journal des actions") : text.rindex("Modifications champ par champ")]
    assert "Revision-000" in activity
    assert "Chaîne intègre" in text
    # The two passes (paginate, then draw) read the same rows: "Page X sur Y" agrees with the page count.
    assert f"Page {result.pages} sur {result.pages}" in text


def test_a_broken_chain_is_reported_above_the_streamed_rows(long_case):
    table = BreachCase.history.model._meta.db_table
    with connection.cursor() as cursor:
        for statement in drop_trigger_statements(connection.vendor, table):
            cursor.execute(statement)
        cursor.execute(
            f"UPDATE {table} SET history_change_reason = %s WHERE history_change_reason = %s",  # noqa: S608
            ["Réécrit", "Revision-020"],
        )
    assert not verify_chain(long_case.history_chain_key()).ok
    text = _text(render_dossier(long_case, generated_at=GENERATED_AT, sign=False).pdf)
    assert "CHAÎNE ROMPUE" in text and "Chaîne intègre" not in text
    assert text.index("CHAÎNE ROMPUE") < text.rindex("Modifications champ par champ")
    changes = text[text.rindex("Modifications champ par champ") :]
    # Every row is still listed, the rewritten one as it now reads.
    assert len(re.findall(r"Revision-\d{3}", changes)) == REVISIONS - 1
    assert "Réécrit" in changes


def test_the_temporary_files_are_closed_after_the_build(long_case, monkeypatch):
    spills: list[RowSpill] = []
    original = RowSpill.__init__

    def recording(self, *args, **kwargs):
        original(self, *args, **kwargs)
        spills.append(self)

    monkeypatch.setattr(RowSpill, "__init__", recording)
    render_dossier(long_case, generated_at=GENERATED_AT, sign=False)
    assert len(spills) == 2  # the activity log and the field-level changes
    assert all(spill._file.closed for spill in spills)


def _spill(rows: int, chunk: int = 5) -> RowSpill:
    spill = RowSpill([Column("N", 40), Column("Texte", 120)], chunk=chunk)
    for i in range(rows):
        # Every fifth row is long enough to wrap on several lines.
        spill.add((str(i), "mot " * (40 if i % 5 == 0 else 1)))
    spill.close_writing()
    return spill


def test_a_spill_reads_back_the_same_rows_on_every_pass():
    spill = _spill(23)
    first = [row for rows, _ in spill.chunks() for row in rows]
    second = [row for rows, _ in spill.chunks() for row in rows]
    heights = [h for _, hs in spill.chunks(rows=False) for h in hs]
    assert first == second
    assert [row[0] for row in first] == [[str(i)] for i in range(23)]
    assert len(heights) == 23 and heights[0] > heights[1]  # the long row is taller
    assert [rows for rows, _ in spill.chunks(rows=False)][0] == [None] * 5
    spill.close()


class _Recorder(BaseDocTemplate):
    """Lays out a story twice like multiBuild (a paginating pass, then a drawing one) and records
    the rows of every grid placed, per pass."""

    def __init__(self):
        super().__init__(io.BytesIO(), pagesize=(300, 200))
        self.addPageTemplates([PageTemplate(frames=[Frame(0, 0, 300, 200, id="f")])])
        self.placed: list[tuple[int, list]] = []

    def afterFlowable(self, flowable):  # noqa: N802 - reportlab's API
        placed = flowable.drawn if isinstance(flowable, StreamedGrid) else flowable  # the last page: drawn by itself
        if isinstance(placed, TextGrid):
            self.placed.append((self.page, [row[0][0] for row in placed.rows]))


def test_a_streamed_grid_fills_pages_in_order_and_starts_again_on_each_pass():
    spill = _spill(40)
    grid_flowable = StreamedGrid(spill)
    pages = []
    for _ in range(2):
        doc = _Recorder()
        doc.build([grid_flowable])
        pages.append(doc.placed)
    assert pages[0] == pages[1]
    rows = [row for _, placed in pages[1] for row in placed]
    assert rows == [str(i) for i in range(40)]
    assert len({page for page, _ in pages[1]}) > 3  # across page breaks, each page's rows read as it is laid out
    spill.close()


def test_an_empty_history_table_prints_its_header_alone():
    spill = _spill(0)
    doc = _Recorder()
    doc.build([StreamedGrid(spill)])
    assert doc.page == 1
    spill.close()


def test_the_spilled_activity_log_groups_rows_into_the_same_actions_as_the_page():
    from datetime import timedelta

    from cases.dossier.sections.history import _SpilledActivity
    from cases.selectors.history import ActivityLog

    start = datetime(2024, 2, 1, 9, 0, tzinfo=UTC)
    rows = [
        # (who, seconds after start, created, kind, reason): a case opened with its obligations, two edits
        # by another person within two seconds, a later edit.
        ("dpo", 0, True, "breachcase", "Ouverture"),
        ("dpo", 1, True, "obligation", ""),
        ("dpo", 1, True, "obligation", ""),
        ("juriste", 5, False, "breachcase", "Correction"),
        ("juriste", 6, False, "breachcase", ""),
        ("dpo", 600, False, "obligation", "Fait"),
    ]
    spill = RowSpill([Column("Quand", 60), Column("Qui", 60), Column("Action", 100), Column("Fiches", 100)])
    spilled, kept = _SpilledActivity(spill), ActivityLog()
    for who, seconds, created, kind, reason in rows:
        for log in (spilled, kept):
            when = start + timedelta(seconds=seconds)
            log.add(who=who, when=when, when_text=str(seconds), created=created, kind=kind, reason=reason)
    assert len(spilled.entries) <= 1  # only the action still open is held
    spilled.finish()
    spill.close_writing()
    written = [[" ".join(cell) for cell in row] for rows_, _ in spill.chunks() for row in rows_]
    assert written == [[e["when_text"], e["who"], e["reason"], ActivityLog.summary(e)] for e in kept.entries]
    assert [row[2] for row in written] == ["Ouverture", "Correction", "Fait"]
    spill.close()
