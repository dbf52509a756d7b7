"""Filings: what was actually sent to an authority; naming its obligation completes it."""

from __future__ import annotations

from datetime import datetime

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from webhooks import events as webhook_events

from ..models import (
    BreachCase,
    Evidence,
    Filing,
    Obligation,
)
from ..permissions import WRITE_ROLES, require_role
from .common import check_aware, check_not_future, lock_child, lock_open_case, raise_errors, save, service
from .evidence import evidence_add
from .obligations import Source, complete_locked, record_update_locked

# Filings that tell the supervisory authority (Art. 33): they contradict a decision not to notify it.
AUTHORITY_KINDS = frozenset({Filing.Kind.CNIL_INITIAL, Filing.Kind.CNIL_COMPLEMENTARY})


def filing_kind_for(rule_code: str) -> str:
    """The kind of filing that fulfils a rule's obligation (the filing form's default, the migration's inference)."""
    exact = {"GDPR_33_1": Filing.Kind.CNIL_INITIAL, "GDPR_33_4": Filing.Kind.CNIL_COMPLEMENTARY}
    if rule_code in exact:
        return exact[rule_code].value
    for prefix, kind in (
        ("NIS2_", Filing.Kind.NIS2),
        ("NIS1_", Filing.Kind.ANSSI),
        ("OIV", Filing.Kind.ANSSI),
        ("HEALTH_", Filing.Kind.HEALTH),
        ("DORA_", Filing.Kind.DORA),
        ("COMPLAINT_", Filing.Kind.COMPLAINT),
    ):
        if rule_code.startswith(prefix):
            return kind.value
    return Filing.Kind.OTHER.value


def filing_kinds_for(rule_code: str) -> frozenset[str]:
    """The kinds of filing that may fulfil a rule's obligation: its default, and what the forms drafted
    in the register record when sent (`cases.filings`)."""
    from ..filings import FORMS

    kinds = {filing_kind_for(rule_code)}
    kinds.update(form.filing_kind or form.kind for form in FORMS.values() if rule_code in form.rule_codes)
    return frozenset(kinds)


@service
def filing_record(
    case: BreachCase,
    *,
    kind: str,
    sent_at: datetime,
    acting_user,
    obligation: Obligation | None = None,
    reference: str = "",
    channel: str = "",
    recipient: str = "",
    content: str = "",
    evidence: Evidence | None = None,
    receipt_file: UploadedFile | None = None,
    late_reason: str = "",
) -> Filing:
    """Record what was sent; naming the obligation it satisfies completes that obligation.

    The proof of sending is `evidence` already in the case, or `receipt_file` as uploaded: stored as the
    case's evidence in the same transaction, and removed again if the filing is refused.
    Naming a report already filed that accepts updates (the DORA intermediate report) records
    an updated report: the rules running from its latest update are recomputed.
    """
    if evidence is not None and receipt_file is not None:
        raise ValueError("Give the receipt as evidence already stored or as a file, not both.")
    require_role(acting_user, case.organization, WRITE_ROLES)
    if receipt_file is not None:
        kind_label = Filing.Kind(kind).label if kind in Filing.Kind.values else ""
        evidence = evidence_add(
            case,
            uploaded_file=receipt_file,
            description=_("Receipt: %(kind)s") % {"kind": kind_label} if kind_label else "",
            acting_user=acting_user,
        )
    case = lock_open_case(case)
    errors: dict = {}
    if kind not in Filing.Kind.values:
        errors["kind"] = [_("Choose a kind of filing from the list.")]
    check_aware(errors, "sent_at", sent_at)
    raise_errors(errors)
    check_not_future(errors, "sent_at", sent_at)
    if sent_at < case.first_signal_at:
        errors["sent_at"] = [_("A filing cannot precede the case's first signal.")]
    if obligation is not None and obligation.case_id != case.pk:
        errors["obligation"] = [_("This obligation belongs to another case.")]
    elif obligation is not None and obligation.controller_notice_id is not None:
        # Informing a controller also starts its own clocks: only controller_inform does both.
        errors["obligation"] = [_("Record the notice to a controller from the list of controllers to inform.")]
    elif obligation is not None and kind in Filing.Kind.values and kind not in filing_kinds_for(obligation.rule_code):
        # A filing completes only the obligation it fulfils: a DORA report never completes the CNIL's.
        expected = ", ".join(sorted(str(Filing.Kind(k).label) for k in filing_kinds_for(obligation.rule_code)))
        errors["kind"] = [
            _("This kind of filing does not fulfil this obligation (expected: %(kinds)s).") % {"kinds": expected}
        ]
    if kind in AUTHORITY_KINDS and case.notify_authority is False:
        errors["kind"] = [
            _(
                "The decision on record is not to notify the authority (%(reason)s): record the new decision "
                "first, then the notification."
            )
            % {"reason": case.notify_authority_reason}
        ]
    if evidence is not None and evidence.case_id != case.pk:
        errors["evidence"] = [_("This evidence belongs to another case.")]
    raise_errors(errors)
    filing = Filing(
        case=case,
        obligation=obligation,
        kind=kind,
        sent_at=sent_at,
        reference=reference.strip(),
        channel=channel.strip(),
        recipient=recipient.strip(),
        content=content,
        evidence=evidence,
        created_by=acting_user,
    )
    if obligation is not None:
        ob = lock_child(Obligation, case, obligation.pk)
        if ob.state == Obligation.State.DONE and ob.rule.accepts_updates:
            record_update_locked(ob, sent_at=sent_at, acting_user=acting_user)
        else:
            complete_locked(
                ob,
                completed_at=sent_at,
                reference=reference,
                late_reason=late_reason,
                acting_user=acting_user,
                source=Source.FILING,
            )
    save(filing, acting_user=acting_user, reason=_("Filing recorded."))
    webhook_events.filing_sent(filing)
    return filing
