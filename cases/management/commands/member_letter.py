"""`manage.py member_letter REF --output FILE`: write the one-page information letter to the persons concerned."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cases.dossier.letter import build_member_letter
from cases.models import BreachCase


class Command(BaseCommand):
    help = "Write the Art. 34(2) information letter of a case, with mail-merge fields, as a one-page PDF."

    def add_arguments(self, parser):
        parser.add_argument("reference", help="case reference")
        parser.add_argument("--output", required=True, help="PDF file to write")

    def handle(self, *args, **options):
        case = BreachCase.objects.filter(reference=options["reference"]).first()
        if case is None:
            raise CommandError(f"No case with reference {options['reference']!r}.")
        output = Path(options["output"])
        output.write_bytes(build_member_letter(case))
        self.stdout.write(f"{output}: member letter for {case.reference}")
