"""Helpers of the tests that run the application as real processes: ports, start/stop, plain HTTP.

Every server binds 127.0.0.1 on a port the OS hands out; every process is started in its own
process group and stopped (then killed) at the end, whatever the test did.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(**extra: str) -> dict[str, str]:
    """The environment of a child process: this one's, without the test database settings."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "TEST_DATABASE_NAME"}}
    env.update(PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING", DB_CONN_MAX_AGE="0", **extra)
    return env


def manage(*args: str, env: dict[str, str], timeout: float = 300) -> str:
    result = subprocess.run(  # noqa: S603 - our own manage.py
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@dataclass
class Running:
    """A child process started by a test, with its log file."""

    process: subprocess.Popen
    log: Path
    name: str

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        """Signal the whole process group (gunicorn's and celery's children too), kill it if it lingers."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, sig)
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        # Children the leader left behind (e.g. after SIGKILL of the leader alone) go too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


def start(name: str, args: list[str], *, env: dict[str, str], logs: Path) -> Running:
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - our own programs
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Running(process, log, name)


@dataclass
class Response:
    status: int
    headers: Message
    body: bytes = field(repr=False)

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def http(url: str, *, data: bytes | None = None, headers: dict | None = None, opener=None, timeout=30) -> Response:
    """One request, redirects not followed, any status returned (never raised)."""
    opener = opener or urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310 - loopback
    try:
        with opener.open(request, timeout=timeout) as response:
            return Response(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, error.headers, error.read())


def wait_until_answers(url: str, running: Running, *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not running.alive():
            raise AssertionError(f"{running.name} exited ({running.process.returncode}):\n{running.output()}")
        try:
            if http(url, timeout=2).status < 500:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"{running.name} did not answer {url} within {timeout} s:\n{running.output()}")


def checkpoint_key(work: Path) -> str:
    """An Ed25519 signing key for the history checkpoints (production never creates one itself)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = work / "history-checkpoint-key.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(
            Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return str(path)


def production_env(work: Path, **extra: str) -> dict[str, str]:
    """Production settings (debug off), a SQLite file and evidence folder of the test's own."""
    settings = {
        "HISTORY_CHECKPOINT_KEY_FILE": checkpoint_key(work),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "test-secret-" + "s" * 50,
        "HISTORY_CHAIN_KEY": "test-chain-key-" + "h" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_PROXY_SSL_HEADER": "1",
        "SQLITE_PATH": str(work / "app.sqlite3"),
        "EVIDENCE_ROOT": str(work / "evidence"),
        "DJANGO_STATIC_ROOT": str(work / "static"),
    }
    return base_env(**{**settings, **extra})


def serve(name: str, env: dict[str, str], logs: Path, *, workers: int = 2) -> tuple[Running, str]:
    """`bin/serve` (the production command: checks, collectstatic, gunicorn) on a free loopback port."""
    for _attempt in range(3):  # another process may take the port between probe and bind
        port = free_port()
        server_env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)}
        server_env["PATH"] = f"{BIN}:{server_env.get('PATH', '')}"
        running = start(name, ["bash", "bin/serve"], env={**server_env, "VENV": str(BIN.parent)}, logs=logs)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_answers(f"{url}/health/", running, timeout=90)
        except AssertionError:
            running.stop()
            if "Address already in use" in running.output():
                continue
            raise
        return running, url
    raise AssertionError(f"{name}: no free port after 3 attempts")


# --- a committed database the application processes share --------------------------------------------

_SQLITE_TEMPLATE: dict[str, Path] = {}


def _migrated_sqlite_template(tmp_path_factory) -> Path:
    """One migrated SQLite file per test process, copied for each test that needs one."""
    if "path" not in _SQLITE_TEMPLATE:
        path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
        manage("migrate", "--noinput", env=base_env(SQLITE_PATH=str(path)))
        _SQLITE_TEMPLATE["path"] = path
    return _SQLITE_TEMPLATE["path"]


def _pg_admin(settings_dict):
    import psycopg

    return psycopg.connect(
        host=settings_dict["HOST"] or None,
        port=settings_dict["PORT"] or None,
        user=settings_dict["USER"] or None,
        password=settings_dict["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


def pg_url(settings_dict, name: str) -> str:
    from urllib.parse import quote

    user = quote(settings_dict["USER"] or "")
    password = f":{quote(settings_dict['PASSWORD'])}" if settings_dict["PASSWORD"] else ""
    return f"postgres://{user}{password}@{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}/{name}"


@pytest.fixture
def app_database(transactional_db, tmp_path, tmp_path_factory) -> Iterator[dict[str, str]]:
    """Environment pointing application processes at a migrated, committed database of the test's own.

    On PostgreSQL (the suite run with DATABASE_URL): a copy of the migrated test database, dropped
    afterwards (committed history rows cannot be flushed: the append-only triggers refuse it).
    On SQLite: a copy of a migrated file. (`transactional_db`: the test database is set up and
    no transaction of this test holds it, so it can serve as a template.)
    """
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        path = tmp_path / "app.sqlite3"
        shutil.copyfile(_migrated_sqlite_template(tmp_path_factory), path)
        yield {"SQLITE_PATH": str(path)}
        return
    settings_dict = dict(connection.settings_dict)
    template = settings_dict["NAME"]
    name = f"{template}_app"
    connections.close_all()  # a template database must have no open connection
    with _pg_admin(settings_dict) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield {"DATABASE_URL": pg_url(settings_dict, name)}
    finally:
        with _pg_admin(settings_dict) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- a member using the application over HTTP ---------------------------------------------------------

SEED_MEMBER = """
import json
from django.contrib.auth import get_user_model
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice
from cases import services
from cases.models import Organization
from tests.conftest import paris

with transaction.atomic():
    org = Organization(name="Mutuelle Multi-serveurs", code="multi")
    org.save()
user = get_user_model().objects.create_user("dpo.multi", password="Multi-Servers-DPO-2026")
services.membership_grant(user=user, organization=org, role="dpo", acting_user=None)
device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
case = services.case_open(
    organization=org, title="Intrusion sur le portail", first_signal_at=paris(2024, 2, 1, 9),
    aware_at=paris(2024, 2, 1, 18), aware_justification="Journaux.", acting_user=user,
)
print(json.dumps({"username": user.username, "password": "Multi-Servers-DPO-2026", "key": device.key,
                  "reference": case.reference}))
"""


def seed_member(env: dict[str, str]) -> dict:
    """A DPO with a password and an authenticator, and one open case, in the database of `env`."""
    import json

    return json.loads(manage("shell", "-c", SEED_MEMBER, env=env).strip().splitlines()[-1])


class Member:
    """A person with a browser: cookies kept by hand (they are Secure: plain-HTTP jars would drop them)."""

    HTTPS = {"X-Forwarded-Proto": "https"}  # as the TLS-terminating proxy sends it

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def request(self, url: str, *, data: bytes | None = None, headers: dict | None = None) -> Response:
        from http.cookies import SimpleCookie

        sent = {**self.HTTPS, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        origin = url.split("/", 3)
        sent.setdefault("Referer", f"https://{origin[2]}/")
        response = http(url, data=data, headers=sent)
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        return response

    def form(self, url: str, fields: dict[str, str], files: dict[str, tuple[str, bytes]] | None = None) -> Response:
        """GET the page for its CSRF token, then POST the form (multipart when it carries files)."""
        import re
        import uuid

        page = self.request(url)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text())
        assert token, f"no form at {url} ({page.status})"
        fields = {"csrfmiddlewaretoken": token.group(1), **fields}
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        for name, (filename, content) in (files or {}).items():
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            )
            parts.append(head.encode() + content + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request(url, data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def log_in(self, base: str, member: dict) -> None:
        from django_otp.oath import totp

        done = self.form(f"{base}/accounts/login/", {"username": member["username"], "password": member["password"]})
        assert done.status == 302 and "/two-factor/verify/" in done.headers["Location"], done.text()[:2000]
        code = f"{totp(bytes.fromhex(member['key']), step=30, t0=0, digits=6):06d}"
        verified = self.form(f"{base}/accounts/two-factor/verify/", {"token": code})
        assert verified.status == 302 and "/accounts/" not in verified.headers["Location"], verified.text()[:2000]


def query(env: dict[str, str], sql: str, params: tuple = ()) -> list[tuple]:
    """Read the database of `env` directly (no Django here: this process's Django is on the test database)."""
    if "DATABASE_URL" in env:
        import psycopg

        with psycopg.connect(env["DATABASE_URL"].replace("postgres://", "postgresql://", 1)) as conn:
            return conn.execute(sql.replace("?", "%s"), params).fetchall()
    import sqlite3

    with contextlib.closing(sqlite3.connect(env["SQLITE_PATH"], timeout=30)) as conn:
        return conn.execute(sql, params).fetchall()


def worker(name: str, env: dict[str, str], logs: Path, *extra: str) -> Running:
    """A Celery worker (one process doing the work: its death is the work's death)."""
    return start(
        name,
        [
            str(BIN / "celery"),
            "-A",
            "compliance",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "-n",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
            *extra,
        ],
        env=env,
        logs=logs,
    )
