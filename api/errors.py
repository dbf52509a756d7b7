"""How the API answers errors: DRF's answers, plus the services' errors mapped to HTTP."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from cases.services.common import StaleVersionError, TryAgainError


def handle_exception(exc, context):
    """DRF's answers, plus: a service's ValidationError is 400 with field errors, a stale version 409.

    Every "not found" says DRF's translated words: the Http404 of a lookup carries an English sentence
    for the logs (naming a model or a case), which DRF would otherwise hand to the client."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
        else:
            detail = {"non_field_errors": [str(m) for m in exc.messages]}
        exc = exceptions.ValidationError(detail)
    if isinstance(exc, StaleVersionError):
        return Response(
            {
                "detail": _("This record was changed by someone else since you read it; nothing was saved."),
                "current_version": exc.record.version,
            },
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, TryAgainError):
        return Response(
            {"detail": _("The database was busy; nothing was saved. Try again.")}, status=status.HTTP_409_CONFLICT
        )
    return exception_handler(exc, context)
