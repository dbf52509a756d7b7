"""Dossier and member-letter downloads: any role of the case's organisation, auditors included; 404 elsewhere."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from cases.models import Membership


@pytest.fixture
def case(open_case):
    return open_case()


def _url(case, name="cases:dossier_download", **query) -> str:
    url = reverse(name, kwargs={"reference": case.reference})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _text(response) -> str:
    return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)


def test_an_auditor_of_the_organisation_downloads_the_french_dossier(case, org, make_user, login):
    client = login(make_user(org, Membership.Role.AUDITOR, "auditeur"))
    response = client.get(_url(case))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="dossier-{case.reference}-fr.pdf"'
    text = _text(response)
    assert "Sommaire" in text and "auditeur" in text


def test_english_on_request_and_unknown_languages_refused(case, dpo, login):
    client = login(dpo)
    assert "Contents" in _text(client.get(_url(case, lang="en")))
    assert client.get(_url(case, lang="de")).status_code == 404


def test_a_user_of_another_organisation_gets_404(case, make_org, make_user, login):
    other = make_org(name="Autre mutuelle", code="autre")
    client = login(make_user(other, Membership.Role.ADMIN, "intrus"))
    assert client.get(_url(case)).status_code == 404
    assert client.get(_url(case, "cases:member_letter_download")).status_code == 404


def test_an_inactive_membership_gets_404(case, org, make_user, login):
    user = make_user(org, Membership.Role.AUDITOR, "ancien")
    membership = Membership.objects.get(user=user)
    membership.is_active = False
    from django.db import transaction

    with transaction.atomic():
        membership.save()
    assert login(user).get(_url(case)).status_code == 404


def test_anonymous_users_are_sent_to_log_in(case, client):
    response = client.get(_url(case))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_the_member_letter_downloads_for_the_organisation(case, org, make_user, login):
    client = login(make_user(org, Membership.Role.AUDITOR, "auditeur"))
    response = client.get(_url(case, "cases:member_letter_download"))
    assert response.status_code == 200
    assert len(PdfReader(io.BytesIO(response.content)).pages) == 1
    assert client.post(_url(case, "cases:member_letter_download")).status_code == 405


def test_every_export_is_in_the_security_log(case, org, make_user, login):
    from accounts.models import SecurityEvent

    auditor = make_user(org, Membership.Role.AUDITOR, "auditeur")
    client = login(auditor)
    client.get(_url(case))
    client.get(_url(case, "cases:member_letter_download"))
    exports = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.EXPORT, user=auditor, organization=org)
    details = sorted(exports.values_list("detail", flat=True))
    assert details == [f"dossier {case.reference} (fr)", f"member letter {case.reference}"]


def test_evidence_is_served_only_as_an_attachment_to_members(
    case, org, dpo, make_org, make_user, login, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from cases import services

    settings.MEDIA_ROOT = tmp_path
    evidence = services.evidence_add(
        case, uploaded_file=SimpleUploadedFile("récépissé.pdf", b"%PDF-1.4\n%%EOF\n"), acting_user=dpo
    )
    url = reverse("cases:evidence_download", kwargs={"reference": case.reference, "evidence_id": evidence.pk})
    response = login(make_user(org, Membership.Role.AUDITOR, "auditeur")).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content) == b"%PDF-1.4\n%%EOF\n"
    outsider = login(make_user(make_org(name="Autre", code="autre"), Membership.Role.ADMIN, "intrus"), Client())
    assert outsider.get(url).status_code == 404
    assert not str(evidence.file.path).startswith(str(settings.BASE_DIR / "static"))
