"""`manage.py verify_history` recomputes the chains and names the first broken row."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from cases import services
from cases.history import chain_head, drop_trigger_statements
from cases.management.commands.verify_history import Command
from cases.models import BreachCase
from tests.conftest import paris

pytestmark = pytest.mark.django_db


def verify(*args: str) -> str:
    out = StringIO()
    call_command("verify_history", *args, stdout=out)
    return out.getvalue()


def alter_first_row(case: BreachCase) -> int:
    """Rewrite the case's first history row with raw SQL, triggers dropped (the test's rollback restores them)."""
    table = BreachCase.history.model._meta.db_table
    history_id = case.history.earliest("chain_seq").history_id
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for statement in drop_trigger_statements(connection.vendor, table):
            cursor.execute(statement)
        cursor.execute(f'UPDATE "{table}" SET title = %s WHERE history_id = %s', ["Rewritten", history_id])
    return history_id


@pytest.fixture
def two_cases(open_case, dpo):
    first = open_case(title="Portail")
    second = open_case(title="Courriel mal adressé", aware_at=paris(2024, 2, 3, 9, 0))
    services.case_update_facts(second, acting_user=dpo, change_reason="Precision", description="Wrong recipient.")
    return first, second


def test_seeded_cases_pass(two_cases, org):
    out = verify()
    for case in (*two_cases, org):
        key = case.history_chain_key()
        length, head = chain_head(key)
        assert f"{key}: {length} rows, head {head}" in out
    assert "3 history chains verified." in out


def test_a_tampered_row_fails_naming_it(two_cases):
    history_id = alter_first_row(two_cases[0])
    with pytest.raises(CommandError) as failure:
        verify()
    message = str(failure.value)
    assert f"cases.HistoricalBreachCase history_id={history_id}" in message
    assert f"chain {two_cases[0].history_chain_key()}, position 1" in message
    assert "altered" in message


def test_the_command_exits_non_zero_from_the_shell(two_cases, capsys):
    history_id = alter_first_row(two_cases[0])
    with pytest.raises(SystemExit) as exit_:
        Command().run_from_argv(["manage.py", "verify_history"])
    assert exit_.value.code == 1
    assert f"history_id={history_id}" in capsys.readouterr().err


def test_case_option_checks_only_that_case(two_cases):
    first, second = two_cases
    alter_first_row(first)
    out = verify("--case", second.reference)
    length, head = chain_head(second.history_chain_key())
    assert out.splitlines()[0] == f"{second.history_chain_key()}: {length} rows, head {head}"
    assert first.history_chain_key() not in out
    assert "1 history chains verified." in out
    with pytest.raises(CommandError, match=f"case {first.reference}: .* was altered"):
        verify("--case", first.reference)


def test_unknown_case_reference_is_a_clear_error(two_cases):
    with pytest.raises(CommandError, match="No case with reference 'NOPE-2024-999'"):
        verify("--case", "NOPE-2024-999")


def test_jobs_inside_a_transaction_read_on_this_connection_alone(two_cases):
    # Other connections could not see the test's uncommitted rows: the verdicts are those of one connection.
    assert verify("--jobs", "3") == verify()


def test_jobs_below_one_is_a_clear_error(two_cases):
    with pytest.raises(CommandError, match="--jobs must be at least 1"):
        verify("--jobs", "0")
