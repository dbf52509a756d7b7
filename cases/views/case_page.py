"""The case page, its History tab, and opening a case: parse, call a selector or service, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from reminders.selectors import reminders_for_case

from .. import clock_chart, services
from ..access import case_view
from ..deadlines import STATUS_LABELS
from ..forms import CaseOpenForm, apply_service_errors, link_errors, writable_organizations
from ..models import DoraFacts
from ..permissions import DECISION_ROLES, WRITE_ROLES
from ..selectors.case_page import case_page, lang_of
from ..selectors.history import history_page

HISTORY_PER_PAGE = 50


def _role_flags(role: str) -> dict:
    return {"role": role, "can_write": role in WRITE_ROLES, "can_decide": role in DECISION_ROLES}


@case_view()
def case_detail(request: HttpRequest, case, *, role: str) -> HttpResponse:
    """Facts in CNIL-form order, clocks, records and decisions; action links only for the roles allowed."""
    now = timezone.now()
    page = case_page(case, lang=lang_of(get_language()), now=now)
    context = {
        "case": page.case,
        "page": page,
        "clock_svg": clock_chart.svg(page.clock_chart, title=_("The case's clocks"), status_words=STATUS_LABELS)
        if page.clock_chart
        else "",
        "now": now,
        "reminders": reminders_for_case(case),
        "tab": "case",
        # A DORA financial entity's case shows its DORA facts (one query, only for them).
        "is_dora": case.organization.is_dora_entity,
        "dora_facts": DoraFacts.objects.filter(case_id=case.pk).first() if case.organization.is_dora_entity else None,
        **_role_flags(role),
    }
    return render(request, "cases/case_detail.html", context)


@case_view()
def case_history(request: HttpRequest, case, *, role: str) -> HttpResponse:
    """Field-level changes of the case and everything under it, newest first, one page of chain positions."""
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        number = 1
    history = history_page(case, page=number, per_page=HISTORY_PER_PAGE, lang=lang_of(get_language()))
    context = {"case": case, "history": history, "tab": "history", **_role_flags(role)}
    return render(request, "cases/case_history.html", context)


def case_open(request: HttpRequest) -> HttpResponse:
    """Open a case with the facts that start the clocks (under a minute); the rest can follow.

    Any member may see the page; only the organisations where the user is DPO or
    administrator are offered, and the service checks the role again.
    """
    if request.method not in {"GET", "HEAD", "POST"}:
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    user = request.user
    can_open = writable_organizations(user).exists()
    if request.method == "POST":
        if not can_open:
            raise PermissionDenied
        form = CaseOpenForm(request.POST, user=user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = services.case_open(
                    organization=data["organization"],
                    title=data["title"],
                    first_signal_at=data["first_signal_at"],
                    aware_at=data["aware_at"],
                    aware_justification=data["aware_justification"],
                    first_signal_source=data["first_signal_source"],
                    acting_user=user,
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Case %(reference)s opened: its clocks are running.") % {"reference": case.reference},
                )
                return redirect("cases:case_detail", reference=case.reference)
        status = 400
        link_errors(form)
    else:
        form = CaseOpenForm(user=user)
        status = 200
    return render(
        request,
        "cases/case_form.html",
        {
            "form": form,
            "can_open": can_open,
            "title": _("Open a case"),
            "intro": _("Only the facts that start the clocks are required; complete the rest from the case page."),
            "submit_label": _("Open the case"),
            "form_id": "case-open-form",
            "cancel_url": None,
        },
        status=status,
    )
