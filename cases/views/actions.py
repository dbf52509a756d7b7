"""One form view per service action on a case: GET shows the form, POST calls the service.

A refused action (the service's `ValidationError`) re-renders the form with status 400,
each message next to its field, and nothing saved; a success redirects to the right
part of the case page with a message. Records inside a case are looked up through it,
so another case's ids answer 404.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .. import services
from ..access import case_view
from ..forms import (
    CaseFactsForm,
    CloseForm,
    CommunicationForm,
    ContainForm,
    ControllerAddForm,
    ControllerInformForm,
    ControllersInformManyForm,
    DecisionAuthorityForm,
    DecisionPersonsForm,
    EvidenceForm,
    FilingForm,
    ObligationCompleteForm,
    ObligationNotApplicableForm,
    ObligationRequestedDueForm,
    ReasonForm,
    TimelineEventForm,
    apply_service_errors,
    link_errors,
)
from ..models import BreachCase
from ..permissions import DECISION_ROLES, WRITE_ROLES
from ..selectors.case_page import lang_of, notices_by_urgency, paris
from ..selectors.conflicts import changes_since
from ..services.common import StaleVersionError, TryAgainError
from ..services.filings import filing_kind_for
from ..services.obligations import BARE_COMPLETION_RULES

FORM_METHODS = ("GET", "POST")


def _form_page(
    request: HttpRequest,
    case: BreachCase,
    *,
    form_class: type[forms.Form],
    perform: Callable[[dict], object],
    record=None,
    title: str,
    success: str,
    anchor: str,
    form_id: str,
    form_kwargs: dict | None = None,
    field_map: dict[str, str] | None = None,
    intro: str = "",
    submit_label: str = "",
    subject: str = "",
    initial: dict | None = None,
    template: str = "cases/case_form.html",
    success_url: Callable[[object], str] | None = None,
    cancel_url: str = "",
) -> HttpResponse:
    """The shared GET/POST cycle of an action form.

    `record` is the record an edit form changes (the case, an obligation...): its version goes
    into the form, and a post made on an older version answers 409 with what changed since and
    the user's input kept, ready to be sent again on top of the current version. `success_url`
    gives where a success goes from what `perform` returned (default: the case page at `anchor`).
    """
    form_kwargs = form_kwargs or {}
    status = 200
    changes = None
    if request.method == "POST":
        form = form_class(request.POST, request.FILES, **form_kwargs)
        status = 400
        if form.is_valid():
            try:
                result = perform(form.cleaned_data)
            except ValidationError as error:
                apply_service_errors(form, error, field_map)
            except StaleVersionError as conflict:
                status = 409
                changes = changes_since(conflict.record, conflict.expected)
                form = form_class(initial={**form.user_input(), "version": conflict.record.version}, **form_kwargs)
            except TryAgainError:
                status = 409
                form.add_error(
                    None,
                    _(
                        "Another change to this case was being saved at the same moment, so nothing was saved. "
                        "Send the form again."
                    ),
                )
            else:
                messages.success(request, success)
                if success_url is not None:
                    return redirect(success_url(result))
                return redirect(f"{reverse('cases:case_detail', kwargs={'reference': case.reference})}#{anchor}")
        link_errors(form)
    else:
        initial = dict(initial or {})
        if record is not None:
            initial["version"] = record.version
        form = form_class(initial=initial, **form_kwargs)
    context = {
        "changes": changes,
        "case": case,
        "form": form,
        "title": title,
        "intro": intro,
        "subject": subject,
        "submit_label": submit_label or _("Save"),
        "form_id": form_id,
        "cancel_url": cancel_url or f"{reverse('cases:case_detail', kwargs={'reference': case.reference})}#{anchor}",
        "can_open": True,
    }
    return render(request, template, context, status=status)


# --- case facts and status ---------------------------------------------------------------------


@case_view(roles=WRITE_ROLES, methods=FORM_METHODS)
def case_update(request: HttpRequest, case: BreachCase, *, role: str) -> HttpResponse:
    return _form_page(
        request,
        case,
        form_class=CaseFactsForm,
        form_kwargs={"case": case},
        record=case,
        perform=lambda d: services.case_update_facts(
            case,
            acting_user=request.user,
            change_reason=d["change_reason"],
            expected_version=d["version"],
            **d["changed_facts"],
        ),
        title=_("Case facts"),
        intro=_("In the order of the CNIL notification form. Moving a clock's start time needs a reason."),
        success=_("Case facts saved."),
        anchor="facts",
        form_id="case-facts-form",
        template="cases/action_case_facts.html",
    )


@case_view(roles=WRITE_ROLES, methods=FORM_METHODS)
def case_contain(request: HttpRequest, case: BreachCase, *, role: str) -> HttpResponse:
    return _form_page(
        request,
        case,
        form_class=ContainForm,
        record=case,
        perform=lambda d: services.case_contain(
            case,
            contained_at=d["contained_at"],
            reason=d["reason"],
            acting_user=request.user,
            expected_version=d["version"],
        ),
        title=_("Incident contained"),
        intro=_("The incident is handled: it is no longer ongoing, and the NIS2 after-handling clock starts."),
        success=_("The case is marked contained."),
        anchor="status",
        form_id="case-contain-form",
    )


@case_view(roles=WRITE_ROLES, methods=FORM_METHODS)
def case_close(request: HttpRequest, case: BreachCase, *, role: str) -> HttpResponse:
    return _form_page(
        request,
        case,
        form_class=CloseForm,
        record=case,
        perform=lambda d: services.case_close(
            case,
            reason=d["reason"],
            closed_at=d.get("closed_at"),
            acting_user=request.user,
            expected_version=d["version"],
        ),
        title=_("Close the case"),
        intro=_("Every obligation must be done or decided not applicable first."),
        success=_("The case is closed."),
        anchor="status",
        form_id="case-close-form",
        submit_label=_("Close the case"),
    )


@case_view(roles=WRITE_ROLES, methods=FORM_METHODS)
def case_reopen(request: HttpRequest, case: BreachCase, *, role: str) -> HttpResponse:
    return _form_page(
        request,
        case,
        form_class=ReasonForm,
        record=case,
        perform=lambda d: services.case_reopen(
            case, reason=d["reason"], acting_user=request.user, expected_version=d["version"]
        ),
        title=_("Reopen the case"),
        success=_("The case is reopened."),
        anchor="status",
        form_id="case-reopen-form",
        submit_label=_("Reopen the case"),
    )


# --- decisions ----------------------------------------------------------------------------------


@case_view(roles=DECISION_ROLES, methods=FORM_METHODS)
def decision_authority(request: HttpRequest, case: BreachCase, *, role: str) -> HttpResponse:
    return _form_page(
        request,
        case,
        form_class=DecisionAuthorityForm,
        record=case,
        perform=lambda d: services.decision_notify_authority(
            case,
            notify=d["notify_authority"],
            reason=d["notify_authority_reason"],
            decided_at=d.get("notify_authority_decided_at"),
            acting_user=request.user,
            expected_version=d["version"],
        ),
        title=_("Decision: notify the supervisory authority"),
        intro=_("The decision, who took it, when and why are kept on the case and in its history."),
        success=_("Decision recorded."),
        anchor="decisions",
        form_id="decision-authority-form",
        initial={"notify_authority": case.notify_authority, "notify_authority_reason": case.notify_authority_reason},
    )


@case_view(roles=DECISION_ROLES, methods=FORM_METHODS)
def decision_persons(request: HttpRequest, case: BreachCase, *, role: str) -> HttpResponse:
    return _form_page(
        request,
        case,
        form_class=DecisionPersonsForm,
        perform=lambda d: services.decision_inform_persons(
            case,
            inform=d["inform_persons"],
            reason=d["inform_persons_reason"],
            exemption=d["inform_persons_exemption"],
            decided_at=d.get("inform_persons_decided_at"),
            acting_user=request.user,
            expected_version=d["version"],
        ),
        record=case,
        title=_("Decision: inform the persons concerned"),
        intro=_("Not informing persons at high risk needs an Art. 34(3) ground; otherwise the case is flagged."),
        success=_("Decision recorded."),
        anchor="decisions",
        form_id="decision-persons-form",
        initial={
            "inform_persons": case.inform_persons,
            "inform_persons_exemption": case.inform_persons_exemption,
            "inform_persons_reason": case.inform_persons_reason,
        },
    )


# --- obligations --------------------------------------------------------------------------------


def _obligation_subject(ob) -> str:
    label = ob.label(lang_of(get_language()))
    due = paris(ob.due_at)
    return _("%(label)s — due %(due)s (Paris time)") % {"label": label, "due": due} if due else label


@case_view(roles=WRITE_ROLES, methods=FORM_METHODS)
def obligation_complete(request: HttpRequest, case: BreachCase, obligation_id: int, *, role: str) -> HttpResponse:
    ob = get_object_or_404(case.obligations.select_related("case__organization"), pk=obligation_id)
    if request.method == "GET" and ob.rule_code not in BARE_COMPLETION_RULES and ob.controller_notice_id is None:
        # A filing obligation is completed only by its filing (issue 12): the filing form, naming it.
        target = "communication_record" if ob.rule_code == "GDPR_34" else "filing_record"
        query = "" if ob.rule_code == "GDPR_34" else f"?obligation={ob.pk}"
        return redirect(reverse(f"cases:{target}", kwargs={"reference": case.reference}) + query)
    return _form_page(
        request,
        case,
        form_class=ObligationCompleteForm,
        perform=lambda d: services.obligation_complete(
            ob,
            completed_at=d["completed_at"],
            reference=d["reference"],
            late_reason=d["late_reason"],
            acting_user=request.user,
            expected_version=d["version"],
        ),
        record=ob,
        title=_("Complete an obligation"),
        subject=_obligation_subject(ob),
        intro=_("The register entry (Art. 33(5)) is the register itself: mark it done with its date."),
        success=_("Obligation completed."),
        anchor=f"obligation-{ob.pk}",
        form_id="obligation-complete-form",
    )


@case_view(roles=DECISION_ROLES, methods=FORM_METHODS)
def obligation_not_applicable(request: HttpRequest, case: BreachCase, obligation_id: int, *, role: str) -> HttpResponse:
    ob = get_object_or_404(case.obligations.select_related("case__organization"), pk=obligation_id)
    return _form_page(
        request,
        case,
        form_class=ObligationNotApplicableForm,
        record=ob,
        perform=lambda d: services.obligation_mark_not_applicable(
            ob,
            reason=d["not_applicable_reason"],
            decided_at=d.get("decided_at"),
            acting_user=request.user,
            expected_version=d["version"],
        ),
        title=_("Mark an obligation not applicable"),
        subject=_obligation_subject(ob),
        intro=_("This decision is recorded with who took it, when and why."),
        success=_("Obligation marked not applicable."),
        anchor=f"obligation-{ob.pk}",
        form_id="obligation-not-applicable-form",
    )


@case_view(roles=WRITE_ROLES, methods=FORM_METHODS)
def obligation_requested_due(request: HttpRequest, case: BreachCase, obligation_id: int, *, role: str) -> HttpResponse:
    ob = get_object_or_404(case.obligations.select_related("case__organization"), pk=obligation_id)
    return _form_page(
        request,
        case,
        form_class=ObligationRequestedDueForm,
        record=ob,
        perform=lambda d: services.obligation_set_requested_due(
            ob,
            due_at=d["requested_due_at"],
            reason=d["reason"],
            acting_user=request.user,
            expected_version=d["version"],
        ),
        title=_("Due date requested by the authority"),
        subject=_obligation_subject(ob),
        success=_("Due date recorded."),
        anchor=f"obligation-{ob.pk}",
        form_id="obligation-requested-due-form",
    )


# --- filings, events, evidence, communications ---------------------------------------------------


def _record_filing(case: BreachCase, data: dict, user) -> None:
    services.filing_record(
        case,
        kind=data["kind"],
        sent_at=data["sent_at"],
        obligation=data["obligation"],
        reference=data["reference"],
        channel=data["channel"],
        recipient=data["recipient"],
        content=data["content"],
        receipt_file=data["receipt"] or None,
        late_reason=data["late_reason"],
        acting_user=user,
    )


@case_view(roles=WRITE_ROLES, methods=FORM_METHODS)
def filing_record(request: HttpRequest, case: BreachCase, *, role: str) -> HttpResponse:
    initial = {}
    obligation_id = request.GET.get("obligation")
    if obligation_id and obligation_id.isascii() and obligation_id.isdigit() and len(obligation_id) < 19:
        ob = case.obligations.filter(pk=obligation_id).first()
        if ob is not None:
            initial["obligation"] = ob.pk
            initial["kind"] = filing_kind_for(ob.rule_code)
    return _form_page(
        request,
        case,
        form_class=FilingForm,
        form_kwargs={"case": case, "lang": lang_of(get_language())},
        perform=lambda d: _record_filing(case, d, request.user),
        title=_("Record a filing"),
        intro=_("What was sent, when, and its reference; naming the obligation it satisfies completes it."),
        success=_("Filing recorded."),
        anchor="filings",
        form_id="filing-form",
        field_map={"file": "receipt", "evidence": "receipt", "completed_at": "sent_at"},
        initial=initial,
    )


@case_view(roles=WRITE_ROLES, methods=FORM_METHODS)
def event_add(request: HttpRequest, case: BreachCase, *, role: str) -> HttpResponse:
    return _form_page(
        request,
        case,
        form_class=TimelineEventForm,
        perform=lambda d: services.timeline_event_add(
            case,
            occurred_at=d["occurred_at"],
            kind=d["kind"],
            title=d["title"],
            description=d["description"],
            acting_user=request.user,
        ),
        title=_("Add a timeline event"),
        success=_("Event added to the timeline."),
        anchor="timeline",
        form_id="event-form",
    )


@case_view(roles=WRITE_ROLES, methods=FORM_METHODS)
def evidence_add(request: HttpRequest, case: BreachCase, *, role: str) -> HttpResponse:
    return _form_page(
        request,
        case,
        form_class=EvidenceForm,
        perform=lambda d: services.evidence_add(
            case, uploaded_file=d["file"], description=d["description"], acting_user=request.user
        ),
        title=_("Add evidence"),
        intro=_("The file is stored unchanged with its SHA-256; its type is checked from its content."),
        success=_("Evidence stored."),
        anchor="evidence",
        form_id="evidence-form",
    )


@case_view(roles=WRITE_ROLES, methods=FORM_METHODS)
def communication_record(request: HttpRequest, case: BreachCase, *, role: str) -> HttpResponse:
    return _form_page(
        request,
        case,
        form_class=CommunicationForm,
        form_kwargs={"case": case},
        perform=lambda d: services.member_communication_record(
            case,
            channel=d["channel"],
            sent_at=d["sent_at"],
            recipients_count=d["recipients_count"] or 0,
            text=d["text"],
            exemption=d["exemption"],
            exemption_reason=d["exemption_reason"],
            evidence=d["evidence"],
            late_reason=d["late_reason"],
            acting_user=request.user,
        ),
        title=_("Record a communication to the persons"),
        intro=_("The text sent (Art. 34(2)), or the Art. 34(3) ground relied on when nothing is sent."),
        success=_("Communication recorded."),
        anchor="communications",
        form_id="communication-form",
        field_map={"completed_at": "sent_at"},
    )


# --- processor to controllers ---------------------------------------------------------------------


@case_view(roles=WRITE_ROLES, methods=FORM_METHODS)
def controller_add(request: HttpRequest, case: BreachCase, *, role: str) -> HttpResponse:
    return _form_page(
        request,
        case,
        form_class=ControllerAddForm,
        form_kwargs={"case": case},
        perform=lambda d: services.controller_add(
            case,
            relationship=d["relationship"],
            notice_period_hours=d["notice_period_hours"],
            acting_user=request.user,
        ),
        title=_("Add a controller to inform"),
        success=_("Controller added to the list to inform."),
        anchor="controllers",
        form_id="controller-add-form",
    )


@case_view(roles=WRITE_ROLES, methods=FORM_METHODS)
def controller_inform(request: HttpRequest, case: BreachCase, notice_id: int, *, role: str) -> HttpResponse:
    notice = get_object_or_404(case.controller_notices.select_related("case__organization"), pk=notice_id)
    return _form_page(
        request,
        case,
        form_class=ControllerInformForm,
        perform=lambda d: services.controller_inform(
            notice,
            informed_at=d["informed_at"],
            channel=d["channel"],
            reference=d["reference"],
            late_reason=d["late_reason"],
            acting_user=request.user,
            expected_version=d["version"],
        ),
        record=notice,
        title=_("Controller informed"),
        subject=notice.controller_name,
        intro=_(
            "Records when, how and to whom the controller was informed. A controller on the platform also "
            "receives the notice in its inbox; it opens its own case if it decides to."
        ),
        success=_("Notice to the controller recorded."),
        anchor=f"notice-{notice.pk}",
        form_id="controller-inform-form",
        field_map={"completed_at": "informed_at"},
    )


@case_view(roles=WRITE_ROLES, methods=FORM_METHODS)
def controllers_inform_many(request: HttpRequest, case: BreachCase, *, role: str) -> HttpResponse:
    """Inform the chosen controllers (or every one not yet informed) in one action; the case page preselects them."""
    notices = notices_by_urgency(
        list(case.controller_notices.select_related("obligation").order_by("controller_name", "pk"))
    )
    initial: dict = {}
    if request.method == "GET":
        chosen = {int(v) for v in request.GET.getlist("notices") if v.isascii() and v.isdigit() and len(v) < 19}
        initial["notices"] = [n.pk for n in notices if n.pk in chosen and n.informed_at is None]
        initial["all_pending"] = request.GET.get("all") == "1"

    def perform(d: dict):
        result = services.controllers_inform_many(
            case,
            notice_ids=d["notices"],
            informed_at=d["informed_at"],
            channel=d["channel"],
            reference=d["reference"],
            late_reason=d["late_reason"],
            acting_user=request.user,
        )
        messages.success(request, _("%(n)s controller(s) informed.") % {"n": len(result.informed)})
        if result.skipped:
            messages.warning(
                request,
                _("Already informed, left as they were: %(names)s.")
                % {"names": ", ".join(n.controller_name for n in result.skipped)},
            )
        return result

    return _form_page(
        request,
        case,
        form_class=ControllersInformManyForm,
        form_kwargs={"notices": notices},
        perform=perform,
        title=_("Inform several controllers"),
        intro=_(
            "Each controller receives its own Art. 33(2) notice in French (PDF), kept as sent with its SHA-256, "
            "sent to the contacts of its contract. A controller on the platform also receives it in its inbox."
        ),
        submit_label=_("Inform the chosen controllers"),
        success=_("The notices are recorded with the document sent to each controller."),
        initial=initial,
        anchor="controllers",
        form_id="controllers-inform-form",
    )


@case_view(roles=WRITE_ROLES, methods=("POST",))
def controller_add_all(request: HttpRequest, case: BreachCase, *, role: str) -> HttpResponse:
    """List every active relationship of the processor on the case, in one action (confirmed by the button)."""
    if request.POST.get("confirm") != "all":
        return HttpResponse(_("Confirm with the button of the case page."), status=400)
    anchor = f"{reverse('cases:case_detail', kwargs={'reference': case.reference})}#controllers"
    try:
        notices = services.controller_add_all(case, acting_user=request.user)
    except (ValidationError, TryAgainError) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        return redirect(anchor)
    messages.success(request, _("%(n)s controller(s) added to the list to inform.") % {"n": len(notices)})
    return redirect(anchor)
