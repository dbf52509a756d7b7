"""Reminders as a scheduled task: `celery beat` runs it every 5 minutes (compliance/settings.py).

An alternative to the cron line or systemd timer of the README, not an addition: run one of
them. `send_due_reminders` claims each reminder exactly once, so a run repeated or overlapping
(a retry, two beats by mistake) sends nothing twice.
"""

from __future__ import annotations

from celery import shared_task

from .services import send_due_reminders


@shared_task
def send_reminders() -> int:
    """Send the reminders due now; returns how many were sent."""
    report = send_due_reminders()
    if report.failed:
        # Claims of failed deliveries were released: the next run retries them.
        raise RuntimeError(f"{report.failed} reminder deliveries failed; they will be retried on the next run.")
    return report.total_sent
