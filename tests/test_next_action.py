"""The case page leads with the next action on the first running deadline (issue 12, item 4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from cases import services
from cases.models import Membership, Obligation
from cases.selectors.case_page import case_page
from tests.conftest import paris

pytestmark = pytest.mark.django_db

AWARE = paris(2024, 2, 1, 18, 0)


def only_cnil_running(case, dpo) -> Obligation:
    """Set aside every running obligation but the CNIL notification, so it is the first deadline."""
    for ob in case.obligations.filter(state=Obligation.State.PENDING).exclude(rule_code__in=["GDPR_33_1", "GDPR_33_5"]):
        services.obligation_mark_not_applicable(ob, reason="Sans objet ici.", acting_user=dpo)
    return case.obligations.get(rule_code="GDPR_33_1")


def test_the_first_running_deadline_leads_with_its_next_step(open_case, dpo, make_user, org):
    case = open_case()
    cnil = only_cnil_running(case, dpo)
    now = AWARE + timedelta(hours=30, minutes=30)  # due at AWARE + 72 h: 1 d 17 h 30 left
    with translation.override("en"):
        page = case_page(case, lang="en", now=now)
        step = page.next_action
        assert step.obligation == cnil and not step.overdue
        assert step.text.endswith("due in 1 d 17 h") and step.action == "draft it"
        assert step.url == reverse(
            "cases:submission_start", kwargs={"reference": case.reference, "obligation_id": cnil.pk}
        )

        # Drafted: the step is the draft itself, then its review, then recording it as sent.
        sub = services.submission_draft(case, obligation=cnil, acting_user=dpo)
        step = case_page(case, lang="en", now=now).next_action
        assert step.url == sub.get_absolute_url() and step.action.startswith("finish the draft")
        sub = services.submission_submit_for_review(sub, acting_user=dpo)
        assert case_page(case, lang="en", now=now).next_action.action.startswith("review it")
        services.submission_approve(sub, comment="OK", acting_user=make_user(org, Membership.Role.LEGAL, "legal"))
        assert case_page(case, lang="en", now=now).next_action.action == "record it as sent"

        late = case_page(case, lang="en", now=AWARE + timedelta(days=5)).next_action
        assert late.overdue and late.text.endswith("overdue by 2 d")


def test_an_art_34_duty_and_a_plain_filing_point_to_their_own_forms(open_case, dpo):
    from decimal import Decimal

    case = open_case(data_categories=["identity", "nir"], severity_ei=Decimal("1"), severity_cb_malicious=True)
    now = AWARE + timedelta(hours=1)
    page = case_page(case, lang="fr", now=now)
    running = [
        o for o in page.case.obligations.all() if o.state == "pending" and o.due_at and o.rule_code != "GDPR_33_5"
    ]
    first = min(running, key=lambda o: (o.due_at, o.pk))
    assert page.next_action.obligation == first
    if first.rule_code.startswith("COMPLAINT"):  # drafted in the register, as the CNIL notification
        assert page.next_action.url == reverse(
            "cases:submission_start", kwargs={"reference": case.reference, "obligation_id": first.pk}
        )


def test_the_page_shows_it_with_a_link_for_writers_only_and_nothing_once_closed(open_case, dpo, make_user, org, login):
    case = open_case()
    only_cnil_running(case, dpo)
    cnil = case.obligations.get(rule_code="GDPR_33_1")
    start = reverse("cases:submission_start", kwargs={"reference": case.reference, "obligation_id": cnil.pk})
    body = login(dpo, Client()).get(case.get_absolute_url()).content.decode()
    assert 'id="next-action"' in body and f'id="next-action-link" href="{start}"' in body
    # The CNIL notification of a 2024 case is overdue today: said so, first on the page.
    assert body.index('id="next-action"') < body.index('id="obligations"')
    auditor = login(make_user(org, Membership.Role.AUDITOR, "aud"), Client()).get(case.get_absolute_url())
    assert 'id="next-action"' in auditor.content.decode() and 'id="next-action-link"' not in auditor.content.decode()

    services.decision_notify_authority(case, notify=False, reason="Risque improbable.", acting_user=dpo)
    services.decision_inform_persons(case, inform=False, reason="Risque faible.", acting_user=dpo)
    case.refresh_from_db()
    services.case_close(case, reason="Fin.", acting_user=dpo)
    assert 'id="next-action"' not in login(dpo, Client()).get(case.get_absolute_url()).content.decode()


def test_the_next_action_costs_no_query_whatever_the_drafts(
    open_case, dpo, login, make_user, org, django_assert_max_num_queries
):
    """The page's query count does not grow with the case's notifications."""
    legal = make_user(org, Membership.Role.LEGAL, "legal")
    bare = open_case()
    client = login(dpo, Client())
    with CaptureQueriesContext(connection) as queries:
        assert client.get(bare.get_absolute_url()).status_code == 200
    busy = open_case()
    sub = services.submission_draft(busy, obligation=busy.obligations.get(rule_code="GDPR_33_1"), acting_user=dpo)
    sub = services.submission_submit_for_review(sub, acting_user=dpo)
    sub = services.submission_approve(sub, comment="OK", acting_user=legal)
    services.submission_mark_sent(sub, sent_at=AWARE + timedelta(hours=5), acting_user=dpo)
    complementary = busy.obligations.get(rule_code="GDPR_33_4")
    services.submission_draft(busy, obligation=complementary, acting_user=dpo)
    with django_assert_max_num_queries(len(queries)):
        body = client.get(busy.get_absolute_url()).content.decode()
    assert 'id="next-action"' in body
