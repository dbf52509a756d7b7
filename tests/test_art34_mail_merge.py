"""The Art. 34 letter to the persons, drafted from the case, checked against Art. 34(2), reviewed, produced
as a DOCX template for mail merge (the register stores no identities), and sent as the communication
to the persons that completes the Art. 34 obligation (issue 12)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import services
from cases.dossier.submission_documents import art34_text
from cases.filings.art34 import MERGE_FIELD_NAMES
from cases.models import Filing, MemberCommunication, Membership, Obligation, Organization, Submission
from cases.services.submissions import submission_missing
from tests.conftest import paris
from tests.filing_helpers import downloaded_before_and_after_sending

AWARE = paris(2024, 2, 1, 18, 0)
FACTS = {
    "occurred_from": paris(2024, 1, 12, 8, 0),  # the start, long before the discovery
    "origin": "credential_theft",
    "breach_confidentiality": True,
    "data_categories": ["identity", "nir"],
    "likely_consequences": "Hameçonnage ciblé, usurpation d'identité.",
    "measures_immediate": "Comptes suspendus, mots de passe réinitialisés.",
    "measures_medium": "Double authentification des professionnels.",
}
ART34_ELEMENTS = ("nature.nature", "nature.discovered_on", "contact.dpo", "consequences.consequences")


@pytest.fixture(autouse=True)
def _english(settings, tmp_path):
    from django.utils import translation

    settings.MEDIA_ROOT = tmp_path
    translation.activate("en")


@pytest.fixture
def insurer(make_org):
    return make_org(
        name="Mutuelle Lettre",
        code="mutle",
        kind=Organization.Kind.CONTROLLER,
        address="3 place du Marché\n69001 Lyon",
        dpo_name="Hélène Dupré",
        dpo_email="dpo@mutle.example",
        dpo_phone="01 23 45 67 89",
        legal_rep_name="Jean Durand",
        legal_rep_title="Directeur général",
    )


@pytest.fixture
def people(insurer, make_user):
    return {
        "dpo": make_user(insurer, Membership.Role.DPO, "l-dpo"),
        "legal": make_user(insurer, Membership.Role.LEGAL, "l-legal"),
        "auditor": make_user(insurer, Membership.Role.AUDITOR, "l-auditor"),
        "admin": make_user(insurer, Membership.Role.ADMIN, "l-admin"),
    }


def open_case(insurer, people, **facts):
    case = services.case_open(
        organization=insurer,
        title="Accès frauduleux",
        first_signal_at=paris(2024, 2, 1, 9, 0),
        aware_at=AWARE,
        aware_justification="Logs.",
        acting_user=people["dpo"],
        **facts,
    )
    services.decision_inform_persons(
        case, inform=True, reason="Risque élevé.", exemption="", acting_user=people["legal"]
    )
    return case


@pytest.fixture
def case(insurer, people):
    return open_case(insurer, people, **FACTS)


def art34(case) -> Obligation:
    return case.obligations.get(rule_code="GDPR_34")


def draft(case, user) -> Submission:
    return services.submission_draft(case, obligation=art34(case), acting_user=user)


def approved(case, people) -> Submission:
    sub = services.submission_submit_for_review(draft(case, people["dpo"]), acting_user=people["dpo"])
    return services.submission_approve(sub, comment="Conforme à l'art. 34(2).", acting_user=people["legal"])


def missing_keys(sub) -> list[str]:
    return [f"{s.key}.{f.key}" for s, f in submission_missing(sub)]


def docx(data: bytes):
    from docx import Document

    return Document(io.BytesIO(data))


def merge_fields(document) -> list[str]:
    instructions = [
        el.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}instr")
        for el in document.element.body.iter("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}fldSimple")
    ]
    return [instr.split()[1] for instr in instructions if instr.split()[0] == "MERGEFIELD"]


def text_of(document) -> str:
    """Each paragraph's text, merge fields' placeholders included (python-docx's `text` skips fields)."""
    t = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t"
    return "\n".join("".join(node.text or "" for node in p._p.iter(t)) for p in document.paragraphs)


# --- drafting and the Art. 34(2) check ---------------------------------------------------------


def test_the_letter_is_drafted_in_french_with_every_art_34_2_element_and_dated_from_the_discovery(case, people):
    sub = draft(case, people["dpo"])
    assert sub.kind == Submission.Kind.ART34_LETTER
    assert missing_keys(sub) == []
    c = sub.content
    assert c["nature"]["discovered_on"] == "01/02/2024"  # awareness, not the start on 12/01/2024
    assert "identifiants volés" in c["nature"]["nature"]
    assert c["nature"]["data"] == "identité (nom, adresse, date de naissance), numéro de sécurité sociale (NIR)" or (
        "sécurité sociale" in c["nature"]["data"]
    )
    assert c["contact"]["dpo"] == "Hélène Dupré, dpo@mutle.example, 01 23 45 67 89"
    assert "Méfiez-vous" in c["advice"]["advice"] and "sécurité sociale" in c["advice"]["advice"]
    assert "12/01/2024" not in json.dumps(c, ensure_ascii=False)


def test_missing_art_34_2_elements_are_listed_and_block_approval_and_sending(insurer, people, make_org):
    insurer.dpo_name = insurer.dpo_email = insurer.dpo_phone = ""
    services.common.save(insurer, acting_user=None, reason="test: no DPO contact")
    case = open_case(insurer, people, data_categories=["identity"])
    sub = draft(case, people["dpo"])
    assert missing_keys(sub) == [
        "contact.dpo",
        "consequences.consequences",
        "measures.taken",
    ]
    sub = services.submission_submit_for_review(sub, acting_user=people["dpo"])
    with pytest.raises(ValidationError) as exc:
        services.submission_approve(sub, comment="", acting_user=people["legal"])
    message = " ".join(exc.value.messages)
    assert "is incomplete" in message and "Likely consequences for the person" in message
    assert "Data protection officer or other contact point" in message
    sub.refresh_from_db()
    assert sub.state == Submission.State.IN_REVIEW and sub.version == 2
    # Completed in the draft, it is approved; emptied after approval, it can no longer be sent.
    sub = services.submission_edit(
        sub,
        content={
            "contact": {"dpo": "Service des relations adhérents, 09 00 00 00 00"},
            "consequences": {"consequences": "Risque d'hameçonnage."},
            "measures": {"taken": "Mots de passe réinitialisés."},
        },
        acting_user=people["dpo"],
        expected_version=sub.version,
    )
    sub = services.submission_approve(sub, comment="", acting_user=people["legal"])
    assert sub.state == Submission.State.APPROVED
    # An approved letter lacking an element (as if approved before the check existed) is refused at sending too.
    sub.content = {**sub.content, "advice": {"advice": ""}}
    services.common.save(sub, acting_user=None, reason="test: an element emptied outside the services")
    with pytest.raises(ValidationError, match="What the persons should do"):
        services.submission_mark_sent(
            sub, sent_at=AWARE + timedelta(hours=5), channel="letter", recipients_count=10, acting_user=people["dpo"]
        )
    assert not MemberCommunication.objects.exists() and art34(case).state == Obligation.State.PENDING


# --- review -----------------------------------------------------------------------------------


def test_the_author_cannot_approve_and_an_edit_after_approval_reopens_the_review(case, people):
    sub = services.submission_submit_for_review(draft(case, people["admin"]), acting_user=people["admin"])
    with pytest.raises(ValidationError, match="another person must approve"):
        services.submission_approve(sub, comment="", acting_user=people["admin"])
    sub = services.submission_approve(sub, comment="Vu.", acting_user=people["legal"])
    sub = services.submission_edit(
        sub,
        content={"measures": {"proposed": "Audit externe."}},
        acting_user=people["dpo"],
        expected_version=sub.version,
    )
    assert (sub.state, sub.approved_by) == (Submission.State.IN_REVIEW, None)
    with pytest.raises(ValidationError, match="approved notification"):
        services.submission_mark_sent(
            sub, sent_at=AWARE + timedelta(hours=5), channel="letter", recipients_count=10, acting_user=people["dpo"]
        )


# --- sending: the communication to the persons ---------------------------------------------------


def test_sending_records_the_communication_completes_art_34_and_freezes_the_content(case, people):
    sub = approved(case, people)
    sent_at = AWARE + timedelta(hours=20)
    sub = services.submission_mark_sent(
        sub,
        sent_at=sent_at,
        channel="letter",
        recipients_count=1_200_000,
        recipient="Routeur postal",
        acting_user=people["dpo"],
        expected_version=sub.version,
    )
    canonical = json.dumps(sub.content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert sub.state == Submission.State.SENT and sub.content_sha256 == hashlib.sha256(canonical).hexdigest()
    communication = sub.communication
    assert (communication.channel, communication.sent_at, communication.recipients_count) == (
        "letter",
        sent_at,
        1_200_000,
    )
    assert communication.text == art34_text(sub.content)
    assert "«civilite» «prenom» «nom»" in communication.text and "Le 01/02/2024" in communication.text
    ob = art34(case)
    assert (ob.state, ob.completed_at) == (Obligation.State.DONE, sent_at)
    assert not Filing.objects.exists()  # Art. 34 is completed by the communication, never by a filing
    with pytest.raises(ValidationError, match="kept exactly as sent"):
        services.submission_edit(sub, content={"measures": {"proposed": "x"}}, acting_user=people["dpo"])


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"channel": "none", "recipients_count": 10}, "channel"),
        ({"channel": "pigeon", "recipients_count": 10}, "channel"),
        ({"channel": "letter", "recipients_count": None}, "recipients_count"),
        ({"channel": "letter", "recipients_count": 0}, "recipients_count"),
    ],
)
def test_a_bad_sending_is_refused_with_a_clear_error_and_nothing_saved(case, people, kwargs, key):
    sub = approved(case, people)
    with pytest.raises(ValidationError) as exc:
        services.submission_mark_sent(sub, sent_at=AWARE + timedelta(hours=5), acting_user=people["dpo"], **kwargs)
    assert key in exc.value.message_dict
    sub.refresh_from_db()
    assert sub.state == Submission.State.APPROVED and not MemberCommunication.objects.exists()
    assert art34(case).state == Obligation.State.PENDING


# --- the DOCX template and the merge fields --------------------------------------------------------


def url(name: str, case, **kwargs) -> str:
    return reverse(f"cases:{name}", kwargs={"reference": case.reference, **kwargs})


def test_the_docx_opens_with_its_merge_fields_and_the_art_34_2_elements_dated_from_discovery(case, people, login):
    sub = draft(case, people["dpo"])
    client = login(people["auditor"], Client(HTTP_ACCEPT_LANGUAGE="en"))
    response = client.get(url("submission_document", case, submission_id=sub.pk))
    assert response.status_code == 200
    assert response["Content-Type"].endswith("wordprocessingml.document")
    document = docx(response.content)
    fields = merge_fields(document)
    for name in ("civilite", "nom", "prenom", "adresse", "code_postal", "ville", "numero_adherent", "date_courrier"):
        assert name in fields, name
    assert set(fields) <= set(MERGE_FIELD_NAMES)
    text = text_of(document)
    for expected in (
        "«civilite» «prenom» «nom»",  # the field's placeholder until merged
        "Ce qui s'est passé",
        "Le 01/02/2024, nous avons découvert",  # dated from the discovery
        "identifiants volés",
        "Les conséquences possibles pour vous",
        "Hameçonnage ciblé",
        "Ce que nous avons fait",
        "Comptes suspendus",
        "Ce que nous allons faire",
        "Double authentification",
        "Ce que nous vous conseillons",
        "Méfiez-vous",
        "Hélène Dupré, dpo@mutle.example, 01 23 45 67 89",
        "réclamation à la CNIL",
        "article 34, paragraphe 2",
    ):
        assert expected in text, expected
    assert "12/01/2024" not in text  # never the start of the breach
    assert "Camille" not in text and "Martin" not in text  # no identity, only fields


def test_the_merge_fields_are_listed_on_the_page_and_downloadable(case, people, login):
    sub = draft(case, people["dpo"])
    client = login(people["legal"], Client(HTTP_ACCEPT_LANGUAGE="en"))
    page = client.get(sub.get_absolute_url()).content.decode()
    assert 'id="merge-fields"' in page and "«numero_adherent»" in page
    assert url("submission_merge_fields", case, submission_id=sub.pk) in page
    response = client.get(url("submission_merge_fields", case, submission_id=sub.pk))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["champ", "description", "exemple"]
    assert [r[0] for r in rows[1:]] == list(MERGE_FIELD_NAMES)


def test_the_sent_letter_is_sent_on_the_web_with_its_channel_and_count(case, people, login):
    sub = approved(case, people)
    client = login(people["dpo"], Client(HTTP_ACCEPT_LANGUAGE="en"))
    page = client.get(url("submission_send", case, submission_id=sub.pk)).content.decode()
    assert 'name="recipients_count"' in page
    bad = client.post(
        url("submission_send", case, submission_id=sub.pk),
        {"version": sub.version, "sent_at": "2024-02-02T10:00", "channel": "letter"},
    )
    assert bad.status_code == 400 and not MemberCommunication.objects.exists()
    response = client.post(
        url("submission_send", case, submission_id=sub.pk),
        {"version": sub.version, "sent_at": "2024-02-02T10:00", "channel": "letter", "recipients_count": "1200"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    sub.refresh_from_db()
    assert sub.state == "sent" and sub.communication.recipients_count == 1200
    assert art34(case).state == Obligation.State.DONE


def test_the_pages_cost_the_same_queries_however_much_the_case_holds(
    case, people, login, django_assert_max_num_queries
):
    sub = draft(case, people["dpo"])
    client = login(people["legal"], Client(HTTP_ACCEPT_LANGUAGE="en"))
    addresses = [
        sub.get_absolute_url(),
        url("submission_document", case, submission_id=sub.pk),
        url("submission_merge_fields", case, submission_id=sub.pk),
    ]
    for address in addresses:
        client.get(address)

    def counts() -> list[int]:
        found = []
        for address in addresses:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(address).status_code == 200
            found.append(len(ctx.captured_queries))
        return found

    before = counts()
    for n in range(5):
        services.timeline_event_add(
            case, occurred_at=AWARE + timedelta(hours=n + 1), title=f"Étape {n}", acting_user=people["dpo"]
        )
    assert counts() == before
    print(f"art34 pages queries: {before}")
    for address in addresses:
        with django_assert_max_num_queries(12):
            client.get(address)


def test_the_member_letter_pdf_also_dates_the_breach_from_its_discovery(case):
    import re

    from pypdf import PdfReader

    from cases.dossier.letter import build_member_letter

    reader = PdfReader(io.BytesIO(build_member_letter(case)))
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages))
    assert "Le 01/02/2024, nous avons constaté" in text and "12/01/2024" not in text


def test_the_dossier_prints_the_letter_as_sent_with_its_approval_under_the_communication(case, people):
    import re

    from pypdf import PdfReader

    from cases.dossier.builder import build_dossier

    sub = approved(case, people)
    sub = services.submission_mark_sent(
        sub, sent_at=AWARE + timedelta(hours=20), channel="letter", recipients_count=1200, acting_user=people["dpo"]
    )
    reader = PdfReader(io.BytesIO(build_dossier(case, lang="en")))
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in reader.pages))
    for expected in (
        "Content as sent (annex): Art. 34 letter to the persons (mail merge)",
        "Conforme à l'art. 34(2).",
        "l-legal",
        "Contact point (Art. 33(3)(b)) — Data protection officer or other contact point",
    ):
        assert expected in text, expected
    assert sub.content_sha256[:32] in text.replace(" ", "")


def test_the_letter_downloaded_after_sending_is_byte_for_byte_the_template_sent(case, people, login, monkeypatch):
    """The DOCX handed to the mailing chain once approved and the one downloaded days after it was recorded
    as sent are the same bytes (no build time in the file)."""
    sub = approved(case, people)
    client = login(people["auditor"], Client(HTTP_ACCEPT_LANGUAGE="en"))
    handed, later = downloaded_before_and_after_sending(
        client,
        url("submission_document", case, submission_id=sub.pk),
        sub,
        monkeypatch,
        acting_user=people["dpo"],
        sent_at=AWARE + timedelta(hours=20),
        channel="letter",
        recipients_count=1_200,
    )
    assert later[:4] in (b"%PDF", b"PK\x03\x04")
    assert hashlib.sha256(later).hexdigest() == hashlib.sha256(handed).hexdigest()
