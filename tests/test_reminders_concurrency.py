"""Two machines running `send_reminders` at the same instant send each reminder exactly once (PostgreSQL).

The runs are separate processes on a separate, committed database: a copy of the migrated test
database, since committed history rows cannot be flushed afterwards (the append-only triggers
refuse TRUNCATE of a non-empty history table).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest
from django.db import connection

from tests.pg_race import ROOT, env, manage

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)"),
]


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


def _sent(output: str, verb: str = "sent") -> int:
    return int(re.search(rf"{verb} (\d+) reminders", output).group(1))


def test_two_processes_at_once_send_each_reminder_exactly_once(race_database):
    manage(race_database, "shell", "-c", SEED)
    expected = _sent(manage(race_database, "send_reminders", "--dry-run"), "would send")
    assert expected == 15 * 5 + 15 * 7  # per case: 2 or 4 before the CNIL deadline, 3 for the overdue complaint

    start_at = str(time.time() + 4)  # both start at the same instant, once Django is loaded
    runs = [
        subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", RUN_AT],
            cwd=ROOT,
            env=env(race_database, START_AT=start_at),
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
    # One digest per person and run; its header counts the reminders it lists.
    mailed = [sum(int(n) for n in re.findall(r"^X-Reminder-Count: (\d+)", out, flags=re.MULTILINE)) for out in outputs]
    e_mails = [len(re.findall(r"^Message-ID: ", out, flags=re.MULTILINE)) for out in outputs]
    assert sum(sent) == expected
    assert mailed == sent  # each process e-mailed exactly the reminders it claimed
    assert all(n <= 3 for n in e_mails)  # at most one e-mail per person (DPO, legal, admin) and run
    recorded = manage(
        race_database, "shell", "-c", "from reminders.models import ReminderSent as R; print(R.objects.count())"
    )
    assert int(recorded.split()[-1]) == expected
    assert _sent(manage(race_database, "send_reminders")) == 0


HOLD = """
import os, time
from django.db import transaction
from reminders.services import send_due_reminders
with transaction.atomic():
    report = send_due_reminders()
    print(f"claimed {report.total_sent}", flush=True)
    time.sleep(float(os.environ["HOLD_FOR"]))  # the claims stay uncommitted meanwhile
    if os.environ["THEN"] == "rollback":
        transaction.set_rollback(True)
    print(f"released at {time.time()}", flush=True)
"""

RUN_NOW = """
import time
from django.core.management import call_command
print(f"started at {time.time()}", flush=True)
call_command("send_reminders")
print(f"finished at {time.time()}", flush=True)
"""


def _at(event: str, output: str) -> float:
    return float(re.search(rf"^{event} at ([0-9.]+)$", output, flags=re.MULTILINE).group(1))


def _mailed(output: str) -> int:
    return sum(int(n) for n in re.findall(r"^X-Reminder-Count: (\d+)", output, flags=re.MULTILINE))


@pytest.mark.parametrize("then", ["commit", "rollback"])
def test_a_run_waits_for_the_claims_of_a_run_in_progress(race_database, then):
    """A second run meets the first one's claims uncommitted: its claim waits for them, then skips the
    reminders the first one committed, or sends those it rolled back (a reminder is never lost)."""
    manage(race_database, "shell", "-c", SEED)
    expected = _sent(manage(race_database, "send_reminders", "--dry-run"), "would send")
    first = subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", HOLD],
        cwd=ROOT,
        env=env(race_database, HOLD_FOR="10", THEN=then),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = first.stdout.readline()
        while line and not line.startswith("claimed"):  # what the shell prints as it starts
            line = first.stdout.readline()
        assert line.strip() == f"claimed {expected}"  # claimed, not yet committed
        second = manage(race_database, "shell", "-c", RUN_NOW)
        out, err = first.communicate(timeout=300)
    finally:
        first.kill()
    assert first.returncode == 0, err
    # The second run started while the first held its claims, and could only finish once they were released.
    assert _at("started", second) < _at("released", out) < _at("finished", second)
    if then == "commit":
        assert (_mailed(out), _sent(second), _mailed(second)) == (expected, 0, 0)
    else:
        assert (_mailed(out), _sent(second), _mailed(second)) == (0, expected, expected)
    recorded = manage(
        race_database, "shell", "-c", "from reminders.models import ReminderSent as R; print(R.objects.count())"
    )
    assert int(recorded.split()[-1]) == expected
