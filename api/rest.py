"""The API's shared machinery: permissions, throttling and pagination (errors: api.errors)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, pagination, parsers, permissions, throttling

from .models import ApiToken


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser; a body nested deeper than Python's recursion limit (a few kilobytes of
    brackets) is a malformed body (400), not a server error."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(_("JSON parse error: the body is nested too deeply.")) from None


class ReadOnlyTokenPermission(permissions.BasePermission):
    """A read-only token reads; it never writes (403)."""

    message = _("This API token is read-only: it cannot change anything.")

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return not (isinstance(request.auth, ApiToken) and request.auth.read_only)


class ApiUserThrottle(throttling.UserRateThrottle):
    """Requests per user (per address when anonymous), at settings.API_THROTTLE_RATE."""

    def get_rate(self):
        return getattr(settings, "API_THROTTLE_RATE", "600/minute")


class Pagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
