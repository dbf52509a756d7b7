"""Every change leaves a chained history row with its user and reason, and tampering with the chain is detected."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from cases import services
from cases.history import (
    GENESIS,
    HistoryChainHead,
    canonical_content,
    chain_head,
    chained_history_models,
    drop_trigger_statements,
    row_hash,
    row_mac,
    verify_all,
    verify_chain,
)
from cases.models import BreachCase, Obligation, Organization, TimelineEvent
from tests.conftest import paris
from tests.filing_helpers import complete_by_filing

pytestmark = pytest.mark.django_db


def chain_rows(key: str) -> list:
    rows = [row for model in chained_history_models() for row in model.objects.filter(chain_key=key)]
    return sorted(rows, key=lambda row: row.chain_seq)


def tamper(model, sql: str, params: list) -> None:
    """Run raw SQL on a history table with its append-only triggers dropped (restored by the test's rollback)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # PostgreSQL will not alter a table with deferred constraint checks pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for statement in drop_trigger_statements(connection.vendor, table):
            cursor.execute(statement)
        cursor.execute(sql.format(table=f'"{table}"'), params)


@pytest.fixture
def worked_case(open_case, dpo):
    """A case opened, its facts corrected and its CNIL notification completed, all through the services."""
    case = open_case()
    case = services.case_update_facts(
        case, acting_user=dpo, change_reason="Awareness confirmed by the host's logs.", aware_at=paris(2024, 2, 1, 17)
    )
    ob = case.obligations.get(rule_code="GDPR_33_1")
    complete_by_filing(ob, completed_at=paris(2024, 2, 2, 10), reference="CNIL-123", acting_user=dpo)
    return BreachCase.objects.get(pk=case.pk)


def test_every_change_is_recorded_with_its_user_and_reason(worked_case, dpo):
    opened, updated = worked_case.history.order_by("chain_seq")
    assert (opened.history_type, opened.history_user, opened.history_change_reason) == ("+", dpo, "Dossier ouvert.")
    assert (updated.history_type, updated.history_user) == ("~", dpo)
    assert updated.history_change_reason == "Awareness confirmed by the host's logs."
    assert updated.aware_at == paris(2024, 2, 1, 17)

    ob = worked_case.obligations.get(rule_code="GDPR_33_1")
    done = ob.history.filter(state=Obligation.State.DONE).get()
    assert (done.history_user, done.history_change_reason) == (dpo, "Obligation remplie.")
    assert done.reference == "CNIL-123"
    for row in chain_rows(worked_case.history_chain_key()):
        assert row.history_user == dpo, row
        assert row.history_change_reason, row


def test_each_row_links_to_the_previous_one_and_the_head_matches(worked_case):
    key = worked_case.history_chain_key()
    rows = chain_rows(key)
    assert {type(row).__name__ for row in rows} >= {"HistoricalBreachCase", "HistoricalObligation"}
    assert [row.chain_seq for row in rows] == list(range(1, len(rows) + 1))
    prev = GENESIS
    for row in rows:
        assert row.chain_key == key
        assert row.chain_prev == prev
        assert row.chain_hash == row_hash(prev, row)
        # The documented form: SHA-256 over the previous hash, a newline and the canonical JSON, no secret.
        assert row.chain_hash == hashlib.sha256(f"{prev}\n{canonical_content(row)}".encode()).hexdigest()
        assert (
            row.chain_mac
            == hmac.new(settings.HISTORY_CHAIN_KEY.encode(), row.chain_hash.encode(), "sha256").hexdigest()
        )
        prev = row.chain_hash
    assert chain_head(key) == (len(rows), prev)


def test_organisations_have_their_own_chain(org, dpo):
    rows = chain_rows(f"org:{org.pk}")
    assert [type(row).__name__ for row in rows] == ["HistoricalOrganization", "HistoricalMembership"]
    assert verify_chain(f"org:{org.pk}").ok


def test_a_fresh_case_verifies(worked_case):
    result = verify_chain(worked_case.history_chain_key())
    assert result.ok, result.error
    assert (result.rows, result.head_hash) == chain_head(worked_case.history_chain_key())
    assert all(r.ok for r in verify_all()), [r.error for r in verify_all() if not r.ok]


def test_an_altered_row_is_named(worked_case):
    model = BreachCase.history.model
    first = worked_case.history.earliest("chain_seq")
    tamper(model, "UPDATE {table} SET title = %s WHERE history_id = %s", ["Nothing happened", first.history_id])
    result = verify_chain(worked_case.history_chain_key())
    assert not result.ok
    assert f"cases.HistoricalBreachCase history_id={first.history_id}" in result.error
    assert "position 1" in result.error
    assert "altered" in result.error


def test_an_altered_change_reason_or_user_is_detected(worked_case, make_user):
    model = Obligation.history.model
    row = model.objects.filter(chain_key=worked_case.history_chain_key()).latest("chain_seq")
    other = make_user()
    tamper(model, "UPDATE {table} SET history_user_id = %s WHERE history_id = %s", [other.pk, row.history_id])
    result = verify_chain(worked_case.history_chain_key())
    assert f"cases.HistoricalObligation history_id={row.history_id}" in result.error


def test_a_row_rehashed_without_the_key_is_caught_by_its_keyed_seal(worked_case):
    """The public SHA-256 chain can be recomputed by anyone; the HMAC seal only with HISTORY_CHAIN_KEY."""
    model = BreachCase.history.model
    first = worked_case.history.earliest("chain_seq")
    first.title = "Nothing happened"
    new_hash = row_hash(GENESIS, first)
    tamper(
        model,
        "UPDATE {table} SET title = %s, chain_hash = %s WHERE history_id = %s",
        ["Nothing happened", new_hash, first.history_id],
    )
    result = verify_chain(worked_case.history_chain_key())
    assert "position 1" in result.error
    assert "keyed seal" in result.error


def test_a_rehashed_and_resealed_row_breaks_the_link_of_the_next_one(worked_case):
    """Recomputing a tampered row's own hash and seal moves the break to the next row."""
    model = BreachCase.history.model
    first = worked_case.history.earliest("chain_seq")
    first.title = "Nothing happened"
    new_hash = row_hash(GENESIS, first)
    tamper(
        model,
        "UPDATE {table} SET title = %s, chain_hash = %s, chain_mac = %s WHERE history_id = %s",
        ["Nothing happened", new_hash, row_mac(new_hash), first.history_id],
    )
    result = verify_chain(worked_case.history_chain_key())
    assert "position 2" in result.error
    assert "does not link to the previous row" in result.error


def test_deleting_the_last_row_is_detected_by_the_head(worked_case):
    key = worked_case.history_chain_key()
    last = chain_rows(key)[-1]
    tamper(type(last), "DELETE FROM {table} WHERE history_id = %s", [last.history_id])
    result = verify_chain(key)
    assert not result.ok
    assert f"ends at position {last.chain_seq - 1} but its head records position {last.chain_seq}" in result.error


def test_deleting_a_middle_row_is_detected(worked_case):
    key = worked_case.history_chain_key()
    rows = chain_rows(key)
    middle, after = rows[2], rows[3]
    tamper(type(middle), "DELETE FROM {table} WHERE history_id = %s", [middle.history_id])
    result = verify_chain(key)
    assert f"row missing before {after._meta.label} history_id={after.history_id}" in result.error
    assert f"expected position {middle.chain_seq}" in result.error


def test_erasing_a_whole_chain_and_its_head_is_detected(open_case):
    case = open_case()
    key = case.history_chain_key()
    for model in chained_history_models():
        tamper(model, "DELETE FROM {table} WHERE chain_key = %s", [key])
    HistoryChainHead.objects.filter(chain_key=key).delete()
    errors = [r.error for r in verify_all() if not r.ok]
    assert f"cases.BreachCase id={case.pk} has no history row (chain {key})" in errors


def test_a_record_written_around_the_history_is_detected(org):
    with transaction.atomic():
        # A plain QuerySet's bulk_create (the audited manager refuses it) sends no signal: no history row.
        (ghost,) = models.QuerySet(Organization).bulk_create([Organization(name="Ghost", code="ghost")])
    errors = [r.error for r in verify_all() if not r.ok]
    assert errors == [f"cases.Organization id={ghost.pk} has no history row (chain org:{ghost.pk})"]


def test_a_history_date_override_is_ignored(org):
    before = timezone.now()
    org.name = "Backdated"
    org._history_date = paris(2001, 1, 1)
    org._history_user = None
    org._change_reason = "Backdating attempt"
    with transaction.atomic():
        org.save()
    row = org.history.latest("chain_seq")
    assert row.history_change_reason == "Backdating attempt"
    assert before <= row.history_date <= timezone.now()
    assert verify_chain(f"org:{org.pk}").ok


def _case_history_row(**values):
    return BreachCase.history.model(chain_key="case:1", chain_seq=1, chain_prev=GENESIS, **values)


@pytest.mark.parametrize("value", [Decimal("3.5"), Decimal("3.50"), Decimal("3.500"), "3.5", 3.5])
def test_decimals_hash_the_same_whatever_their_spelling(value):
    assert canonical_content(_case_history_row(severity_score=value)) == canonical_content(
        _case_history_row(severity_score=Decimal("3.50"))
    )


@pytest.mark.parametrize(
    "value",
    [
        paris(2024, 2, 1, 18, 0),
        dt.datetime(2024, 2, 1, 17, 0, tzinfo=dt.UTC),
        dt.datetime(2024, 2, 1, 18, 0),  # naive: Django stores it in the default time zone, Europe/Paris
    ],
)
def test_datetimes_hash_the_same_whatever_their_zone(value):
    expected = canonical_content(_case_history_row(aware_at=paris(2024, 2, 1, 18, 0)))
    assert canonical_content(_case_history_row(aware_at=value)) == expected
    with timezone.override("America/New_York"):
        assert canonical_content(_case_history_row(aware_at=value)) == expected


@pytest.mark.parametrize(
    ("value", "same_as"),
    [
        (("health", "nir"), ["health", "nir"]),
        ({"b": 1, "a": [1, 2]}, {"a": [1, 2], "b": 1}),
        ({1: "x", "GDPR_34": 48}, {"1": "x", "GDPR_34": 48}),
    ],
)
def test_json_hashes_as_the_database_keeps_it(value, same_as):
    assert canonical_content(_case_history_row(data_categories=value)) == canonical_content(
        _case_history_row(data_categories=same_as)
    )


@pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime:RuntimeWarning")
def test_rows_read_back_hash_as_they_were_written(org, open_case, dpo):
    """Values whose Python form differs from what the database returns still verify."""
    case = open_case()
    services.case_update_facts(
        case,
        acting_user=dpo,
        change_reason="Assessment",
        data_categories=("health", "nir"),
        severity_ei=Decimal("0.5"),
        severity_cb_confidentiality=Decimal("0.25"),
    )
    with transaction.atomic(), timezone.override("America/New_York"):
        event = TimelineEvent(case=case, occurred_at=dt.datetime(2024, 2, 1, 20, 0), title="Naive", created_by=dpo)
        event.save()
        org.internal_targets = {"GDPR_34": 48, "CNIL": 12}
        org.save()
    event.refresh_from_db()
    assert event.occurred_at == paris(2024, 2, 1, 20, 0)
    for result in verify_all():
        assert result.ok, result.error


def test_a_chain_rebuilt_without_the_key_does_not_verify(open_case, settings):
    """Write access to the database is not enough: the chain is keyed with a secret held outside it."""
    from cases.history import verify_chain

    case = open_case()
    key = case.history_chain_key()
    assert verify_chain(key).ok
    settings.HISTORY_CHAIN_KEY = "an attacker's guess"
    result = verify_chain(key)
    assert not result.ok and "keyed seal" in result.error


def test_the_seals_are_never_shown_as_changes(worked_case):
    """chain_hash and chain_mac describe the version, not the object: no history page or dossier lists them."""
    from cases.history import chain_rows as stream
    from cases.selectors.history import field_changes

    previous: dict = {}
    for model, row in stream(worked_case.history_chain_key()):
        before = previous.get((model, row["id"]))
        names = {field.attname for field, _, _ in field_changes(model, before, row)}
        assert not {n for n in names if n.startswith("chain_")}, names
        previous[(model, row["id"])] = row
