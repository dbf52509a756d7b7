"""Two people editing one record: both changes land, or the second gets a clear conflict; never a silent revert.

Every tracked record counts its saves (`version`); an edit form carries the version it was read at,
and the service refuses an edit made on an older version (`StaleVersionError`). The form page then
answers 409, shows what changed since, and keeps what the user typed on top of the current version.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from cases import services
from cases.models import BreachCase
from cases.services.common import StaleVersionError
from tests.conftest import paris


@pytest.fixture
def case(open_case):
    return open_case(description="Première description.")


@pytest.fixture
def colleague(org, make_user):
    return make_user(org, "dpo", "colleague")


def facts_form(case: BreachCase) -> dict:
    """What the case facts form posts when sent unchanged, read from the form as the browser shows it."""
    return {
        "version": str(case.version),
        "title": case.title,
        "nature": case.nature,
        "first_signal_at": "2024-02-01T09:00",
        "aware_at": "2024-02-01T18:00",
        "aware_justification": case.aware_justification,
        "origin": case.origin,
        "cause": case.cause,
        "description": case.description,
        "severity_dpc_adjustment": "0",
        "severity_cb_confidentiality": "0",
        "severity_cb_integrity": "0",
        "severity_cb_availability": "0",
    }


def test_every_save_counts_one_version_and_one_history_row(case, dpo):
    first = case.version
    services.case_update_facts(case, title="Nouveau titre", acting_user=dpo)
    case.refresh_from_db()
    assert case.version == first + 1
    assert case.history.count() == case.version


def test_a_stale_edit_is_refused_by_the_service_and_saves_nothing(case, dpo, colleague):
    read_at = case.version
    services.case_update_facts(case, title="Titre de A", acting_user=dpo, expected_version=read_at)
    rows = case.history.count()
    with pytest.raises(StaleVersionError) as refused:
        services.case_update_facts(
            case, description="Description de B", acting_user=colleague, expected_version=read_at
        )
    assert refused.value.expected == read_at
    case.refresh_from_db()
    assert (case.title, case.description) == ("Titre de A", "Première description.")
    assert case.history.count() == rows


def test_an_edit_on_the_current_version_goes_through(case, dpo):
    services.case_update_facts(case, title="Titre", acting_user=dpo, expected_version=case.version)
    case.refresh_from_db()
    assert case.title == "Titre"


@pytest.mark.parametrize(
    ("call", "record"),
    [
        (
            lambda case, ob, user, v: services.decision_notify_authority(
                case, notify=True, reason="Risque.", acting_user=user, expected_version=v
            ),
            "case",
        ),
        (
            lambda case, ob, user, v: services.case_close(case, reason="Fin.", acting_user=user, expected_version=v),
            "case",
        ),
        (
            lambda case, ob, user, v: services.obligation_complete(
                ob, completed_at=paris(2024, 2, 2, 9, 0), acting_user=user, expected_version=v
            ),
            "register_entry",
        ),
        (
            lambda case, ob, user, v: services.obligation_mark_not_applicable(
                ob, reason="Sans objet.", acting_user=user, expected_version=v
            ),
            "obligation",
        ),
    ],
    ids=["decision", "close", "complete", "not-applicable"],
)
def test_every_edit_service_refuses_a_stale_version(case, dpo, call, record):
    # A bare completion is only for the register entry (Art. 33(5)): a filing obligation is completed by its filing.
    ob = case.obligations.get(rule_code="GDPR_33_5" if record == "register_entry" else "GDPR_33_1")
    target = case if record == "case" else ob
    with pytest.raises(StaleVersionError):
        call(case, ob, dpo, target.version - 1 or 999)


def test_the_second_stale_form_answers_409_and_keeps_the_first_change(case, dpo, colleague, login, client):
    from django.test import Client

    url = reverse("cases:case_update", kwargs={"reference": case.reference})
    a, b = login(dpo, Client()), login(colleague, Client())
    form_a = a.get(url)
    form_b = b.get(url)
    version = re.search(r'name="version" value="(\d+)"', form_b.content.decode()).group(1)
    assert version == str(case.version)
    assert form_a.status_code == form_b.status_code == 200

    assert a.post(url, {**facts_form(case), "title": "Titre de A"}).status_code == 302
    response = b.post(url, {**facts_form(case), "description": "Description de B"})

    assert response.status_code == 409
    case.refresh_from_db()
    assert (case.title, case.description) == ("Titre de A", "Première description.")
    page = response.content.decode()
    assert "Titre de A" in page  # what changed since, and the current title in the form
    assert "Description de B" in page  # what B typed is kept
    new_version = re.search(r'name="version" value="(\d+)"', page).group(1)
    assert new_version == str(case.version)

    # Sent again as shown, both changes land: A's title is not reverted.
    resent = {**facts_form(case), "description": "Description de B", "version": new_version}
    assert b.post(url, resent).status_code == 302
    case.refresh_from_db()
    assert (case.title, case.description) == ("Titre de A", "Description de B")


def test_a_stale_obligation_form_answers_409_with_what_changed(case, dpo, colleague, login):
    from django.test import Client

    ob = case.obligations.get(rule_code="GDPR_33_1")
    url = reverse("cases:obligation_not_applicable", kwargs={"reference": case.reference, "obligation_id": ob.pk})
    b = login(colleague, Client())
    page = b.get(url).content.decode()
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    # Meanwhile A moves the awareness time: the CNIL deadline moves with it.
    services.case_update_facts(case, aware_at=paris(2024, 2, 1, 20, 0), change_reason="Logs re-read.", acting_user=dpo)
    response = b.post(url, {"version": version, "not_applicable_reason": "CNIL-1"})
    assert response.status_code == 409
    ob.refresh_from_db()
    assert ob.state == ob.State.PENDING
    assert "CNIL-1" in response.content.decode()
