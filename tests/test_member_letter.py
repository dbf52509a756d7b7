"""The member information letter (Art. 34(2)): one page of plain French, DPO contact, mail-merge fields."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from cases.dossier.letter import build_member_letter

from .dossier_cases import rich_case


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _text(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages))


def test_the_letter_is_one_page_with_the_art_34_2_content_and_merge_fields(org, dpo, make_user):
    case = rich_case(org, dpo, make_user)
    pages, text = _text(build_member_letter(case))
    assert pages == 1
    assert "Hélène Dupré" in text and "dpo@mutuelle-exemple.fr" in text and "01 23 45 67 89" in text
    for heading in (
        "Ce qui s'est passé",
        "Les conséquences possibles pour vous",
        "Ce que nous avons fait",
        "Ce que nous vous conseillons",
    ):
        assert heading in text
    assert "identifiants volés" in text and "numéro de sécurité sociale (NIR)" in text
    assert "Préjudice estimé à 1 000 € — données de santé" in text
    assert "«Nom»" in text and "«Adresse»" in text and "«Code postal» «Ville»" in text
    assert "article 34, paragraphe 2" in text
    assert case.reference in text


def test_very_long_texts_still_fit_on_one_page(open_case):
    # The longest texts a case accepts (cases/inputs.py), markup-like characters included.
    case = open_case(likely_consequences="<b>x</b> & " * 1800, measures_immediate="Mesure " * 2800)
    pages, text = _text(build_member_letter(case))
    assert pages == 1
    assert "<b>x</b> &" in text


def test_the_member_letter_command_writes_the_pdf(open_case, tmp_path):
    case = open_case()
    output = tmp_path / "lettre.pdf"
    call_command("member_letter", case.reference, output=str(output), stdout=io.StringIO())
    assert _text(output.read_bytes())[0] == 1
