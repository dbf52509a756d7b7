"""The two clocks: first signal and awareness (EDPB Guidelines 9/2022), and how moving awareness is audited."""

from __future__ import annotations

from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError

from cases import services
from cases.models import BreachCase, Obligation
from tests.conftest import paris
from tests.filing_helpers import complete_by_filing

NOW = paris(2024, 2, 10, 12, 0)


def _errors(exc: pytest.ExceptionInfo) -> dict:
    return exc.value.message_dict


def test_aware_at_is_required(open_case):
    with pytest.raises(ValidationError) as exc:
        open_case(aware_at=None)
    assert "aware_at" in _errors(exc)
    assert not BreachCase.objects.exists()


@pytest.mark.parametrize("justification", ["", "   "])
def test_aware_at_needs_a_written_justification(open_case, justification):
    with pytest.raises(ValidationError) as exc:
        open_case(aware_justification=justification)
    assert "aware_justification" in _errors(exc)
    assert not BreachCase.objects.exists()


def test_awareness_cannot_precede_the_first_signal(open_case):
    with pytest.raises(ValidationError) as exc:
        open_case(first_signal_at=paris(2024, 2, 1, 9, 0), aware_at=paris(2024, 2, 1, 8, 59))
    assert "aware_at" in _errors(exc)


def test_awareness_at_the_first_signal_is_accepted(open_case):
    case = open_case(first_signal_at=paris(2024, 2, 1, 9, 0), aware_at=paris(2024, 2, 1, 9, 0))
    assert case.aware_at == case.first_signal_at


@pytest.mark.parametrize("field", ["first_signal_at", "aware_at"])
def test_future_clocks_are_refused(open_case, field):
    with mock.patch("cases.services.common.now", return_value=NOW), pytest.raises(ValidationError) as exc:
        open_case(**{field: NOW + timedelta(hours=1)})
    assert field in _errors(exc)


def test_a_few_minutes_of_clock_skew_are_tolerated(open_case):
    with mock.patch("cases.services.common.now", return_value=NOW):
        case = open_case(first_signal_at=NOW, aware_at=NOW + timedelta(minutes=2))
    assert case.pk


@pytest.mark.parametrize("field", ["first_signal_at", "aware_at"])
def test_naive_datetimes_are_refused_with_a_clear_error(open_case, field):
    with pytest.raises(ValidationError) as exc:
        open_case(**{field: datetime(2024, 2, 1, 10, 0)})
    assert "fuseau horaire" in " ".join(_errors(exc)[field])
    assert not BreachCase.objects.exists()


@pytest.mark.parametrize("field", ["occurred_from", "dora_classified_at", "processor_alerted_at"])
def test_other_instants_must_be_aware_and_not_future(open_case, field):
    with pytest.raises(ValidationError) as exc:
        open_case(**{field: datetime(2024, 2, 1, 10, 0)})
    assert field in _errors(exc)
    with mock.patch("cases.services.common.now", return_value=NOW), pytest.raises(ValidationError) as exc:
        open_case(**{field: NOW + timedelta(days=1)})
    assert field in _errors(exc)


def test_a_breach_cannot_end_before_it_started(open_case):
    with pytest.raises(ValidationError) as exc:
        open_case(occurred_from=paris(2024, 1, 30), occurred_to=paris(2024, 1, 29))
    assert "occurred_to" in _errors(exc)


def test_naive_aware_at_is_refused_on_update(open_case, dpo):
    case = open_case()
    with pytest.raises(ValidationError) as exc:
        services.case_update_facts(
            case, acting_user=dpo, aware_at=datetime(2024, 2, 1, 20, 0), change_reason="Re-dated."
        )
    assert "aware_at" in _errors(exc)


def test_changing_aware_at_requires_a_change_reason(open_case, dpo):
    case = open_case()
    rows = case.history.count()
    with pytest.raises(ValidationError) as exc:
        services.case_update_facts(case, acting_user=dpo, aware_at=paris(2024, 2, 1, 10, 0))
    assert "change_reason" in _errors(exc)
    case.refresh_from_db()
    assert case.aware_at == paris(2024, 2, 1, 18, 0)
    assert case.history.count() == rows


def test_changing_the_first_signal_also_requires_a_reason(open_case, dpo):
    case = open_case()
    with pytest.raises(ValidationError) as exc:
        services.case_update_facts(case, acting_user=dpo, first_signal_at=paris(2024, 2, 1, 8, 0))
    assert "change_reason" in _errors(exc)


def test_moving_aware_at_before_the_first_signal_is_refused(open_case, dpo):
    case = open_case()
    with pytest.raises(ValidationError) as exc:
        services.case_update_facts(
            case, acting_user=dpo, aware_at=paris(2024, 2, 1, 8, 0), change_reason="Earlier evidence."
        )
    assert "aware_at" in _errors(exc)


def test_changing_aware_at_recomputes_running_deadlines(open_case, dpo):
    case = open_case()
    earlier = paris(2024, 2, 1, 10, 0)
    services.case_update_facts(
        case, acting_user=dpo, aware_at=earlier, change_reason="SOC logs show the exfiltration at 10:00."
    )
    ob = case.obligations.get(rule_code="GDPR_33_1")
    assert ob.anchor_at == earlier
    assert ob.due_at == earlier + timedelta(hours=72)
    assert ob.history.first().history_change_reason == "SOC logs show the exfiltration at 10:00."


def test_changing_aware_at_leaves_completed_obligations_untouched(open_case, dpo):
    case = open_case()
    cnil = case.obligations.get(rule_code="GDPR_33_1")
    complete_by_filing(cnil, completed_at=paris(2024, 2, 3, 12, 0), reference="CNIL-1", acting_user=dpo)
    cnil.refresh_from_db()
    frozen = (cnil.anchor_at, cnil.due_at, cnil.completed_at)
    rows = cnil.history.count()

    # Awareness moved 2 days earlier: the notification made on 3 Feb would now be late,
    # but it was completed against the due date of the time.
    services.case_update_facts(
        case,
        acting_user=dpo,
        aware_at=paris(2024, 1, 30, 9, 0),
        first_signal_at=paris(2024, 1, 30, 9, 0),
        change_reason="The first alert was older.",
    )
    cnil.refresh_from_db()
    assert (cnil.anchor_at, cnil.due_at, cnil.completed_at) == frozen
    assert cnil.state == Obligation.State.DONE
    assert cnil.history.count() == rows
    assert cnil.status(now=paris(2024, 3, 1)).value == "done_on_time"


def test_the_reason_and_the_user_are_in_the_history_row(open_case, dpo):
    case = open_case()
    services.case_update_facts(
        case, acting_user=dpo, aware_at=paris(2024, 2, 1, 12, 0), change_reason="Forensic report of 2 Feb."
    )
    row = case.history.first()
    assert row.aware_at == paris(2024, 2, 1, 12, 0)
    assert row.history_change_reason == "Forensic report of 2 Feb."
    assert row.history_user == dpo
    assert row.prev_record.aware_at == paris(2024, 2, 1, 18, 0)


def test_an_unchanged_clock_needs_no_reason_and_writes_nothing(open_case, dpo):
    case = open_case()
    rows = case.history.count()
    services.case_update_facts(case, acting_user=dpo, aware_at=paris(2024, 2, 1, 18, 0))
    assert case.history.count() == rows


def test_a_closed_case_cannot_have_its_clocks_moved(open_case, dpo):
    case = open_case()
    for ob in case.obligations.exclude(rule_code="GDPR_33_5"):
        services.obligation_mark_not_applicable(ob, reason="Test: not needed.", acting_user=dpo)
    services.case_close(case, reason="Done.", acting_user=dpo)
    with pytest.raises(ValidationError, match="Ce dossier est clos"):
        services.case_update_facts(
            case, acting_user=dpo, aware_at=paris(2024, 2, 1, 12, 0), change_reason="Late correction."
        )
