"""What every service shares: the clock, the audited save, input checks and the case lock."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from ..deadlines import PARIS
from ..models import BreachCase

# Clock skew tolerated for instants entered "now" from a browser.
FUTURE_TOLERANCE = timedelta(minutes=5)


def now() -> datetime:
    return timezone.now()


def paris_time(value: datetime) -> str:
    """An instant as Paris wall-clock time for error messages, e.g. 01/02/2024 18:00."""
    return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


def save(obj, *, acting_user, reason: str = "") -> None:
    obj._history_user = acting_user
    obj._change_reason = reason
    obj.full_clean(validate_unique=False, validate_constraints=False)
    obj.save()


def check_not_future(errors: dict, field: str, value: datetime | None) -> None:
    if value is not None and value > now() + FUTURE_TOLERANCE:
        errors.setdefault(field, []).append(_("This date is in the future."))


def check_aware(errors: dict, field: str, value) -> None:
    if value is not None and (not isinstance(value, datetime) or timezone.is_naive(value)):
        errors.setdefault(field, []).append(_("Enter a date and time with its time zone."))


def raise_errors(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def blank(text) -> bool:
    return not (text or "").strip()


def require_not_closed(case: BreachCase) -> None:
    if case.status == BreachCase.Status.CLOSED:
        raise ValidationError(_("This case is closed; reopen it (with a reason) before changing it."))


def lock_open_case(case: BreachCase) -> BreachCase:
    """The case as stored, locked for this transaction; refused if closed (the caller's copy may be stale)."""
    case = BreachCase.objects.select_for_update().select_related("organization").get(pk=case.pk)
    require_not_closed(case)
    return case
