"""A committed PostgreSQL database for tests where several processes write at once.

Committed history rows cannot be flushed afterwards (the append-only triggers refuse TRUNCATE of a
non-empty history table), so these tests run on a copy of the migrated, empty test database,
dropped afterwards, and drive it through `manage.py` subprocesses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection, connections

ROOT = Path(__file__).resolve().parent.parent


def _admin_connect(settings_dict):
    import psycopg

    return psycopg.connect(
        host=settings_dict["HOST"] or None,
        port=settings_dict["PORT"] or None,
        user=settings_dict["USER"] or None,
        password=settings_dict["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


def _url(settings_dict, name: str) -> str:
    user = quote(settings_dict["USER"] or "")
    password = f":{quote(settings_dict['PASSWORD'])}" if settings_dict["PASSWORD"] else ""
    host = settings_dict["HOST"] or "127.0.0.1"
    port = settings_dict["PORT"] or "5432"
    return f"postgres://{user}{password}@{host}:{port}/{name}"


@pytest.fixture
def race_database(transactional_db):
    """A committed copy of the migrated, empty test database; dropped afterwards."""
    settings_dict = dict(connection.settings_dict)
    template = settings_dict["NAME"]
    name = f"{template}_race"
    connections.close_all()  # a template database must have no open connection
    with _admin_connect(settings_dict) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield _url(settings_dict, name)
    finally:
        with _admin_connect(settings_dict) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def env(database_url: str, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_NAME"}
    env.update(
        DATABASE_URL=database_url,
        EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
        DB_CONN_MAX_AGE="0",
        LOG_LEVEL="WARNING",
        **extra,
    )
    return env


def manage(database_url: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env(database_url),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
