"""Send the due webhook deliveries (retries included); the cron alternative to the beat schedule."""

from django.core.management.base import BaseCommand

from webhooks.delivery import drain


class Command(BaseCommand):
    help = "Send every due webhook delivery (retries after their backoff included)."

    def handle(self, *args, **options):
        report = drain()
        self.stdout.write(
            f"delivered {report.delivered}, failed attempts {report.failed}, endpoints disabled {report.disabled}"
        )
