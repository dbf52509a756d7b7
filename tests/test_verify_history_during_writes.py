"""verify_history while the application writes: one pass reads in one snapshot, so it reports no false break.

The heads, the chain keys and the rows of every history table are read in turn (and, with --jobs, on
several connections): read each in a snapshot of its own, a chain written between two of those reads
looked broken ("ends at position N but its head records position M") and a chain created between them
raised a KeyError. Here cases are edited and opened through the services, committed on another
connection, between the snapshot and those reads: the verdicts are those of the snapshot.
"""

from __future__ import annotations

import pytest
from django.db import connection

from cases import history
from tests.pg_race import manage

SEED = """
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from cases import services
from cases.models import Organization

with transaction.atomic():
    org = Organization(name="Mutuelle Pendant", code="pendant")
    org.save()
    dpo = get_user_model().objects.create_user("dpo", password="x" * 16)
    services.membership_grant(user=dpo, organization=org, role="dpo", acting_user=None)
aware = timezone.now() - timedelta(hours=2)
for i in range(4):
    case = services.case_open(
        organization=org, title=f"Incident {i}", first_signal_at=aware, aware_at=aware,
        aware_justification="Journaux.", acting_user=dpo,
    )
    services.case_update_facts(case, acting_user=dpo, description=f"Précision {i}")
"""

# During the pass, each committed on a connection of its own: a case opened (a chain the snapshot has not
# got) before the chain keys are read, then a case edited before the rows are read, and with OPEN another
# case opened there too; the pass reads on JOBS connections.
DURING = """
import threading
from datetime import timedelta
from django.db import connection
from django.utils import timezone
from cases import history, services
from cases.models import BreachCase, Membership

case = BreachCase.objects.exclude(status="closed").order_by("pk").first()
dpo = Membership.objects.filter(organization=case.organization, role="dpo", is_active=True).first().user
lock, done, opened = threading.Lock(), set(), []


def write(step, edit):
    def run():
        try:
            if edit:
                services.case_update_facts(case, acting_user=dpo, description=f"Pendant la vérification ({step})")
                if not OPEN:
                    return
            aware = timezone.now() - timedelta(hours=1)
            new = services.case_open(
                organization=case.organization, title=f"Ouvert pendant la vérification ({step})",
                first_signal_at=aware, aware_at=aware, aware_justification="Journaux.", acting_user=dpo,
            )
            opened.append(new.history_chain_key())
        finally:
            connection.close()

    with lock:
        if step not in done:
            done.add(step)
            writer = threading.Thread(target=run)
            writer.start()
            writer.join()


def before(name, step, edit):
    real = getattr(history, name)

    def hooked(*args, **kwargs):
        write(step, edit)
        return real(*args, **kwargs)

    setattr(history, name, hooked)


before("ordered_chain_keys", "keys", edit=False)
before("all_rows", "rows", edit=True)
results = list(history.iter_verify_all(workers=JOBS))
print("written", sorted(done), *opened)
print("chains", len(results))
for result in results:
    print("chain", result.chain_key, result.rows, result.head_hash, result.error or "ok")
"""


def _verify_during_writes(database: str, jobs: str, *, open_before_rows: bool) -> None:
    before = manage(database, "verify_history", "--jobs", "1")
    during = manage(database, "shell", "-c", f"JOBS, OPEN = {jobs}, {open_before_rows}\n{DURING}")
    lines = during.splitlines()
    written = next(line for line in lines if line.startswith("written ")).split()
    assert written[1:3] == ["['keys',", "'rows']"] and len(written) == 4 + open_before_rows, during
    new_chains = written[3:]
    chains = [line.split(maxsplit=4)[1:] for line in lines if line.startswith("chain ")]
    assert all(error == "ok" for *_, error in chains), during
    # Exactly the chains as they stood at the snapshot: the new ones not seen, the edited one as it was.
    seen = {f"{key}: {rows} rows, head {head}" for key, rows, head, _ in chains}
    assert seen == {line for line in before.splitlines() if " rows, head " in line}
    assert not set(new_chains) & {key for key, *_ in chains}
    after = manage(database, "verify_history", "--jobs", jobs)
    assert all(f"{key}: " in after for key in new_chains)
    assert f"{len(chains) + len(new_chains)} history chains verified." in after


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="several connections on PostgreSQL only")
@pytest.mark.parametrize("jobs", ["1", "3"])
def test_rows_written_during_the_pass_cause_no_false_break(race_database, jobs):
    manage(race_database, "shell", "-c", SEED)
    # Without one snapshot: "has N rows but no recorded head", "ends at position N but its head records M".
    _verify_during_writes(race_database, jobs, open_before_rows=False)
    # Without one snapshot: a KeyError, the new chain's rows read but not its key.
    _verify_during_writes(race_database, jobs, open_before_rows=True)


@pytest.mark.django_db(transaction=True)
def test_every_read_of_the_pass_is_made_in_one_read_only_transaction(monkeypatch):
    """Outside a transaction (the command's case) the pass opens one of its own: read-only REPEATABLE READ
    on PostgreSQL, a read transaction on SQLite (its first read fixes what the others see)."""
    seen = []

    def spy(name):
        real = getattr(history, name)

        def spied(*args, **kwargs):
            state = [connection.in_atomic_block]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only')"
                    )
                    state.extend(cursor.fetchone())
            seen.append((name, *state))
            return real(*args, **kwargs)

        monkeypatch.setattr(history, name, spied)

    spy("records_without_history")
    spy("ordered_chain_keys")
    assert list(history.iter_verify_all()) == []
    state = (True, "repeatable read", "on") if connection.vendor == "postgresql" else (True,)
    assert seen == [("records_without_history", *state), ("ordered_chain_keys", *state)]
    assert not connection.in_atomic_block


@pytest.mark.django_db(transaction=True)
def test_the_connection_that_shares_its_snapshot_is_not_cut_off_while_it_waits():
    """With --jobs, the connection that exported the snapshot waits idle in its transaction for the whole pass:
    a server's idle_in_transaction_session_timeout is lifted for that transaction only."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's exported snapshots")
    with connection.cursor() as cursor:
        cursor.execute("SET idle_in_transaction_session_timeout = '5s'")
    try:
        with history.consistent_reads(export=True) as snapshot:
            assert snapshot
            with connection.cursor() as cursor:
                cursor.execute("SHOW idle_in_transaction_session_timeout")
                assert cursor.fetchone()[0] == "0"
        with connection.cursor() as cursor:
            cursor.execute("SHOW idle_in_transaction_session_timeout")
            assert cursor.fetchone()[0] == "5s"
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET idle_in_transaction_session_timeout")
