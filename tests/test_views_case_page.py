"""The case page and opening a case: facts in CNIL-form order, clocks, records, role-aware actions, flat queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import BreachCase, Membership, Organization
from tests.conftest import paris

ROLES = [Membership.Role.DPO, Membership.Role.LEGAL, Membership.Role.AUDITOR, Membership.Role.ADMIN]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def case(open_case):
    return open_case()


def page_url(case) -> str:
    return reverse("cases:case_detail", kwargs={"reference": case.reference})


@pytest.mark.parametrize("role", ROLES)
def test_every_member_reads_the_case_page(role, case, org, make_user, login):
    client = login(make_user(org, role, f"m-{role}"))
    response = client.get(page_url(case))
    assert response.status_code == 200
    body = response.content.decode()
    cnil = case.obligations.get(rule_code="GDPR_33_1")
    assert f'id="obligation-{cnil.pk}"' in body
    assert 'data-status="running"' in body or 'data-status="overdue"' in body
    assert "Accès frauduleux au portail" in body
    assert 'id="cnil-missing"' in body
    assert reverse("cases:case_history", kwargs={"reference": case.reference}) in body
    assert reverse("cases:dossier_exports", kwargs={"reference": case.reference}) in body


def test_actions_are_offered_only_to_the_roles_allowed(case, org, make_user, login):
    cnil = case.obligations.get(rule_code="GDPR_33_1")
    # A filing obligation is completed by its filing: the page offers the filing form, never a bare "mark done".
    complete = reverse("cases:filing_record", kwargs={"reference": case.reference}) + f"?obligation={cnil.pk}"
    not_applicable = reverse(
        "cases:obligation_not_applicable", kwargs={"reference": case.reference, "obligation_id": cnil.pk}
    )
    decide = reverse("cases:decision_authority", kwargs={"reference": case.reference})
    edit = reverse("cases:case_update", kwargs={"reference": case.reference})
    expected = {
        Membership.Role.DPO: {complete, not_applicable, decide, edit},
        Membership.Role.ADMIN: {complete, not_applicable, decide, edit},
        Membership.Role.LEGAL: {not_applicable, decide},
        Membership.Role.AUDITOR: set(),
    }
    for role, links in expected.items():
        body = login(make_user(org, role, f"r-{role}")).get(page_url(case)).content.decode()
        for link in {complete, not_applicable, decide, edit}:
            assert (f'href="{link}"' in body) is (link in links), (role, link)


def test_the_facts_follow_the_cnil_form_and_the_missing_box_lists_what_is_empty(case, dpo, login):
    body = login(dpo).get(page_url(case)).content.decode()
    order = ["fact-filing_type", "fact-siren", "fact-nature", "fact-first_signal_at", "fact-aware_at",
             "fact-occurred_from", "fact-origin", "fact-circumstances", "fact-cause", "fact-processor",
             "fact-subject_categories", "fact-persons_approx", "fact-data_categories", "fact-records_approx",
             "fact-likely_consequences", "fact-measures_immediate", "fact-persons_informed"]  # fmt: skip
    positions = [body.index(f'id="{key}"') for key in order]
    assert positions == sorted(positions)
    missing = body[body.index('id="cnil-missing"') :]
    assert "Nombre approximatif de personnes" in missing
    assert "Catégories de données" in missing

    services.case_update_facts(case, persons_approx=1200, data_categories=["nir", "health"], acting_user=dpo)
    body = login(dpo).get(page_url(case)).content.decode()
    missing = body[body.index('id="cnil-missing"') :]
    assert "Nombre approximatif de personnes" not in missing
    assert "Catégories de données" not in missing
    assert "1\u00a0200" in body and "NIR" in body


def test_dates_are_shown_in_paris_time(case, dpo, login):
    body = login(dpo).get(page_url(case)).content.decode()
    assert "01/02/2024 18:00" in body  # aware_at, 17:00 UTC
    cnil = case.obligations.get(rule_code="GDPR_33_1")
    assert "04/02/2024 18:00" in body and cnil.due_at == datetime(2024, 2, 4, 17, 0, tzinfo=UTC)


def test_records_decisions_evidence_and_reminders_are_shown(case, dpo, login):
    services.timeline_event_add(case, occurred_at=paris(2024, 2, 1, 19), title="Portail coupé", acting_user=dpo)
    evidence = services.evidence_add(
        case, uploaded_file=SimpleUploadedFile("recu.pdf", b"%PDF-1.4\n%%EOF\n"), acting_user=dpo
    )
    services.decision_notify_authority(case, notify=True, reason="Données de santé", acting_user=dpo)
    body = login(dpo).get(page_url(case)).content.decode()
    assert "Portail coupé" in body
    assert evidence.sha256 in body
    assert reverse("cases:evidence_download", kwargs={"reference": case.reference, "evidence_id": evidence.pk}) in body
    assert "Données de santé" in body and 'id="decision-authority"' in body
    assert 'id="reminders-title"' in body


def test_a_decision_conflict_is_flagged(case, dpo, login):
    services.case_update_facts(
        case,
        data_categories=["health"],
        severity_ei="1",
        severity_cb_confidentiality="0.5",
        severity_cb_malicious=True,
        acting_user=dpo,
    )
    services.decision_inform_persons(case, inform=False, reason="Pas le temps", acting_user=dpo)
    case.refresh_from_db()
    assert case.decision_conflict
    assert 'id="decision-conflict"' in login(dpo).get(page_url(case)).content.decode()


def test_a_processor_case_shows_its_progress_informing_controllers(make_org, make_user, make_relationship, login):
    processor = make_org(name="Tiers payant", code="tp", kind=Organization.Kind.PROCESSOR)
    user = make_user(processor, Membership.Role.DPO, "tp-dpo")
    case = services.case_open(
        organization=processor,
        title="Portail praticiens",
        first_signal_at=paris(2024, 2, 1, 9),
        aware_at=paris(2024, 2, 1, 18),
        aware_justification="Confirmed.",
        acting_user=user,
    )
    notices = [
        services.controller_add(
            case,
            relationship=make_relationship(processor, make_org(name=f"Assureur {i}", code=f"ins{i}")),
            acting_user=user,
        )
        for i in range(3)
    ]
    services.controller_inform(notices[0], informed_at=paris(2024, 2, 1, 20), acting_user=user)
    body = login(user).get(page_url(case)).content.decode()
    assert 'id="controllers-progress"' in body
    progress = body[body.index('id="controllers-progress"') :][:200]
    assert "1 / 3" in progress
    inform = reverse("cases:controller_inform", kwargs={"reference": case.reference, "notice_id": notices[1].pk})
    assert inform in body


def test_another_organisations_user_gets_404(case, make_org, make_user, login):
    other = make_org(name="Autre", code="autre")
    client = login(make_user(other, Membership.Role.ADMIN, "intrus"))
    assert client.get(page_url(case)).status_code == 404


# --- opening a case ----------------------------------------------------------------------------------


def test_opening_a_case_takes_the_clock_facts_only(org, dpo, login):
    client = login(dpo)
    response = client.get(reverse("cases:case_open"))
    assert response.status_code == 200
    assert 'type="datetime-local"' in response.content.decode()
    response = client.post(
        reverse("cases:case_open"),
        {
            "organization": org.pk,
            "title": "Identifiants volés",
            "first_signal_at": "2024-02-01T09:00",
            "aware_at": "2024-02-01T18:00",
            "aware_justification": "Journaux analysés.",
        },
    )
    case = BreachCase.objects.get(title="Identifiants volés")
    assert response.status_code == 302
    assert response["Location"] == page_url(case)
    assert case.aware_at == datetime(2024, 2, 1, 17, 0, tzinfo=UTC)  # entered in Paris time
    assert case.obligations.filter(rule_code="GDPR_33_1").exists()
    page = client.get(page_url(case)).content.decode()
    assert case.reference in page


def test_opening_offers_only_organisations_where_the_user_may_write(org, dpo, make_org, login):
    elsewhere = make_org(name="Caisse où je suis auditeur", code="audit")
    services.membership_grant(user=dpo, organization=elsewhere, role=Membership.Role.AUDITOR, acting_user=None)
    client = login(dpo)
    body = client.get(reverse("cases:case_open")).content.decode()
    assert org.name in body and elsewhere.name not in body
    response = client.post(
        reverse("cases:case_open"),
        {
            "organization": elsewhere.pk,
            "title": "x",
            "first_signal_at": "2024-02-01T09:00",
            "aware_at": "2024-02-01T18:00",
            "aware_justification": "y",
        },
    )
    assert response.status_code == 400
    assert not BreachCase.objects.exists()


def test_a_reader_cannot_open_a_case(org, make_user, login):
    client = login(make_user(org, Membership.Role.AUDITOR, "aud"))
    response = client.get(reverse("cases:case_open"))
    assert response.status_code == 200
    assert 'id="no-writable-organisation"' in response.content.decode()
    response = client.post(reverse("cases:case_open"), {"organization": org.pk, "title": "x"})
    assert response.status_code == 403
    assert not BreachCase.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"aware_at": "pas une date"}, "aware_at", "Saisissez une date et une heure valides"),
        (
            {"aware_at": "2024-02-01T08:00"},
            "aware_at",
            "La prise de connaissance ne peut pas précéder le premier signalement.",
        ),
        ({"first_signal_at": "2099-01-01T08:00", "aware_at": "2099-01-01T09:00"}, "first_signal_at", "dans le futur"),
        ({"aware_justification": ""}, "aware_justification", ""),
        ({"title": ""}, "title", ""),
    ],
)
def test_opening_with_bad_input_shows_the_error_by_the_field_and_saves_nothing(
    changes, field, message, org, dpo, login
):
    data = {
        "organization": org.pk,
        "title": "Identifiants volés",
        "first_signal_at": "2024-02-01T09:00",
        "aware_at": "2024-02-01T18:00",
        "aware_justification": "Journaux analysés.",
        **changes,
    }
    response = login(dpo).post(reverse("cases:case_open"), data)
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors.get(field)
    assert message in " ".join(form.errors[field])
    body = response.content.decode()
    assert f'id="id_{field}_error"' in body
    assert f'aria-describedby="id_{field}_error' in body
    assert not BreachCase.objects.exists()


# --- query counts ------------------------------------------------------------------------------------


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


CASE_PAGE_MAX_QUERIES = 25


def test_the_case_page_costs_the_same_queries_for_a_small_and_a_large_case(
    open_case, dpo, login, django_assert_max_num_queries
):
    small = open_case(title="Petit")
    large = open_case(title="Grand")
    start = timezone.now() - timedelta(days=30)
    for i in range(200):
        services.timeline_event_add(
            large, occurred_at=start + timedelta(minutes=i), title=f"Étape {i}", acting_user=dpo
        )
    for i in range(30):
        services.evidence_add(
            large, uploaded_file=SimpleUploadedFile(f"preuve-{i}.txt", f"preuve {i}\n".encode()), acting_user=dpo
        )
    client = login(dpo)
    client.get(page_url(small))  # warm the session
    small_count, large_count = _count(client, page_url(small)), _count(client, page_url(large))
    assert small_count == large_count, (small_count, large_count)
    with django_assert_max_num_queries(CASE_PAGE_MAX_QUERIES):
        client.get(page_url(large))
    print(f"case page queries: small={small_count} large={large_count}")
