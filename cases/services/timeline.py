"""The timeline of the response: dated steps (detection, disconnection, reopening...)."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from ..models import (
    BreachCase,
    TimelineEvent,
)
from ..permissions import WRITE_ROLES, require_role
from .common import check_aware, check_not_future, lock_open_case, raise_errors, save, service


@service
def timeline_event_add(
    case: BreachCase, *, occurred_at: datetime, title: str, acting_user, kind: str = "other", description: str = ""
) -> TimelineEvent:
    """Add a dated step of the response (detection, disconnection, reopening of a platform...)."""
    require_role(acting_user, case.organization, WRITE_ROLES)
    case = lock_open_case(case)
    errors: dict = {}
    check_aware(errors, "occurred_at", occurred_at)
    if not (title or "").strip():
        errors["title"] = [_("Give the event a title.")]
    if kind not in TimelineEvent.Kind.values:
        errors["kind"] = [_("Choose a kind of event from the list.")]
    raise_errors(errors)
    check_not_future(errors, "occurred_at", occurred_at)
    raise_errors(errors)
    event = TimelineEvent(
        case=case,
        occurred_at=occurred_at,
        kind=kind,
        title=title.strip(),
        description=description,
        created_by=acting_user,
    )
    save(event, acting_user=acting_user, reason=_("Timeline event added."))
    return event
