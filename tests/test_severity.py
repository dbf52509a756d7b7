"""ENISA (2013) severity: SE = DPC x EI + CB, its levels, and how invalid inputs are refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from cases import services, severity
from cases.models import BreachCase, DataCategory
from cases.severity import SeverityInputs, assess, data_processing_context, level_for


def score(**kwargs) -> severity.Severity:
    kwargs.setdefault("data_categories", ("identity",))
    return assess(SeverityInputs(**kwargs))


def test_simple_identity_data_hardly_identifiable_is_low():
    result = score(ease_of_identification=Decimal("0.25"))
    assert (result.dpc, result.score, result.level) == (1, Decimal("0.25"), "low")


def test_the_seed_incident_is_high():
    """Identity + NIR + insurer, fully identifiable, unknown recipients, malicious (regulations.md)."""
    result = score(
        data_categories=("identity", "nir", "insurance"),
        ease_of_identification=Decimal("1"),
        cb_confidentiality=Decimal("0.5"),
        malicious=True,
    )
    assert (result.dpc, result.score, result.level) == (2, Decimal("3.00"), "high")


def test_health_data_identifiable_with_circumstances_is_very_high():
    result = score(
        data_categories=("health", "identity"),
        ease_of_identification=Decimal("1"),
        cb_confidentiality=Decimal("0.25"),
    )
    assert (result.dpc, result.score, result.level) == (4, Decimal("4.25"), "very_high")


@pytest.mark.parametrize(
    ("value", "level"),
    [
        ("1.99", "low"),
        ("2", "medium"),
        ("2.99", "medium"),
        ("3", "high"),
        ("3.99", "high"),
        ("4", "very_high"),
        ("0", "low"),
    ],
)
def test_level_boundaries_are_exactly_2_3_and_4(value, level):
    assert level_for(Decimal(value)) == level


def test_a_score_of_exactly_2_is_medium():
    # financial data (3) x 0.5 + confidentiality to known recipients (0.25) + availability (0.25) = 2
    result = score(
        data_categories=("financial",),
        ease_of_identification=Decimal("0.5"),
        cb_confidentiality=Decimal("0.25"),
        cb_availability=Decimal("0.25"),
    )
    assert (result.score, result.level) == (Decimal("2.00"), "medium")


def test_a_score_of_exactly_4_is_very_high():
    result = score(data_categories=("health",), ease_of_identification=Decimal("1"))
    assert (result.score, result.level) == (Decimal("4.00"), "very_high")


def test_the_highest_data_category_sets_the_context():
    assert data_processing_context(["identity", "location", "financial"]) == 3
    assert data_processing_context([]) == 1


@pytest.mark.parametrize(
    ("categories", "adjustment", "dpc"),
    [(["identity"], -3, 1), (["health"], 3, 4), (["identity"], 2, 3), (["financial"], -1, 2)],
)
def test_the_context_adjustment_stays_within_1_and_4(categories, adjustment, dpc):
    assert data_processing_context(categories, adjustment) == dpc


def test_every_data_category_has_a_context_score():
    assert set(severity.DPC_BASE) == set(DataCategory.values)


def test_no_score_until_the_ease_of_identification_is_assessed():
    assert score(ease_of_identification=None) is None


@pytest.mark.parametrize("ei", [Decimal("0.3"), Decimal("2"), "abc", "NaN", 0.3, True, -1])
def test_an_invalid_ease_of_identification_is_refused(ei):
    with pytest.raises(severity.SeverityInputError) as exc:
        score(ease_of_identification=ei)
    assert exc.value.field == "ease_of_identification"


def test_an_invalid_circumstance_is_refused():
    with pytest.raises(severity.SeverityInputError) as exc:
        score(ease_of_identification=Decimal("1"), cb_integrity=Decimal("0.75"))
    assert exc.value.field == "cb_integrity"


# --- through the services ---------------------------------------------------------------------


def test_the_case_stores_the_score_and_level(open_case, dpo):
    case = open_case(data_categories=["identity"], severity_ei=Decimal("0.25"))
    assert (case.severity_score, case.severity_level) == (Decimal("0.25"), "low")
    case = services.case_update_facts(
        case,
        acting_user=dpo,
        data_categories=["identity", "nir", "insurance"],
        severity_ei=Decimal("1"),
        severity_cb_confidentiality=Decimal("0.5"),
        severity_cb_malicious=True,
    )
    case.refresh_from_db()
    assert (case.severity_score, case.severity_level) == (Decimal("3.00"), "high")
    assert case.obligations.filter(rule_code="GDPR_34").exists()


def test_the_dpc_adjustment_is_validated_by_the_case(open_case, dpo):
    case = open_case(data_categories=["identity"], severity_ei=Decimal("1"))
    services.case_update_facts(case, acting_user=dpo, severity_dpc_adjustment=3)
    case.refresh_from_db()
    assert case.severity_score == Decimal("4.00")
    with pytest.raises(ValidationError) as exc:
        services.case_update_facts(case, acting_user=dpo, severity_dpc_adjustment=7)
    assert "severity_dpc_adjustment" in exc.value.message_dict


@pytest.mark.parametrize("ei", [Decimal("0.3"), "abc", 2])
def test_an_invalid_ease_of_identification_is_a_clear_error_and_saves_nothing(open_case, dpo, ei):
    case = open_case(data_categories=["identity"], severity_ei=Decimal("0.25"))
    rows = case.history.count()
    with pytest.raises(ValidationError) as exc:
        services.case_update_facts(case, acting_user=dpo, severity_ei=ei)
    assert "0,25\u00a0; 0,5\u00a0; 0,75 ou 1" in exc.value.message_dict["severity_ei"][0]
    case.refresh_from_db()
    assert case.severity_ei == Decimal("0.25") and case.severity_level == "low"
    assert case.history.count() == rows


def test_an_invalid_circumstance_names_its_field(open_case, dpo):
    case = open_case()
    with pytest.raises(ValidationError) as exc:
        services.case_update_facts(case, acting_user=dpo, severity_ei=Decimal("1"), severity_cb_availability="0.3")
    assert "severity_cb_availability" in exc.value.message_dict
    assert not BreachCase.objects.filter(severity_level__gt="").exists()


def test_an_invalid_ease_of_identification_is_refused_at_opening(open_case):
    with pytest.raises(ValidationError) as exc:
        open_case(severity_ei=Decimal("0.6"))
    assert "severity_ei" in exc.value.message_dict
    assert not BreachCase.objects.exists()
