"""The DORA pages: the case's DORA facts (form), and a DORA report as JSON (the ESAs' schema) and as PDF.

Records are looked up through the case (`case_view`: another organisation's case is a 404), the
downloads are for the organisation's members only and logged like every export."""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from accounts.models import SecurityEvent
from accounts.security_log import record

from .. import services
from ..access import case_view
from ..filings import dora as dora_filings
from ..filings.dora_pdf import render as render_pdf
from ..forms_dora import DoraFactsForm
from ..models import BreachCase, DoraFacts, Submission
from ..permissions import READ_ROLES, WRITE_ROLES
from ..services.dora import EDITABLE
from .actions import FORM_METHODS, _form_page
from .downloads import _attachment, _safe


def _initial(facts: DoraFacts | None) -> dict:
    if facts is None:
        return {"currency": "EUR"}
    return {name: getattr(facts, name) for name in EDITABLE}


@case_view(roles=WRITE_ROLES, methods=FORM_METHODS)
def dora_facts_edit(request: HttpRequest, case: BreachCase, *, role: str) -> HttpResponse:
    if not case.organization.is_dora_entity:
        raise Http404
    facts = DoraFacts.objects.filter(case_id=case.pk).first()
    return _form_page(
        request,
        case,
        form_class=DoraFactsForm,
        record=facts,
        initial=_initial(facts),
        perform=lambda d: services.dora_facts_update(
            case, acting_user=request.user, expected_version=d["version"], **{k: d[k] for k in EDITABLE}
        ),
        title=_("DORA facts"),
        subject=case.title,
        intro=_(
            "What the DORA reports ask that the case does not say (Implementing Regulation (EU) 2025/302). "
            "Reports already drafted keep their answers: edit them, or draft the next report."
        ),
        success=_("DORA facts saved."),
        anchor="dora-facts",
        form_id="dora-facts-form",
    )


def _report(case: BreachCase, report_id: int) -> Submission:
    sub = get_object_or_404(
        case.submissions.select_related("author", "approved_by"),
        pk=report_id,
        kind__in=dora_filings.KINDS,
    )
    sub.case = case
    return sub


def _log(request, case: BreachCase, sub: Submission, what: str) -> None:
    record(
        SecurityEvent.Kind.EXPORT,
        request,
        user=request.user,
        organization=case.organization,
        detail=f"DORA report {what} #{sub.pk} of {case.reference}",
    )


@case_view(roles=READ_ROLES)
def submission_dora_json(request: HttpRequest, case: BreachCase, report_id: int, *, role: str) -> HttpResponse:
    """The report in the ESAs' JSON structure (whether or not it validates yet: the page says)."""
    sub = _report(case, report_id)
    doc, _problems = dora_filings.report_json(sub.kind, sub.content)
    response = HttpResponse(
        json.dumps(doc, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    _log(request, case, sub, "json")
    return _attachment(response, _safe(f"{case.reference}-{sub.kind}-{sub.pk}.json"))


@case_view(roles=READ_ROLES)
def submission_dora_pdf(request: HttpRequest, case: BreachCase, report_id: int, *, role: str) -> HttpResponse:
    sub = _report(case, report_id)
    response = HttpResponse(render_pdf(sub), content_type="application/pdf")
    _log(request, case, sub, "pdf")
    return _attachment(response, _safe(f"{case.reference}-{sub.kind}-{sub.pk}.pdf"))


__all__ = ["dora_facts_edit", "submission_dora_json", "submission_dora_pdf"]
