"""Migration 0008 gives every notice sent before relationships existed an accepted relationship, and the
notice that opened a controller's case its received notice, each with a history row that verifies."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from cases import services
from cases.history import verify_all
from cases.models import BreachCase, ControllerNotice, Membership, Organization, ProcessingRelationship, ReceivedNotice
from cases.services.cases import save_new_case
from tests.conftest import paris

pytestmark = pytest.mark.django_db

migration = importlib.import_module("cases.migrations.0008_processing_relationships")


def test_existing_notices_get_an_accepted_relationship_and_a_verified_history(make_org, make_user):
    operator = make_org(name="Opérateur", code="op", kind=Organization.Kind.PROCESSOR)
    insurers = [make_org(name=f"Assureur {n}", code=f"as{n}", siren=f"99900000{n}") for n in range(2)]
    dpo = make_user(operator, Membership.Role.DPO)
    insurer_dpo = make_user(insurers[0], Membership.Role.DPO)
    cases = [
        services.case_open(
            organization=operator,
            title=f"Incident {n}",
            first_signal_at=paris(2024, 2, 1, 9),
            aware_at=paris(2024, 2, 1, 10),
            aware_justification="Confirmed.",
            acting_user=dpo,
        )
        for n in range(2)
    ]
    # The notices as the code before relationships wrote them: a controller organisation, no relationship.
    legacy = []
    with transaction.atomic():
        for case in cases:
            for insurer in insurers:
                notice = ControllerNotice(case=case, controller=insurer, informed_at=paris(2024, 2, 1, 12))
                notice._history_user = dpo
                notice.save()
                legacy.append(notice)
        opened = BreachCase(
            organization=insurers[0],
            title="Ouvert par le sous-traitant",
            first_signal_at=paris(2024, 2, 1, 12),
            aware_at=paris(2024, 2, 1, 12),
            aware_justification="Notice.",
            source_notice=legacy[0],
            created_by=insurer_dpo,
        )
        save_new_case(opened, acting_user=insurer_dpo, reason="legacy")

    state = MigrationExecutor(connection).loader.project_state(("cases", "0008_processing_relationships")).apps
    with transaction.atomic():
        migration.link_existing_notices(state, None)

    relationships = ProcessingRelationship.objects.order_by("pk")
    assert relationships.count() == 2  # one per (processor, controller) pair
    assert all(r.is_active and r.processor == operator and r.controller in insurers for r in relationships)
    for notice in ControllerNotice.objects.all():
        assert notice.relationship.controller_id == notice.controller_id
        assert notice.controller_name == notice.controller.name
    receipt = ReceivedNotice.objects.get()
    assert receipt.notice_id == legacy[0].pk and receipt.case == opened and receipt.decision == "opened"
    problems = [r for r in verify_all() if not r.ok]
    assert not problems, problems
