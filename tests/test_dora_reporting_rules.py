"""DORA major-incident reporting as Regulation 2022/2554 art. 19 and RTS 2025/301 art. 5 write it.

- art. 5(1)(c): the final report runs from the latest updated intermediate report;
- art. 5(4)-(6): the weekend and holiday relief covers the three reports, and the entities of
  art. 5(5)-(6) lose it for the initial notification and the intermediate report only;
- art. 46: the competent authority follows the entity (ACPR, AMF), an organisation setting;
- art. 5(1)(a) and ITS 2025/302 fields 2.2-2.3: classification as major comes after awareness
  of the incident, and the initial notification after the classification.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from pypdf import PdfReader

from cases import services
from cases.deadlines import AnchorTimes, Due, DueBasis, compute_due
from cases.dossier.builder import build_dossier
from cases.models import BreachCase, Filing, Membership, Obligation, Organization
from cases.regimes import Authority, authority_name, get_rule
from cases.services.common import save
from reminders.emails import authority_label
from tests.conftest import paris
from tests.filing_helpers import complete_by_filing

FIRST_SIGNAL = paris(2025, 2, 6, 8, 0)  # Thursday
INCIDENT_KNOWN = paris(2025, 2, 6, 9, 0)
CLASSIFIED = paris(2025, 2, 6, 12, 0)
AWARE = paris(2025, 2, 6, 18, 0)
INITIAL_SENT = paris(2025, 2, 6, 15, 0)
INTERMEDIATE_SENT = paris(2025, 2, 10, 11, 0)  # Monday


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def dora_case(make_org, make_user):
    """A major ICT incident at a DORA financial entity; returns (case, dpo)."""

    def make(org_fields: dict | None = None, **facts):
        org = make_org(is_dora_entity=True, **(org_fields or {}))
        dpo = make_user(org, Membership.Role.DPO)
        facts = {
            "title": "Ransomware on the claims platform",
            "first_signal_at": FIRST_SIGNAL,
            "incident_known_at": INCIDENT_KNOWN,
            "aware_at": AWARE,
            "aware_justification": "Member files were read.",
            "dora_major": True,
            "dora_classified_at": CLASSIFIED,
            **facts,
        }
        return services.case_open(organization=org, acting_user=dpo, **facts), dpo

    return make


def ob(case, code: str) -> Obligation:
    return case.obligations.get(rule_code=code)


def file(case, code, at, dpo, **extra) -> Filing:
    return services.filing_record(case, kind="dora", sent_at=at, obligation=ob(case, code), acting_user=dpo, **extra)


def intermediate_filed(make):
    case, dpo = make()
    file(case, "DORA_INITIAL", INITIAL_SENT, dpo, reference="INIT-1")
    file(case, "DORA_INTERMEDIATE", INTERMEDIATE_SENT, dpo, reference="INT-1")
    return case, dpo


# --- art. 5(1)(c): the final report runs from the latest updated intermediate report ---


def test_the_final_report_runs_from_the_intermediate_report(dora_case):
    case, _ = intermediate_filed(dora_case)

    assert ob(case, "DORA_FINAL").due_at == paris(2025, 3, 10, 11, 0)


def test_an_updated_intermediate_report_moves_the_final_report(dora_case):
    case, dpo = intermediate_filed(dora_case)
    updated = paris(2025, 2, 14, 16, 0)

    file(case, "DORA_INTERMEDIATE", updated, dpo, reference="INT-1-upd", content="Regular activities recovered.")

    intermediate, final = ob(case, "DORA_INTERMEDIATE"), ob(case, "DORA_FINAL")
    assert intermediate.latest_update_at == updated
    assert (final.anchor_at, final.due_at) == (updated, paris(2025, 3, 14, 16, 0))
    assert case.filings.filter(obligation=intermediate).count() == 2


def test_the_final_report_runs_from_the_latest_update_not_the_last_recorded(dora_case):
    case, dpo = intermediate_filed(dora_case)
    file(case, "DORA_INTERMEDIATE", paris(2025, 2, 20, 10, 0), dpo)

    file(case, "DORA_INTERMEDIATE", paris(2025, 2, 17, 10, 0), dpo)  # an older update, recorded late

    assert ob(case, "DORA_FINAL").due_at == paris(2025, 3, 20, 10, 0)


def test_an_update_keeps_the_intermediate_report_s_first_filing_and_lateness(dora_case):
    case, dpo = intermediate_filed(dora_case)
    before = ob(case, "DORA_INTERMEDIATE")

    file(case, "DORA_INTERMEDIATE", paris(2025, 2, 14, 16, 0), dpo)

    after = ob(case, "DORA_INTERMEDIATE")
    assert (after.completed_at, after.due_at, after.reference) == (INTERMEDIATE_SENT, before.due_at, "INT-1")
    assert after.state == Obligation.State.DONE


def test_an_updated_report_cannot_precede_the_report_it_updates(dora_case):
    case, dpo = intermediate_filed(dora_case)
    filings = case.filings.count()

    with pytest.raises(ValidationError) as refused:
        file(case, "DORA_INTERMEDIATE", INTERMEDIATE_SENT - timedelta(minutes=1), dpo)

    assert "ne peut précéder le rapport qu'il met à jour" in " ".join(refused.value.message_dict["sent_at"])
    assert case.filings.count() == filings and ob(case, "DORA_INTERMEDIATE").latest_update_at is None


def test_an_updated_intermediate_report_cannot_follow_the_final_report(dora_case):
    case, dpo = intermediate_filed(dora_case)
    file(case, "DORA_FINAL", paris(2025, 3, 3, 10, 0), dpo)
    final = ob(case, "DORA_FINAL")

    with pytest.raises(ValidationError) as refused:
        file(case, "DORA_INTERMEDIATE", paris(2025, 3, 4, 10, 0), dpo)

    assert "rapport final" in " ".join(refused.value.message_dict["sent_at"])
    assert ob(case, "DORA_FINAL").due_at == final.due_at


def test_marking_the_intermediate_report_done_twice_is_refused_its_update_is_a_filing(dora_case):
    case, dpo = intermediate_filed(dora_case)

    # A bare "mark done" is refused (issue 12): the updated report is recorded as a filing on it.
    with pytest.raises(ValidationError) as refused:
        services.obligation_complete(ob(case, "DORA_INTERMEDIATE"), completed_at=paris(2025, 2, 14, 9), acting_user=dpo)
    assert "obligation" in refused.value.message_dict


def test_the_updated_report_is_recorded_from_the_filing_form(dora_case, login):
    case, dpo = intermediate_filed(dora_case)
    intermediate = ob(case, "DORA_INTERMEDIATE")
    client = login(dpo)
    page = client.get(reverse("cases:case_detail", kwargs={"reference": case.reference})).content.decode()
    assert f'id="obligation-{intermediate.pk}-update"' in page

    form_url = reverse("cases:filing_record", kwargs={"reference": case.reference})
    form = client.get(f"{form_url}?obligation={intermediate.pk}").context["form"]
    assert intermediate in form.fields["obligation"].queryset
    response = client.post(
        form_url, {"kind": "dora", "sent_at": "2025-02-14T16:00", "obligation": intermediate.pk, "reference": "U1"}
    )

    assert response.status_code == 302
    assert ob(case, "DORA_FINAL").due_at == paris(2025, 3, 14, 16, 0)


def test_an_updated_report_before_its_report_is_refused_by_the_form_next_to_the_field(dora_case, login):
    case, dpo = intermediate_filed(dora_case)
    intermediate = ob(case, "DORA_INTERMEDIATE")
    form_url = reverse("cases:filing_record", kwargs={"reference": case.reference})

    response = login(dpo).post(form_url, {"kind": "dora", "sent_at": "2025-02-09T10:00", "obligation": intermediate.pk})

    assert response.status_code == 400
    assert "sent_at" in response.context["form"].errors
    assert case.filings.filter(obligation=intermediate).count() == 1


# --- art. 5(4)-(6): which reports get the weekend and holiday relief, and for whom ---

SATURDAY = paris(2025, 3, 15, 10, 0)
MONDAY_NOON = paris(2025, 3, 17, 12, 0)


def _due_on_saturday(code: str, *, weekend_relief: bool) -> Due:
    rule = get_rule(code)
    if code == "DORA_INITIAL":
        anchors = AnchorTimes(aware_at=SATURDAY - timedelta(hours=24))  # not classified: the 24 h cap
    elif code == "DORA_INTERMEDIATE":
        anchors = AnchorTimes(rule_done={"DORA_INITIAL": SATURDAY - timedelta(hours=72)})
    else:
        anchors = AnchorTimes(rule_done={"DORA_INTERMEDIATE": paris(2025, 2, 15, 10, 0)})
    return compute_due(rule, anchors, weekend_relief=weekend_relief)


@pytest.mark.parametrize("code", ["DORA_INITIAL", "DORA_INTERMEDIATE", "DORA_FINAL"])
def test_the_weekend_relief_covers_the_initial_intermediate_and_final_reports(code):
    assert _due_on_saturday(code, weekend_relief=True) == Due(MONDAY_NOON, DueBasis.LEGAL)


@pytest.mark.parametrize(("code", "due"), [("DORA_INITIAL", SATURDAY), ("DORA_INTERMEDIATE", SATURDAY)])
def test_excluded_entities_lose_the_relief_for_the_initial_notification_and_the_intermediate_report(code, due):
    assert _due_on_saturday(code, weekend_relief=False) == Due(due, DueBasis.LEGAL)


def test_excluded_entities_keep_the_relief_for_the_final_report():
    assert _due_on_saturday("DORA_FINAL", weekend_relief=False) == Due(MONDAY_NOON, DueBasis.LEGAL)


def test_an_excluded_entity_s_case_keeps_the_relief_for_its_final_report_only(dora_case):
    case, dpo = dora_case({"dora_relief_excluded": True})
    file(case, "DORA_INITIAL", INITIAL_SENT, dpo)
    assert ob(case, "DORA_INTERMEDIATE").due_at == paris(2025, 2, 9, 15, 0)  # Sunday: no relief

    file(case, "DORA_INTERMEDIATE", paris(2025, 2, 8, 10, 0), dpo)  # Saturday: one month later is Saturday

    assert ob(case, "DORA_FINAL").due_at == paris(2025, 3, 10, 12, 0)  # Monday noon


def test_the_relief_is_dora_only_and_only_for_the_three_reports():
    relieved = {code for code in ("DORA_INITIAL", "DORA_INTERMEDIATE", "DORA_FINAL") if get_rule(code).weekend_relief}
    excludable = {code for code in relieved if get_rule(code).relief_excludable}

    assert relieved == {"DORA_INITIAL", "DORA_INTERMEDIATE", "DORA_FINAL"}
    assert excludable == {"DORA_INITIAL", "DORA_INTERMEDIATE"}


# --- art. 46: the competent authority depends on the entity ---


def test_the_dora_reports_go_to_the_acpr_by_default(dora_case):
    case, _ = dora_case()

    assert {o.authority for o in case.obligations.filter(rule_code__startswith="DORA")} == {"acpr"}


def test_the_dora_reports_go_to_the_organisation_s_competent_authority(dora_case):
    case, _ = dora_case({"dora_authority": Authority.AMF.value})

    assert {o.authority for o in case.obligations.filter(rule_code__startswith="DORA")} == {"amf"}
    assert ob(case, "GDPR_33_1").authority == "cnil"


def test_a_new_competent_authority_moves_the_pending_reports_not_the_filed_ones(dora_case):
    case, dpo = dora_case()
    file(case, "DORA_INITIAL", INITIAL_SENT, dpo)
    org = case.organization
    org.dora_authority = Authority.AMF.value
    with transaction.atomic():
        org.save()

    services.case_update_facts(case, acting_user=dpo, title="Ransomware (AMF)")

    assert ob(case, "DORA_INITIAL").authority == "acpr"
    assert ob(case, "DORA_INTERMEDIATE").authority == ob(case, "DORA_FINAL").authority == "amf"


def test_the_competent_authority_is_named_on_the_page_in_e_mails_the_dossier_and_the_calendar(dora_case, login):
    case, dpo = dora_case({"dora_authority": Authority.AMF.value})
    page = login(dpo).get(reverse("cases:case_detail", kwargs={"reference": case.reference})).content.decode()
    pdf = build_dossier(case, lang="fr")
    dossier = " ".join(" ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(pdf)).pages).split())

    assert "AMF (autorité compétente DORA)" in page
    assert authority_label(ob(case, "DORA_INITIAL")) == "AMF (autorité compétente DORA)"
    assert "AMF (autorité compétente DORA)" in dossier
    assert authority_name("amf", "en") == "AMF (DORA competent authority)"
    assert "ACPR" not in str(Filing.Kind.DORA.label)


def test_the_organisation_chooses_between_the_acpr_and_the_amf():
    field = Organization._meta.get_field("dora_authority")

    assert [value for value, _label in field.choices] == ["acpr", "amf"]
    assert field.default == "acpr"


# --- art. 5(1)(a), ITS 2025/302 fields 2.2-2.3: orderings that cannot happen ---


def test_a_classification_as_major_dated_before_awareness_of_the_incident_is_refused(dora_case):
    before = BreachCase.objects.count()

    with pytest.raises(ValidationError) as refused:
        dora_case(dora_classified_at=INCIDENT_KNOWN - timedelta(minutes=1))

    message = " ".join(refused.value.message_dict["dora_classified_at"])
    assert "ne peut précéder la connaissance de l'incident" in message
    assert "06/02/2025 08:59" in message and "06/02/2025 09:00" in message
    assert BreachCase.objects.count() == before


def test_without_a_separate_incident_time_the_classification_cannot_precede_awareness(dora_case):
    with pytest.raises(ValidationError) as refused:
        dora_case(incident_known_at=None, dora_classified_at=AWARE - timedelta(hours=1))

    assert "dora_classified_at" in refused.value.message_dict


def test_moving_the_classification_before_awareness_is_refused_and_saves_nothing(dora_case):
    case, dpo = dora_case()
    rows = case.history.count()

    with pytest.raises(ValidationError) as refused:
        services.case_update_facts(
            case, acting_user=dpo, dora_classified_at=paris(2025, 2, 6, 8, 30), change_reason="Re-dated."
        )

    assert "dora_classified_at" in refused.value.message_dict
    case.refresh_from_db()
    assert case.dora_classified_at == CLASSIFIED and case.history.count() == rows


def test_the_case_form_refuses_a_classification_before_awareness_next_to_the_field(dora_case, login):
    case, dpo = dora_case()
    client = login(dpo)
    edit = reverse("cases:case_update", kwargs={"reference": case.reference})
    form = client.get(edit).context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {k: v for k, v in data.items() if not (v is None or v is False or v == "" or v == [])}
    data.update(dora_classified_at="2025-02-06T08:30", change_reason="Re-dated.")

    response = client.post(edit, data)

    assert response.status_code == 400
    assert "dora_classified_at" in response.context["form"].errors
    assert 'id="id_dora_classified_at_error"' in response.content.decode()


def test_an_initial_notification_before_the_classification_is_refused(dora_case):
    case, dpo = dora_case()

    with pytest.raises(ValidationError) as refused:
        complete_by_filing(ob(case, "DORA_INITIAL"), completed_at=CLASSIFIED - timedelta(hours=1), acting_user=dpo)

    assert "ne peut précéder sa classification" in " ".join(refused.value.message_dict["completed_at"])
    assert ob(case, "DORA_INITIAL").state == Obligation.State.PENDING


def test_a_classification_moved_after_the_initial_notification_is_refused(dora_case):
    case, dpo = dora_case()
    file(case, "DORA_INITIAL", INITIAL_SENT, dpo)

    with pytest.raises(ValidationError) as refused:
        services.case_update_facts(
            case, acting_user=dpo, dora_classified_at=INITIAL_SENT + timedelta(hours=1), change_reason="Re-dated."
        )

    assert "06/02/2025 15:00" in " ".join(refused.value.message_dict["dora_classified_at"])


def test_the_24_hour_cap_runs_from_awareness_of_the_ict_incident_not_of_the_breach(dora_case):
    case, _ = dora_case(dora_classified_at=paris(2025, 2, 7, 8, 0))

    assert ob(case, "DORA_INITIAL").due_at == INCIDENT_KNOWN + timedelta(hours=24)  # not AWARE + 24 h


def test_knowledge_of_the_incident_after_awareness_of_the_breach_is_refused(open_case):
    with pytest.raises(ValidationError) as refused:
        open_case(incident_known_at=paris(2024, 2, 1, 19, 0))  # aware at 18:00

    assert "incident_known_at" in refused.value.message_dict


def test_a_breach_cannot_start_after_the_organisation_became_aware_of_it(open_case):
    with pytest.raises(ValidationError) as refused:
        open_case(occurred_from=paris(2024, 2, 1, 18, 30))  # aware at 18:00

    assert "occurred_from" in refused.value.message_dict


def test_a_record_kept_from_before_these_checks_can_still_be_edited_elsewhere(dora_case):
    case, dpo = dora_case()
    case.incident_known_at = AWARE + timedelta(hours=1)  # as recorded before knowledge had to precede awareness
    with transaction.atomic():
        save(case, acting_user=dpo, reason="Recorded before the ordering checks.")

    services.case_update_facts(case, acting_user=dpo, title="Renamed")

    with pytest.raises(ValidationError) as refused:
        services.case_update_facts(case, acting_user=dpo, aware_at=AWARE - timedelta(minutes=5), change_reason="x")
    assert "incident_known_at" in refused.value.message_dict
