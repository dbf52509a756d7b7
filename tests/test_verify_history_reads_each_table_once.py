"""verify_history reads each history table once, in (chain_key, chain_seq) order, whatever the number of chains."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import services
from cases.history import (
    ChainResult,
    chain_head,
    chained_history_models,
    drop_trigger_statements,
    iter_verify_all,
    records_without_history,
    verify_chain,
)
from cases.models import BreachCase
from tests.conftest import paris

pytestmark = pytest.mark.django_db


def _open(open_case, dpo, n: int) -> list[BreachCase]:
    cases = []
    for i in range(n):
        case = open_case(title=f"Incident {i}")
        services.timeline_event_add(case, occurred_at=paris(2024, 2, 1, 19), title=f"Coupure {i}", acting_user=dpo)
        cases.append(case)
    return cases


def _queries() -> tuple[int, list[ChainResult]]:
    with CaptureQueriesContext(connection) as captured:
        results = list(iter_verify_all())
    return len(captured.captured_queries), results


def test_the_query_count_does_not_grow_with_the_number_of_chains(open_case, dpo):
    _open(open_case, dpo, 1)
    few, results = _queries()
    assert all(r.ok for r in results) and len(results) == 2
    _open(open_case, dpo, 6)
    many, results = _queries()
    assert all(r.ok for r in results) and len(results) == 8
    assert many == few
    # One query per table for the records without history, one per table for the rows, the heads, the keys.
    assert few <= 2 * len(chained_history_models()) + 2


def test_every_history_table_has_a_chain_position_index():
    with connection.cursor() as cursor:
        for model in chained_history_models():
            constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
            indexed = [c["columns"] for c in constraints.values() if c["index"]]
            assert ["chain_key", "chain_seq"] in indexed, model._meta.db_table


def test_each_chain_gets_its_own_verdict_in_key_order_and_a_broken_one_spoils_no_other(open_case, dpo):
    cases = _open(open_case, dpo, 11)  # case:10 sorts before case:2 as text: the merge follows the database
    victim = cases[4]
    table = BreachCase.history.model._meta.db_table
    row = victim.history.earliest("chain_seq")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for statement in drop_trigger_statements(connection.vendor, table):
            cursor.execute(statement)
        cursor.execute(f'UPDATE "{table}" SET title = %s WHERE history_id = %s', ["Réécrit", row.history_id])
    results = list(iter_verify_all())
    keys = [r.chain_key for r in results]
    assert len(keys) == len(set(keys)) == 12
    broken = [r for r in results if not r.ok]
    assert [r.chain_key for r in broken] == [victim.history_chain_key()]
    assert f"history_id={row.history_id}" in broken[0].error and "altered" in broken[0].error
    for result in results:
        assert result == verify_chain(result.chain_key)
        if result.ok:
            assert (result.rows, result.head_hash) == chain_head(result.chain_key)


def test_records_without_history_are_found_with_an_anti_join(open_case, dpo):
    _open(open_case, dpo, 2)
    with CaptureQueriesContext(connection) as captured:
        assert list(records_without_history()) == []
    sql = " ".join(q["sql"] for q in captured.captured_queries).upper()
    assert "NOT EXISTS" in sql and " NOT IN " not in sql
