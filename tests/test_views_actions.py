"""Every action form: roles (403 and nothing changed), scoping (404), bad input (400, nothing saved), success flows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases import services
from cases.history import chained_history_models
from cases.models import BreachCase, Evidence, Filing, Membership, Obligation, Organization, TimelineEvent
from tests.conftest import paris

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def case(open_case):
    return open_case()


@pytest.fixture
def cnil(case):
    return case.obligations.get(rule_code="GDPR_33_1")


def history_size() -> int:
    return sum(m.objects.count() for m in chained_history_models())


def stored_files(media) -> list:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def url(name: str, case: BreachCase, **kwargs) -> str:
    return reverse(f"cases:{name}", kwargs={"reference": case.reference, **kwargs})


def action_urls(case: BreachCase, obligation: Obligation, notice_id: int) -> dict[str, str]:
    """Every case-scoped form URL, keyed by URL name."""
    ob = {"obligation_id": obligation.pk}
    return {
        "case_update": url("case_update", case),
        "decision_authority": url("decision_authority", case),
        "decision_persons": url("decision_persons", case),
        "obligation_complete": url("obligation_complete", case, **ob),
        "obligation_not_applicable": url("obligation_not_applicable", case, **ob),
        "obligation_requested_due": url("obligation_requested_due", case, **ob),
        "filing_record": url("filing_record", case),
        "event_add": url("event_add", case),
        "evidence_add": url("evidence_add", case),
        "communication_record": url("communication_record", case),
        "controller_add": url("controller_add", case),
        "controller_inform": url("controller_inform", case, notice_id=notice_id),
        "case_contain": url("case_contain", case),
        "case_close": url("case_close", case),
        "case_reopen": url("case_reopen", case),
    }


DECISION_ONLY = {"decision_authority", "decision_persons", "obligation_not_applicable"}


@pytest.fixture
def processor_world(make_org, make_user, make_relationship):
    """A processor's case with one controller to inform, and the users of each role."""
    processor = make_org(name="Tiers payant", code="tp", kind=Organization.Kind.BOTH)
    users = {role: make_user(processor, role, f"tp-{role}") for role in Membership.Role.values}
    case = services.case_open(
        organization=processor,
        title="Portail praticiens",
        first_signal_at=paris(2024, 2, 1, 9),
        aware_at=paris(2024, 2, 1, 18),
        aware_justification="Confirmed.",
        acting_user=users["dpo"],
    )
    notice = services.controller_add(
        case,
        relationship=make_relationship(case.organization, make_org(name="Assureur", code="ins")),
        acting_user=users["dpo"],
    )
    return case, notice, users


def payloads(case, cnil) -> dict[str, dict]:
    """A valid submission for each form (what a user who may act would send)."""
    return {
        "case_update": {
            "title": "Nouveau titre",
            "nature": "established",
            "origin": "hacking",
            "cause": "unknown",
            "severity_dpc_adjustment": "0",
            "severity_cb_confidentiality": "0",
            "severity_cb_integrity": "0",
            "severity_cb_availability": "0",
        },  # fmt: skip
        "decision_authority": {"notify_authority": "yes", "notify_authority_reason": "Risque"},
        "decision_persons": {"inform_persons": "yes", "inform_persons_reason": "Risque élevé"},
        "obligation_complete": {"completed_at": "2024-02-02T10:00"},
        "obligation_not_applicable": {"not_applicable_reason": "Aucun risque"},
        "obligation_requested_due": {"requested_due_at": "2024-03-01T10:00", "reason": "Courrier"},
        "filing_record": {"kind": "cnil_initial", "sent_at": "2024-02-02T10:00"},
        "event_add": {"occurred_at": "2024-02-01T19:00", "kind": "containment", "title": "Coupure"},
        "evidence_add": {"file": SimpleUploadedFile("a.pdf", PDF)},
        "communication_record": {
            "channel": "email",
            "sent_at": "2024-02-03T10:00",
            "recipients_count": "10",
            "text": "Madame, Monsieur",
        },  # fmt: skip
        "controller_add": {"notice_period_hours": "24"},
        "controller_inform": {"informed_at": "2024-02-01T20:00"},
        "case_contain": {"contained_at": "2024-02-02T10:00"},
        "case_close": {"reason": "Terminé"},
        "case_reopen": {"reason": "Nouveaux faits"},
    }


@pytest.mark.parametrize("role", [Membership.Role.AUDITOR, Membership.Role.LEGAL])
def test_roles_without_the_right_get_403_and_nothing_changes(role, processor_world, login, _media):
    case, notice, users = processor_world
    cnil = case.obligations.get(rule_code="GDPR_33_1")
    client = login(users[role])
    data = payloads(case, cnil)
    for name, target in action_urls(case, cnil, notice.pk).items():
        allowed = role == Membership.Role.LEGAL and name in DECISION_ONLY
        if allowed:
            continue
        before = history_size()
        assert client.get(target).status_code == 403, name
        assert client.post(target, data[name]).status_code == 403, name
        assert history_size() == before, name
    assert not stored_files(_media)


def test_an_auditor_reads_but_every_form_refuses(case, cnil, org, make_user, login):
    client = login(make_user(org, Membership.Role.AUDITOR, "aud"))
    assert client.get(url("case_detail", case)).status_code == 200
    assert client.get(url("case_history", case)).status_code == 200
    before = history_size()
    for name, target in action_urls(case, cnil, 999999).items():
        if name == "controller_inform":
            continue
        assert client.post(target, {}).status_code == 403, name
    assert history_size() == before


def test_legal_takes_decisions_and_marks_not_applicable(case, cnil, org, make_user, login):
    legal = make_user(org, Membership.Role.LEGAL, "juriste")
    client = login(legal)
    response = client.post(url("decision_persons", case), {"inform_persons": "no", "inform_persons_reason": "Chiffré",
                                                            "inform_persons_exemption": "34_3_a"})  # fmt: skip
    assert response.status_code == 302
    assert response["Location"].endswith("#decisions")
    complaint = case.obligations.get(rule_code="COMPLAINT_GENERAL")
    response = client.post(
        url("obligation_not_applicable", case, obligation_id=complaint.pk), {"not_applicable_reason": "Pas d'attaque"}
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.state == Obligation.State.NOT_APPLICABLE and complaint.decided_by == legal
    case.refresh_from_db()
    assert case.inform_persons is False and case.inform_persons_decided_by == legal
    assert client.post(url("filing_record", case), {"kind": "cnil_initial"}).status_code == 403
    assert client.post(url("obligation_complete", case, obligation_id=cnil.pk), {}).status_code == 403


def test_every_url_answers_404_for_another_organisations_case(processor_world, make_org, make_user, login):
    case, notice, _users = processor_world
    cnil = case.obligations.get(rule_code="GDPR_33_1")
    other = make_org(name="Autre", code="autre")
    client = login(make_user(other, Membership.Role.ADMIN, "intrus"))
    targets = [*action_urls(case, cnil, notice.pk).values(), url("case_detail", case), url("case_history", case)]
    before = history_size()
    for target in targets:
        assert client.get(target).status_code == 404, target
        assert client.post(target, {}).status_code == 404, target
    assert history_size() == before


def test_ids_of_another_case_answer_404(open_case, processor_world, dpo, login):
    mine = open_case()
    other_case, notice, users = processor_world
    theirs = other_case.obligations.get(rule_code="GDPR_33_1")
    client = login(dpo)
    for name in ("obligation_complete", "obligation_not_applicable", "obligation_requested_due"):
        assert client.get(url(name, mine, obligation_id=theirs.pk)).status_code == 404
    # Same organisation, other case: the notice is looked up through the case in the URL.
    second = services.case_open(
        organization=other_case.organization,
        title="Autre",
        first_signal_at=paris(2024, 2, 1, 9),
        aware_at=paris(2024, 2, 1, 18),
        aware_justification="x",
        acting_user=users["dpo"],
    )
    assert login(users["dpo"]).get(url("controller_inform", second, notice_id=notice.pk)).status_code == 404


# --- bad input -----------------------------------------------------------------------------------------


def _refused(response, field: str, contains: str = "") -> None:
    assert response.status_code == 400, response.status_code
    errors = response.context["form"].errors
    assert field in errors, errors
    assert contains in " ".join(errors[field])
    assert f'id="id_{field}_error"' in response.content.decode() or field == "__all__"


def test_an_invalid_date_is_refused_next_to_the_field(case, cnil, dpo, login):
    before = history_size()
    response = login(dpo).post(url("obligation_complete", case, obligation_id=cnil.pk), {"completed_at": "32/13/2024"})
    _refused(response, "completed_at", "date et une heure valides")
    assert history_size() == before


def test_a_completion_before_the_case_began_is_refused(case, cnil, dpo, login):
    before = history_size()
    response = login(dpo).post(
        url("filing_record", case), {"kind": "cnil_initial", "obligation": cnil.pk, "sent_at": "2024-01-15T10:00"}
    )
    _refused(response, "sent_at", "précéder le premier signalement")
    cnil.refresh_from_db()
    assert cnil.state == Obligation.State.PENDING and history_size() == before


def test_a_late_completion_needs_its_reasons(case, cnil, dpo, login):
    client = login(dpo)
    target = url("filing_record", case)
    filing = {"kind": "cnil_initial", "obligation": cnil.pk, "sent_at": "2024-02-10T10:00"}
    _refused(client.post(target, filing), "late_reason", "motifs du retard")
    cnil.refresh_from_db()
    assert cnil.state == Obligation.State.PENDING
    response = client.post(target, {**filing, "late_reason": "Enquête en cours"})
    assert response.status_code == 302
    body = client.get(url("case_detail", case)).content.decode()
    row = body[body.index(f'id="obligation-{cnil.pk}"') :]
    assert 'data-status="done_late"' in row[:200]


@pytest.mark.parametrize(
    ("name", "data", "field"),
    [
        ("obligation_not_applicable", {"not_applicable_reason": "   "}, "not_applicable_reason"),
        ("decision_authority", {"notify_authority": "no", "notify_authority_reason": ""}, "notify_authority_reason"),
        ("decision_authority", {"notify_authority_reason": "Pourquoi"}, "notify_authority"),
        ("decision_persons", {"inform_persons": "yes", "inform_persons_reason": ""}, "inform_persons_reason"),
        ("case_close", {"reason": ""}, "reason"),
        ("case_reopen", {"reason": ""}, "reason"),
        ("event_add", {"occurred_at": "2024-02-01T19:00", "kind": "other", "title": " "}, "title"),
        ("communication_record", {"channel": "email", "sent_at": "2024-02-03T10:00"}, "text"),
        ("communication_record", {"channel": "none", "exemption": "34_3_a"}, "exemption_reason"),
        ("obligation_requested_due", {"requested_due_at": "2024-03-01T10:00", "reason": ""}, "reason"),
    ],
)
def test_empty_reasons_and_missing_text_are_refused(name, data, field, case, cnil, dpo, login):
    kwargs = {"obligation_id": cnil.pk} if name.startswith("obligation_") else {}
    before = history_size()
    _refused(login(dpo).post(url(name, case, **kwargs), data), field)
    assert history_size() == before


def test_closing_with_pending_obligations_is_refused_at_the_top_of_the_form(case, dpo, login):
    response = login(dpo).post(url("case_close", case), {"reason": "Fini"})
    assert response.status_code == 400
    assert "encore à faire" in " ".join(response.context["form"].non_field_errors())
    case.refresh_from_db()
    assert case.status == BreachCase.Status.OPEN


def test_an_oversized_upload_is_refused(case, dpo, login, settings, _media):
    settings.EVIDENCE_MAX_BYTES = 1024
    response = login(dpo).post(url("evidence_add", case), {"file": SimpleUploadedFile("big.pdf", PDF + b"0" * 2048)})
    _refused(response, "file", "Le fichier dépasse")
    assert not Evidence.objects.exists() and not stored_files(_media)


def test_a_disguised_file_type_is_refused(case, dpo, login, _media):
    response = login(dpo).post(
        url("evidence_add", case), {"file": SimpleUploadedFile("recu.pdf", b"MZ\x90\x00\x03 not a pdf")}
    )
    _refused(response, "file", "n'est pas accepté")
    assert not Evidence.objects.exists() and not stored_files(_media)


def test_a_filing_whose_receipt_is_refused_saves_nothing(case, cnil, dpo, login, _media):
    before = history_size()
    response = login(dpo).post(
        url("filing_record", case),
        {
            "kind": "cnil_initial",
            "sent_at": "2024-02-02T10:00",
            "obligation": cnil.pk,
            "reference": "CNIL-1",
            "receipt": SimpleUploadedFile("recu.pdf", b"MZ\x90\x00 disguised"),
        },  # fmt: skip
    )
    _refused(response, "receipt", "n'est pas accepté")
    assert not Filing.objects.exists() and not Evidence.objects.exists()
    cnil.refresh_from_db()
    assert cnil.state == Obligation.State.PENDING and history_size() == before
    assert not stored_files(_media)


def test_a_refused_filing_leaves_no_orphan_receipt(case, cnil, dpo, login, _media):
    before = history_size()
    response = login(dpo).post(
        url("filing_record", case),
        {
            "kind": "cnil_initial",
            "sent_at": "2024-01-20T10:00",
            "obligation": cnil.pk,
            "receipt": SimpleUploadedFile("recu.pdf", PDF),
        },  # fmt: skip
    )
    _refused(response, "sent_at", "ne peut pas précéder")
    assert not Filing.objects.exists() and not Evidence.objects.exists()
    assert history_size() == before and not stored_files(_media)


def test_the_filing_service_stores_its_receipt_or_nothing(case, cnil, dpo, _media):
    """Every path that records a filing with a receipt (not the web form alone): stored together, or neither."""
    with pytest.raises(ValidationError):
        services.filing_record(
            case,
            kind="cnil_initial",
            sent_at=paris(2024, 1, 20, 10, 0),  # before the first signal
            obligation=cnil,
            receipt_file=SimpleUploadedFile("recu.pdf", PDF),
            acting_user=dpo,
        )
    assert not Evidence.objects.exists() and not stored_files(_media)
    filing = services.filing_record(
        case,
        kind="cnil_initial",
        sent_at=paris(2024, 2, 2, 10, 0),
        obligation=cnil,
        receipt_file=SimpleUploadedFile("recu.pdf", PDF),
        acting_user=dpo,
    )
    assert filing.evidence.original_name == "recu.pdf" and filing.evidence.case == case
    assert len(stored_files(_media)) == 1
    with pytest.raises(ValueError, match="not both"):
        services.filing_record(
            case,
            kind="cnil_initial",
            sent_at=paris(2024, 2, 2, 11, 0),
            evidence=filing.evidence,
            receipt_file=SimpleUploadedFile("recu.pdf", PDF),
            acting_user=dpo,
        )


def _as_posted(form) -> dict:
    """What a browser sends for the form as rendered (unchecked boxes and empty values left out)."""
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False or value == "" or value == []:
            continue
        data[name] = value
    return data


def test_a_clock_moved_without_a_reason_is_refused(case, dpo, login):
    client = login(dpo)
    form = client.get(url("case_update", case)).context["form"]
    data = _as_posted(form)
    data["aware_at"] = "2024-02-01T20:00"
    before = history_size()
    _refused(client.post(url("case_update", case), data), "change_reason", "exige un motif")
    assert history_size() == before
    data["change_reason"] = "Les journaux montrent une lecture plus tardive."
    assert client.post(url("case_update", case), data).status_code == 302
    case.refresh_from_db()
    assert case.aware_at == datetime(2024, 2, 1, 19, 0, tzinfo=UTC)
    assert case.history.first().history_change_reason == "Les journaux montrent une lecture plus tardive."


def test_saving_the_facts_form_unchanged_writes_nothing(case, dpo, login):
    services.case_update_facts(case, data_categories=["nir", "identity"], acting_user=dpo)
    client = login(dpo)
    form = client.get(url("case_update", case)).context["form"]
    data = _as_posted(form)
    before = history_size()
    assert client.post(url("case_update", case), data).status_code == 302
    assert history_size() == before


# --- success flows -------------------------------------------------------------------------------------


def test_recording_the_cnil_notification_with_its_receipt_shows_it_done_on_time(case, cnil, dpo, login, _media):
    client = login(dpo)
    form_page = client.get(url("filing_record", case) + f"?obligation={cnil.pk}")
    assert form_page.status_code == 200
    assert form_page.context["form"]["kind"].value() == "cnil_initial"
    response = client.post(
        url("filing_record", case),
        {
            "kind": "cnil_initial",
            "sent_at": "2024-02-02T10:00",
            "obligation": cnil.pk,
            "reference": "CNIL-2024-42",
            "channel": "téléservice",
            "receipt": SimpleUploadedFile("accuse-cnil.pdf", PDF),
        },  # fmt: skip
    )
    assert response.status_code == 302
    assert response["Location"] == url("case_detail", case) + "#filings"
    filing = Filing.objects.get()
    assert filing.evidence.original_name == "accuse-cnil.pdf" and filing.obligation == cnil
    cnil.refresh_from_db()
    assert cnil.state == Obligation.State.DONE and cnil.completed_at == datetime(2024, 2, 2, 9, 0, tzinfo=UTC)
    page = client.get(url("case_detail", case))
    body = page.content.decode()
    row = body[body.index(f'id="obligation-{cnil.pk}"') :]
    assert 'data-status="done_on_time"' in row[:200]
    assert f'id="obligation-{cnil.pk}-status"' in row
    assert "CNIL-2024-42" in body and filing.evidence.sha256 in body
    assert [str(m) for m in page.context["messages"]]


def test_the_other_forms_record_what_they_say(processor_world, login):
    case, notice, users = processor_world
    client = login(users["dpo"])
    ok = [
        ("event_add", {"occurred_at": "2024-02-01T19:00", "kind": "containment", "title": "Portail coupé"}),
        ("evidence_add", {"file": SimpleUploadedFile("journal.txt", b"journal\n"), "description": "Journaux"}),
        ("decision_authority", {"notify_authority": "yes", "notify_authority_reason": "Risque"}),
        (
            "communication_record",
            {
                "channel": "email",
                "sent_at": "2024-02-03T10:00",
                "recipients_count": "10",
                "text": "Madame, Monsieur",
                "late_reason": "x",
            },
        ),  # fmt: skip
        ("controller_inform", {"informed_at": "2024-02-01T20:00", "reference": "AR-1"}),
        ("case_contain", {"contained_at": "2024-02-02T10:00"}),
    ]
    for name, data in ok:
        kwargs = {"notice_id": notice.pk} if name == "controller_inform" else {}
        response = client.post(url(name, case, **kwargs), data)
        assert response.status_code == 302, (name, response.context and response.context["form"].errors)
    assert TimelineEvent.objects.filter(case=case, title="Portail coupé").exists()
    assert Evidence.objects.filter(case=case, description="Journaux").exists()
    notice.refresh_from_db()
    assert notice.informed_at == datetime(2024, 2, 1, 19, 0, tzinfo=UTC) and notice.receipt.decision == "received"
    case.refresh_from_db()
    assert case.status == BreachCase.Status.CONTAINED and case.notify_authority is True
    assert case.communications.count() == 1


def test_controller_add_lists_only_the_processors_own_active_relationships(
    processor_world, make_org, make_relationship, login
):
    case, _notice, users = processor_world
    rel = make_relationship(case.organization, controller_name="Mutuelle cliente", notice_period_hours=36)
    stranger = make_org(name="Mutuelle inconnue", code="mi")  # on the platform, no relationship
    other_processor = make_org(name="Autre opérateur", code="ao", kind=Organization.Kind.PROCESSOR)
    theirs = make_relationship(other_processor, controller_name="Leur client")
    client = login(users["dpo"])
    page = client.get(url("controller_add", case)).content.decode()
    assert "Mutuelle cliente" in page
    assert "Mutuelle inconnue" not in page and "Leur client" not in page and "Autre opérateur" not in page
    for refused in (stranger.pk, theirs.pk):
        response = client.post(url("controller_add", case), {"relationship": refused})
        assert response.status_code == 400
    response = client.post(url("controller_add", case), {"relationship": rel.pk})
    assert response.status_code == 302
    assert case.controller_notices.filter(relationship=rel, notice_period_hours=36).exists()


def test_close_then_reopen(case, dpo, login):
    client = login(dpo)
    for ob in case.obligations.filter(state=Obligation.State.PENDING).exclude(rule_code="GDPR_33_5"):
        services.obligation_mark_not_applicable(ob, reason="Sans objet", acting_user=dpo)
    assert client.post(url("case_close", case), {"reason": "Traité"}).status_code == 302
    case.refresh_from_db()
    assert case.status == BreachCase.Status.CLOSED
    assert client.post(url("case_reopen", case), {"reason": "Nouveaux éléments"}).status_code == 302
    case.refresh_from_db()
    assert case.status == BreachCase.Status.OPEN


def test_a_paris_time_in_the_spring_gap_reads_as_the_end_of_the_gap(case, dpo, login):
    response = login(dpo).post(
        url("event_add", case), {"occurred_at": "2024-03-31T02:30", "kind": "other", "title": "Nuit du changement"}
    )
    assert response.status_code == 302
    event = TimelineEvent.objects.get(title="Nuit du changement")
    assert event.occurred_at == datetime(2024, 3, 31, 1, 0, tzinfo=UTC)
