"""Processing relationships and the inbox of received notices.

- Controllers (processor side): the processor's contracts with its controllers; its administrators
  record one (external, or on the platform with an invitation code shown once) and end one.
- Processors (controller side): the processors whose invitation the organisation accepted; its
  administrators enter a code there.
- Inbox (controller side): notices received from processors; the organisation's writers decide.

Every object is looked up through the user's own memberships: another organisation's relationship
or notice answers 404, and no page lists or names an organisation the user's organisation has no
accepted relationship with.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import SecurityEvent
from accounts.security_log import record

from .. import services
from ..forms import (
    AttachNoticeForm,
    DismissNoticeForm,
    OpenFromNoticeForm,
    RelationshipAcceptForm,
    RelationshipEndForm,
    RelationshipForm,
    RelationshipImportForm,
    apply_service_errors,
    link_errors,
)
from ..models import Membership, Organization, ProcessingRelationship, ReceivedNotice
from ..permissions import ADMIN_ROLES, READ_ROLES, WRITE_ROLES
from ..relationship_import import Action
from ..services.common import StaleVersionError, TryAgainError

FORM_METHODS = ["GET", "POST"]


def roles_of(user) -> dict[int, str]:
    """organisation id -> the user's role, for every active membership (one query)."""
    return dict(Membership.objects.filter(user=user, is_active=True).values_list("organization_id", "role"))


def _orgs(roles: dict[int, str], allowed, *, kind: str) -> list[Organization]:
    ids = [org_id for org_id, role in roles.items() if role in allowed]
    kinds = [
        Organization.Kind.BOTH,
        Organization.Kind.PROCESSOR if kind == "processor" else Organization.Kind.CONTROLLER,
    ]
    return list(Organization.objects.filter(pk__in=ids, kind__in=kinds).order_by("name"))


def _refusal(form, error: Exception) -> None:
    if isinstance(error, ValidationError):
        apply_service_errors(form, error)
    elif isinstance(error, StaleVersionError):
        form.add_error(None, _("This record changed since you opened the page: reload it and decide again."))
    else:
        form.add_error(None, _("Another change was being saved at the same moment; send the form again."))


# --- processor side ------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(FORM_METHODS)
def controllers(request: HttpRequest) -> HttpResponse:
    """The processor's relationships with its controllers; its administrators record new ones."""
    roles = roles_of(request.user)
    readable = _orgs(roles, READ_ROLES, kind="processor")
    if not readable:
        raise Http404("No processor organisation.")
    admin_orgs = [o for o in readable if roles[o.pk] in ADMIN_ROLES]
    queryset = Organization.objects.filter(pk__in=[o.pk for o in admin_orgs]).order_by("name")
    form = RelationshipForm(organizations=queryset, initial={"organization": admin_orgs[0] if admin_orgs else None})
    status, new_code = 200, None
    if request.method == "POST":
        if not admin_orgs:
            raise PermissionDenied
        form = RelationshipForm(request.POST, organizations=queryset)
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                relationship = services.relationship_create(
                    processor=d["organization"],
                    controller_name=d["controller_name"],
                    on_platform=d["on_platform"],
                    controller_siren=d["controller_siren"],
                    contacts=d["contacts"],
                    notice_period_hours=d["notice_period_hours"],
                    contract_reference=d["contract_reference"],
                    acting_user=request.user,
                )
            except (ValidationError, TryAgainError) as error:
                _refusal(form, error)
            else:
                if relationship.invitation_code is None:
                    messages.success(request, _("Relationship recorded."))
                    return redirect("cases:relationship_controllers")
                status = 200
                new_code = {"relationship": relationship, "code": relationship.invitation_code}
                form = RelationshipForm(organizations=queryset)
        link_errors(form)
    relationships = list(
        ProcessingRelationship.objects.filter(processor__in=readable)
        .select_related("processor")
        .order_by("processor__name", "controller_name", "pk")
    )
    context = {"relationships": relationships, "form": form if admin_orgs else None, "new_code": new_code}
    return render(request, "cases/relationship_controllers.html", context, status=status)


# --- controller side -----------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(FORM_METHODS)
def processors(request: HttpRequest) -> HttpResponse:
    """The processors the organisation accepted; its administrators enter a processor's invitation code."""
    roles = roles_of(request.user)
    readable = _orgs(roles, READ_ROLES, kind="controller")
    if not readable:
        raise Http404("No controller organisation.")
    admin_orgs = [o for o in readable if roles[o.pk] in ADMIN_ROLES]
    queryset = Organization.objects.filter(pk__in=[o.pk for o in admin_orgs]).order_by("name")
    form = RelationshipAcceptForm(
        organizations=queryset, initial={"organization": admin_orgs[0] if admin_orgs else None}
    )
    status = 200
    if request.method == "POST":
        if not admin_orgs:
            raise PermissionDenied
        form = RelationshipAcceptForm(request.POST, organizations=queryset)
        status = 400
        if form.is_valid():
            try:
                services.relationship_accept(
                    organization=form.cleaned_data["organization"],
                    code=form.cleaned_data["code"],
                    acting_user=request.user,
                )
            except (ValidationError, TryAgainError) as error:
                _refusal(form, error)
            else:
                messages.success(request, _("Relationship accepted: the processor's notices now reach your inbox."))
                return redirect("cases:relationship_processors")
        link_errors(form)
    relationships = list(
        ProcessingRelationship.objects.filter(controller__in=readable)
        .select_related("processor", "controller")
        .order_by("controller__name", "processor__name", "pk")
    )
    context = {"relationships": relationships, "form": form if admin_orgs else None}
    return render(request, "cases/relationship_processors.html", context, status=status)


# --- one relationship (either side) ----------------------------------------------------------------


def _relationship_for(user, relationship_id: int) -> tuple[ProcessingRelationship, str, str]:
    """The relationship, the side the user stands on and the user's role there; 404 for anyone else."""
    roles = roles_of(user)
    relationship = (
        ProcessingRelationship.objects.select_related("processor")
        .filter(Q(processor_id__in=list(roles)) | Q(controller_id__in=list(roles)), pk=relationship_id)
        .first()
    )
    if relationship is None:
        raise Http404("No such relationship.")
    if relationship.processor_id in roles and roles[relationship.processor_id] in READ_ROLES:
        return relationship, "processor", roles[relationship.processor_id]
    if relationship.controller_id in roles and roles[relationship.controller_id] in READ_ROLES:
        return relationship, "controller", roles[relationship.controller_id]
    raise Http404("No such relationship.")


@never_cache
@login_required
@require_http_methods(FORM_METHODS)
def relationship_detail(request: HttpRequest, relationship_id: int) -> HttpResponse:
    """One relationship as its side may see it; POST ends it (an administrator of either side, with a reason)."""
    relationship, side, role = _relationship_for(request.user, relationship_id)
    can_end = role in ADMIN_ROLES and relationship.ended_at is None
    form = RelationshipEndForm(initial={"version": relationship.version})
    status = 200
    if request.method == "POST":
        if not can_end:
            raise PermissionDenied
        form = RelationshipEndForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                services.relationship_end(
                    relationship,
                    reason=form.cleaned_data["reason"],
                    expected_version=form.cleaned_data["version"],
                    acting_user=request.user,
                )
            except (ValidationError, StaleVersionError, TryAgainError) as error:
                status = 409 if isinstance(error, StaleVersionError) else 400
                _refusal(form, error)
            else:
                messages.success(request, _("Relationship ended."))
                return redirect("cases:relationship_detail", relationship_id=relationship.pk)
        link_errors(form)
    back = "cases:relationship_controllers" if side == "processor" else "cases:relationship_processors"
    context = {
        "relationship": relationship,
        "side": side,
        "end_form": form if can_end else None,
        "can_invite": side == "processor"
        and role in ADMIN_ROLES
        and relationship.status == ProcessingRelationship.Status.PENDING,
        "back_url": reverse(back),
    }
    return render(request, "cases/relationship_detail.html", context, status=status)


@never_cache
@login_required
@require_POST
def relationship_invite(request: HttpRequest, relationship_id: int) -> HttpResponse:
    """A new invitation code (the previous one stops working), shown once to the processor's administrator."""
    relationship, side, role = _relationship_for(request.user, relationship_id)
    if side != "processor" or role not in ADMIN_ROLES:
        raise PermissionDenied
    form = RelationshipEndForm(initial={"version": relationship.version})
    version = request.POST.get("version", "")
    if not (version.isascii() and version.isdigit() and len(version) < 10):  # "²" is a digit int() refuses
        return render(
            request,
            "cases/relationship_detail.html",
            {"relationship": relationship, "side": side, "end_form": form, "can_invite": True, "error": True},
            status=400,
        )
    try:
        code = services.relationship_invite(relationship, expected_version=int(version), acting_user=request.user)
    except (ValidationError, StaleVersionError, TryAgainError):
        messages.error(request, _("No new code: the relationship is not waiting for its controller any more."))
        return redirect("cases:relationship_detail", relationship_id=relationship.pk)
    relationship.refresh_from_db()
    context = {
        "relationship": relationship,
        "side": side,
        "end_form": RelationshipEndForm(initial={"version": relationship.version}),
        "can_invite": True,
        "new_code": code,
        "back_url": reverse("cases:relationship_controllers"),
    }
    return render(request, "cases/relationship_detail.html", context, status=200)


# --- the inbox -------------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET"])
def inbox(request: HttpRequest) -> HttpResponse:
    """Notices received from processors, those still to decide first."""
    roles = roles_of(request.user)
    readable = _orgs(roles, READ_ROLES, kind="controller")
    if not readable:
        raise Http404("No controller organisation.")
    notices = list(
        ReceivedNotice.objects.filter(controller__in=readable)
        .select_related("controller", "case")
        .order_by("-received_at", "-pk")
    )
    notices.sort(key=lambda n: n.decision != ReceivedNotice.Decision.RECEIVED)
    return render(request, "cases/inbox.html", {"notices": notices})


@never_cache
@login_required
@require_http_methods(FORM_METHODS)
def inbox_notice(request: HttpRequest, received_id: int) -> HttpResponse:
    """One received notice; the organisation's writers open a case from it, attach it, or dismiss it."""
    roles = roles_of(request.user)
    received = (
        ReceivedNotice.objects.select_related("controller", "case", "decided_by", "relationship__processor")
        .filter(pk=received_id, controller_id__in=[o for o, r in roles.items() if r in READ_ROLES])
        .first()
    )
    if received is None:
        raise Http404("No such notice.")
    can_decide = roles[received.controller_id] in WRITE_ROLES and received.decision == ReceivedNotice.Decision.RECEIVED
    initial = {"version": received.version}
    forms = {
        "open": OpenFromNoticeForm(initial={**initial, "aware_at": received.received_at}),
        "attach": AttachNoticeForm(initial=initial, organization_id=received.controller_id),
        "dismiss": DismissNoticeForm(initial=initial),
    }
    status = 200
    if request.method == "POST":
        if not can_decide:
            raise PermissionDenied
        action = request.POST.get("action", "")
        status = 400
        if action in forms:
            kwargs = {"organization_id": received.controller_id} if action == "attach" else {}
            form = type(forms[action])(request.POST, **kwargs)
            forms[action] = form
            if form.is_valid():
                d = form.cleaned_data
                try:
                    if action == "open":
                        case = services.received_open_case(
                            received,
                            aware_at=d["aware_at"],
                            aware_justification=d["aware_justification"],
                            title=d["title"],
                            expected_version=d["version"],
                            acting_user=request.user,
                        )
                        messages.success(request, _("Case opened from the processor's notice."))
                        return redirect(case.get_absolute_url())
                    if action == "attach":
                        services.received_attach(
                            received,
                            case=d["case"],
                            reason=d["reason"],
                            expected_version=d["version"],
                            acting_user=request.user,
                        )
                    else:
                        services.received_dismiss(
                            received, reason=d["reason"], expected_version=d["version"], acting_user=request.user
                        )
                except (ValidationError, StaleVersionError, TryAgainError) as error:
                    status = 409 if isinstance(error, StaleVersionError) else 400
                    _refusal(form, error)
                else:
                    messages.success(request, _("Decision recorded."))
                    return redirect("cases:inbox_notice", received_id=received.pk)
            link_errors(form)
    context = {"received": received, "can_decide": can_decide, "forms": forms}
    return render(request, "cases/inbox_notice.html", context, status=status)


# --- CSV import (processor side) ---------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(FORM_METHODS)
def relationship_import(request: HttpRequest) -> HttpResponse:
    """Preview a CSV file of controllers line by line, then import it in one transaction."""
    roles = roles_of(request.user)
    admin_orgs = _orgs(roles, ADMIN_ROLES, kind="processor")
    if not admin_orgs:
        raise PermissionDenied
    queryset = Organization.objects.filter(pk__in=[o.pk for o in admin_orgs]).order_by("name")
    form = RelationshipImportForm(organizations=queryset, initial={"organization": admin_orgs[0]})
    preview, status = None, 200
    if request.method == "POST":
        form = RelationshipImportForm(request.POST, request.FILES, organizations=queryset)
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                if request.POST.get("action") == "import":
                    counts = services.relationships_import(
                        processor=d["organization"],
                        text=d["text"],
                        skip_rejected=d["skip_rejected"],
                        acting_user=request.user,
                    )
                    messages.success(
                        request,
                        _("Import done: %(created)s created, %(updated)s updated, %(rejected)s rejected.") % counts,
                    )
                    return redirect("cases:relationship_controllers")
                preview = services.relationships_import_preview(
                    processor=d["organization"], text=d["text"], acting_user=request.user
                )
                status = 200
                form = RelationshipImportForm(
                    organizations=queryset,
                    initial={"organization": d["organization"], "text": d["text"], "skip_rejected": d["skip_rejected"]},
                )
            except (ValidationError, TryAgainError) as error:
                _refusal(form, error)
        link_errors(form)
    summary = None
    if preview is not None:
        summary = {action: sum(1 for line in preview if line.action == action) for action in Action.ALL}
    context = {"form": form, "preview": preview, "summary": summary}
    return render(request, "cases/relationship_import.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET"])
def inbox_notice_pdf(request: HttpRequest, received_id: int) -> HttpResponse:
    """The PDF a processor sent, as received: for the controller's own members only (404 for anyone else)."""
    roles = roles_of(request.user)
    received = (
        ReceivedNotice.objects.select_related("notice", "controller")
        .filter(pk=received_id, controller_id__in=[o for o, r in roles.items() if r in READ_ROLES])
        .exclude(notice__notice_pdf="")
        .first()
    )
    if received is None:
        raise Http404("No such notice.")
    response = FileResponse(received.notice.notice_pdf.open("rb"), content_type="application/pdf")
    record(
        SecurityEvent.Kind.EXPORT,
        request,
        user=request.user,
        organization=received.controller,
        detail=f"received notice {received.pdf_sha256[:12]}",
    )
    response["Content-Disposition"] = f'attachment; filename="notification-recue-{received.pk}.pdf"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
