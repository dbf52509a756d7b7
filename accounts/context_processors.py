"""Template context for the security pages."""

from django.conf import settings


def security(request) -> dict:
    return {"lockout_minutes": settings.AXES_COOLOFF_MINUTES}
