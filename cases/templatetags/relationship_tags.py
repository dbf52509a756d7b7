"""Which of the relationship pages the signed-in user may use (for the navigation links), in one query."""

from __future__ import annotations

from django import template

from ..models import Membership, Organization
from ..permissions import READ_ROLES

register = template.Library()

PROCESSOR_KINDS = {Organization.Kind.PROCESSOR, Organization.Kind.BOTH}
CONTROLLER_KINDS = {Organization.Kind.CONTROLLER, Organization.Kind.BOTH}


@register.simple_tag
def relationship_nav(user) -> dict[str, bool]:
    if not getattr(user, "is_authenticated", False):
        return {"controllers": False, "processors": False, "inbox": False}
    kinds = set(
        Membership.objects.filter(user=user, is_active=True, role__in=READ_ROLES).values_list(
            "organization__kind", flat=True
        )
    )
    return {
        "controllers": bool(kinds & PROCESSOR_KINDS),
        "processors": bool(kinds & CONTROLLER_KINDS),
        "inbox": bool(kinds & CONTROLLER_KINDS),
    }
