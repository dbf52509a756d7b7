"""Background jobs on real Celery workers and a real broker: the dossier export from the page (Redis),
and a worker killed in the middle of a build that loses nothing (Redis and RabbitMQ).

The workers, the web server and this test share one committed database (`app_database`) and one
broker (found or started by tests/services.py), each test on a queue of its own.
"""

from __future__ import annotations

import json
import re
import signal
import time

import pytest

from tests.processes import Member, manage, production_env, query, seed_member, serve, worker
from tests.services import rabbitmq_broker, redis_broker, unique_queue


@pytest.fixture
def broker(tmp_path):
    with redis_broker(tmp_path / "logs") as url:
        yield url


@pytest.fixture(params=["redis", "rabbitmq"])
def any_broker(request, tmp_path):
    """Each broker the deployment guide names: Redis redelivers after its visibility timeout, RabbitMQ at once."""
    finder = redis_broker(tmp_path / "logs") if request.param == "redis" else rabbitmq_broker()
    with finder as url:
        yield url


def _env(tmp_path, broker, app_database, **extra) -> dict[str, str]:
    return production_env(tmp_path, CELERY_BROKER_URL=broker, CELERY_QUEUE=unique_queue(), **app_database, **extra)


def _export(env, export_id: int) -> dict:
    row = query(
        env, "SELECT state, progress, attempts, file, data_hash FROM cases_dossierexport WHERE id = ?", (export_id,)
    )
    return dict(zip(("state", "progress", "attempts", "file", "data_hash"), row[0], strict=True))


def _wait(condition, what: str, *processes, timeout: float = 240, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    logs = "\n".join(f"--- {p.name}:\n{p.output()}" for p in processes)
    raise AssertionError(f"timed out waiting for {what}\n{logs}")


def test_a_worker_builds_the_export_and_the_page_sees_it_finish(tmp_path, broker, app_database):
    env = _env(tmp_path, broker, app_database)
    member = seed_member(env)
    web, url = serve("web", env, tmp_path / "logs")
    the_worker = worker("worker", env, tmp_path / "logs")
    try:
        browser = Member()
        browser.log_in(url, member)
        health = json.loads(browser.request(f"{url}/health/").body)
        assert health["checks"]["broker"] == "ok"

        dossier = f"{url}/cases/{member['reference']}/dossier/"
        asked = browser.form(dossier, {"lang": "fr"})
        assert asked.status == 302, asked.text()[:2000]
        page_url = url + asked.headers["Location"]
        first = browser.request(page_url).text()
        # Sent to the worker, not built in the request: the page says where it stands and reloads itself.
        assert 'data-state="queued"' in first or 'data-state="running"' in first or 'data-state="done"' in first

        def finished() -> str | None:
            page = browser.request(page_url).text()
            return page if 'data-state="done"' in page else None

        page = _wait(finished, "the page to show the dossier ready", web, the_worker, every=0.5)
        assert 'http-equiv="refresh"' not in page
        link = re.search(r'id="export-download" href="([^"]+)"', page).group(1)
        pdf = browser.request(url + link)
        assert pdf.status == 200 and pdf.body.startswith(b"%PDF-")
        assert "succeeded" in the_worker.output() and "build_dossier_export" in the_worker.output()
        logged = query(env, "SELECT detail FROM accounts_securityevent WHERE kind = 'export'")
        assert logged == [(f"dossier {member['reference']} (fr)",)]
    finally:
        the_worker.stop()
        web.stop()


REQUEST_BIG_EXPORT = """
from django.db import transaction
from cases import services
from cases.management.commands.bench_dossier import populate
from cases.models import BreachCase

populate(history={history}, events=200, evidence=50)
case = BreachCase.objects.get()
with transaction.atomic():  # the message is sent when this commits
    export = services.dossier_export_request(case, lang="fr", acting_user=case.created_by)
print(export.pk)
"""


def test_a_worker_killed_in_the_middle_of_an_export_loses_nothing(tmp_path, any_broker, app_database):
    # A short lease and visibility timeout, so the test need not wait the production hour.
    env = _env(tmp_path, any_broker, app_database, JOB_LEASE_SECONDS="3", CELERY_VISIBILITY_TIMEOUT="6")
    export_id = int(manage("shell", "-c", REQUEST_BIG_EXPORT.format(history=5000), env=env).split()[-1])
    assert _export(env, export_id)["state"] == "queued"

    doomed = worker("doomed", env, tmp_path / "logs")
    try:
        _wait(lambda: _export(env, export_id)["state"] == "running", "the first worker to start", doomed)
    finally:
        doomed.stop(signal.SIGKILL)  # the whole worker, its child included, with no chance to tidy up
    killed = _export(env, export_id)
    assert killed["state"] == "running" and killed["attempts"] == 1 and killed["progress"] < 100

    survivor = worker("survivor", env, tmp_path / "logs")
    try:
        done = _wait(
            lambda: (row := _export(env, export_id))["state"] == "done" and row, "the export to finish", survivor
        )
    finally:
        survivor.stop()
    # The message came back (acks late), the second worker took the job over once the lease ended.
    assert done["attempts"] == 2 and done["progress"] == 100
    assert re.fullmatch(rf"exports/\d+/{done['data_hash']}-fr.pdf", done["file"])
    stored = tmp_path / "evidence" / done["file"]
    assert stored.read_bytes().startswith(b"%PDF-") and stored.read_bytes().rstrip().endswith(b"%%EOF")
    assert query(env, "SELECT COUNT(*) FROM cases_dossierexport") == [(1,)]
    assert "verified" in manage("verify_history", env=env)
