"""Public, without login: what an outsider needs to verify a dossier (the signing keys and the verifier).

Nothing here depends on who asks or reveals anything about a case: public keys and a file of code.
"""

from __future__ import annotations

from pathlib import Path

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

from .. import verify_bundle
from ..checkpoints import published_keys


@require_safe
def history_keys(request: HttpRequest) -> JsonResponse:
    """The current and retired checkpoint signing keys: identifier (SHA-256 of the raw key) and raw key (base64)."""
    response = JsonResponse({"algorithm": "Ed25519", "keys": published_keys()})
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_safe
def history_verifier(request: HttpRequest) -> HttpResponse:
    """The standalone verifier, cases/verify_bundle.py, as a download."""
    response = HttpResponse(Path(verify_bundle.__file__).read_bytes(), content_type="text/x-python; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="verify_bundle.py"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
