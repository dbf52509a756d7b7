"""The whole-database pass (verify_history) catches every tampering the one-chain check does, with the same verdict.

On PostgreSQL the pass has the database spell and hash each row and checks the rest in Python (links,
keyed seals, heads); the one-chain check (the dossier's) spells and hashes in Python. Each tampering
below must break the chain on both, naming the same row the same way.
"""

from __future__ import annotations

import pytest

from cases.history import GENESIS, iter_verify_all, row_hash, row_mac, verify_chain
from cases.models import BreachCase, Obligation
from tests import test_history_chain
from tests.test_history_chain import chain_rows, tamper

pytestmark = pytest.mark.django_db

worked_case = test_history_chain.worked_case  # a case opened, corrected and notified through the services


def _title(case, title="Nothing happened"):
    first = case.history.earliest("chain_seq")
    first.title = title
    return first, row_hash(GENESIS, first)


def altered_content(case):
    first = case.history.earliest("chain_seq")
    tamper(BreachCase.history.model, "UPDATE {table} SET title = %s WHERE history_id = %s", ["Rien", first.history_id])


def altered_late_column(case):
    # A column left out of the canonical form while it holds its old value (LATE_COLUMNS) given another.
    first = case.history.earliest("chain_seq")
    tamper(
        BreachCase.history.model,
        "UPDATE {table} SET closed_recorded_at = history_date WHERE history_id = %s",
        [first.history_id],
    )


def altered_user(case):
    row = Obligation.history.model.objects.filter(chain_key=case.history_chain_key()).latest("chain_seq")
    tamper(
        Obligation.history.model, "UPDATE {table} SET history_user_id = NULL WHERE history_id = %s", [row.history_id]
    )


def rehashed_without_the_key(case):
    first, new_hash = _title(case)
    tamper(
        BreachCase.history.model,
        "UPDATE {table} SET title = %s, chain_hash = %s WHERE history_id = %s",
        [first.title, new_hash, first.history_id],
    )


def rehashed_and_resealed(case):
    first, new_hash = _title(case)
    tamper(
        BreachCase.history.model,
        "UPDATE {table} SET title = %s, chain_hash = %s, chain_mac = %s WHERE history_id = %s",
        [first.title, new_hash, row_mac(new_hash), first.history_id],
    )


def hash_copied_from_another_row(case):
    first, second = chain_rows(case.history_chain_key())[:2]
    tamper(
        type(first),
        "UPDATE {table} SET chain_hash = %s, chain_mac = %s WHERE history_id = %s",
        [second.chain_hash, second.chain_mac, first.history_id],
    )


def reordered(case):
    rows = [row for row in chain_rows(case.history_chain_key()) if isinstance(row, BreachCase.history.model)]
    a, b = rows[0], rows[1]
    for history_id, seq in ((a.history_id, 10**6), (b.history_id, a.chain_seq), (a.history_id, b.chain_seq)):
        tamper(type(a), "UPDATE {table} SET chain_seq = %s WHERE history_id = %s", [seq, history_id])


def removed_last(case):
    last = chain_rows(case.history_chain_key())[-1]
    tamper(type(last), "DELETE FROM {table} WHERE history_id = %s", [last.history_id])


def removed_middle(case):
    middle = chain_rows(case.history_chain_key())[2]
    tamper(type(middle), "DELETE FROM {table} WHERE history_id = %s", [middle.history_id])


@pytest.mark.parametrize(
    "tampering",
    [
        altered_content,
        altered_late_column,
        altered_user,
        rehashed_without_the_key,
        rehashed_and_resealed,
        hash_copied_from_another_row,
        reordered,
        removed_last,
        removed_middle,
    ],
    ids=lambda tampering: tampering.__name__,
)
def test_the_pass_breaks_the_chain_as_the_one_chain_check_does(worked_case, tampering):
    key = worked_case.history_chain_key()
    assert [r.error for r in iter_verify_all() if not r.ok] == []
    tampering(worked_case)
    expected = verify_chain(key)
    assert not expected.ok
    broken = [r for r in iter_verify_all() if not r.ok]
    assert [(r.chain_key, r.error) for r in broken] == [(key, expected.error)]


def test_a_chain_rebuilt_without_the_key_does_not_verify(worked_case, settings):
    settings.HISTORY_CHAIN_KEY = "an attacker's guess"
    broken = [r for r in iter_verify_all() if not r.ok]
    assert broken and all("keyed seal" in r.error for r in broken)
    assert [r.error for r in broken if r.chain_key == worked_case.history_chain_key()] == [
        verify_chain(worked_case.history_chain_key()).error
    ]
