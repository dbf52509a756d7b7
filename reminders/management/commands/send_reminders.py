"""Send the deadline reminders due now; safe to run every 5 minutes, from several machines at once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from reminders.models import ReminderKind
from reminders.services import send_due_reminders


class Command(BaseCommand):
    help = "E-mail the reminders and escalations due now (each one exactly once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count what would be sent; send and record nothing.")

    def handle(self, *args, dry_run: bool = False, **options) -> None:
        report = send_due_reminders(dry_run=dry_run)
        verb = "would send" if dry_run else "sent"
        counts = ", ".join(f"{kind.value}={report.sent[kind]}" for kind in ReminderKind)
        self.stdout.write(
            f"{report.obligations} obligations due within 24 h or overdue; {verb} {report.total_sent} reminders "
            f"({counts}); already sent {report.already_sent}; turned off {report.turned_off}; "
            f"no e-mail address {report.no_email}; no admin to escalate to {report.no_escalation_recipient}"
        )
        if report.failed:
            raise CommandError(f"{report.failed} deliveries failed; they will be retried on the next run.")
