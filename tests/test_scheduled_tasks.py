"""The beat schedule: reminders every 5 minutes and the stale-job sweeper, both registered tasks.

Beat is the alternative to the README's cron line for `send_reminders`; the task does exactly what
the command does (each reminder claimed once), so running it again, or alongside, sends nothing twice.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import mail
from django.utils import timezone

from compliance.celery import app
from reminders.models import ReminderSent
from reminders.tasks import send_reminders


def test_every_scheduled_task_is_a_registered_task():
    app.loader.import_default_modules()
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert {entry["task"] for entry in schedule.values()} <= set(app.tasks)
    assert schedule["send-reminders"]["schedule"] == 300.0


def test_the_reminders_task_sends_each_reminder_once(open_case, dpo, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    dpo.email = "dpo@mutex.example"
    dpo.save()
    aware = timezone.now() - timedelta(hours=60)  # the CNIL clock is due within 24 hours
    open_case(first_signal_at=aware - timedelta(hours=1), aware_at=aware)
    with django_capture_on_commit_callbacks(execute=True):  # e-mails leave once the claims are committed
        sent = send_reminders.delay().get()
    # One e-mail per person and run, carrying each of their reminders (X-Reminder-Count).
    carried = sum(int(message.extra_headers["X-Reminder-Count"]) for message in mail.outbox)
    assert sent >= 1 and carried == sent == ReminderSent.objects.count() and len(mail.outbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert send_reminders.delay().get() == 0
    assert len(mail.outbox) == 1
