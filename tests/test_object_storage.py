"""Evidence on S3-compatible object storage (a real SeaweedFS started here), shared by several servers.

Uploaded through one application server, downloaded through another, the file comes back with
the same SHA-256: nothing of the evidence stays on an application server's disk. Downloads stay
behind the permission check: the objects are private, and the only way to them is the view.
"""

from __future__ import annotations

import hashlib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from cases import services
from cases.models import DossierExport, Membership
from compliance.settings import object_storage
from tests.processes import Member, production_env, seed_member, serve
from tests.services import seaweedfs

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 400 + b"\n%%EOF\n"


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    with seaweedfs(tmp_path_factory.mktemp("s3")) as server:
        yield server


@pytest.fixture
def on_s3(s3, settings):
    settings.STORAGES = {**settings.STORAGES, "default": object_storage(s3.env())}
    return s3


def _keys(s3) -> set[str]:
    listing = s3.client().list_objects_v2(Bucket=s3.bucket)
    return {item["Key"] for item in listing.get("Contents", [])}


def test_evidence_is_stored_in_the_bucket_and_streamed_back_through_the_checked_view(
    on_s3, open_case, dpo, org, make_org, make_user, login, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "must-stay-empty"
    case = open_case()
    evidence = services.evidence_add(case, uploaded_file=SimpleUploadedFile("récépissé.pdf", PDF), acting_user=dpo)
    assert evidence.file.name in _keys(on_s3)
    assert evidence.sha256 == hashlib.sha256(PDF).hexdigest()
    assert not (tmp_path / "must-stay-empty").exists()

    url = reverse("cases:evidence_download", kwargs={"reference": case.reference, "evidence_id": evidence.pk})
    response = login(make_user(org, Membership.Role.AUDITOR, "auditeur")).get(url)
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment;")
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == evidence.sha256
    outsider = login(make_user(make_org(name="Autre", code="autre"), Membership.Role.ADMIN, "intrus"), Client())
    assert outsider.get(url).status_code == 404
    # The object is private: without the application's credentials, the storage refuses it.
    from urllib.error import HTTPError
    from urllib.request import urlopen

    with pytest.raises(HTTPError) as refused:
        urlopen(f"{on_s3.endpoint}/{on_s3.bucket}/{evidence.file.name}")  # noqa: S310 - loopback
    assert refused.value.code == 403


def test_the_health_check_sees_the_storage_and_its_credentials(s3, settings, db):
    settings.STORAGES = {**settings.STORAGES, "default": object_storage(s3.env())}
    assert Client().get("/health/").json()["checks"]["storage"] == "ok"
    wrong = {**s3.env(), "EVIDENCE_S3_SECRET_ACCESS_KEY": "not-the-secret"}
    settings.STORAGES = {**settings.STORAGES, "default": object_storage(wrong)}
    response = Client().get("/health/")
    assert response.status_code == 503 and response.json()["checks"]["storage"] == "error"


def test_a_dossier_export_is_kept_in_the_bucket(on_s3, open_case, dpo, django_capture_on_commit_callbacks):
    case = open_case()
    with django_capture_on_commit_callbacks(execute=True):
        export = services.dossier_export_request(case, lang="fr", acting_user=dpo)
    export = DossierExport.objects.get(pk=export.pk)
    assert export.file.name in _keys(on_s3)
    assert export.file.open("rb").read().startswith(b"%PDF-")


def test_uploaded_through_one_server_downloaded_through_another_same_sha256(s3, app_database, tmp_path):
    env = production_env(tmp_path, **s3.env(), **app_database)
    member = seed_member(env)
    first, first_url = serve("app-1", env, tmp_path / "logs")
    second, second_url = serve("app-2", {**env, "EVIDENCE_ROOT": str(tmp_path / "evidence-2")}, tmp_path / "logs")
    try:
        browser = Member()
        browser.log_in(first_url, member)
        case_path = f"/cases/{member['reference']}/"
        stored = browser.form(
            f"{first_url}{case_path}evidence/new/", {"description": "Reçu CNIL"}, files={"file": ("recu.pdf", PDF)}
        )
        assert stored.status == 302, stored.text()[:3000]

        # The same session, on the other server: sessions live in the database, files in the bucket.
        page = browser.request(f"{second_url}{case_path}")
        assert page.status == 200
        link = re.search(rf'href="({re.escape(case_path)}evidence/\d+/download/)"', page.text())
        assert link, "the evidence is listed on the second server"
        download = browser.request(second_url + link.group(1))
        assert download.status == 200
        assert hashlib.sha256(download.body).hexdigest() == hashlib.sha256(PDF).hexdigest()
        assert hashlib.sha256(download.body).hexdigest() in page.text()  # the SHA-256 recorded at upload

        for url in (first_url, second_url):
            assert browser.request(f"{url}/health/").text().count('"ok"') == 3  # status, database, storage
        assert not any((tmp_path / folder).exists() for folder in ("evidence", "evidence-2"))
        assert len([k for k in _keys(s3) if k.startswith("evidence/")]) >= 1
        # Without a session, the download is refused on either server (the login page, as everywhere).
        anonymous = Member().request(second_url + link.group(1))
        assert anonymous.status == 302 and "/accounts/login/" in anonymous.headers["Location"]
    finally:
        first.stop()
        second.stop()
