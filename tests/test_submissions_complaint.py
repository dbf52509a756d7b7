"""The criminal complaint drafted, reviewed (four eyes) and sent from the register (issue 12): the letter
to the public prosecutor (with its PDF) or the record of a complaint lodged at a police station."""

from __future__ import annotations

import hashlib
import io
import json
import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import services
from cases.models import Filing, Membership, Obligation, Organization, Submission
from cases.services.submissions import submission_missing
from tests.conftest import paris
from tests.filing_helpers import downloaded_before_and_after_sending

AWARE = paris(2024, 2, 1, 18, 0)
FACTS = {
    "first_signal_source": "Alerte de l'EDR sur le serveur de fichiers.",
    "occurred_from": paris(2024, 1, 30, 8, 0),
    "origin": "hacking",
    "cause": "external_malicious",
    "breach_confidentiality": True,
    "description": "Chiffrement des serveurs par un rançongiciel, exfiltration revendiquée.",
    "subject_categories": ["members"],
    "persons_approx": 12_000,
    "data_categories": ["identity", "nir"],
}


@pytest.fixture(autouse=True)
def _english():
    from django.utils import translation

    translation.activate("en")


@pytest.fixture
def plaintiff(make_org):
    return make_org(
        name="Mutuelle Plaignante",
        code="mutpl",
        kind=Organization.Kind.CONTROLLER,
        siren="123456789",
        address="1 rue de la Paix\n75002 Paris",
        dpo_name="Claire Martin",
        dpo_email="dpo@mutpl.example",
        legal_rep_name="Jean Durand",
        legal_rep_title="Directeur général",
        legal_rep_email="dg@mutpl.example",
        has_cyber_insurance=True,
    )


@pytest.fixture
def people(plaintiff, make_user):
    return {
        "dpo": make_user(plaintiff, Membership.Role.DPO, "pl-dpo"),
        "legal": make_user(plaintiff, Membership.Role.LEGAL, "pl-legal"),
        "auditor": make_user(plaintiff, Membership.Role.AUDITOR, "pl-auditor"),
        "admin": make_user(plaintiff, Membership.Role.ADMIN, "pl-admin"),
    }


@pytest.fixture
def case(plaintiff, people, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = services.case_open(
        organization=plaintiff,
        title="Rançongiciel",
        first_signal_at=paris(2024, 2, 1, 9, 0),
        aware_at=AWARE,
        aware_justification="Note de rançon.",
        acting_user=people["dpo"],
        **FACTS,
    )
    services.timeline_event_add(
        case, occurred_at=paris(2024, 2, 1, 10, 0), title="Serveurs isolés du réseau", acting_user=people["dpo"]
    )
    services.evidence_add(
        case,
        uploaded_file=SimpleUploadedFile("journaux.txt", b"logs"),
        description="Journaux du pare-feu",
        acting_user=people["dpo"],
    )
    return case


def complaint(case) -> Obligation:
    return case.obligations.get(rule_code="COMPLAINT_INSURANCE")


def draft(case, user, kind="") -> Submission:
    return services.submission_draft(case, obligation=complaint(case), kind=kind, acting_user=user)


def missing_keys(sub) -> list[str]:
    return [f"{s.key}.{f.key}" for s, f in submission_missing(sub)]


def complete(sub, user) -> Submission:
    return services.submission_edit(
        sub,
        content={
            "addressee": {"court": "Paris"},
            "impact": {"systems": "Serveur de fichiers, messagerie"},
            "prejudice": {"losses": "Arrêt de l'activité deux jours ; 40 000 € de remise en état."},
        },
        acting_user=user,
        expected_version=sub.version,
    )


def approved(case, people) -> Submission:
    sub = complete(draft(case, people["dpo"]), people["dpo"])
    sub = services.submission_submit_for_review(sub, acting_user=people["dpo"])
    return services.submission_approve(sub, comment="Relu.", acting_user=people["legal"])


# --- drafting ---------------------------------------------------------------------------------


def test_a_letter_to_the_prosecutor_is_prefilled_from_the_case_facts_in_order_and_evidence_with_hashes(case, people):
    sub = draft(case, people["dpo"])
    assert (sub.kind, sub.state) == (Submission.Kind.COMPLAINT_PROSECUTOR, Submission.State.DRAFT)
    c = sub.content
    assert c["complainant"]["organization"] == "Mutuelle Plaignante"
    assert c["complainant"]["representative"] == "Jean Durand, Directeur général"
    chronology = c["facts"]["chronology"].splitlines()
    # The case's key times and its timeline, in chronological order.
    assert [line[:16] for line in chronology] == [
        "30/01/2024 08:00",
        "01/02/2024 09:00",
        "01/02/2024 10:00",
        "01/02/2024 18:00",
    ]
    assert "Serveurs isolés du réseau" in chronology[2] and "Alerte de l'EDR" in chronology[1]
    evidence = case.evidence.get()
    assert c["evidence"]["evidence"].startswith("journaux.txt — Journaux du pare-feu — SHA-256 " + evidence.sha256)
    assert c["impact"]["persons"].endswith("about 12\u00a0000 persons")
    # What the case cannot know is listed as missing; the rest is answered.
    assert missing_keys(sub) == ["addressee.court", "impact.systems", "prejudice.losses"]
    sub = complete(sub, people["dpo"])
    assert missing_keys(sub) == []


def test_a_draft_from_a_case_with_missing_facts_lists_what_is_missing(open_case, dpo):
    case = open_case()  # an organisation without cyber-insurance: the general complaint, no deadline
    ob = case.obligations.get(rule_code="COMPLAINT_GENERAL")
    sub = services.submission_draft(case, obligation=ob, acting_user=dpo)
    assert sub.kind == Submission.Kind.COMPLAINT_PROSECUTOR
    assert missing_keys(sub) == [
        "complainant.siren",
        "complainant.address",
        "complainant.representative",
        "complainant.contact",
        "addressee.court",
        "facts.description",
        "facts.origin",
        "impact.systems",
        "impact.data",
        "impact.persons",
        "prejudice.losses",
        "evidence.evidence",
    ]


def test_the_record_of_a_complaint_at_a_station_asks_for_the_station_date_and_receipt_number(case, people):
    sub = draft(case, people["dpo"], kind=Submission.Kind.COMPLAINT_STATION)
    assert sub.kind == Submission.Kind.COMPLAINT_STATION
    assert "addressee" not in sub.content
    assert missing_keys(sub) == [
        "station.station",
        "station.lodged_at",
        "station.receipt_number",
        "impact.systems",
        "prejudice.losses",
    ]
    with pytest.raises(ValidationError) as exc:
        services.submission_draft(case, obligation=complaint(case), kind="cnil_initial", acting_user=people["dpo"])
    assert "kind" in exc.value.message_dict


def test_the_complaint_kinds_fulfil_only_the_complaint_obligations(case, people):
    cnil = case.obligations.get(rule_code="GDPR_33_1")
    with pytest.raises(ValidationError) as exc:
        services.submission_draft(
            case, obligation=cnil, kind=Submission.Kind.COMPLAINT_PROSECUTOR, acting_user=people["dpo"]
        )
    assert "kind" in exc.value.message_dict
    assert not case.submissions.exists()


# --- review -----------------------------------------------------------------------------------


def test_the_author_cannot_approve_the_complaint(case, people):
    sub = complete(draft(case, people["admin"]), people["admin"])
    sub = services.submission_submit_for_review(sub, acting_user=people["admin"])
    with pytest.raises(ValidationError, match="another person must approve"):
        services.submission_approve(sub, comment="", acting_user=people["admin"])
    sub.refresh_from_db()
    assert sub.state == Submission.State.IN_REVIEW and sub.approved_by is None


def test_an_edit_after_approval_reopens_the_review(case, people):
    sub = approved(case, people)
    sub = services.submission_edit(
        sub,
        content={"suspects": {"suspects": "Groupe LockBit (note de rançon)"}},
        acting_user=people["dpo"],
        expected_version=sub.version,
    )
    assert sub.state == Submission.State.IN_REVIEW and sub.approved_by is None
    with pytest.raises(ValidationError, match="approved notification"):
        services.submission_mark_sent(sub, sent_at=AWARE + timedelta(hours=20), acting_user=people["dpo"])


# --- sending ----------------------------------------------------------------------------------


def test_sending_freezes_the_content_and_hash_keeps_the_receipt_and_completes_the_obligation(case, people):
    sub = approved(case, people)
    receipt = services.evidence_add(
        case, uploaded_file=SimpleUploadedFile("recepisse.pdf", b"%PDF-1.4\n%%EOF\n"), acting_user=people["dpo"]
    )
    sent_at = AWARE + timedelta(hours=30)
    sub = services.submission_mark_sent(
        sub,
        sent_at=sent_at,
        channel="LRAR",
        recipient="Procureur de la République de Paris",
        authority_reference="PV 2024/001234",
        receipt=receipt,
        acting_user=people["dpo"],
        expected_version=sub.version,
    )
    canonical = json.dumps(sub.content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert sub.content_sha256 == hashlib.sha256(canonical).hexdigest()
    assert (sub.state, sub.receipt, sub.authority_reference) == (Submission.State.SENT, receipt, "PV 2024/001234")
    ob = complaint(case)
    assert (ob.state, ob.completed_at) == (Obligation.State.DONE, sent_at)
    filing = Filing.objects.get(submission=sub)
    assert (filing.kind, filing.evidence, filing.obligation) == (Filing.Kind.COMPLAINT, receipt, ob)
    with pytest.raises(ValidationError, match="kept exactly as sent"):
        services.submission_edit(sub, content={"suspects": {"suspects": "x"}}, acting_user=people["dpo"])
    sub.refresh_from_db()
    assert sub.content_sha256 == hashlib.sha256(canonical).hexdigest()


def test_a_station_complaint_is_recorded_with_its_receipt_number(case, people):
    sub = draft(case, people["dpo"], kind=Submission.Kind.COMPLAINT_STATION)
    sub = services.submission_edit(
        sub,
        content={
            "station": {
                "station": "Commissariat du 2e arrondissement",
                "lodged_at": "02/02/2024 11:00",
                "receipt_number": "2024/000123",
            },
            "impact": {"systems": "Serveur de fichiers"},
            "prejudice": {"losses": "Arrêt de l'activité."},
        },
        acting_user=people["dpo"],
        expected_version=sub.version,
    )
    assert missing_keys(sub) == []
    sub = services.submission_submit_for_review(sub, acting_user=people["dpo"])
    sub = services.submission_approve(sub, comment="", acting_user=people["legal"])
    sub = services.submission_mark_sent(
        sub, sent_at=paris(2024, 2, 2, 11, 0), authority_reference="2024/000123", acting_user=people["dpo"]
    )
    assert complaint(case).state == Obligation.State.DONE
    assert Filing.objects.get(submission=sub).kind == Filing.Kind.COMPLAINT


# --- the letter (PDF) and the pages -------------------------------------------------------------


def _pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in reader.pages))


def url(name: str, case, **kwargs) -> str:
    return reverse(f"cases:{name}", kwargs={"reference": case.reference, **kwargs})


def test_the_letter_to_the_prosecutor_is_a_french_pdf_built_from_the_answers(case, people, login):
    sub = approved(case, people)
    client = login(people["auditor"], Client(HTTP_ACCEPT_LANGUAGE="en"))
    page = client.get(sub.get_absolute_url()).content.decode()
    assert url("submission_document", case, submission_id=sub.pk) in page
    response = client.get(url("submission_document", case, submission_id=sub.pk))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    for expected in (
        "Procureur de la République",
        "tribunal judiciaire de Paris",
        "plainte contre X",
        "Mutuelle Plaignante",
        "Jean Durand, Directeur général",
        "Les faits, dans l'ordre chronologique",
        "Serveurs isolés du réseau",
        "Serveur de fichiers, messagerie",
        "40 000 €",
        "journaux.txt",
        "récépissé",
    ):
        assert expected in text, expected
    assert case.evidence.get().sha256[:20] in text.replace(" ", "")


def test_the_station_record_has_no_document_and_the_merge_fields_are_only_for_the_art_34_letter(case, people, login):
    sub = draft(case, people["dpo"], kind=Submission.Kind.COMPLAINT_STATION)
    client = login(people["dpo"], Client(HTTP_ACCEPT_LANGUAGE="en"))
    assert client.get(url("submission_document", case, submission_id=sub.pk)).status_code == 404
    assert client.get(url("submission_merge_fields", case, submission_id=sub.pk)).status_code == 404


def test_the_draft_is_chosen_on_the_start_page_and_sent_on_the_web(case, people, login, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = login(people["dpo"], Client(HTTP_ACCEPT_LANGUAGE="en"))
    ob = complaint(case)
    page = client.get(url("submission_start", case, obligation_id=ob.pk)).content.decode()
    assert 'value="complaint_station"' in page and 'value="complaint_prosecutor"' in page
    response = client.post(
        url("submission_start", case, obligation_id=ob.pk), {"version": ob.version, "kind": "complaint_station"}
    )
    assert response.status_code == 302
    sub = case.submissions.get()
    assert sub.kind == Submission.Kind.COMPLAINT_STATION
    response = client.post(url("submission_start", case, obligation_id=ob.pk), {"version": ob.version, "kind": "x"})
    assert response.status_code == 400 and case.submissions.count() == 1


def test_the_document_costs_the_same_queries_however_much_the_case_holds(
    case, people, login, django_assert_max_num_queries
):
    sub = approved(case, people)
    client = login(people["legal"], Client(HTTP_ACCEPT_LANGUAGE="en"))
    address = url("submission_document", case, submission_id=sub.pk)
    client.get(address)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(address).status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for n in range(5):
        services.timeline_event_add(
            case, occurred_at=AWARE + timedelta(hours=n + 1), title=f"Étape {n}", acting_user=people["dpo"]
        )
    assert count() == before
    print(f"complaint letter PDF queries: {before}")
    with django_assert_max_num_queries(10):
        client.get(address)
    with django_assert_max_num_queries(12):
        client.get(sub.get_absolute_url())


def test_the_letter_downloaded_after_sending_is_byte_for_byte_the_one_mailed(case, people, login, monkeypatch):
    """The letter is downloaded once approved, then mailed, then recorded as sent: the register's copy,
    downloaded any day after, is the very file that was mailed (nothing added to it by the sending)."""
    sub = approved(case, people)
    client = login(people["auditor"], Client(HTTP_ACCEPT_LANGUAGE="en"))
    mailed, later = downloaded_before_and_after_sending(
        client,
        url("submission_document", case, submission_id=sub.pk),
        sub,
        monkeypatch,
        acting_user=people["dpo"],
        sent_at=AWARE + timedelta(hours=30),
        channel="LRAR",
        recipient="Procureur de la République de Paris",
    )
    assert later[:4] in (b"%PDF", b"PK\x03\x04")
    assert hashlib.sha256(later).hexdigest() == hashlib.sha256(mailed).hexdigest()


def test_downloading_a_filing_document_is_written_to_the_security_log_and_never_cached(case, people, login):
    """Like every other export of the case (dossier, evidence, DORA report), the letter to the prosecutor, the
    Art. 34 letter and its merge fields leave a trace of who took them, and no copy in a shared cache."""
    from accounts.models import SecurityEvent

    sub = approved(case, people)
    client = login(people["auditor"], Client(HTTP_ACCEPT_LANGUAGE="en"))
    response = client.get(url("submission_document", case, submission_id=sub.pk))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    exports = SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.EXPORT, user=people["auditor"], organization=case.organization
    )
    assert [e.detail for e in exports] == [f"filing document complaint_prosecutor #{sub.pk} of {case.reference}"]
