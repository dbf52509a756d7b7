"""`manage.py verify_evidence`: read every evidence file from the storage and check its recorded SHA-256."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from cases.backup import verify_evidence


class Command(BaseCommand):
    help = "Check that every evidence file is in the storage with the SHA-256 and size recorded at its upload."

    def handle(self, *args, **options) -> None:
        result = verify_evidence()
        if result.problems:
            raise CommandError(
                f"{len(result.problems)} of {result.checked} evidence files fail: " + "\n- ".join(result.problems)
            )
        self.stdout.write(self.style.SUCCESS(f"{result.checked} evidence files verified (SHA-256 and size)."))
