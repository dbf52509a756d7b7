"""API v1: filings and drafted submissions, evidence (upload with SHA-256, download), controller notices;
scoped like the pages, through the same services, with query counts that do not grow with the data."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from cases.models import Evidence, Membership, Organization
from tests.api_support import bearer, issue_token

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"


@pytest.fixture
def api(dpo):
    return bearer(issue_token(dpo)[1])


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _url(case, tail: str) -> str:
    return f"/api/v1/cases/{case.reference}/{tail}"


def test_upload_evidence_then_download_the_same_bytes(api, open_case):
    case = open_case()
    response = api.post(
        _url(case, "evidence/"),
        {"file": SimpleUploadedFile("journal.pdf", PDF), "description": "Export SIEM"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest() and body["size"] == len(PDF)
    assert body["content_type"] == "application/pdf"
    listed = api.get(_url(case, "evidence/")).json()
    assert [e["id"] for e in listed] == [body["id"]]
    download = api.get(_url(case, f"evidence/{body['id']}/"))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["X-Content-SHA256"] == body["sha256"]
    assert "attachment" in download["Content-Disposition"]
    assert Evidence.objects.get().history.first().history_change_reason.endswith(")")  # names the token


def test_bad_uploads_answer_400_and_store_nothing(api, open_case):
    case = open_case()
    for data in ({"file": SimpleUploadedFile("x.exe", b"MZ\x90\x00binary")}, {"description": "no file"}):
        response = api.post(_url(case, "evidence/"), data, format="multipart")
        assert response.status_code == 400, response.content
    assert api.post(_url(case, "evidence/"), {}, format="json").status_code == 400
    assert not Evidence.objects.exists()


def test_read_only_token_and_auditor_cannot_upload(dpo, org, make_user, open_case):
    case = open_case()
    read_only = bearer(issue_token(dpo, read_only=True)[1])
    auditor = bearer(issue_token(make_user(org, Membership.Role.AUDITOR, "aud"))[1])
    for client, status in ((read_only, 403), (auditor, 403)):
        response = client.post(_url(case, "evidence/"), {"file": SimpleUploadedFile("a.pdf", PDF)}, format="multipart")
        assert response.status_code == status
        assert client.get(_url(case, "evidence/")).status_code == 200
    assert not Evidence.objects.exists()


def test_another_organisations_case_and_files_answer_404(api, dpo, make_org, make_user, open_case):
    other = make_org(name="Autre", code="autre")
    theirs = open_case(organization=other, acting_user=make_user(other, Membership.Role.DPO, "o"))
    evidence = services.evidence_add(
        theirs, uploaded_file=SimpleUploadedFile("a.pdf", PDF), acting_user=theirs.created_by
    )
    mine = open_case()
    for tail in ("evidence/", f"evidence/{evidence.pk}/", "filings/", "submissions/", "controller-notices/"):
        assert api.get(_url(theirs, tail)).status_code == 404
    assert api.get(_url(mine, f"evidence/{evidence.pk}/")).status_code == 404  # their file through my case


def test_filings_submissions_and_notices_are_listed(open_case, make_org, make_user, make_relationship):
    processor = make_org(name="Prestataire", code="presta", kind=Organization.Kind.BOTH)
    dpo = make_user(processor, Membership.Role.DPO, "presta-dpo")
    api = bearer(issue_token(dpo)[1])
    case = open_case(organization=processor, acting_user=dpo)
    ob = case.obligations.get(rule_code="GDPR_33_1")
    submission = services.submission_draft(case, obligation=ob, acting_user=dpo)
    services.filing_record(
        case,
        obligation=ob,
        kind="cnil_initial",
        sent_at=ob.anchor_at + timedelta(hours=3),
        reference="CNIL-9",
        acting_user=dpo,
    )
    client_org = make_org(name="Client", code="client")
    services.controller_add(case, relationship=make_relationship(processor, client_org), acting_user=dpo)
    filings = api.get(_url(case, "filings/")).json()
    assert [(f["kind"], f["reference"], f["obligation"]) for f in filings] == [("cnil_initial", "CNIL-9", ob.pk)]
    submissions = api.get(_url(case, "submissions/")).json()
    assert [s["id"] for s in submissions] == [submission.pk]
    detail = api.get(_url(case, f"submissions/{submission.pk}/"))
    assert detail.status_code == 200 and detail.json()["state"] == "draft"
    assert api.get(_url(case, "submissions/999999/")).status_code == 404
    notices = api.get(_url(case, "controller-notices/")).json()
    assert [n["controller_name"] for n in notices] == ["Client"]


def test_list_queries_do_not_grow_with_the_rows(api, dpo, open_case, django_assert_max_num_queries):
    case = open_case()
    tails = ("evidence/", "filings/", "submissions/", "controller-notices/")
    counts = {}
    for tail in tails:
        with django_assert_max_num_queries(20) as captured:
            assert api.get(_url(case, tail)).status_code == 200
        counts[tail] = len(captured.captured_queries)
    for i in range(4):
        services.evidence_add(case, uploaded_file=SimpleUploadedFile(f"{i}.pdf", PDF + bytes([i])), acting_user=dpo)
        services.filing_record(
            case, kind="other", sent_at=case.aware_at + timedelta(hours=i + 1), reference=f"R{i}", acting_user=dpo
        )
    for tail in tails:
        with django_assert_max_num_queries(counts[tail]):
            assert api.get(_url(case, tail)).status_code == 200
