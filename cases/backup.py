"""Backup and restore of a deployment: the PostgreSQL database and the files in the storage.

A backup is a folder: `database.dump` (pg_dump's custom format), `files/` (every evidence file and
every dossier export, under their storage names) and `manifest.json` (each file's SHA-256 and size).
The database is dumped first, then the files copied: files are never changed or deleted once
stored, so every file a dumped row names is in the storage when the copy runs.

A restore goes into an empty database and an empty storage only, then proves itself: the history
chains verify (`verify_history`), and every evidence file has the SHA-256 recorded at its upload
(`verify_evidence`). docs/deployment.md gives the procedure.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from .models import DossierExport, Evidence, JobState

DUMP = "database.dump"
FILES = "files"
MANIFEST = "manifest.json"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """The backup or restore cannot go on; the message says why."""


def _pg_env() -> dict[str, str]:
    """libpq's variables for the configured database (the password never goes on a command line)."""
    if connection.vendor != "postgresql":
        raise BackupError(
            "Backup and restore need PostgreSQL (DATABASE_URL); a SQLite install is backed up by copying its file."
        )
    settings = connection.settings_dict
    env = {**os.environ, "PGDATABASE": settings["NAME"]}
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if settings.get(key):
            env[name] = str(settings[key])
    return env


def _run(args: list[str]) -> None:
    result = subprocess.run(args, env=_pg_env(), capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode:
        raise BackupError(f"{args[0]} failed: {result.stderr.strip()}")


def stored_files() -> dict[str, str | None]:
    """Every file the database names in the storage: its name and, for evidence, the SHA-256 recorded."""
    files: dict[str, str | None] = dict(Evidence.objects.values_list("file", "sha256"))
    exports = DossierExport.objects.filter(state=JobState.DONE).exclude(file="").values_list("file", flat=True)
    for name in exports:
        files.setdefault(name, None)
    return files


def _digest(source, target=None) -> tuple[str, int]:
    """SHA-256 and size of what `source` holds, read in chunks (and written to `target` if given)."""
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if target is not None:
            target.write(chunk)
    return digest.hexdigest(), size


@dataclass
class BackupReport:
    files: int
    bytes: int


def backup(output: Path) -> BackupReport:
    """Dump the database, then copy every stored file it names, into the empty folder `output`."""
    if output.exists() and any(output.iterdir()):
        raise BackupError(f"{output} is not empty.")
    (output / FILES).mkdir(parents=True, exist_ok=True)
    _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={output / DUMP}"])
    manifest, total = {}, 0
    for name, recorded in sorted(stored_files().items()):
        target = output / FILES / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with default_storage.open(name, "rb") as source, target.open("wb") as copy:
            sha256, size = _digest(source, copy)
        if recorded is not None and sha256 != recorded:
            raise BackupError(f"{name}: its SHA-256 is not the one recorded at upload; the stored file was altered.")
        manifest[name] = {"sha256": sha256, "size": size}
        total += size
    (output / MANIFEST).write_text(
        json.dumps({"created_at": timezone.now().isoformat(), "files": manifest}, indent=1, sort_keys=True)
    )
    return BackupReport(len(manifest), total)


def restore(source: Path) -> BackupReport:
    """Restore a backup into the configured database and storage, both of which must be empty."""
    manifest = json.loads((source / MANIFEST).read_text())["files"]
    if connection.introspection.table_names():
        raise BackupError(f"The database {connection.settings_dict['NAME']} is not empty: restore into an empty one.")
    present = [name for name in manifest if default_storage.exists(name)]
    if present:
        raise BackupError(f"The storage is not empty ({present[0]} exists): restore into an empty one.")
    for name, expected in manifest.items():  # the whole backup is checked before anything is written
        with (source / FILES / name).open("rb") as copy:
            if _digest(copy) != (expected["sha256"], expected["size"]):
                raise BackupError(f"{name}: the backup's copy does not match its manifest; the backup was altered.")
    _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
          f"--dbname={_pg_env()['PGDATABASE']}", str(source / DUMP)])  # fmt: skip
    connection.close()  # the tables appeared underneath this connection
    total = 0
    for name, expected in sorted(manifest.items()):
        with (source / FILES / name).open("rb") as copy:
            saved = default_storage.save(name, File(copy, name=os.path.basename(name)))
        if saved != name:
            raise BackupError(f"{name} was stored as {saved}: the storage renamed it.")
        total += expected["size"]
    return BackupReport(len(manifest), total)


@dataclass
class EvidenceCheck:
    checked: int
    problems: list[str]


def verify_evidence() -> EvidenceCheck:
    """Read every evidence file from the storage and compare its SHA-256 and size with those recorded."""
    problems, checked = [], 0
    for evidence in Evidence.objects.order_by("pk").iterator():
        checked += 1
        try:
            with default_storage.open(evidence.file.name, "rb") as handle:
                sha256, size = _digest(handle)
        except Exception as exc:  # a file the storage cannot give back is a finding, not a crash
            problems.append(f"evidence {evidence.pk} ({evidence.file.name}): cannot be read ({exc})")
            continue
        if sha256 != evidence.sha256 or size != evidence.size:
            problems.append(f"evidence {evidence.pk} ({evidence.file.name}): SHA-256 or size differs from the record")
    return EvidenceCheck(checked, problems)
