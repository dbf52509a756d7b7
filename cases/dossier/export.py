"""Exports anchored by a fresh checkpoint: the dossier and the verification bundle, as the views and commands give them.

Every export signs a checkpoint of all chain heads first (none is made when nothing changed
since the last one), so the bundle, in the PDF or on its own, is anchored up to the case's
last row. A row written between the checkpoint and the read would be left uncovered: the
export then checkpoints and builds again.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from .. import services
from ..bundle import case_bundle
from ..models import BreachCase
from .builder import RenderedDossier, render_dossier

ATTEMPTS = 3


def _checkpoint(case: BreachCase, acting_user, what: str) -> None:
    # The operator's commands export with no acting user; a request exports as its user.
    scope = {"case": case, "acting_user": acting_user} if acting_user is not None else {}
    services.checkpoint_create(reason=f"{what} {case.reference}", **scope)


def export_dossier(
    case: BreachCase,
    *,
    lang: str = "fr",
    acting_user=None,
    generated_by: str = "",
    generated_at: datetime | None = None,
) -> RenderedDossier:
    generated_at = generated_at or timezone.now()
    for _ in range(ATTEMPTS):
        _checkpoint(case, acting_user, "dossier")
        result = render_dossier(case, lang=lang, generated_at=generated_at, generated_by=generated_by)
        if result.bundle_covered:
            break
    return result


def export_bundle(case: BreachCase, *, acting_user=None) -> bytes:
    for _ in range(ATTEMPTS):
        _checkpoint(case, acting_user, "bundle")
        writer = case_bundle(case, generated_at=timezone.now())
        if writer.covered:
            break
    return writer.data
