"""A processor informs each controller of its own relationships (GDPR Art. 33(2)); a controller's clocks start
only when one of its own members opens its case from the received notice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cases import services
from cases.models import (
    BreachCase,
    ControllerNotice,
    Filing,
    Membership,
    Obligation,
    Organization,
    ReceivedNotice,
)
from tests.conftest import paris

AWARE = paris(2024, 2, 1, 18, 0)


@pytest.fixture
def operator(make_org):
    return make_org(name="Tiers-payant Opérateur", code="tpo", kind=Organization.Kind.PROCESSOR)


@pytest.fixture
def operator_dpo(operator, make_user):
    return make_user(operator, Membership.Role.DPO, "operator-dpo")


@pytest.fixture
def processor_case(operator, operator_dpo):
    return services.case_open(
        organization=operator,
        title="Portail professionnels de santé",
        first_signal_at=paris(2024, 2, 1, 9, 0),
        aware_at=AWARE,
        aware_justification="Stolen practitioner credentials confirmed.",
        data_categories=["identity", "nir", "insurance"],
        acting_user=operator_dpo,
    )


@pytest.fixture
def operator_admin(operator, make_user):
    return make_user(operator, Membership.Role.ADMIN, "operator-admin")


@pytest.fixture
def insurer_orgs(make_org):
    return [make_org(name=f"Assureur {n}", code=f"ins{n}", kind=Organization.Kind.CONTROLLER) for n in range(5)]


@pytest.fixture
def insurer_admins(insurer_orgs, make_user):
    return [make_user(org, Membership.Role.ADMIN, f"ins{n}-admin") for n, org in enumerate(insurer_orgs)]


@pytest.fixture
def insurers(operator, operator_admin, insurer_orgs, insurer_admins):
    """One accepted on-platform relationship per insurer: the processor invites, the insurer's admin accepts."""
    relationships = []
    for org, admin in zip(insurer_orgs, insurer_admins, strict=True):
        rel = services.relationship_create(
            processor=operator,
            controller_name=org.name,
            on_platform=True,
            contacts=[{"name": "DPO", "email": f"dpo@{org.code}.example", "role": "DPO"}],
            acting_user=operator_admin,
        )
        relationships.append(
            services.relationship_accept(organization=org, code=rel.invitation_code, acting_user=admin)
        )
    return relationships


def test_a_listed_controller_gets_its_own_notice_obligation_with_the_contract_period(
    processor_case, operator_dpo, insurers
):
    notice = services.controller_add(
        processor_case, relationship=insurers[0], notice_period_hours=48, acting_user=operator_dpo
    )
    ob = Obligation.objects.get(controller_notice=notice)
    assert ob.rule_code == "GDPR_33_2"
    assert ob.due_at == AWARE + timedelta(hours=48)
    assert ob.due_basis == "contract"


def test_without_a_contract_period_the_undue_delay_target_applies(processor_case, operator, operator_dpo, insurers):
    notice = services.controller_add(processor_case, relationship=insurers[0], acting_user=operator_dpo)
    ob = Obligation.objects.get(controller_notice=notice)
    assert ob.due_at == AWARE + timedelta(hours=operator.undue_delay_target_hours)
    assert ob.due_basis == "internal_target"


def test_each_controller_has_its_own_obligation(processor_case, operator_dpo, insurers):
    for insurer in insurers:
        services.controller_add(processor_case, relationship=insurer, acting_user=operator_dpo)
    assert processor_case.obligations.filter(rule_code="GDPR_33_2").count() == len(insurers)


def test_informing_a_controller_completes_the_notice_and_lands_in_its_inbox_without_a_case(
    processor_case, operator_dpo, insurers, insurer_orgs
):
    notice = services.controller_add(processor_case, relationship=insurers[0], acting_user=operator_dpo)
    informed_at = AWARE + timedelta(hours=6)
    services.controller_inform(
        notice, informed_at=informed_at, channel="e-mail", reference="LRAR-1", acting_user=operator_dpo
    )
    notice.refresh_from_db()
    assert notice.informed_at == informed_at and notice.informed_by == operator_dpo
    assert notice.recipients == [{"name": "DPO", "email": "dpo@ins0.example", "role": "DPO"}]

    ob = Obligation.objects.get(controller_notice=notice)
    assert ob.state == Obligation.State.DONE and ob.completed_at == informed_at and ob.reference == "LRAR-1"

    assert not BreachCase.objects.filter(organization=insurer_orgs[0]).exists()
    received = ReceivedNotice.objects.get(notice=notice)
    assert received.controller == insurer_orgs[0]
    assert received.decision == ReceivedNotice.Decision.RECEIVED
    assert received.facts["data_categories"] == ["identity", "nir", "insurance"]


def test_a_late_notice_to_a_controller_needs_a_reason(processor_case, operator_dpo, insurers):
    notice = services.controller_add(
        processor_case, relationship=insurers[0], notice_period_hours=24, acting_user=operator_dpo
    )
    late = AWARE + timedelta(hours=30)
    with pytest.raises(ValidationError) as exc:
        services.controller_inform(notice, informed_at=late, acting_user=operator_dpo)
    assert "late_reason" in exc.value.message_dict
    notice.refresh_from_db()
    assert notice.informed_at is None
    assert not ReceivedNotice.objects.exists()

    services.controller_inform(
        notice, informed_at=late, late_reason="80 clients to reach over a weekend.", acting_user=operator_dpo
    )
    ob = Obligation.objects.get(controller_notice=notice)
    assert ob.status(now=late + timedelta(days=1)).value == "done_late"


def test_a_controller_is_informed_only_once(processor_case, operator_dpo, insurers):
    notice = services.controller_add(processor_case, relationship=insurers[0], acting_user=operator_dpo)
    services.controller_inform(notice, informed_at=AWARE + timedelta(hours=2), acting_user=operator_dpo)
    with pytest.raises(ValidationError) as exc:
        services.controller_inform(notice, informed_at=AWARE + timedelta(hours=3), acting_user=operator_dpo)
    assert "informed_at" in exc.value.message_dict
    assert ReceivedNotice.objects.filter(notice=notice).count() == 1


def test_the_progress_of_notices_is_countable(processor_case, operator_dpo, insurers):
    notices = [services.controller_add(processor_case, relationship=i, acting_user=operator_dpo) for i in insurers]
    for notice in notices[:2]:
        services.controller_inform(notice, informed_at=AWARE + timedelta(hours=3), acting_user=operator_dpo)
    informed = processor_case.controller_notices.filter(informed_at__isnull=False).count()
    assert (informed, processor_case.controller_notices.count()) == (2, 5)
    assert processor_case.obligations.filter(rule_code="GDPR_33_2", state=Obligation.State.DONE).count() == 2


def test_only_a_processor_lists_controllers(open_case, dpo, insurers):
    with pytest.raises(ValidationError) as exc:
        services.controller_add(open_case(), relationship=insurers[0], acting_user=dpo)
    assert "relationship" in exc.value.message_dict


def test_a_controller_is_listed_once_and_never_an_organisation(processor_case, operator, operator_dpo, insurers):
    services.controller_add(processor_case, relationship=insurers[0], acting_user=operator_dpo)
    for controller in (insurers[0], operator, None, "1"):
        with pytest.raises(ValidationError):
            services.controller_add(processor_case, relationship=controller, acting_user=operator_dpo)
    assert ControllerNotice.objects.count() == 1


@pytest.mark.parametrize("period", [0, -4, "48", True])
def test_the_notice_period_is_a_positive_number_of_hours(processor_case, operator_dpo, insurers, period):
    with pytest.raises(ValidationError) as exc:
        services.controller_add(
            processor_case, relationship=insurers[0], notice_period_hours=period, acting_user=operator_dpo
        )
    assert "notice_period_hours" in exc.value.message_dict


def test_a_notice_to_a_controller_is_not_recorded_as_a_plain_filing(processor_case, operator_dpo, insurers):
    notice = services.controller_add(processor_case, relationship=insurers[0], acting_user=operator_dpo)
    ob = Obligation.objects.get(controller_notice=notice)
    with pytest.raises(ValidationError) as exc:
        services.filing_record(
            processor_case,
            kind=Filing.Kind.CONTROLLER,
            sent_at=AWARE + timedelta(hours=1),
            obligation=ob,
            acting_user=operator_dpo,
        )
    assert "obligation" in exc.value.message_dict


def test_an_insurer_cannot_list_or_inform_for_the_operator(
    processor_case, operator_dpo, insurers, insurer_orgs, make_user
):
    insurer_dpo = make_user(insurer_orgs[0], Membership.Role.DPO)
    with pytest.raises(PermissionDenied):
        services.controller_add(processor_case, relationship=insurers[1], acting_user=insurer_dpo)
    notice = services.controller_add(processor_case, relationship=insurers[0], acting_user=operator_dpo)
    with pytest.raises(PermissionDenied):
        services.controller_inform(notice, informed_at=AWARE + timedelta(hours=1), acting_user=insurer_dpo)
