"""The dossier tab: ask for the case's dossier, follow its build, download it.

The PDF is built by a background worker (cases/tasks.py) and kept: a request for the same case
and language while its data hash is unchanged gets the PDF already built. Every download is
written to the security log, as every export is. Any member of the case's organisation may
export, auditors included.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from accounts.models import SecurityEvent
from accounts.security_log import record

from .. import services
from ..access import case_view
from ..forms import DossierExportForm, apply_service_errors
from ..models import DossierExport, JobState
from .downloads import _attachment, _safe

RECENT_EXPORTS = 10
# Seconds between two reloads of a build's page while the build runs.
REFRESH_SECONDS = 2


def _recent(case) -> list[DossierExport]:
    return list(DossierExport.objects.filter(case=case).select_related("requested_by")[:RECENT_EXPORTS])


@case_view(methods=("GET", "POST"))
def dossier_exports(request: HttpRequest, case, *, role: str) -> HttpResponse:
    """GET: the recent exports and the form; POST: ask for the dossier in one language."""
    status = 200
    form = DossierExportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                export = services.dossier_export_request(case, lang=form.cleaned_data["lang"], acting_user=request.user)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                return redirect("cases:dossier_export", reference=case.reference, export_id=export.pk)
        status = 400
    context = {"case": case, "tab": "dossier", "form": form, "exports": _recent(case)}
    return render(request, "cases/dossier_exports.html", context, status=status)


@case_view()
def dossier_export(request: HttpRequest, case, export_id: int, *, role: str) -> HttpResponse:
    """One build: its progress while it runs (the page reloads itself), the download link once ready."""
    export = get_object_or_404(DossierExport.objects.select_related("requested_by"), case=case, pk=export_id)
    context = {"case": case, "tab": "dossier", "export": export, "refresh": REFRESH_SECONDS}
    return render(request, "cases/dossier_export.html", context)


@case_view()
def dossier_export_download(request: HttpRequest, case, export_id: int, *, role: str) -> HttpResponse:
    """The built PDF, streamed from the storage, as an attachment; logged like every export."""
    export = get_object_or_404(DossierExport, case=case, pk=export_id, state=JobState.DONE)
    response = FileResponse(export.file.open("rb"), content_type="application/pdf")
    record(
        SecurityEvent.Kind.EXPORT,
        request,
        user=request.user,
        organization=case.organization,
        detail=f"dossier {case.reference} ({export.lang})",
    )
    return _attachment(response, f"dossier-{_safe(case.reference)}-{export.lang}.pdf")
