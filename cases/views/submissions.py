"""The pages of a filing drafted in the register: start it from its obligation, read it, edit it,
submit it for review, approve it, record it as sent. Every write goes through
`cases.services.submissions`; records are looked up through the case (another case's ids: 404)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import SecurityEvent
from accounts.security_log import record

from .. import services
from ..access import case_view
from ..dossier.submission_documents import DOCUMENTS, merge_fields_csv
from ..filings import FORMS, KINDS_FOR_RULE
from ..filings.anssi import ANSSI_FORMS
from ..filings.art34 import MERGE_FIELDS
from ..filings.dora import KINDS as DORA_KINDS
from ..forms import (
    Art34SendForm,
    SubmissionApproveForm,
    SubmissionEditForm,
    SubmissionSendBackForm,
    SubmissionSendForm,
    SubmissionStartForm,
    SubmissionStepForm,
    answer_field_name,
)
from ..models import BreachCase, Submission
from ..permissions import DECISION_ROLES, READ_ROLES, WRITE_ROLES
from ..selectors.case_page import lang_of
from ..selectors.submissions import submission_page
from .actions import FORM_METHODS, _form_page, _obligation_subject
from .downloads import _attachment, _safe


def _submission(case: BreachCase, submission_id: int) -> Submission:
    sub = get_object_or_404(
        case.submissions.select_related(
            "obligation", "author", "last_edited_by", "approved_by", "returned_by", "sent_by", "receipt"
        ),
        pk=submission_id,
    )
    sub.case = case
    return sub


def _subject(sub: Submission) -> str:
    return f"{FORMS[sub.kind].title} — {sub.get_state_display()}"


def _page_url(sub: Submission):
    return lambda _result=None: sub.get_absolute_url()


@case_view(roles=WRITE_ROLES, methods=FORM_METHODS)
def submission_start(request: HttpRequest, case: BreachCase, obligation_id: int, *, role: str) -> HttpResponse:
    ob = get_object_or_404(case.obligations.select_related("case__organization"), pk=obligation_id)
    current = case.submissions.filter(obligation=ob).exclude(state=Submission.State.SENT).first()
    if current is not None and request.method == "GET":
        return redirect(current.get_absolute_url())
    kinds = [(kind, str(FORMS[kind].title)) for kind in KINDS_FOR_RULE.get(ob.rule_code, ())]
    return _form_page(
        request,
        case,
        form_class=SubmissionStartForm,
        form_kwargs={"kinds": kinds},
        initial={"kind": request.GET.get("kind", "")} if len(kinds) > 1 else None,
        record=ob,
        perform=lambda d: services.submission_draft(
            case, obligation=ob, kind=d.get("kind", ""), acting_user=request.user, expected_version=d["version"]
        ),
        title=_("Draft the notification"),
        subject=_obligation_subject(ob),
        intro=_(
            "The draft is pre-filled from the case in the structure of the authority's form; "
            "it lists what is still missing. It is reviewed by another person before it is sent."
        ),
        success=_("Notification drafted."),
        success_url=lambda sub: sub.get_absolute_url(),
        anchor=f"obligation-{ob.pk}",
        form_id="submission-start-form",
        submit_label=_("Draft the notification"),
    )


ANSSI_KINDS = frozenset(form.kind for form in ANSSI_FORMS)


@case_view(roles=READ_ROLES)
def submission_detail(request: HttpRequest, case: BreachCase, submission_id: int, *, role: str) -> HttpResponse:
    sub = _submission(case, submission_id)
    page = submission_page(sub, user=request.user, role=role)
    form = page.form
    return render(
        request,
        "cases/submission_detail.html",
        {
            "case": case,
            "page": page,
            "sub": sub,
            "lang": lang_of(get_language()),
            "title": str(form.title),
            "document": DOCUMENTS[sub.kind][2] if sub.kind in DOCUMENTS else "",
            "merge_fields": MERGE_FIELDS if sub.kind == Submission.Kind.ART34_LETTER else (),
            # What the authority's schema refuses in the answers as they stand (None: no schema to check).
            "send_errors": form.send_errors(sub.kind, sub.content) if form.send_errors and not sub.is_sent else None,
            "dora_report": sub.kind in DORA_KINDS,
        },
    )


@case_view(roles=WRITE_ROLES, methods=FORM_METHODS)
def submission_edit(request: HttpRequest, case: BreachCase, submission_id: int, *, role: str) -> HttpResponse:
    sub = _submission(case, submission_id)
    if sub.is_sent and request.method == "GET":
        return redirect(sub.get_absolute_url())
    filing_form = FORMS[sub.kind]
    fields = filing_form.all_fields()
    initial = {answer_field_name(s.key, f.key): (sub.content.get(s.key) or {}).get(f.key, "") for s, f in fields}
    return _form_page(
        request,
        case,
        form_class=SubmissionEditForm,
        form_kwargs={"filing_form": filing_form},
        record=sub,
        initial=initial,
        perform=lambda d: services.submission_edit(
            sub,
            content={
                s.key: {f.key: d[answer_field_name(s.key, f.key)] for f in filing_form.fields_of(s)}
                for s in filing_form.sections
            },
            acting_user=request.user,
            expected_version=d["version"],
        ),
        field_map={f"{s.key}.{f.key}": answer_field_name(s.key, f.key) for s, f in fields},
        title=_("Edit the notification"),
        subject=_subject(sub),
        intro=_("An edit after approval takes the notification back to review: it must be approved again."),
        success=_("Notification saved."),
        success_url=_page_url(sub),
        cancel_url=sub.get_absolute_url(),
        anchor="filings",
        form_id="submission-edit-form",
    )


@case_view(roles=WRITE_ROLES, methods=FORM_METHODS)
def submission_submit(request: HttpRequest, case: BreachCase, submission_id: int, *, role: str) -> HttpResponse:
    sub = _submission(case, submission_id)
    return _form_page(
        request,
        case,
        form_class=SubmissionStepForm,
        record=sub,
        perform=lambda d: services.submission_submit_for_review(
            sub, acting_user=request.user, expected_version=d["version"]
        ),
        title=_("Submit for review"),
        subject=_subject(sub),
        intro=_("A legal member or an administrator (never its author) then approves it before it is sent."),
        success=_("Notification submitted for review."),
        success_url=_page_url(sub),
        cancel_url=sub.get_absolute_url(),
        anchor="filings",
        form_id="submission-submit-form",
        submit_label=_("Submit for review"),
    )


def _review(service, sub: Submission, data: dict, user) -> Submission:
    """Approve or send back; a member whose role may read but not review is told why, next to the form."""
    try:
        return service(sub, comment=data["comment"], acting_user=user, expected_version=data["version"])
    except PermissionDenied as refused:
        raise ValidationError(str(refused) or _("Your role does not allow reviewing it.")) from refused


@case_view(roles=DECISION_ROLES, methods=FORM_METHODS)
def submission_approve(request: HttpRequest, case: BreachCase, submission_id: int, *, role: str) -> HttpResponse:
    sub = _submission(case, submission_id)
    return _form_page(
        request,
        case,
        form_class=SubmissionApproveForm,
        record=sub,
        perform=lambda d: _review(services.submission_approve, sub, d, request.user),
        title=_("Approve the notification"),
        subject=_subject(sub),
        intro=_("Approve the text as it stands; any later edit needs a new approval."),
        success=_("Notification approved."),
        success_url=_page_url(sub),
        cancel_url=sub.get_absolute_url(),
        anchor="filings",
        form_id="submission-approve-form",
        submit_label=_("Approve"),
    )


@case_view(roles=DECISION_ROLES, methods=FORM_METHODS)
def submission_send_back(request: HttpRequest, case: BreachCase, submission_id: int, *, role: str) -> HttpResponse:
    sub = _submission(case, submission_id)
    return _form_page(
        request,
        case,
        form_class=SubmissionSendBackForm,
        record=sub,
        perform=lambda d: _review(services.submission_send_back, sub, d, request.user),
        title=_("Send back to its author"),
        subject=_subject(sub),
        intro=_("The notification goes back to draft; your comment tells its author what to change."),
        success=_("Notification sent back to its author."),
        success_url=_page_url(sub),
        cancel_url=sub.get_absolute_url(),
        anchor="filings",
        form_id="submission-send-back-form",
        submit_label=_("Send back"),
    )


def _send(sub: Submission, data: dict, user) -> Submission:
    return services.submission_mark_sent(
        sub,
        sent_at=data["sent_at"],
        channel=data["channel"],
        recipient=data["recipient"],
        authority_reference=data["authority_reference"],
        receipt_file=data["receipt"] or None,
        late_reason=data["late_reason"],
        recipients_count=data.get("recipients_count"),
        acting_user=user,
        expected_version=data["version"],
    )


@case_view(roles=WRITE_ROLES, methods=FORM_METHODS)
def submission_send(request: HttpRequest, case: BreachCase, submission_id: int, *, role: str) -> HttpResponse:
    sub = _submission(case, submission_id)
    return _form_page(
        request,
        case,
        form_class=Art34SendForm if sub.kind == Submission.Kind.ART34_LETTER else SubmissionSendForm,
        record=sub,
        initial=_send_initial(sub),
        perform=lambda d: _send(sub, d, request.user),
        title=_("Record the notification as sent"),
        subject=_subject(sub),
        intro=_(
            "The approved text is frozen with its SHA-256 and the obligation is completed by this filing. "
            "A past sending may be entered now: give the time it was sent."
        ),
        success=_("Notification recorded as sent."),
        success_url=_page_url(sub),
        cancel_url=sub.get_absolute_url(),
        anchor="filings",
        form_id="submission-send-form",
        field_map={
            "file": "receipt",
            "evidence": "receipt",
            "completed_at": "sent_at",
            "reference": "authority_reference",
        },
        submit_label=_("Record as sent"),
    )


def _send_initial(sub: Submission) -> dict:
    """Who usually receives this kind of filing, and how (the user may change both)."""
    if sub.kind in DORA_KINDS:
        authority = (sub.case.organization.dora_authority or "acpr").upper()
        return {"recipient": authority, "channel": _("Competent authority's DORA reporting portal")}
    if sub.kind in ANSSI_KINDS:
        return {"recipient": "ANSSI / CERT-FR", "channel": _("ANSSI incident declaration service")}
    if sub.kind == Submission.Kind.COMPLAINT_PROSECUTOR:
        return {"recipient": _("Public prosecutor"), "channel": _("Registered letter with acknowledgement of receipt")}
    if sub.kind == Submission.Kind.COMPLAINT_STATION:
        station = (sub.content.get("station") or {}).get("station", "")
        number = (sub.content.get("station") or {}).get("receipt_number", "")
        return {"recipient": station, "channel": _("Complaint lodged in person"), "authority_reference": number}
    if sub.kind == Submission.Kind.ART34_LETTER:
        return {"channel": "letter"}
    return {"recipient": "CNIL", "channel": _("CNIL online notification service")}


@case_view(roles=READ_ROLES)
def submission_document(request: HttpRequest, case: BreachCase, submission_id: int, *, role: str) -> HttpResponse:
    """The document the filing is produced as (the complaint letter as PDF, the Art. 34 letter as DOCX),
    built from its answers: once sent, from the text frozen by its SHA-256."""
    sub = _submission(case, submission_id)
    if sub.kind not in DOCUMENTS:
        raise Http404
    build, content_type, extension = DOCUMENTS[sub.kind]
    response = HttpResponse(build(sub), content_type=content_type)
    _log_export(request, case, f"filing document {sub.kind} #{sub.pk} of {case.reference}")
    return _attachment(response, _safe(f"{case.reference}-{sub.kind.replace('_', '-')}-{sub.pk}.{extension}"))


@case_view(roles=READ_ROLES)
def submission_merge_fields(request: HttpRequest, case: BreachCase, submission_id: int, *, role: str) -> HttpResponse:
    """The mail-merge fields of the Art. 34 letter, as CSV for the mailing chain."""
    sub = _submission(case, submission_id)
    if sub.kind != Submission.Kind.ART34_LETTER:
        raise Http404
    response = HttpResponse(merge_fields_csv(), content_type="text/csv; charset=utf-8")
    _log_export(request, case, f"merge fields #{sub.pk} of {case.reference}")
    return _attachment(response, _safe(f"{case.reference}-champs-de-fusion.csv"))


def _log_export(request: HttpRequest, case: BreachCase, detail: str) -> None:
    """Every export of a case is written to the security log (who, which case, when), as the others are."""
    record(SecurityEvent.Kind.EXPORT, request, user=request.user, organization=case.organization, detail=detail)


__all__ = [
    "submission_approve",
    "submission_detail",
    "submission_document",
    "submission_merge_fields",
    "submission_edit",
    "submission_send",
    "submission_start",
    "submission_submit",
]
