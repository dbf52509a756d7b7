"""Reminders sent before and after a deadline, and each user's reminder preferences."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cases.models import Obligation


class ReminderKind(models.TextChoices):
    DUE_24H = "due_24h", _("Due within 24 hours")
    DUE_4H = "due_4h", _("Due within 4 hours")
    OVERDUE = "overdue", pgettext_lazy("reminders", "Overdue")
    ESCALATION = "escalation", _("Escalation (overdue)")


class ReminderSent(models.Model):
    """One reminder e-mail to one person, claimed by inserting this row before it is sent.

    The unique constraint is what makes sending idempotent and safe from several machines at
    once: the row is the claim. It includes the due date the reminder announced, so a due date
    recomputed later re-arms the reminders, while the same one is never sent twice.
    """

    Kind = ReminderKind

    # No index of its own: the unique constraint below starts with it (one index less to write per claim).
    obligation = models.ForeignKey(Obligation, on_delete=models.PROTECT, related_name="reminders_sent", db_index=False)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reminders_received")
    recipient_email = models.EmailField(pgettext_lazy("reminders", "sent to"))
    kind = models.CharField(pgettext_lazy("reminders", "kind"), max_length=20, choices=ReminderKind.choices)
    sent_at = models.DateTimeField(pgettext_lazy("reminders", "sent at"), db_index=True)
    due_at_when_sent = models.DateTimeField(pgettext_lazy("reminders", "due date announced"))
    run_id = models.UUIDField(
        pgettext_lazy("reminders", "run"), db_index=True, editable=False, help_text=_("The run that claimed it.")
    )

    class Meta:
        ordering = ["-sent_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["obligation", "recipient", "kind", "due_at_when_sent"], name="reminder_sent_once"
            )
        ]
        verbose_name = pgettext_lazy("reminders", "reminder sent")
        verbose_name_plural = pgettext_lazy("reminders", "reminders sent")

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id} ({self.obligation_id})"


class ReminderPreference(models.Model):
    """Which reminders a user receives, and in which language. Escalations cannot be turned off."""

    class Language(models.TextChoices):
        FR = "fr", _("French")
        EN = "en", _("English")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_preference")
    receive_due_24h = models.BooleanField(_("24 hours before a deadline"), default=True)
    receive_due_4h = models.BooleanField(_("4 hours before a deadline"), default=True)
    receive_overdue = models.BooleanField(_("when a deadline has passed"), default=True)
    language = models.CharField(_("language of the e-mails"), max_length=2, choices=Language.choices, default="fr")

    class Meta:
        verbose_name = pgettext_lazy("reminders", "reminder preferences")
        verbose_name_plural = pgettext_lazy("reminders", "reminder preferences")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language}"

    @classmethod
    def for_user(cls, user) -> ReminderPreference:
        """The user's preferences; the defaults (unsaved) when they never set any."""
        try:
            return user.reminder_preference
        except cls.DoesNotExist:
            return cls(user=user)

    def wants(self, kind: str) -> bool:
        if kind == ReminderKind.ESCALATION:
            return True
        return bool(getattr(self, f"receive_{kind}"))
