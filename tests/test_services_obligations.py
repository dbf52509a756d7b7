"""Obligations generated from the case facts and the rule catalogue, decided, withdrawn, never deleted."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cases import regimes, services
from cases.models import Membership, Obligation, Organization
from tests.conftest import paris
from tests.filing_helpers import complete_by_filing

AWARE = paris(2024, 2, 1, 18, 0)  # a Thursday
FIRST_SIGNAL = paris(2024, 2, 1, 9, 0)
# NIS2 (from 18 October 2024) and DORA (from 17 January 2025) were not in force in February 2024.
AWARE_2025 = paris(2025, 2, 6, 18, 0)  # a Thursday too
IN_2025 = {"first_signal_at": paris(2025, 2, 6, 9, 0), "aware_at": AWARE_2025}
HIGH_RISK = {
    "data_categories": ["identity", "nir", "insurance"],
    "severity_ei": Decimal("1"),
    "severity_cb_confidentiality": Decimal("0.5"),
    "severity_cb_malicious": True,
}


@pytest.fixture
def case_of(make_org, make_user):
    """Open a case for a new organisation with the given flags; returns (case, dpo)."""

    def make(org_fields: dict | None = None, **facts):
        org = make_org(**(org_fields or {}))
        user = make_user(org, Membership.Role.DPO)
        facts.setdefault("title", "Incident")
        facts.setdefault("first_signal_at", FIRST_SIGNAL)
        facts.setdefault("aware_at", AWARE)
        facts.setdefault("aware_justification", "Logs reviewed.")
        return services.case_open(organization=org, acting_user=user, **facts), user

    return make


def obligations(case) -> dict[str, Obligation]:
    return {o.rule_code: o for o in case.obligations.filter(controller_notice__isnull=True)}


# --- generated from facts ---------------------------------------------------------------------


def test_a_controller_gets_the_cnil_72h_clock_and_the_register(case_of):
    case, _ = case_of()
    obs = obligations(case)
    assert obs["GDPR_33_1"].due_at == AWARE + timedelta(hours=72)
    assert obs["GDPR_33_1"].due_basis == "legal"
    assert obs["GDPR_33_5"].due_at is None
    assert obs["GDPR_33_5"].status(now=AWARE).value == "running"
    assert "GDPR_34" not in obs  # not high risk
    assert "GDPR_33_2" not in obs  # not a processor


def test_the_complementary_notification_waits_for_the_initial_one(case_of):
    case, dpo = case_of()
    complementary = obligations(case)["GDPR_33_4"]
    assert complementary.anchor_at is None and complementary.due_at is None
    assert complementary.status(now=AWARE).value == "waiting"

    initial_at = AWARE + timedelta(hours=40)
    complete_by_filing(obligations(case)["GDPR_33_1"], completed_at=initial_at, acting_user=dpo)
    complementary.refresh_from_db()
    assert complementary.anchor_at == initial_at
    assert complementary.due_at == initial_at + timedelta(hours=72)  # CNIL practice
    assert complementary.due_basis == "internal_target"


def test_the_complementary_notification_cannot_precede_the_initial_one(case_of):
    case, dpo = case_of()
    with pytest.raises(ValidationError) as exc:
        complete_by_filing(obligations(case)["GDPR_33_4"], completed_at=AWARE + timedelta(hours=1), acting_user=dpo)
    assert "completed_at" in exc.value.message_dict


def test_the_register_entry_is_completed_at_closure(case_of):
    case, dpo = case_of()
    for ob in case.obligations.exclude(rule_code="GDPR_33_5"):
        services.obligation_mark_not_applicable(ob, reason="Unlikely to result in a risk.", acting_user=dpo)
    closed_at = paris(2024, 3, 1, 10, 0)
    with mock.patch("cases.services.common.now", return_value=closed_at):
        services.case_close(case, reason="Handled.", acting_user=dpo)
    register = obligations(case)["GDPR_33_5"]
    assert register.state == Obligation.State.DONE
    assert register.completed_at == closed_at
    assert register.completed_by == dpo


def test_high_severity_adds_the_communication_to_persons(case_of):
    case, _ = case_of(**HIGH_RISK)
    assert case.severity_level == "high"
    assert obligations(case)["GDPR_34"].due_at == AWARE + timedelta(hours=24)  # default internal target


def test_a_nis2_entity_gets_the_24h_72h_chain(case_of):
    case, dpo = case_of({"is_nis2_entity": True}, **IN_2025)
    obs = obligations(case)
    assert obs["NIS2_24H"].due_at == AWARE_2025 + timedelta(hours=24)
    assert obs["NIS2_72H"].due_at == AWARE_2025 + timedelta(hours=72)
    assert obs["NIS2_INTERMEDIATE"].due_at is None
    assert obs["NIS2_FINAL"].due_at is None
    assert "NIS2_PROGRESS" not in obs

    notified = AWARE_2025 + timedelta(hours=60)
    complete_by_filing(obs["NIS2_72H"], completed_at=notified, acting_user=dpo)
    final = obligations(case)["NIS2_FINAL"]
    assert final.anchor_at == notified
    assert final.due_at == paris(2025, 3, 9, 6, 0)  # one calendar month after 9 Feb 06:00


def test_the_nis2_clock_runs_from_knowledge_of_the_incident(case_of):
    known = paris(2025, 2, 6, 11, 0)
    case, _ = case_of({"is_nis2_entity": True}, incident_known_at=known, **IN_2025)
    assert obligations(case)["NIS2_24H"].due_at == known + timedelta(hours=24)
    assert obligations(case)["GDPR_33_1"].due_at == AWARE_2025 + timedelta(hours=72)


def test_an_ongoing_nis2_incident_gets_a_progress_report(case_of):
    case, _ = case_of({"is_nis2_entity": True}, ongoing=True, **IN_2025)
    obs = obligations(case)
    assert {"NIS2_PROGRESS", "NIS2_FINAL_AFTER_HANDLING"} <= obs.keys()
    assert "NIS2_FINAL" not in obs


def test_the_authority_sets_the_intermediate_report_date(case_of):
    case, dpo = case_of({"is_nis2_entity": True}, **IN_2025)
    asked = paris(2025, 2, 20, 12, 0)
    ob = services.obligation_set_requested_due(
        obligations(case)["NIS2_INTERMEDIATE"], due_at=asked, reason="ANSSI e-mail of 15 Feb.", acting_user=dpo
    )
    assert ob.due_at == asked and ob.due_basis == "authority"
    with pytest.raises(ValidationError):
        services.obligation_set_requested_due(
            obligations(case)["NIS2_24H"], due_at=asked, reason="Nonsense.", acting_user=dpo
        )


def test_a_cyber_insured_organisation_must_file_a_complaint_within_72h(case_of):
    case, _ = case_of({"has_cyber_insurance": True})
    obs = obligations(case)
    assert obs["COMPLAINT_INSURANCE"].due_at == AWARE + timedelta(hours=72)
    assert obs["COMPLAINT_INSURANCE"].due_basis == "legal"
    assert "COMPLAINT_GENERAL" not in obs


def test_without_cyber_insurance_the_complaint_is_recommended_at_once(case_of):
    obs = obligations(case_of()[0])
    assert "COMPLAINT_INSURANCE" not in obs
    assert obs["COMPLAINT_GENERAL"].due_basis == "internal_target"


def test_a_major_dora_incident_starts_the_dora_chain_from_classification(case_of):
    classified = paris(2025, 2, 6, 20, 0)
    case, dpo = case_of({"is_dora_entity": True}, dora_major=True, dora_classified_at=classified, **IN_2025)
    obs = obligations(case)
    assert obs["DORA_INITIAL"].due_at == classified + timedelta(hours=4)
    assert obs["DORA_INTERMEDIATE"].due_at is None

    initial_at = paris(2025, 2, 6, 23, 0)
    complete_by_filing(obs["DORA_INITIAL"], completed_at=initial_at, acting_user=dpo)
    # 72 h end on Sunday 9 Feb 23:00: the weekend relief moves it to Monday 12:00.
    assert obligations(case)["DORA_INTERMEDIATE"].due_at == paris(2025, 2, 10, 12, 0)


def test_dora_initial_is_capped_at_24h_after_awareness(case_of):
    case, _ = case_of({"is_dora_entity": True}, dora_major=True, dora_classified_at=paris(2025, 2, 7, 16, 0), **IN_2025)
    assert obligations(case)["DORA_INITIAL"].due_at == AWARE_2025 + timedelta(hours=24)


def test_a_dora_entity_without_a_major_incident_has_no_dora_obligation(case_of):
    case, _ = case_of({"is_dora_entity": True}, dora_major=False, **IN_2025)
    assert not [code for code in obligations(case) if code.startswith("DORA")]


def test_the_organisation_targets_are_used_for_undue_delay_rules(case_of):
    case, dpo = case_of(
        {"undue_delay_target_hours": 12, "internal_targets": {"GDPR_34": 48, "GDPR_33_4": 24}}, **HIGH_RISK
    )
    obs = obligations(case)
    assert obs["COMPLAINT_GENERAL"].due_at == AWARE + timedelta(hours=12)
    assert obs["GDPR_34"].due_at == AWARE + timedelta(hours=48)
    assert obs["GDPR_33_1"].due_at == AWARE + timedelta(hours=72)  # legal deadlines ignore internal targets

    initial_at = AWARE + timedelta(hours=30)
    complete_by_filing(obs["GDPR_33_1"], completed_at=initial_at, acting_user=dpo)
    assert obligations(case)["GDPR_33_4"].due_at == initial_at + timedelta(hours=24)


# --- not applicable ---------------------------------------------------------------------------


def test_not_applicable_without_a_reason_is_refused(case_of):
    case, dpo = case_of()
    ob = obligations(case)["GDPR_33_1"]
    with pytest.raises(ValidationError) as exc:
        services.obligation_mark_not_applicable(ob, reason=" ", acting_user=dpo)
    assert "not_applicable_reason" in exc.value.message_dict
    ob.refresh_from_db()
    assert ob.state == Obligation.State.PENDING


def test_not_applicable_records_who_when_and_why(case_of, make_user):
    case, _ = case_of()
    lawyer = make_user(case.organization, Membership.Role.LEGAL)
    decided = paris(2024, 2, 2, 9, 30)
    with mock.patch("cases.services.common.now", return_value=decided):
        ob = services.obligation_mark_not_applicable(
            obligations(case)["GDPR_33_1"], reason="Encrypted laptop: unlikely to result in a risk.", acting_user=lawyer
        )
    ob.refresh_from_db()
    assert ob.state == Obligation.State.NOT_APPLICABLE
    assert ob.decided_by == lawyer and ob.decided_at == decided
    assert ob.not_applicable_reason == "Encrypted laptop: unlikely to result in a risk."
    row = ob.history.first()
    assert row.history_user == lawyer and "Encrypted laptop" in row.history_change_reason


def test_a_completed_obligation_cannot_be_marked_not_applicable(case_of):
    case, dpo = case_of()
    ob = obligations(case)["GDPR_33_1"]
    complete_by_filing(ob, completed_at=AWARE + timedelta(hours=10), acting_user=dpo)
    with pytest.raises(ValidationError, match="Une obligation remplie ne peut pas être déclarée sans objet"):
        services.obligation_mark_not_applicable(ob, reason="Changed our mind.", acting_user=dpo)
    ob.refresh_from_db()
    assert ob.state == Obligation.State.DONE


def test_a_not_applicable_obligation_cannot_be_completed(case_of):
    case, dpo = case_of()
    ob = obligations(case)["GDPR_33_1"]
    services.obligation_mark_not_applicable(ob, reason="No risk.", acting_user=dpo)
    with pytest.raises(ValidationError, match="Cette obligation est sans objet"):
        complete_by_filing(ob, completed_at=AWARE + timedelta(hours=10), acting_user=dpo)


def test_an_auditor_cannot_mark_an_obligation_not_applicable(case_of, make_user):
    case, _ = case_of()
    auditor = make_user(case.organization, Membership.Role.AUDITOR)
    with pytest.raises(PermissionDenied):
        services.obligation_mark_not_applicable(obligations(case)["GDPR_33_1"], reason="x", acting_user=auditor)


# --- withdrawn, reactivated, never deleted ----------------------------------------------------


def test_a_pending_obligation_whose_rule_stops_applying_is_withdrawn_and_kept(case_of):
    case, dpo = case_of({"is_nis2_entity": True}, **IN_2025)
    ids = {code: ob.pk for code, ob in obligations(case).items() if code.startswith("NIS2")}
    assert len(ids) == 4
    services.case_update_facts(case, acting_user=dpo, nis2_significant=False)
    for code, pk in ids.items():
        ob = Obligation.objects.get(pk=pk)
        assert ob.state == Obligation.State.WITHDRAWN, code
        assert ob.status(now=AWARE_2025).value == "not_applicable"


def test_a_withdrawn_obligation_is_reactivated_when_its_rule_applies_again(case_of):
    case, dpo = case_of({"is_nis2_entity": True}, **IN_2025)
    pk = obligations(case)["NIS2_24H"].pk
    services.case_update_facts(case, acting_user=dpo, nis2_significant=False)
    services.case_update_facts(case, acting_user=dpo, nis2_significant=True)
    ob = Obligation.objects.get(pk=pk)
    assert ob.state == Obligation.State.PENDING
    assert ob.not_applicable_reason == ""
    assert ob.due_at == AWARE_2025 + timedelta(hours=24)
    assert case.obligations.filter(rule_code="NIS2_24H").count() == 1


def test_an_acted_upon_obligation_is_never_withdrawn_or_deleted(case_of):
    case, dpo = case_of({"is_nis2_entity": True}, **IN_2025)
    early = obligations(case)["NIS2_24H"]
    complete_by_filing(early, completed_at=AWARE_2025 + timedelta(hours=5), reference="ANSSI-1", acting_user=dpo)
    decided = obligations(case)["NIS2_INTERMEDIATE"]
    services.obligation_mark_not_applicable(decided, reason="Not requested.", acting_user=dpo)
    services.case_update_facts(case, acting_user=dpo, nis2_significant=False)
    early.refresh_from_db()
    decided.refresh_from_db()
    assert early.state == Obligation.State.DONE and early.reference == "ANSSI-1"
    assert decided.state == Obligation.State.NOT_APPLICABLE


def test_obligations_cannot_be_deleted(case_of):
    case, _ = case_of()
    with pytest.raises(Exception, match="never deleted"):
        obligations(case)["GDPR_33_1"].delete()
    with pytest.raises(Exception, match="never deleted"):
        case.obligations.all().delete()


# --- legal wording copied ---------------------------------------------------------------------


def test_the_legal_wording_is_copied_onto_the_obligation(case_of, monkeypatch):
    case, dpo = case_of()
    ob = obligations(case)["GDPR_33_1"]
    rule = regimes.get_rule("GDPR_33_1")
    assert (ob.legal_text_fr, ob.legal_text_en, ob.legal_source) == (
        rule.legal_text_fr,
        rule.legal_text_en,
        rule.source,
    )
    assert ob.label_fr == rule.label_fr and ob.deadline_label_en == "72 h"

    amended = dataclasses.replace(rule, legal_text_fr="Texte modifié.", source="Source modifiée", label_fr="Autre")
    monkeypatch.setattr(regimes, "RULES", tuple(amended if r.code == rule.code else r for r in regimes.RULES))
    monkeypatch.setitem(regimes.RULES_BY_CODE, rule.code, amended)
    services.case_update_facts(case, acting_user=dpo, aware_at=AWARE - timedelta(hours=2), change_reason="Logs.")

    ob.refresh_from_db()
    assert ob.due_at == AWARE + timedelta(hours=70)  # recomputed...
    assert ob.legal_text_fr == rule.legal_text_fr  # ...but the wording of the time is kept
    assert ob.legal_source == rule.source and ob.label_fr == rule.label_fr

    later, _ = case_of()
    assert obligations(later)["GDPR_33_1"].legal_text_fr == "Texte modifié."


def test_a_processor_only_case_has_no_controller_duties(case_of):
    case, _ = case_of({"kind": Organization.Kind.PROCESSOR})
    assert not {"GDPR_33_1", "GDPR_33_4", "GDPR_33_5", "GDPR_34"} & obligations(case).keys()
