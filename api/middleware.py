"""Under /api/v1/ every answer is JSON, errors too: the project's HTML error pages (a URL that names
nothing, a control character refused by compliance.errors, a 405 page) become `{"detail": ...}`."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions

API_PREFIX = "/api/v1/"
KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")
# The words of DRF's own answers (translated), so these errors read as the views' do; other statuses
# keep their reason phrase.
DETAILS = {
    400: exceptions.ParseError.default_detail,
    401: exceptions.NotAuthenticated.default_detail,
    403: exceptions.PermissionDenied.default_detail,
    404: exceptions.NotFound.default_detail,
    429: exceptions.Throttled.default_detail,
}


class ApiJsonErrorsMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path_info.startswith(API_PREFIX)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            detail = str(DETAILS.get(response.status_code, response.reason_phrase))
            answer = JsonResponse({"detail": detail}, status=response.status_code)
            for header in KEPT_HEADERS:
                if header in response:
                    answer[header] = response[header]
            return answer
        return response
