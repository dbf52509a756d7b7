"""Signed webhooks of an organisation: its endpoints, the events recorded for them (the outbox) and
each delivery of one event to one endpoint, with every attempt.

The endpoint is configuration an administrator changes: audited like the rest (its secret is left
out of the history). Events, deliveries and attempts are a delivery log written by the machine many
times per event (attempts, backoff): plain tables, as the reminders' claim rows.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models import AuditedModel, Organization, audited_history

URL_MAX = 500


class EventType(models.TextChoices):
    CASE_OPENED = "case.opened", _("Case opened")
    DUE_24H = "obligation.due_24h", _("Obligation due within 24 hours")
    DUE_4H = "obligation.due_4h", _("Obligation due within 4 hours")
    OVERDUE = "obligation.overdue", _("Obligation overdue")
    COMPLETED = "obligation.completed", _("Obligation completed")
    FILING_SENT = "filing.sent", _("Filing sent")
    NOTICE_RECEIVED = "notice.received", _("Controller notice received")


class WebhookEndpoint(AuditedModel):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="webhook_endpoints")
    url = models.URLField(_("URL"), max_length=URL_MAX)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # Space-separated event types (EventType values).
    events = models.CharField(_("events"), max_length=300)
    # Kept to sign each delivery (an HMAC needs the key itself); shown once, never in the history.
    secret = models.CharField(max_length=100, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("why it is disabled"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Failures before this instant (the last time it was enabled) no longer count towards disabling it.
    enabled_at = models.DateTimeField(_("enabled at"))

    history = audited_history(excluded_fields=["secret"])

    class Meta:
        ordering = ["organization", "pk"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return f"webhook #{self.pk} {self.url}"

    def history_chain_key(self) -> str:
        return f"org:{self.organization_id}"

    @property
    def event_list(self) -> list[str]:
        return self.events.split()

    def event_labels(self) -> list[str]:
        return [str(EventType(e).label) for e in self.event_list if e in EventType.values]


class WebhookEvent(models.Model):
    """One event, recorded in the transaction of the action it reports (the outbox)."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    type = models.CharField(max_length=40, choices=EventType.choices)
    # Set for the events a scheduled run may find again (the deadline events): one event per key.
    key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    created_at = models.DateTimeField()
    data = models.JSONField()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.type} {self.uid}"

    def payload(self) -> dict:
        return {
            "id": f"evt_{self.uid.hex}",
            "type": self.type,
            "created_at": self.created_at.isoformat(),
            "organization": self.organization.code,
            "data": self.data,
        }


class WebhookDelivery(models.Model):
    """One event to one endpoint: the unique pair is what makes delivery happen at most once."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    event = models.ForeignKey(WebhookEvent, on_delete=models.PROTECT, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-next_attempt_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_delivery_once")]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id} ({self.state})"


class WebhookAttempt(models.Model):
    """One HTTP attempt of a delivery, when it was made and what came back."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.PROTECT, related_name="attempt_log")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    ok = models.BooleanField()
    status = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["endpoint", "-at"])]
