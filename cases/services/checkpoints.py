"""Checkpoints of the history: before an export, by a member of the case's organisation, or by the operator."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from ..checkpoints import create_checkpoint
from ..models import BreachCase, Checkpoint
from ..permissions import READ_ROLES, require_role


def checkpoint_create(
    *, reason: str, acting_user=None, case: BreachCase | None = None, force: bool = False
) -> Checkpoint:
    """A signed checkpoint of every chain head (the latest one when nothing changed since, unless `force`).

    With a `case`, for its export: the acting user must be able to read it (every role may
    export). Without one, only the operator's command calls it, with no acting user.
    """
    if case is not None:
        require_role(acting_user, case.organization, READ_ROLES)
    elif acting_user is not None:
        raise PermissionDenied("Only the operator's checkpoint_history command makes checkpoints outside an export.")
    checkpoint, _ = create_checkpoint(reason=reason, force=force)
    return checkpoint
