"""Two machines running `send_reminders` at the same instant send each reminder exactly once (PostgreSQL).

The runs are separate processes on a separate, committed database: a copy of the migrated test
database, since committed history rows cannot be flushed afterwards (the append-only triggers
refuse TRUNCATE of a non-empty history table).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection, connections

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)"),
]

ROOT = Path(__file__).resolve().parent.parent

SEED = """
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from cases import services
from cases.models import Membership, Organization

now = timezone.now()
with transaction.atomic():
    org = Organization(name="Mutuelle Course", code="course")
    org.save()
    users = {}
    for role in ("dpo", "legal", "admin", "auditor"):
        user = get_user_model().objects.create_user(role, email=f"{role}@course.example", password="x" * 16)
        services.membership_grant(user=user, organization=org, role=role, acting_user=None)
        users[role] = user
for i in range(30):
    # CNIL clock due in 22 h (24-hour reminder) or in 1 h (24- and 4-hour); complaint target overdue.
    aware = now - timedelta(hours=50 if i % 2 else 71)
    services.case_open(
        organization=org, title=f"Incident {i}", first_signal_at=aware - timedelta(hours=1), aware_at=aware,
        aware_justification="Logs.", acting_user=users["dpo"],
    )
"""

RUN_AT = """
import os, time
time.sleep(max(0.0, float(os.environ["START_AT"]) - time.time()))
from django.core.management import call_command
call_command("send_reminders")
"""


def _admin_connect(settings_dict):
    import psycopg

    return psycopg.connect(
        host=settings_dict["HOST"] or None,
        port=settings_dict["PORT"] or None,
        user=settings_dict["USER"] or None,
        password=settings_dict["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


def _url(settings_dict, name: str) -> str:
    user = quote(settings_dict["USER"] or "")
    password = f":{quote(settings_dict['PASSWORD'])}" if settings_dict["PASSWORD"] else ""
    host = settings_dict["HOST"] or "127.0.0.1"
    port = settings_dict["PORT"] or "5432"
    return f"postgres://{user}{password}@{host}:{port}/{name}"


@pytest.fixture
def race_database(transactional_db):
    """A committed copy of the migrated, empty test database; dropped afterwards."""
    settings_dict = dict(connection.settings_dict)
    template = settings_dict["NAME"]
    name = f"{template}_race"
    connections.close_all()  # a template database must have no open connection
    with _admin_connect(settings_dict) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield _url(settings_dict, name)
    finally:
        with _admin_connect(settings_dict) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(database_url: str, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_NAME"}
    env.update(
        DATABASE_URL=database_url,
        EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
        DB_CONN_MAX_AGE="0",
        LOG_LEVEL="WARNING",
        **extra,
    )
    return env


def _manage(database_url: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=_env(database_url),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _sent(output: str, verb: str = "sent") -> int:
    return int(re.search(rf"{verb} (\d+) reminders", output).group(1))


def test_two_processes_at_once_send_each_reminder_exactly_once(race_database):
    _manage(race_database, "shell", "-c", SEED)
    expected = _sent(_manage(race_database, "send_reminders", "--dry-run"), "would send")
    assert expected == 15 * 5 + 15 * 7  # per case: 2 or 4 before the CNIL deadline, 3 for the overdue complaint

    start_at = str(time.time() + 4)  # both start at the same instant, once Django is loaded
    runs = [
        subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", RUN_AT],
            cwd=ROOT,
            env=_env(race_database, START_AT=start_at),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = []
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        outputs.append(out)

    sent = [_sent(out) for out in outputs]
    e_mails = [len(re.findall(r"^Message-ID: ", out, flags=re.MULTILINE)) for out in outputs]
    assert sum(sent) == expected
    assert e_mails == sent  # each process e-mailed exactly the reminders it claimed
    recorded = _manage(
        race_database, "shell", "-c", "from reminders.models import ReminderSent as R; print(R.objects.count())"
    )
    assert int(recorded.split()[-1]) == expected
    assert _sent(_manage(race_database, "send_reminders")) == 0
