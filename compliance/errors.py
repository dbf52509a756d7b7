"""Error pages in the product's layout (templates/errors/), French and English, each with a way back.

Django renders 400, 403, 404 and 500 from templates/400.html... (they extend errors/base.html);
this module adds what Django has no handler for: a 405 page instead of an empty answer, a 409
page for a concurrent change that no form handled (`StaleVersionError`, `TryAgainError`), the CSRF
refusal as a 403 page, and a 404/400 for control characters in the URL before anything reads it.
"""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from cases.inputs import has_forbidden_characters
from cases.services.common import StaleVersionError, TryAgainError, is_transient


class RefuseControlCharactersMiddleware:
    """No path with a control character names anything (404); no query string needs one (400).

    PostgreSQL refuses NUL in any text it is given, so a NUL reaching a lookup was a server error.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if has_forbidden_characters(request.path_info):
            raise Http404("Control character in the path.")
        for key, values in request.GET.lists():
            if any(has_forbidden_characters(text, multiline=True) for text in (key, *values)):
                raise BadRequest("Control character in the query string.")
        return self.get_response(request)


class ErrorPageMiddleware:
    """405 answers get the product's page; a conflict escaping a view answers 409, never 500.

    A conflict is a stale version or a transaction the database kept refusing, whether a service
    gave up (`TryAgainError`) or a deadlock escaped a view's own transaction block unretried.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 405 and not response.content:
            page = render(request, "405.html", status=405)
            page["Allow"] = response.get("Allow", "")
            return page
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, StaleVersionError | TryAgainError) or (
            isinstance(exception, OperationalError) and is_transient(exception)
        ):
            return render(request, "409.html", status=409)
        return None


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403.html", status=403)
