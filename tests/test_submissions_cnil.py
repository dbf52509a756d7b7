"""The CNIL notification drafted, reviewed (four eyes) and sent from the register (issue 12)."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import services
from cases.filings import FORMS
from cases.models import BreachCase, Filing, Membership, Obligation, Organization, Submission
from cases.selectors.submissions import submission_page
from cases.services.submissions import submission_missing
from tests.conftest import paris

AWARE = paris(2024, 2, 1, 18, 0)
FULL_FACTS = {
    "first_signal_source": "E-mail d'un adhérent signalant un courrier frauduleux.",
    "occurred_from": paris(2024, 1, 30, 8, 0),
    "occurred_to": paris(2024, 2, 1, 12, 0),
    "origin": "credential_theft",
    "cause": "external_malicious",
    "breach_confidentiality": True,
    "description": "Connexion au portail avec les identifiants d'un professionnel de santé.",
    "subject_categories": ["members"],
    "persons_approx": 1_200_000,
    "records_approx": 1_500_000,
    "data_categories": ["identity", "nir", "insurance"],
    "likely_consequences": "Hameçonnage ciblé, usurpation d'identité.",
    "measures_immediate": "Comptes suspendus, mots de passe réinitialisés.",
    "measures_medium": "Double authentification des professionnels.",
}


@pytest.fixture(autouse=True)
def _english():
    """Messages are matched in English; one test drafts in French (the CNIL form's language)."""
    from django.utils import translation

    translation.activate("en")


@pytest.fixture
def full_org(make_org):
    return make_org(
        name="Mutuelle Complète",
        code="mutco",
        kind=Organization.Kind.CONTROLLER,
        siren="123456789",
        dpo_name="Claire Martin",
        dpo_email="dpo@mutco.example",
        legal_rep_name="Jean Durand",
        legal_rep_title="Directeur général",
    )


@pytest.fixture
def people(full_org, make_user):
    return {
        "dpo": make_user(full_org, Membership.Role.DPO, "co-dpo"),
        "dpo2": make_user(full_org, Membership.Role.DPO, "co-dpo2"),
        "legal": make_user(full_org, Membership.Role.LEGAL, "co-legal"),
        "auditor": make_user(full_org, Membership.Role.AUDITOR, "co-auditor"),
        "admin": make_user(full_org, Membership.Role.ADMIN, "co-admin"),
    }


@pytest.fixture
def full_case(full_org, people):
    case = services.case_open(
        organization=full_org,
        title="Accès frauduleux au portail",
        first_signal_at=paris(2024, 2, 1, 9, 0),
        aware_at=AWARE,
        aware_justification="Logs confirm data were read.",
        acting_user=people["dpo"],
        **FULL_FACTS,
    )
    services.decision_inform_persons(
        case, inform=True, reason="Risque élevé : NIR.", exemption="", acting_user=people["legal"]
    )
    return case


def cnil(case) -> Obligation:
    return case.obligations.get(rule_code="GDPR_33_1")


def draft(case, user) -> Submission:
    return services.submission_draft(case, obligation=cnil(case), acting_user=user)


def approved(case, people) -> Submission:
    sub = draft(case, people["dpo"])
    sub = services.submission_submit_for_review(sub, acting_user=people["dpo"])
    return services.submission_approve(sub, comment="Relu, conforme.", acting_user=people["legal"])


def missing_keys(sub) -> list[str]:
    return [f"{s.key}.{f.key}" for s, f in submission_missing(sub)]


# --- drafting ---------------------------------------------------------------------------------


def test_a_draft_from_a_case_with_full_facts_lacks_nothing_required(full_case, people):
    sub = draft(full_case, people["dpo"])
    assert (sub.kind, sub.state, sub.author, sub.obligation) == (
        Submission.Kind.CNIL_INITIAL,
        Submission.State.DRAFT,
        people["dpo"],
        cnil(full_case),
    )
    assert missing_keys(sub) == []
    assert sub.content["filing"]["siren"] == "123456789"
    assert sub.content["filing"]["filing_type"] == "Initial notification"
    assert sub.content["persons"]["persons_approx"] == "1\u00a0200\u00a0000"
    assert sub.content["nature"]["occurred_from"] == "30/01/2024 08:00"
    assert sub.content["data"]["nir"] == "Yes"
    assert sub.content["information"]["persons_informed"] == "Yes"
    # Every question of the form has its place, in the form's structure.
    form = FORMS[sub.kind]
    assert {(s.key, f.key) for s, f in form.all_fields()} == {
        (s, f) for s, answers in sub.content.items() for f in answers
    }
    assert sub.history.get().history_user == people["dpo"]


def test_a_draft_from_a_case_with_missing_facts_lists_exactly_what_is_missing(open_case, dpo):
    case = open_case()
    sub = services.submission_draft(case, obligation=cnil(case), acting_user=dpo)
    assert missing_keys(sub) == [
        "filing.siren",
        "filing.legal_rep",
        "filing.dpo",
        "nature.first_signal_source",
        "origin.origin",
        "origin.circumstances",
        "origin.cause",
        "origin.description",
        "persons.subject_categories",
        "persons.persons_approx",
        "data.data_categories",
        "data.records_approx",
        "consequences.likely_consequences",
        "measures.measures_immediate",
        "measures.measures_medium",
        "information.persons_informed",
    ]
    # An answer typed in the draft is no longer missing.
    sub = services.submission_edit(
        sub, content={"origin": {"origin": "Inconnue à ce stade"}}, acting_user=dpo, expected_version=sub.version
    )
    assert "origin.origin" not in missing_keys(sub)


def test_only_one_open_draft_per_obligation_and_only_for_a_pending_filing_obligation(full_case, people):
    draft(full_case, people["dpo"])
    with pytest.raises(ValidationError, match="already exists"):
        draft(full_case, people["dpo"])
    register = full_case.obligations.get(rule_code="GDPR_33_5")
    with pytest.raises(ValidationError, match="cannot be drafted"):
        services.submission_draft(full_case, obligation=register, acting_user=people["dpo"])
    assert full_case.submissions.count() == 1


def test_legal_and_auditor_cannot_draft(full_case, people):
    for who in ("legal", "auditor"):
        with pytest.raises(PermissionDenied):
            draft(full_case, people[who])
    assert not full_case.submissions.exists()


def test_another_case_s_obligation_is_refused(full_case, people, open_case, dpo):
    other = open_case()
    with pytest.raises(ValidationError, match="another case"):
        services.submission_draft(full_case, obligation=cnil(other), acting_user=people["dpo"])
    assert not Submission.objects.exists()


# --- review -----------------------------------------------------------------------------------


def test_the_author_can_never_approve_and_a_clear_error_says_why(full_case, people, full_org):
    sub = draft(full_case, people["admin"])  # an administrator may both write and approve: not their own text
    sub = services.submission_submit_for_review(sub, acting_user=people["admin"])
    with pytest.raises(ValidationError, match="another person must approve"):
        services.submission_approve(sub, comment="", acting_user=people["admin"])
    sub.refresh_from_db()
    assert sub.state == Submission.State.IN_REVIEW and sub.approved_by is None


def test_a_dpo_approves_only_where_the_organisation_allows_it(full_case, people, full_org):
    sub = services.submission_submit_for_review(draft(full_case, people["dpo"]), acting_user=people["dpo"])
    with pytest.raises(PermissionDenied):
        services.submission_approve(sub, comment="", acting_user=people["dpo2"])
    with pytest.raises(PermissionDenied):
        services.submission_approve(sub, comment="", acting_user=people["auditor"])
    full_org.dpo_peer_review = True
    services.common.save(full_org, acting_user=None, reason="test: peer review allowed")
    sub = services.submission_approve(sub, comment="Vu.", acting_user=people["dpo2"])
    assert (sub.state, sub.approved_by, sub.approval_comment) == (Submission.State.APPROVED, people["dpo2"], "Vu.")


def test_approval_needs_a_submission_in_review(full_case, people):
    sub = draft(full_case, people["dpo"])
    with pytest.raises(ValidationError, match="submitted for review"):
        services.submission_approve(sub, comment="", acting_user=people["legal"])
    with pytest.raises(ValidationError, match="approved notification"):
        services.submission_mark_sent(sub, sent_at=AWARE + timedelta(hours=20), acting_user=people["dpo"])
    sub.refresh_from_db()
    assert sub.state == Submission.State.DRAFT and sub.version == 1


def test_an_edit_after_approval_reopens_the_review(full_case, people):
    sub = approved(full_case, people)
    assert sub.approved_by == people["legal"] and sub.approved_at is not None
    sub = services.submission_edit(
        sub,
        content={"consequences": {"likely_consequences": "Hameçonnage ciblé."}},
        acting_user=people["dpo"],
        expected_version=sub.version,
    )
    assert sub.state == Submission.State.IN_REVIEW
    assert (sub.approved_by, sub.approved_at, sub.approval_comment) == (None, None, "")
    with pytest.raises(ValidationError, match="approved notification"):
        services.submission_mark_sent(sub, sent_at=AWARE + timedelta(hours=20), acting_user=people["dpo"])
    # The former approval stays in the history.
    assert sub.history.filter(state=Submission.State.APPROVED, approved_by=people["legal"]).exists()
    sub = services.submission_approve(sub, comment="Relu à nouveau.", acting_user=people["legal"])
    assert sub.state == Submission.State.APPROVED


def test_the_last_editor_cannot_approve_either(full_case, people):
    sub = services.submission_submit_for_review(draft(full_case, people["dpo"]), acting_user=people["dpo"])
    sub = services.submission_edit(
        sub,
        content={"data": {"media": "Serveur du portail"}},
        acting_user=people["admin"],
        expected_version=sub.version,
    )
    with pytest.raises(ValidationError, match="another person must approve"):
        services.submission_approve(sub, comment="", acting_user=people["admin"])


def test_nobody_who_wrote_part_of_the_text_approves_it_even_after_someone_else_edited_last(full_case, people):
    """Four eyes: an administrator who co-wrote the answers is not a second pair of eyes once the DPO edits
    after them (the last editor is then the DPO): neither approving nor sending back."""
    sub = services.submission_submit_for_review(draft(full_case, people["dpo"]), acting_user=people["dpo"])
    for writer, media in ((people["admin"], "Serveur du portail"), (people["dpo"], "Serveur web")):
        sub = services.submission_edit(
            sub, content={"data": {"media": media}}, acting_user=writer, expected_version=sub.version
        )
    with pytest.raises(ValidationError, match="another person must approve"):
        services.submission_approve(sub, comment="", acting_user=people["admin"])
    with pytest.raises(ValidationError):
        services.submission_send_back(sub, comment="À revoir.", acting_user=people["admin"])
    sub.refresh_from_db()
    page = submission_page(sub, user=people["admin"], role="admin")
    assert page.own_text and not page.can_approve  # the page says so rather than offering the button
    assert sub.state == Submission.State.IN_REVIEW and sub.approved_by is None
    assert services.submission_approve(sub, comment="Vu.", acting_user=people["legal"]).state == (
        Submission.State.APPROVED
    )


def test_a_stale_edit_is_refused(full_case, people):
    sub = draft(full_case, people["dpo"])
    services.submission_edit(sub, content={"data": {"media": "Serveur"}}, acting_user=people["dpo"])
    with pytest.raises(services.common.StaleVersionError):
        services.submission_edit(
            sub, content={"data": {"media": "Papier"}}, acting_user=people["dpo"], expected_version=1
        )
    sub.refresh_from_db()
    assert sub.content["data"]["media"] == "Serveur"


@pytest.mark.parametrize(
    ("content", "key"),
    [
        ({"nowhere": {"x": "y"}}, "content"),
        ({"data": {"nowhere": "y"}}, "content"),
        ({"data": {"media": 12}}, "data.media"),
        ({"data": {"media": "x" * 20_001}}, "data.media"),
        ({"data": {"media": "bad\x00text"}}, "data.media"),
        (["not", "a", "mapping"], "content"),
    ],
)
def test_bad_answers_are_refused_with_a_clear_error_and_nothing_saved(full_case, people, content, key):
    sub = draft(full_case, people["dpo"])
    with pytest.raises(ValidationError) as exc:
        services.submission_edit(sub, content=content, acting_user=people["dpo"], expected_version=sub.version)
    assert key in exc.value.message_dict
    sub.refresh_from_db()
    assert sub.version == 1 and sub.history.count() == 1


# --- sending ----------------------------------------------------------------------------------


def test_sending_freezes_the_content_and_its_hash_and_completes_the_obligation(full_case, people):
    sub = approved(full_case, people)
    sent_at = AWARE + timedelta(hours=40)
    sub = services.submission_mark_sent(
        sub,
        sent_at=sent_at,
        channel="téléservice",
        recipient="CNIL",
        authority_reference=" CNIL-2024-0042 ",
        acting_user=people["dpo"],
        expected_version=sub.version,
    )
    canonical = json.dumps(sub.content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert sub.content_sha256 == hashlib.sha256(canonical).hexdigest()
    assert (sub.state, sub.sent_at, sub.authority_reference, sub.sent_by) == (
        Submission.State.SENT,
        sent_at,
        "CNIL-2024-0042",
        people["dpo"],
    )
    assert sub.sent_recorded_at > sent_at  # a past fact entered later: both times kept
    ob = cnil(full_case)
    assert (ob.state, ob.completed_at, ob.reference) == (Obligation.State.DONE, sent_at, "CNIL-2024-0042")
    filing = Filing.objects.get(submission=sub)
    assert (filing.obligation, filing.kind, filing.sent_at) == (ob, Filing.Kind.CNIL_INITIAL, sent_at)
    assert sub.content_sha256 in filing.content
    # The complementary notification's clock starts from the initial one.
    assert full_case.obligations.get(rule_code="GDPR_33_4").due_at == sent_at + timedelta(hours=72)


def test_a_sent_notification_can_never_change(full_case, people):
    sub = approved(full_case, people)
    sub = services.submission_mark_sent(sub, sent_at=AWARE + timedelta(hours=40), acting_user=people["dpo"])
    version, digest = sub.version, sub.content_sha256
    attempts = [
        lambda: services.submission_edit(sub, content={"data": {"media": "x"}}, acting_user=people["dpo"]),
        lambda: services.submission_submit_for_review(sub, acting_user=people["dpo"]),
        lambda: services.submission_approve(sub, comment="", acting_user=people["legal"]),
        lambda: services.submission_mark_sent(sub, sent_at=AWARE + timedelta(hours=41), acting_user=people["dpo"]),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError, match="kept exactly as sent"):
            attempt()
    sub.refresh_from_db()
    assert (sub.version, sub.content_sha256, sub.state) == (version, digest, Submission.State.SENT)
    assert Filing.objects.count() == 1


def test_a_late_sending_needs_the_reasons_for_the_delay_and_saves_nothing_without(full_case, people):
    sub = approved(full_case, people)
    late = AWARE + timedelta(hours=80)
    with pytest.raises(ValidationError) as exc:
        services.submission_mark_sent(sub, sent_at=late, acting_user=people["dpo"])
    assert "late_reason" in exc.value.message_dict
    sub.refresh_from_db()
    assert sub.state == Submission.State.APPROVED and not Filing.objects.exists()
    assert cnil(full_case).state == Obligation.State.PENDING
    sub = services.submission_mark_sent(sub, sent_at=late, late_reason="Enquête technique.", acting_user=people["dpo"])
    assert cnil(full_case).late_reason == "Enquête technique."


@pytest.mark.parametrize("when", ["future", "naive", "before_signal"])
def test_a_bad_sending_time_is_refused_and_nothing_saved(full_case, people, when):
    from django.utils import timezone

    sub = approved(full_case, people)
    sent_at = {
        "future": timezone.now() + timedelta(days=2),
        "naive": (AWARE + timedelta(hours=5)).replace(tzinfo=None),
        "before_signal": paris(2024, 1, 1, 0, 0),
    }[when]
    with pytest.raises(ValidationError) as exc:
        services.submission_mark_sent(sub, sent_at=sent_at, acting_user=people["dpo"])
    assert "sent_at" in exc.value.message_dict
    sub.refresh_from_db()
    assert sub.state == Submission.State.APPROVED and not Filing.objects.exists()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media) -> list:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


RECEIPT = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"


def test_the_receipt_uploaded_with_the_sending_is_stored_with_it(full_case, people, media):
    sub = approved(full_case, people)
    sub = services.submission_mark_sent(
        sub,
        sent_at=AWARE + timedelta(hours=40),
        receipt_file=SimpleUploadedFile("accuse.pdf", RECEIPT),
        acting_user=people["dpo"],
        expected_version=sub.version,
    )
    receipt = sub.receipt
    assert (receipt.case, receipt.original_name, receipt.uploaded_by) == (full_case, "accuse.pdf", people["dpo"])
    assert receipt.description.startswith("Receipt: ")
    assert Filing.objects.get(submission=sub).evidence == receipt
    assert len(stored_files(media)) == 1


def test_a_refused_sending_leaves_neither_its_receipt_nor_its_file(full_case, people, media):
    sub = approved(full_case, people)
    with pytest.raises(ValidationError) as exc:
        services.submission_mark_sent(
            sub,
            sent_at=AWARE + timedelta(hours=80),  # late, and no reason given
            receipt_file=SimpleUploadedFile("accuse.pdf", RECEIPT),
            acting_user=people["dpo"],
            expected_version=sub.version,
        )
    assert "late_reason" in exc.value.message_dict
    assert not full_case.evidence.exists() and not Filing.objects.exists()
    assert not stored_files(media)


def test_a_complementary_notification_quotes_the_initial_reference(full_case, people):
    sub = approved(full_case, people)
    services.submission_mark_sent(
        sub, sent_at=AWARE + timedelta(hours=40), authority_reference="CNIL-42", acting_user=people["dpo"]
    )
    comp = services.submission_draft(
        full_case, obligation=full_case.obligations.get(rule_code="GDPR_33_4"), acting_user=people["dpo"]
    )
    assert comp.kind == Submission.Kind.CNIL_COMPLEMENTARY
    assert comp.content["filing"]["initial_reference"] == "CNIL-42"
    assert comp.content["filing"]["filing_type"] == "Complementary notification"


def test_a_draft_made_in_french_reads_in_french(full_case, people):
    from django.utils import translation

    with translation.override("fr"):
        sub = draft(full_case, people["dpo"])
    assert sub.content["filing"]["filing_type"] == "Notification initiale"
    assert sub.content["data"]["nir"] == "Oui"
    assert sub.content["origin"]["cause"] == "Externe, malveillante"


# --- pages ------------------------------------------------------------------------------------

DETAIL_MAX_QUERIES = 12


def url(name: str, case, **kwargs) -> str:
    return reverse(f"cases:{name}", kwargs={"reference": case.reference, **kwargs})


@pytest.fixture
def web(login):
    def as_user(user) -> Client:
        return login(user, Client(HTTP_ACCEPT_LANGUAGE="en"))  # messages matched in English

    return as_user


def test_the_whole_review_on_the_web(full_case, people, web, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    dpo, legal = web(people["dpo"]), web(people["legal"])
    ob = cnil(full_case)
    page = dpo.get(url("case_detail", full_case)).content.decode()
    assert url("submission_start", full_case, obligation_id=ob.pk) in page

    response = dpo.post(url("submission_start", full_case, obligation_id=ob.pk), {"version": ob.version})
    sub = full_case.submissions.get()
    assert response.status_code == 302 and response["Location"] == sub.get_absolute_url()
    page = dpo.get(sub.get_absolute_url()).content.decode()
    assert 'data-copy="answer-filing-siren"' in page and 'id="answer-filing-siren">123456789<' in page
    assert "/static/js/copy.js" in page and "<script>" not in page

    edit = {f"{s}__{f}": v for s, answers in sub.content.items() for f, v in answers.items()}
    edit.update({"data__media": "Serveur du portail", "version": sub.version})
    assert dpo.post(url("submission_edit", full_case, submission_id=sub.pk), edit).status_code == 302
    sub.refresh_from_db()
    assert sub.content["data"]["media"] == "Serveur du portail"

    assert (
        dpo.post(url("submission_submit", full_case, submission_id=sub.pk), {"version": sub.version}).status_code == 302
    )
    sub.refresh_from_db()
    response = legal.post(
        url("submission_approve", full_case, submission_id=sub.pk), {"version": sub.version, "comment": "Conforme."}
    )
    assert response.status_code == 302
    sub.refresh_from_db()
    assert (sub.state, sub.approved_by, sub.approval_comment) == ("approved", people["legal"], "Conforme.")

    response = dpo.post(
        url("submission_send", full_case, submission_id=sub.pk),
        {
            "version": sub.version,
            "sent_at": "2024-02-03T10:00",
            "channel": "téléservice",
            "recipient": "CNIL",
            "authority_reference": "CNIL-2024-0042",
            "receipt": SimpleUploadedFile("accuse.pdf", b"%PDF-1.4\n%%EOF\n"),
            "late_reason": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    sub.refresh_from_db()
    assert sub.state == "sent" and sub.receipt.original_name == "accuse.pdf" and len(sub.content_sha256) == 64
    assert cnil(full_case).state == Obligation.State.DONE
    page = dpo.get(sub.get_absolute_url()).content.decode()
    assert sub.content_sha256 in page and url("submission_edit", full_case, submission_id=sub.pk) not in page
    # An edit posted on the sent notification is refused and changes nothing.
    response = dpo.post(url("submission_edit", full_case, submission_id=sub.pk), {**edit, "version": sub.version})
    assert response.status_code == 400 and "exactly as sent" in response.content.decode()
    sub.refresh_from_db()
    assert sub.content["data"]["media"] == "Serveur du portail" and sub.state == "sent"


def test_the_author_is_told_why_they_cannot_approve(full_case, people, web, login):
    sub = draft(full_case, people["admin"])
    sub = services.submission_submit_for_review(sub, acting_user=people["admin"])
    client = web(people["admin"])
    page = client.get(sub.get_absolute_url()).content.decode()
    assert 'id="submission-own-text"' in page and 'id="submission-approve"' not in page
    response = client.post(url("submission_approve", full_case, submission_id=sub.pk), {"version": sub.version})
    assert response.status_code == 400
    assert "another person must approve" in response.content.decode()
    french = login(people["admin"], Client())  # French by default
    response = french.post(url("submission_approve", full_case, submission_id=sub.pk), {"version": sub.version})
    assert response.status_code == 400 and "une autre personne doit l&#x27;approuver" in response.content.decode()
    sub.refresh_from_db()
    assert sub.state == "in_review" and sub.version == 2


def test_a_dpo_without_peer_review_is_refused_with_a_clear_error(full_case, people, web):
    sub = services.submission_submit_for_review(draft(full_case, people["dpo"]), acting_user=people["dpo"])
    response = web(people["dpo2"]).post(
        url("submission_approve", full_case, submission_id=sub.pk), {"version": sub.version}
    )
    assert response.status_code == 400 and "legal member or an administrator" in response.content.decode()
    sub.refresh_from_db()
    assert sub.state == "in_review"


def test_a_stale_edit_answers_409_and_keeps_the_input(full_case, people, web):
    sub = draft(full_case, people["dpo"])
    services.submission_edit(sub, content={"data": {"media": "Serveur"}}, acting_user=people["dpo"])
    response = web(people["dpo"]).post(
        url("submission_edit", full_case, submission_id=sub.pk), {"data__media": "Papier", "version": 1}
    )
    assert response.status_code == 409 and "Papier" in response.content.decode()
    sub.refresh_from_db()
    assert sub.content["data"]["media"] == "Serveur"


def test_bad_input_on_the_pages_gives_clear_errors_and_saves_nothing(full_case, people, web, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    sub = approved(full_case, people)
    client = web(people["dpo"])
    before = (sub.version, sub.history.count())
    for data in (
        {"version": sub.version},  # no date
        {"version": sub.version, "sent_at": "yesterday"},
        {"version": sub.version, "sent_at": "2024-02-05T10:00"},  # late, no reasons for the delay
        {"version": sub.version, "sent_at": "2024-02-03T10:00", "channel": "x" * 101},
    ):
        response = client.post(url("submission_send", full_case, submission_id=sub.pk), data)
        assert response.status_code == 400, data
    response = client.post(
        url("submission_edit", full_case, submission_id=sub.pk), {"version": sub.version, "data__media": "a\x00b"}
    )
    assert response.status_code == 400
    sub.refresh_from_db()
    assert (sub.version, sub.history.count(), sub.state) == (*before, "approved")
    assert not Filing.objects.exists() and not list(tmp_path.rglob("*.pdf"))


def test_every_new_url_answers_404_to_another_organisation_and_403_to_a_wrong_role(
    full_case, people, web, make_org, make_user
):
    sub = draft(full_case, people["dpo"])
    outsider = make_user(make_org(name="Autre", code="autre"), Membership.Role.ADMIN, "outsider")
    urls = {
        url("submission_start", full_case, obligation_id=cnil(full_case).pk): {"legal", "auditor"},
        url("submission_detail", full_case, submission_id=sub.pk): set(),
        url("submission_edit", full_case, submission_id=sub.pk): {"legal", "auditor"},
        url("submission_submit", full_case, submission_id=sub.pk): {"legal", "auditor"},
        url("submission_approve", full_case, submission_id=sub.pk): {"auditor"},
        url("submission_send_back", full_case, submission_id=sub.pk): {"auditor"},
        url("submission_send", full_case, submission_id=sub.pk): {"legal", "auditor"},
    }
    for address, refused in urls.items():
        assert web(outsider).get(address).status_code == 404, address
        assert web(outsider).post(address, {"version": 1}).status_code == 404, address
        for role in refused:
            assert web(people[role]).post(address, {"version": 1}).status_code == 403, (address, role)
    # Another case's submission through this case's URL: 404.
    sub.refresh_from_db()
    assert sub.version == 1 and full_case.submissions.count() == 1


def test_the_draft_page_costs_the_same_queries_however_much_the_case_holds(
    full_case, people, web, open_case, django_assert_max_num_queries
):
    small_case = services.case_open(
        organization=full_case.organization,
        title="Petit",
        first_signal_at=paris(2024, 2, 1, 9, 0),
        aware_at=AWARE,
        aware_justification="Logs.",
        acting_user=people["dpo"],
    )
    small = draft(small_case, people["dpo"])
    for n in range(5):
        services.member_communication_record(
            full_case,
            channel="email",
            sent_at=AWARE + timedelta(hours=n + 1),
            recipients_count=10,
            text="Vos données ont été exposées.",
            acting_user=people["dpo"],
        )
    large = approved(full_case, people)
    client = web(people["legal"])
    client.get(small.get_absolute_url())

    def count(sub) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(sub.get_absolute_url()).status_code == 200
        return len(ctx.captured_queries)

    small_count, large_count = count(small), count(large)
    assert small_count == large_count, (small_count, large_count)
    print(f"draft page queries: small={small_count} large={large_count}")
    with django_assert_max_num_queries(DETAIL_MAX_QUERIES):
        client.get(large.get_absolute_url())


# --- dossier ----------------------------------------------------------------------------------


def _pdf_text(pdf: bytes) -> str:
    import io
    import re

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in reader.pages))


def test_the_dossier_prints_the_notification_as_sent_with_its_approval_hash_and_content(
    full_case, people, settings, tmp_path
):
    from cases.dossier.builder import build_dossier, current_data_hash

    settings.MEDIA_ROOT = tmp_path
    sub = approved(full_case, people)
    before_sending = current_data_hash(full_case)
    sub = services.submission_mark_sent(
        sub, sent_at=AWARE + timedelta(hours=40), authority_reference="CNIL-2024-0042", acting_user=people["dpo"]
    )
    assert current_data_hash(full_case) != before_sending
    text = _pdf_text(build_dossier(full_case, lang="en"))
    for expected in (
        "Approved by",
        "co-legal",
        "Relu, conforme.",
        "Drafted by",
        "co-dpo",
        "CNIL-2024-0042",
        "Content as sent (annex)",
        "Persons concerned — Approximate number of persons",
        "Comptes suspendus, mots de passe réinitialisés.",
    ):
        assert expected in text, expected
    assert sub.content_sha256[:32] in text.replace(" ", "")


def test_a_draft_not_sent_is_not_printed_as_sent(full_case, people, settings, tmp_path):
    from cases.dossier.builder import build_dossier

    settings.MEDIA_ROOT = tmp_path
    approved(full_case, people)
    text = _pdf_text(build_dossier(full_case, lang="en"))
    assert "Content as sent (annex)" not in text


# --- a record that cannot contradict itself: Art. 34 ----------------------------------------------------

HIGH_RISK = {
    "data_categories": ["identity", "nir", "insurance"],
    "severity_ei": Decimal("1"),
    "severity_cb_confidentiality": Decimal("0.5"),
    "severity_cb_malicious": True,
}


def test_the_art_34_obligation_cannot_be_marked_done_nor_completed_by_a_filing(open_case, dpo, login):
    case = open_case(**HIGH_RISK)
    ob = case.obligations.get(rule_code="GDPR_34")
    with pytest.raises(ValidationError, match="only by the communication to the persons") as exc:
        services.obligation_complete(ob, completed_at=AWARE + timedelta(hours=2), acting_user=dpo)
    assert "obligation" in exc.value.message_dict
    with pytest.raises(ValidationError, match="only by the communication to the persons"):
        services.filing_record(
            case, kind=Filing.Kind.MEMBERS, sent_at=AWARE + timedelta(hours=2), obligation=ob, acting_user=dpo
        )
    ob.refresh_from_db()
    assert ob.state == Obligation.State.PENDING and ob.version == 1 and not Filing.objects.exists()
    # On the page: no "Mark done" for it, and a forced post is refused with the message, nothing saved.
    client = login(dpo, Client(HTTP_ACCEPT_LANGUAGE="en"))
    page = client.get(case.get_absolute_url()).content.decode()
    assert f'id="obligation-{ob.pk}-complete"' not in page
    assert f'id="obligation-{ob.pk}-communicate"' in page
    response = client.post(
        reverse("cases:obligation_complete", kwargs={"reference": case.reference, "obligation_id": ob.pk}),
        {"completed_at": "2024-02-01T20:00", "version": ob.version},
    )
    assert response.status_code == 400 and "only by the communication to the persons" in response.content.decode()
    ob.refresh_from_db()
    assert ob.state == Obligation.State.PENDING and ob.version == 1


def test_the_art_34_obligation_is_still_completed_by_a_communication_or_set_aside_by_an_exemption(open_case, dpo):
    sent_case = open_case(**HIGH_RISK)
    services.member_communication_record(
        sent_case,
        channel="letter",
        sent_at=AWARE + timedelta(hours=3),
        recipients_count=10,
        text="Madame, Monsieur...",
        acting_user=dpo,
    )
    assert sent_case.obligations.get(rule_code="GDPR_34").state == Obligation.State.DONE
    exempt_case = open_case(**HIGH_RISK)
    services.member_communication_record(
        exempt_case,
        channel="none",
        exemption=BreachCase.Art34Exemption.UNINTELLIGIBLE,
        exemption_reason="Chiffrement, clé non compromise.",
        acting_user=dpo,
    )
    assert exempt_case.obligations.get(rule_code="GDPR_34").state == Obligation.State.NOT_APPLICABLE


def test_a_reviewer_sends_it_back_to_its_author_with_a_comment_kept_in_the_history(full_case, people, web):
    sub = draft(full_case, people["admin"])  # an administrator may review, but never their own text
    sub = services.submission_submit_for_review(sub, acting_user=people["admin"])
    # Never its author, never a role that may not approve, and a comment is required: nothing saved.
    version = sub.version
    with pytest.raises(ValidationError, match="another person reviews it"):
        services.submission_send_back(sub, comment="À revoir.", acting_user=people["admin"])
    with pytest.raises(PermissionDenied):  # a DPO, where the organisation has no DPO peer review
        services.submission_send_back(sub, comment="À revoir.", acting_user=people["dpo"])
    with pytest.raises(PermissionDenied):
        services.submission_send_back(sub, comment="À revoir.", acting_user=people["auditor"])
    with pytest.raises(ValidationError) as refused:
        services.submission_send_back(sub, comment="  ", acting_user=people["legal"])
    assert "comment" in refused.value.message_dict
    sub.refresh_from_db()
    assert sub.state == Submission.State.IN_REVIEW and sub.version == version

    # On the page: the reviewer has the button, sends it back with a comment; the author sees why.
    page = web(people["legal"]).get(sub.get_absolute_url()).content.decode()
    assert 'id="submission-send-back"' in page
    response = web(people["legal"]).post(
        url("submission_send_back", full_case, submission_id=sub.pk),
        {"version": sub.version, "comment": "Préciser les mesures prises."},
    )
    assert response.status_code == 302
    sub.refresh_from_db()
    assert sub.state == Submission.State.DRAFT and sub.returned_by == people["legal"]
    assert sub.return_comment == "Préciser les mesures prises."
    assert sub.history.first().history_change_reason.endswith("Préciser les mesures prises.")
    assert "Préciser les mesures prises." in web(people["admin"]).get(sub.get_absolute_url()).content.decode()
    # Only a notification in review goes back.
    with pytest.raises(ValidationError, match="submitted for review"):
        services.submission_send_back(sub, comment="Encore.", acting_user=people["legal"])
    # Resubmitted, it is approved as before.
    sub = services.submission_submit_for_review(sub, acting_user=people["admin"])
    sub = services.submission_approve(sub, comment="Conforme.", acting_user=people["legal"])
    assert sub.state == Submission.State.APPROVED
