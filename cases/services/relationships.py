"""Processing relationships: a processor's contracts with its controllers, and how both sides agree to them.

A processor administrator creates a relationship (its own side is accepted by creating it). An
external controller (name, SIREN, contacts) is active at once and nothing is ever written outside
the processor's register. For a controller on the platform, the processor sends an invitation code
out of band; an administrator of the controller enters it on its own Processors page, which links
the relationship to that organisation. No service lists or looks up another organisation by name:
the code is the only way in, and a wrong, used or expired code gets one generic answer.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from ..inputs import NOTICE_PERIOD_MAX_HOURS
from ..models import Organization, ProcessingRelationship
from ..models.relationships import contacts_errors
from ..permissions import ADMIN_ROLES, require_role, role_of
from ..relationship_import import Action, read_lines
from .common import blank, check_version, now, raise_errors, save, service

INVITATION_LIFETIME = timedelta(days=14)
INVITATION_BYTES = 24


def invitation_digest(code: str) -> str:
    return hashlib.sha256((code or "").strip().encode()).hexdigest()


def check_notice_period(errors: dict, hours) -> None:
    if hours is not None and (
        isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= NOTICE_PERIOD_MAX_HOURS
    ):
        errors["notice_period_hours"] = [
            _("The notice period is a whole number of hours from 1 to %(max)s.") % {"max": NOTICE_PERIOD_MAX_HOURS}
        ]


def _lock_processor(processor: Organization) -> None:
    """Lock the processor's row: its relationships are created by one writer at a time.

    Two administrators recording the same SIREN at once (a double-clicked import) would otherwise
    both find it free, and the second insert would hit the unique SIREN constraint (a server error).
    FOR NO KEY UPDATE: rows that only reference the organisation (its cases) are not held up.
    """
    list(Organization.objects.select_for_update(no_key=True).filter(pk=processor.pk).values_list("pk", flat=True))


def _new_code(relationship: ProcessingRelationship) -> str:
    code = secrets.token_urlsafe(INVITATION_BYTES)
    relationship.invitation_digest = invitation_digest(code)
    relationship.invitation_expires_at = now() + INVITATION_LIFETIME
    return code


@service
def relationship_create(
    *,
    processor: Organization,
    controller_name: str,
    acting_user,
    on_platform: bool = False,
    controller_siren: str = "",
    contacts: list | None = None,
    notice_period_hours: int | None = None,
    contract_reference: str = "",
) -> ProcessingRelationship:
    """Record a processor's contract with a controller; accepted on the processor's side by creating it.

    For a controller on the platform, the returned relationship carries `invitation_code` (shown
    once, never stored: only its SHA-256 is kept) to send to the controller out of band.
    """
    require_role(acting_user, processor, ADMIN_ROLES)
    _lock_processor(processor)
    errors: dict = {}
    if not processor.is_processor:
        errors["__all__"] = [_("Only a processor records the controllers it works for.")]
    if not isinstance(controller_name, str) or blank(controller_name):
        errors["controller_name"] = [_("Give the controller's name.")]
    siren = (controller_siren or "").strip() if isinstance(controller_siren, str) else controller_siren
    if not isinstance(siren, str):
        errors["controller_siren"] = [_("A SIREN number has exactly 9 digits.")]
    elif (
        siren
        and ProcessingRelationship.objects.filter(
            processor=processor, controller_siren=siren, ended_at__isnull=True
        ).exists()
    ):
        errors["controller_siren"] = [_("A relationship with this SIREN already exists.")]
    contacts = [] if contacts is None else contacts
    problems = contacts_errors(contacts)
    if problems:
        errors["contacts"] = problems
    check_notice_period(errors, notice_period_hours)
    if not isinstance(contract_reference, str):
        errors["contract_reference"] = [_("Enter a valid value.")]
    raise_errors(errors)
    moment = now()
    relationship = ProcessingRelationship(
        processor=processor,
        on_platform=bool(on_platform),
        controller_name=controller_name.strip(),
        controller_siren=siren,
        contacts=[{k: str(c.get(k, "")).strip() for k in ("name", "email", "role")} for c in contacts],
        notice_period_hours=notice_period_hours,
        contract_reference=contract_reference.strip(),
        created_by=acting_user,
        processor_accepted_at=moment,
        processor_accepted_by=acting_user,
    )
    code = _new_code(relationship) if relationship.on_platform else None
    save(relationship, acting_user=acting_user, reason=_("Processing relationship recorded."))
    relationship.invitation_code = code
    return relationship


@service
def relationship_invite(
    relationship: ProcessingRelationship, *, acting_user, expected_version: int | None = None
) -> str:
    """A new invitation code for a relationship still waiting for its controller (the old one stops working)."""
    require_role(acting_user, relationship.processor, ADMIN_ROLES)
    relationship = ProcessingRelationship.objects.select_for_update().get(pk=relationship.pk)
    check_version(relationship, expected_version)
    if not relationship.on_platform or relationship.controller_id is not None or relationship.ended_at is not None:
        raise ValidationError(_("Only a relationship waiting for its controller gets an invitation code."))
    code = _new_code(relationship)
    save(relationship, acting_user=acting_user, reason=_("New invitation code generated."))
    return code


@service
def relationship_accept(*, organization: Organization, code: str, acting_user) -> ProcessingRelationship:
    """An administrator of the controller accepts the relationship whose invitation code it received.

    The code works once, until it expires, and never for the processor itself; every refusal is
    the same message, so a code reveals nothing about who issued it or whether it ever existed.
    """
    require_role(acting_user, organization, ADMIN_ROLES)
    refused = ValidationError({"code": [_("This code is not valid. Ask the processor for a new one.")]})
    if not isinstance(code, str) or blank(code) or len(code) > 200:
        raise refused
    relationship = (
        ProcessingRelationship.objects.select_for_update()
        .filter(
            invitation_digest=invitation_digest(code),
            on_platform=True,
            controller__isnull=True,
            ended_at__isnull=True,
            invitation_expires_at__gt=now(),
        )
        .exclude(processor=organization)
        .first()
    )
    if relationship is None:
        raise refused
    relationship.controller = organization
    relationship.controller_accepted_at = now()
    relationship.controller_accepted_by = acting_user
    relationship.invitation_digest = ""
    relationship.invitation_expires_at = None
    save(relationship, acting_user=acting_user, reason=_("Relationship accepted by the controller."))
    return relationship


@service
def relationship_end(
    relationship: ProcessingRelationship, *, reason: str, acting_user, expected_version: int | None = None
) -> ProcessingRelationship:
    """Either side's administrator ends a relationship, with a reason; it stays on record (no deletion)."""
    relationship = ProcessingRelationship.objects.select_for_update().get(pk=relationship.pk)
    sides = [relationship.processor] + ([relationship.controller] if relationship.controller_id else [])
    if not any(role_of(acting_user, side) in ADMIN_ROLES for side in sides):
        raise PermissionDenied(_("Only an administrator of either side may end this relationship."))
    check_version(relationship, expected_version)
    errors: dict = {}
    if relationship.ended_at is not None:
        errors["__all__"] = [_("This relationship has already ended.")]
    if not isinstance(reason, str) or blank(reason):
        errors["reason"] = [_("Give the reason for ending the relationship.")]
    raise_errors(errors)
    relationship.ended_at = now()
    relationship.ended_by = acting_user
    relationship.end_reason = reason.strip()
    relationship.invitation_digest = ""
    relationship.invitation_expires_at = None
    save(relationship, acting_user=acting_user, reason=_("Relationship ended."))
    return relationship


def relationships_import_preview(*, processor: Organization, text: str, acting_user) -> list:
    """What importing the CSV `text` would do, line by line (create, update, unchanged, reject); saves nothing."""
    require_role(acting_user, processor, ADMIN_ROLES)
    if not processor.is_processor:
        raise ValidationError({"file": [_("Only a processor records the controllers it works for.")]})
    return read_lines(processor, text)


@service
def relationships_import(
    *, processor: Organization, text: str, acting_user, skip_rejected: bool = False
) -> dict[str, int]:
    """Create or update the processor's external relationships from a CSV file, in one transaction.

    The file is read again here, against the register as it is now. If any line is rejected,
    nothing is imported unless the user chose to import only the valid lines (`skip_rejected`).
    """
    require_role(acting_user, processor, ADMIN_ROLES)
    _lock_processor(processor)  # before reading the register: a second import sees the first one's lines
    lines = relationships_import_preview(processor=processor, text=text, acting_user=acting_user)
    rejected = [line for line in lines if line.action == Action.REJECT]
    if rejected and not skip_rejected:
        raise ValidationError(
            {
                "file": [
                    _("%(n)s line(s) rejected: nothing was imported. Correct them, or import only the valid lines.")
                    % {"n": len(rejected)}
                ]
            }
        )
    counts = {"created": 0, "updated": 0, "unchanged": 0, "rejected": len(rejected)}
    moment = now()
    updates = [line for line in lines if line.action == Action.UPDATE]
    locked = {
        r.pk: r
        for r in ProcessingRelationship.objects.select_for_update().filter(
            pk__in=[line.relationship.pk for line in updates]
        )
    }
    reason = _("Imported from a CSV file.")
    for line in lines:
        if line.action == Action.CREATE:
            relationship = ProcessingRelationship(
                processor=processor,
                controller_name=line.name,
                controller_siren=line.siren,
                contacts=line.contacts,
                notice_period_hours=line.hours,
                contract_reference=line.reference,
                created_by=acting_user,
                processor_accepted_at=moment,
                processor_accepted_by=acting_user,
            )
        elif line.action == Action.UPDATE:
            relationship = locked.get(line.relationship.pk)
            if relationship is None or relationship.ended_at is not None:  # ended since the file was read
                raise ValidationError({"file": [_("The relationships changed meanwhile: read the file again.")]})
            relationship.controller_name = line.name
            relationship.contacts = line.contacts
            relationship.notice_period_hours = line.hours
            relationship.contract_reference = line.reference
        else:
            if line.action == Action.UNCHANGED:
                counts["unchanged"] += 1
            continue
        relationship.processor = processor
        save(relationship, acting_user=acting_user, reason=reason)
        counts["created" if line.action == Action.CREATE else "updated"] += 1
    return counts
