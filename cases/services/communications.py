"""Communications to the affected persons (Art. 34), or the exemption relied on."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from ..models import (
    BreachCase,
    Evidence,
    MemberCommunication,
    Obligation,
)
from ..permissions import WRITE_ROLES, require_role
from .common import blank, check_aware, check_not_future, lock_open_case, raise_errors, save, service
from .obligations import Source, complete_locked, mark_not_applicable_locked


@service
def member_communication_record(
    case: BreachCase,
    *,
    channel: str,
    acting_user,
    sent_at: datetime | None = None,
    recipients_count: int = 0,
    text: str = "",
    exemption: str = "",
    exemption_reason: str = "",
    evidence: Evidence | None = None,
    late_reason: str = "",
) -> MemberCommunication:
    """Record a communication to the persons (Art. 34(2) text) or the exemption relied on.

    A communication sent completes the case's pending Art. 34 obligation; an exemption
    relied on instead marks it not applicable, with the ground and its reasoning.

    It never contradicts the Art. 34 decision on record: a communication sent while the decision
    says the persons are not informed, or an exemption relied on while it says they are, is
    refused (record the new decision first: who decided, when and why stays in the register,
    e.g. an Art. 34(4) order of the authority). An undecided case may record either; the
    decision taken later must then agree with it (`decision_inform_persons`).
    """
    require_role(acting_user, case.organization, WRITE_ROLES)
    case = lock_open_case(case)
    errors: dict = {}
    if channel not in MemberCommunication.Channel.values:
        errors["channel"] = [_("Choose a channel from the list.")]
    if exemption and exemption not in BreachCase.Art34Exemption.values:
        errors["exemption"] = [_("Choose an Art. 34(3) ground from the list.")]
    if channel == MemberCommunication.Channel.NONE:
        if not exemption:
            errors["exemption"] = [_("Without a communication, name the Art. 34(3) ground relied on.")]
        if blank(exemption_reason):
            errors["exemption_reason"] = [_("Explain why the exemption applies.")]
        if sent_at is not None:
            errors["sent_at"] = [_("Nothing was sent: leave the date empty.")]
    else:
        if sent_at is None:
            errors["sent_at"] = [_("When was it sent?")]
        if blank(text):
            errors["text"] = [_("Keep the text sent: Art. 34(2) requires its content to be shown.")]
        if not isinstance(recipients_count, int) or isinstance(recipients_count, bool) or recipients_count < 0:
            errors["recipients_count"] = [_("Enter the number of recipients.")]
    if evidence is not None and evidence.case_id != case.pk:
        errors["evidence"] = [_("This evidence belongs to another case.")]
    if channel == MemberCommunication.Channel.NONE and case.inform_persons is True:
        errors["channel"] = [
            _(
                "The decision on record is to inform the persons: an exemption contradicts it. "
                "Record the new decision (with its Art. 34(3) ground) instead."
            )
        ]
    elif channel in set(MemberCommunication.Channel.values) - {"none"} and case.inform_persons is False:
        errors["channel"] = [
            _(
                "The decision on record is not to inform the persons (%(reason)s): record the new decision "
                "first (for instance the authority's order, Art. 34(4)), then the communication."
            )
            % {"reason": case.inform_persons_reason}
        ]
    check_aware(errors, "sent_at", sent_at)
    raise_errors(errors)
    check_not_future(errors, "sent_at", sent_at)
    if sent_at is not None and sent_at < case.first_signal_at:
        errors["sent_at"] = [_("A communication cannot precede the case's first signal.")]
    raise_errors(errors)
    communication = MemberCommunication(
        case=case,
        channel=channel,
        sent_at=sent_at,
        recipients_count=recipients_count or 0,
        text=text,
        exemption=exemption,
        exemption_reason=(exemption_reason or "").strip(),
        evidence=evidence,
        created_by=acting_user,
    )
    ob = (
        Obligation.objects.select_for_update()
        .filter(case=case, rule_code="GDPR_34", state=Obligation.State.PENDING)
        .first()
    )
    if ob is not None:
        ob.case = case
    if ob is not None and channel == MemberCommunication.Channel.NONE:
        ground = BreachCase.Art34Exemption(exemption).label
        mark_not_applicable_locked(ob, reason=f"{ground}: {communication.exemption_reason}", acting_user=acting_user)
    elif ob is not None:
        complete_locked(
            ob,
            completed_at=sent_at,
            reference="",
            late_reason=late_reason,
            acting_user=acting_user,
            source=Source.COMMUNICATION,
        )
    save(communication, acting_user=acting_user, reason=_("Communication to persons recorded."))
    return communication
