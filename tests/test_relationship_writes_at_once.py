"""Two administrators of one processor recording the same controllers at once (PostgreSQL).

A CSV import sent twice (a double click, or two colleagues with the same file) or two people
recording the same SIREN: the second waits for the first and finds its lines already there
("unchanged", or a clear refusal), never a server error from the unique SIREN constraint.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.db import connection

from tests.pg_race import ROOT, env, manage

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)"),
]

SEED = """
from django.contrib.auth import get_user_model
from django.db import transaction
from cases import services
from cases.models import Organization

with transaction.atomic():
    org = Organization(name="Opérateur Course", code="opcourse", kind=Organization.Kind.PROCESSOR)
    org.save()
    for name in ("alice", "bruno"):
        user = get_user_model().objects.create_user(name, password="x" * 16)
        services.membership_grant(user=user, organization=org, role="admin", acting_user=None)
print("seeded")
"""

# `first` holds its transaction open after writing, so that `second` runs while the rows are not
# yet committed: exactly the moment of a double click.
WRITER = """
import json, os, time
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from cases import services
from cases.models import Organization

HEADER = "Nom;SIREN;E-mails;Délai (heures);Référence contrat\\n"
TEXT = HEADER + "".join(f"Assureur {i};{100000000 + i};dpo@as{i}.example;24;C-{i}\\n" for i in range(20))
who = os.environ["WHO"]
processor = Organization.objects.get(code="opcourse")
user = get_user_model().objects.get(username="alice" if who == "first" else "bruno")
if who == "second":
    time.sleep(2)

def act():
    if os.environ["ACTION"] == "import":
        return services.relationships_import(processor=processor, text=TEXT, acting_user=user)
    rel = services.relationship_create(
        processor=processor, controller_name="Assureur 0", controller_siren="100000000", acting_user=user
    )
    return {"created": 1}

try:
    if who == "first":
        with transaction.atomic():
            result = act()
            time.sleep(5)
    else:
        result = act()
    print(json.dumps(["ok", result]))
except ValidationError as error:
    print(json.dumps(["refused", error.messages]))
"""


@pytest.mark.parametrize("action", ["import", "create"])
def test_the_same_controllers_recorded_twice_at_once_never_end_in_a_server_error(race_database, action):
    assert "seeded" in manage(race_database, "shell", "-c", SEED)
    runs = {
        who: subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", WRITER],
            cwd=ROOT,
            env=env(race_database, WHO=who, ACTION=action),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("first", "second")
    }
    outcomes = {}
    for who, run in runs.items():
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err  # an IntegrityError would escape here
        outcomes[who] = json.loads(out.strip().splitlines()[-1])
    if action == "import":
        assert outcomes["first"] == ["ok", {"created": 20, "updated": 0, "unchanged": 0, "rejected": 0}]
        assert outcomes["second"] == ["ok", {"created": 0, "updated": 0, "unchanged": 20, "rejected": 0}]
    else:
        assert outcomes["first"][0] == "ok"
        assert outcomes["second"][0] == "refused"
    count = manage(
        race_database,
        "shell",
        "-c",
        "from cases.models import ProcessingRelationship as R; print(R.objects.count())",
    )
    assert count.strip().splitlines()[-1] == ("20" if action == "import" else "1")
    assert "history chains verified" in manage(race_database, "verify_history")
