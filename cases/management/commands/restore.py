"""`manage.py restore --input DIR`: restore a backup into an empty database and storage, then prove it."""

from __future__ import annotations

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from cases.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a backup (manage.py backup) into an empty PostgreSQL database and an empty storage, then "
        "verify every history chain and every evidence file's SHA-256."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--input", required=True, help="the backup folder")

    def handle(self, *args, input: str, **options) -> None:  # noqa: A002 - the option's name
        try:
            report = restore(Path(input))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Restored the database and {report.files} files ({report.bytes} bytes).")
        # The proof: both raise CommandError (a non-zero exit) at the first discrepancy.
        call_command("verify_history", stdout=self.stdout, stderr=self.stderr)
        call_command("verify_evidence", stdout=self.stdout, stderr=self.stderr)
