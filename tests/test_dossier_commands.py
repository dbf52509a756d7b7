"""export_dossier writes the dossier reproducibly; bench_dossier measures a synthetic case in a throwaway database."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from cases.models import BreachCase


def test_export_dossier_writes_the_same_bytes_for_the_same_generation_time(open_case, tmp_path):
    case = open_case()
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    for output in (first, second):
        call_command(
            "export_dossier",
            case.reference,
            output=str(output),
            generated_at="2024-03-01T13:30:00+01:00",
            stdout=io.StringIO(),
        )
    assert first.read_bytes() == second.read_bytes()
    assert PdfReader(str(first)).metadata.title.endswith(case.reference)


def test_export_dossier_in_english_and_unknown_references(open_case, tmp_path):
    case = open_case()
    output = tmp_path / "en.pdf"
    call_command("export_dossier", case.reference, output=str(output), lang="en", stdout=io.StringIO())
    assert "Contents" in PdfReader(str(output)).pages[1].extract_text()
    with pytest.raises(CommandError):
        call_command("export_dossier", "NOPE-1", output=str(output), stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("export_dossier", case.reference, output=str(output), generated_at="hier", stdout=io.StringIO())


@pytest.mark.django_db
def test_bench_dossier_runs_on_a_throwaway_database_only(tmp_path):
    out = io.StringIO()
    call_command("bench_dossier", history=300, events=10, evidence=5, output=str(tmp_path / "b.pdf"), stdout=out)
    report = out.getvalue()
    assert "populated: 300 history rows" in report
    assert "build:" in report and "pages" in report and "MB" in report
    assert re.search(r"chain alone: \d+\.\d\d s", report)  # the floor under any layout of the history
    assert "Chaîne intègre" in " ".join(p.extract_text() for p in PdfReader(str(tmp_path / "b.pdf")).pages)
    assert not BreachCase.objects.exists()  # nothing written to the test database
    with pytest.raises(CommandError):
        call_command("bench_dossier", phase="build", stdout=io.StringIO())
