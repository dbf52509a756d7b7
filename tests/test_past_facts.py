"""Past facts entered later (issue 12, item 4): decisions, decisions not to file, filings, communications and
closures carry when they happened (may be in the past, never in the future) apart from when they were recorded
(now); both are shown on the page, in the history and in the dossier."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from cases import services
from cases.deadlines import PARIS
from cases.dossier.builder import render_dossier
from cases.history import chained_history_models
from cases.models import BreachCase, Obligation
from tests.conftest import paris

pytestmark = pytest.mark.django_db

AWARE = paris(2024, 2, 1, 18, 0)


def history_size() -> int:
    return sum(m.objects.count() for m in chained_history_models())


def test_a_2024_decision_entered_today_keeps_both_times(open_case, dpo):
    case = open_case()
    before = timezone.now()
    services.decision_notify_authority(
        case, notify=False, reason="Chiffrement fort.", decided_at=AWARE + timedelta(hours=3), acting_user=dpo
    )
    case.refresh_from_db()
    assert case.notify_authority_decided_at == AWARE + timedelta(hours=3)
    assert case.notify_authority_recorded_at >= before
    # The notifications it sets aside are decided at the same past instant, recorded now.
    ob = case.obligations.get(rule_code="GDPR_33_1")
    assert ob.state == Obligation.State.NOT_APPLICABLE
    assert ob.decided_at == AWARE + timedelta(hours=3) and ob.decided_recorded_at >= before
    # Both in the history.
    row = case.history.first()
    assert row.notify_authority_decided_at == AWARE + timedelta(hours=3) and row.notify_authority_recorded_at


def test_a_decision_not_to_file_entered_later(open_case, dpo):
    case = open_case()
    ob = case.obligations.get(rule_code="COMPLAINT_GENERAL")
    services.obligation_mark_not_applicable(
        ob, reason="Pas d'infraction caractérisée.", decided_at=AWARE + timedelta(days=2), acting_user=dpo
    )
    ob.refresh_from_db()
    assert ob.decided_at == AWARE + timedelta(days=2) and ob.decided_recorded_at > ob.decided_at


@pytest.mark.parametrize(
    "when", [timezone.now() + timedelta(days=1), paris(2024, 1, 1, 9, 0)], ids=["future", "before-first-signal"]
)
def test_a_decision_in_the_future_or_before_the_case_is_refused_and_saves_nothing(open_case, dpo, when):
    case = open_case()
    before = (history_size(), BreachCase.objects.get(pk=case.pk).version)
    with pytest.raises(ValidationError) as refused:
        services.decision_inform_persons(case, inform=True, reason="Risque.", decided_at=when, acting_user=dpo)
    assert "inform_persons_decided_at" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.obligation_mark_not_applicable(
            case.obligations.get(rule_code="GDPR_33_1"), reason="Non.", decided_at=when, acting_user=dpo
        )
    assert "decided_at" in refused.value.message_dict
    assert (history_size(), BreachCase.objects.get(pk=case.pk).version) == before


def _closable(open_case, dpo) -> BreachCase:
    case = open_case()
    services.decision_notify_authority(case, notify=False, reason="Risque improbable.", acting_user=dpo)
    services.decision_inform_persons(case, inform=False, reason="Risque faible.", acting_user=dpo)
    services.filing_record(
        case, kind="complaint", sent_at=AWARE + timedelta(days=1),
        obligation=case.obligations.get(rule_code="COMPLAINT_GENERAL"), late_reason="Après enquête.", acting_user=dpo,
    )  # fmt: skip
    case.refresh_from_db()
    return case


def test_a_closure_entered_later_keeps_when_it_happened(open_case, dpo):
    case = _closable(open_case, dpo)
    closed_at = AWARE + timedelta(days=10)
    services.case_close(case, reason="Clos en 2024.", closed_at=closed_at, acting_user=dpo)
    case.refresh_from_db()
    assert case.closed_at == closed_at and case.closed_recorded_at > closed_at
    assert case.obligations.get(rule_code="GDPR_33_5").completed_at == closed_at


@pytest.mark.parametrize(
    ("offset", "message"),
    [(timedelta(days=3000), "futur"), (timedelta(hours=2), "dernière obligation")],
    ids=["future", "before-the-last-filing"],
)
def test_a_closure_in_the_future_or_before_the_last_filing_is_refused(open_case, dpo, offset, message):
    case = _closable(open_case, dpo)
    before = (history_size(), BreachCase.objects.get(pk=case.pk).version)
    with pytest.raises(ValidationError, match=message) as refused:
        services.case_close(case, reason="Clos.", closed_at=AWARE + offset, acting_user=dpo)
    assert "closed_at" in refused.value.message_dict
    assert (history_size(), BreachCase.objects.get(pk=case.pk).version) == before
    assert BreachCase.objects.get(pk=case.pk).status != BreachCase.Status.CLOSED


def test_the_forms_ask_when_it_happened_and_the_page_shows_when_it_was_recorded(open_case, dpo, login):
    case = open_case()
    web = login(dpo, Client(HTTP_ACCEPT_LANGUAGE="en"))
    address = reverse("cases:decision_authority", kwargs={"reference": case.reference})
    assert 'name="notify_authority_decided_at"' in web.get(address).content.decode()
    response = web.post(
        address,
        {
            "notify_authority": "yes",
            "notify_authority_reason": "Risque pour les personnes.",
            "notify_authority_decided_at": "2024-02-01T20:00",
            "version": case.version,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    case.refresh_from_db()
    assert case.notify_authority_decided_at == paris(2024, 2, 1, 20, 0)
    body = web.get(case.get_absolute_url()).content.decode()
    assert "01/02/2024 20:00" in body and 'id="decision-authority-recorded"' in body
    # Left empty, it is now: nothing to tell apart.
    other = open_case()
    web.post(
        reverse("cases:decision_persons", kwargs={"reference": other.reference}),
        {"inform_persons": "yes", "inform_persons_reason": "Risque élevé.", "version": other.version},
    )
    other.refresh_from_db()
    assert other.inform_persons_decided_at is not None
    assert abs(other.inform_persons_decided_at - other.inform_persons_recorded_at) < timedelta(seconds=5)


def test_the_dossier_prints_when_it_happened_and_when_it_was_recorded(open_case, dpo, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = open_case()
    services.decision_notify_authority(
        case, notify=True, reason="Risque.", decided_at=AWARE + timedelta(hours=3), acting_user=dpo
    )
    case.refresh_from_db()
    dossier = render_dossier(case, generated_at=datetime(2026, 3, 1, 12, 30, tzinfo=UTC), generated_by="Auditrice")
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(dossier.pdf)).pages))
    recorded = case.notify_authority_recorded_at.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")
    assert f"Décidé le 01/02/2024 21:00 Enregistré le {recorded}" in text
