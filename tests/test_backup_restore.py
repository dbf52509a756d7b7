"""Backup and restore (PostgreSQL): a backup restores into an empty database and storage, and proves itself.

The source is a committed copy of the test database with a case, evidence and a dossier export;
the target a new, empty database and an empty evidence folder. `manage.py restore` must refuse
anything but empty targets and an unaltered backup, and end with `verify_history` and
`verify_evidence` passing.
"""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest
from django.db import connection

from tests.processes import ROOT, base_env, manage, pg_url, query, seed_member

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)"),
]

ADD_RECORDS = """
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from cases import services
from cases.models import BreachCase

case = BreachCase.objects.get(reference="{reference}")
user = case.created_by
services.evidence_add(case, uploaded_file=SimpleUploadedFile("recu.pdf", b"%PDF-1.4 receipt\\n%%EOF"), acting_user=user)
services.evidence_add(case, uploaded_file=SimpleUploadedFile("logs.txt", "journaux é\\n".encode() * 999),
                      acting_user=user)
services.timeline_event_add(case, occurred_at=case.aware_at, title="Coupure du portail", acting_user=user)
with transaction.atomic():
    services.dossier_export_request(case, lang="fr", acting_user=user)
"""

TABLES = ["cases_evidence", "cases_historicalbreachcase", "cases_historicalevidence", "cases_dossierexport",
          "cases_historychainhead", "auth_user"]  # fmt: skip


def _restore(env) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "restore", "--input", env["BACKUP"]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def empty_database(app_database):
    """A new, empty PostgreSQL database (as `createdb` makes it), dropped afterwards."""
    settings_dict = connection.settings_dict
    names = []

    def make(suffix: str) -> str:
        name = f"{settings_dict['NAME']}_{suffix}"
        names.append(name)
        with psycopg.connect(pg_url(settings_dict, "postgres").replace("postgres://", "postgresql://"),
                             autocommit=True) as admin:  # fmt: skip
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        return pg_url(settings_dict, name)

    yield make
    with psycopg.connect(pg_url(settings_dict, "postgres").replace("postgres://", "postgresql://"),
                         autocommit=True) as admin:  # fmt: skip
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_backup_restores_into_an_empty_database_and_storage_and_proves_itself(app_database, empty_database, tmp_path):
    source = base_env(**app_database, EVIDENCE_ROOT=str(tmp_path / "source-files"))
    member = seed_member(source)
    manage("shell", "-c", ADD_RECORDS.format(reference=member["reference"]), env=source)
    backup = tmp_path / "backup"
    assert "Backup written" in manage("backup", "--output", str(backup), env=source)
    assert (backup / "database.dump").stat().st_size > 0
    assert len(list((backup / "files").rglob("*.*"))) == 3  # two evidence files, one dossier

    target = base_env(
        DATABASE_URL=empty_database("restored"), EVIDENCE_ROOT=str(tmp_path / "restored-files"), BACKUP=str(backup)
    )
    restored = _restore(target)
    assert restored.returncode == 0, restored.stderr
    assert "history chains verified" in restored.stdout
    assert "2 evidence files verified (SHA-256 and size)" in restored.stdout
    # The same records and the same chain heads as the source.
    for table in TABLES:
        assert query(target, f"SELECT COUNT(*) FROM {table}") == query(source, f"SELECT COUNT(*) FROM {table}"), table  # noqa: S608
    assert manage("verify_history", env=target) == manage("verify_history", env=source)
    # The append-only triggers came back with the tables.
    with pytest.raises(psycopg.errors.RaiseException):
        query(target, "UPDATE cases_historicalbreachcase SET title = 'rewritten'")

    # Never over existing data: the target is no longer empty.
    again = _restore(target)
    assert again.returncode != 0 and "is not empty: restore into an empty one" in again.stderr

    # A restored file altered afterwards is named by verify_evidence.
    altered = next((tmp_path / "restored-files" / "evidence").rglob("*.txt"))
    altered.write_bytes(altered.read_bytes().replace(b"journaux", b"JOURNAUX", 1))
    check = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "verify_evidence"], cwd=ROOT, env=target, capture_output=True, text=True
    )
    assert check.returncode != 0 and "1 of 2 evidence files fail" in check.stderr and altered.name in check.stderr


def test_an_altered_backup_is_refused_before_anything_is_written(app_database, empty_database, tmp_path):
    source = base_env(**app_database, EVIDENCE_ROOT=str(tmp_path / "source-files"))
    member = seed_member(source)
    manage("shell", "-c", ADD_RECORDS.format(reference=member["reference"]), env=source)
    backup = tmp_path / "backup"
    manage("backup", "--output", str(backup), env=source)
    receipt = next((backup / "files" / "evidence").rglob("*.pdf"))
    receipt.write_bytes(receipt.read_bytes().replace(b"receipt", b"forged!"))

    target = base_env(
        DATABASE_URL=empty_database("altered"), EVIDENCE_ROOT=str(tmp_path / "restored-files"), BACKUP=str(backup)
    )
    refused = _restore(target)
    assert refused.returncode != 0 and "does not match its manifest; the backup was altered" in refused.stderr
    assert query(target, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]
    assert not (tmp_path / "restored-files").exists()
