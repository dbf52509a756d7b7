"""`manage.py backup --output DIR`: dump the PostgreSQL database, then copy every stored file it names."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cases.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back up the database (pg_dump) and the evidence storage into an empty folder (docs/deployment.md)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--output", required=True, help="an empty or new folder")

    def handle(self, *args, output: str, **options) -> None:
        try:
            report = backup(Path(output))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Backup written to {output}: database, {report.files} files, "
                                             f"{report.bytes} bytes."))  # fmt: skip
