"""Two people editing one case through the web at the same moment (PostgreSQL, a real threaded server).

Alice keeps moving the awareness time from the case facts form while Bruno completes the case's
obligations from their forms, each from their own browser session, many rounds, started at the
same instant. Every answer is a redirect (saved) or a 409 page (changed meanwhile), never a server
error; what Alice saved last is what the case says (nothing silently reverted); every completion
Bruno saw succeed is stored; the history chain still verifies.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.utils import timezone

from cases.deadlines import PARIS
from tests.pg_race import ROOT, env, manage
from tests.test_fuzz_every_form_and_url import page_forms
from tests.test_two_writers_on_one_case import SEED

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)"),
]

ROUNDS = 12

# A verified session (password and second factor done) for each writer, as after a real login.
SESSIONS = """
import json
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice

keys = {}
for name in ("alice", "bruno"):
    user = get_user_model().objects.get(username=name)
    device = StaticDevice.objects.create(user=user, name="web race", confirmed=True)
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.create()
    keys[name] = session.session_key
print(json.dumps(keys))
"""


FINAL_STATE = """
import json
from cases.deadlines import PARIS
from cases.models import BreachCase, Obligation

case = BreachCase.objects.get()
aware = case.aware_at.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")
print(json.dumps([aware, Obligation.objects.filter(case=case, state="done").count()]))
"""


class Browser:
    """A session cookie, the CSRF cookie, and forms posted as a browser posts them."""

    def __init__(self, base: str, session_key: str) -> None:
        self.base = base
        self.cookies = {"sessionid": session_key}

    def _open(self, path: str, data: bytes | None = None) -> tuple[int, str, str]:
        request = urllib.request.Request(self.base + path, data=data)
        request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            response = opener.open(request, timeout=120)
        except urllib.error.HTTPError as error:
            response = error
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response.status, response.headers.get("Location", ""), response.read().decode()

    def get(self, path: str) -> str:
        status, _, page = self._open(path)
        assert status == 200, (path, status)
        return page

    def submit(self, path: str, changes: dict[str, str]) -> int:
        """GET the form at `path`, change some fields, post it; the status of the answer."""
        (form,) = [f for f in page_forms(path, self.get(path)) if f.method == "post" and f.action == path]
        fields = dict(form.baseline())
        fields.update(changes)
        status, _, _ = self._open(path, urlencode(fields).encode())
        return status


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_browsers_editing_one_case_get_saves_or_conflicts_never_errors(race_database):
    reference, _pending = manage(race_database, "shell", "-c", SEED).split()[-2:]
    keys = json.loads(manage(race_database, "shell", "-c", SESSIONS).strip().splitlines()[-1])
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", "--insecure", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env(race_database, DJANGO_DEBUG="0", DJANGO_LOCAL="1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/accounts/login/", timeout=2)  # noqa: S310 - loopback
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        case_path = f"/cases/{reference}/"
        alice, bruno = Browser(base, keys["alice"]), Browser(base, keys["bruno"])
        first_signal = timezone.now() - timedelta(hours=3)
        results: dict[str, list[tuple[int, str]]] = {"alice": [], "bruno": []}
        start = threading.Barrier(2)

        alice_done = threading.Event()

        def alice_writes():
            start.wait()
            try:
                for i in range(ROUNDS):
                    aware = (first_signal + timedelta(minutes=40 + i)).astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")
                    status = alice.submit(f"{case_path}edit/", {"aware_at": aware, "change_reason": f"tour {i}"})
                    results["alice"].append((status, aware))
            finally:
                alice_done.set()

        def bruno_writes():
            # Every save of Alice moves the due dates, so a completion read before it is refused (409):
            # Bruno keeps trying, and stops once he has completed one after Alice finished.
            start.wait()
            for _ in range(3 * ROUNDS):
                finished_before = alice_done.is_set()
                links = re.findall(rf"{re.escape(case_path)}obligations/(\d+)/complete/", bruno.get(case_path))
                if not links:
                    break
                # With its seconds: a follow-up may not be completed before the completion it follows.
                now = timezone.now().astimezone(PARIS).strftime("%Y-%m-%dT%H:%M:%S")
                path = f"{case_path}obligations/{links[0]}/complete/"
                status = bruno.submit(path, {"completed_at": now, "late_reason": "Course."})
                results["bruno"].append((status, path))
                if finished_before and status == 302:
                    break

        writers = [threading.Thread(target=alice_writes), threading.Thread(target=bruno_writes)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(timeout=900)
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)

    statuses = [status for outcomes in results.values() for status, _ in outcomes]
    assert len(results["alice"]) == ROUNDS and results["bruno"], results
    assert set(statuses) <= {302, 409}, (results, errors[-3000:])
    assert "deadlock detected" not in errors and "Traceback" not in errors, errors[-3000:]
    saved = [aware for status, aware in results["alice"] if status == 302]
    completed = sum(1 for status, _ in results["bruno"] if status == 302)
    assert saved and completed
    final = json.loads(manage(race_database, "shell", "-c", FINAL_STATE).strip().splitlines()[-1])
    assert final[0] == saved[-1]  # Alice's last saved awareness time: not reverted by Bruno's saves
    assert final[1] == completed
    assert "history chains verified" in manage(race_database, "verify_history")
