"""Template context every page shares: the product's name and the menu the user may use.

The menu shows only what the user may open, by the roles of the user's active memberships
(the query the dashboard and case list make anyway, made once per request and only when a
page draws the menu). The views and services check again: the
menu is a convenience, never the permission.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from cases.models import Organization
from cases.permissions import ADMIN_ROLES, WRITE_ROLES
from cases.selectors.board import request_organizations

PROCESSOR_KINDS = {Organization.Kind.PROCESSOR, Organization.Kind.BOTH}
CONTROLLER_KINDS = {Organization.Kind.CONTROLLER, Organization.Kind.BOTH}


class Menu:
    """What the signed-in user may open, from the roles the user holds in any organisation."""

    def __init__(self, request) -> None:
        user = request.user
        roles = {organization.role for organization in request_organizations(request)}
        self.is_member = bool(roles)
        self.can_open_case = bool(roles & WRITE_ROLES)
        self.can_read_security_log = bool(roles & ADMIN_ROLES)
        self.is_staff = bool(user.is_authenticated and user.is_staff)
        # The relationship pages (issue 9): a processor's controllers, a controller's processors and inbox.
        kinds = {organization.kind for organization in request_organizations(request)}
        self.controllers = bool(kinds & PROCESSOR_KINDS)
        self.processors = self.inbox = bool(kinds & CONTROLLER_KINDS)


def navigation(request) -> dict:
    return {
        "product_name": settings.PRODUCT_NAME,
        "menu": SimpleLazyObject(lambda: Menu(request)) if hasattr(request, "user") else None,
    }
