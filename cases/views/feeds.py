"""Exports of the workspace: the Art. 33(5) breach register as CSV, and personal iCalendar feeds of deadlines.

Every export is written to the security log. The register and the feeds page are behind
login and the second factor like every page; the feed itself is fetched by calendar
clients without a session and authenticates by its token alone (`cases.calendar_feed`).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import SecurityEvent
from accounts.security_log import record

from .. import register
from ..calendar_feed import Validators, build_feed, feed_token_issue, feed_token_resolve, feed_token_revoke
from ..deadlines import PARIS
from ..models import BreachCase, CalendarFeedToken, Organization
from ..permissions import READ_ROLES


def _lang() -> str:
    return "en" if (translation.get_language() or "").startswith("en") else "fr"


def _organizations_of(user) -> list[Organization]:
    """The organisations where the user holds an active membership with a role that may read cases."""
    return list(
        Organization.objects.filter(
            memberships__user=user, memberships__is_active=True, memberships__role__in=READ_ROLES
        ).order_by("name")
    )


@login_required
@require_GET
def register_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The breach register of the user's organisations (?organization=<code> for one), one row per case."""
    organizations = _organizations_of(request.user)
    code = request.GET.get("organization", "")
    if code:
        organizations = [o for o in organizations if o.code == code]
        if not organizations:
            raise Http404("No such organisation.")
    lang = _lang()
    # Counted first (one grouped query) for the security log; the rows are then streamed, fetched in
    # batches, so neither the cases nor the file are ever held whole in memory.
    counts = dict(
        BreachCase.objects.filter(organization__in=organizations)
        .order_by()
        .values_list("organization")
        .annotate(n=Count("pk"))
    )
    for organization in organizations or [None]:
        count = counts.get(organization.pk, 0) if organization else 0
        record(
            SecurityEvent.Kind.EXPORT,
            request,
            user=request.user,
            organization=organization,
            detail=f"breach register CSV ({count} cases, {lang})",
        )
    cases = register.register_cases(organizations).iterator(chunk_size=register.CHUNK_ROWS)
    stamp = timezone.localtime(timezone.now(), PARIS).strftime("%Y%m%d-%H%M")
    filename = f"registre-violations-{code + '-' if code else ''}{stamp}.csv"
    response = StreamingHttpResponse(register.iter_csv(cases, lang), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _feed_url(token: str) -> str:
    return settings.SITE_URL + reverse("cases:calendar_feed", kwargs={"token": token})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def calendar_feeds(request: HttpRequest) -> HttpResponse:
    """The user's organisations, each with a button to issue (or reissue) and revoke a personal feed URL."""
    organizations = _organizations_of(request.user)
    new_feed: dict | None = None
    if request.method == "POST":
        code, action = request.POST.get("organization", ""), request.POST.get("action", "")
        if not code or action not in {"issue", "revoke"}:
            return HttpResponseBadRequest(_("Choose an organisation and an action."))
        organization = next((o for o in organizations if o.code == code), None)
        if organization is None:
            raise Http404("No such organisation.")
        if action == "revoke":
            if feed_token_revoke(user=request.user, organization=organization):
                record(
                    SecurityEvent.Kind.EXPORT,
                    request,
                    user=request.user,
                    organization=organization,
                    detail="calendar feed URL revoked",
                )
            messages.success(request, _("The calendar feed URL of %(org)s no longer works.") % {"org": organization})
            return redirect("cases:calendar_feeds")
        token = feed_token_issue(user=request.user, organization=organization, language=_lang())
        record(
            SecurityEvent.Kind.EXPORT,
            request,
            user=request.user,
            organization=organization,
            detail="calendar feed URL issued (previous one revoked)",
        )
        url = _feed_url(token)
        new_feed = {"organization": organization, "url": url, "webcal": "webcal://" + url.split("://", 1)[-1]}

    active = dict(
        CalendarFeedToken.objects.filter(
            user=request.user, organization__in=organizations, revoked_at__isnull=True
        ).values_list("organization_id", "created_at")
    )
    rows = [{"organization": o, "active_since": active.get(o.pk)} for o in organizations]
    return render(request, "cases/calendar_feeds.html", {"rows": rows, "new_feed": new_feed})


def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The organisation's running deadlines as iCalendar, for the token's holder; 404 for any token not live."""
    feed_token = feed_token_resolve(token)
    if feed_token is None:
        raise Http404("No such feed.")
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    organization, lang = feed_token.organization, feed_token.language
    if request.META.get("HTTP_IF_NONE_MATCH"):
        # A calendar client polling: one aggregate query tells whether anything in the feed changed.
        validators = Validators.query(organization, lang)
        not_modified = get_conditional_response(request, etag=validators.etag)
        if not_modified is not None:
            record(
                SecurityEvent.Kind.EXPORT,
                request,
                user=feed_token.user,
                organization=organization,
                detail="calendar feed (not modified)",
            )
            return _feed_headers(not_modified, organization, validators)
    body, count, validators = build_feed(organization, lang=lang)
    record(
        SecurityEvent.Kind.EXPORT,
        request,
        user=feed_token.user,
        organization=organization,
        detail=f"calendar feed ({count} deadlines)",
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="echeances-{organization.code}.ics"'
    return _feed_headers(response, organization, validators)


def _feed_headers(response: HttpResponse, organization: Organization, validators: Validators) -> HttpResponse:
    response["ETag"] = validators.etag
    if validators.last_modified is not None:
        response["Last-Modified"] = http_date(validators.last_modified.timestamp())
    # Kept by the client but revalidated at each poll (If-None-Match), never by a shared cache.
    response["Cache-Control"] = "private, no-cache"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
