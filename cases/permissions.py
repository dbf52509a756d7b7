"""Who may do what on an organisation's cases: roles per membership, checked by the services."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from .models import Membership, Organization

ADMIN_ROLES = frozenset({Membership.Role.ADMIN})
WRITE_ROLES = frozenset({Membership.Role.DPO, Membership.Role.ADMIN})
DECISION_ROLES = WRITE_ROLES | {Membership.Role.LEGAL}
READ_ROLES = DECISION_ROLES | {Membership.Role.AUDITOR}


def role_of(user, organization: Organization) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    membership = Membership.objects.filter(user=user, organization=organization, is_active=True).only("role").first()
    return membership.role if membership else None


def require_role(user, organization: Organization, allowed: frozenset[str]) -> str:
    """The user's role in `organization` if it is one of `allowed`; PermissionDenied otherwise."""
    role = role_of(user, organization)
    if role not in allowed:
        raise PermissionDenied(_("Your role in %(org)s does not allow this action.") % {"org": organization})
    return role
