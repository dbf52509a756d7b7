"""Every case URL resolves its case through the user's memberships: `case_view` does it once for all.

Another organisation's case answers 404 (never 403, which would confirm it exists); a
member whose role may not use the view gets 403; a method the view does not take gets
405. The decorator records the roles and methods on the view so the all-URL isolation
test (tests/test_isolation_walk.py) derives what every role must get, without anyone
keeping a list by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed

from .inputs import has_forbidden_characters
from .models import BreachCase, Membership
from .permissions import READ_ROLES


def case_and_role_for_user(user, reference: str) -> tuple[BreachCase, str]:
    """The case `reference` and the user's role in its organisation; 404 without an active membership."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        raise Http404("No such case.")
    field = BreachCase._meta.get_field("reference")
    if len(reference) > field.max_length or has_forbidden_characters(reference):
        raise Http404("No such case.")  # no reference looks like this: no query (PostgreSQL refuses NUL)
    case = BreachCase.objects.select_related("organization").filter(reference=reference).first()
    if case is None:
        raise Http404("No such case.")
    role = (
        Membership.objects.filter(user=user, organization_id=case.organization_id, is_active=True)
        .values_list("role", flat=True)
        .first()
    )
    if role is None:
        raise Http404("No such case.")
    return case, role


def case_view(*, roles: Iterable[str] = READ_ROLES, methods: Iterable[str] = ("GET",)) -> Callable:
    """Decorate `view(request, case, *args, role, **kwargs)` taking the URL's `reference`."""
    allowed_roles = frozenset(roles)
    allowed_methods = tuple(m.upper() for m in methods)
    if "GET" in allowed_methods and "HEAD" not in allowed_methods:
        allowed_methods += ("HEAD",)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request, reference: str, *args, **kwargs):
            case, role = case_and_role_for_user(request.user, reference)
            if request.method not in allowed_methods:
                return HttpResponseNotAllowed(allowed_methods)
            if role not in allowed_roles:
                raise PermissionDenied
            return view(request, case, *args, role=role, **kwargs)

        wrapper.case_roles = allowed_roles
        wrapper.case_methods = allowed_methods
        return wrapper

    return decorator
