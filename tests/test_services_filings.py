"""What was sent (filings, communications to persons) and the proof kept (evidence files)."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile

from cases import services
from cases.models import BreachCase, Evidence, Filing, MemberCommunication, Obligation
from tests.conftest import paris, zip_bytes

AWARE = paris(2024, 2, 1, 18, 0)
HIGH_RISK = {
    "data_categories": ["identity", "nir", "insurance"],
    "severity_ei": Decimal("1"),
    "severity_cb_confidentiality": Decimal("0.5"),
    "severity_cb_malicious": True,
}
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


# --- filings ----------------------------------------------------------------------------------


def test_a_filing_naming_its_obligation_completes_it(open_case, dpo):
    case = open_case()
    cnil = case.obligations.get(rule_code="GDPR_33_1")
    sent = AWARE + timedelta(hours=30)
    filing = services.filing_record(
        case,
        kind=Filing.Kind.CNIL_INITIAL,
        sent_at=sent,
        obligation=cnil,
        reference=" CNIL-2024-0042 ",
        channel="téléservice",
        content="Art. 33(3) summary",
        acting_user=dpo,
    )
    cnil.refresh_from_db()
    assert cnil.state == Obligation.State.DONE
    assert (cnil.completed_at, cnil.reference, cnil.completed_by) == (sent, "CNIL-2024-0042", dpo)
    assert filing.obligation == cnil and filing.reference == "CNIL-2024-0042"
    assert filing.history.get().history_user == dpo
    # The complementary notification's clock starts with the initial one.
    assert case.obligations.get(rule_code="GDPR_33_4").due_at == sent + timedelta(hours=72)


def test_a_filing_may_stand_alone(open_case, dpo):
    case = open_case()
    filing = services.filing_record(case, kind=Filing.Kind.OTHER, sent_at=AWARE, acting_user=dpo)
    assert filing.obligation is None
    assert case.obligations.filter(state=Obligation.State.DONE).count() == 0


def test_a_filing_cannot_complete_another_case_s_obligation(open_case, dpo):
    case, other = open_case(), open_case()
    with pytest.raises(ValidationError) as exc:
        services.filing_record(
            case,
            kind=Filing.Kind.CNIL_INITIAL,
            sent_at=AWARE,
            obligation=other.obligations.get(rule_code="GDPR_33_1"),
            acting_user=dpo,
        )
    assert "obligation" in exc.value.message_dict
    assert not Filing.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "fax"}, "kind"),
        ({"sent_at": paris(2024, 1, 1)}, "sent_at"),
        ({"sent_at": paris(2099, 1, 1)}, "sent_at"),
    ],
)
def test_invalid_filings_are_refused(open_case, dpo, kwargs, field):
    case = open_case()
    values = {"kind": Filing.Kind.OTHER, "sent_at": AWARE} | kwargs
    with pytest.raises(ValidationError) as exc:
        services.filing_record(case, acting_user=dpo, **values)
    assert field in exc.value.message_dict


# --- evidence ---------------------------------------------------------------------------------


def test_evidence_keeps_its_sha256_size_and_sniffed_type(open_case, dpo, media_root):
    case = open_case()
    upload = SimpleUploadedFile("Récépissé plainte.pdf", PDF, content_type="text/html")
    evidence = services.evidence_add(case, uploaded_file=upload, description="Récépissé", acting_user=dpo)
    evidence.refresh_from_db()
    assert evidence.sha256 == hashlib.sha256(PDF).hexdigest()
    assert evidence.size == len(PDF)
    assert evidence.content_type == "application/pdf"  # from the bytes, not the browser's claim
    assert evidence.original_name == "Récépissé plainte.pdf"
    assert evidence.uploaded_by == dpo


def test_evidence_is_stored_under_a_generated_name(open_case, dpo, media_root):
    case = open_case()
    upload = SimpleUploadedFile("../../etc/passwd.pdf", PDF)
    evidence = services.evidence_add(case, uploaded_file=upload, acting_user=dpo)
    stored = Path(evidence.file.name)
    assert "passwd" not in evidence.file.name and ".." not in evidence.file.name
    assert stored.name.startswith(evidence.sha256[:16]) and stored.suffix == ".pdf"
    files = stored_files(media_root)
    assert len(files) == 1 and files[0].read_bytes() == PDF
    assert files[0].is_relative_to(media_root)


def test_oversized_evidence_is_refused(open_case, dpo, settings, media_root):
    settings.EVIDENCE_MAX_BYTES = 64
    case = open_case()
    with pytest.raises(ValidationError) as exc:
        services.evidence_add(case, uploaded_file=SimpleUploadedFile("big.pdf", PDF + b"x" * 64), acting_user=dpo)
    assert "file" in exc.value.message_dict
    assert not Evidence.objects.exists() and not stored_files(media_root)


def test_a_file_lying_about_its_size_is_measured(open_case, dpo, settings, media_root):
    settings.EVIDENCE_MAX_BYTES = 64
    case = open_case()
    content = PDF + b"x" * 100
    liar = InMemoryUploadedFile(io.BytesIO(content), "file", "small.pdf", "application/pdf", 10, None)
    with pytest.raises(ValidationError):
        services.evidence_add(case, uploaded_file=liar, acting_user=dpo)
    assert not Evidence.objects.exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("invoice.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"),  # Windows executable
        ("invoice.pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 9),  # Linux executable
        ("invoice.pdf", zip_bytes({"payload.exe": b"MZ"})),  # zip renamed .pdf
        ("scan.png", PDF),  # PDF renamed .png
        ("notes.txt", b"#!/bin/sh\nrm -rf /\n"),  # script renamed .txt
        ("letter.docx", zip_bytes({"payload.exe": b"MZ"})),  # zip renamed .docx
        ("empty.pdf", b""),
    ],
)
def test_disguised_or_refused_types_are_rejected(open_case, dpo, media_root, name, content):
    case = open_case()
    with pytest.raises(ValidationError) as exc:
        services.evidence_add(case, uploaded_file=SimpleUploadedFile(name, content), acting_user=dpo)
    assert "file" in exc.value.message_dict
    assert not Evidence.objects.exists() and not stored_files(media_root)


def test_a_real_office_document_is_accepted(open_case, dpo):
    case = open_case()
    docx = zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
    evidence = services.evidence_add(case, uploaded_file=SimpleUploadedFile("Lettre.docx", docx), acting_user=dpo)
    assert evidence.content_type.endswith("wordprocessingml.document")
    assert evidence.file.name.endswith(".docx")


def test_evidence_is_immutable_once_stored(open_case, dpo):
    evidence = services.evidence_add(open_case(), uploaded_file=SimpleUploadedFile("a.pdf", PDF), acting_user=dpo)
    evidence.description = "changed"
    with pytest.raises(Exception, match="immutable"):
        services.common.save(evidence, acting_user=dpo, reason="tamper")


# --- communications to persons ----------------------------------------------------------------


def test_a_communication_sent_completes_the_art_34_duty(open_case, dpo):
    case = open_case(**HIGH_RISK)
    sent = AWARE + timedelta(hours=20)
    communication = services.member_communication_record(
        case,
        channel=MemberCommunication.Channel.LETTER,
        sent_at=sent,
        recipients_count=120_000,
        text="Madame, Monsieur, ... nature, DPO contact, consequences, measures.",
        acting_user=dpo,
    )
    ob = case.obligations.get(rule_code="GDPR_34")
    assert ob.state == Obligation.State.DONE and ob.completed_at == sent
    assert communication.recipients_count == 120_000


def test_a_communication_sent_must_keep_its_text(open_case, dpo):
    case = open_case(**HIGH_RISK)
    with pytest.raises(ValidationError) as exc:
        services.member_communication_record(
            case, channel="letter", sent_at=AWARE + timedelta(hours=2), recipients_count=10, acting_user=dpo
        )
    assert "text" in exc.value.message_dict
    assert case.obligations.get(rule_code="GDPR_34").state == Obligation.State.PENDING
    assert not MemberCommunication.objects.exists()


def test_a_late_communication_needs_a_reason(open_case, dpo):
    case = open_case(**HIGH_RISK)
    late = AWARE + timedelta(days=5)
    with pytest.raises(ValidationError) as exc:
        services.member_communication_record(
            case, channel="email", sent_at=late, recipients_count=10, text="Letter.", acting_user=dpo
        )
    assert "late_reason" in exc.value.message_dict
    assert not MemberCommunication.objects.exists()
    services.member_communication_record(
        case,
        channel="email",
        sent_at=late,
        recipients_count=10,
        text="Letter.",
        late_reason="Address file.",
        acting_user=dpo,
    )
    assert case.obligations.get(rule_code="GDPR_34").state == Obligation.State.DONE


def test_not_communicating_needs_an_exemption_and_its_reasoning(open_case, dpo):
    case = open_case(**HIGH_RISK)
    with pytest.raises(ValidationError) as exc:
        services.member_communication_record(case, channel="none", acting_user=dpo)
    assert {"exemption", "exemption_reason"} <= exc.value.message_dict.keys()

    services.member_communication_record(
        case,
        channel="none",
        exemption=BreachCase.Art34Exemption.UNINTELLIGIBLE,
        exemption_reason="Data encrypted, key safe.",
        acting_user=dpo,
    )
    ob = case.obligations.get(rule_code="GDPR_34")
    assert ob.state == Obligation.State.NOT_APPLICABLE
    assert "Data encrypted" in ob.not_applicable_reason and ob.decided_by == dpo


def test_a_communication_on_a_case_without_the_duty_is_just_recorded(open_case, dpo):
    case = open_case()
    services.member_communication_record(
        case, channel="portal", sent_at=AWARE + timedelta(hours=1), recipients_count=0, text="Banner.", acting_user=dpo
    )
    assert MemberCommunication.objects.count() == 1
    assert not case.obligations.filter(rule_code="GDPR_34").exists()
