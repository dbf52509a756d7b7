"""Case life cycle, the human decisions (who, when, why) and who may do what."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from cases.models import BreachCase, Filing, Membership, Obligation
from tests.conftest import paris
from tests.filing_helpers import complete_by_filing

AWARE = paris(2024, 2, 1, 18, 0)
DECIDED = paris(2024, 2, 2, 10, 0)
HIGH_RISK = {
    "data_categories": ["identity", "nir", "insurance"],
    "severity_ei": Decimal("1"),
    "severity_cb_confidentiality": Decimal("0.5"),
    "severity_cb_malicious": True,
}


def settle(case, user):
    """Mark every pending obligation but the register not applicable, so the case can close."""
    for ob in case.obligations.filter(state=Obligation.State.PENDING).exclude(rule_code="GDPR_33_5"):
        services.obligation_mark_not_applicable(ob, reason="Settled for the test.", acting_user=user)


# --- opening ----------------------------------------------------------------------------------


def test_opening_gives_a_reference_and_a_history_row(open_case, dpo):
    case = open_case()
    assert case.reference == "MUTEX-2024-001"
    assert open_case().reference == "MUTEX-2024-002"
    row = case.history.get()
    assert row.history_user == dpo and row.history_change_reason == "Dossier ouvert."


def test_unknown_facts_are_a_programming_error(open_case):
    with pytest.raises(TypeError):
        open_case(status="closed")


# --- decisions --------------------------------------------------------------------------------


def test_the_notify_decision_is_recorded_with_who_when_and_why(open_case, dpo, make_user):
    case = open_case()
    lawyer = make_user(case.organization, Membership.Role.LEGAL)
    with mock.patch("cases.services.common.now", return_value=DECIDED):
        case = services.decision_notify_authority(case, notify=True, reason="Medium risk.", acting_user=lawyer)
    assert case.notify_authority is True
    assert (case.notify_authority_decided_by, case.notify_authority_decided_at) == (lawyer, DECIDED)
    assert case.notify_authority_reason == "Medium risk."
    row = case.history.first()
    assert row.history_user == lawyer and "Medium risk." in row.history_change_reason


def test_a_decision_without_a_reason_is_refused(open_case, dpo):
    case = open_case()
    with pytest.raises(ValidationError) as exc:
        services.decision_notify_authority(case, notify=False, reason="", acting_user=dpo)
    assert "notify_authority_reason" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.decision_inform_persons(case, inform=False, reason=" ", acting_user=dpo)
    assert "inform_persons_reason" in exc.value.message_dict
    case.refresh_from_db()
    assert case.notify_authority is None and case.inform_persons is None


def test_not_notifying_marks_the_cnil_notifications_not_applicable_with_the_reason(open_case, dpo):
    case = open_case()
    services.decision_notify_authority(
        case, notify=False, reason="Encrypted backup tape: unlikely to result in a risk.", acting_user=dpo
    )
    for code in ("GDPR_33_1", "GDPR_33_4"):
        ob = case.obligations.get(rule_code=code)
        assert ob.state == Obligation.State.NOT_APPLICABLE
        assert ob.not_applicable_reason == "Encrypted backup tape: unlikely to result in a risk."
        assert ob.decided_by == dpo
    assert case.obligations.get(rule_code="GDPR_33_5").state == Obligation.State.PENDING


def test_a_reversed_notify_decision_brings_the_cnil_clock_back(open_case, dpo):
    case = open_case()
    services.decision_notify_authority(case, notify=False, reason="No risk.", acting_user=dpo)
    services.decision_notify_authority(case, notify=True, reason="New facts: NIR exposed.", acting_user=dpo)
    ob = case.obligations.get(rule_code="GDPR_33_1")
    assert ob.state == Obligation.State.PENDING
    assert ob.due_at == AWARE + timedelta(hours=72)


def test_not_informing_with_an_art_34_3_ground_marks_the_communication_not_applicable(open_case, dpo):
    case = open_case(**HIGH_RISK)
    case = services.decision_inform_persons(
        case,
        inform=False,
        exemption=BreachCase.Art34Exemption.UNINTELLIGIBLE,
        reason="AES-256 encrypted, key not compromised.",
        acting_user=dpo,
    )
    ob = case.obligations.get(rule_code="GDPR_34")
    assert ob.state == Obligation.State.NOT_APPLICABLE
    assert "34(3)(a)" in ob.not_applicable_reason and "AES-256" in ob.not_applicable_reason
    assert not case.decision_conflict


def test_high_risk_not_informed_without_a_ground_is_flagged_and_stays_pending(open_case, dpo):
    case = open_case(**HIGH_RISK)
    case = services.decision_inform_persons(case, inform=False, reason="We think it is fine.", acting_user=dpo)
    assert case.decision_conflict
    assert case.obligations.get(rule_code="GDPR_34").state == Obligation.State.PENDING


def test_no_conflict_when_the_risk_is_not_high(open_case, dpo):
    case = open_case(data_categories=["identity"], severity_ei=Decimal("0.25"))
    case = services.decision_inform_persons(case, inform=False, reason="Low risk.", acting_user=dpo)
    assert case.severity_level == "low" and not case.decision_conflict
    assert not case.obligations.filter(rule_code="GDPR_34").exists()


def test_informing_persons_voluntarily_creates_the_communication_duty(open_case, dpo):
    case = open_case(data_categories=["identity"], severity_ei=Decimal("0.25"))
    services.decision_inform_persons(case, inform=True, reason="Transparency policy.", acting_user=dpo)
    assert case.obligations.get(rule_code="GDPR_34").state == Obligation.State.PENDING


def test_an_exemption_ground_only_when_persons_are_not_informed(open_case, dpo):
    case = open_case(**HIGH_RISK)
    with pytest.raises(ValidationError) as exc:
        services.decision_inform_persons(
            case, inform=True, exemption=BreachCase.Art34Exemption.RISK_REMOVED, reason="x", acting_user=dpo
        )
    assert "inform_persons_exemption" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.decision_inform_persons(case, inform=False, exemption="34_3_z", reason="x", acting_user=dpo)


def test_an_order_to_inform_after_an_exemption_reactivates_the_communication(open_case, dpo):
    case = open_case(**HIGH_RISK)
    services.decision_inform_persons(
        case, inform=False, exemption=BreachCase.Art34Exemption.RISK_REMOVED, reason="Passwords reset.", acting_user=dpo
    )
    services.decision_inform_persons(case, inform=True, reason="CNIL order, Art. 34(4).", acting_user=dpo)
    assert case.obligations.get(rule_code="GDPR_34").state == Obligation.State.PENDING


# --- closing, status transitions, reopening ---------------------------------------------------


def test_closing_is_refused_while_obligations_are_pending(open_case, dpo):
    case = open_case()
    with pytest.raises(ValidationError) as exc:
        services.case_close(case, reason="Done.", acting_user=dpo)
    message = " ".join(exc.value.messages)
    assert "encore à faire" in message and "33(1)" in message and "33(4)" in message
    assert "33(5)" not in message  # completed by the closure itself
    case.refresh_from_db()
    assert case.status == BreachCase.Status.OPEN
    assert case.obligations.get(rule_code="GDPR_33_5").state == Obligation.State.PENDING


def test_closing_needs_a_reason(open_case, dpo):
    case = open_case()
    settle(case, dpo)
    with pytest.raises(ValidationError) as exc:
        services.case_close(case, reason="", acting_user=dpo)
    assert "reason" in exc.value.message_dict


def test_closing_completes_the_register_and_records_the_time(open_case, dpo):
    case = open_case()
    settle(case, dpo)
    closed = paris(2024, 3, 1, 10, 0)
    with mock.patch("cases.services.common.now", return_value=closed):
        case = services.case_close(case, reason="All filings made.", acting_user=dpo)
    assert case.status == BreachCase.Status.CLOSED and case.closed_at == closed
    assert case.obligations.get(rule_code="GDPR_33_5").completed_at == closed
    assert case.history.first().history_change_reason == "All filings made."


def test_containment_then_close_then_reopen(open_case, dpo):
    case = open_case(ongoing=True)
    contained = paris(2024, 2, 3, 8, 0)
    case = services.case_contain(case, contained_at=contained, acting_user=dpo)
    assert case.status == BreachCase.Status.CONTAINED and not case.ongoing and case.contained_at == contained
    settle(case, dpo)
    case = services.case_close(case, reason="Handled.", acting_user=dpo)
    case = services.case_reopen(case, reason="New exfiltration found.", acting_user=dpo)
    assert case.status == BreachCase.Status.OPEN and case.closed_at is None
    assert case.history.first().history_change_reason == "New exfiltration found."


def test_a_closed_case_cannot_be_contained(open_case, dpo):
    case = open_case()
    settle(case, dpo)
    services.case_close(case, reason="Done.", acting_user=dpo)
    with pytest.raises(ValidationError, match="Un dossier ne peut pas passer"):
        services.case_contain(case, contained_at=paris(2024, 2, 3, 8, 0), acting_user=dpo)
    case.refresh_from_db()
    assert case.status == BreachCase.Status.CLOSED and case.contained_at is None


def test_a_closed_case_cannot_be_closed_again(open_case, dpo):
    case = open_case()
    settle(case, dpo)
    services.case_close(case, reason="Done.", acting_user=dpo)
    with pytest.raises(ValidationError):
        services.case_close(case, reason="Again.", acting_user=dpo)


def test_an_open_case_cannot_be_reopened_or_contained_twice(open_case, dpo):
    case = open_case()
    with pytest.raises(ValidationError, match="Un dossier ne peut pas passer"):
        services.case_reopen(case, reason="Why not.", acting_user=dpo)
    services.case_contain(case, contained_at=paris(2024, 2, 3, 8, 0), acting_user=dpo)
    with pytest.raises(ValidationError, match="Un dossier ne peut pas passer"):
        services.case_contain(case, contained_at=paris(2024, 2, 3, 9, 0), acting_user=dpo)


def test_reopening_needs_a_reason(open_case, dpo):
    case = open_case()
    settle(case, dpo)
    services.case_close(case, reason="Done.", acting_user=dpo)
    with pytest.raises(ValidationError) as exc:
        services.case_reopen(case, reason="  ", acting_user=dpo)
    assert "reason" in exc.value.message_dict
    case.refresh_from_db()
    assert case.status == BreachCase.Status.CLOSED


def test_a_closed_case_takes_no_new_filing_until_reopened(open_case, dpo):
    case = open_case()
    settle(case, dpo)
    services.case_close(case, reason="Done.", acting_user=dpo)
    with pytest.raises(ValidationError, match="Ce dossier est clos"):
        services.filing_record(case, kind=Filing.Kind.OTHER, sent_at=AWARE, acting_user=dpo)


# --- roles ------------------------------------------------------------------------------------


@pytest.fixture
def auditor(org, make_user):
    return make_user(org, Membership.Role.AUDITOR, "auditor")


@pytest.fixture
def lawyer(org, make_user):
    return make_user(org, Membership.Role.LEGAL, "lawyer")


def _pdf() -> SimpleUploadedFile:
    return SimpleUploadedFile("receipt.pdf", b"%PDF-1.7\n%test\n", content_type="application/pdf")


def write_actions(case, user):
    """Every write service, called with valid input by `user`."""
    ob = case.obligations.get(rule_code="GDPR_33_1")
    return {
        "case_open": lambda: services.case_open(
            organization=case.organization,
            title="T",
            first_signal_at=AWARE,
            aware_at=AWARE,
            aware_justification="J",
            acting_user=user,
        ),
        "case_update_facts": lambda: services.case_update_facts(case, title="New title", acting_user=user),
        "case_contain": lambda: services.case_contain(case, contained_at=AWARE, acting_user=user),
        "case_close": lambda: services.case_close(case, reason="r", acting_user=user),
        "obligation_complete": lambda: complete_by_filing(ob, completed_at=AWARE, acting_user=user),
        "filing_record": lambda: services.filing_record(case, kind="other", sent_at=AWARE, acting_user=user),
        "timeline_event_add": lambda: services.timeline_event_add(case, occurred_at=AWARE, title="t", acting_user=user),
        "evidence_add": lambda: services.evidence_add(case, uploaded_file=_pdf(), acting_user=user),
        "member_communication_record": lambda: services.member_communication_record(
            case, channel="letter", sent_at=AWARE, recipients_count=1, text="t", acting_user=user
        ),
        "decision_notify_authority": lambda: services.decision_notify_authority(
            case, notify=True, reason="r", acting_user=user
        ),
        "decision_inform_persons": lambda: services.decision_inform_persons(
            case, inform=True, reason="r", acting_user=user
        ),
        "obligation_mark_not_applicable": lambda: services.obligation_mark_not_applicable(
            ob, reason="r", acting_user=user
        ),
        "membership_grant": lambda: services.membership_grant(
            user=user, organization=case.organization, role="admin", acting_user=user
        ),
    }


ALL_ACTIONS = [
    "case_open",
    "case_update_facts",
    "case_contain",
    "case_close",
    "obligation_complete",
    "filing_record",
    "timeline_event_add",
    "evidence_add",
    "member_communication_record",
    "decision_notify_authority",
    "decision_inform_persons",
    "obligation_mark_not_applicable",
    "membership_grant",
]


@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_an_auditor_cannot_write_anything(open_case, auditor, action):
    case = open_case()
    with pytest.raises(PermissionDenied):
        write_actions(case, auditor)[action]()


@pytest.mark.parametrize(
    "action",
    ["case_open", "obligation_complete", "filing_record", "evidence_add", "timeline_event_add", "membership_grant"],
)
def test_legal_cannot_complete_filings_or_add_evidence(open_case, lawyer, action):
    case = open_case()
    with pytest.raises(PermissionDenied):
        write_actions(case, lawyer)[action]()


@pytest.mark.parametrize(
    "action", ["decision_notify_authority", "decision_inform_persons", "obligation_mark_not_applicable"]
)
def test_legal_records_decisions_and_not_applicable(open_case, lawyer, action):
    case = open_case()
    write_actions(case, lawyer)[action]()


@pytest.mark.parametrize("role", [Membership.Role.DPO, Membership.Role.ADMIN])
@pytest.mark.parametrize(
    "action", ["case_update_facts", "filing_record", "timeline_event_add", "decision_notify_authority"]
)
def test_a_user_of_another_organisation_is_refused(open_case, make_org, make_user, role, action):
    case = open_case()
    stranger = make_user(make_org(name="Autre mutuelle", code="autre"), role)
    with pytest.raises(PermissionDenied):
        write_actions(case, stranger)[action]()


def test_an_inactive_membership_grants_nothing(open_case, org, dpo):
    case = open_case()
    membership = Membership.objects.get(user=dpo, organization=org)
    membership.is_active = False
    services.common.save(membership, acting_user=None, reason="test")
    with pytest.raises(PermissionDenied):
        services.timeline_event_add(case, occurred_at=AWARE, title="t", acting_user=dpo)


def test_only_an_administrator_grants_roles(org, dpo, make_user):
    admin = make_user(org, Membership.Role.ADMIN, "admin")
    newcomer = make_user(None, username="newcomer")
    with pytest.raises(PermissionDenied):
        services.membership_grant(user=newcomer, organization=org, role="dpo", acting_user=dpo)
    membership = services.membership_grant(user=newcomer, organization=org, role="legal", acting_user=admin)
    assert membership.role == "legal"
    assert membership.history.first().history_user == admin
