"""Dossier exports: asked for by a member, built in the background, reused while the case's data is unchanged."""

from __future__ import annotations

import logging
import time

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from .. import jobs
from ..dossier import builder as dossier_builder  # the module, not its names: the dossier imports services too
from ..languages import LANGS
from ..models import BreachCase, DossierExport, JobState
from ..models.exports import export_upload_to
from ..permissions import READ_ROLES, require_role
from .common import lock_case, service

logger = logging.getLogger(__name__)

# Progress (percent) at each step of a build; the layout fills the range in between.
LAYOUT_STARTS, LAYOUT_ENDS = 5, 90
# Attempts after which an export that keeps crashing its worker is given up (the user may ask again).
MAX_ATTEMPTS = 5
# Seconds between two progress writes: the lease renewal and the page's progress bar need no more.
PROGRESS_EVERY = 0.5


@service
def dossier_export_request(case: BreachCase, *, lang: str, acting_user) -> DossierExport:
    """The export of `case`'s dossier in `lang` for `acting_user`: the PDF already built from the same data,
    the export of this case and language already under way, or a new one sent to the workers.

    Any member of the case's organisation may export, auditors included (read-only roles).
    """
    require_role(acting_user, case.organization, READ_ROLES)
    if lang not in LANGS:
        raise ValidationError({"lang": [_("Choose French or English.")]}, code="lang")
    # Lock order: the case row first. Two requests at once for one case therefore queue one export.
    case = lock_case(case)
    same = DossierExport.objects.filter(case=case, lang=lang)
    cached = same.filter(state=JobState.DONE, data_hash=dossier_builder.current_data_hash(case)).first()
    if cached is not None:
        return cached
    pending = same.filter(state__in=[JobState.QUEUED, JobState.RUNNING]).first()
    if pending is not None:
        return pending
    export = DossierExport.objects.create(case=case, lang=lang, requested_by=acting_user)
    from ..tasks import build_dossier_export

    jobs.enqueue_on_commit(build_dossier_export, export.pk)
    return export


def run_dossier_export(export_id: int) -> None:
    """Build the PDF of one export and store it (the work of `cases.tasks.build_dossier_export`).

    Idempotent: a duplicate message finds the export done and does nothing; an attempt after a
    crash builds again and replaces the partial file the dead one may have left.
    """
    claim = jobs.claim(DossierExport, export_id)
    if claim is None:
        return
    export = DossierExport.objects.select_related("case__organization", "requested_by").get(pk=export_id)
    if export.attempts > MAX_ATTEMPTS:
        claim.fail(f"gave up after {MAX_ATTEMPTS} attempts")
        return
    claim.heartbeat(LAYOUT_STARTS)
    last = time.monotonic()

    def report(fraction: float) -> None:
        nonlocal last
        if time.monotonic() - last >= PROGRESS_EVERY:
            last = time.monotonic()
            claim.heartbeat(LAYOUT_STARTS + fraction * (LAYOUT_ENDS - LAYOUT_STARTS))

    user = export.requested_by
    try:
        result = dossier_builder.render_dossier(
            export.case, lang=export.lang, generated_by=user.get_full_name() or user.get_username(), progress=report
        )
    except (ValueError, OSError) as exc:  # e.g. an unreadable signing certificate: another attempt would fail too
        logger.exception("dossier export %s failed", export_id)
        claim.fail(str(exc))
        return
    claim.heartbeat(LAYOUT_ENDS)
    built = {"data_hash": result.data_hash, "pages": result.pages, "signed": result.signed}
    # Another export of the same data and language may have finished meanwhile: share its file.
    twin = (
        DossierExport.objects.filter(
            case_id=export.case_id, lang=export.lang, state=JobState.DONE, data_hash=result.data_hash
        )
        .exclude(pk=export.pk)
        .first()
    )
    if twin is not None:
        claim.finish(file=twin.file.name, size=twin.size, **built)
        return
    name = export_upload_to(export, f"{result.data_hash}-{export.lang}.pdf")
    storage = export.file.storage
    if storage.exists(name):
        storage.delete(name)  # left by an attempt that died before recording it
    stored = storage.save(name, ContentFile(result.pdf))
    claim.finish(file=stored, size=len(result.pdf), **built)
