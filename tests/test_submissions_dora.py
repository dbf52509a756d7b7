"""The DORA reports (initial, intermediate, final) drafted from the case and its DORA facts, reviewed
(four eyes), exported as JSON that validates against the ESAs' schema, and sent (issue 12)."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from cases import services
from cases.filings import FORMS
from cases.filings.dora import ITS_FIELDS, export_errors, report_json, schema_errors
from cases.models import DoraFacts, Filing, Membership, Obligation, Organization, Submission
from cases.services.submissions import submission_missing
from tests.conftest import paris

FIRST_SIGNAL = paris(2026, 3, 2, 8, 0)
KNOWN = paris(2026, 3, 2, 9, 0)
CLASSIFIED = paris(2026, 3, 2, 11, 0)
INITIAL_SENT = paris(2026, 3, 2, 14, 0)
INTERMEDIATE_SENT = paris(2026, 3, 4, 10, 0)
FINAL_SENT = paris(2026, 3, 20, 10, 0)

FULL_DORA_FACTS = {
    "lei": "969500ABCDEFGHIJKL12",
    "entity_type": "insurance_and_reinsurance_undertaking",
    "contact_name": "Claire Martin",
    "contact_email": "rssi@mutdora.example",
    "contact_phone": "+33 1 23 45 67 89",
    "criteria": ["clients_financial_counterparts_and_transactions_affected", "geographical_spread", "data_losses"],
    "countries": ["FR", "BE"],
    "discovery": "monitoring_systems",
    "business_continuity_activated": True,
    "restored_at": paris(2026, 3, 3, 18, 0),
    "clients_affected": 120_000,
    "clients_affected_pct": Decimal("12.5"),
    "figures": ["estimates_for_clients_affected"],
    "duration": "001:09:00",
    "downtime": "001:07:30",
    "duration_information": "estimates",
    "member_state_impacts": ["clients"],
    "data_losses": ["confidentiality", "availability"],
    "data_losses_description": "Fichiers des sinistres chiffrés et copiés.",
    "critical_services": "Gestion des sinistres",
    "incident_types": ["cybersecurity-related"],
    "threat_techniques": ["data_encryption_for_impact_including_ransomware"],
    "infrastructure_affected": "yes",
    "other_authorities": ["data_protection_authority", "police_law_enforcement"],
    "indicators_of_compromise": "185.0.2.10; hash 0f1e...",
    "root_causes": ["malicious_actions"],
    "root_cause_details": ["malicious_actions_fraudulent_actions"],
    "root_cause_information": "Identifiants VPN dérobés par hameçonnage.",
    "resolution_summary": "Restauration depuis les sauvegardes, MFA sur le VPN.",
    "resolved_at": paris(2026, 3, 10, 12, 0),
    "resolution_vs_planned": "Conforme au plan.",
    "recoveries": Decimal("0"),
    "gross_costs": Decimal("250000.00"),
}


@pytest.fixture(autouse=True)
def _english():
    from django.utils import translation

    translation.activate("en")


@pytest.fixture
def dora_org(make_org):
    return make_org(
        name="Mutuelle DORA",
        code="mutdora",
        kind=Organization.Kind.CONTROLLER,
        is_dora_entity=True,
        dpo_name="Claire Martin",
        dpo_email="dpo@mutdora.example",
    )


@pytest.fixture
def people(dora_org, make_user):
    return {
        "dpo": make_user(dora_org, Membership.Role.DPO, "dora-dpo"),
        "legal": make_user(dora_org, Membership.Role.LEGAL, "dora-legal"),
        "auditor": make_user(dora_org, Membership.Role.AUDITOR, "dora-auditor"),
        "admin": make_user(dora_org, Membership.Role.ADMIN, "dora-admin"),
    }


@pytest.fixture
def dora_case(dora_org, people):
    return services.case_open(
        organization=dora_org,
        title="Rançongiciel sur la plateforme des sinistres",
        first_signal_at=FIRST_SIGNAL,
        incident_known_at=KNOWN,
        aware_at=KNOWN,
        aware_justification="Member files were read.",
        occurred_from=paris(2026, 3, 2, 1, 0),
        description="Chiffrement des serveurs de gestion des sinistres par un rançongiciel.",
        dora_major=True,
        dora_classified_at=CLASSIFIED,
        acting_user=people["dpo"],
    )


@pytest.fixture
def full_case(dora_case, people):
    services.dora_facts_update(dora_case, acting_user=people["dpo"], **FULL_DORA_FACTS)
    return dora_case


def ob(case, code: str) -> Obligation:
    return case.obligations.get(rule_code=code)


def draft(case, code: str, user) -> Submission:
    return services.submission_draft(case, obligation=ob(case, code), acting_user=user)


def approve(sub: Submission, people) -> Submission:
    sub = services.submission_submit_for_review(sub, acting_user=people["dpo"])
    return services.submission_approve(sub, comment="Relu.", acting_user=people["legal"])


def send(sub: Submission, people, at) -> Submission:
    return services.submission_mark_sent(
        sub,
        sent_at=at,
        channel="ACPR portal",
        recipient="ACPR",
        authority_reference="ACPR-1",
        acting_user=people["dpo"],
    )


def sent(case, code: str, people, at) -> Submission:
    return send(approve(draft(case, code, people["dpo"]), people), people, at)


def missing_keys(sub) -> list[str]:
    return [f.key for _s, f in submission_missing(sub)]


# --- the DORA facts ------------------------------------------------------------------------------


def test_dora_facts_are_one_audited_record_per_case_edited_with_its_version(dora_case, people):
    facts = services.dora_facts_update(dora_case, lei="969500ABCDEFGHIJKL12", acting_user=people["dpo"])
    assert facts.version == 1 and facts.history.count() == 1
    facts = services.dora_facts_update(
        dora_case, entity_type="credit_institution", acting_user=people["dpo"], expected_version=1
    )
    assert (facts.version, facts.lei, facts.entity_type) == (2, "969500ABCDEFGHIJKL12", "credit_institution")
    assert DoraFacts.objects.filter(case=dora_case).count() == 1
    assert facts.history.first().history_change_reason == "DORA facts updated."
    assert facts.history.first().chain_key == f"case:{dora_case.pk}"
    from cases.services.common import StaleVersionError

    with pytest.raises(StaleVersionError):
        services.dora_facts_update(dora_case, lei="", acting_user=people["dpo"], expected_version=1)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lei": "not-a-lei"}, "lei"),
        ({"criteria": ["no_such_criterion"]}, "criteria"),
        ({"entity_type": "bank"}, "entity_type"),
        ({"duration": "3 days"}, "duration"),
        ({"clients_affected_pct": Decimal("120")}, "clients_affected_pct"),
        ({"restored_at": paris(2099, 1, 1, 0, 0)}, "restored_at"),
    ],
)
def test_bad_dora_facts_are_refused_field_by_field_and_nothing_is_saved(dora_case, people, changes, field):
    with pytest.raises(ValidationError) as refused:
        services.dora_facts_update(dora_case, acting_user=people["dpo"], **changes)
    assert field in refused.value.message_dict
    assert not DoraFacts.objects.exists()


@pytest.mark.parametrize("field", ["restored_at", "root_cause_addressed_at", "resolved_at"])
def test_a_restoration_or_resolution_dated_before_the_incident_is_refused_and_nothing_is_saved(
    dora_case, people, field
):
    """The incident occurred at 01:00 on 2 March 2026 (field 3.2): its services cannot have been restored,
    its root cause addressed or itself resolved the evening before; the error names the field and the
    incident's time, and nothing is saved."""
    with pytest.raises(ValidationError) as refused:
        services.dora_facts_update(
            dora_case, lei="969500ABCDEFGHIJKL12", acting_user=people["dpo"], **{field: paris(2026, 3, 1, 20, 0)}
        )
    assert "02/03/2026 01:00" in " ".join(refused.value.message_dict[field])
    assert not DoraFacts.objects.exists()
    # At the incident's very start, or after it, the fact is recorded.
    facts = services.dora_facts_update(dora_case, acting_user=people["dpo"], **{field: paris(2026, 3, 2, 1, 0)})
    assert getattr(facts, field) == paris(2026, 3, 2, 1, 0)


def test_only_writers_of_a_dora_entity_record_dora_facts(dora_case, people, open_case, dpo):
    with pytest.raises(PermissionDenied):
        services.dora_facts_update(dora_case, lei="969500ABCDEFGHIJKL12", acting_user=people["auditor"])
    with pytest.raises(ValidationError, match="DORA financial entity"):
        services.dora_facts_update(open_case(), lei="969500ABCDEFGHIJKL12", acting_user=dpo)
    assert not DoraFacts.objects.exists()


# --- drafting ------------------------------------------------------------------------------------


def test_the_initial_notification_from_full_facts_lacks_nothing_and_validates(full_case, people):
    sub = draft(full_case, "DORA_INITIAL", people["dpo"])
    assert (sub.kind, sub.state) == (Submission.Kind.DORA_INITIAL, Submission.State.DRAFT)
    assert missing_keys(sub) == []
    assert set(sub.content) == {"general", "initial"}  # sections 3 and 4 belong to the later reports
    assert sub.content["general"]["entity_lei"] == "969500ABCDEFGHIJKL12"
    assert sub.content["initial"]["incident_code"] == full_case.reference
    assert sub.content["initial"]["classified_at"] == "2026-03-02T11:00:00+01:00"
    doc, problems = report_json(sub.kind, sub.content)
    assert problems == [] and schema_errors(doc) == []
    assert doc["incidentSubmission"] == "initial_notification"
    assert doc["incident"]["classificationDateTime"] == "2026-03-02T10:00:00Z"
    assert doc["incident"]["classificationTypes"][1] == {
        "classificationCriterion": "geographical_spread",
        "countryCodeMaterialityThresholds": ["FR", "BE"],
    }
    assert doc["affectedEntity"] == [
        {
            "entityType": "AFFECTED_ENTITY",
            "affectedEntityType": ["insurance_and_reinsurance_undertaking"],
            "name": "Mutuelle DORA",
            "LEI": "969500ABCDEFGHIJKL12",
        }
    ]


def test_each_report_follows_the_one_before_and_validates_against_the_schema(full_case, people):
    sent(full_case, "DORA_INITIAL", people, INITIAL_SENT)
    intermediate = draft(full_case, "DORA_INTERMEDIATE", people["dpo"])
    assert missing_keys(intermediate) == [] and set(intermediate.content) == {"general", "initial", "intermediate"}
    assert export_errors(intermediate.kind, intermediate.content) == []
    doc, _ = report_json(intermediate.kind, intermediate.content)
    assert doc["impactAssessment"]["affectedAssets"]["affectedClients"] == {"number": 120000, "percentage": 12.5}
    assert doc["incident"]["competentAuthorityCode"] == "ACPR"
    send(approve(intermediate, people), people, INTERMEDIATE_SENT)
    final = draft(full_case, "DORA_FINAL", people["dpo"])
    assert missing_keys(final) == [] and set(final.content) == {"general", "initial", "intermediate", "final"}
    assert export_errors(final.kind, final.content) == []
    final = send(approve(final, people), people, FINAL_SENT)
    assert report_json(final.kind, final.content)[0]["incident"]["financialRecoveriesAmount"] == 0
    assert ob(full_case, "DORA_FINAL").state == Obligation.State.DONE
    assert Filing.objects.filter(case=full_case, kind=Filing.Kind.DORA).count() == 3


def test_a_draft_from_a_case_without_dora_facts_lists_exactly_what_is_missing(dora_case, people):
    sub = draft(dora_case, "DORA_INITIAL", people["dpo"])
    assert missing_keys(sub) == [
        "entity_lei",
        "affected_type",
        "affected_lei",
        "contact_phone",
        "criteria",
        "discovery",
        "business_continuity",
    ]
    # The organisation's DPO stands in for the primary contact until one is given.
    assert sub.content["general"]["contact_email"] == "dpo@mutdora.example"
    assert sub.content["general"]["currency"] == "EUR"
    errors = export_errors(sub.kind, sub.content)
    assert any("classificationTypes" in e for e in errors)
    sub = services.submission_edit(
        sub, content={"initial": {"discovery": "staff"}}, acting_user=people["dpo"], expected_version=sub.version
    )
    assert "discovery" not in missing_keys(sub)


def test_the_intermediate_report_without_impact_facts_lists_them(dora_case, people):
    services.dora_facts_update(
        dora_case,
        acting_user=people["dpo"],
        **{
            k: FULL_DORA_FACTS[k] for k in ("lei", "entity_type", "contact_phone", "criteria", "countries", "discovery")
        },
        business_continuity_activated=False,
    )
    sent(dora_case, "DORA_INITIAL", people, INITIAL_SENT)
    sub = draft(dora_case, "DORA_INTERMEDIATE", people["dpo"])
    assert missing_keys(sub) == [
        "figures",
        "duration",
        "downtime",
        "duration_information",
        "critical_services",
        "incident_types",
        "infrastructure_affected",
        "other_authorities",
    ]


def test_every_its_field_is_numbered_once_and_maps_to_the_schema(full_case, people):
    numbers = [f.number for f in ITS_FIELDS]
    assert len(numbers) == len(set(numbers)) == 15 + 10 + 35 + 16
    form = FORMS[Submission.Kind.DORA_FINAL]
    assert [str(f.label).split(" ")[0] for _s, f in form.all_fields()] == numbers


# --- the JSON against the schema -----------------------------------------------------------------


@pytest.fixture
def final_content(full_case, people):
    sent(full_case, "DORA_INITIAL", people, INITIAL_SENT)
    sent(full_case, "DORA_INTERMEDIATE", people, INTERMEDIATE_SENT)
    return draft(full_case, "DORA_FINAL", people["dpo"]).content


def test_a_full_report_validates_and_a_broken_one_fails(final_content):
    doc, problems = report_json("dora_final", final_content)
    assert problems == [] and schema_errors(doc) == []
    missing_required = copy.deepcopy(doc)
    del missing_required["primaryContact"]
    assert any("'primaryContact' is a required property" in e for e in schema_errors(missing_required))
    wrong_enum = copy.deepcopy(doc)
    wrong_enum["incident"]["rootCauseHLClassification"] = ["bad_luck"]
    assert any("'bad_luck' is not one of" in e for e in schema_errors(wrong_enum))
    # The schema's own rules for a final report (draft 7 `dependencies`) are applied, not skipped.
    no_resolution = copy.deepcopy(doc)
    del no_resolution["incident"]["incidentResolutionSummary"]
    assert schema_errors(no_resolution)
    no_lei = copy.deepcopy(doc)
    del no_lei["submittingEntity"]["LEI"]
    assert schema_errors(no_lei)


def test_answers_that_cannot_be_read_name_their_its_field(final_content):
    content = copy.deepcopy(final_content)
    content["final"]["recoveries"] = "beaucoup"
    content["initial"]["business_continuity"] = "perhaps"
    content["general"]["submission_type"] = "first_report"
    errors = export_errors("dora_final", content)
    assert any(e.startswith("4.14 Financial recoveries: not a number") for e in errors)
    assert any(e.startswith("2.9 Business continuity plan activated") for e in errors)
    assert any("'first_report' is not one of" in e for e in errors)


def test_sending_is_refused_while_the_json_does_not_validate_and_nothing_is_saved(full_case, people):
    sub = draft(full_case, "DORA_INITIAL", people["dpo"])
    sub = services.submission_edit(
        sub,
        content={"initial": {"discovery": "a little bird"}},
        acting_user=people["dpo"],
        expected_version=sub.version,
    )
    sub = approve(sub, people)
    with pytest.raises(ValidationError, match="does not validate against the authority's schema") as refused:
        send(sub, people, INITIAL_SENT)
    assert any("'a little bird' is not one of" in m for m in refused.value.messages)
    sub.refresh_from_db()
    assert sub.state == Submission.State.APPROVED and sub.content_sha256 == "" and sub.filing is None
    assert ob(full_case, "DORA_INITIAL").state == Obligation.State.PENDING
    assert not Filing.objects.exists()


# --- review and sending --------------------------------------------------------------------------


def test_the_author_cannot_approve_a_dora_report(full_case, people):
    sub = draft(full_case, "DORA_INITIAL", people["admin"])
    sub = services.submission_submit_for_review(sub, acting_user=people["admin"])
    with pytest.raises(ValidationError, match="another person must approve"):
        services.submission_approve(sub, comment="", acting_user=people["admin"])
    sub.refresh_from_db()
    assert sub.state == Submission.State.IN_REVIEW and sub.approved_by is None


def test_an_edit_after_approval_reopens_review(full_case, people):
    sub = approve(draft(full_case, "DORA_INITIAL", people["dpo"]), people)
    sub = services.submission_edit(
        sub,
        content={"initial": {"other_information": "Plainte déposée."}},
        acting_user=people["dpo"],
        expected_version=sub.version,
    )
    assert sub.state == Submission.State.IN_REVIEW and sub.approved_by is None
    with pytest.raises(ValidationError, match="Only an approved"):
        send(sub, people, INITIAL_SENT)


def test_sending_freezes_the_content_and_its_hash(full_case, people):
    sub = sent(full_case, "DORA_INITIAL", people, INITIAL_SENT)
    canonical = json.dumps(sub.content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert sub.content_sha256 == hashlib.sha256(canonical).hexdigest()
    assert sub.filing.kind == Filing.Kind.DORA and sub.filing.reference == "ACPR-1"
    assert ob(full_case, "DORA_INITIAL").state == Obligation.State.DONE
    with pytest.raises(ValidationError, match="kept exactly as sent"):
        services.submission_edit(sub, content={"initial": {"other_information": "x"}}, acting_user=people["dpo"])
    # A later change of the facts does not touch what was sent.
    services.dora_facts_update(full_case, lei="529900T8BM49AURSDO55", acting_user=people["dpo"], expected_version=1)
    sub.refresh_from_db()
    assert sub.content["general"]["entity_lei"] == "969500ABCDEFGHIJKL12"
    assert sub.sent_at == INITIAL_SENT and sub.sent_recorded_at - sub.sent_at > timedelta(0)


# --- pages ---------------------------------------------------------------------------------------


@pytest.fixture
def as_user(login):
    return lambda user: login(user, Client(HTTP_ACCEPT_LANGUAGE="en"))


def test_the_json_and_pdf_downloads_are_the_report(as_user, full_case, people):
    sub = draft(full_case, "DORA_INITIAL", people["dpo"])
    c = as_user(people["auditor"])
    response = c.get(reverse("cases:submission_dora_json", args=[full_case.reference, sub.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    doc = json.loads(response.content)
    assert schema_errors(doc) == [] and doc["incident"]["financialEntityCode"] == full_case.reference
    response = c.get(reverse("cases:submission_dora_pdf", args=[full_case.reference, sub.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body.startswith(b"%PDF")


def test_the_downloads_exist_only_for_dora_reports(as_user, make_org, make_user):
    org = make_org(code="cnilonly")
    dpo = make_user(org, Membership.Role.DPO, "cnil-dpo")
    case = services.case_open(
        organization=org,
        title="Fuite",
        first_signal_at=FIRST_SIGNAL,
        aware_at=KNOWN,
        aware_justification="Read.",
        acting_user=dpo,
    )
    sub = services.submission_draft(case, obligation=ob(case, "GDPR_33_1"), acting_user=dpo)
    c = as_user(dpo)
    assert c.get(reverse("cases:submission_dora_json", args=[case.reference, sub.pk])).status_code == 404
    assert c.get(reverse("cases:dora_facts_edit", args=[case.reference])).status_code == 404


def test_the_dora_facts_form_saves_through_the_service(as_user, dora_case, people):
    c = as_user(people["dpo"])
    url = reverse("cases:dora_facts_edit", args=[dora_case.reference])
    assert c.get(url).status_code == 200
    response = c.post(
        url,
        {
            "lei": "969500ABCDEFGHIJKL12",
            "entity_type": "credit_institution",
            "criteria": ["data_losses", "economic_impact"],
            "business_continuity_activated": "yes",
            "restored_at": "2026-03-03T18:00",
            "clients_affected": "1200",
            "currency": "EUR",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    facts = DoraFacts.objects.get(case=dora_case)
    assert (facts.lei, facts.criteria, facts.business_continuity_activated, facts.clients_affected) == (
        "969500ABCDEFGHIJKL12",
        ["data_losses", "economic_impact"],
        True,
        1200,
    )
    assert facts.restored_at == paris(2026, 3, 3, 18, 0)
    response = c.post(url, {"lei": "bad", "currency": "EUR", "version": facts.version})
    assert response.status_code == 400 and DoraFacts.objects.get(case=dora_case).lei == "969500ABCDEFGHIJKL12"
    page = c.get(reverse("cases:case_detail", args=[dora_case.reference])).content.decode()
    assert url in page and "969500ABCDEFGHIJKL12" in page


@pytest.mark.parametrize("name", ["submission_dora_json", "submission_dora_pdf", "dora_facts_edit"])
def test_dora_pages_cost_a_bounded_number_of_queries_that_does_not_grow_with_the_case(
    as_user, full_case, people, django_assert_max_num_queries, name
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = as_user(people["dpo"])

    def cost(sub) -> int:
        args = [full_case.reference] if name == "dora_facts_edit" else [full_case.reference, sub.pk]
        url = reverse(f"cases:{name}", args=args)
        c.get(url)  # warm caches (session, site settings)
        with django_assert_max_num_queries(10), CaptureQueriesContext(connection) as queries:
            assert c.get(url).status_code == 200
        return len(queries)

    first = sent(full_case, "DORA_INITIAL", people, INITIAL_SENT)
    small = cost(first)
    for i in range(5):
        services.timeline_event_add(
            full_case, occurred_at=KNOWN + timedelta(minutes=i), title=f"Event {i}", acting_user=people["dpo"]
        )
    bigger = cost(sent(full_case, "DORA_INTERMEDIATE", people, INTERMEDIATE_SENT))
    print(f"{name}: {small} queries")  # noqa: T201 - the figure reported with -s
    assert small == bigger


# --- the PDF and the dossier ---------------------------------------------------------------------


def _pdf_text(pdf: bytes) -> str:
    import io
    import re

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in reader.pages))


def test_the_pdf_reads_each_numbered_field_in_the_page_language(full_case, people):
    from django.utils import translation

    from cases.filings.dora_pdf import render

    sub = sent(full_case, "DORA_INITIAL", people, INITIAL_SENT)
    text = _pdf_text(render(sub))
    for expected in (
        "DORA initial notification",
        "1.3 LEI of the entity submitting the report",
        "969500ABCDEFGHIJKL12",
        "2.7 How the incident was discovered",
        "monitoring systems",
        "ACPR-1",
        "dora-legal",
    ):
        assert expected in text, expected
    assert sub.content_sha256[:32] in text.replace(" ", "")
    with translation.override("fr"):
        french = _pdf_text(render(sub))
    assert "DORA : notification initiale" in french.replace("\u00a0", " ")
    assert "2.4 Description de l'incident" in french


def test_the_dossier_annexes_the_dora_report_as_sent(full_case, people, settings, tmp_path):
    from cases.dossier.builder import build_dossier

    settings.MEDIA_ROOT = tmp_path
    sub = sent(full_case, "DORA_INITIAL", people, INITIAL_SENT)
    text = _pdf_text(build_dossier(full_case, lang="en"))
    for expected in ("Content as sent (annex)", "2.5 Classification criteria met", "ACPR-1", "dora-legal"):
        assert expected in text, expected
    assert sub.content_sha256[:32] in text.replace(" ", "")


def test_the_send_page_names_the_dora_authority_and_refuses_a_report_the_schema_refuses(as_user, full_case, people):
    sub = draft(full_case, "DORA_INITIAL", people["dpo"])
    sub = services.submission_edit(
        sub, content={"general": {"currency": "FRF"}}, acting_user=people["dpo"], expected_version=sub.version
    )
    sub = approve(sub, people)
    c = as_user(people["dpo"])
    detail = c.get(sub.get_absolute_url()).content.decode()
    assert "submission-dora-json" in detail and "&#x27;FRF&#x27; is not one of" in detail
    url = reverse("cases:submission_send", args=[full_case.reference, sub.pk])
    page = c.get(url).content.decode()
    assert 'value="ACPR"' in page and "DORA reporting portal" in page
    response = c.post(
        url, {"sent_at": "2026-03-02T14:00", "recipient": "ACPR", "channel": "portal", "version": sub.version}
    )
    body = response.content.decode()
    assert response.status_code == 400 and "does not validate against the authority" in body.replace("&#x27;", "'")
    sub.refresh_from_db()
    assert sub.state == Submission.State.APPROVED and not Filing.objects.exists()


@pytest.mark.parametrize("answer", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:00-05:00", "01/01/0001 00:30"])
def test_a_date_outside_the_calendar_names_its_field_and_the_pages_answer(as_user, answer, final_content, full_case):
    """A date whose UTC instant falls outside the calendar (an offset past year 1 or 9999), or in a year
    no incident can have, is an unreadable answer naming its ITS field: never a 500 on the report's pages."""
    content = copy.deepcopy(final_content)
    content["intermediate"]["restored_at"] = answer
    errors = export_errors("dora_final", content)
    assert any(e.startswith("3.3 Services restored at: not a date and time") for e in errors), errors
    sub = full_case.submissions.get(kind="dora_final")
    sub = services.submission_edit(
        sub, content={"intermediate": {"restored_at": answer}}, acting_user=sub.author, expected_version=sub.version
    )
    assert sub.content["intermediate"]["restored_at"] == answer  # text is saved; the report says it is unreadable
    c = as_user(sub.author)
    for name in ("submission_detail", "submission_dora_json", "submission_dora_pdf"):
        response = c.get(reverse(f"cases:{name}", args=[full_case.reference, sub.pk]))
        assert response.status_code == 200, name


def test_the_pdf_of_a_sent_report_is_the_same_bytes_whenever_it_is_downloaded(as_user, full_case, people, monkeypatch):
    """Once sent, the report's PDF is a record: downloaded today or next month (same language), the same file."""
    import hashlib as _hashlib
    from types import SimpleNamespace

    from django.utils import timezone

    sub = sent(full_case, "DORA_INITIAL", people, INITIAL_SENT)
    c = as_user(people["auditor"])
    link = reverse("cases:submission_dora_pdf", args=[full_case.reference, sub.pk])
    first = c.get(link).content
    later_now = timezone.now() + timedelta(days=30)
    monkeypatch.setattr("cases.filings.dora_pdf.timezone", SimpleNamespace(now=lambda: later_now), raising=False)
    later = c.get(link).content
    assert later.startswith(b"%PDF") and _hashlib.sha256(later).digest() == _hashlib.sha256(first).digest()


def test_an_answer_of_thousands_of_codes_costs_no_more_than_a_short_one(final_content):
    """Each coded answer is at most 20,000 characters, yet 13 of them as "a,a,a,..." were ~120,000 schema
    errors: minutes of validation on every view of the report's page. A list longer than any ESA code list
    is refused as such, naming its ITS field, and the lines listed are bounded."""
    import time

    from cases.filings.dora import ERRORS_MAX, SECTION_OF

    codes = [f for f in ITS_FIELDS if f.type == "codes" and (not f.kinds or "dora_final" in f.kinds)]
    content = copy.deepcopy(final_content)
    for f in codes:
        content.setdefault(SECTION_OF[f.key].key, {})[f.key] = ("a," * 10_000)[:20_000]
    started = time.perf_counter()
    errors = export_errors("dora_final", content)
    assert time.perf_counter() - started < 3  # was over a minute
    assert len(errors) <= len(codes) + ERRORS_MAX
    assert any(e.startswith("2.5 Classification criteria met: at most 100 codes") for e in errors), errors[:5]
    # A short list of unknown codes still names each one.
    content = copy.deepcopy(final_content)
    content[SECTION_OF["criteria"].key]["criteria"] = "bad_luck, worse_luck"
    errors = export_errors("dora_final", content)
    assert any("'bad_luck' is not one of" in e for e in errors) and any("'worse_luck'" in e for e in errors)


@pytest.mark.parametrize(
    ("later", "earlier"),
    [
        ("restored_at", "3.2 Date and time of occurrence of the incident"),
        ("resolved_at", "3.2 Date and time of occurrence of the incident"),
        ("root_cause_addressed_at", "3.2 Date and time of occurrence of the incident"),
        ("detected_at", "3.2 Date and time of occurrence of the incident"),
        ("classified_at", "2.2 Date and time of detection of the incident"),
    ],
)
def test_a_report_dating_a_step_before_the_incident_is_refused_naming_both_fields(final_content, later, earlier):
    """The answers are the report's own (edited freely): one that has the services restored, the incident
    detected or classified before it occurred (or was detected) is not sent, and says which two fields."""
    from cases.filings.dora import BY_KEY, SECTION_OF

    content = copy.deepcopy(final_content)
    content[SECTION_OF[later].key][later] = "2026-03-01T20:00:00+01:00"  # the evening before the incident
    errors = export_errors("dora_final", content)
    field = BY_KEY[later]
    assert f"{field.number} {field.label}: cannot precede {earlier}" in errors, errors
