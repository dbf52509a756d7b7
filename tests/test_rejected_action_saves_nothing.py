"""A refused action saves nothing: no row in any table of the cases app, history included."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from cases.history import HistoryChainHead
from cases.models import Membership, Obligation, Organization
from tests.conftest import paris
from tests.filing_helpers import complete_by_filing

AWARE = paris(2024, 2, 1, 18, 0)
LATE = AWARE + timedelta(days=4)


def snapshot() -> dict:
    """Row counts of every model of the cases app (history tables too) and every chain head."""
    counts = {model._meta.label: model._base_manager.count() for model in apps.get_app_config("cases").get_models()}
    heads = sorted(HistoryChainHead.objects.values_list("chain_key", "length", "head_hash"))
    return {"counts": counts, "heads": heads}


@pytest.fixture
def world(open_case, dpo, make_org, make_user, make_relationship, settings, tmp_path):
    """A high-risk case, a processor case with one listed controller, and a few users."""
    settings.MEDIA_ROOT = tmp_path
    case = open_case(
        data_categories=["identity", "nir"],
        severity_ei=Decimal("1"),
        severity_cb_confidentiality=Decimal("0.5"),
        severity_cb_malicious=True,
    )
    operator = make_org(name="Opérateur", code="op", kind=Organization.Kind.PROCESSOR)
    operator_dpo = make_user(operator, Membership.Role.DPO)
    processor_case = services.case_open(
        organization=operator,
        title="Portail",
        first_signal_at=AWARE,
        aware_at=AWARE,
        aware_justification="Confirmed.",
        acting_user=operator_dpo,
    )
    insurer = make_org(name="Assureur", code="ass", kind=Organization.Kind.CONTROLLER)
    notice = services.controller_add(
        processor_case,
        relationship=make_relationship(operator, insurer),
        notice_period_hours=24,
        acting_user=operator_dpo,
    )
    return {
        "case": case,
        "cnil": case.obligations.get(rule_code="GDPR_33_1"),
        "dpo": dpo,
        "auditor": make_user(case.organization, Membership.Role.AUDITOR),
        "legal": make_user(case.organization, Membership.Role.LEGAL),
        "notice": notice,
        "operator_dpo": operator_dpo,
    }


REFUSED = {
    "late completion without a reason": lambda w: complete_by_filing(
        w["cnil"], completed_at=LATE, reference="CNIL-1", acting_user=w["dpo"]
    ),
    "late filing without a reason": lambda w: services.filing_record(
        w["case"], kind="cnil_initial", sent_at=LATE, obligation=w["cnil"], reference="CNIL-1", acting_user=w["dpo"]
    ),
    "not applicable without a reason": lambda w: services.obligation_mark_not_applicable(
        w["cnil"], reason="", acting_user=w["dpo"]
    ),
    "aware_at moved without a reason": lambda w: services.case_update_facts(
        w["case"], aware_at=AWARE - timedelta(hours=3), title="Renamed", acting_user=w["dpo"]
    ),
    "naive aware_at": lambda w: services.case_update_facts(
        w["case"], aware_at=datetime(2024, 2, 1, 12, 0), change_reason="r", acting_user=w["dpo"]
    ),
    "invalid ease of identification": lambda w: services.case_update_facts(
        w["case"], severity_ei=Decimal("0.4"), title="Renamed", acting_user=w["dpo"]
    ),
    "unknown data category": lambda w: services.case_update_facts(
        w["case"], data_categories=["1840575123456"], acting_user=w["dpo"]
    ),
    "opening before the first signal": lambda w: services.case_open(
        organization=w["case"].organization,
        title="T",
        first_signal_at=AWARE,
        aware_at=AWARE - timedelta(seconds=1),
        aware_justification="J",
        acting_user=w["dpo"],
    ),
    "closing with pending obligations": lambda w: services.case_close(w["case"], reason="r", acting_user=w["dpo"]),
    "decision without a reason": lambda w: services.decision_inform_persons(
        w["case"], inform=False, reason="", acting_user=w["legal"]
    ),
    "communication without its text": lambda w: services.member_communication_record(
        w["case"], channel="letter", sent_at=AWARE, recipients_count=5, acting_user=w["dpo"]
    ),
    "late communication without a reason": lambda w: services.member_communication_record(
        w["case"], channel="letter", sent_at=LATE, recipients_count=5, text="t", acting_user=w["dpo"]
    ),
    "disguised evidence": lambda w: services.evidence_add(
        w["case"], uploaded_file=SimpleUploadedFile("a.pdf", b"\x7fELF\x02\x01\x01\x00"), acting_user=w["dpo"]
    ),
    "late notice to a controller without a reason": lambda w: services.controller_inform(
        w["notice"], informed_at=LATE, acting_user=w["operator_dpo"]
    ),
    "auditor adding an event": lambda w: services.timeline_event_add(
        w["case"], occurred_at=AWARE, title="t", acting_user=w["auditor"]
    ),
    "legal completing an obligation": lambda w: complete_by_filing(
        w["cnil"], completed_at=AWARE, acting_user=w["legal"]
    ),
    "auditor granting a role": lambda w: services.membership_grant(
        user=w["auditor"], organization=w["case"].organization, role="admin", acting_user=w["auditor"]
    ),
}


@pytest.mark.parametrize("action", REFUSED, ids=list(REFUSED))
def test_a_rejected_action_saves_nothing(world, action, tmp_path):
    before = snapshot()
    with pytest.raises((ValidationError, PermissionDenied)):
        REFUSED[action](world)
    assert snapshot() == before
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_the_snapshot_does_see_a_successful_action(world):
    before = snapshot()
    complete_by_filing(world["cnil"], completed_at=LATE, late_reason="Weekend.", acting_user=world["dpo"])
    after = snapshot()
    assert after != before
    assert after["counts"]["cases.HistoricalObligation"] > before["counts"]["cases.HistoricalObligation"]
    assert Obligation.objects.get(pk=world["cnil"].pk).state == Obligation.State.DONE
