"""Processing relationships: nothing is written in another organisation's register without its consent.

A processor lists, picks and informs only controllers of its own active relationships. An on-platform
controller is linked only by the invitation code its administrator enters (once, generic refusal);
informing it delivers a notice to its inbox and opens nothing; only its own members decide.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cases import services
from cases.models import BreachCase, ControllerNotice, Membership, Organization, ProcessingRelationship, ReceivedNotice
from cases.services.common import now
from tests.conftest import paris

AWARE = paris(2024, 2, 1, 18, 0)


@pytest.fixture
def operator(make_org):
    return make_org(name="Opérateur TP", code="optp", kind=Organization.Kind.PROCESSOR)


@pytest.fixture
def people(operator, make_org, make_user):
    insurer = make_org(name="Assureur Client", code="assc", kind=Organization.Kind.CONTROLLER)
    stranger = make_org(name="Autre Client", code="autre", kind=Organization.Kind.BOTH)
    return {
        "operator": operator,
        "insurer": insurer,
        "stranger": stranger,
        "op_admin": make_user(operator, Membership.Role.ADMIN, "op-admin"),
        "op_dpo": make_user(operator, Membership.Role.DPO, "op-dpo"),
        "ins_admin": make_user(insurer, Membership.Role.ADMIN, "ins-admin"),
        "ins_dpo": make_user(insurer, Membership.Role.DPO, "ins-dpo"),
        "ins_legal": make_user(insurer, Membership.Role.LEGAL, "ins-legal"),
        "ins_auditor": make_user(insurer, Membership.Role.AUDITOR, "ins-auditor"),
        "str_admin": make_user(stranger, Membership.Role.ADMIN, "str-admin"),
        "str_dpo": make_user(stranger, Membership.Role.DPO, "str-dpo"),
    }


@pytest.fixture
def processor_case(people):
    return services.case_open(
        organization=people["operator"],
        title="Portail PS",
        first_signal_at=paris(2024, 2, 1, 9, 0),
        aware_at=AWARE,
        aware_justification="Credentials misused.",
        data_categories=["nir"],
        acting_user=people["op_dpo"],
    )


def invite(people, **extra):
    extra.setdefault("controller_name", "Mon client assureur")
    return services.relationship_create(
        processor=people["operator"], on_platform=True, acting_user=people["op_admin"], **extra
    )


def linked(people, **extra):
    rel = invite(people, **extra)
    return services.relationship_accept(
        organization=people["insurer"], code=rel.invitation_code, acting_user=people["ins_admin"]
    )


def external(people, **extra):
    extra.setdefault("controller_name", "Assureur Externe")
    extra.setdefault("controller_siren", "123456789")
    return services.relationship_create(processor=people["operator"], acting_user=people["op_admin"], **extra)


def register_counts(org) -> tuple[int, int]:
    return BreachCase.objects.filter(organization=org).count(), ReceivedNotice.objects.filter(controller=org).count()


# --- creating and accepting -----------------------------------------------------------------------


def test_only_a_processor_admin_records_a_relationship(people):
    for user in (people["op_dpo"], people["str_admin"], people["ins_admin"]):
        with pytest.raises(PermissionDenied):
            services.relationship_create(processor=people["operator"], controller_name="X", acting_user=user)
    assert not ProcessingRelationship.objects.exists()


def test_an_external_controller_is_active_at_once_and_informing_it_writes_nowhere_else(people, processor_case):
    rel = external(people, notice_period_hours=24, contacts=[{"name": "A", "email": "a@x.fr", "role": "DPO"}])
    assert rel.is_active and rel.controller is None and rel.invitation_digest == ""
    before = {org.pk: register_counts(org) for org in Organization.objects.exclude(pk=people["operator"].pk)}
    notice = services.controller_add(processor_case, relationship=rel, acting_user=people["op_dpo"])
    assert notice.notice_period_hours == 24  # the contract's period by default
    services.controller_inform(notice, informed_at=AWARE + timedelta(hours=2), acting_user=people["op_dpo"])
    notice.refresh_from_db()
    assert notice.recipients == [{"name": "A", "email": "a@x.fr", "role": "DPO"}]
    assert {org.pk: register_counts(org) for org in Organization.objects.exclude(pk=people["operator"].pk)} == before


def test_an_on_platform_relationship_waits_for_the_controller_and_cannot_be_picked_before(people, processor_case):
    rel = invite(people)
    assert rel.status == ProcessingRelationship.Status.PENDING and rel.controller is None
    assert len(rel.invitation_code) >= 30
    stored = ProcessingRelationship.objects.get(pk=rel.pk)
    assert rel.invitation_code not in str(stored.__dict__)  # only its SHA-256 is kept
    with pytest.raises(ValidationError) as exc:
        services.controller_add(processor_case, relationship=rel, acting_user=people["op_dpo"])
    assert "relationship" in exc.value.message_dict


def test_a_code_works_once_and_every_refusal_says_the_same(people):
    rel = invite(people)
    code = rel.invitation_code
    messages = set()
    for attempt in ("nope", "", code + "x", 42):
        with pytest.raises(ValidationError) as exc:
            services.relationship_accept(organization=people["insurer"], code=attempt, acting_user=people["ins_admin"])
        messages.add(str(exc.value.message_dict["code"]))
    # The processor cannot accept its own invitation.
    with pytest.raises(ValidationError) as exc:
        services.relationship_accept(organization=people["operator"], code=code, acting_user=people["op_admin"])
    messages.add(str(exc.value.message_dict["code"]))
    # Only an admin of the accepting organisation.
    with pytest.raises(PermissionDenied):
        services.relationship_accept(organization=people["insurer"], code=code, acting_user=people["ins_dpo"])
    accepted = services.relationship_accept(organization=people["insurer"], code=code, acting_user=people["ins_admin"])
    assert accepted.controller == people["insurer"] and accepted.is_active
    assert accepted.controller_accepted_by == people["ins_admin"]
    with pytest.raises(ValidationError) as exc:
        services.relationship_accept(organization=people["stranger"], code=code, acting_user=people["str_admin"])
    messages.add(str(exc.value.message_dict["code"]))
    assert len(messages) == 1
    assert ProcessingRelationship.objects.get(pk=rel.pk).controller == people["insurer"]


def test_an_expired_code_is_refused_like_a_wrong_one(people, monkeypatch):
    rel = invite(people)
    from cases.services import relationships

    monkeypatch.setattr(relationships, "now", lambda: now() + timedelta(days=15))
    with pytest.raises(ValidationError) as exc:
        services.relationship_accept(
            organization=people["insurer"], code=rel.invitation_code, acting_user=people["ins_admin"]
        )
    assert "code" in exc.value.message_dict


def test_a_new_code_replaces_the_old_one(people):
    rel = invite(people)
    new = services.relationship_invite(rel, acting_user=people["op_admin"])
    with pytest.raises(ValidationError):
        services.relationship_accept(
            organization=people["insurer"], code=rel.invitation_code, acting_user=people["ins_admin"]
        )
    assert services.relationship_accept(
        organization=people["insurer"], code=new, acting_user=people["ins_admin"]
    ).is_active


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("controller_siren", "12345678"),
        ("controller_siren", "12345678A"),
        ("controller_name", "  "),
        ("contacts", [{"name": "A", "email": "not-an-email", "role": "DPO"}]),
        ("contacts", "a@b.fr"),
        ("contacts", [{"name": "A", "email": "a@b.fr", "role": "DPO", "extra": 1}]),
        ("notice_period_hours", 0),
        ("notice_period_hours", "48"),
        ("notice_period_hours", 10**9),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_saved(people, field, value):
    data = {"controller_name": "Externe", field: value}
    with pytest.raises(ValidationError) as exc:
        services.relationship_create(processor=people["operator"], acting_user=people["op_admin"], **data)
    assert field in exc.value.message_dict
    assert not ProcessingRelationship.objects.exists()


def test_a_siren_is_unique_per_processor(people):
    external(people)
    with pytest.raises(ValidationError) as exc:
        external(people, controller_name="Autre nom")
    assert "controller_siren" in exc.value.message_dict
    assert ProcessingRelationship.objects.count() == 1


def test_either_side_ends_a_relationship_with_a_reason_and_it_cannot_be_picked_after(people, processor_case):
    rel = linked(people)
    with pytest.raises(PermissionDenied):
        services.relationship_end(rel, reason="x", acting_user=people["str_admin"])
    with pytest.raises(PermissionDenied):
        services.relationship_end(rel, reason="x", acting_user=people["ins_dpo"])
    with pytest.raises(ValidationError) as exc:
        services.relationship_end(rel, reason=" ", acting_user=people["ins_admin"])
    assert "reason" in exc.value.message_dict
    ended = services.relationship_end(rel, reason="Contrat résilié", acting_user=people["ins_admin"])
    assert ended.status == ProcessingRelationship.Status.ENDED and ended.ended_by == people["ins_admin"]
    assert ProcessingRelationship.objects.filter(pk=rel.pk).exists()
    with pytest.raises(ValidationError):
        services.controller_add(processor_case, relationship=ended, acting_user=people["op_dpo"])


def test_a_processor_cannot_pick_another_processors_relationship(people, processor_case, make_org, make_user):
    other = make_org(name="Autre Opérateur", code="autop", kind=Organization.Kind.PROCESSOR)
    other_admin = make_user(other, Membership.Role.ADMIN)
    theirs = services.relationship_create(processor=other, controller_name="Leur client", acting_user=other_admin)
    with pytest.raises(ValidationError) as exc:
        services.controller_add(processor_case, relationship=theirs, acting_user=people["op_dpo"])
    assert "relationship" in exc.value.message_dict
    assert not ControllerNotice.objects.exists()


# --- the inbox --------------------------------------------------------------------------------------


@pytest.fixture
def received(people, processor_case):
    rel = linked(people, notice_period_hours=48)
    notice = services.controller_add(processor_case, relationship=rel, acting_user=people["op_dpo"])
    services.controller_inform(notice, informed_at=AWARE + timedelta(hours=3), acting_user=people["op_dpo"])
    return ReceivedNotice.objects.get(notice=notice)


def test_informing_an_on_platform_controller_opens_nothing_in_its_register(people, received):
    assert received.controller == people["insurer"] and received.decision == "received"
    assert not BreachCase.objects.filter(organization=people["insurer"]).exists()
    assert received.notice.notice_period_hours == 48


def test_only_the_controllers_own_write_members_decide(people, received):
    for user in (people["op_dpo"], people["op_admin"], people["str_dpo"], people["ins_auditor"], people["ins_legal"]):
        with pytest.raises(PermissionDenied):
            services.received_dismiss(received, reason="pas nous", acting_user=user)
        with pytest.raises(PermissionDenied):
            services.received_open_case(received, aware_at=received.received_at, acting_user=user)
    received.refresh_from_db()
    assert received.decision == "received" and received.version == 1


def test_opening_a_case_from_a_notice_starts_the_clock_from_the_chosen_awareness(people, received):
    later = received.received_at + timedelta(minutes=1)
    with pytest.raises(ValidationError) as exc:
        services.received_open_case(received, aware_at=later, acting_user=people["ins_dpo"])
    assert "aware_justification" in exc.value.message_dict
    assert not BreachCase.objects.filter(organization=people["insurer"]).exists()

    case = services.received_open_case(received, aware_at=received.received_at, acting_user=people["ins_dpo"])
    assert case.organization == people["insurer"] and case.aware_at == received.received_at
    assert case.processor == people["operator"] and case.source_notice_id == received.notice_id
    assert case.data_categories == ["nir"]
    assert case.obligations.get(rule_code="GDPR_33_1").due_at == received.received_at + timedelta(hours=72)
    received.refresh_from_db()
    assert (received.decision, received.case, received.decided_by) == ("opened", case, people["ins_dpo"])
    with pytest.raises(ValidationError):
        services.received_dismiss(received, reason="x", acting_user=people["ins_dpo"])


def test_a_justified_awareness_time_is_kept(people, received):
    later = received.received_at + timedelta(minutes=1)
    case = services.received_open_case(
        received, aware_at=later, aware_justification="Lu le lendemain matin.", acting_user=people["ins_admin"]
    )
    assert case.aware_at == later and case.aware_justification == "Lu le lendemain matin."


def test_a_notice_attaches_only_to_the_controllers_own_case(people, received, processor_case):
    stranger_case = services.case_open(
        organization=people["stranger"],
        title="Autre",
        first_signal_at=AWARE,
        aware_at=AWARE,
        aware_justification="x",
        acting_user=people["str_dpo"],
    )
    for case in (stranger_case, processor_case, None):
        with pytest.raises(ValidationError) as exc:
            services.received_attach(received, case=case, acting_user=people["ins_dpo"])
        assert "case" in exc.value.message_dict
    own = services.case_open(
        organization=people["insurer"],
        title="Déjà ouvert",
        first_signal_at=AWARE,
        aware_at=AWARE,
        aware_justification="x",
        acting_user=people["ins_dpo"],
    )
    services.received_attach(received, case=own, acting_user=people["ins_dpo"])
    received.refresh_from_db()
    assert received.decision == "attached" and received.case == own


def test_not_concerned_needs_a_reason_and_a_stale_version_is_refused(people, received):
    with pytest.raises(ValidationError) as exc:
        services.received_dismiss(received, reason="", acting_user=people["ins_dpo"])
    assert "reason" in exc.value.message_dict
    from cases.services.common import StaleVersionError

    with pytest.raises(StaleVersionError):
        services.received_dismiss(received, reason="x", expected_version=7, acting_user=people["ins_dpo"])
    services.received_dismiss(received, reason="Pas nos assurés.", expected_version=1, acting_user=people["ins_dpo"])
    received.refresh_from_db()
    assert received.decision == "not_concerned" and received.decision_reason == "Pas nos assurés."
    assert not BreachCase.objects.filter(organization=people["insurer"]).exists()


def test_decisions_and_relationships_leave_a_verified_history(people, received):
    from cases.history import verify_chain

    services.received_dismiss(received, reason="Pas nous.", acting_user=people["ins_dpo"])
    result = verify_chain(f"rel:{received.relationship_id}")
    assert result.ok and result.rows >= 4  # created, accepted, delivered, decided


def test_all_active_controllers_are_listed_in_one_action_with_their_contract_periods(
    people, processor_case, make_org, make_user, django_assert_max_num_queries
):
    for n in range(80):
        external(
            people,
            controller_name=f"Assureur {n:02d}",
            controller_siren=f"{200000000 + n}",
            notice_period_hours=24 + n % 2 * 24,
        )
    linked(people)
    pending = invite(people, controller_name="En attente")
    ended = external(people, controller_name="Fini", controller_siren="300000000")
    services.relationship_end(ended, reason="Contrat terminé", acting_user=people["op_admin"])
    other = make_org(name="Autre opérateur", code="autop", kind=Organization.Kind.PROCESSOR)
    services.relationship_create(
        processor=other, controller_name="Leur client", acting_user=make_user(other, Membership.Role.ADMIN)
    )
    # A constant per controller (its notice, its obligation and their history, the case list's stored field).
    with django_assert_max_num_queries(40 + 14 * 81):
        notices = services.controller_add_all(processor_case, acting_user=people["op_dpo"])
    assert len(notices) == 81
    names = set(processor_case.controller_notices.values_list("controller_name", flat=True))
    assert "En attente" not in names and "Fini" not in names and "Leur client" not in names
    assert pending.pk not in processor_case.controller_notices.values_list("relationship_id", flat=True)
    first = processor_case.controller_notices.get(controller_name="Assureur 01")
    assert first.obligation.due_at == AWARE + timedelta(hours=48)
    assert services.controller_add_all(processor_case, acting_user=people["op_dpo"]) == []  # nothing twice
    with pytest.raises(PermissionDenied):
        services.controller_add_all(processor_case, acting_user=people["str_dpo"])
