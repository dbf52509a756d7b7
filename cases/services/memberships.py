"""Memberships: who holds which role in an organisation."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from ..models import (
    Membership,
    Organization,
)
from ..permissions import ADMIN_ROLES, require_role
from .common import save, service


@service
def membership_grant(*, user, organization: Organization, role: str, acting_user) -> Membership:
    """Give a user a role in an organisation (or change it); kept in the organisation's history.

    Only an administrator of the organisation may do it. `acting_user=None` is the system itself
    (management commands such as the demo seed), never a web request.
    """
    if acting_user is not None and not getattr(acting_user, "is_superuser", False):
        require_role(acting_user, organization, ADMIN_ROLES)
    if role not in Membership.Role.values:
        raise ValidationError({"role": [_("Choose a role from the list.")]})
    membership = Membership.objects.filter(user=user, organization=organization).first()
    if membership is None:
        membership = Membership(user=user, organization=organization, role=role)
    else:
        membership.role, membership.is_active = role, True
    save(membership, acting_user=acting_user, reason=_("Role granted."))
    return membership
