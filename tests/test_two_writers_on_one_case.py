"""Two writers on one case at the same moment (PostgreSQL): they wait for each other, never deadlock.

One process completes the case's obligations one by one while the other keeps moving the awareness
time (which recomputes those same obligations' due dates), for many rounds, both started at the same
instant. Every write takes the case row's lock first (cases.services.common), so neither ends in
"deadlock detected"; each round lands (or, with a version, is refused as a conflict, never silently
lost), and the history chain still verifies.
"""

from __future__ import annotations

import json
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

ROUNDS = 20

SEED = """
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from cases import services
from cases.models import Organization

with transaction.atomic():
    org = Organization(
        name="Mutuelle Course", code="course", is_nis2_entity=True, is_dora_entity=True,
        is_health_establishment=True, is_oiv=True, is_ose=True, has_cyber_insurance=True,
    )
    org.save()
    for name in ("alice", "bruno"):
        user = get_user_model().objects.create_user(name, password="x" * 16)
        services.membership_grant(user=user, organization=org, role="dpo", acting_user=None)
aware = timezone.now() - timedelta(hours=2)
case = services.case_open(
    organization=org, title="Incident", first_signal_at=aware - timedelta(hours=1), aware_at=aware,
    aware_justification="Logs.", acting_user=get_user_model().objects.get(username="alice"),
    nis2_significant=True, dora_major=True, dora_classified_at=aware,
)
print(case.reference, case.obligations.filter(state="pending", due_at__isnull=False).count())
"""

# Each writer: ROUNDS actions, reporting what happened to each. `bruno` also edits the title with the
# version he read, while `alice` edits the description with hers: both land, or one is a conflict.
WRITER = """
import json, os, time
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from cases import services
from cases.models import BreachCase, Obligation
from cases.services.common import StaleVersionError, TryAgainError
from tests.filing_helpers import complete_by_filing

who = os.environ["WHO"]
user = get_user_model().objects.get(username=who)
outcomes = []
time.sleep(max(0.0, float(os.environ["START_AT"]) - time.time()))
for i in range(int(os.environ["ROUNDS"])):
    case = BreachCase.objects.get()
    try:
        if who == "alice":
            services.case_update_facts(
                case, aware_at=case.first_signal_at + timedelta(minutes=30 + i), change_reason=f"round {i}",
                acting_user=user,
            )
            case = BreachCase.objects.get()
            services.case_update_facts(
                case, description=f"description {i}", acting_user=user, expected_version=case.version
            )
        else:
            ob = Obligation.objects.filter(case=case, state="pending", due_at__isnull=False).order_by("pk").first()
            if ob is not None:
                complete_by_filing(
                    ob, completed_at=timezone.now(), late_reason="Course.", acting_user=user
                )
            case = BreachCase.objects.get()
            services.case_update_facts(case, title=f"title {i}", acting_user=user, expected_version=case.version)
        outcomes.append("ok")
    except StaleVersionError:
        outcomes.append("conflict")
    except TryAgainError:
        outcomes.append("try-again")
print(json.dumps(outcomes))
"""


def test_two_writers_wait_for_each_other_and_lose_nothing(race_database):
    reference, pending = manage(race_database, "shell", "-c", SEED).split()[-2:]
    assert int(pending) >= 8

    start_at = str(time.time() + 4)
    runs = {
        who: subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", WRITER],
            cwd=ROOT,
            env=env(race_database, START_AT=start_at, WHO=who, ROUNDS=str(ROUNDS)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("alice", "bruno")
    }
    outcomes = {}
    for who, run in runs.items():
        out, err = run.communicate(timeout=600)
        assert run.returncode == 0, err  # a deadlock would escape here as an exception
        assert "deadlock" not in err.lower()
        outcomes[who] = json.loads(out.strip().splitlines()[-1])

    for who, results in outcomes.items():
        assert len(results) == ROUNDS, who
        assert set(results) <= {"ok", "conflict"}, (who, results)  # waits, no "try again" needed

    final = json.loads(
        manage(
            race_database,
            "shell",
            "-c",
            "import json; from cases.models import BreachCase as C, Obligation as O; c = C.objects.get(); "
            "print(json.dumps([c.title, c.description, O.objects.filter(case=c, state='done').count()]))",
        )
        .strip()
        .splitlines()[-1]
    )
    title, description, done = final
    # The last successful edit of each writer is what the case says: nothing was reverted by the other.
    last_ok = {
        who: max((i for i, r in enumerate(results) if r == "ok"), default=None) for who, results in outcomes.items()
    }
    assert title == ("Incident" if last_ok["bruno"] is None else f"title {last_ok['bruno']}")
    assert description == ("" if last_ok["alice"] is None else f"description {last_ok['alice']}")
    # Every completion landed (one per round while pending obligations remained, follow-ups included),
    # whatever happened to the title edit after it.
    assert min(ROUNDS, int(pending)) <= done <= ROUNDS
    assert "history chains verified" in manage(race_database, "verify_history")
