"""Webhook delivery tasks: one event after its commit, and the periodic drain (beat, every minute)."""

from __future__ import annotations

from celery import shared_task

from .delivery import drain


@shared_task
def deliver_event(event_id: int) -> int:
    """Send the deliveries of one event that are due (asked for after the commit that recorded it)."""
    return drain(event_id=event_id).delivered


@shared_task
def deliver_webhooks() -> int:
    """Send every due delivery: retries after their backoff, and whatever an after-commit task missed."""
    return drain().delivered
