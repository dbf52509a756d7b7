"""`manage.py export_dossier REF --output FILE [--lang fr|en] [--generated-at ISO]`: write a case's dossier."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cases.deadlines import PARIS
from cases.dossier.export import export_dossier
from cases.languages import LANGS
from cases.models import BreachCase


def parse_instant(value: str) -> datetime:
    """An ISO 8601 instant; without an offset it is read as Paris time."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--generated-at: not an ISO 8601 date-time: {value!r}") from exc
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=PARIS)


class Command(BaseCommand):
    help = "Write the regulator-ready PDF dossier of a case (after signing a checkpoint of the history)."

    def add_arguments(self, parser):
        parser.add_argument("reference", help="case reference, e.g. MUTEX-2024-001")
        parser.add_argument("--output", required=True, help="PDF file to write")
        parser.add_argument("--lang", choices=LANGS, default="fr")
        parser.add_argument(
            "--generated-at", help="generation time (ISO 8601; default now): the same time gives the same bytes"
        )
        parser.add_argument("--generated-by", default="manage.py export_dossier", help="who to name on the cover")

    def handle(self, *args, **options):
        case = BreachCase.objects.filter(reference=options["reference"]).first()
        if case is None:
            raise CommandError(f"No case with reference {options['reference']!r}.")
        generated_at = parse_instant(options["generated_at"]) if options["generated_at"] else timezone.now()
        # Signs a checkpoint first, so the embedded verification bundle is anchored up to the last row.
        result = export_dossier(
            case, lang=options["lang"], generated_at=generated_at, generated_by=options["generated_by"]
        )
        output = Path(options["output"])
        output.write_bytes(result.pdf)
        sealed = " (sealed)" if result.signed else ""
        self.stdout.write(
            f"{output}: {result.pages} pages, {len(result.pdf)} bytes{sealed}, data SHA-256 {result.data_hash}"
        )
