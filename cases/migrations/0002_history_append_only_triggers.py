"""Database triggers refusing UPDATE and DELETE on every history table (SQLite and PostgreSQL).

A later migration that adds a history table must install the triggers on it too;
tests/test_append_only.py fails while any history table is unprotected.
"""

from django.db import migrations

from cases.history import install_append_only_triggers, remove_append_only_triggers

HISTORY_TABLES = [
    "cases_historicalbreachcase",
    "cases_historicalcontrollernotice",
    "cases_historicalevidence",
    "cases_historicalfiling",
    "cases_historicalmembercommunication",
    "cases_historicalmembership",
    "cases_historicalobligation",
    "cases_historicalorganization",
    "cases_historicaltimelineevent",
]


def forwards(apps, schema_editor):
    install_append_only_triggers(schema_editor, HISTORY_TABLES)


def backwards(apps, schema_editor):
    remove_append_only_triggers(schema_editor, HISTORY_TABLES)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
