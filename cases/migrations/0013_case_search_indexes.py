"""Indexes the case search (`cases.search`) on PostgreSQL: without them every search computes the French
vector of every case's twelve text fields, a cost that grows with the register (about 60 µs a case).

Two GIN indexes on expressions, written exactly as `cases.search` queries them: the weighted vector
(`search_vector`) and the fields joined by spaces (`JoinedText`, trigrams of the pg_trgm extension,
trusted: the database owner may create it). Elsewhere (SQLite) nothing changes.

And the pending obligations by case (`Obligation.Meta`, partial, with the id on PostgreSQL): the
dashboard's counts and the first of its undated obligations read it instead of every obligation's row.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

FIELDS = (
    ("reference", "A"),
    ("title", "A"),
    ("description", "B"),
    ("first_signal_source", "D"),
    ("likely_consequences", "D"),
    ("measures_immediate", "D"),
    ("measures_medium", "D"),
    ("measures_long", "D"),
    ("aware_justification", "D"),
    ("notify_authority_reason", "D"),
    ("inform_persons_reason", "D"),
    ("processor_name", "D"),
)
VECTOR = " || ".join(
    f"setweight(to_tsvector('french'::regconfig, COALESCE({field}, '')), '{weight}')" for field, weight in FIELDS
)
TEXT = " || ' ' || ".join(field for field, _ in FIELDS)
INDEXES = {
    "cases_breachcase_search_vector": f"USING gin (({VECTOR}))",
    "cases_breachcase_search_trgm": f"USING gin (({TEXT}) gin_trgm_ops)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON cases_breachcase {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("cases", "0012_filings_and_cascade")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create, drop),
        migrations.AddIndex(
            model_name="obligation",
            index=models.Index(
                condition=models.Q(("state", "pending")),
                fields=["case", "due_at", "rule_code"],
                include=("id",),
                name="obligation_pending_by_case",
            ),
        ),
    ]
