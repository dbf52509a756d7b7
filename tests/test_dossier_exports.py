"""Dossier exports in the background: asked for by any member, built once per data hash, every download logged.

Without a broker (as here) the task runs inline once the request's transaction commits; the
same code runs on a Celery worker (tests/test_background_jobs.py starts real ones).
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import SecurityEvent
from cases import jobs, services, tasks
from cases.dossier.builder import current_data_hash, render_dossier
from cases.models import DossierExport, JobState, Membership
from tests.conftest import paris


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def case(open_case):
    return open_case()


def _urls(case, export=None) -> dict[str, str]:
    urls = {"exports": reverse("cases:dossier_exports", kwargs={"reference": case.reference})}
    if export is not None:
        kwargs = {"reference": case.reference, "export_id": export.pk}
        urls["page"] = reverse("cases:dossier_export", kwargs=kwargs)
        urls["download"] = reverse("cases:dossier_export_download", kwargs=kwargs)
    return urls


def _ask(client, case, lang, capture):
    with capture(execute=True):
        return client.post(_urls(case)["exports"], {"lang": lang})


def test_an_auditor_asks_for_the_dossier_follows_it_and_downloads_it_logged(
    case, org, make_user, login, django_capture_on_commit_callbacks
):
    auditor = make_user(org, Membership.Role.AUDITOR, "auditeur")
    client = login(auditor)
    response = _ask(client, case, "en", django_capture_on_commit_callbacks)
    export = DossierExport.objects.get()
    assert response.status_code == 302 and response["Location"] == _urls(case, export)["page"]
    assert (export.state, export.progress, export.lang, export.requested_by) == (JobState.DONE, 100, "en", auditor)
    assert export.data_hash == current_data_hash(case) and export.pages > 1 and export.attempts == 1

    page = client.get(_urls(case, export)["page"]).content.decode()
    assert _urls(case, export)["download"] in page and export.data_hash in page
    assert 'http-equiv="refresh"' not in page  # only while the build runs

    download = client.get(_urls(case, export)["download"])
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == f'attachment; filename="dossier-{case.reference}-en.pdf"'
    pdf = b"".join(download.streaming_content)
    assert pdf == export.file.open("rb").read() and len(pdf) == export.size
    assert "Contents" in PdfReader(io.BytesIO(pdf)).pages[1].extract_text()
    logged = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.EXPORT, user=auditor, organization=org)
    assert list(logged.values_list("detail", flat=True)) == [f"dossier {case.reference} (en)"]


def test_the_pdf_is_reused_while_the_data_hash_is_unchanged_and_rebuilt_after_a_change(
    case, dpo, login, django_capture_on_commit_callbacks
):
    client = login(dpo)
    _ask(client, case, "fr", django_capture_on_commit_callbacks)
    _ask(client, case, "fr", django_capture_on_commit_callbacks)
    first = DossierExport.objects.get()  # the second request got the PDF already built
    assert first.attempts == 1

    _ask(client, case, "en", django_capture_on_commit_callbacks)  # another language is another PDF
    services.timeline_event_add(case, occurred_at=paris(2024, 2, 2, 10), title="Plateforme coupée", acting_user=dpo)
    _ask(client, case, "fr", django_capture_on_commit_callbacks)
    fr = DossierExport.objects.filter(lang="fr").order_by("pk")
    assert fr.count() == 2
    assert fr[1].data_hash == current_data_hash(case) != fr[0].data_hash
    assert fr[1].file.name != fr[0].file.name and fr[0].file.storage.exists(fr[0].file.name)


def test_an_export_under_way_is_shared_not_queued_twice(case, dpo, make_user, org):
    # No commit here, so the task is never sent: the export stays queued.
    first = services.dossier_export_request(case, lang="fr", acting_user=dpo)
    legal = make_user(org, Membership.Role.LEGAL, "juriste")
    assert services.dossier_export_request(case, lang="fr", acting_user=legal) == first
    assert first.state == JobState.QUEUED and DossierExport.objects.count() == 1


def test_a_pending_export_page_shows_progress_and_reloads_itself(case, dpo, login):
    export = services.dossier_export_request(case, lang="fr", acting_user=dpo)
    export.state, export.progress = JobState.RUNNING, 42
    export.save()
    client = login(dpo)
    page = client.get(_urls(case, export)["page"]).content.decode()
    assert '<progress id="export-progress" max="100" value="42">' in page
    assert '<meta http-equiv="refresh" content="2">' in page
    assert client.get(_urls(case, export)["download"]).status_code == 404  # nothing to download yet


def test_a_bad_language_is_refused_with_400_and_nothing_saved(case, dpo, login):
    client = login(dpo)
    for data in ({}, {"lang": "de"}, {"lang": "x" * 5000}):
        response = client.post(_urls(case)["exports"], data)
        assert response.status_code == 400
        assert 'id="form-errors"' in response.content.decode()
    assert not DossierExport.objects.exists()


def test_another_organisation_gets_404_and_a_non_member_is_refused_by_the_service(
    case, dpo, make_org, make_user, login
):
    export = services.dossier_export_request(case, lang="fr", acting_user=dpo)
    outsider = make_user(make_org(name="Autre", code="autre"), Membership.Role.ADMIN, "intrus")
    client = login(outsider)
    for url in _urls(case, export).values():
        assert client.get(url).status_code == 404
    assert client.post(_urls(case)["exports"], {"lang": "fr"}).status_code == 404
    with pytest.raises(PermissionDenied):
        services.dossier_export_request(case, lang="fr", acting_user=outsider)


def test_the_pages_query_counts_do_not_grow_with_the_exports(
    case, dpo, login, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    client = login(dpo)
    _ask(client, case, "fr", django_capture_on_commit_callbacks)
    export = DossierExport.objects.get()
    with django_assert_max_num_queries(12) as small:
        client.get(_urls(case)["exports"])
    with django_assert_max_num_queries(12) as page:
        client.get(_urls(case, export)["page"])
    for n in range(15):
        DossierExport.objects.create(case=case, lang="en", requested_by=dpo, state=JobState.FAILED)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(_urls(case)["exports"])
    with django_assert_max_num_queries(len(page.captured_queries)):
        client.get(_urls(case, export)["page"])


# --- the task: idempotent, safe to retry, taken over when its worker dies -------------------------------


def test_a_duplicate_message_for_a_finished_export_does_nothing(case, dpo):
    export = services.dossier_export_request(case, lang="fr", acting_user=dpo)
    services.run_dossier_export(export.pk)
    done = DossierExport.objects.get(pk=export.pk)
    services.run_dossier_export(export.pk)
    again = DossierExport.objects.get(pk=export.pk)
    assert (again.attempts, again.finished_at, again.file.name) == (1, done.finished_at, done.file.name)


def test_an_export_whose_worker_died_is_taken_over_once_its_lease_ends(case, dpo):
    export = services.dossier_export_request(case, lang="fr", acting_user=dpo)
    assert jobs.claim(DossierExport, export.pk) is not None  # a worker takes it ...
    # ... leaves a partial file, and dies: its lease is not renewed.
    storage = export.file.storage
    partial = f"exports/{case.pk}/{current_data_hash(case)}-fr.pdf"
    storage.save(partial, io.BytesIO(b"%PDF-1.7 cut"))
    with pytest.raises(jobs.JobHeld) as held:
        services.run_dossier_export(export.pk)  # the lease still runs: wait
    assert 0 < held.value.retry_in <= 121
    DossierExport.objects.filter(pk=export.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    services.run_dossier_export(export.pk)
    export.refresh_from_db()
    assert (export.state, export.attempts, export.file.name) == (JobState.DONE, 2, partial)
    assert storage.open(partial).read().startswith(b"%PDF-") and storage.size(partial) == export.size > 100


def test_a_worker_that_lost_its_lease_stops_without_overwriting_the_new_owner(case, dpo):
    export = services.dossier_export_request(case, lang="fr", acting_user=dpo)
    stalled = jobs.claim(DossierExport, export.pk)
    DossierExport.objects.filter(pk=export.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    services.run_dossier_export(export.pk)  # another worker takes over and finishes
    with pytest.raises(jobs.ClaimLost):
        stalled.heartbeat(50)
    with pytest.raises(jobs.ClaimLost):
        stalled.finish(file="exports/other.pdf")
    export.refresh_from_db()
    assert export.state == JobState.DONE and export.file.name != "exports/other.pdf"


def test_an_export_that_keeps_crashing_its_worker_is_given_up(case, dpo):
    export = services.dossier_export_request(case, lang="fr", acting_user=dpo)
    DossierExport.objects.filter(pk=export.pk).update(attempts=services.exports.MAX_ATTEMPTS)
    services.run_dossier_export(export.pk)
    export.refresh_from_db()
    assert export.state == JobState.FAILED and "gave up" in export.error


def test_the_sweeper_sends_again_only_the_jobs_whose_worker_or_message_was_lost(case, dpo, make_user, org):
    now = timezone.now()
    lost_message = services.dossier_export_request(case, lang="fr", acting_user=dpo)
    DossierExport.objects.filter(pk=lost_message.pk).update(requested_at=now - timedelta(minutes=10))
    dead_worker = DossierExport.objects.create(
        case=case, lang="en", requested_by=dpo, state=JobState.RUNNING, claimed_until=now - timedelta(seconds=5)
    )
    just_queued = DossierExport.objects.create(case=case, lang="en", requested_by=dpo)
    alive = DossierExport.objects.create(
        case=case, lang="fr", requested_by=dpo, state=JobState.RUNNING, claimed_until=now + timedelta(minutes=1)
    )
    assert tasks.requeue_stale_jobs() == 2  # inline here: both are built now
    states = dict(DossierExport.objects.values_list("pk", "state"))
    assert states[lost_message.pk] == states[dead_worker.pk] == JobState.DONE
    assert states[just_queued.pk] == JobState.QUEUED and states[alive.pk] == JobState.RUNNING


def test_the_layout_reports_its_progress(case):
    seen: list[float] = []
    render_dossier(case, lang="fr", sign=False, progress=seen.append)
    assert len(seen) > 5 and seen == sorted(seen) and seen[0] >= 0 and seen[-1] <= 0.99
