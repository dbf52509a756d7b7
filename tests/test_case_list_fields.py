"""The case list's stored fields (`BreachCase.next_due_at`) always equal what the obligations say.

They are written by the services' single write path (`services.common.save` of an obligation,
under the case lock); a sequence of service calls drawn at random checks that after each call the
stored value of every case equals the one recomputed from its obligations, that the case's own
history and version are untouched by it, and that a stale copy of a case saved later never
writes it back.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import services
from cases.models import BreachCase, Obligation
from tests.conftest import paris
from tests.filing_helpers import complete_by_filing

pytestmark = pytest.mark.django_db

OPERATIONS = (
    "move_awareness",
    "notify_no",
    "notify_yes",
    "complete_one",
    "not_applicable_one",
    "inform_no",
    "contain",
    "open_another",
)


def stored_equals_recomputed() -> None:
    for case in BreachCase.objects.all():
        recomputed = BreachCase.list_fields_of(case.pk)
        assert {"next_due_at": case.next_due_at} == recomputed, case.reference


def pending(case: BreachCase) -> list[Obligation]:
    return list(case.obligations.filter(state=Obligation.State.PENDING).order_by("due_at", "pk"))


def apply(operation: str, case: BreachCase, dpo, open_case, step: int) -> None:
    """One service call; a refusal (ValidationError) is a legitimate outcome that must change nothing."""
    case = BreachCase.objects.get(pk=case.pk)
    try:
        if operation == "move_awareness":
            services.case_update_facts(
                case,
                aware_at=paris(2024, 2, 1, 18, 0) + timedelta(hours=step % 5),
                change_reason="Journaux relus.",
                acting_user=dpo,
            )
        elif operation == "notify_no":
            services.decision_notify_authority(case, notify=False, reason="Données chiffrées.", acting_user=dpo)
        elif operation == "notify_yes":
            services.decision_notify_authority(case, notify=True, reason="Risque pour les personnes.", acting_user=dpo)
        elif operation == "inform_no":
            services.decision_inform_persons(case, inform=False, reason="Risque faible.", acting_user=dpo)
        elif operation == "complete_one":
            dated = [o for o in pending(case) if o.due_at]
            if dated:
                complete_by_filing(
                    dated[0], completed_at=paris(2024, 2, 3, 9, 0), late_reason="Analyse longue.", acting_user=dpo
                )
        elif operation == "not_applicable_one":
            left = pending(case)
            if left:
                services.obligation_mark_not_applicable(left[-1], reason="Sans objet ici.", acting_user=dpo)
        elif operation == "contain":
            services.case_contain(case, contained_at=paris(2024, 2, 2, 12, 0), acting_user=dpo)
        elif operation == "open_another":
            open_case(title=f"Dossier {step}", aware_at=paris(2024, 3, 1, 9, 0) + timedelta(days=step))
    except ValidationError:
        pass


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(st.sampled_from(OPERATIONS), min_size=1, max_size=8))
def test_after_every_service_call_the_stored_fields_equal_the_recomputed_ones(open_case, dpo, operations):
    case = open_case()
    stored_equals_recomputed()
    assert case.next_due_at is not None and case.next_due_at == BreachCase.list_fields_of(case.pk)["next_due_at"]
    for step, operation in enumerate(operations):
        apply(operation, case, dpo, open_case, step)
        stored_equals_recomputed()


def test_the_stored_field_is_the_earliest_pending_due_date_and_moves_with_the_obligations(open_case, dpo):
    case = open_case()
    cnil = case.obligations.get(rule_code="GDPR_33_1")
    earliest = min(o.due_at for o in pending(case) if o.due_at)
    assert BreachCase.objects.get(pk=case.pk).next_due_at == earliest
    services.decision_notify_authority(case, notify=False, reason="Données chiffrées.", acting_user=dpo)
    after = BreachCase.objects.get(pk=case.pk).next_due_at
    assert after == min((o.due_at for o in pending(case) if o.due_at), default=None)
    assert cnil.due_at != after or cnil.due_at != earliest


def test_the_derived_field_is_neither_history_nor_version_and_a_stale_copy_never_writes_it(open_case, dpo):
    case = open_case()
    stale = BreachCase.objects.get(pk=case.pk)
    before = BreachCase.objects.get(pk=case.pk)
    rows = case.history.count()
    services.decision_notify_authority(
        case, notify=False, reason="Données chiffrées.", acting_user=dpo, expected_version=case.version
    )
    after = BreachCase.objects.get(pk=case.pk)
    # The decision is a change of the case (one history row, one version); the stored field moved
    # with the obligations without adding any.
    assert after.version == before.version + 1 and case.history.count() == rows + 1
    assert "next_due_at" not in {f.name for f in BreachCase.history.model._meta.fields}
    # A copy of the case loaded before, saved through a service, keeps the stored field right.
    services.case_update_facts(stale, title="Titre corrigé", acting_user=dpo)
    assert BreachCase.objects.get(pk=case.pk).next_due_at == BreachCase.list_fields_of(case.pk)["next_due_at"]
    stored_equals_recomputed()


def test_the_case_list_sorts_on_the_stored_field(open_case, dpo):
    from django.utils import timezone

    from cases.selectors import board

    for n in range(3):
        open_case(title=f"Dossier {n}", aware_at=paris(2024, 2, 1 + n, 18, 0))
    with CaptureQueriesContext(connection) as queries:
        rows = list(board.case_list(dpo, now=timezone.now()))
    (sql,) = [q["sql"] for q in queries.captured_queries]
    assert "MIN(" not in sql.upper(), "the sort key is read, not aggregated over every case's obligations"
    assert [r.next_due_at for r in rows] == sorted(r.next_due_at for r in rows)
    assert all(
        r.overdue_count
        == Obligation.objects.filter(case=r, state=Obligation.State.PENDING, due_at__lt=timezone.now()).count()
        for r in rows
    )
