"""Existing rows get the public SHA-256 chain from a migration that first verifies their HMAC chain,
re-chains them with the triggers dropped inside it, and changes nothing when a row is already broken."""

from __future__ import annotations

import hashlib
import hmac
import importlib

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection

from cases import services
from cases.history import (
    GENESIS,
    canonical_content,
    chained_history_models,
    drop_trigger_statements,
    tables_with_append_only_triggers,
    verify_all,
)
from cases.models import BreachCase
from tests.conftest import paris

pytestmark = pytest.mark.django_db

migration = importlib.import_module("cases.migrations.0005_history_public_sha256_chain")


def seals() -> dict[tuple[str, int], tuple[str, str, str]]:
    return {
        (model._meta.db_table, row.history_id): (row.chain_prev, row.chain_hash, row.chain_mac)
        for model in chained_history_models()
        for row in model.objects.all()
    }


@pytest.fixture
def history(open_case, dpo):
    case = open_case()
    services.timeline_event_add(case, occurred_at=paris(2024, 2, 1, 19), title="Coupure", acting_user=dpo)
    services.case_update_facts(case, acting_user=dpo, change_reason="Précision", description="Portail fermé.")
    return case


def test_the_old_chain_is_verified_then_every_row_is_rechained_both_ways(history):
    editor = connection.schema_editor()  # its execute() alone, inside the test's transaction
    public = seals()
    first = history.history.earliest("chain_seq")
    migration.backwards(apps, editor)  # back to the HMAC-only chain
    old = seals()
    assert set(old) == set(public) and all(old[k] != public[k] for k in public)
    old_first = BreachCase.history.model.objects.get(history_id=first.history_id)
    expected = hmac.new(
        settings.HISTORY_CHAIN_KEY.encode(), f"{GENESIS}\n{canonical_content(old_first)}".encode(), hashlib.sha256
    ).hexdigest()
    assert (old_first.chain_hash, old_first.chain_mac) == (expected, "")

    migration.forwards(apps, editor)
    assert seals() == public
    assert all(result.ok for result in verify_all())
    assert {m._meta.db_table for m in chained_history_models()} <= tables_with_append_only_triggers()


def test_a_broken_old_chain_stops_the_migration_and_nothing_is_rewritten(history):
    editor = connection.schema_editor()
    migration.backwards(apps, editor)
    model = BreachCase.history.model
    row = history.history.latest("chain_seq")
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for statement in drop_trigger_statements(connection.vendor, table):
            cursor.execute(statement)
        cursor.execute(f'UPDATE "{table}" SET title = %s WHERE history_id = %s', ["Réécrit", row.history_id])
    before = seals()
    with pytest.raises(migration.BrokenHistoryError, match=f"history_id={row.history_id} .* nothing was changed"):
        migration.forwards(apps, editor)
    assert seals() == before
