"""A processor's controllers to inform (Art. 33(2)) and the notices sent to them."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from .. import deadlines
from ..models import (
    BreachCase,
    ControllerNotice,
    Obligation,
    Organization,
)
from ..permissions import WRITE_ROLES, require_role
from .cases import save_new_case
from .common import (
    check_aware,
    check_not_future,
    check_version,
    lock_child,
    lock_open_case,
    raise_errors,
    save,
    service,
)
from .obligations import complete_locked, sync_obligations


@service
def controller_add(
    case: BreachCase, *, controller: Organization, acting_user, notice_period_hours: int | None = None
) -> ControllerNotice:
    """List a controller the processor must inform; its notice clock runs from the processor's awareness."""
    require_role(acting_user, case.organization, WRITE_ROLES)
    case = lock_open_case(case)
    errors: dict = {}
    if not case.organization.is_processor:
        errors["controller"] = [_("Only a processor's case lists controllers to inform.")]
    if controller.pk == case.organization_id:
        errors["controller"] = [_("An organisation does not inform itself.")]
    elif case.controller_notices.filter(controller=controller).exists():
        errors["controller"] = [_("This controller is already listed.")]
    if notice_period_hours is not None and (
        not isinstance(notice_period_hours, int) or isinstance(notice_period_hours, bool) or notice_period_hours <= 0
    ):
        errors["notice_period_hours"] = [_("The notice period is a positive number of hours.")]
    raise_errors(errors)
    notice = ControllerNotice(case=case, controller=controller, notice_period_hours=notice_period_hours)
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
    """Record that the processor informed a controller; this opens the controller's own case and clocks."""
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
    notice.informed_at = informed_at
    notice.channel = (channel or "").strip()
    notice.reference = (reference or "").strip()
    notice.informed_by = acting_user
    save(notice, acting_user=acting_user, reason=_("Controller informed."))
    ob = Obligation.objects.select_for_update().filter(controller_notice=notice).first()
    if ob is not None and ob.state == Obligation.State.PENDING:
        ob.case = case
        complete_locked(
            ob, completed_at=informed_at, reference=reference, late_reason=late_reason, acting_user=acting_user
        )
    _open_controller_case(notice, acting_user=acting_user)
    return notice


def _open_controller_case(notice: ControllerNotice, *, acting_user) -> BreachCase:
    """The controller becomes aware when its processor informs it (EDPB Guidelines 9/2022)."""
    processor_case = notice.case
    controller = notice.controller
    justification = _(
        "Informed by our processor %(processor)s on %(when)s of a personal-data breach in its services "
        "(Art. 33(2) GDPR): the controller is aware from this notice."
    ) % {
        "processor": processor_case.organization.name,
        "when": timezone.localtime(notice.informed_at, deadlines.PARIS).strftime("%d/%m/%Y %H:%M"),
    }
    case = BreachCase(
        organization=controller,
        title=_("Breach at processor %(processor)s: %(title)s")
        % {"processor": processor_case.organization.name, "title": processor_case.title},
        first_signal_at=notice.informed_at,
        first_signal_source=_("Notice from the processor (Art. 33(2))."),
        aware_at=notice.informed_at,
        aware_justification=justification,
        processor=processor_case.organization,
        processor_alerted_at=notice.informed_at,
        source_notice=notice,
        nature=processor_case.nature,
        origin=processor_case.origin,
        cause=processor_case.cause,
        breach_confidentiality=processor_case.breach_confidentiality,
        breach_integrity=processor_case.breach_integrity,
        breach_availability=processor_case.breach_availability,
        data_categories=list(processor_case.data_categories or []),
        subject_categories=list(processor_case.subject_categories or []),
        description=processor_case.description,
        created_by=acting_user,
    )
    save_new_case(case, acting_user=acting_user, reason=_("Opened by the processor's notice."))
    sync_obligations(case, acting_user=acting_user, reason=_("Opened by the processor's notice."))
    return case
