"""Webhook pages, for the administrators of an organisation only: its endpoints and the delivery log."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.models import Membership, Organization
from cases.services.common import StaleVersionError

from . import services
from .forms import EndpointForm, EndpointStateForm
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

LOG_SIZE = 100


def admin_organizations(user) -> list[Organization]:
    """The organisations `user` administers; 403 if none (the pages are for administrators only)."""
    organizations = list(
        Organization.objects.filter(
            memberships__user=user, memberships__is_active=True, memberships__role=Membership.Role.ADMIN
        ).order_by("name")
    )
    if not organizations:
        raise PermissionDenied(_("Only an organisation's administrators manage its webhooks."))
    return organizations


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def endpoints(request: HttpRequest) -> HttpResponse:
    organizations = admin_organizations(request.user)
    form = EndpointForm(request.POST or None, organizations=organizations)
    secret, status = None, 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            organization = next(o for o in organizations if o.code == form.cleaned_data["organization"])
            try:
                _endpoint, secret = services.endpoint_create(
                    organization=organization,
                    url=form.cleaned_data["url"],
                    events=form.cleaned_data["events"],
                    description=form.cleaned_data["description"],
                    acting_user=request.user,
                )
            except ValidationError as error:
                for field, field_errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, field_errors)
            else:
                form, status = EndpointForm(organizations=organizations), 200
    rows = WebhookEndpoint.objects.filter(organization__in=organizations).select_related("organization")
    return render(
        request, "webhooks/endpoints.html", {"form": form, "secret": secret, "endpoints": rows}, status=status
    )


def _endpoint_of_admin(request: HttpRequest, endpoint_id: int) -> WebhookEndpoint:
    endpoint = (
        WebhookEndpoint.objects.filter(
            pk=endpoint_id,
            organization__memberships__user=request.user,
            organization__memberships__is_active=True,
            organization__memberships__role=Membership.Role.ADMIN,
        )
        .select_related("organization")
        .first()
    )
    if endpoint is None:
        raise Http404("No such endpoint.")
    return endpoint


def _change_state(request: HttpRequest, endpoint_id: int, action, done: str) -> HttpResponse:
    endpoint = _endpoint_of_admin(request, endpoint_id)
    form = EndpointStateForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("The page was out of date: reload it."), status=400, content_type="text/plain")
    try:
        action(endpoint=endpoint, acting_user=request.user, expected_version=form.cleaned_data["version"])
    except StaleVersionError:
        messages.error(request, _("The endpoint changed since you loaded the page: check it and try again."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect("webhooks:endpoints")


@login_required
@require_POST
def endpoint_disable(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    return _change_state(request, endpoint_id, services.endpoint_disable, _("The endpoint is disabled."))


@login_required
@require_POST
def endpoint_enable(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    return _change_state(request, endpoint_id, services.endpoint_enable, _("The endpoint is enabled."))


@never_cache
@login_required
@require_GET
def deliveries(request: HttpRequest) -> HttpResponse:
    """The latest deliveries of the administered organisations, each with its attempts."""
    organizations = admin_organizations(request.user)
    rows = list(
        WebhookDelivery.objects.filter(endpoint__organization__in=organizations)
        .select_related("event__organization", "endpoint")
        .prefetch_related(Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("at", "pk")))
        .order_by("-event__created_at", "-pk")[:LOG_SIZE]
    )
    return render(request, "webhooks/deliveries.html", {"deliveries": rows, "log_size": LOG_SIZE})
