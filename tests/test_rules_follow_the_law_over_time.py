"""Rules follow the law over time: each carries its period in force, a case keeps the rules of its time.

The catalogue keeps every version of a rule under one code, each with the days it is in force
(Europe/Paris). A case takes the version in force at the instant that starts the rule's clock;
editing the catalogue never rewrites an obligation already generated; a pending obligation
takes another version only when its own anchor moves across the boundary.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from django.db import transaction

from cases import regimes, services
from cases.models import Membership, Obligation
from cases.regimes import RULES, CaseFacts, RuleStatus, Stage, applicable_rules, get_rule, rules_in_force
from cases.services.common import save
from tests.conftest import paris
from tests.filing_helpers import complete_by_filing

CHANGE = date(2024, 3, 1)  # the day a (test) new version of a rule applies


def two_versions(monkeypatch, code: str, **new) -> tuple[regimes.Rule, regimes.Rule]:
    """The catalogue with `code` ending the day before CHANGE and a new version applying from CHANGE."""
    old = get_rule(code)
    ended = replace(old, in_force_to=CHANGE)
    newer = replace(old, in_force_from=CHANGE, **new)
    rules = []
    for rule in RULES:
        rules.extend([ended, newer] if rule.code == code else [rule])
    monkeypatch.setattr(regimes, "RULES", tuple(rules))
    monkeypatch.setattr(regimes, "RULES_BY_CODE", {rule.code: rule for rule in rules})
    return ended, newer


def ended_without_successor(monkeypatch, code: str) -> None:
    rules = tuple(replace(rule, in_force_to=CHANGE) if rule.code == code else rule for rule in RULES)
    monkeypatch.setattr(regimes, "RULES", rules)
    monkeypatch.setattr(regimes, "RULES_BY_CODE", {rule.code: rule for rule in rules})


@pytest.fixture
def case_at(make_org, make_user):
    """Open a case aware at the given instant (first signal two hours earlier); returns (case, dpo)."""

    def make(aware, org_fields: dict | None = None, **facts):
        org = make_org(**(org_fields or {}))
        dpo = make_user(org, Membership.Role.DPO)
        case = services.case_open(
            organization=org,
            title="Incident",
            first_signal_at=aware - timedelta(hours=2),
            aware_at=aware,
            aware_justification="Logs reviewed.",
            acting_user=dpo,
            **facts,
        )
        return case, dpo

    return make


def cnil(case) -> Obligation:
    return case.obligations.get(rule_code="GDPR_33_1")


# --- The catalogue carries periods and statuses ---


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_every_rule_carries_its_period_in_force_and_is_adopted_law(rule):
    assert rule.stage is Stage.ADOPTED
    if rule.code == "COMPLAINT_GENERAL":
        assert rule.in_force_from is None  # a recommendation, not a legal deadline: no start date
    else:
        assert isinstance(rule.in_force_from, date)
        assert rule.version == rule.in_force_from.isoformat()
    assert rule.in_force_to is None or rule.in_force_to > rule.in_force_from


def test_the_days_each_rule_applies_from_are_those_of_its_text():
    expected = {
        "GDPR_33_1": date(2018, 5, 25),  # Regulation 2016/679, art. 99(2)
        "NIS1_OSE": date(2018, 5, 26),  # décret 2018-384, in force the day after the JORF of 25 May 2018
        "OIV": date(2013, 12, 20),  # loi 2013-1168 (LPM 2014-2019)
        "NIS2_24H": date(2024, 10, 18),  # Directive 2022/2555, art. 41(1)
        "HEALTH_L1111_8_2": date(2017, 10, 1),  # décret 2016-1214
        "DORA_INITIAL": date(2025, 1, 17),  # Regulation 2022/2554, art. 64
        "COMPLAINT_INSURANCE": date(2023, 4, 24),  # loi 2023-22 (LOPMI)
    }
    assert {code: get_rule(code).in_force_from for code in expected} == expected


def test_a_rule_applies_from_midnight_paris_time_on_its_first_day():
    rule = replace(get_rule("GDPR_33_1"), in_force_from=CHANGE, in_force_to=date(2024, 4, 1))

    assert rule.status_at(paris(2024, 2, 29, 23, 59)) is RuleStatus.NOT_YET_APPLICABLE
    assert rule.status_at(paris(2024, 3, 1, 0, 0)) is RuleStatus.IN_FORCE
    assert rule.status_at(paris(2024, 3, 31, 23, 59)) is RuleStatus.IN_FORCE
    assert rule.status_at(paris(2024, 4, 1, 0, 0)) is RuleStatus.NO_LONGER_IN_FORCE


def test_a_proposal_is_never_in_force_whatever_the_date():
    variant = regimes.DIGITAL_OMNIBUS.rules[0]

    assert variant.stage is Stage.PROPOSAL
    for instant in (paris(2018, 5, 25), paris(2026, 11, 1), paris(2040, 1, 1)):
        assert variant.status_at(instant) is RuleStatus.PROPOSAL
        assert variant not in rules_in_force(instant)


def test_versions_of_one_rule_never_overlap_and_keep_how_they_run():
    for code in regimes.rule_codes():
        found = regimes.versions(code)
        for earlier, later in zip(found, found[1:], strict=False):
            assert earlier.in_force_to is not None and earlier.in_force_to <= later.in_force_from
            assert (earlier.per_controller, earlier.anchor) == (later.per_controller, later.anchor)


def test_nis2_and_dora_rules_apply_only_from_the_day_their_texts_apply():
    facts = CaseFacts(is_controller=True, is_processor=False, is_nis2_entity=True, is_dora_entity=True, dora_major=True)

    def codes(at):
        return {rule.code for rule in applicable_rules(facts, at=at)}

    assert not {c for c in codes(paris(2024, 10, 17, 23, 0)) if c.startswith(("NIS2", "DORA"))}
    assert "NIS2_24H" in codes(paris(2024, 10, 18, 0, 0))
    assert not {c for c in codes(paris(2025, 1, 16, 12, 0)) if c.startswith("DORA")}
    assert {"DORA_INITIAL", "DORA_INTERMEDIATE", "DORA_FINAL"} <= codes(paris(2025, 1, 17, 0, 0))


# --- Obligations take the version in force at their anchor ---


def test_a_case_keeps_the_rules_in_force_when_it_happened(case_at, monkeypatch):
    old, _ = two_versions(monkeypatch, "GDPR_33_1", hours=96, label_fr="Notification v2", source="Source v2")
    aware = paris(2024, 2, 29, 23, 59)

    ob = cnil(case_at(aware)[0])

    assert ob.rule_version == old.version
    assert ob.label_fr == old.label_fr and ob.legal_source == old.source
    assert ob.due_at == aware + timedelta(hours=72)


def test_a_new_case_gets_the_new_rule_the_day_it_applies(case_at, monkeypatch):
    _, new = two_versions(monkeypatch, "GDPR_33_1", hours=96, label_fr="Notification v2", source="Source v2")
    aware = paris(2024, 3, 1, 0, 0)

    ob = cnil(case_at(aware)[0])

    assert ob.rule_version == "2024-03-01"
    assert (ob.label_fr, ob.legal_source, ob.deadline_label_fr) == ("Notification v2", "Source v2", "96 h")
    assert ob.due_at == aware + timedelta(hours=96)


def test_changing_the_catalogue_never_rewrites_an_existing_obligation(case_at, monkeypatch):
    aware = paris(2024, 2, 20, 10, 0)
    case, dpo = case_at(aware)
    before = cnil(case)
    # The law changes after the case happened: a new version from 1 March, with other wording.
    two_versions(monkeypatch, "GDPR_33_1", hours=96, label_fr="Notification v2", legal_text_fr="Texte v2")

    services.case_update_facts(case, acting_user=dpo, title="Incident (renamed)")
    after = cnil(case)

    assert after.rule_version == before.rule_version == "2018-05-25"
    assert (after.label_fr, after.legal_text_fr, after.due_at) == (before.label_fr, before.legal_text_fr, before.due_at)
    assert after.history.count() == before.history.count()  # not even re-saved


def test_an_obligation_generated_before_versions_were_recorded_keeps_its_wording(case_at, monkeypatch):
    case, dpo = case_at(paris(2024, 2, 20, 10, 0))
    ob = cnil(case)
    ob.rule_version = ""  # as generated before this column existed
    with transaction.atomic():
        save(ob, acting_user=dpo, reason="Legacy row.")
    amended = replace(get_rule("GDPR_33_1"), legal_text_fr="Texte modifié.")
    monkeypatch.setattr(regimes, "RULES", tuple(amended if r.code == "GDPR_33_1" else r for r in RULES))
    monkeypatch.setitem(regimes.RULES_BY_CODE, "GDPR_33_1", amended)

    services.case_update_facts(case, acting_user=dpo, title="Incident (renamed)")

    ob.refresh_from_db()
    assert ob.rule_version == "" and ob.rule.version == "2018-05-25"
    assert ob.legal_text_fr != "Texte modifié."


def test_a_case_whose_anchor_moves_across_the_boundary_gets_the_rule_of_its_new_anchor(case_at, monkeypatch):
    old, new = two_versions(monkeypatch, "GDPR_33_1", hours=96, label_fr="Notification v2", source="Source v2")
    case, dpo = case_at(paris(2024, 2, 28, 10, 0))
    assert cnil(case).rule_version == old.version

    later = paris(2024, 3, 1, 9, 0)
    services.case_update_facts(case, acting_user=dpo, aware_at=later, change_reason="Logs re-read.")
    ob = cnil(case)
    assert ob.rule_version == new.version
    assert (ob.label_fr, ob.legal_source, ob.due_at) == ("Notification v2", "Source v2", later + timedelta(hours=96))

    back = paris(2024, 2, 29, 9, 0)
    services.case_update_facts(case, acting_user=dpo, aware_at=back, change_reason="Earlier alert found.")
    ob = cnil(case)
    assert ob.rule_version == old.version
    assert (ob.label_fr, ob.legal_source, ob.due_at) == (old.label_fr, old.source, back + timedelta(hours=72))


def test_a_completed_obligation_keeps_its_rule_when_the_anchor_moves_across_the_boundary(case_at, monkeypatch):
    old, _ = two_versions(monkeypatch, "GDPR_33_1", hours=96, label_fr="Notification v2")
    case, dpo = case_at(paris(2024, 2, 28, 10, 0))
    complete_by_filing(cnil(case), completed_at=paris(2024, 3, 1, 12, 0), acting_user=dpo)
    done = cnil(case)

    services.case_update_facts(case, acting_user=dpo, aware_at=paris(2024, 3, 1, 9, 0), change_reason="Re-dated.")

    ob = cnil(case)
    assert (ob.rule_version, ob.label_fr, ob.due_at) == (old.version, old.label_fr, done.due_at)
    assert ob.state == Obligation.State.DONE


def test_an_obligation_acted_upon_keeps_its_version_when_the_anchor_moves(case_at, monkeypatch):
    old, _ = two_versions(monkeypatch, "GDPR_33_1", hours=96, label_fr="Notification v2")
    case, dpo = case_at(paris(2024, 2, 28, 10, 0))
    ob = cnil(case)
    ob.reference = "CNIL draft 12"
    with transaction.atomic():
        save(ob, acting_user=dpo, reason="Reference noted.")

    later = paris(2024, 3, 1, 9, 0)
    services.case_update_facts(case, acting_user=dpo, aware_at=later, change_reason="Re-dated.")

    ob = cnil(case)
    assert (ob.rule_version, ob.label_fr) == (old.version, old.label_fr)
    assert ob.due_at == later + timedelta(hours=72)  # still recomputed, under its own version


def test_a_rule_that_ended_is_withdrawn_when_the_anchor_moves_past_its_end(case_at, monkeypatch):
    ended_without_successor(monkeypatch, "NIS1_OSE")
    case, dpo = case_at(paris(2024, 2, 28, 10, 0), {"is_ose": True})
    assert case.obligations.get(rule_code="NIS1_OSE").state == Obligation.State.PENDING

    services.case_update_facts(case, acting_user=dpo, aware_at=paris(2024, 3, 2, 9, 0), change_reason="Re-dated.")
    ob = case.obligations.get(rule_code="NIS1_OSE")
    assert ob.state == Obligation.State.WITHDRAWN
    assert ob.not_applicable_reason == "La règle n'était pas en vigueur au départ de ce délai."

    services.case_update_facts(case, acting_user=dpo, aware_at=paris(2024, 2, 29, 9, 0), change_reason="Back.")
    assert case.obligations.get(rule_code="NIS1_OSE").state == Obligation.State.PENDING


def test_a_case_after_a_rule_ended_does_not_get_it(case_at, monkeypatch):
    ended_without_successor(monkeypatch, "NIS1_OSE")

    case, _ = case_at(paris(2024, 3, 1, 0, 0), {"is_ose": True})

    assert not case.obligations.filter(rule_code="NIS1_OSE").exists()


# --- A rule that replaces another only while it is in force ---


def test_an_insured_organisation_s_breach_before_the_lopmi_still_gets_the_general_complaint(case_at):
    """Code des assurances L12-10-1 (72 h complaint, in force 24 April 2023) replaces the general complaint
    for an insured organisation; before that day the insured organisation was a victim like any other,
    and its case must still carry the general complaint (recommended at once), not no complaint at all."""
    insured = {"has_cyber_insurance": True}
    before, _dpo = case_at(paris(2023, 3, 1, 10, 0), insured)
    after, _dpo = case_at(paris(2023, 6, 1, 10, 0), insured)

    def complaints(case):
        return set(case.obligations.filter(rule_code__startswith="COMPLAINT_").values_list("rule_code", "state"))

    assert complaints(before) == {("COMPLAINT_GENERAL", Obligation.State.PENDING)}
    assert complaints(after) == {("COMPLAINT_INSURANCE", Obligation.State.PENDING)}

    facts = CaseFacts(is_controller=True, is_processor=False, has_cyber_insurance=True)
    assert {r.code for r in applicable_rules(facts, at=paris(2023, 4, 23, 23, 59))} & {
        "COMPLAINT_GENERAL",
        "COMPLAINT_INSURANCE",
    } == {"COMPLAINT_GENERAL"}
    assert {r.code for r in applicable_rules(facts, at=paris(2023, 4, 24, 0, 0))} & {
        "COMPLAINT_GENERAL",
        "COMPLAINT_INSURANCE",
    } == {"COMPLAINT_INSURANCE"}


def test_moving_awareness_across_the_lopmi_swaps_the_pending_complaint(case_at):
    case, dpo = case_at(paris(2023, 6, 1, 10, 0), {"has_cyber_insurance": True})
    services.case_update_facts(
        case,
        first_signal_at=paris(2023, 3, 1, 8, 0),
        aware_at=paris(2023, 3, 1, 10, 0),
        change_reason="Logs show the attack was known in March.",
        acting_user=dpo,
    )
    states = dict(case.obligations.filter(rule_code__startswith="COMPLAINT_").values_list("rule_code", "state"))
    assert states == {"COMPLAINT_INSURANCE": Obligation.State.WITHDRAWN, "COMPLAINT_GENERAL": Obligation.State.PENDING}
