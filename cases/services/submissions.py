"""Submissions: draft a filing in the receiving body's structure, review it (four eyes), send it.

draft -> in review -> approved -> sent. The author never approves their own text; an edit after
approval takes it back to review (the approval is cleared, the history keeps it). Sending needs
an approval, records when it happened (which may be earlier than when it is recorded), freezes
the content with its SHA-256 and records the `Filing` that completes the obligation through
`filing_record` (so the obligation is completed by the filing that fulfils it, with the same
checks and the same late-reason rule). A sent submission never changes again.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from ..filings import FORMS, KIND_FOR_RULE, KINDS_FOR_RULE, content_errors, missing_fields, prefill
from ..models import BreachCase, Evidence, MemberCommunication, Membership, Obligation, Submission
from ..models.submissions import content_hash
from ..permissions import DECISION_ROLES, WRITE_ROLES, require_role
from .common import (
    blank,
    check_aware,
    check_not_future,
    check_version,
    lock_child,
    lock_open_case,
    now,
    raise_errors,
    save,
    service,
)
from .communications import member_communication_record
from .evidence import evidence_add
from .filings import filing_record


def _lock(submission: Submission) -> Submission:
    """The case, then the submission, locked and re-read; a sent one refuses any change."""
    case = lock_open_case(submission.case_id)
    locked = lock_child(Submission, case, submission.pk)
    if locked.state == Submission.State.SENT:
        raise ValidationError(_("This notification was sent: it is kept exactly as sent and cannot be changed."))
    return locked


@service
def submission_draft(
    case: BreachCase, *, obligation: Obligation, acting_user, kind: str = "", expected_version: int | None = None
) -> Submission:
    """Start the draft that fulfils `obligation`, pre-filled from the case in the receiving body's structure.

    `kind` chooses among the filings that fulfil the same obligation (the complaint: the letter to the
    prosecutor or the record of a complaint lodged at a station); by default the first one."""
    require_role(acting_user, case.organization, WRITE_ROLES)
    case = lock_open_case(case)
    if obligation.case_id != case.pk:
        raise ValidationError({"obligation": [_("This obligation belongs to another case.")]})
    ob = lock_child(Obligation, case, obligation.pk)
    check_version(ob, expected_version)  # the obligation as the user saw it (still pending, same due date)
    if kind and kind not in KINDS_FOR_RULE.get(ob.rule_code, ()):
        raise ValidationError({"kind": [_("This kind of filing does not fulfil this obligation.")]})
    kind = kind or KIND_FOR_RULE.get(ob.rule_code)
    if kind is None or ob.controller_notice_id is not None:
        raise ValidationError({"obligation": [_("This obligation cannot be drafted in the register yet.")]})
    if ob.state != Obligation.State.PENDING:
        raise ValidationError({"obligation": [_("Only a pending obligation can be drafted.")]})
    if case.submissions.filter(obligation=ob).exclude(state=Submission.State.SENT).exists():
        raise ValidationError({"obligation": [_("A draft of this notification already exists: open it.")]})
    submission = Submission(
        case=case,
        obligation=ob,
        kind=kind,
        content=prefill(FORMS[kind], FORMS[kind].sources(case, kind)),
        author=acting_user,
        last_edited_by=acting_user,
    )
    save(submission, acting_user=acting_user, reason=_("Notification drafted from the case."))
    return submission


@service
def submission_edit(
    submission: Submission, *, content: dict, acting_user, expected_version: int | None = None
) -> Submission:
    """Change the answers; after approval the notification goes back to review and needs a new approval."""
    require_role(acting_user, submission.case.organization, WRITE_ROLES)
    sub = _lock(submission)
    check_version(sub, expected_version)
    form = FORMS[sub.kind]
    raise_errors(content_errors(form, content))
    merged = {s.key: dict(sub.content.get(s.key, {})) for s in form.sections}
    for section_key, answers in content.items():
        merged[section_key].update({k: v.strip() for k, v in answers.items()})
    if merged == sub.content:
        return sub
    sub.content = merged
    sub.last_edited_by = acting_user
    reason = _("Notification edited.")
    if sub.state == Submission.State.APPROVED:
        sub.state = Submission.State.IN_REVIEW
        sub.approved_by, sub.approved_at, sub.approval_comment = None, None, ""
        reason = _("Notification edited after its approval: it goes back to review.")
    save(sub, acting_user=acting_user, reason=reason)
    return sub


@service
def submission_submit_for_review(
    submission: Submission, *, acting_user, expected_version: int | None = None
) -> Submission:
    require_role(acting_user, submission.case.organization, WRITE_ROLES)
    sub = _lock(submission)
    check_version(sub, expected_version)
    if sub.state != Submission.State.DRAFT:
        raise ValidationError(_("Only a draft can be submitted for review."))
    sub.state = Submission.State.IN_REVIEW
    sub.submitted_at = now()
    save(sub, acting_user=acting_user, reason=_("Submitted for review."))
    return sub


def writers(sub: Submission) -> set[int]:
    """Everyone who wrote part of the text: its author and each person whose edit changed the answers.

    Each edit records its writer as `last_edited_by`, and the history keeps every version: a co-writer
    whose edit was followed by someone else's is still not a second pair of eyes (four-eyes review).
    """
    earlier = sub.history.order_by().exclude(last_edited_by=None).values_list("last_edited_by_id", flat=True)
    return {sub.author_id, sub.last_edited_by_id, *earlier.distinct()} - {None}


def may_approve(role: str | None, organization) -> bool:
    """Whether a role may approve a filing at all (the author never may: `submission_approve`)."""
    if role in {Membership.Role.LEGAL, Membership.Role.ADMIN}:
        return True
    return role == Membership.Role.DPO and organization.dpo_peer_review


@service
def submission_approve(
    submission: Submission, *, comment: str, acting_user, expected_version: int | None = None
) -> Submission:
    """Approve the text as it stands: a legal member or an administrator (another DPO if the
    organisation allows it), never the person who wrote it."""
    role = require_role(acting_user, submission.case.organization, DECISION_ROLES)
    sub = _lock(submission)
    if not may_approve(role, sub.case.organization):  # the organisation as stored now
        raise PermissionDenied(
            _(
                "A legal member or an administrator approves a notification "
                "(another DPO only if the organisation allows it)."
            )
        )
    check_version(sub, expected_version)
    if sub.state != Submission.State.IN_REVIEW:
        raise ValidationError(_("Only a notification submitted for review can be approved."))
    if acting_user.pk in writers(sub):
        raise ValidationError(_("You wrote this notification: another person must approve it (four-eyes review)."))
    check_complete(sub)
    sub.state = Submission.State.APPROVED
    sub.approved_by = acting_user
    sub.approved_at = now()
    sub.approval_comment = (comment or "").strip()
    save(sub, acting_user=acting_user, reason=_("Notification approved."))
    return sub


@service
def submission_send_back(
    submission: Submission, *, comment: str, acting_user, expected_version: int | None = None
) -> Submission:
    """A reviewer sends the notification back to its author (in review -> draft) with what to change.

    The same people as for approval (`may_approve`), never its author; the comment is required, kept
    on the submission and in the history's reason.
    """
    role = require_role(acting_user, submission.case.organization, DECISION_ROLES)
    if blank(comment):
        raise ValidationError({"comment": [_("Say what the author should change.")]})
    sub = _lock(submission)
    if not may_approve(role, sub.case.organization):
        raise PermissionDenied(
            _(
                "A legal member or an administrator reviews a notification "
                "(another DPO only if the organisation allows it)."
            )
        )
    check_version(sub, expected_version)
    if sub.state != Submission.State.IN_REVIEW:
        raise ValidationError(_("Only a notification submitted for review can be sent back to its author."))
    if acting_user.pk in writers(sub):
        raise ValidationError(_("You wrote this notification: another person reviews it (four-eyes review)."))
    comment = comment.strip()
    sub.state = Submission.State.DRAFT
    sub.returned_by, sub.returned_at, sub.return_comment = acting_user, now(), comment
    save(sub, acting_user=acting_user, reason=_("Sent back to its author: %(comment)s") % {"comment": comment})
    return sub


@service
def submission_mark_sent(
    submission: Submission,
    *,
    sent_at: datetime,
    acting_user,
    channel: str = "",
    recipient: str = "",
    authority_reference: str = "",
    receipt: Evidence | None = None,
    receipt_file: UploadedFile | None = None,
    late_reason: str = "",
    recipients_count: int | None = None,
    expected_version: int | None = None,
) -> Submission:
    """Record that the approved text was sent: when (possibly in the past), how, to whom, the authority's
    reference; freeze the content with its SHA-256 and complete the obligation with the filing.

    The proof of sending is `receipt`, evidence already in the case, or `receipt_file` as uploaded: stored
    as the case's evidence in the same transaction, and removed again if the sending is refused.

    The Art. 34 letter records instead the communication to the persons (`member_communication_record`,
    which alone completes the Art. 34 obligation): `channel` is then one of its channels and
    `recipients_count` the number of letters the mailing chain sent."""
    if receipt is not None and receipt_file is not None:
        raise ValueError("Give the receipt as evidence already stored or as a file, not both.")
    require_role(acting_user, submission.case.organization, WRITE_ROLES)
    if receipt_file is not None:
        receipt = evidence_add(
            submission.case,
            uploaded_file=receipt_file,
            description=_("Receipt: %(kind)s") % {"kind": submission.get_kind_display()},
            acting_user=acting_user,
        )
    errors: dict = {}
    check_aware(errors, "sent_at", sent_at)
    raise_errors(errors)
    sub = _lock(submission)
    check_version(sub, expected_version)
    if sub.state != Submission.State.APPROVED:
        raise ValidationError(_("Only an approved notification can be sent: submit it for review first."))
    check_not_future(errors, "sent_at", sent_at)
    if receipt is not None and receipt.case_id != sub.case_id:
        errors["receipt"] = [_("This evidence belongs to another case.")]
    raise_errors(errors)
    form = FORMS[sub.kind]
    check_complete(sub)
    refused = form.send_errors(sub.kind, sub.content) if form.send_errors else []
    if refused:
        raise ValidationError(
            [
                _("The report does not validate against the authority's schema; correct the answers first:"),
                *refused[:20],
            ]
        )
    digest = content_hash(sub.content)
    if sub.kind == Submission.Kind.ART34_LETTER:
        sub.communication = _record_communication(
            sub,
            sent_at=sent_at,
            channel=channel,
            recipients_count=recipients_count,
            receipt=receipt,
            late_reason=late_reason,
            acting_user=acting_user,
        )
        return _freeze(sub, sent_at, channel, recipient, authority_reference, receipt, digest, acting_user)
    filing = filing_record(
        sub.case,
        kind=form.filing_kind or sub.kind,
        sent_at=sent_at,
        obligation=sub.obligation,
        reference=authority_reference,
        channel=channel,
        recipient=recipient,
        content=_("%(form)s drafted and approved in the register; SHA-256 of its content: %(hash)s")
        % {"form": form.title, "hash": digest},
        evidence=receipt,
        late_reason=late_reason,
        acting_user=acting_user,
    )
    sub.filing = filing
    return _freeze(sub, sent_at, channel, recipient, authority_reference, receipt, digest, acting_user)


def _freeze(sub, sent_at, channel, recipient, authority_reference, receipt, digest, acting_user) -> Submission:
    sub.state = Submission.State.SENT
    sub.sent_at = sent_at
    sub.sent_recorded_at = now()
    sub.sent_by = acting_user
    sub.channel = channel.strip()
    sub.recipient = recipient.strip()
    sub.authority_reference = authority_reference.strip()
    sub.receipt = receipt
    sub.content_sha256 = digest
    save(sub, acting_user=acting_user, reason=_("Notification sent."))
    return sub


def _record_communication(
    sub: Submission, *, sent_at, channel, recipients_count, receipt, late_reason, acting_user
) -> MemberCommunication:
    """The Art. 34 letter sent: the communication to the persons, with the letter's text (merge fields
    shown as «name»), which completes the Art. 34 obligation."""
    from ..dossier.submission_documents import art34_text

    errors: dict = {}
    if channel not in MemberCommunication.Channel.values or channel == MemberCommunication.Channel.NONE:
        errors["channel"] = [_("Choose how the letter was sent from the list.")]
    if not isinstance(recipients_count, int) or isinstance(recipients_count, bool) or recipients_count < 1:
        errors["recipients_count"] = [_("Enter the number of letters sent.")]
    raise_errors(errors)
    return member_communication_record(
        sub.case,
        channel=channel,
        sent_at=sent_at,
        recipients_count=recipients_count,
        text=art34_text(sub.content),
        evidence=receipt,
        late_reason=late_reason,
        acting_user=acting_user,
    )


def check_complete(sub: Submission) -> None:
    """A form whose missing answers block it (the Art. 34(2) letter) is refused, listing what is missing."""
    form = FORMS[sub.kind]
    if not form.blocks_when_missing:
        return
    missing = missing_fields(form, sub.content)
    if missing:
        raise ValidationError(
            _("%(form)s is incomplete: %(missing)s. Complete it before it is approved or sent.")
            % {"form": form.title, "missing": "; ".join(f"{s.title} — {f.label}" for s, f in missing)}
        )


def submission_missing(submission: Submission) -> list:
    """The required questions still unanswered (section, field), in the form's order."""
    return missing_fields(FORMS[submission.kind], submission.content)
