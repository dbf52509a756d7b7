"""In production: the server refuses to start without its secrets, serves hashed static files with long
cache headers and custom error pages with debug off, and answers a health check on its dependencies.

The serving tests run the real production command (`bin/serve`, which `make serve` runs): the
deploy checks, `collectstatic`, then gunicorn on a free loopback port, against a SQLite file of
their own.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess

import pytest
from django.test import Client

from tests.processes import BIN, ROOT, free_port, http, manage, production_env, serve

SERVE = ["bash", "bin/serve"]


def _run_serve(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own script
        SERVE, cwd=ROOT, env={**env, "VENV": str(BIN.parent)}, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "missing", ["DJANGO_SECRET_KEY", "HISTORY_CHAIN_KEY", "HISTORY_CHECKPOINT_KEY_FILE", "DJANGO_ALLOWED_HOSTS"]
)
def test_the_production_command_refuses_to_start_without_its_secrets(missing, tmp_path):
    env = production_env(tmp_path)
    del env[missing]
    result = _run_serve(env)
    assert result.returncode == 2
    assert f"refusing to start: {missing} must be set" in result.stderr
    assert not (tmp_path / "static").exists()  # it stopped before doing anything


def test_the_production_command_refuses_an_unmigrated_database(tmp_path):
    result = _run_serve(production_env(tmp_path))
    assert result.returncode == 2
    assert "unapplied migrations" in result.stderr


def test_object_storage_without_its_credentials_is_refused_at_start(tmp_path):
    env = production_env(tmp_path, EVIDENCE_S3_BUCKET="evidence")
    result = subprocess.run(  # noqa: S603
        [str(BIN / "python"), "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "EVIDENCE_S3_ACCESS_KEY_ID, EVIDENCE_S3_SECRET_ACCESS_KEY must be set too" in result.stderr


@pytest.fixture(scope="module")
def production_server(tmp_path_factory):
    work = tmp_path_factory.mktemp("production")
    env = production_env(work)
    manage("migrate", "--noinput", env=env)
    running, url = serve("gunicorn", env, work / "logs")
    try:
        yield url
    finally:
        running.stop()


HTTPS = {"X-Forwarded-Proto": "https"}  # as the TLS-terminating reverse proxy sends it


def test_static_files_are_hashed_compressed_and_cached_for_a_year(production_server):
    login = http(f"{production_server}/accounts/login/", headers=HTTPS)
    assert login.status == 200
    stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', login.text())
    assert stylesheet, "the page links the hashed stylesheet"
    css = http(production_server + stylesheet.group(1), headers={**HTTPS, "Accept-Encoding": "gzip"})
    assert css.status == 200
    assert css.headers["Content-Type"].startswith("text/css")
    assert css.headers["Content-Encoding"] == "gzip"
    assert css.headers["Cache-Control"] == "max-age=315360000, public, immutable"
    assert b"--accent" in gzip.decompress(css.body)
    # The unhashed name is served too (for what links it), but not cached for long.
    plain = http(f"{production_server}/static/css/app.css", headers=HTTPS)
    assert plain.status == 200 and "immutable" not in plain.headers["Cache-Control"]


def test_debug_is_off_https_is_enforced_and_errors_use_the_custom_pages(production_server):
    redirect = http(f"{production_server}/accounts/login/")
    assert redirect.status == 301 and redirect.headers["Location"].startswith("https://")
    page = http(f"{production_server}/accounts/login/", headers=HTTPS)
    assert "Strict-Transport-Security" in page.headers
    assert "Secure" in page.headers["Set-Cookie"]
    missing = http(f"{production_server}/static/no-such-file.css", headers=HTTPS)
    assert missing.status == 404
    assert "Traceback" not in missing.text() and "DEBUG = True" not in missing.text()
    bad_host = http(f"{production_server}/health/", headers={"Host": "attacker.example"})
    assert bad_host.status == 400 and 'id="error-400"' in bad_host.text()


def test_the_health_endpoint_checks_database_storage_and_broker(production_server):
    response = http(f"{production_server}/health/")  # plain HTTP: the load balancer's check
    assert response.status == 200
    assert response.headers["Cache-Control"].startswith("max-age=0")
    assert json.loads(response.body) == {
        "status": "ok",
        "checks": {"database": "ok", "storage": "ok", "broker": "inline"},
    }


def test_the_health_endpoint_answers_503_naming_the_dependency_that_fails(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    response = Client().get("/health/")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "checks": {"database": "ok", "storage": "ok", "broker": "error"}}
    assert Client().post("/health/").status_code == 405


def test_the_custom_404_page_with_debug_off(db, client, login, dpo):
    response = login(dpo).get("/cases/NO-SUCH-CASE/")
    assert response.status_code == 404
    assert 'id="error-404"' in response.content.decode()


def test_the_production_checks_pass_with_object_storage_and_a_broker_configured(tmp_path):
    env = production_env(
        tmp_path,
        EVIDENCE_S3_BUCKET="evidence",
        EVIDENCE_S3_ENDPOINT_URL="https://s3.example.org",
        EVIDENCE_S3_ACCESS_KEY_ID="key",
        EVIDENCE_S3_SECRET_ACCESS_KEY="secret",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
        DJANGO_ALLOWED_HOSTS="breaches.example.org",
    )
    out = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert "no issues" in out
