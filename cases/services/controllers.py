"""A processor's controllers to inform (Art. 33(2)), the notices sent to them, and what a controller decides.

A processor lists only controllers of its own active relationships. Informing one records when,
how, to whom and under which reference, in the processor's register. For a controller on the
platform whose relationship both sides accepted, the notice also lands in the controller's inbox as
received: no case is opened for it and no clock starts until one of its own members decides (open
its own case, attach the notice to one of its cases, or record why it does not concern it).
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from webhooks import events as webhook_events

from ..models import (
    BreachCase,
    ControllerNotice,
    Obligation,
    ProcessingRelationship,
    ReceivedNotice,
)
from ..permissions import WRITE_ROLES, require_role
from .cases import _validate_clocks, save_new_case
from .common import (
    blank,
    check_aware,
    check_not_future,
    check_version,
    lock_child,
    lock_open_case,
    now,
    paris_time,
    raise_errors,
    save,
    service,
)
from .obligations import complete_locked, sync_obligations
from .relationships import check_notice_period

FACT_FIELDS = (
    "nature",
    "origin",
    "cause",
    "breach_confidentiality",
    "breach_integrity",
    "breach_availability",
    "data_categories",
    "subject_categories",
)


@service
def controller_add(
    case: BreachCase,
    *,
    relationship: ProcessingRelationship,
    acting_user,
    notice_period_hours: int | None = None,
) -> ControllerNotice:
    """List a controller of one of the processor's own active relationships; its clock runs from the
    processor's awareness, with the contract's notice period unless another is given."""
    require_role(acting_user, case.organization, WRITE_ROLES)
    case = lock_open_case(case)
    errors: dict = {}
    if not case.organization.is_processor:
        errors["relationship"] = [_("Only a processor's case lists controllers to inform.")]
    elif (
        not isinstance(relationship, ProcessingRelationship)
        or relationship.processor_id != case.organization_id
        or not relationship.is_active
    ):
        errors["relationship"] = [_("Choose a controller from your organisation's active relationships.")]
    elif case.controller_notices.filter(relationship=relationship).exists():
        errors["relationship"] = [_("This controller is already listed.")]
    check_notice_period(errors, notice_period_hours)
    raise_errors(errors)
    if notice_period_hours is None:
        notice_period_hours = relationship.notice_period_hours
    notice = ControllerNotice(
        case=case,
        relationship=relationship,
        controller=relationship.controller,
        controller_name=relationship.controller_name,
        notice_period_hours=notice_period_hours,
    )
    save(notice, acting_user=acting_user, reason=_("Controller to inform listed."))
    sync_obligations(case, acting_user=acting_user, reason=_("Controller to inform listed."))
    return notice


@service
def controller_inform(
    notice: ControllerNotice,
    *,
    informed_at: datetime,
    acting_user,
    channel: str = "",
    reference: str = "",
    late_reason: str = "",
    expected_version: int | None = None,
) -> ControllerNotice:
    """Record that the processor informed a controller: when, how, to whom (the contract's contacts), reference.

    Nothing is written in the controller's register: an on-platform controller only receives the
    notice in its inbox, and its own members decide what to do with it.
    """
    require_role(acting_user, notice.case.organization, WRITE_ROLES)
    case = lock_open_case(notice.case_id)
    notice = lock_child(ControllerNotice, case, notice.pk)
    check_version(notice, expected_version)
    errors: dict = {}
    check_aware(errors, "informed_at", informed_at)
    raise_errors(errors)
    if notice.informed_at is not None:
        errors["informed_at"] = [_("This controller was already informed.")]
    check_not_future(errors, "informed_at", informed_at)
    if informed_at < case.first_signal_at:
        errors["informed_at"] = [_("The notice cannot precede the case's first signal.")]
    raise_errors(errors)
    relationship = (
        ProcessingRelationship.objects.filter(pk=notice.relationship_id).first() if notice.relationship_id else None
    )
    notice.informed_at = informed_at
    notice.channel = (channel or "").strip()
    notice.reference = (reference or "").strip()
    notice.recipients = list(relationship.contacts) if relationship is not None else []
    notice.informed_by = acting_user
    save(notice, acting_user=acting_user, reason=_("Controller informed."))
    ob = Obligation.objects.select_for_update().filter(controller_notice=notice).first()
    if ob is not None and ob.state == Obligation.State.PENDING:
        ob.case = case
        complete_locked(
            ob, completed_at=informed_at, reference=reference, late_reason=late_reason, acting_user=acting_user
        )
    if relationship is not None and relationship.is_active and relationship.controller_id is not None:
        _deliver(notice, case, relationship, acting_user=acting_user)
    return notice


def _deliver(notice: ControllerNotice, case: BreachCase, relationship: ProcessingRelationship, *, acting_user):
    """The notice as the controller receives it: a snapshot of what the processor sent, no clock."""
    received = ReceivedNotice(
        notice=notice,
        relationship=relationship,
        controller_id=relationship.controller_id,
        processor_name=case.organization.name,
        subject=case.title,
        content=case.description,
        facts={name: getattr(case, name) for name in FACT_FIELDS},
        received_at=now(),
    )
    save(received, acting_user=acting_user, reason=_("Notice delivered to the controller's inbox."))
    webhook_events.notice_received(received)
    return received


def _lock_received(received: ReceivedNotice, expected_version: int | None) -> ReceivedNotice:
    locked = ReceivedNotice.objects.select_for_update().get(pk=received.pk)
    check_version(locked, expected_version)
    if locked.decision != ReceivedNotice.Decision.RECEIVED:
        raise ValidationError(_("A decision was already recorded for this notice."))
    return locked


def _decide(received: ReceivedNotice, decision: str, *, acting_user, reason: str, case=None) -> None:
    received.decision = decision
    received.decided_at = now()
    received.decided_by = acting_user
    received.decision_reason = (reason or "").strip()
    received.case = case
    save(received, acting_user=acting_user, reason=str(ReceivedNotice.Decision(decision).label))


@service
def received_open_case(
    received: ReceivedNotice,
    *,
    aware_at: datetime,
    acting_user,
    aware_justification: str = "",
    title: str = "",
    expected_version: int | None = None,
) -> BreachCase:
    """The controller opens its own case from a received notice (EDPB Guidelines 9/2022).

    Awareness defaults to the reception time; another time needs its justification. The clocks of
    the new case start from the awareness the controller chose.
    """
    require_role(acting_user, received.controller, WRITE_ROLES)
    received = _lock_received(received, expected_version)
    errors: dict = {}
    check_aware(errors, "aware_at", aware_at)
    if aware_at is None:
        errors["aware_at"] = [_("This field is required.")]
    raise_errors(errors)
    justification = (aware_justification or "").strip() if isinstance(aware_justification, str) else ""
    if aware_at != received.received_at and not justification:
        errors["aware_justification"] = [
            _("Explain why the organisation became aware at another time than the reception of the notice.")
        ]
    first_signal_at = min(aware_at, received.received_at)
    _validate_clocks(errors, first_signal_at, aware_at)
    if title is not None and not isinstance(title, str):
        errors["title"] = [_("Give the case a title.")]
    raise_errors(errors)
    received_text = _(
        "Informed by our processor %(processor)s on %(when)s of a personal-data breach in its services "
        "(Art. 33(2) GDPR)."
    ) % {"processor": received.processor_name, "when": paris_time(received.received_at)}
    facts = {k: v for k, v in (received.facts or {}).items() if k in FACT_FIELDS}
    case = BreachCase(
        organization=received.controller,
        title=(title or "").strip()
        or _("Breach at processor %(processor)s: %(title)s")
        % {"processor": received.processor_name, "title": received.subject},
        first_signal_at=first_signal_at,
        first_signal_source=_("Notice from the processor (Art. 33(2))."),
        aware_at=aware_at,
        aware_justification=justification or received_text,
        processor=received.relationship.processor,
        processor_alerted_at=received.received_at,
        source_notice_id=received.notice_id,
        description=received.content,
        created_by=acting_user,
        **facts,
    )
    save_new_case(case, acting_user=acting_user, reason=_("Opened from the processor's notice."))
    sync_obligations(case, acting_user=acting_user, reason=_("Opened from the processor's notice."))
    _decide(received, ReceivedNotice.Decision.OPENED, acting_user=acting_user, reason=justification, case=case)
    return case


@service
def received_attach(
    received: ReceivedNotice,
    *,
    case: BreachCase,
    acting_user,
    reason: str = "",
    expected_version: int | None = None,
) -> ReceivedNotice:
    """The controller attaches a received notice to one of its own open cases."""
    require_role(acting_user, received.controller, WRITE_ROLES)
    if not isinstance(case, BreachCase) or case.organization_id != received.controller_id:
        raise ValidationError({"case": [_("Choose one of your organisation's cases.")]})
    case = lock_open_case(case)
    received = _lock_received(received, expected_version)
    _decide(received, ReceivedNotice.Decision.ATTACHED, acting_user=acting_user, reason=reason, case=case)
    return received


@service
def received_dismiss(
    received: ReceivedNotice, *, reason: str, acting_user, expected_version: int | None = None
) -> ReceivedNotice:
    """The controller records why a received notice does not concern it (the reason is required)."""
    require_role(acting_user, received.controller, WRITE_ROLES)
    received = _lock_received(received, expected_version)
    if not isinstance(reason, str) or blank(reason):
        raise ValidationError({"reason": [_("Explain why this notice does not concern your organisation.")]})
    _decide(received, ReceivedNotice.Decision.NOT_CONCERNED, acting_user=acting_user, reason=reason)
    return received


@service
def controller_add_all(case: BreachCase, *, acting_user) -> list[ControllerNotice]:
    """List, in one action, every active relationship of the processor not yet listed on the case
    (the cascade of an incident that reaches all its clients); each keeps its contract's period."""
    require_role(acting_user, case.organization, WRITE_ROLES)
    case = lock_open_case(case)
    if not case.organization.is_processor:
        raise ValidationError({"relationship": [_("Only a processor's case lists controllers to inform.")]})
    listed = case.controller_notices.filter(relationship__isnull=False).values("relationship_id")
    relationships = [
        r
        for r in ProcessingRelationship.objects.filter(processor_id=case.organization_id, ended_at__isnull=True)
        .exclude(pk__in=listed)
        .order_by("controller_name", "pk")
        if r.is_active
    ]
    notices = []
    for relationship in relationships:
        notice = ControllerNotice(
            case=case,
            relationship=relationship,
            controller_id=relationship.controller_id,
            controller_name=relationship.controller_name,
            notice_period_hours=relationship.notice_period_hours,
        )
        save(notice, acting_user=acting_user, reason=_("Controller to inform listed."))
        notices.append(notice)
    if notices:
        sync_obligations(case, acting_user=acting_user, reason=_("Controllers to inform listed."))
    return notices
