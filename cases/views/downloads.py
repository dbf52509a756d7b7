"""Case downloads: the regulator-ready dossier, the member letter and evidence files.

Read-only for every member of the case's organisation, auditors included; each download
is an attachment, and every export is written to the security log (who, which case, when).
"""

from __future__ import annotations

import re

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from accounts.models import SecurityEvent
from accounts.security_log import record

from ..access import case_view
from ..dossier.export import export_bundle, export_dossier
from ..dossier.letter import build_member_letter
from ..languages import LANGS


def _attachment(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


@case_view()
def dossier_download(request: HttpRequest, case, *, role: str) -> HttpResponse:
    """The case's dossier (?lang=fr|en) for any member of its organisation, auditors included.

    A checkpoint is signed first, so the bundle embedded in the dossier is anchored up to its last row.
    """
    lang = request.GET.get("lang", "fr")
    if lang not in LANGS:
        raise Http404("Unknown dossier language.")
    user = request.user
    name = user.get_full_name() or user.get_username()
    pdf = export_dossier(case, lang=lang, acting_user=user, generated_by=name).pdf
    record(
        SecurityEvent.Kind.EXPORT,
        request,
        user=user,
        organization=case.organization,
        detail=f"dossier {case.reference} ({lang})",
    )
    return _attachment(HttpResponse(pdf, content_type="application/pdf"), f"dossier-{_safe(case.reference)}-{lang}.pdf")


@case_view()
def member_letter_download(request: HttpRequest, case, *, role: str) -> HttpResponse:
    """The one-page information letter to the persons concerned, ready for mail merge."""
    pdf = build_member_letter(case)
    record(
        SecurityEvent.Kind.EXPORT,
        request,
        user=request.user,
        organization=case.organization,
        detail=f"member letter {case.reference}",
    )
    return _attachment(
        HttpResponse(pdf, content_type="application/pdf"), f"lettre-personnes-{_safe(case.reference)}.pdf"
    )


@case_view()
def history_bundle_download(request: HttpRequest, case, *, role: str) -> HttpResponse:
    """The case's verification bundle on its own (gzip JSON), after a fresh checkpoint; every role."""
    data = export_bundle(case, acting_user=request.user)
    record(
        SecurityEvent.Kind.EXPORT,
        request,
        user=request.user,
        organization=case.organization,
        detail=f"history bundle {case.reference}",
    )
    return _attachment(
        HttpResponse(data, content_type="application/gzip"), f"history-bundle-{_safe(case.reference)}.json.gz"
    )


@case_view()
def evidence_download(request: HttpRequest, case, evidence_id: int, *, role: str) -> HttpResponse:
    """An evidence file, always as an attachment with the type found when it was checked on upload."""
    evidence = get_object_or_404(case.evidence, pk=evidence_id)
    response = FileResponse(evidence.file.open("rb"), content_type=evidence.content_type)
    record(
        SecurityEvent.Kind.EXPORT,
        request,
        user=request.user,
        organization=case.organization,
        detail=f"evidence {evidence.sha256[:12]} of {case.reference}",
    )
    return _attachment(response, _safe(evidence.original_name))


@case_view()
def controller_notice_pdf(request: HttpRequest, case, notice_id: int, *, role: str) -> HttpResponse:
    """The Art. 33(2) notice exactly as sent to a controller (the stored PDF), for the processor's members."""
    notice = get_object_or_404(case.controller_notices.exclude(notice_pdf=""), pk=notice_id)
    response = FileResponse(notice.notice_pdf.open("rb"), content_type="application/pdf")
    record(
        SecurityEvent.Kind.EXPORT,
        request,
        user=request.user,
        organization=case.organization,
        detail=f"controller notice {notice.notice_sha256[:12]} of {case.reference}",
    )
    return _attachment(response, f"notification-{_safe(case.reference)}-{notice.pk}.pdf")
