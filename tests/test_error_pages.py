"""Error pages 400, 403, 404, 405, 409, 429 and 500 in the product's layout, in French and English, with a way back;
a conflict no form handled answers 409, never 500; `make run` never shows a debug page to a visitor;
`?next=` keeps its own query string through the login.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.exceptions import BadRequest
from django.db import OperationalError
from django.test import Client
from django.urls import path, reverse

from cases.services.common import StaleVersionError, TryAgainError
from compliance import urls as project_urls

ROOT = Path(__file__).resolve().parent.parent
LAYOUT = 'class="topbar"'  # templates/base.html


def _raise(exception):
    def view(request):
        raise exception

    return view


class _DeadlockCause(Exception):
    sqlstate = "40P01"  # PostgreSQL's deadlock_detected


def _deadlock(request):
    error = OperationalError("deadlock detected")
    error.__cause__ = _DeadlockCause()
    raise error


urlpatterns = [
    *project_urls.urlpatterns,
    path("test-errors/boom/", _raise(RuntimeError("boom")), name="test_boom"),
    path("test-errors/try-again/", _raise(TryAgainError("deadlock")), name="test_try_again"),
    path("test-errors/stale/", _raise(StaleVersionError(type("R", (), {"pk": 1, "version": 3})(), 2))),
    path("test-errors/bad/", _raise(BadRequest())),
    path("test-errors/deadlock/", _deadlock),
]


@pytest.fixture
def member_client(dpo, login):
    return login(dpo, Client(raise_request_exception=False))


def assert_error_page(response, status: int, french: str) -> None:
    page = response.content.decode()
    assert response.status_code == status
    assert LAYOUT in page and french in page
    assert 'href="/"' in page  # a way back
    assert "Traceback" not in page and "Django" not in page


@pytest.mark.urls("tests.test_error_pages")
def test_every_error_page_is_in_the_layout_with_a_way_back(member_client):
    assert_error_page(member_client.get("/test-errors/bad/"), 400, "Requête incorrecte")
    assert_error_page(member_client.get("/nowhere/"), 404, "Page introuvable")
    assert_error_page(member_client.get(reverse("accounts:logout")), 405, "Action impossible ici")
    assert_error_page(member_client.get("/test-errors/try-again/"), 409, "Modifié au même moment")
    assert_error_page(member_client.get("/test-errors/stale/"), 409, "Modifié au même moment")
    assert_error_page(member_client.get("/test-errors/deadlock/"), 409, "Modifié au même moment")
    assert_error_page(member_client.get("/test-errors/boom/"), 500, "Un problème est survenu de notre côté")


@pytest.mark.urls("tests.test_error_pages")
def test_error_pages_speak_english_too(member_client):
    member_client.cookies["django_language"] = "en"
    response = member_client.get("/nowhere/", HTTP_ACCEPT_LANGUAGE="en")
    assert_error_page(response, 404, "Page not found")
    assert "Back to the deadlines" in response.content.decode()


def test_403_for_a_role_and_for_a_refused_csrf_token(open_case, org, make_user, login):
    case = open_case()
    auditor = login(make_user(org, "auditor", "auditrice"), Client())
    response = auditor.get(reverse("cases:case_update", kwargs={"reference": case.reference}))
    assert_error_page(response, 403, "Accès refusé")
    strict = login(make_user(org, "dpo", "dpo2"), Client(enforce_csrf_checks=True))
    response = strict.post(reverse("cases:case_update", kwargs={"reference": case.reference}), {})
    assert_error_page(response, 403, "Accès refusé")


def test_429_is_the_lockout_page_in_the_layout(db, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(reverse("accounts:login"), {"username": "personne", "password": "faux"})
    assert response.status_code == 429
    page = response.content.decode()
    assert LAYOUT in page and reverse("accounts:login") in page


def test_next_keeps_its_query_string_through_the_login(db):
    target = "/cases/?q=portail&status=open"
    response = Client().get(target)
    assert response.status_code == 302
    login_page = Client().get(response["Location"])
    assert login_page.context["next"] == target


def test_next_with_a_query_string_is_passed_on_to_the_second_factor(org, make_user):
    user = make_user(org, "dpo", "nadia")
    user.set_password("un mot de passe long")
    user.save()
    target = "/cases/?q=portail&status=open"
    response = Client().post(
        reverse("accounts:login"), {"username": "nadia", "password": "un mot de passe long", "next": target}
    )
    from urllib.parse import parse_qs, urlsplit

    assert parse_qs(urlsplit(response["Location"]).query)["next"] == [target]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_run_shows_no_debug_page_and_still_serves_the_stylesheet(tmp_path):
    """The server as `make run` starts it (Makefile RUN_ENV, runserver --insecure)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "TEST_DATABASE_NAME"}}
    env.update(SQLITE_PATH=str(tmp_path / "run.sqlite3"), DJANGO_DEBUG="0", DJANGO_LOCAL="1")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--insecure", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/accounts/login/", timeout=2)  # noqa: S310 - loopback
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        with pytest.raises(urllib.error.HTTPError) as missing:
            # An unknown calendar feed token: one of the few 404s a visitor who is not logged in can reach.
            urllib.request.urlopen(f"{base}/calendar/feed/unknown.ics", timeout=5)  # noqa: S310
        page = missing.value.read().decode()
        assert missing.value.code == 404 and "Page introuvable" in page and LAYOUT in page
        assert "Django tried these URL patterns" not in page and "DEBUG = True" not in page
        css = urllib.request.urlopen(f"{base}/static/css/app.css", timeout=5)  # noqa: S310
        assert css.status == 200 and b"Breach register" in css.read()
    finally:
        server.terminate()
        server.wait(timeout=10)
