"""The dossier verifies the history chain while it streams it: same verdict as cases.history.verify_chain."""

from __future__ import annotations

import pytest
from django.db import connection

from cases.dossier.chain import ChainChecker
from cases.history import canonical_content, drop_trigger_statements, verify_chain
from cases.models import BreachCase
from cases.selectors.history import chain_history_rows

from .dossier_cases import rich_case


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def case(org, dpo, make_user):
    return rich_case(org, dpo, make_user)


def _check(case) -> ChainChecker:
    checker = ChainChecker(case.history_chain_key())
    for model, row in chain_history_rows(checker.chain_key):
        checker.feed(model, row)
    return checker


def test_streamed_rows_hash_like_the_history_module(case):
    checker = ChainChecker(case.history_chain_key())
    rows = list(chain_history_rows(checker.chain_key))
    assert len({model for model, _ in rows}) >= 5  # case, obligations, events, evidence, filing...
    for model, row in rows:
        instance = model.objects.get(pk=row["history_id"])
        assert checker.canonical(model, row) == canonical_content(instance)


def test_an_intact_chain_passes_in_one_pass_with_verify_chain_s_verdict(case):
    checker = _check(case)
    assert checker.error == ""  # no fallback to a second read
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
