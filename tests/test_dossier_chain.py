"""The dossier verifies the history chain while it streams it, with the same verifier as verify_history."""

from __future__ import annotations

import pytest
from django.db import connection

from cases.history import (
    ChainVerifier,
    canonical_content,
    canonical_values,
    chain_rows,
    drop_trigger_statements,
    verify_chain,
)
from cases.models import BreachCase

from .dossier_cases import rich_case


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def case(org, dpo, make_user):
    return rich_case(org, dpo, make_user)


def _check(case) -> ChainVerifier:
    checker = ChainVerifier(case.history_chain_key())
    for model, row in chain_rows(checker.key):
        checker.feed(model, row)
    return checker


def test_streamed_rows_hash_like_the_history_module(case):
    rows = list(chain_rows(case.history_chain_key()))
    assert len({model for model, _ in rows}) >= 5  # case, obligations, events, evidence, filing...
    for model, row in rows:
        instance = model.objects.get(pk=row["history_id"])
        assert canonical_values(model, row) == canonical_content(instance)


def test_an_intact_chain_passes_in_one_pass_with_verify_chain_s_verdict(case):
    checker = _check(case)
    assert checker.error == ""
    assert checker.result() == verify_chain(case.history_chain_key())
    assert checker.result().ok


def test_a_rewritten_row_is_reported_with_verify_chain_s_diagnosis(case):
    table = BreachCase.history.model._meta.db_table
    with connection.cursor() as cursor:
        for statement in drop_trigger_statements(connection.vendor, table):
            cursor.execute(statement)
        cursor.execute(f"UPDATE {table} SET description = %s WHERE id = %s", ["réécrit", case.pk])  # noqa: S608
    result = _check(case).result()
    assert not result.ok
    assert result == verify_chain(case.history_chain_key())
