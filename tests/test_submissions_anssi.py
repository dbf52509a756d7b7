"""The ANSSI / CERT-FR reports (NIS2 art. 23(4)) and declarations (NIS1 OSE, OIV) drafted, reviewed
(four eyes) and sent from the register (issue 12)."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import services
from cases.filings import FORMS, KIND_FOR_RULE, anssi
from cases.models import BreachCase, Filing, Membership, Obligation, Organization, Submission
from cases.services.submissions import submission_missing
from tests.conftest import paris

# NIS2 rules apply from 18 October 2024: the incident is of 2025.
SIGNAL = paris(2025, 3, 3, 9, 0)
AWARE = paris(2025, 3, 3, 18, 0)
FULL_FACTS = {
    "first_signal_source": "Alerte de l'EDR sur le serveur du portail.",
    "occurred_from": paris(2025, 3, 2, 22, 0),
    "occurred_to": paris(2025, 3, 3, 12, 0),
    "origin": "hacking",
    "cause": "external_malicious",
    "breach_confidentiality": True,
    "breach_availability": True,
    "description": "Rançongiciel sur le portail des adhérents ; exfiltration avant chiffrement.",
    "subject_categories": ["members"],
    "persons_approx": 250_000,
    "records_approx": 300_000,
    "data_categories": ["identity", "insurance"],
    "likely_consequences": "Hameçonnage ciblé ; indisponibilité du portail.",
    "measures_immediate": "Serveurs isolés, comptes à privilèges réinitialisés.",
    "measures_medium": "Reconstruction du portail depuis les sauvegardes.",
    "severity_ei": Decimal("1"),
    "severity_cb_confidentiality": Decimal("0.5"),
    "severity_cb_malicious": True,
}

# What only the ANSSI form asks: answered in the draft (the case holds no column for it).
ANSWERS = {
    "report.entity_type": "Entité importante — assurance (mutuelle), portail des adhérents",
    "report.contact": "RSSI : Paul Martin, +33 1 23 45 67 89, rssi@mutnis.example",
    "malicious_cross_border.cross_border": "Aucun impact transfrontière connu.",
    "assessment.services_affected": "Portail des adhérents, annuaire LDAP.",
    "assessment.indicators": "185.220.101.7 ; SHA-256 9f2c… du chiffreur",
    "status.status_update": "Reconstruction en cours, 60 % des services rétablis.",
    "incident.handled_at": "06/03/2025 18:00",
    "threat.root_cause": "VPN sans double authentification, identifiants volés.",
    "reporter.reporter": "Claire Martin, DPO, +33 1 00 00 00 00",
    "entity.service": "Gestion des remboursements santé",
    "systems.systems_affected": "Portail des adhérents, annuaire LDAP.",
    "systems.indicators": "185.220.101.7",
    "impact.service_impact": "Portail indisponible 36 h.",
    "contacts.security_contact": "RSSI : Paul Martin, rssi@mutnis.example",
}

NIS2_ONGOING = {anssi.PROGRESS, anssi.FINAL_AFTER_HANDLING}
KINDS = [
    anssi.EARLY_WARNING,
    anssi.NOTIFICATION,
    anssi.INTERMEDIATE,
    anssi.FINAL,
    anssi.PROGRESS,
    anssi.FINAL_AFTER_HANDLING,
    anssi.OSE,
    anssi.OIV,
]
RULE = {form.kind: form.rule_code for form in anssi.ANSSI_FORMS}


@pytest.fixture(autouse=True)
def _english():
    from django.utils import translation

    translation.activate("en")


@pytest.fixture
def nis_org(make_org):
    return make_org(
        name="Mutuelle NIS",
        code="mutnis",
        kind=Organization.Kind.CONTROLLER,
        siren="987654321",
        address="1 rue de la Paix, 75002 Paris",
        dpo_name="Claire Martin",
        dpo_email="dpo@mutnis.example",
        legal_rep_name="Jean Durand",
        legal_rep_title="Directeur général",
        is_nis2_entity=True,
        is_ose=True,
        is_oiv=True,
    )


@pytest.fixture
def people(nis_org, make_user):
    return {
        "dpo": make_user(nis_org, Membership.Role.DPO, "nis-dpo"),
        "legal": make_user(nis_org, Membership.Role.LEGAL, "nis-legal"),
        "auditor": make_user(nis_org, Membership.Role.AUDITOR, "nis-auditor"),
        "admin": make_user(nis_org, Membership.Role.ADMIN, "nis-admin"),
    }


@pytest.fixture
def make_case(nis_org, people):
    def make(ongoing: bool = False, **facts):
        facts = {**facts}
        if ongoing:
            facts.update(ongoing=True, occurred_to=None)
        return services.case_open(
            organization=nis_org,
            title="Rançongiciel sur le portail",
            first_signal_at=SIGNAL,
            aware_at=AWARE,
            aware_justification="Exfiltration confirmée par les journaux.",
            acting_user=people["dpo"],
            **facts,
        )

    return make


def obligation(case, kind) -> Obligation:
    return case.obligations.get(rule_code=RULE[kind], controller_notice__isnull=True)


def missing_keys(sub) -> list[str]:
    return [f"{s.key}.{f.key}" for s, f in submission_missing(sub)]


def answer_all(sub, user) -> Submission:
    """Type in the draft the answers only ANSSI asks (those the form still lacks)."""
    content: dict = {}
    for key in missing_keys(sub):
        section, field = key.split(".")
        content.setdefault(section, {})[field] = ANSWERS.get(key, "Réponse")
    return services.submission_edit(sub, content=content, acting_user=user, expected_version=sub.version)


def send(sub, people, hours: float, reference: str) -> Submission:
    sub = services.submission_submit_for_review(sub, acting_user=people["dpo"])
    sub = services.submission_approve(sub, comment="Relu.", acting_user=people["legal"])
    return services.submission_mark_sent(
        sub,
        sent_at=AWARE + timedelta(hours=hours),
        channel="portail ANSSI",
        recipient="CERT-FR",
        authority_reference=reference,
        acting_user=people["dpo"],
    )


def reach(case, kind, people) -> Obligation:
    """Send what must precede `kind` (the NIS2 final and progress reports follow the incident
    notification; the final report after handling follows the incident's handling)."""
    if kind in {anssi.FINAL, anssi.PROGRESS, anssi.FINAL_AFTER_HANDLING}:
        for earlier, hours, ref in ((anssi.EARLY_WARNING, 10, "CERTFR-EW-1"), (anssi.NOTIFICATION, 40, "CERTFR-N-1")):
            sub = services.submission_draft(case, obligation=obligation(case, earlier), acting_user=people["dpo"])
            send(answer_all(sub, people["dpo"]), people, hours, ref)
    case.refresh_from_db()
    return obligation(case, kind)


def draft(case, kind, people) -> Submission:
    ob = reach(case, kind, people)
    return services.submission_draft(case, obligation=ob, acting_user=people["dpo"])


def full(make_case, kind):
    return make_case(ongoing=kind in NIS2_ONGOING, **FULL_FACTS)


# --- the forms, as data -------------------------------------------------------------------------------


def test_every_anssi_rule_has_its_form_and_a_kind_of_submission():
    assert {code: KIND_FOR_RULE[code] for code in RULE.values() if not code.startswith("GDPR")} == {
        "NIS2_24H": anssi.EARLY_WARNING,
        "NIS2_72H": anssi.NOTIFICATION,
        "NIS2_INTERMEDIATE": anssi.INTERMEDIATE,
        "NIS2_FINAL": anssi.FINAL,
        "NIS2_PROGRESS": anssi.PROGRESS,
        "NIS2_FINAL_AFTER_HANDLING": anssi.FINAL_AFTER_HANDLING,
        "NIS1_OSE": anssi.OSE,
        "OIV": anssi.OIV,
    }
    assert set(KINDS) <= set(Submission.Kind.values)
    for kind in KINDS:
        form = FORMS[kind]
        keys = [(s.key, f.key) for s, f in form.all_fields()]
        assert len(keys) == len(set(keys)), kind  # one question per key for each kind
        assert all(f.label and not f.edpb for _s, f in form.all_fields())
        assert form.filing_kind in Filing.Kind.values


@pytest.mark.parametrize(
    ("kind", "asks"),
    [
        (anssi.EARLY_WARNING, {"malicious_cross_border.suspected_malicious", "malicious_cross_border.cross_border"}),
        (
            anssi.NOTIFICATION,
            {"report.earlier_reference", "assessment.severity", "assessment.impact", "assessment.indicators"},
        ),
        (
            anssi.FINAL,
            {
                "incident.description",
                "assessment.severity",
                "assessment.impact",
                "threat.threat_type",
                "threat.root_cause",
                "measures.measures_applied",
                "measures.measures_ongoing",
                "malicious_cross_border.cross_border",
            },
        ),
        (anssi.OSE, {"reporter.reporter", "entity.service", "systems.systems_affected", "contacts.security_contact"}),
    ],
)
def test_each_report_asks_what_the_law_or_anssi_s_form_asks(kind, asks):
    """Art. 23(4)(a), (b) and (d); ANSSI's declaration: declarant, entity, incident, systems, impact,
    measures, contacts."""
    form = FORMS[kind]
    assert asks <= {f"{s.key}.{f.key}" for s, f in form.all_fields()}
    if kind == anssi.OSE:
        assert [s.key for s in form.sections] == [
            "reporter",
            "entity",
            "incident",
            "systems",
            "impact",
            "measures",
            "contacts",
        ]
    if kind in anssi.FINALS:
        required = {f"{s.key}.{f.key}" for s, f in form.all_fields() if f.required}
        assert {"threat.root_cause", "measures.measures_ongoing", "malicious_cross_border.cross_border"} <= required


# --- drafting -----------------------------------------------------------------------------------------

# With every fact the case can hold, what is left is what only ANSSI asks.
MISSING_WITH_FULL_FACTS = {
    anssi.EARLY_WARNING: ["report.entity_type", "report.contact", "malicious_cross_border.cross_border"],
    anssi.NOTIFICATION: ["assessment.services_affected"],  # the rest is carried from the early warning
    anssi.INTERMEDIATE: [
        "report.entity_type",
        "report.contact",
        "malicious_cross_border.cross_border",
        "assessment.services_affected",
        "status.status_update",
    ],
    anssi.FINAL: ["threat.root_cause"],
    anssi.PROGRESS: ["status.status_update"],
    anssi.FINAL_AFTER_HANDLING: ["incident.handled_at", "threat.root_cause"],
    anssi.OSE: [
        "reporter.reporter",
        "entity.service",
        "systems.systems_affected",
        "impact.service_impact",
        "contacts.security_contact",
    ],
    anssi.OIV: [
        "reporter.reporter",
        "entity.service",
        "systems.systems_affected",
        "impact.service_impact",
        "contacts.security_contact",
    ],
}


@pytest.mark.parametrize("kind", KINDS)
def test_a_draft_from_a_case_with_full_facts_lacks_only_what_anssi_alone_asks(make_case, people, kind):
    case = full(make_case, kind)
    if kind == anssi.NOTIFICATION:  # the notification updates the early warning already sent
        ew = services.submission_draft(
            case, obligation=obligation(case, anssi.EARLY_WARNING), acting_user=people["dpo"]
        )
        send(answer_all(ew, people["dpo"]), people, 10, "CERTFR-EW-1")
    sub = draft(case, kind, people)
    assert (sub.kind, sub.state, sub.author, sub.obligation) == (
        kind,
        Submission.State.DRAFT,
        people["dpo"],
        obligation(case, kind),
    )
    assert missing_keys(sub) == MISSING_WITH_FULL_FACTS[kind]
    form = FORMS[kind]
    assert {(s.key, f.key) for s, f in form.all_fields()} == {
        (s, f) for s, answers in sub.content.items() for f in answers
    }
    if kind in anssi.NIS2_KINDS:
        assert sub.content["report"]["siren"] == "987654321"
        assert sub.content["incident"]["known_at"] == "03/03/2025 18:00"
        assert sub.content["malicious_cross_border"]["suspected_malicious"] == "Yes: External, malicious"
    else:
        assert sub.content["entity"]["siren"] == "987654321"
        assert sub.content["incident"]["threat_type"] == "Hacking, malware, phishing — External, malicious"
        assert sub.content["measures"]["measures_immediate"] == FULL_FACTS["measures_immediate"]
        assert sub.content["contacts"]["dpo"] == "Claire Martin, dpo@mutnis.example"
    if kind not in {anssi.EARLY_WARNING, anssi.OSE, anssi.OIV}:
        assert sub.content["assessment"]["severity"] == "Medium (score 2.00, ENISA method)"
        assert "Approximate number of persons: 250,000".replace(",", "\u00a0") in sub.content["assessment"]["impact"]
    # Typing the answers ANSSI alone asks leaves nothing missing.
    sub = answer_all(sub, people["dpo"])
    assert missing_keys(sub) == []


EARLY_WARNING_MISSING = [
    "report.entity_type",
    "report.contact",
    "incident.description",
    "malicious_cross_border.suspected_malicious",
    "malicious_cross_border.cross_border",
]
DECLARATION_MISSING = [
    "reporter.reporter",
    "entity.service",
    "incident.first_signal_source",
    "incident.suspected_malicious",
    "incident.threat_type",
    "incident.description",
    "systems.systems_affected",
    "impact.circumstances",
    "impact.service_impact",
    "measures.measures_immediate",
    "contacts.security_contact",
]
ASSESSMENT_MISSING = ["assessment.severity", "assessment.impact", "assessment.services_affected"]
MISSING_WITHOUT_FACTS = {
    anssi.EARLY_WARNING: EARLY_WARNING_MISSING,
    anssi.NOTIFICATION: [*EARLY_WARNING_MISSING, *ASSESSMENT_MISSING, "measures.measures_applied"],
    anssi.INTERMEDIATE: [
        *EARLY_WARNING_MISSING,
        *ASSESSMENT_MISSING,
        "status.status_update",
        "measures.measures_applied",
    ],
    anssi.OSE: DECLARATION_MISSING,
    anssi.OIV: DECLARATION_MISSING,
}


@pytest.mark.parametrize("kind", sorted(MISSING_WITHOUT_FACTS))
def test_a_draft_from_a_case_with_missing_facts_lists_exactly_what_is_missing(make_case, people, kind):
    case = make_case()
    sub = draft(case, kind, people)
    assert missing_keys(sub) == MISSING_WITHOUT_FACTS[kind]
    first = MISSING_WITHOUT_FACTS[kind][0]
    section, field = first.split(".")
    sub = services.submission_edit(
        sub, content={section: {field: "Réponse"}}, acting_user=people["dpo"], expected_version=sub.version
    )
    assert first not in missing_keys(sub)


def test_the_final_report_of_a_case_with_missing_facts_lists_the_root_cause_and_the_measures(make_case, people):
    case = make_case()
    sub = draft(case, anssi.FINAL, people)
    missing = missing_keys(sub)
    assert {
        "threat.root_cause",
        "measures.measures_applied",
        "measures.measures_ongoing",
        "assessment.severity",
    } <= set(missing)
    assert "assessment.indicators" not in missing  # "where available"
    # Answered in the earlier reports: carried, not missing.
    assert sub.content["malicious_cross_border"]["cross_border"] == ANSWERS["malicious_cross_border.cross_border"]


def test_an_accidental_cause_answers_no_and_an_unknown_one_leaves_the_question_open(make_case, people):
    accidental = draft(make_case(cause="internal_accidental"), anssi.EARLY_WARNING, people)
    assert accidental.content["malicious_cross_border"]["suspected_malicious"] == "No: Internal, accidental"
    flagged = draft(make_case(severity_cb_malicious=True), anssi.EARLY_WARNING, people)
    assert flagged.content["malicious_cross_border"]["suspected_malicious"] == "Yes"


def test_each_report_quotes_the_earlier_one_and_carries_its_answers(make_case, people):
    case = make_case(**FULL_FACTS)
    ew = services.submission_draft(case, obligation=obligation(case, anssi.EARLY_WARNING), acting_user=people["dpo"])
    send(answer_all(ew, people["dpo"]), people, 10, "CERTFR-EW-1")
    notification = services.submission_draft(
        case, obligation=obligation(case, anssi.NOTIFICATION), acting_user=people["dpo"]
    )
    assert notification.content["report"]["earlier_reference"] == "CERTFR-EW-1, 04/03/2025 04:00"
    for key in ("report.entity_type", "report.contact", "malicious_cross_border.cross_border"):
        section, field = key.split(".")
        assert notification.content[section][field] == ANSWERS[key]
    notification = answer_all(notification, people["dpo"])
    send(notification, people, 40, "CERTFR-N-1")
    case.refresh_from_db()
    final = services.submission_draft(case, obligation=obligation(case, anssi.FINAL), acting_user=people["dpo"])
    assert final.content["report"]["earlier_reference"].startswith("CERTFR-N-1, ")
    assert final.content["assessment"]["services_affected"] == ANSWERS["assessment.services_affected"]
    assert final.content["assessment"]["indicators"] == ""  # never given: nothing to carry
    # A declaration is another family: it carries nothing from the NIS2 reports.
    ose = services.submission_draft(case, obligation=obligation(case, anssi.OSE), acting_user=people["dpo"])
    assert ose.content["contacts"]["security_contact"] == ""


def test_a_draft_made_in_french_reads_in_french_with_french_typography(make_case, people):
    from django.utils import translation

    case = make_case(**FULL_FACTS)
    with translation.override("fr"):
        sub = draft(case, anssi.EARLY_WARNING, people)
    assert sub.content["malicious_cross_border"]["suspected_malicious"] == "Oui\u00a0: Externe, malveillante"
    assert sub.content["report"]["report_type"] == "Alerte précoce (art. 23(4)(a))"
    with translation.override("fr"):
        ose = draft(case, anssi.OSE, people)
    assert ose.content["impact"]["severity"] == "Moyen (score 2,00, méthode ENISA)"
    assert ose.content["incident"]["suspected_malicious"] == "Oui\u00a0: Externe, malveillante"


# --- refusals -----------------------------------------------------------------------------------------


def test_an_obligation_of_another_case_or_another_organisation_is_refused(make_case, people, open_case, dpo):
    case = make_case(**FULL_FACTS)
    other_case = make_case()
    with pytest.raises(ValidationError, match="another case"):
        services.submission_draft(
            case, obligation=obligation(other_case, anssi.EARLY_WARNING), acting_user=people["dpo"]
        )
    foreign = open_case()  # another organisation's case (not a NIS2 entity: its CNIL obligation)
    with pytest.raises(ValidationError, match="another case"):
        services.submission_draft(
            case, obligation=foreign.obligations.get(rule_code="GDPR_33_1"), acting_user=people["dpo"]
        )
    with pytest.raises(PermissionDenied):
        services.submission_draft(
            foreign, obligation=foreign.obligations.get(rule_code="GDPR_33_1"), acting_user=people["dpo"]
        )
    assert not Submission.objects.exists()


@pytest.mark.parametrize("kind", KINDS)
def test_the_author_never_approves_their_own_report(make_case, people, kind):
    case = full(make_case, kind)
    ob = reach(case, kind, people)
    sub = services.submission_draft(case, obligation=ob, acting_user=people["admin"])
    sub = services.submission_submit_for_review(sub, acting_user=people["admin"])
    with pytest.raises(ValidationError, match="another person must approve"):
        services.submission_approve(sub, comment="", acting_user=people["admin"])
    sub.refresh_from_db()
    assert sub.state == Submission.State.IN_REVIEW and sub.approved_by is None


@pytest.mark.parametrize("kind", KINDS)
def test_an_edit_after_approval_reopens_the_review(make_case, people, kind):
    case = full(make_case, kind)
    sub = answer_all(draft(case, kind, people), people["dpo"])
    sub = services.submission_submit_for_review(sub, acting_user=people["dpo"])
    sub = services.submission_approve(sub, comment="Relu.", acting_user=people["legal"])
    section = "incident"
    sub = services.submission_edit(
        sub,
        content={section: {"description": "Rançongiciel ; exfiltration confirmée."}},
        acting_user=people["dpo"],
        expected_version=sub.version,
    )
    assert sub.state == Submission.State.IN_REVIEW
    assert (sub.approved_by, sub.approved_at, sub.approval_comment) == (None, None, "")
    with pytest.raises(ValidationError, match="approved notification"):
        services.submission_mark_sent(sub, sent_at=AWARE + timedelta(hours=50), acting_user=people["dpo"])
    assert sub.history.filter(state=Submission.State.APPROVED, approved_by=people["legal"]).exists()


# --- sending ------------------------------------------------------------------------------------------

SEND_HOURS = {
    anssi.EARLY_WARNING: 10,
    anssi.NOTIFICATION: 40,
    anssi.INTERMEDIATE: 50,
    anssi.FINAL: 24 * 20,
    anssi.PROGRESS: 24 * 20,
    anssi.FINAL_AFTER_HANDLING: 24 * 20,
    anssi.OSE: 2,
    anssi.OIV: 2,
}


@pytest.mark.parametrize("kind", KINDS)
def test_sending_freezes_the_content_and_its_hash_and_completes_the_obligation(make_case, people, kind):
    case = full(make_case, kind)
    sub = answer_all(draft(case, kind, people), people["dpo"])
    sent_at = AWARE + timedelta(hours=SEND_HOURS[kind])
    sub = send(sub, people, SEND_HOURS[kind], "CERTFR-2025-0042")
    canonical = json.dumps(sub.content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert sub.content_sha256 == hashlib.sha256(canonical).hexdigest()
    assert (sub.state, sub.sent_at, sub.authority_reference) == (Submission.State.SENT, sent_at, "CERTFR-2025-0042")
    ob = obligation(case, kind)
    assert (ob.state, ob.completed_at, ob.reference) == (Obligation.State.DONE, sent_at, "CERTFR-2025-0042")
    filing = Filing.objects.get(submission=sub)
    expected = Filing.Kind.NIS2 if kind in anssi.NIS2_KINDS else Filing.Kind.ANSSI
    assert (filing.obligation, filing.kind, filing.sent_at) == (ob, expected, sent_at)
    assert sub.content_sha256 in filing.content
    version = sub.version
    with pytest.raises(ValidationError, match="kept exactly as sent"):
        services.submission_edit(sub, content={"incident": {"description": "x"}}, acting_user=people["dpo"])
    sub.refresh_from_db()
    assert (sub.version, sub.content_sha256) == (version, hashlib.sha256(canonical).hexdigest())


def test_the_incident_notification_sent_starts_the_final_report_s_month(make_case, people):
    case = make_case(**FULL_FACTS)
    assert case.obligations.get(rule_code="NIS2_FINAL").due_at is None
    ob = reach(case, anssi.FINAL, people)
    assert ob.due_at.date() == (AWARE + timedelta(hours=40)).date().replace(month=4)


# --- pages and dossier ---------------------------------------------------------------------------------

DETAIL_MAX_QUERIES = 12


@pytest.fixture
def web(login):
    def as_user(user) -> Client:
        return login(user, Client(HTTP_ACCEPT_LANGUAGE="en"))

    return as_user


def url(name: str, case, **kwargs) -> str:
    return reverse(f"cases:{name}", kwargs={"reference": case.reference, **kwargs})


def test_the_whole_review_on_the_web_for_a_nis2_early_warning(make_case, people, web, make_org, make_user):
    case = make_case(**FULL_FACTS)
    dpo, legal = web(people["dpo"]), web(people["legal"])
    ob = obligation(case, anssi.EARLY_WARNING)
    page = dpo.get(url("case_detail", case)).content.decode()
    assert url("submission_start", case, obligation_id=ob.pk) in page
    response = dpo.post(url("submission_start", case, obligation_id=ob.pk), {"version": ob.version})
    sub = case.submissions.get()
    assert response.status_code == 302 and response["Location"] == sub.get_absolute_url()
    page = dpo.get(sub.get_absolute_url()).content.decode()
    assert 'id="answer-report-siren">987654321<' in page and 'data-copy="answer-report-siren"' in page
    assert "EDPB template" not in page  # ANSSI's form is not mapped to the EDPB template
    assert "Cross-border impact (Member States concerned)" in page

    edit = {f"{s}__{f}": v for s, answers in sub.content.items() for f, v in answers.items()}
    edit.update({"report__entity_type": "Entité importante", "report__contact": "RSSI", "version": sub.version})
    edit["malicious_cross_border__cross_border"] = "Aucun"
    assert dpo.post(url("submission_edit", case, submission_id=sub.pk), edit).status_code == 302
    sub.refresh_from_db()
    assert missing_keys(sub) == []
    assert dpo.post(url("submission_submit", case, submission_id=sub.pk), {"version": sub.version}).status_code == 302
    sub.refresh_from_db()
    response = legal.post(url("submission_approve", case, submission_id=sub.pk), {"version": sub.version})
    assert response.status_code == 302
    sub.refresh_from_db()
    response = dpo.post(
        url("submission_send", case, submission_id=sub.pk),
        {"version": sub.version, "sent_at": "2025-03-04T08:00", "channel": "portail", "recipient": "CERT-FR"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    sub.refresh_from_db()
    assert sub.state == "sent" and obligation(case, anssi.EARLY_WARNING).state == Obligation.State.DONE
    # Another organisation reaches none of it.
    outsider = make_user(make_org(name="Autre", code="autre"), Membership.Role.ADMIN, "outsider")
    for address in (sub.get_absolute_url(), url("submission_edit", case, submission_id=sub.pk)):
        assert web(outsider).get(address).status_code == 404


@pytest.mark.parametrize("kind", [anssi.NOTIFICATION, anssi.OSE])
def test_the_report_page_costs_the_same_queries_however_much_the_case_holds(
    make_case, people, web, kind, django_assert_max_num_queries
):
    small_case = make_case()
    small = draft(small_case, kind, people)
    large_case = make_case(**FULL_FACTS)
    for n in range(4):
        services.filing_record(
            large_case,
            kind=Filing.Kind.COMPLAINT,
            sent_at=AWARE + timedelta(hours=n + 1),
            recipient="Procureur",
            reference=f"PV-{n}",
            acting_user=people["dpo"],
        )
    large = draft(large_case, kind, people)
    client = web(people["legal"])
    client.get(small.get_absolute_url())

    def count(sub) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(sub.get_absolute_url()).status_code == 200
        return len(ctx.captured_queries)

    small_count, large_count = count(small), count(large)
    assert small_count == large_count, (small_count, large_count)
    print(f"{kind} page queries: small={small_count} large={large_count}")
    with django_assert_max_num_queries(DETAIL_MAX_QUERIES):
        client.get(large.get_absolute_url())


def test_drafting_costs_the_same_queries_however_many_reports_and_complaints_the_case_holds(make_case, people):
    def cost(case) -> int:
        with CaptureQueriesContext(connection) as ctx:
            services.submission_draft(case, obligation=obligation(case, anssi.OSE), acting_user=people["dpo"])
        return len(ctx.captured_queries)

    small = make_case()
    large = make_case(**FULL_FACTS)
    for n in range(4):
        services.filing_record(
            large, kind=Filing.Kind.COMPLAINT, sent_at=AWARE + timedelta(hours=n + 1), acting_user=people["dpo"]
        )
    oiv = services.submission_draft(large, obligation=obligation(large, anssi.OIV), acting_user=people["dpo"])
    send(answer_all(oiv, people["dpo"]), people, 1, "OIV-1")
    small, large = (BreachCase.objects.get(pk=c.pk) for c in (small, large))  # nothing cached in either
    small_cost, large_cost = cost(small), cost(large)
    print(f"OSE draft queries: small={small_cost} large={large_cost}")
    assert small_cost == large_cost
    sub = large.submissions.get(kind=anssi.OSE)
    assert sub.content["measures"]["complaint"].count("Yes") == 4
    assert sub.content["contacts"]["security_contact"] == ANSWERS["contacts.security_contact"]  # carried from the OIV


def _pdf_text(pdf: bytes) -> str:
    import io
    import re

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in reader.pages))


@pytest.mark.parametrize("kind", [anssi.EARLY_WARNING, anssi.OIV])
def test_the_dossier_annexes_the_report_as_sent_with_its_approval(make_case, people, settings, tmp_path, kind):
    from cases.dossier.builder import build_dossier

    settings.MEDIA_ROOT = tmp_path
    case = make_case(**FULL_FACTS)
    sub = send(answer_all(draft(case, kind, people), people["dpo"]), people, 10, "CERTFR-2025-0042")
    text = _pdf_text(build_dossier(case, lang="en"))
    title = str(FORMS[kind].title)
    for expected in (
        "Approved by",
        "nis-legal",
        f"Content as sent (annex): {title}",
        "CERTFR-2025-0042",
        "The incident — Description of the incident",
        "Rançongiciel sur le portail des adhérents",
    ):
        assert expected in text, expected
    assert sub.content_sha256[:32] in text.replace(" ", "")


def test_handled_after_the_final_report_fell_due_keeps_the_final_report_after_handling(make_case, people):
    """Art. 23(4)(e): ongoing when the final report fell due, so a progress report then and the final
    report one month after the handling; recording the handling must not withdraw it."""
    case = make_case(ongoing=True, **FULL_FACTS)
    progress = reach(case, anssi.PROGRESS, people)
    handled = progress.due_at + timedelta(days=5)
    services.case_contain(case, contained_at=handled, acting_user=people["dpo"])
    after = obligation(case, anssi.FINAL_AFTER_HANDLING)
    assert after.state == Obligation.State.PENDING
    assert after.due_at == paris(2025, 5, 10, 10, 0)  # the handling (10 April 10:00) + one month
    assert handled == paris(2025, 4, 10, 10, 0)
    assert obligation(case, anssi.PROGRESS).state == Obligation.State.PENDING  # still owed, overdue
    assert not case.obligations.filter(rule_code="NIS2_FINAL", state=Obligation.State.PENDING).exists()


def test_progress_report_filed_then_handled_keeps_the_final_report_after_handling(make_case, people):
    case = make_case(ongoing=True, **FULL_FACTS)
    progress = reach(case, anssi.PROGRESS, people)
    sub = services.submission_draft(case, obligation=progress, acting_user=people["dpo"])
    send(answer_all(sub, people["dpo"]), people, 24 * 20, "CERTFR-P-1")
    case.refresh_from_db()
    services.case_contain(case, contained_at=AWARE + timedelta(days=25), acting_user=people["dpo"])
    assert obligation(case, anssi.FINAL_AFTER_HANDLING).state == Obligation.State.PENDING
    assert not case.obligations.filter(rule_code="NIS2_FINAL", state=Obligation.State.PENDING).exists()


def test_handled_before_the_final_report_fell_due_goes_back_to_the_ordinary_final_report(make_case, people):
    """Handled on day 3, before the month of Art. 23(4)(d) ends: not ongoing when the final report
    falls due, so the ordinary final report (one month after the notification) and no progress report."""
    case = make_case(ongoing=True, **FULL_FACTS)
    reach(case, anssi.PROGRESS, people)
    services.case_contain(case, contained_at=AWARE + timedelta(days=3), acting_user=people["dpo"])
    final = obligation(case, anssi.FINAL)
    assert final.state == Obligation.State.PENDING
    assert final.due_at == paris(2025, 4, 5, 10, 0)  # the notification (5 March 10:00) + one month
    assert obligation(case, anssi.PROGRESS).state == Obligation.State.WITHDRAWN
    assert obligation(case, anssi.FINAL_AFTER_HANDLING).state == Obligation.State.WITHDRAWN
