"""Data minimisation: a case records counts and categories of affected persons, never their identities or NIR."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from cases import services
from cases.models import BreachCase, DataCategory, SubjectCategory

# Field names that would hold a data subject's identity.
IDENTITY_FIELD = re.compile(
    r"(^|_)(nir|ssn|insee|social_security|secu|first_?name|last_?name|surname|family_name|given_name|full_name|"
    r"birth|date_of_birth|dob|person_name|subject_name|member_name|patient|email|phone|address|iban)(_|$)"
)
# Contacts of the organisation itself (its DPO, its legal representative), not of data subjects.
ORGANISATION_CONTACTS = {
    ("Organization", "dpo_name"),
    ("Organization", "dpo_email"),
    ("Organization", "dpo_phone"),
    ("Organization", "legal_rep_name"),
    ("Organization", "legal_rep_email"),
    ("Organization", "address"),
    # The financial entity's contacts for the supervisor's questions (DORA ITS 2025/302, fields 1.7-1.12).
    ("DoraFacts", "contact_email"),
    ("DoraFacts", "contact_phone"),
    ("DoraFacts", "second_contact_email"),
    ("DoraFacts", "second_contact_phone"),
}


def cases_fields():
    for model in apps.get_app_config("cases").get_models():
        name = model.__name__.removeprefix("Historical")
        for field in model._meta.get_fields():
            yield name, field


def test_no_model_of_the_cases_app_stores_a_data_subject_s_identity():
    offending = [
        f"{model}.{field.name}"
        for model, field in cases_fields()
        if IDENTITY_FIELD.search(field.name) and (model, field.name) not in ORGANISATION_CONTACTS
    ]
    assert offending == []


def test_the_whitelist_only_names_fields_that_exist():
    existing = {(model, field.name) for model, field in cases_fields()}
    assert existing >= ORGANISATION_CONTACTS


def test_the_case_records_numbers_and_categories():
    names = {f.name for f in BreachCase._meta.get_fields()}
    assert {"persons_approx", "records_approx", "data_categories", "subject_categories"} <= names
    assert BreachCase._meta.get_field("persons_approx").get_internal_type() == "PositiveBigIntegerField"


def test_the_nir_is_a_category_code_not_a_value(open_case):
    case = open_case(data_categories=[DataCategory.NIR, DataCategory.IDENTITY], persons_approx=33_000_000)
    case.refresh_from_db()
    assert case.data_categories == ["nir", "identity"]
    assert case.persons_approx == 33_000_000


@pytest.mark.parametrize(
    "categories",
    [
        ["nir", "1 84 12 75 123 456 78"],  # a social security number typed as a category
        ["Jean Dupont"],
        ["identity", "unknown_category"],
        "identity",  # a string, not a list
        [["nested"]],
    ],
)
def test_data_categories_only_accept_known_codes(open_case, dpo, categories):
    with pytest.raises(ValidationError) as exc:
        open_case(data_categories=categories)
    assert "data_categories" in exc.value.message_dict
    assert not BreachCase.objects.exists()


def test_data_categories_are_checked_on_update_and_nothing_is_saved(open_case, dpo):
    case = open_case(data_categories=["identity"])
    rows = case.history.count()
    with pytest.raises(ValidationError) as exc:
        services.case_update_facts(case, acting_user=dpo, data_categories=["identity", "jean.dupont@example.fr"])
    assert "data_categories" in exc.value.message_dict
    case.refresh_from_db()
    assert case.data_categories == ["identity"] and case.history.count() == rows


def test_subject_categories_only_accept_known_codes(open_case, dpo):
    case = open_case(subject_categories=[SubjectCategory.MEMBERS, SubjectCategory.MINORS])
    assert case.subject_categories == ["members", "minors"]
    with pytest.raises(ValidationError) as exc:
        services.case_update_facts(case, acting_user=dpo, subject_categories=["Marie Martin"])
    assert "subject_categories" in exc.value.message_dict
