"""Nothing but the login and second-factor pages is reachable before the second factor, admin included."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from .mfa import has_second_factor

# Reachable without a verified second factor (prefix match).
OPEN_PATH_NAMES = ("accounts:login", "accounts:logout", "set_language", "health")
SECOND_FACTOR_PATH_NAMES = ("accounts:enrol", "accounts:verify")
# Authenticated by their own secret instead of a session: calendar feeds (cases.views.feeds.calendar_feed).
# Public by design: the history signing keys and the standalone verifier (cases.views.public).
# The REST API authenticates each request itself: a personal token, or a session that passed the
# second factor (api.authentication); its pages (/api/docs/, /api/tokens/) stay behind this middleware.
OPEN_PATH_PREFIXES = ("/calendar/feed/", "/history/public/", "/api/v1/")


class RequireSecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if self._is_open(path):
            return self.get_response(request)
        user = request.user
        if not user.is_authenticated:
            return redirect(f"{reverse('accounts:login')}?{urlencode({'next': request.get_full_path()})}")
        if user.is_verified():
            return self.get_response(request)
        if path in {reverse(name) for name in SECOND_FACTOR_PATH_NAMES}:
            return self.get_response(request)
        target = "accounts:verify" if has_second_factor(user) else "accounts:enrol"
        return redirect(reverse(target))

    @staticmethod
    def _is_open(path: str) -> bool:
        static = settings.STATIC_URL if settings.STATIC_URL.startswith("/") else f"/{settings.STATIC_URL}"
        if path.startswith(static) or path.startswith(OPEN_PATH_PREFIXES) or path == "/favicon.ico":
            return True
        return path in {reverse(name) for name in OPEN_PATH_NAMES}
