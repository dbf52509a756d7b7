"""Security-log receivers for Django's and django-axes' authentication signals."""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .models import SecurityEvent, UserSession
from .security_log import client_ip, record


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    record(SecurityEvent.Kind.LOGIN, request, user=user)
    if request is not None and hasattr(request, "session"):
        if request.session.session_key is None:
            request.session.save()
        UserSession.objects.update_or_create(
            session_key=request.session.session_key,
            defaults={
                "user": user,
                "ip_address": client_ip(request),
                "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
            },
        )


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    kind = SecurityEvent.Kind.OTP_FAILED if credentials.get("second_factor") else SecurityEvent.Kind.LOGIN_FAILED
    record(kind, request, username=credentials.get("username", ""))


@receiver(user_locked_out)
def on_locked_out(sender, request, username, ip_address, **kwargs):
    record(SecurityEvent.Kind.LOCKED_OUT, request, username=username or "", detail=f"address {ip_address}")


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        record(SecurityEvent.Kind.LOGOUT, request, user=user)
    if request is not None and getattr(request, "session", None) is not None and request.session.session_key:
        UserSession.objects.filter(session_key=request.session.session_key).delete()
