"""A proposal is a draft regime compared on a case, and never a deadline, an obligation, a reminder or an event.

The Commission's Digital Omnibus proposal (COM(2025) 837) would have the GDPR Art. 33(1)
notification made within 96 hours, only for breaches likely to result in a high risk,
through a single EU entry point. The case page and the dossier say when the CNIL
notification would be due under it, marked not in force; nothing else reads it.
"""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from cases import calendar_feed, regimes
from cases.deadlines import AnchorTimes, DueBasis, compare_draft
from cases.dossier.builder import build_dossier
from cases.models import Membership, Obligation
from cases.regimes import DIGITAL_OMNIBUS, CaseFacts, Regime, Stage, get_rule, proposed_variant
from reminders.models import ReminderSent
from reminders.services import send_due_reminders
from tests.conftest import paris

AWARE = paris(2024, 2, 1, 18, 0)
HIGH_RISK = {
    "data_categories": ["identity", "nir", "insurance"],
    "severity_ei": Decimal("1"),
    "severity_cb_confidentiality": Decimal("0.5"),
    "severity_cb_malicious": True,
}
CONTROLLER = CaseFacts(is_controller=True, is_processor=False)
OMNIBUS_SENTENCE = (
    "Selon la proposition Omnibus numérique (COM(2025) 837 final, 2025/0360(COD)), la notification à la CNIL "
    "serait à faire au plus tard le 05/02/2024 18:00 (non en vigueur)."
)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def high_risk_case(open_case):
    return open_case(aware_at=AWARE, **HIGH_RISK)


def page(client, case) -> str:
    response = client.get(reverse("cases:case_detail", kwargs={"reference": case.reference}))
    assert response.status_code == 200
    return response.content.decode()


# --- The proposal is data: a regime of rule variants with a status ---


def test_the_omnibus_is_a_draft_regime_of_rule_variants():
    (variant,) = DIGITAL_OMNIBUS.rules

    assert DIGITAL_OMNIBUS.stage is Stage.PROPOSAL and "COM(2025) 837" in DIGITAL_OMNIBUS.reference
    assert (variant.code, variant.hours, variant.stage) == ("GDPR_33_1", 96, Stage.PROPOSAL)
    assert "COM(2025) 837" in variant.source
    assert get_rule("GDPR_33_1").hours == 72  # the law is untouched
    assert variant not in regimes.RULES


def test_under_the_omnibus_a_high_risk_breach_is_notified_within_96_hours():
    high_risk = replace(CONTROLLER, high_risk=True)

    (outcome,) = compare_draft(DIGITAL_OMNIBUS, high_risk, AnchorTimes(AWARE))

    assert outcome.applies
    assert (outcome.due.at, outcome.due.basis) == (AWARE + timedelta(hours=96), DueBasis.LEGAL)


def test_under_the_omnibus_a_breach_without_high_risk_is_not_notified():
    (outcome,) = compare_draft(DIGITAL_OMNIBUS, CONTROLLER, AnchorTimes(AWARE))

    assert not outcome.applies and outcome.due.at is None


# --- Shown on the case page and in the dossier, marked not in force ---


def test_the_case_page_says_when_the_cnil_notification_would_be_due_under_the_proposal(high_risk_case, dpo, login):
    body = page(login(dpo), high_risk_case)

    assert 'id="proposal-digital_omnibus-GDPR_33_1"' in body
    assert OMNIBUS_SENTENCE.replace("'", "&#x27;") in body
    assert "Le droit en vigueur fixe le 04/02/2024 18:00." in body


def test_the_case_page_says_the_notification_would_not_be_required_without_high_risk(open_case, dpo, login):
    body = page(login(dpo), open_case(aware_at=AWARE))

    assert "la notification à la CNIL ne s&#x27;imposerait pas (non en vigueur)." in body


def test_a_processor_only_case_shows_no_proposal_line(make_org, make_user, login):
    from cases import services
    from cases.models import Organization

    processor = make_org(kind=Organization.Kind.PROCESSOR)
    user = make_user(processor, Membership.Role.DPO)
    case = services.case_open(
        organization=processor,
        title="Exposed bucket",
        first_signal_at=AWARE - timedelta(hours=1),
        aware_at=AWARE,
        aware_justification="Seen.",
        acting_user=user,
        **HIGH_RISK,
    )

    assert 'id="proposals"' not in page(login(user), case)


def test_the_dossier_mentions_the_proposal_briefly(high_risk_case):
    pdf = build_dossier(high_risk_case, lang="fr")
    text = " ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(pdf)).pages)
    flat = " ".join(text.split())

    assert "Propositions, non en vigueur" in flat
    assert "la notification à la CNIL serait à faire au plus tard le 05/02/2024 18:00 (non en vigueur)" in flat


def test_the_dossier_in_english_says_it_in_english(high_risk_case):
    pdf = build_dossier(high_risk_case, lang="en")
    flat = " ".join(" ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(pdf)).pages).split())

    assert "Under the Digital Omnibus proposal (COM(2025) 837 final, 2025/0360(COD)), the CNIL notification" in flat
    assert "would be due at 05/02/2024 18:00 (not in force)" in flat


# --- Never a deadline, an obligation, a reminder or a calendar entry ---


def test_a_proposal_never_creates_an_obligation(high_risk_case):
    cnil = high_risk_case.obligations.get(rule_code="GDPR_33_1")

    assert cnil.due_at == AWARE + timedelta(hours=72)
    assert not Obligation.objects.filter(due_at=AWARE + timedelta(hours=96)).exists()
    assert not Obligation.objects.filter(legal_source__contains="COM(2025) 837").exists()


def test_a_proposal_never_sends_a_reminder(high_risk_case, dpo, django_capture_on_commit_callbacks):
    dpo.email = "dpo@mutex.example"
    dpo.save()
    omnibus_due = AWARE + timedelta(hours=96)
    with django_capture_on_commit_callbacks(execute=True):
        send_due_reminders(now=omnibus_due + timedelta(hours=1))

    reminded = set(ReminderSent.objects.values_list("obligation__due_at", flat=True))
    assert reminded and omnibus_due not in reminded
    assert reminded <= set(high_risk_case.obligations.values_list("due_at", flat=True))


def test_a_proposal_never_reaches_the_calendar_feed(high_risk_case, org):
    body, _count, _validators = calendar_feed.build_feed(org, lang="fr", now=AWARE)
    body = body.decode()

    assert "DTSTART:20240205T170000Z" not in body  # 96 h after 1 Feb 18:00 Paris
    assert "DTSTART:20240204T170000Z" in body  # the law's 72 h
    assert "Omnibus" not in body


# --- The next proposal is a data change; reading them costs no query ---


def test_the_next_proposal_is_one_more_regime_in_the_data(high_risk_case, dpo, login, monkeypatch):
    draft = Regime(
        code="cyber_complaint",
        name="test proposal",
        stage=Stage.PROPOSAL,
        reference="COM(2099) 1",
        note="",
        rules=(proposed_variant("GDPR_33_1", hours=48, summary="48 hours."),),
    )
    monkeypatch.setattr(regimes, "DRAFT_REGIMES", (*regimes.DRAFT_REGIMES, draft))

    body = page(login(dpo), high_risk_case)

    assert 'id="proposal-cyber_complaint-GDPR_33_1"' in body
    assert "le 03/02/2024 18:00 (non en vigueur)" in body
    assert high_risk_case.obligations.get(rule_code="GDPR_33_1").due_at == AWARE + timedelta(hours=72)


def test_the_proposals_cost_the_case_page_no_query(high_risk_case, dpo, login, monkeypatch):
    client = login(dpo)
    url = reverse("cases:case_detail", kwargs={"reference": high_risk_case.reference})
    client.get(url)
    with CaptureQueriesContext(connection) as with_drafts:
        client.get(url)
    monkeypatch.setattr(regimes, "DRAFT_REGIMES", ())
    with CaptureQueriesContext(connection) as without:
        body = client.get(url).content.decode()

    assert 'id="proposals"' not in body
    assert len(with_drafts) == len(without)
