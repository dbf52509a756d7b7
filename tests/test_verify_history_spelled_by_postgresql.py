"""verify_history at scale on PostgreSQL: the database spells each row's canonical JSON, Python hashes it,
and the chains are read on several connections side by side.

The spelling must be the canonical form byte for byte for every ordinary row (else every row would be
spelled twice), a row it spells otherwise must still verify (Python decides), an altered row must still
be caught, and several connections must give exactly the verdicts of one.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.db import connection

from cases import history, services
from cases.history import (
    _JSON,
    _checked_layout,
    _layout,
    _spelled_layout,
    _spelled_value,
    drop_trigger_statements,
    iter_verify_all,
)
from cases.models import BreachCase
from tests.conftest import paris
from tests.pg_race import ROOT, env, manage

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the database spells rows on PostgreSQL only"),
]

AWKWARD = 'Guillemets " barre \\ retour\nà la ligne\ttab, accents éè €, 🚀, et ", " au milieu'
TITLE = 'Guillemets " barre \\ accents éè €, 🚀, et ", " au milieu'


def _awkward_case(open_case, dpo) -> BreachCase:
    case = open_case(title=TITLE, description=AWKWARD)
    services.timeline_event_add(
        case, occurred_at=paris(2024, 2, 1, 19), title="Coupure", description=AWKWARD, acting_user=dpo
    )
    return case


def test_the_database_spells_every_row_as_python_does(open_case, dpo):
    _awkward_case(open_case, dpo)
    spelled_models = 0
    for model in history.chained_history_models():
        layout = _spelled_layout(model)
        if layout is None:
            continue
        python = _layout(model, formatted=True)
        rows = model.objects.values_list(*python.select())
        expected = {row[python.history_id]: python.canonical(row) for row in rows}
        spelled = {row[layout.history_id]: layout.canonical(row) for row in layout.query()}
        assert spelled == expected, model.__name__
        spelled_models += bool(expected)
        # The database hashes that same text: every row is found intact there, none is spelled again.
        checked = {row[0]: row[6] for row in _checked_layout(model).stream(None, 100)}
        assert checked == dict.fromkeys(expected, True), model.__name__
    # The case, its obligations, its event, the organisation's membership at least.
    assert spelled_models >= 4
    assert _spelled_layout(BreachCase.history.model) is not None


@pytest.mark.parametrize(
    "value",
    [[], ["identity"], ["identity", "nir"], ['x", "y', "z\\", 'q"'], ["é", "\n\t\x01", "🚀"]],
    ids=["empty", "one", "two", "separator-inside", "escapes"],
)
def test_a_json_array_of_strings_is_spelled_compact(value):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ({_spelled_value('(%s::jsonb)', _JSON)})::text", [json.dumps(value)])
        assert cursor.fetchone()[0] == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize(
    "value", [[1, 2], ["a", 1], {"b": "x", "a": "y"}, [{"k": "v", "l": "w"}], [["a", "b"], ["c"]], 1.5, "a", None]
)
def test_any_other_json_is_spelled_faithfully_if_not_as_python_would(value):
    """Soundness: whatever the spelling, it reads back as the value itself, so a spelling that hashes
    right can only be the row as it was chained; one that differs from Python's only costs a second
    spelling."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ({_spelled_value('(%s::jsonb)', _JSON)})::text", [json.dumps(value)])
        assert json.loads(cursor.fetchone()[0]) == value


def test_a_row_the_database_spells_otherwise_is_spelled_again_in_python(open_case, dpo, monkeypatch):
    case = _awkward_case(open_case, dpo)
    respelled = []
    real = history._SpelledLayout.respell
    stream = history._CheckedLayout.stream
    # The database finds no row intact (as it would a row it spells otherwise than Python).
    monkeypatch.setattr(
        history._CheckedLayout, "stream", lambda self, *args: (row[:6] + (False,) for row in stream(self, *args))
    )
    monkeypatch.setattr(
        history._SpelledLayout, "respell", lambda self, values: respelled.append(values[0]) or real(self, values)
    )
    results = list(iter_verify_all())
    assert results and all(r.ok for r in results), [r.error for r in results if not r.ok]
    spelled_rows = sum(m.objects.count() for m in history.chained_history_models() if _spelled_layout(m))
    assert len(respelled) == spelled_rows > 0
    # An altered row is still caught when Python spells it.
    table = BreachCase.history.model._meta.db_table
    row = case.history.earliest("chain_seq")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for statement in drop_trigger_statements(connection.vendor, table):
            cursor.execute(statement)
        cursor.execute(f'UPDATE "{table}" SET description = %s WHERE history_id = %s', ["Réécrit", row.history_id])
    broken = [r for r in iter_verify_all() if not r.ok]
    assert len(broken) == 1 and f"history_id={row.history_id}" in broken[0].error and "altered" in broken[0].error


def test_an_altered_row_is_caught_on_the_spelled_path(open_case, dpo):
    case = _awkward_case(open_case, dpo)
    event = case.events.get()
    table = event.history.model._meta.db_table
    row = event.history.get()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for statement in drop_trigger_statements(connection.vendor, table):
            cursor.execute(statement)
        # A control character the forms refuse: the escape the database writes for it must not hide it.
        cursor.execute(
            f'UPDATE "{table}" SET description = description || chr(1) WHERE history_id = %s', [row.history_id]
        )
    broken = [r for r in iter_verify_all() if not r.ok]
    assert [r.chain_key for r in broken] == [case.history_chain_key()]
    assert f"history_id={row.history_id}" in broken[0].error and "altered" in broken[0].error


def test_inside_a_transaction_one_connection_reads_everything():
    # Other connections would not see the transaction's own rows.
    assert history.verify_workers() == 1


TAMPER = """
from django.db import connection, transaction
from cases.history import drop_trigger_statements
from cases.models import BreachCase
case = BreachCase.objects.order_by("pk")[3]
row = case.history.order_by("chain_seq")[1]
table = row._meta.db_table
with transaction.atomic(), connection.cursor() as cursor:
    for statement in drop_trigger_statements(connection.vendor, table):
        cursor.execute(statement)
    cursor.execute(f'UPDATE "{table}" SET title = %s WHERE history_id = %s', ["Réécrit", row.history_id])
print(row.history_id)
"""


@pytest.mark.postgres
def test_several_connections_give_the_verdicts_of_one(race_database):
    manage(race_database, "seed_demo")
    one = manage(race_database, "verify_history", "--jobs", "1")
    assert one.count(" rows, head ") > 20
    assert manage(race_database, "verify_history", "--jobs", "3") == one
    assert manage(race_database, "verify_history") == one  # the default: one connection per core
    history_id = manage(race_database, "shell", "-c", TAMPER).split()[-1]
    outputs = []
    for jobs in ("1", "3"):
        result = subprocess.run(
            [sys.executable, "manage.py", "verify_history", "--jobs", jobs],
            cwd=ROOT,
            env=env(race_database),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode != 0
        assert f"history_id={history_id}" in result.stderr and "altered" in result.stderr
        outputs.append((result.stdout, result.stderr))
    assert outputs[0] == outputs[1]
