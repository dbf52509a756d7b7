"""Late completions need reasons for the delay (GDPR Art. 33(1)), and lateness is judged once, at completion."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from cases import services
from cases.models import Filing, Obligation
from tests.conftest import paris
from tests.filing_helpers import complete_by_filing

AWARE = paris(2024, 2, 1, 18, 0)
DUE = AWARE + timedelta(hours=72)


@pytest.fixture
def cnil(open_case):
    return open_case().obligations.get(rule_code="GDPR_33_1")


def test_late_completion_without_a_reason_is_refused_and_saves_nothing(cnil, dpo):
    rows = cnil.history.count()
    with pytest.raises(ValidationError) as exc:
        complete_by_filing(cnil, completed_at=DUE + timedelta(minutes=1), reference="X", acting_user=dpo)
    assert "late_reason" in exc.value.message_dict
    cnil.refresh_from_db()
    assert cnil.state == Obligation.State.PENDING
    assert cnil.completed_at is None and cnil.reference == ""
    assert cnil.history.count() == rows


def test_a_blank_late_reason_is_no_reason(cnil, dpo):
    with pytest.raises(ValidationError) as exc:
        complete_by_filing(cnil, completed_at=DUE + timedelta(hours=5), late_reason="  ", acting_user=dpo)
    assert "late_reason" in exc.value.message_dict


def test_late_filing_without_a_reason_records_no_filing(cnil, dpo):
    case = cnil.case
    with pytest.raises(ValidationError) as exc:
        services.filing_record(
            case,
            kind=Filing.Kind.CNIL_INITIAL,
            sent_at=DUE + timedelta(days=1),
            reference="CNIL-2024-1",
            obligation=cnil,
            acting_user=dpo,
        )
    assert "late_reason" in exc.value.message_dict
    assert not Filing.objects.exists()
    assert Filing.history.count() == 0
    cnil.refresh_from_db()
    assert cnil.state == Obligation.State.PENDING


def test_late_completion_with_a_reason_is_done_late(cnil, dpo):
    complete_by_filing(
        cnil,
        completed_at=DUE + timedelta(hours=20),
        reference="CNIL-2024-1",
        late_reason="Scope of the exfiltration unknown until the forensic report.",
        acting_user=dpo,
    )
    cnil.refresh_from_db()
    assert cnil.state == Obligation.State.DONE
    assert cnil.late_reason.startswith("Scope")
    assert cnil.completed_by == dpo
    assert cnil.status(now=DUE + timedelta(days=30)).value == "done_late"


def test_on_time_completion_needs_no_reason(cnil, dpo):
    complete_by_filing(cnil, completed_at=DUE, reference="CNIL-2024-1", acting_user=dpo)
    cnil.refresh_from_db()
    assert cnil.state == Obligation.State.DONE
    assert cnil.status(now=DUE + timedelta(days=30)).value == "done_on_time"


def test_completion_before_the_first_signal_is_refused(cnil, dpo):
    with pytest.raises(ValidationError) as exc:
        complete_by_filing(cnil, completed_at=paris(2024, 2, 1, 8, 0), acting_user=dpo)
    assert "completed_at" in exc.value.message_dict


def test_completion_in_the_future_is_refused(cnil, dpo):
    with pytest.raises(ValidationError) as exc:
        complete_by_filing(cnil, completed_at=paris(2099, 1, 1), acting_user=dpo)
    assert "completed_at" in exc.value.message_dict


def test_an_obligation_is_completed_only_once(cnil, dpo):
    complete_by_filing(cnil, completed_at=DUE, acting_user=dpo)
    with pytest.raises(ValidationError, match="déjà remplie"):
        complete_by_filing(cnil, completed_at=DUE, acting_user=dpo)


def test_lateness_stays_frozen_when_the_clock_moves_later(cnil, dpo):
    """Done late against the due date of the time: moving awareness afterwards does not excuse it."""
    complete_by_filing(cnil, completed_at=DUE + timedelta(hours=3), late_reason="Weekend.", acting_user=dpo)
    services.case_update_facts(
        cnil.case, acting_user=dpo, aware_at=AWARE + timedelta(hours=12), change_reason="Re-assessed."
    )
    cnil.refresh_from_db()
    assert cnil.due_at == DUE
    assert cnil.status(now=DUE + timedelta(days=30)).value == "done_late"
