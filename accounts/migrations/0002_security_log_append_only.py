"""The security log is append-only in the database too (same triggers as the history tables)."""

from django.db import migrations

from cases.history import install_append_only_triggers, remove_append_only_triggers

TABLES = ["accounts_securityevent"]


def forwards(apps, schema_editor):
    install_append_only_triggers(schema_editor, TABLES)


def backwards(apps, schema_editor):
    remove_append_only_triggers(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
