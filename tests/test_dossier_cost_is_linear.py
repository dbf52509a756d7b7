"""The dossier's text layout costs work in proportion to the text, whatever the user typed.

reportlab re-breaks a paragraph's remaining text at every page it splits it across, so a long
unbroken word used to cost the square of its length (200 kB: minutes). The work is counted,
not timed (the machine is shared): the widths reportlab measures while breaking lines.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from reportlab.platypus import paragraph

from cases import services
from cases.dossier.builder import render_dossier
from cases.dossier.text import PIECE_CHARS, pieces
from tests.conftest import paris

GENERATED_AT = datetime(2024, 3, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def measured_widths(monkeypatch, case) -> int:
    """How many string widths reportlab measures to lay out the case's dossier."""
    calls = 0
    original = paragraph.stringWidth

    def counting(*args, **kwargs):
        nonlocal calls
        calls += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(paragraph, "stringWidth", counting)
    render_dossier(case, generated_at=GENERATED_AT, sign=False)
    monkeypatch.setattr(paragraph, "stringWidth", original)
    return calls


def word_case(open_case, dpo, size: int):
    """A case whose description and a filing's content are one unbroken word of `size` characters."""
    case = open_case(description="x" * size)
    services.filing_record(case, kind="other", sent_at=paris(2024, 2, 2, 9, 0), content="y" * size, acting_user=dpo)
    return case


def test_a_long_unbroken_word_costs_in_proportion_to_its_length(open_case, dpo, monkeypatch):
    small = measured_widths(monkeypatch, word_case(open_case, dpo, 6_000))
    large = measured_widths(monkeypatch, word_case(open_case, dpo, 18_000))
    # Three times the text: about three times the work when linear, nine when quadratic.
    assert large / small < 4.5, (small, large)


def test_pieces_cut_between_words_and_keep_every_character():
    text = ("mot " * 1000) + "z" * 5000 + "\nfin"
    parts = pieces(text)
    assert all(len(p) <= PIECE_CHARS for p in parts)
    assert "".join(parts).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")
    assert parts[0].endswith("mot")  # the first cut falls between two words
    assert pieces("court") == ["court"]
