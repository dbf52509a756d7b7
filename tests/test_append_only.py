"""History is append-only: the database refuses UPDATE and DELETE on every history table, and no screen reverts."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction

from cases import services
from cases.history import (
    TRIGGER_MESSAGE,
    chained_history_models,
    drop_trigger_statements,
    tables_with_append_only_triggers,
)
from cases.models import BreachCase, Membership, Obligation, Organization
from tests.conftest import paris
from webhooks import services as webhook_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def every_history_table(settings, tmp_path, make_org, make_user, make_relationship):
    """At least one row in every history table, written through the services."""
    settings.MEDIA_ROOT = tmp_path
    processor = make_org(name="Hébergeur", code="host", kind=Organization.Kind.PROCESSOR, is_dora_entity=True)
    controller = make_org(name="Client", code="client", kind=Organization.Kind.CONTROLLER)
    dpo = make_user(processor, Membership.Role.DPO)
    case = services.case_open(
        organization=processor,
        title="Serveur exposé",
        first_signal_at=paris(2024, 3, 4, 9, 0),
        aware_at=paris(2024, 3, 4, 11, 0),
        aware_justification="The exposed bucket held member files.",
        acting_user=dpo,
    )
    notice = services.controller_add(
        case, relationship=make_relationship(processor, controller), acting_user=dpo, notice_period_hours=24
    )
    services.dora_facts_update(case, lei="969500ABCDEFGHIJKL12", acting_user=dpo)  # a DORA financial entity
    # A received notice (the controller's inbox) too.
    services.controller_inform(notice, informed_at=paris(2024, 3, 4, 13, 0), acting_user=dpo)
    services.timeline_event_add(case, occurred_at=paris(2024, 3, 4, 12, 0), title="Bucket closed", acting_user=dpo)
    proof = services.evidence_add(
        case, uploaded_file=SimpleUploadedFile("proof.txt", b"access log extract\n"), acting_user=dpo
    )
    services.filing_record(
        case, kind="other", sent_at=paris(2024, 3, 4, 15, 0), recipient="CERT", evidence=proof, acting_user=dpo
    )
    services.member_communication_record(
        case,
        channel="email",
        sent_at=paris(2024, 3, 5, 10, 0),
        recipients_count=120,
        text="Vos données ont été exposées.",
        acting_user=dpo,
    )
    controller_dpo = make_user(controller, Membership.Role.DPO)
    own_case = services.case_open(
        organization=controller,
        title="Courrier mal adressé",
        first_signal_at=paris(2024, 3, 4, 9, 0),
        aware_at=paris(2024, 3, 4, 11, 0),
        aware_justification="The letter reached another member.",
        acting_user=controller_dpo,
    )
    submission = services.submission_draft(
        own_case, obligation=own_case.obligations.get(rule_code="GDPR_33_1"), acting_user=controller_dpo
    )
    submission = services.submission_submit_for_review(submission, acting_user=controller_dpo)
    services.submission_approve(submission, comment="OK", acting_user=make_user(controller, Membership.Role.LEGAL))
    webhook_services.endpoint_create(
        organization=controller,
        url="https://siem.example/hook",
        events=["case.opened"],
        acting_user=make_user(controller, Membership.Role.ADMIN),
    )
    return case


def _history_tables() -> list[str]:
    return sorted(model._meta.db_table for model in chained_history_models())


def _one_row(table: str) -> tuple[int, str]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT history_id, chain_hash FROM "{table}" ORDER BY history_id LIMIT 1')
        row = cursor.fetchone()
    assert row is not None, f"{table} has no row: extend the every_history_table fixture to write one"
    return row


def _refused(sql: str, params: list) -> None:
    with pytest.raises(DatabaseError, match=TRIGGER_MESSAGE), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_every_history_model_is_covered():
    tracked = {model.instance_type for model in chained_history_models()}
    assert {BreachCase, Obligation, Organization, Membership} <= tracked
    assert len(tracked) == 14, "a new history model: extend the every_history_table fixture"


def test_every_history_table_has_the_triggers():
    missing = set(_history_tables()) - tables_with_append_only_triggers()
    assert not missing, f"history tables without append-only triggers (add a trigger migration): {sorted(missing)}"


def test_a_dropped_trigger_is_noticed():
    table = _history_tables()[0]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(drop_trigger_statements(connection.vendor, table)[0])
        assert table not in tables_with_append_only_triggers()
        transaction.set_rollback(True)
    assert table in tables_with_append_only_triggers()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="trigger bodies are checked on SQLite")
def test_a_trigger_that_no_longer_refuses_is_noticed_on_sqlite():
    table = _history_tables()[0]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f'DROP TRIGGER "{table}_no_update"')
            cursor.execute(f'CREATE TRIGGER "{table}_no_update" BEFORE UPDATE ON "{table}" BEGIN SELECT 1; END')
        assert table not in tables_with_append_only_triggers()
        transaction.set_rollback(True)


@pytest.mark.parametrize("table", _history_tables())
def test_raw_update_is_refused(every_history_table, table):
    history_id, chain_hash = _one_row(table)
    _refused(f'UPDATE "{table}" SET history_change_reason = %s WHERE history_id = %s', ["rewritten", history_id])
    _refused(f'UPDATE "{table}" SET chain_hash = %s WHERE history_id = %s', ["0" * 64, history_id])
    assert _one_row(table) == (history_id, chain_hash)


@pytest.mark.parametrize("table", _history_tables())
def test_raw_delete_is_refused(every_history_table, table):
    row = _one_row(table)
    _refused(f'DELETE FROM "{table}" WHERE history_id = %s', [row[0]])
    _refused(f'DELETE FROM "{table}"', [])
    assert _one_row(table) == row


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_truncate_is_refused_on_postgresql(every_history_table):
    with connection.cursor() as cursor:
        # Otherwise the deferred foreign-key checks of this test's writes refuse TRUNCATE first.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for table in _history_tables():
        _refused(f'TRUNCATE "{table}"', [])
        assert _one_row(table)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigger states are PostgreSQL's")
def test_a_disabled_trigger_is_noticed_on_postgresql():
    table = _history_tables()[0]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER "{table}_append_only"')
        assert table not in tables_with_append_only_triggers()
        transaction.set_rollback(True)


def test_revert_is_disabled(settings):
    assert settings.SIMPLE_HISTORY_REVERT_DISABLED is True


@pytest.fixture
def superuser_client(login):
    return login(get_user_model().objects.create_superuser("root", "root@example.org", "x" * 16))


@pytest.fixture
def admin_client_with_renamed_case(superuser_client, open_case, dpo):
    case = open_case(title="Original title")
    services.case_update_facts(case, acting_user=dpo, change_reason="Renamed", title="Renamed")
    return superuser_client, BreachCase.objects.get(pk=case.pk)


def test_the_admin_history_pages_offer_no_revert(admin_client_with_renamed_case):
    client, case = admin_client_with_renamed_case
    first = case.history.earliest("history_id")
    listing = client.get(f"/admin/cases/breachcase/{case.pk}/history/")
    version = client.get(f"/admin/cases/breachcase/{case.pk}/history/{first.history_id}/")
    assert listing.status_code == version.status_code == 200
    page = version.content.decode()
    assert 'class="submit-row"' in page
    assert 'name="_save"' not in page
    assert 'name="_change_history"' not in page


def test_posting_to_a_case_history_version_changes_nothing(admin_client_with_renamed_case):
    client, case = admin_client_with_renamed_case
    first = case.history.earliest("history_id")
    response = client.post(
        f"/admin/cases/breachcase/{case.pk}/history/{first.history_id}/", {"title": "Original title"}
    )
    assert response.status_code == 405
    case.refresh_from_db()
    assert case.title == "Renamed"
    assert case.history.count() == 2


def test_posting_to_an_organisation_history_version_reverts_nothing(superuser_client, org):
    rename = {
        "name": "Renamed through the revert URL",
        "code": org.code,
        "kind": org.kind,
        "undue_delay_target_hours": org.undue_delay_target_hours,
        "internal_targets": "{}",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    first = org.history.earliest("history_id")
    response = superuser_client.post(f"/admin/cases/organization/{org.pk}/history/{first.history_id}/", rename)
    assert response.status_code == 405
    org.refresh_from_db()
    assert org.name == "Mutuelle Exemple"
    assert org.history.count() == 1
