"""Input limits everywhere: text sizes and characters, plausible dates, numbers and choices; a clear error, never a 500.

The structural rules are checked on every model and every form of the project, so a field added
later without a maximum length fails here rather than in production.
"""

from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, datetime

import pytest
from django import forms
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from cases import services
from cases.deadlines import localize
from cases.inputs import LONG_TEXT_MAX, CheckedFormMixin
from tests.conftest import paris

PROJECT_APPS = {"cases", "accounts", "reminders"}


def project_app_labels() -> set[str]:
    """The project's own apps (those whose code lives in this repository), whoever added them."""
    from django.conf import settings

    root = str(settings.BASE_DIR)
    return {a.label for a in apps.get_app_configs() if a.path.startswith(root) and ".venv" not in a.path}


# Written by the application alone, never from a user's input; their size follows the data they
# describe (a checkpoint's signed statement lists the head of every history chain).
SYSTEM_TEXTS = {"cases.Checkpoint.statement"}


def test_every_text_field_of_every_model_declares_a_maximum_length():
    assert project_app_labels() >= PROJECT_APPS
    missing = [
        label
        for label in (
            f"{model._meta.label}.{field.name}"
            for label in project_app_labels()
            for model in apps.get_app_config(label).get_models()
            if not hasattr(model, "instance_type")  # a history table copies its model's fields
            for field in model._meta.concrete_fields
            if isinstance(field, models.CharField | models.TextField) and not field.max_length
        )
        if label not in SYSTEM_TEXTS
    ]
    assert not missing, f"give these text fields a max_length (cases.inputs): {missing}"


def _project_form_classes() -> list[type[forms.BaseForm]]:
    for label in project_app_labels():
        package = apps.get_app_config(label).module
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if ".migrations" not in info.name and ".management" not in info.name:
                importlib.import_module(info.name)
    found, todo = [], [forms.BaseForm]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in project_app_labels() and not cls.__name__.startswith("_"):
            found.append(cls)
    return found


def test_every_form_checks_its_fields_and_bounds_every_text_field():
    classes = _project_form_classes()
    assert {"CaseFactsForm", "LoginForm", "TokenForm", "ReminderPreferenceForm"} <= {c.__name__ for c in classes}
    unchecked = [c.__qualname__ for c in classes if not issubclass(c, CheckedFormMixin)]
    assert not unchecked, f"derive these forms from cases.forms.CheckedForm (or CheckedFormMixin): {unchecked}"
    unbounded = [
        f"{c.__qualname__}.{name}"
        for c in classes
        for name, field in c.base_fields.items()
        if type(field) in {forms.CharField, forms.SlugField, forms.EmailField} and not field.max_length
    ]
    assert not unbounded, f"give these form fields a max_length: {unbounded}"


@pytest.fixture
def case(open_case):
    return open_case()


def test_a_service_refuses_oversized_text_and_saves_nothing(case, dpo):
    rows = case.history.count()
    with pytest.raises(ValidationError) as refused:
        services.case_update_facts(case, description="x" * (LONG_TEXT_MAX + 1), acting_user=dpo)
    assert "description" in refused.value.message_dict
    assert "20\u00a0000" in refused.value.message_dict["description"][0]
    case.refresh_from_db()
    assert case.description == "" and case.history.count() == rows


@pytest.mark.parametrize("bad", ["a\x00b", "bell\x07", "\u202egnp.exe", "esc\x1b[31m"])
def test_a_service_refuses_control_characters(case, dpo, bad):
    with pytest.raises(ValidationError) as refused:
        services.timeline_event_add(case, occurred_at=paris(2024, 2, 1, 19), title=bad, acting_user=dpo)
    assert "title" in refused.value.message_dict


def test_multi_line_text_keeps_tabs_and_line_breaks(case, dpo):
    services.case_update_facts(case, description="ligne 1\r\n\tligne 2\nfin", acting_user=dpo)
    case.refresh_from_db()
    assert case.description == "ligne 1\r\n\tligne 2\nfin"


@pytest.mark.parametrize("year", [1, 1989, 2100, 9999])
def test_a_service_refuses_an_implausible_year(case, dpo, year):
    with pytest.raises(ValidationError) as refused:
        services.timeline_event_add(case, occurred_at=datetime(year, 1, 1, tzinfo=UTC), title="T", acting_user=dpo)
    assert refused.value.message_dict["occurred_at"] == ["Saisissez une date entre 1990 et 2099."]


def test_localize_never_overflows():
    with pytest.raises(ValueError, match="outside"):
        localize(datetime(1, 1, 1))
    assert localize(datetime(9999, 12, 31, 23, 59)).year == 9999


@pytest.mark.parametrize("value", ["0001-01-01T00:00", "9999-12-31T23:59", "1989-12-31T23:59", "2024-02-30T10:00"])
def test_the_form_answers_400_with_a_clear_message_for_an_impossible_date(case, dpo, login, client, value):
    url = reverse("cases:event_add", kwargs={"reference": case.reference})
    login(dpo)
    response = client.post(url, {"occurred_at": value, "kind": "other", "title": "Coupure"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "entre 1990 et 2099" in page or "Saisissez une date et une heure valides" in page
    assert not case.events.filter(title="Coupure").exists()


@pytest.mark.parametrize("value", ["NaN", "Infinity", "abc", "0.3", "-1", "1e999"])
def test_a_non_choice_severity_is_a_field_error_not_a_server_error(case, dpo, login, client, value):
    from tests.test_no_lost_update import facts_form

    url = reverse("cases:case_update", kwargs={"reference": case.reference})
    login(dpo)
    response = client.post(url, {**facts_form(case), "severity_cb_integrity": value, "severity_ei": value})
    assert response.status_code == 400
    assert response.context["form"].errors.keys() >= {"severity_cb_integrity", "severity_ei"}


def test_counts_are_bounded_in_the_form_and_the_service(case, dpo, login, client):
    from tests.test_no_lost_update import facts_form

    url = reverse("cases:case_update", kwargs={"reference": case.reference})
    login(dpo)
    response = client.post(url, {**facts_form(case), "persons_approx": str(10**30)})
    assert response.status_code == 400 and "persons_approx" in response.context["form"].errors
    with pytest.raises(ValidationError) as refused:
        services.case_update_facts(case, persons_approx=10**19, acting_user=dpo)
    assert "persons_approx" in refused.value.message_dict


@pytest.mark.parametrize("path", ["/cases/%00/", "/cases/A%00B/edit/", "/cases/%1b%5b31m/history/"])
def test_a_control_character_in_a_case_url_answers_404(case, dpo, login, client, path):
    login(dpo)
    assert client.get(path).status_code == 404
    assert client.post(path, {}).status_code == 404


def test_a_control_character_in_the_query_string_answers_400(dpo, login, client):
    login(dpo)
    response = client.get(reverse("cases:case_list"), {"q": "a\x00b"})
    assert response.status_code == 400


def test_a_nul_in_the_unlock_form_answers_404(org, make_user, login, client):
    admin = make_user(org, "admin", "chef")
    login(admin)
    assert client.post(reverse("accounts:unlock"), {"username": "dpo\x00"}).status_code == 404
    assert client.post(reverse("accounts:unlock"), {"username": "x" * 10_000}).status_code == 404


def test_unicode_digits_in_a_version_or_an_id_are_refused_not_a_server_error(case, dpo, login, client):
    from tests.test_no_lost_update import facts_form

    login(dpo)
    response = client.post(
        reverse("cases:case_update", kwargs={"reference": case.reference}), {**facts_form(case), "version": "²"}
    )
    assert response.status_code == 400 and "version" in response.context["form"].errors
    page = client.get(reverse("cases:filing_record", kwargs={"reference": case.reference}), {"obligation": "١٢"})
    assert page.status_code == 200
