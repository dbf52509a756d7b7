"""The regulator-ready dossier: contents, navigation, literal user text, fonts, metadata, reproducibility."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from arabic_reshaper import reshape
from django.utils import translation
from django.utils.translation import gettext, pgettext
from pypdf import PdfReader

from cases.dossier.builder import build_dossier, render_dossier
from cases.dossier.text import esc

from .dossier_cases import EURO_LINE, LONG_PARAGRAPH, TRICKY_TITLES, rich_case

GENERATED_AT = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)
SECTIONS = [f"s{i}" for i in range(1, 10)]

# The dossier's wording, by the keys these tests used to read from its own table: (gettext context, English).
WORDS = {
    "s1": (None, "1. Summary (in the order of the CNIL form)"),
    "s2": (None, "2. Chronology"),
    "s3": (None, "3. Obligations and deadlines"),
    "s4": (None, "4. Filings made"),
    "s5": (None, "5. Severity assessment and decisions"),
    "s6": (None, "6. Communication to the persons concerned"),
    "s7": (None, "7. Controllers informed"),
    "s8": (None, "8. Evidence index"),
    "s9": (None, "9. Complete change history"),
    "filing_type": (None, "Type of filing"),
    "siren": (None, "SIREN"),
    "dpo": (None, "Data protection officer (DPO)"),
    "nature": (None, "Established or suspected"),
    "first_signal_at": (None, "Discovery (first signal)"),
    "occurred_from": (None, "Start of the breach"),
    "ongoing": ("dossier", "Still ongoing"),
    "origin": (None, "Origin"),
    "circumstances": (None, "Circumstances"),
    "cause": (None, "Cause"),
    "s1_processors": (None, "Processors involved"),
    "subject_categories": (None, "Categories of persons"),
    "persons_approx": (None, "Approximate number of persons"),
    "data_categories": (None, "Categories of data"),
    "likely_consequences": (None, "Likely consequences"),
    "measures_immediate": (None, "Immediate measures"),
    "persons_informed": (None, "Persons informed"),
    "controllers_none": (None, "Not applicable: the organisation is not acting as a processor in this case."),
}


def words(key: str, lang: str) -> str:
    """The dossier's text for `key` in `lang`, from the project catalogue."""
    context, english = WORDS[key]
    with translation.override(lang):
        return pgettext(context, english) if context else gettext(english)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def case(org, dpo, make_user):
    return rich_case(org, dpo, make_user)


@pytest.fixture
def french(case):
    return render_dossier(case, generated_at=GENERATED_AT, generated_by="Auditrice Éloïse")


@pytest.fixture
def french_text(french) -> str:
    return _flat(" ".join(_texts(_reader(french.pdf))))


def _reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def _texts(reader: PdfReader) -> list[str]:
    return [page.extract_text() or "" for page in reader.pages]


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _outline_titles(outline) -> list[str]:
    titles = []
    for item in outline:
        titles += _outline_titles(item) if isinstance(item, list) else [item.title]
    return titles


def test_every_section_is_present_bookmarked_and_listed_in_the_contents(french):
    reader = _reader(french.pdf)
    texts = [_flat(t) for t in _texts(reader)]
    outline = _outline_titles(reader.outline)
    contents_page = texts[1]
    assert "Sommaire" in contents_page
    for key in SECTIONS:
        title = words(key, "fr")
        assert any(title in t for t in texts[2:]), title
        assert title in outline, title
        assert title in contents_page, title
    # Contents entries carry the page the section starts on (extracted just before the title).
    for key in SECTIONS:
        title = words(key, "fr")
        match = re.search(r"(\d+) " + re.escape(title), contents_page)
        assert match, title
        assert title in texts[int(match.group(1)) - 1]


def test_every_page_is_numbered_page_x_sur_y(french):
    texts = _texts(_reader(french.pdf))
    total = len(texts)
    assert total == french.pages > 10
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} sur {total}" in text


def test_the_cover_names_the_case_organisation_dpo_generation_and_fingerprints(case, french):
    cover = _flat(_texts(_reader(french.pdf))[0])
    assert case.reference in cover
    assert "Mutuelle Exemple" in cover and "123456789" in cover
    assert "Hélène Dupré" in cover and "dpo@mutuelle-exemple.fr" in cover
    assert "01/03/2024 13:30:00" in cover  # 12:30 UTC shown in Paris time
    assert "Auditrice Éloïse" in cover
    assert french.data_hash in cover.replace(" ", "")
    assert re.search(r"\d+ entrées, empreinte [0-9a-f]{64}", cover)


def test_user_markup_is_printed_literally(case, french_text):
    assert "<b>tiers payant</b> & co" in french_text
    for title in TRICKY_TITLES[:2]:
        assert title in french_text
    assert "<unbalanced & &amp; </p>" in french_text
    assert "Pas d'assurance cyber <i>souscrite</i>." in french_text


def test_emoji_right_to_left_long_and_empty_text_render_without_error(french_text):
    # DejaVu draws 😀 (extracted intact); 🔐 has no DejaVu glyph: its code point is printed, never a blank box.
    assert "emoji 😀[U+1F510] dans le titre" in french_text
    assert "\x00" not in french_text
    # Arabic is printed joined (contextual forms); the PDF draws right-to-left text in display order
    # (tests/test_dossier_text.py), which the text extractor turns back into reading order.
    assert reshape("مرحبا بالعالم") in french_text
    assert "שלום עולם" in french_text
    start = LONG_PARAGRAPH[:60]
    assert start in french_text
    assert french_text.count("répété pour tester la pagination") > 100
    assert "Vide" in french_text


def test_accented_french_and_the_euro_sign_are_extracted_intact(french_text):
    assert EURO_LINE in french_text
    assert "Accusé de réception CNIL" in french_text
    assert "Évaluation de la gravité et décisions" in french_text


def test_summary_follows_the_cnil_form_order(french):
    texts = _texts(_reader(french.pdf))
    start = next(i for i, t in enumerate(texts) if i > 1 and words("s1", "fr") in _flat(t))
    end = next(i for i, t in enumerate(texts) if i > start and words("s2", "fr") in _flat(t))
    summary = _flat(" ".join(texts[start:end]))
    order = [
        "filing_type",
        "siren",
        "dpo",
        "nature",
        "first_signal_at",
        "occurred_from",
        "ongoing",
        "origin",
        "circumstances",
        "cause",
        "s1_processors",
        "subject_categories",
        "persons_approx",
        "data_categories",
        "likely_consequences",
        "measures_immediate",
        "persons_informed",
    ]
    positions = [summary.index(words(key, "fr")) for key in order]
    assert positions == sorted(positions)
    assert "Notification initiale — 03/02/2024 10:00 — CNIL-2024-0042" in summary
    assert "Numéro de sécurité sociale (NIR)" in summary


def test_obligations_filings_decisions_communications_and_evidence_are_reported(case, french_text):
    assert "Notification de la violation à la CNIL (art. 33(1) RGPD) [GDPR_33_1]" in french_text
    # The obligation status in the words of the case page (`deadlines.STATUS_LABELS`).
    assert "Fait à temps" in french_text
    assert "Fait en retard" in french_text and "Envoi groupé avec l'imprimeur." in french_text
    assert "CNIL-2024-0042" in french_text
    assert "Risque élevé pour les adhérents." in french_text
    assert "Madame, Monsieur, vos données ont été consultées" in french_text
    assert case.evidence.get().sha256[:20] in french_text.replace(" ", "")
    assert _flat(words("controllers_none", "fr")) in french_text  # the extracted text has plain spaces


def test_change_history_lists_field_level_diffs_with_who_and_why(french_text):
    assert "Chaîne intègre" in french_text
    # The awareness time moved from 18:00 to 17:40 (Paris), with its reason and author.
    assert "01/02/2024 18:00:00 01/02/2024 17:40:00 Heure corrigée après analyse des journaux." in french_text
    assert "dpo" in french_text and "juriste" in french_text


def test_a_tampered_history_is_reported_broken(case, french):
    from django.db import connection

    from cases.history import drop_trigger_statements
    from cases.models import BreachCase

    table = BreachCase.history.model._meta.db_table
    with connection.cursor() as cursor:
        for statement in drop_trigger_statements(connection.vendor, table):
            cursor.execute(statement)
        cursor.execute(f"UPDATE {table} SET title = %s WHERE id = %s", ["Titre réécrit", case.pk])  # noqa: S608
    text = _flat(" ".join(_texts(_reader(build_dossier(case, generated_at=GENERATED_AT)))))
    assert "CHAÎNE ROMPUE" in text
    assert "Chaîne intègre" not in text


def test_metadata_title_author_subject_and_language(case, french):
    reader = _reader(french.pdf)
    meta = reader.metadata
    assert meta.title == f"Dossier de violation de données personnelles {case.reference}"
    assert meta.author == "Mutuelle Exemple"
    assert case.reference in meta.subject and "<b>tiers payant</b>" in meta.subject
    assert reader.trailer["/Root"]["/Lang"] == "fr-FR"
    assert meta.creation_date == GENERATED_AT


def test_the_same_data_and_time_give_byte_identical_files(case, french):
    again = build_dossier(case, generated_at=GENERATED_AT, generated_by="Auditrice Éloïse")
    assert again == french.pdf
    later = build_dossier(case, generated_at=datetime(2024, 3, 2, tzinfo=UTC), generated_by="Auditrice Éloïse")
    assert later != french.pdf


def test_english_on_request_with_the_same_data_hash(case, french):
    english = render_dossier(case, lang="en", generated_at=GENERATED_AT)
    reader = _reader(english.pdf)
    text = _flat(" ".join(_texts(reader)))
    assert english.data_hash == french.data_hash
    for key in SECTIONS:
        assert words(key, "en") in _outline_titles(reader.outline)
    assert f"Page 1 of {english.pages}" in text
    assert reader.trailer["/Root"]["/Lang"] == "en-GB"
    with pytest.raises(ValueError):
        build_dossier(case, lang="de")


def test_a_minimal_case_with_empty_fields_builds(open_case):
    case = open_case(title="<", aware_justification="&")
    text = _flat(" ".join(_texts(_reader(build_dossier(case, generated_at=GENERATED_AT)))))
    assert "Aucun élément." in text
    assert "Page 1 sur" in text


def test_escaping_helper_neutralises_markup_and_control_characters():
    assert esc("<b>&</b>") == "&lt;b&gt;&amp;&lt;/b&gt;"
    assert esc("a\nb") == "a<br/>b"
    assert esc("") == "—"
    assert esc("x\x00\x07y\ud800") == "xy"


def test_a_processor_case_lists_each_controller_and_when_it_was_informed(make_org, make_user, make_relationship):
    from cases import services
    from cases.models import Organization

    from .conftest import paris

    processor = make_org(name="Opérateur tiers payant", code="otp", kind=Organization.Kind.PROCESSOR)
    user = make_user(processor, "dpo", "dpo-operateur")
    insurers = [make_org(name=f"Assureur {i}", code=f"ass{i}", siren=f"12345678{i}") for i in range(3)]
    case = services.case_open(
        organization=processor,
        title="Intrusion sur le portail des professionnels de santé",
        first_signal_at=paris(2024, 2, 1, 9, 0),
        aware_at=paris(2024, 2, 1, 12, 0),
        aware_justification="Accès frauduleux confirmé.",
        acting_user=user,
    )
    notices = [
        services.controller_add(
            case, relationship=make_relationship(processor, insurer), acting_user=user, notice_period_hours=24
        )
        for insurer in insurers
    ]
    services.controller_inform(
        notices[0], informed_at=paris(2024, 2, 1, 20, 0), channel="Courriel", reference="LET-001", acting_user=user
    )
    text = _flat(" ".join(_texts(_reader(build_dossier(case, generated_at=GENERATED_AT)))))
    assert "1 responsable(s) informé(s) sur 3." in text
    assert all(f"Assureur {i}" in text for i in range(3))
    assert "LET-001" in text and "01/02/2024 20:00" in text
    received = notices[0].receipt
    controller_case = services.received_open_case(
        received, aware_at=received.received_at, acting_user=make_user(insurers[0], "dpo")
    )
    text = _flat(" ".join(_texts(_reader(build_dossier(case, generated_at=GENERATED_AT)))))
    assert controller_case.reference not in text  # the processor never sees the controller's case
    assert "Traitée le" in text

    controller_text = _flat(" ".join(_texts(_reader(build_dossier(controller_case, generated_at=GENERATED_AT)))))
    assert "ouvert sur notification du sous-traitant Opérateur tiers payant" in controller_text


def test_glyph_codes_follow_the_text_not_string_hashing():
    """Subset codes are assigned in order of appearance, so two processes write the same bytes."""
    from reportlab.pdfgen.canvas import Canvas

    from cases.dossier.fonts import REGULAR, register_fonts
    from cases.dossier.grid import _Encoder

    register_fonts()
    encoder = _Encoder(REGULAR, Canvas(io.BytesIO())._doc)
    ((subset, encoded),) = encoder.runs("éàüœ€ŷ")
    codes = [ord(c) for c in encoded]
    assert subset == 0 and codes == sorted(codes) and len(set(codes)) == 6
