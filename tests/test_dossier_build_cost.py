"""The dossier's history is read, wrapped and drawn with less work per row, for the same output.

Chain rows are read as raw tuples and converted a row at a time (Django's per-value converters cost
more than the hashing); a cell's line breaks are found once per shape of text (an instant, a number);
the bundle spells its JSON without building an encoder per row.
"""

from __future__ import annotations

import json
import random

import pytest
from django.db.models.sql.compiler import SQLCompiler

from cases import bundle as bundle_module
from cases.dossier import grid
from cases.dossier.fonts import register_fonts
from cases.dossier.grid import Column, _Wrapper, wrap_cell
from cases.history import chain_rows, chained_history_models

from .dossier_cases import rich_case


@pytest.fixture(autouse=True)
def fonts():
    register_fonts()


TRICKY = [
    "",
    None,
    0,
    12345678901234567890,
    True,
    "01/02/2024 18:00:00",
    "31/12/2025 23:59:59",
    "Révision 12 du texte : mesures renforcées, coût estimé 12 €.",
    "Révision 98 du texte : mesures renforcées, coût estimé 98 €.",
    "a  b  c  d  e  f  g  h  i  j  k  l  m  n  o  p",
    "   leading spaces and 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9",
    "line one\nline two 2024\n\n\nafter blank lines 0000000000000000000000000000000000000",
    "unbroken" * 30 + " 0123456789" * 5,
    "W" * 200,
    "clé 🔐 ok 2024",
    "שלום עולם 2024 מספר 12",
    "tab\there\r\nand CR 42",
    "trailing space 7 ",
    "\n",
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0",
]


def _columns():
    return [Column("A", 30), Column("B", 57), Column("C", 90), Column("D", 200)]


def test_cells_are_what_wrap_cell_makes_of_each_value():
    columns = _columns()
    rng = random.Random(15)
    alphabet = "0123456789  abcW\né-"
    values = TRICKY + ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 120))) for _ in range(400)]
    for wrapper in (_Wrapper(columns), _Wrapper(columns)):  # each value new, then each one again (cached)
        for value in values + values:
            row = [value] * len(columns)
            assert wrapper.cells(row) == [wrap_cell(value, c.width) for c in columns], repr(value)


def test_instants_and_numbers_of_one_shape_are_wrapped_once(monkeypatch):
    calls = []
    real = grid.wrap

    def counting(text, *args):
        calls.append(text)
        return real(text, *args)

    monkeypatch.setattr(grid, "wrap", counting)
    wrapper = _Wrapper([Column("Quand", 56.6)])
    instants = [
        f"{day:02d}/0{month}/2024 1{hour}:{minute:02d}:07"
        for day in range(1, 29)
        for month, hour, minute in [(1, 8, 5), (3, 2, 59)]
    ]
    cells = [wrapper.cells([instant])[0] for instant in instants]
    assert len(calls) == 1  # one shape: 00/00/0000 00:00:00
    assert cells == [wrap_cell(instant, 56.6) for instant in instants]
    assert all(len(cell) == 2 for cell in cells)


@pytest.mark.django_db
def test_chain_rows_are_django_s_values_without_its_per_value_converters(
    org, dpo, make_user, monkeypatch, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    case = rich_case(org, dpo, make_user)
    key = case.history_chain_key()
    expected = []
    for model in chained_history_models():
        columns = [f.attname for f in model._meta.concrete_fields]
        expected += [(model, row) for row in model.objects.filter(chain_key=key).order_by("chain_seq").values(*columns)]
    expected.sort(key=lambda item: item[1]["chain_seq"])

    def refuse(*args, **kwargs):
        raise AssertionError("converted value by value")

    monkeypatch.setattr(SQLCompiler, "apply_converters", refuse)
    rows = list(chain_rows(key, chunk_size=3))
    assert len(rows) == len(expected) > 10
    for (model, row), (expected_model, expected_row) in zip(rows, expected, strict=True):
        assert model is expected_model
        assert list(row) == list(expected_row)
        for name, value in expected_row.items():
            assert type(row[name]) is type(value) and row[name] == value, name
            if hasattr(value, "tzinfo"):
                assert row[name].tzinfo == value.tzinfo and row[name].utcoffset() == value.utcoffset()


def test_the_bundle_spells_json_as_json_dumps_does():
    for value in ["", 'é "quoted" \\ \n \u2028 \x00 🔐', "0" * 64, {"a": [1, "b", None, True]}, [["x", "é"], []]]:
        expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        assert bundle_module._json(value) == expected
        if isinstance(value, str):
            assert bundle_module._json_string(value) == expected


@pytest.fixture
def build(org, dpo, make_user, tmp_path, settings):
    """Builds the dossier of one rich case, at a fixed instant, unsealed: the same bytes each time."""
    from datetime import UTC, datetime

    from cases.dossier.builder import render_dossier

    settings.MEDIA_ROOT = tmp_path
    case = rich_case(org, dpo, make_user)
    at = datetime(2024, 3, 1, 12, tzinfo=UTC)
    return lambda: render_dossier(case, generated_at=at, generated_by="x", sign=False)


@pytest.mark.django_db
def test_the_pdf_is_spooled_to_disk_and_the_same_bytes_as_collected_in_memory(build, monkeypatch):
    from cases.dossier import document

    spooled = []
    real_format = document._SpooledFile.format

    def recording(self, doc):
        data = real_format(self, doc)
        spooled.append(len(data))
        return data

    monkeypatch.setattr(document._SpooledFile, "format", recording)
    assert document._spooled_format is not None
    on_disk = build().pdf
    assert spooled == [len(on_disk)]
    monkeypatch.setattr(document, "_spooled_format", None)
    in_memory = build().pdf
    assert spooled == [len(on_disk)]
    assert on_disk == in_memory


@pytest.mark.django_db
def test_finished_pages_wait_on_disk_and_the_pdf_is_the_same_as_with_pages_in_memory(build, monkeypatch):
    from cases.dossier import document

    kept, read = [], []
    real_keep, real_read = document.PageSpool.keep, document.PageSpool.read

    def keep(self, content):
        kept.append(len(content))
        return real_keep(self, content)

    def read_back(self, *where):
        read.append(where)
        return real_read(self, *where)

    monkeypatch.setattr(document.PageSpool, "keep", keep)
    monkeypatch.setattr(document.PageSpool, "read", read_back)
    result = build()
    # Every page the drawing pass finished went to disk and was read back once, to be written into the file.
    assert len(kept) == len(read) == result.pages
    # The same document with the finished pages kept in memory instead.
    monkeypatch.setattr(
        document, "_compress_now", lambda page, pages, compress=document._compress_now: compress(page, None)
    )
    assert build().pdf == result.pdf
