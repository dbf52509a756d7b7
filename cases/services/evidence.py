"""Evidence: proof files stored under generated names with their SHA-256, type checked by content."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from ..models import (
    BreachCase,
    Evidence,
)
from ..permissions import WRITE_ROLES, require_role
from ..uploads import OFFICE_TYPES, is_office_container, sniff_content_type
from . import common
from .common import lock_open_case, save, service

EVIDENCE_EXTENSIONS = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "text/plain": "txt",
    "message/rfc822": "eml",
    "text/csv": "csv",
    **{content_type: ext.lstrip(".") for ext, content_type in OFFICE_TYPES.items()},
}


@service
def evidence_add(case: BreachCase, *, uploaded_file: UploadedFile, acting_user, description: str = "") -> Evidence:
    """Store a proof file under a generated name with its SHA-256; its type is checked by content."""
    require_role(acting_user, case.organization, WRITE_ROLES)
    case = lock_open_case(case)
    limit = settings.EVIDENCE_MAX_BYTES
    too_large = ValidationError(
        {"file": [_("The file is larger than %(mb)d MB.") % {"mb": limit // (1024 * 1024)}]}, code="too_large"
    )
    if (uploaded_file.size or 0) > limit:
        raise too_large
    digest = hashlib.sha256()
    head = b""
    size = 0
    for chunk in uploaded_file.chunks():
        if len(head) < 8192:
            head += chunk[: 8192 - len(head)]
        digest.update(chunk)
        size += len(chunk)
        if size > limit:  # the declared size is the client's word; the bytes read are not
            raise too_large
    if size == 0:
        raise ValidationError({"file": [_("The file is empty.")]}, code="empty")
    original_name = (uploaded_file.name or "upload")[:255]
    content_type = sniff_content_type(head, original_name)
    if content_type in OFFICE_TYPES.values() and not is_office_container(uploaded_file, original_name):
        content_type = None
    if content_type is None:
        raise ValidationError(
            {"file": [_("This type of file is not accepted, or its content does not match its name.")]},
            code="file_type",
        )
    uploaded_file.seek(0)
    sha = digest.hexdigest()
    # The stored name is ours: the user's file name is kept as data, never used as a path.
    evidence = Evidence(
        case=case,
        original_name=original_name,
        description=description.strip(),
        sha256=sha,
        size=size,
        content_type=content_type,
        uploaded_by=acting_user,
    )
    evidence.file.save(
        f"{sha[:16]}-{common.now():%Y%m%d%H%M%S%f}.{EVIDENCE_EXTENSIONS[content_type]}", uploaded_file, save=False
    )
    # Stored before its row: should this action or the one it is part of fail, the file goes too.
    common.discard_if_rolled_back(evidence.file)
    save(evidence, acting_user=acting_user, reason=_("Evidence added."))
    return evidence
