"""A processor's controllers to inform (Art. 33(2)), the notices sent to them, and what a controller decides.

A processor lists only controllers of its own active relationships. Informing one records when,
how, to whom and under which reference, in the processor's register. For a controller on the
platform whose relationship both sides accepted, the notice also lands in the controller's inbox as
received: no case is opened for it and no clock starts until one of its own members decides (open
its own case, attach the notice to one of its cases, or record why it does not concern it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext

from webhooks import events as webhook_events

from .. import deadlines
from ..dossier.notice import build_notice
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
    discard_if_rolled_back,
    lock_child,
    lock_open_case,
    now,
    paris_time,
    raise_errors,
    save,
    save_many,
    service,
)
from .obligations import Source, complete_locked, sync_obligations
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
    ob = Obligation.objects.select_for_update().filter(controller_notice=notice).first()
    document = _record_informed(
        notice,
        case,
        relationship,
        informed_at=informed_at,
        channel=channel,
        reference=reference,
        due_at=ob.due_at if ob else None,
        acting_user=acting_user,
    )
    save(notice, acting_user=acting_user, reason=_("Controller informed."))
    if ob is not None and ob.state == Obligation.State.PENDING:
        ob.case = case
        complete_locked(
            ob,
            completed_at=informed_at,
            reference=reference,
            late_reason=late_reason,
            acting_user=acting_user,
            source=Source.CONTROLLER_NOTICE,
        )
    if _delivered_to(relationship):
        received = _received(notice, case, relationship, document)
        save(received, acting_user=acting_user, reason=str(DELIVERED))
        webhook_events.notice_received(received)
    return notice


DELIVERED = _lazy("Notice delivered to the controller's inbox.")


def _delivered_to(relationship: ProcessingRelationship | None) -> bool:
    return relationship is not None and relationship.is_active and relationship.controller_id is not None


def _record_informed(
    notice: ControllerNotice,
    case: BreachCase,
    relationship: ProcessingRelationship | None,
    *,
    informed_at: datetime,
    channel: str,
    reference: str,
    due_at: datetime | None,
    acting_user,
):
    """Set what the notice records (when, how, to whom) and the exact notice sent: the PDF, stored, and its hash."""
    notice.informed_at = informed_at
    notice.channel = (channel or "").strip() if isinstance(channel, str) else ""
    notice.reference = (reference or "").strip() if isinstance(reference, str) else ""
    notice.recipients = list(relationship.contacts) if relationship is not None else []
    notice.informed_by = acting_user
    document = build_notice(
        case,
        recipient={
            "name": notice.controller_name,
            "siren": relationship.controller_siren if relationship else "",
            "contacts": notice.recipients,
            "contract": relationship.contract_reference if relationship else "",
            "period_hours": notice.notice_period_hours,
            "channel": notice.channel,
        },
        informed_at=informed_at,
        due_at=due_at,
    )
    notice.notice_sha256 = document.sha256
    # The stored name is ours (hash and time), never the controller's name.
    notice.notice_pdf.save(f"{document.sha256[:16]}-{now():%Y%m%d%H%M%S%f}.pdf", ContentFile(document.pdf), save=False)
    discard_if_rolled_back(notice.notice_pdf)
    return document


def _received(notice: ControllerNotice, case: BreachCase, relationship: ProcessingRelationship, document):
    """The notice as the controller receives it: the same content as sent, its PDF's hash, no clock."""
    return ReceivedNotice(
        notice=notice,
        relationship=relationship,
        controller_id=relationship.controller_id,
        processor_name=case.organization.name,
        subject=case.title,
        content=document.text,
        pdf_sha256=document.sha256,
        facts={name: getattr(case, name) for name in FACT_FIELDS},
        received_at=now(),
    )


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


@dataclass(frozen=True)
class InformResult:
    informed: list[ControllerNotice]
    skipped: list[ControllerNotice]  # already informed before: left as they were


INFORMED_FIELDS = (
    "informed_at",
    "channel",
    "reference",
    "recipients",
    "informed_by",
    "notice_pdf",
    "notice_sha256",
)
COMPLETED_FIELDS = ("state", "completed_at", "completed_by", "reference", "late_reason")
LATE_NAMES_SHOWN = 5


@service
def controllers_inform_many(
    case: BreachCase,
    *,
    notice_ids,
    informed_at: datetime,
    acting_user,
    channel: str = "",
    reference: str = "",
    late_reason: str = "",
) -> InformResult:
    """Inform, in one action, the chosen controllers of a processor's case (Art. 33(2)), in a bounded number of queries.

    `notice_ids` are ids of this case's controller notices: any other id (another case's, another
    organisation's) refuses the whole action, nothing written. Those already informed are skipped
    and reported; each of the others records when, how, to whom and the notice sent (its own PDF,
    stored with its SHA-256), completes its per-contract obligation (the reasons for the delay are
    required if any is informed after its due date) and, for a controller on the platform, lands
    in its inbox as received. Every record keeps its own history row.
    """
    require_role(acting_user, case.organization, WRITE_ROLES)
    case = lock_open_case(case)
    errors: dict = {}
    if (
        not isinstance(notice_ids, list | tuple | set | frozenset)
        or not notice_ids
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in notice_ids)
    ):
        raise ValidationError({"notices": [_("Choose at least one controller to inform.")]})
    wanted = set(notice_ids)
    notices = list(
        ControllerNotice.objects.select_for_update()
        .filter(case_id=case.pk, pk__in=wanted)
        .order_by("controller_name", "pk")
    )
    if len(notices) != len(wanted):
        raise ValidationError(
            {
                "notices": [
                    _(
                        "Some of the chosen controllers are not among this case's controllers to inform: "
                        "nothing was recorded."
                    )
                ]
            }
        )
    check_aware(errors, "informed_at", informed_at)
    if informed_at is None:
        errors["informed_at"] = [_("This field is required.")]
    raise_errors(errors)
    check_not_future(errors, "informed_at", informed_at)
    if informed_at < case.first_signal_at:
        errors["informed_at"] = [_("The notice cannot precede the case's first signal.")]
    for field, value in (("channel", channel), ("reference", reference), ("late_reason", late_reason)):
        if not isinstance(value, str):
            errors[field] = [_("Enter a valid value.")]
    raise_errors(errors)
    skipped = [n for n in notices if n.informed_at is not None]
    todo = [n for n in notices if n.informed_at is None]
    if not todo:
        raise ValidationError({"notices": [_("All the chosen controllers were already informed: nothing to record.")]})
    relationships = {
        r.pk: r
        for r in ProcessingRelationship.objects.filter(pk__in={n.relationship_id for n in todo if n.relationship_id})
    }
    obligations = {
        o.controller_notice_id: o
        for o in Obligation.objects.select_for_update().filter(
            case_id=case.pk, controller_notice_id__in=[n.pk for n in todo], state=Obligation.State.PENDING
        )
    }
    late = [
        n
        for n in todo
        if n.pk in obligations and deadlines.is_late(due_at=obligations[n.pk].due_at, completed_at=informed_at)
    ]
    if late and not late_reason.strip():
        names = ", ".join(n.controller_name for n in late[:LATE_NAMES_SHOWN]) + (
            "…" if len(late) > LATE_NAMES_SHOWN else ""
        )
        raise ValidationError(
            {
                "late_reason": [
                    ngettext(
                        "%(n)s controller is informed after its due date (%(names)s): the reasons for the delay "
                        "are required.",
                        "%(n)s controllers are informed after their due date (%(names)s): the reasons for the "
                        "delay are required.",
                        len(late),
                    )
                    % {"n": len(late), "names": names}
                ]
            }
        )
    received = []
    for notice in todo:
        relationship = relationships.get(notice.relationship_id)
        ob = obligations.get(notice.pk)
        document = _record_informed(
            notice,
            case,
            relationship,
            informed_at=informed_at,
            channel=channel,
            reference=reference,
            due_at=ob.due_at if ob else None,
            acting_user=acting_user,
        )
        if _delivered_to(relationship):
            received.append(_received(notice, case, relationship, document))
    save_many(todo, acting_user=acting_user, reason=_("Controller informed."), fields=INFORMED_FIELDS)
    late_ids = {n.pk for n in late}
    completed = []
    for notice in todo:
        ob = obligations.get(notice.pk)
        if ob is None:
            continue
        ob.case = case
        ob.state = Obligation.State.DONE
        ob.completed_at, ob.completed_by = informed_at, acting_user
        ob.reference = notice.reference
        ob.late_reason = late_reason.strip() if notice.pk in late_ids else ""
        completed.append(ob)
    save_many(completed, acting_user=acting_user, reason=_("Obligation completed."), fields=COMPLETED_FIELDS)
    if completed:
        for name, value in BreachCase.store_list_fields(case.pk).items():
            setattr(case, name, value)
    save_many(received, acting_user=acting_user, reason=str(DELIVERED), key="notice_id")
    webhook_events.obligations_completed(completed)
    webhook_events.notices_received(received)
    return InformResult(informed=todo, skipped=skipped)
