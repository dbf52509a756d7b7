"""The security log (append-only) and the sessions a user has open."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SecurityEvent(models.Model):
    """One security-relevant event: logins, failures, lockouts, second factor, exports."""

    class Kind(models.TextChoices):
        LOGIN = "login", _("Login (password accepted)")
        LOGIN_FAILED = "login_failed", _("Login failed")
        LOCKED_OUT = "locked_out", _("Locked out")
        OTP_VERIFIED = "otp_verified", _("Second factor verified")
        OTP_FAILED = "otp_failed", _("Second factor failed")
        OTP_ENROLLED = "otp_enrolled", _("Second factor enrolled")
        BACKUP_CODES = "backup_codes", _("Backup codes generated")
        BACKUP_CODE_USED = "backup_code_used", _("Backup code used")
        LOGOUT = "logout", _("Logout")
        LOGOUT_EVERYWHERE = "logout_everywhere", _("Logout from every session")
        UNLOCKED = "unlocked", _("Account unlocked by an administrator")
        EXPORT = "export", _("Export")

    kind = models.CharField(_("event"), max_length=30, choices=Kind.choices, db_index=True)
    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    username = models.CharField(_("username given"), max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    organization = models.ForeignKey(
        "cases.Organization", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    detail = models.CharField(_("detail"), max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("security event")
        verbose_name_plural = _("security log")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.username}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("The security log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("The security log is append-only.")


class UserSession(models.Model):
    """A session opened by a login, so a user can end all of them at once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
