"""A record that cannot contradict itself (issue 12, item 3).

A filing obligation is completed only by the filing that fulfils it, or set aside by a recorded
decision not to file with its reason; Art. 34 only by a communication or an Art. 34(3) exemption.
Decisions, obligations and filings stay consistent. Every path (service, web form, API) goes through
the same check, and a refusal says why and saves nothing.
"""

from __future__ import annotations

import importlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import translation

from cases import regimes, services
from cases.history import chained_history_models, verify_all
from cases.models import BreachCase, Filing, MemberCommunication, Obligation
from cases.services.obligations import BARE_COMPLETION_RULES, Source, completion_sources
from tests.api_support import bearer, issue_token
from tests.conftest import paris

pytestmark = pytest.mark.django_db

AWARE = paris(2024, 2, 1, 18, 0)
HIGH_RISK = {
    "data_categories": ["identity", "nir", "insurance"],
    "severity_ei": Decimal("1"),
    "severity_cb_confidentiality": Decimal("0.5"),
    "severity_cb_malicious": True,
}
FILING_ONLY = "only by the filing that fulfils it"


@pytest.fixture(autouse=True)
def _english(_default_language):
    """The messages are matched in English (the product's default language is French)."""
    with translation.override("en"):
        yield


def history_size() -> int:
    return sum(m.objects.count() for m in chained_history_models())


def snapshot(case: BreachCase) -> tuple:
    """What a refused action must leave unchanged."""
    return (
        history_size(),
        BreachCase.objects.get(pk=case.pk).version,
        sorted(case.obligations.values_list("pk", "state", "version")),
        Filing.objects.count(),
        MemberCommunication.objects.count(),
    )


def cnil(case: BreachCase) -> Obligation:
    return case.obligations.select_related("case__organization").get(rule_code="GDPR_33_1")


def test_every_filing_rule_is_completed_only_by_its_filing():
    """The catalogue: each rule but the register entry and Art. 34 is a filing (CNIL, ANSSI/NIS, DORA, health,
    complaint...); the processor's notice to a controller is completed by the notice recorded."""
    for code in regimes.rule_codes():
        ob = Obligation(rule_code=code)
        if code == "GDPR_34":
            assert completion_sources(ob) == {Source.COMMUNICATION}
        elif code in BARE_COMPLETION_RULES:
            assert Source.BARE in completion_sources(ob)
        else:
            assert completion_sources(ob) == {Source.FILING}, code
    assert completion_sources(Obligation(rule_code="GDPR_33_2", controller_notice_id=1)) == {Source.CONTROLLER_NOTICE}


def test_a_bare_mark_done_is_refused_by_the_service_the_web_and_the_api(open_case, dpo, login):
    case = open_case()
    ob = cnil(case)
    before = snapshot(case)
    with pytest.raises(ValidationError, match=FILING_ONLY) as refused:
        services.obligation_complete(ob, completed_at=AWARE + timedelta(hours=2), reference="X", acting_user=dpo)
    assert "obligation" in refused.value.message_dict
    assert snapshot(case) == before

    web = login(dpo, Client(HTTP_ACCEPT_LANGUAGE="en"))
    address = reverse("cases:obligation_complete", kwargs={"reference": case.reference, "obligation_id": ob.pk})
    # The page sends the user to the filing form naming the obligation; a forced post is refused.
    assert web.get(address)["Location"].endswith(f"/filings/new/?obligation={ob.pk}")
    response = web.post(address, {"completed_at": "2024-02-01T20:00", "version": ob.version})
    assert response.status_code == 400 and FILING_ONLY in response.content.decode()
    assert snapshot(case) == before

    api = bearer(issue_token(dpo)[1])
    api.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = api.post(
        f"/api/v1/cases/{case.reference}/obligations/{ob.pk}/complete/",
        {"version": ob.version, "completed_at": "2024-02-01T20:00:00+01:00"},
        format="json",
    )
    assert response.status_code == 400 and FILING_ONLY in response.json()["obligation"][0]
    assert snapshot(case) == before


def test_the_filing_completes_it_and_a_decision_not_to_file_sets_it_aside(open_case, dpo):
    case = open_case()
    filing = services.filing_record(
        case, kind="cnil_initial", sent_at=AWARE + timedelta(hours=5), obligation=cnil(case), reference="CNIL-1",
        acting_user=dpo,
    )  # fmt: skip
    ob = cnil(case)
    assert ob.state == Obligation.State.DONE and ob.completed_at == filing.sent_at and ob.reference == "CNIL-1"

    other = open_case()
    services.obligation_mark_not_applicable(
        cnil(other), reason="Données chiffrées, clé non compromise.", acting_user=dpo
    )
    ob = cnil(other)
    assert ob.state == Obligation.State.NOT_APPLICABLE and ob.decided_by == dpo
    with pytest.raises(ValidationError):  # set aside: no filing completes it any more
        services.filing_record(other, kind="cnil_initial", sent_at=AWARE, obligation=ob, acting_user=dpo)


@pytest.mark.parametrize("kind", ["dora", "other", "complaint", "cnil_complementary"])
def test_a_filing_of_another_kind_does_not_complete_the_obligation(open_case, dpo, kind):
    """A DORA report (or an 'other' filing) never completes the CNIL notification: refused, nothing saved."""
    case = open_case()
    with pytest.raises(ValidationError) as refused:
        services.filing_record(
            case, kind=kind, sent_at=AWARE + timedelta(hours=5), obligation=cnil(case), acting_user=dpo
        )
    assert "does not fulfil this obligation" in str(refused.value.message_dict["kind"])
    assert cnil(case).state == Obligation.State.PENDING and not case.filings.exists()


def test_each_filing_rule_accepts_the_kind_its_form_records():
    from cases.filings import FORMS
    from cases.services.filings import filing_kinds_for

    for form in FORMS.values():
        recorded = form.filing_kind or form.kind
        for code in form.rule_codes:
            if code != "GDPR_34":  # completed by the communication the letter records, not a filing
                assert recorded in filing_kinds_for(code), (form.kind, code)


def test_the_register_entry_is_still_completed_by_the_closure(open_case, dpo):
    case = open_case()
    services.decision_notify_authority(case, notify=False, reason="Risque improbable.", acting_user=dpo)
    services.decision_inform_persons(case, inform=False, reason="Risque faible.", acting_user=dpo)
    for ob in case.obligations.filter(state=Obligation.State.PENDING).exclude(rule_code="GDPR_33_5"):
        services.obligation_mark_not_applicable(ob, reason="Sans objet.", acting_user=dpo)
    services.case_close(BreachCase.objects.get(pk=case.pk), reason="Fin.", acting_user=dpo)
    entry = case.obligations.get(rule_code="GDPR_33_5")
    assert entry.state == Obligation.State.DONE and entry.reference == case.reference


def test_deciding_not_to_notify_after_notifying_is_refused(open_case, dpo, login):
    case = open_case()
    services.filing_record(
        case, kind="cnil_initial", sent_at=AWARE + timedelta(hours=5), obligation=cnil(case), acting_user=dpo
    )
    case.refresh_from_db()
    before = snapshot(case)
    with pytest.raises(ValidationError, match="The authority was notified on 01/02/2024 23:00") as refused:
        services.decision_notify_authority(case, notify=False, reason="Finalement non.", acting_user=dpo)
    assert "notify_authority" in refused.value.message_dict
    assert snapshot(case) == before
    # The web form says it next to the decision, nothing saved.
    web = login(dpo, Client(HTTP_ACCEPT_LANGUAGE="en"))
    response = web.post(
        reverse("cases:decision_authority", kwargs={"reference": case.reference}),
        {"notify_authority": "no", "notify_authority_reason": "Finalement non.", "version": case.version},
    )
    assert response.status_code == 400 and "The authority was notified on" in response.content.decode()
    assert snapshot(case) == before


def test_a_cnil_filing_against_a_decision_not_to_notify_is_refused(open_case, dpo):
    case = open_case()
    services.decision_notify_authority(case, notify=False, reason="Risque improbable.", acting_user=dpo)
    case.refresh_from_db()
    before = snapshot(case)
    with pytest.raises(ValidationError, match="not to notify the authority") as refused:
        services.filing_record(case, kind="cnil_initial", sent_at=AWARE + timedelta(hours=5), acting_user=dpo)
    assert "kind" in refused.value.message_dict
    assert snapshot(case) == before


def test_deciding_not_to_inform_after_a_communication_is_refused(open_case, dpo):
    case = open_case(**HIGH_RISK)
    services.decision_inform_persons(case, inform=True, reason="Risque élevé.", acting_user=dpo)
    services.member_communication_record(
        case, channel="letter", sent_at=AWARE + timedelta(hours=3), recipients_count=10, text="Madame, Monsieur",
        acting_user=dpo,
    )  # fmt: skip
    case.refresh_from_db()
    before = snapshot(case)
    with pytest.raises(ValidationError, match="A communication to the persons was recorded") as refused:
        services.decision_inform_persons(case, inform=False, exemption="34_3_a", reason="Chiffrement.", acting_user=dpo)
    assert "inform_persons" in refused.value.message_dict
    assert snapshot(case) == before


def test_a_communication_against_the_decision_on_record_is_refused(open_case, dpo):
    """The choice: a record contradicting the decision is refused, never silently rewrites it; the new decision
    is recorded first (who, when and why stay in the register, e.g. an Art. 34(4) order of the authority)."""
    case = open_case(**HIGH_RISK)
    services.decision_inform_persons(
        case, inform=False, exemption="34_3_a", reason="Chiffrement fort.", acting_user=dpo
    )
    case.refresh_from_db()
    before = snapshot(case)
    with pytest.raises(ValidationError, match="not to inform the persons") as refused:
        services.member_communication_record(
            case, channel="letter", sent_at=AWARE + timedelta(hours=30), recipients_count=10, text="Madame",
            acting_user=dpo,
        )  # fmt: skip
    assert "channel" in refused.value.message_dict
    assert snapshot(case) == before
    # The new decision first (the authority ordered it), then the communication: consistent.
    services.decision_inform_persons(case, inform=True, reason="Mise en demeure CNIL (art. 34(4)).", acting_user=dpo)
    services.member_communication_record(
        case, channel="letter", sent_at=AWARE + timedelta(hours=30), recipients_count=10, text="Madame",
        late_reason="Ordonnée par la CNIL.", acting_user=dpo,
    )  # fmt: skip
    assert case.obligations.get(rule_code="GDPR_34").state == Obligation.State.DONE

    informed = open_case(**HIGH_RISK)
    services.decision_inform_persons(informed, inform=True, reason="Risque élevé.", acting_user=dpo)
    informed.refresh_from_db()
    before = snapshot(informed)
    with pytest.raises(ValidationError, match="an exemption contradicts it"):
        services.member_communication_record(
            informed, channel="none", exemption="34_3_a", exemption_reason="Chiffré.", acting_user=dpo
        )
    assert snapshot(informed) == before


migration = importlib.import_module("cases.migrations.0011_record_consistency_past_facts")


def test_the_migration_infers_the_filing_of_each_obligation_marked_done_without_one(open_case, dpo):
    marked = open_case(**HIGH_RISK)
    filed = open_case()
    services.filing_record(
        filed, kind="cnil_initial", sent_at=AWARE + timedelta(hours=5), obligation=cnil(filed), acting_user=dpo
    )
    # As the code before issue 12 allowed: the CNIL notification and Art. 34 marked done with nothing behind.
    with transaction.atomic():
        for code, reference in (("GDPR_33_1", "CNIL-OLD-1"), ("GDPR_34", "")):
            ob = marked.obligations.get(rule_code=code)
            ob.state, ob.completed_at, ob.completed_by, ob.reference = (
                "done",
                AWARE + timedelta(hours=20),
                dpo,
                reference,
            )
            ob._history_user = dpo
            ob.save()
    filings_before = Filing.objects.count()

    state = MigrationExecutor(connection).loader.project_state(("cases", migration.MIGRATION)).apps
    with transaction.atomic():
        migration.infer_filings(state, None)

    inferred = Filing.objects.filter(case=marked).order_by("pk")
    assert Filing.objects.count() == filings_before + 2  # the case already filed is left as it is
    notification, letter = inferred
    assert notification.kind == "cnil_initial" and letter.kind == "members"
    assert notification.sent_at == AWARE + timedelta(hours=20) and notification.reference == "CNIL-OLD-1"
    assert notification.obligation.rule_code == "GDPR_33_1" and notification.created_by == dpo
    assert notification.content.startswith(
        "Inferred by migration 0011_record_consistency_past_facts from the completion recorded on 2024-02-02 13:00 UTC"
        " by dpo, reference CNIL-OLD-1"
    )
    row = notification.history.get()
    assert row.history_change_reason == notification.content and row.chain_key == f"case:{marked.pk}"
    problems = [r for r in verify_all() if not r.ok]
    assert not problems, problems
    # Run again: nothing more to infer.
    with transaction.atomic():
        migration.infer_filings(state, None)
    assert Filing.objects.count() == filings_before + 2
