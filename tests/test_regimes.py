"""The rule catalogue: complete against docs/regulations.md, well formed, and applied to the right organisations."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cases.regimes import (
    RULES,
    RULES_BY_CODE,
    Anchor,
    Authority,
    CaseFacts,
    DeadlineKind,
    Rule,
    applicable_rules,
    get_rule,
)

CONTROLLER = CaseFacts(is_controller=True, is_processor=False)
PROCESSOR = CaseFacts(is_controller=False, is_processor=True, has_controllers_to_inform=True)


def codes(facts: CaseFacts) -> set[str]:
    return {rule.code for rule in applicable_rules(facts)}


# --- Every rule is well formed ---


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_every_rule_has_labels_source_and_legal_text_in_both_languages(rule: Rule):
    for text in (rule.code, rule.label_fr, rule.label_en, rule.source, rule.legal_text_fr, rule.legal_text_en):
        assert isinstance(text, str) and text.strip()
    assert rule.label("fr") == rule.label_fr and rule.label("en") == rule.label_en
    assert rule.legal_text("fr") == rule.legal_text_fr and rule.legal_text("en") == rule.legal_text_en
    assert rule.label_fr != rule.label_en


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_every_rule_has_the_duration_its_kind_needs(rule: Rule):
    if rule.kind is DeadlineKind.HOURS:
        assert rule.hours > 0
    if rule.kind is DeadlineKind.MONTHS:
        assert rule.months > 0
    if rule.kind is DeadlineKind.ON_REQUEST:
        assert rule.anchor is Anchor.AUTHORITY_REQUEST
    assert (rule.anchor is Anchor.RULE_DONE) == bool(rule.after_rule)


def test_rule_codes_are_unique():
    assert len({rule.code for rule in RULES}) == len(RULES)
    assert set(RULES_BY_CODE) == {rule.code for rule in RULES}


@pytest.mark.parametrize("rule", [r for r in RULES if r.anchor is Anchor.RULE_DONE], ids=lambda rule: rule.code)
def test_every_rule_done_anchor_names_an_earlier_rule(rule: Rule):
    order = [r.code for r in RULES]

    assert rule.after_rule in RULES_BY_CODE
    assert order.index(rule.after_rule) < order.index(rule.code)


def test_unknown_rule_code_is_a_key_error():
    with pytest.raises(KeyError, match="NOPE"):
        get_rule("NOPE")


def test_deadline_labels_in_both_languages():
    assert get_rule("GDPR_33_1").deadline_label("fr") == "72 h"
    assert get_rule("NIS2_FINAL").deadline_label("fr") == "1 mois"
    assert get_rule("NIS2_FINAL").deadline_label("en") == "1 month"
    assert get_rule("GDPR_34").deadline_label("en") == "without undue delay (ASAP)"
    assert get_rule("GDPR_34").deadline_label("fr") == "sans délai (au plus tôt)"


# --- The catalogue covers every rule of docs/regulations.md, with its deadline, anchor and source ---

CATALOGUE = [
    # code, authority, anchor, kind, hours, months, source must mention
    ("GDPR_33_1", Authority.CNIL, Anchor.AWARE_AT, DeadlineKind.HOURS, 72, 0, "2016/679, art. 33(1)"),
    ("GDPR_33_2", Authority.CONTROLLER, Anchor.AWARE_AT, DeadlineKind.UNDUE_DELAY, 0, 0, "2016/679, art. 33(2)"),
    ("GDPR_33_4", Authority.CNIL, Anchor.RULE_DONE, DeadlineKind.UNDUE_DELAY, 0, 0, "2016/679, art. 33(4)"),
    ("GDPR_33_5", Authority.INTERNAL, Anchor.AWARE_AT, DeadlineKind.CONTINUOUS, 0, 0, "2016/679, art. 33(5)"),
    ("GDPR_34", Authority.DATA_SUBJECTS, Anchor.AWARE_AT, DeadlineKind.UNDUE_DELAY, 0, 0, "2016/679, art. 34"),
    ("NIS1_OSE", Authority.ANSSI, Anchor.INCIDENT_KNOWN, DeadlineKind.UNDUE_DELAY, 0, 0, "2018-384, art. 11"),
    ("OIV", Authority.ANSSI, Anchor.INCIDENT_KNOWN, DeadlineKind.UNDUE_DELAY, 0, 0, "L1332-6-2"),
    ("NIS2_24H", Authority.ANSSI, Anchor.INCIDENT_KNOWN, DeadlineKind.HOURS, 24, 0, "2022/2555, art. 23(4)(a)"),
    ("NIS2_72H", Authority.ANSSI, Anchor.INCIDENT_KNOWN, DeadlineKind.HOURS, 72, 0, "2022/2555, art. 23(4)(b)"),
    (
        "NIS2_INTERMEDIATE",
        Authority.ANSSI,
        Anchor.AUTHORITY_REQUEST,
        DeadlineKind.ON_REQUEST,
        0,
        0,
        "2022/2555, art. 23(4)(c)",
    ),
    ("NIS2_FINAL", Authority.ANSSI, Anchor.RULE_DONE, DeadlineKind.MONTHS, 0, 1, "2022/2555, art. 23(4)(d)"),
    ("NIS2_PROGRESS", Authority.ANSSI, Anchor.RULE_DONE, DeadlineKind.MONTHS, 0, 1, "2022/2555, art. 23(4)(e)"),
    (
        "NIS2_FINAL_AFTER_HANDLING",
        Authority.ANSSI,
        Anchor.CONTAINED,
        DeadlineKind.MONTHS,
        0,
        1,
        "2022/2555, art. 23(4)(e)",
    ),
    (
        "HEALTH_L1111_8_2",
        Authority.ARS_CERT_SANTE,
        Anchor.INCIDENT_KNOWN,
        DeadlineKind.UNDUE_DELAY,
        0,
        0,
        "L1111-8-2 et D1111-16-2",
    ),
    ("DORA_INITIAL", Authority.ACPR, Anchor.DORA_CLASSIFICATION, DeadlineKind.DORA_INITIAL, 4, 0, "2025/301, art. 5"),
    ("DORA_INTERMEDIATE", Authority.ACPR, Anchor.RULE_DONE, DeadlineKind.HOURS, 72, 0, "2025/301, art. 5"),
    ("DORA_FINAL", Authority.ACPR, Anchor.RULE_DONE, DeadlineKind.MONTHS, 0, 1, "2025/301, art. 5"),
    ("COMPLAINT_INSURANCE", Authority.PROSECUTOR, Anchor.INCIDENT_KNOWN, DeadlineKind.HOURS, 72, 0, "L12-10-1"),
    ("COMPLAINT_GENERAL", Authority.PROSECUTOR, Anchor.INCIDENT_KNOWN, DeadlineKind.UNDUE_DELAY, 0, 0, "15-3"),
]


def test_catalogue_has_exactly_the_rules_of_the_regulations():
    assert sorted(row[0] for row in CATALOGUE) == sorted(rule.code for rule in RULES)


@pytest.mark.parametrize(
    ("code", "authority", "anchor", "kind", "hours", "months", "source"), CATALOGUE, ids=[r[0] for r in CATALOGUE]
)
def test_rule_matches_the_regulations(code, authority, anchor, kind, hours, months, source):
    rule = get_rule(code)

    assert (rule.authority, rule.anchor, rule.kind) == (authority, anchor, kind)
    assert (rule.hours, rule.months) == (hours, months)
    assert source in rule.source


@pytest.mark.parametrize(
    ("code", "after"),
    [
        ("GDPR_33_4", "GDPR_33_1"),  # complementary after the initial CNIL notification
        ("NIS2_FINAL", "NIS2_72H"),  # final report one month after the incident notification
        ("NIS2_PROGRESS", "NIS2_72H"),  # progress report when the final one would be due
        ("DORA_INTERMEDIATE", "DORA_INITIAL"),  # 72 h after the initial notification
        ("DORA_FINAL", "DORA_INTERMEDIATE"),  # one month after the latest intermediate report
    ],
)
def test_chained_rules_start_when_their_predecessor_is_done(code, after):
    assert get_rule(code).after_rule == after


def test_cnil_complementary_notification_practice_is_72_hours():
    assert get_rule("GDPR_33_4").practice_hours == 72


def test_weekend_relief_is_exactly_the_dora_reports():
    assert {rule.code for rule in RULES if rule.weekend_relief} == {"DORA_INITIAL", "DORA_INTERMEDIATE", "DORA_FINAL"}


def test_processor_notice_is_one_obligation_per_controller():
    assert {rule.code for rule in RULES if rule.per_controller} == {"GDPR_33_2"}


def test_nis2_rules_carry_their_transposition_status():
    nis2 = [rule for rule in RULES if rule.code.startswith("NIS2_")]

    assert len(nis2) == 6
    assert all(rule.status_note for rule in nis2)


# --- Applicability ---


def test_controller_gets_the_cnil_duties_and_a_complaint():
    assert codes(CONTROLLER) == {"GDPR_33_1", "GDPR_33_4", "GDPR_33_5", "COMPLAINT_GENERAL"}


def test_processor_informs_its_controllers_but_does_not_notify_the_cnil():
    assert codes(PROCESSOR) == {"GDPR_33_2", "COMPLAINT_GENERAL"}


def test_processor_without_controllers_to_inform_has_no_art_33_2_duty():
    assert "GDPR_33_2" not in codes(replace(PROCESSOR, has_controllers_to_inform=False))


def test_organisation_both_controller_and_processor_gets_both_sets():
    both = replace(PROCESSOR, is_controller=True)

    assert codes(both) == {"GDPR_33_1", "GDPR_33_2", "GDPR_33_4", "GDPR_33_5", "COMPLAINT_GENERAL"}


def test_data_subjects_are_informed_only_when_the_risk_is_high():
    assert "GDPR_34" not in codes(CONTROLLER)
    assert "GDPR_34" in codes(replace(CONTROLLER, high_risk=True))


def test_data_subjects_are_informed_when_the_controller_decided_to():
    assert "GDPR_34" in codes(replace(CONTROLLER, inform_persons_decided=True))


def test_processor_does_not_inform_data_subjects_itself():
    assert "GDPR_34" not in codes(replace(PROCESSOR, high_risk=True, inform_persons_decided=True))


NIS2_ALWAYS = {"NIS2_24H", "NIS2_72H", "NIS2_INTERMEDIATE"}


def test_nis2_is_switched_off_for_an_organisation_that_is_not_a_nis2_entity():
    assert not codes(replace(CONTROLLER, nis2_significant=True)) & (NIS2_ALWAYS | {"NIS2_FINAL"})


def test_nis2_applies_while_significance_is_not_yet_assessed():
    assert codes(replace(CONTROLLER, is_nis2_entity=True)) >= NIS2_ALWAYS | {"NIS2_FINAL"}


def test_nis2_does_not_apply_to_an_incident_judged_not_significant():
    facts = replace(CONTROLLER, is_nis2_entity=True, nis2_significant=False)

    assert not {code for code in codes(facts) if code.startswith("NIS2_")}


def test_nis2_final_report_when_the_incident_is_over():
    facts = replace(CONTROLLER, is_nis2_entity=True, nis2_significant=True, ongoing=False)

    assert {code for code in codes(facts) if code.startswith("NIS2_")} == NIS2_ALWAYS | {"NIS2_FINAL"}


def test_nis2_progress_report_then_final_after_handling_when_the_incident_is_ongoing():
    facts = replace(CONTROLLER, is_nis2_entity=True, nis2_significant=True, ongoing=True)

    assert {code for code in codes(facts) if code.startswith("NIS2_")} == NIS2_ALWAYS | {
        "NIS2_PROGRESS",
        "NIS2_FINAL_AFTER_HANDLING",
    }


DORA = {"DORA_INITIAL", "DORA_INTERMEDIATE", "DORA_FINAL"}


@pytest.mark.parametrize(
    ("is_dora_entity", "dora_major", "applies"),
    [(True, True, True), (True, None, False), (True, False, False), (False, True, False)],
)
def test_dora_reports_only_for_a_financial_entity_with_a_major_incident(is_dora_entity, dora_major, applies):
    facts = replace(CONTROLLER, is_dora_entity=is_dora_entity, dora_major=dora_major)

    assert (codes(facts) & DORA == DORA) is applies
    assert (codes(facts) & DORA == set()) is not applies


def test_cyber_insurance_requires_the_72_hour_complaint_instead_of_the_general_one():
    insured = codes(replace(CONTROLLER, has_cyber_insurance=True))

    assert "COMPLAINT_INSURANCE" in insured and "COMPLAINT_GENERAL" not in insured
    assert get_rule("COMPLAINT_INSURANCE").hours == 72


def test_without_cyber_insurance_the_complaint_has_no_legal_deadline():
    uninsured = codes(CONTROLLER)

    assert "COMPLAINT_GENERAL" in uninsured and "COMPLAINT_INSURANCE" not in uninsured


@pytest.mark.parametrize(
    ("flag", "code"),
    [
        ("is_health_establishment", "HEALTH_L1111_8_2"),
        ("is_ose", "NIS1_OSE"),
        ("is_oiv", "OIV"),
    ],
)
def test_sector_declarations_follow_the_organisation_flag(flag, code):
    assert code not in codes(CONTROLLER)
    assert code in codes(replace(CONTROLLER, **{flag: True}))
    assert code in codes(replace(PROCESSOR, **{flag: True}))


def test_applicable_rules_keep_catalogue_order():
    everything = CaseFacts(
        is_controller=True,
        is_processor=True,
        is_nis2_entity=True,
        is_ose=True,
        is_oiv=True,
        is_health_establishment=True,
        is_dora_entity=True,
        has_cyber_insurance=True,
        high_risk=True,
        dora_major=True,
        has_controllers_to_inform=True,
    )
    order = [rule.code for rule in RULES]

    applied = [rule.code for rule in applicable_rules(everything)]

    assert applied == sorted(applied, key=order.index)
    assert len(applied) == len(RULES) - 3  # neither the two ongoing-incident rules nor the general complaint


@pytest.mark.django_db
def test_organisation_internal_targets_name_known_rules_in_whole_hours():
    from django.core.exceptions import ValidationError

    from cases.models import Organization

    def errors_for(targets):
        org = Organization(name="X", code="x", internal_targets=targets)
        try:
            org.full_clean()
        except ValidationError as exc:
            return exc.message_dict.get("internal_targets", [])
        return []

    assert errors_for({"GDPR_34": 48, "GDPR_33_2": 12}) == []
    assert errors_for({"NOPE": 4})
    assert errors_for({"GDPR_34": 0})
    assert errors_for({"GDPR_34": "48"})
    assert errors_for({"GDPR_34": True})
    assert errors_for(["GDPR_34"])
