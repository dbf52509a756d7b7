"""Reminder preferences page, and the list of reminders sent that the case page includes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from cases.models import Membership
from reminders.models import ReminderKind, ReminderPreference, ReminderSent
from reminders.selectors import reminders_for_case
from reminders.services import send_due_reminders
from tests.conftest import paris

URL = "/reminders/preferences/"


def test_the_url_is_mounted_under_reminders():
    assert reverse("reminders:preferences") == URL


def test_the_page_needs_a_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/" in response["Location"]


def test_the_page_shows_the_defaults_with_french_labels(dpo, login):
    response = login(dpo).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Préférences de rappel" in html
    assert '<label for="id_receive_due_24h">Me prévenir 24 heures avant une échéance</label>' in html
    assert 'id="id_receive_due_24h" checked' in html
    assert "Langue des e-mails de rappel" in html
    assert not ReminderPreference.objects.exists()  # nothing stored until the user saves


def test_saving_stores_the_users_own_preferences_and_shows_them(dpo, login, make_user, org):
    other = make_user(org, Membership.Role.LEGAL)
    client = login(dpo)
    response = client.post(URL, {"receive_due_4h": "on", "receive_overdue": "on", "language": "en"}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [(URL, 302)]
    pref = ReminderPreference.objects.get(user=dpo)
    assert (pref.receive_due_24h, pref.receive_due_4h, pref.receive_overdue, pref.language) == (False, True, True, "en")
    assert not ReminderPreference.objects.filter(user=other).exists()
    html = response.content.decode()
    assert "Vos préférences de rappel sont enregistrées." in html
    assert 'id="id_receive_due_24h">' in html  # unchecked now
    assert 'value="en" id="id_language_1" required checked' in html

    client.post(URL, {"receive_due_24h": "on", "language": "fr"})
    pref.refresh_from_db()
    assert (pref.receive_due_24h, pref.receive_due_4h, pref.language) == (True, False, "fr")


def test_a_first_save_racing_another_tab_s_first_save_keeps_the_latest_not_a_server_error(dpo, login, monkeypatch):
    """Two tabs (or a double click) saving preferences for the first time: the second finds the row the
    first just created. It updates that row; it never fails on the one-row-per-user constraint (a 500)."""
    client = login(dpo)
    unsaved = ReminderPreference.for_user

    def other_tab_saves_first(user):
        preference = unsaved(user)  # read before the other request committed: no row yet
        if not ReminderPreference.objects.filter(user=user).exists():
            ReminderPreference.objects.create(user=user, language="fr", receive_due_24h=True)
        return preference

    monkeypatch.setattr(ReminderPreference, "for_user", other_tab_saves_first)
    response = client.post(URL, {"receive_due_4h": "on", "language": "en"})
    assert response.status_code == 302
    pref = ReminderPreference.objects.get(user=dpo)
    saved = (pref.receive_due_24h, pref.receive_due_4h, pref.receive_overdue, pref.language)
    assert saved == (False, True, False, "en")


def test_an_unknown_language_is_refused(dpo, login):
    response = login(dpo).post(URL, {"language": "de"})
    assert response.status_code == 200
    assert not ReminderPreference.objects.exists()


@pytest.fixture
def case_with_reminders(org, dpo, make_user, open_case, django_capture_on_commit_callbacks):
    legal = make_user(org, Membership.Role.LEGAL, "juriste")
    for user in (dpo, legal):
        user.email = f"{user.username}@mutex.example"
        user.save()
    case = open_case(aware_at=paris(2024, 2, 1, 18, 0))
    other = open_case(aware_at=paris(2024, 2, 1, 18, 0), title="Autre dossier")
    with django_capture_on_commit_callbacks(execute=True):
        send_due_reminders(now=paris(2024, 2, 4, 15, 0))
    return case, other


def test_reminders_for_case_lists_that_cases_reminders_in_one_query(case_with_reminders, django_assert_num_queries):
    case, other = case_with_reminders
    with django_assert_num_queries(1):
        reminders = list(reminders_for_case(case))
        [(r.recipient.username, r.obligation.rule_code) for r in reminders]
    assert reminders
    assert {r.obligation.case_id for r in reminders} == {case.pk}
    assert len(reminders) == ReminderSent.objects.filter(obligation__case=case).count()


def test_the_case_page_include_lists_the_reminders(case_with_reminders):
    case, _ = case_with_reminders
    html = render_to_string("reminders/_case_reminders.html", {"reminders": reminders_for_case(case)})
    assert "Rappels envoyés" in html
    assert "juriste" in html
    assert str(ReminderKind.DUE_4H.label) in html or "Échéance dans moins de 4 heures" in html
    cnil = case.obligations.get(rule_code="GDPR_33_1")
    assert f'href="#obligation-{cnil.pk}"' in html
    assert "04/02/2024 15:00" in html  # sent at, Paris time
    assert "04/02/2024 18:00" in html  # the due date it announced


def test_the_include_says_when_nothing_was_sent(open_case):
    case = open_case()
    html = render_to_string("reminders/_case_reminders.html", {"reminders": reminders_for_case(case)})
    assert "Aucun rappel n'a encore été envoyé pour ce dossier." in html


def test_the_reminders_are_kept_with_their_due_date(case_with_reminders):
    case, _ = case_with_reminders
    due = case.obligations.get(rule_code="GDPR_33_1").due_at
    assert set(
        ReminderSent.objects.filter(obligation__rule_code="GDPR_33_1", obligation__case=case).values_list(
            "due_at_when_sent", flat=True
        )
    ) == {due}
    assert due - paris(2024, 2, 4, 15, 0) == timedelta(hours=3)
