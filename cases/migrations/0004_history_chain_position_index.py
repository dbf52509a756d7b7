"""A (chain_key, chain_seq) index on every history table, replacing the index on chain_key alone.

verify_history reads each table in that order in one pass; a case's history is read by position.
"""

from django.conf import settings
from django.db import migrations, models

from cases.history import install_append_only_triggers

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


def reinstall_triggers(apps, schema_editor):
    # SQLite alters a column by rebuilding its table, which drops the table's triggers.
    install_append_only_triggers(schema_editor, HISTORY_TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0003_calendar_feed_token"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="historicalbreachcase",
            name="chain_key",
            field=models.CharField(editable=False, max_length=40),
        ),
        migrations.AlterField(
            model_name="historicalcontrollernotice",
            name="chain_key",
            field=models.CharField(editable=False, max_length=40),
        ),
        migrations.AlterField(
            model_name="historicalevidence",
            name="chain_key",
            field=models.CharField(editable=False, max_length=40),
        ),
        migrations.AlterField(
            model_name="historicalfiling",
            name="chain_key",
            field=models.CharField(editable=False, max_length=40),
        ),
        migrations.AlterField(
            model_name="historicalmembercommunication",
            name="chain_key",
            field=models.CharField(editable=False, max_length=40),
        ),
        migrations.AlterField(
            model_name="historicalmembership",
            name="chain_key",
            field=models.CharField(editable=False, max_length=40),
        ),
        migrations.AlterField(
            model_name="historicalobligation",
            name="chain_key",
            field=models.CharField(editable=False, max_length=40),
        ),
        migrations.AlterField(
            model_name="historicalorganization",
            name="chain_key",
            field=models.CharField(editable=False, max_length=40),
        ),
        migrations.AlterField(
            model_name="historicaltimelineevent",
            name="chain_key",
            field=models.CharField(editable=False, max_length=40),
        ),
        migrations.AddIndex(
            model_name="historicalbreachcase",
            index=models.Index(fields=["chain_key", "chain_seq"], name="cases_histo_chain_k_87681a_idx"),
        ),
        migrations.AddIndex(
            model_name="historicalcontrollernotice",
            index=models.Index(fields=["chain_key", "chain_seq"], name="cases_histo_chain_k_9d9213_idx"),
        ),
        migrations.AddIndex(
            model_name="historicalevidence",
            index=models.Index(fields=["chain_key", "chain_seq"], name="cases_histo_chain_k_13c80c_idx"),
        ),
        migrations.AddIndex(
            model_name="historicalfiling",
            index=models.Index(fields=["chain_key", "chain_seq"], name="cases_histo_chain_k_7ce2b3_idx"),
        ),
        migrations.AddIndex(
            model_name="historicalmembercommunication",
            index=models.Index(fields=["chain_key", "chain_seq"], name="cases_histo_chain_k_81a423_idx"),
        ),
        migrations.AddIndex(
            model_name="historicalmembership",
            index=models.Index(fields=["chain_key", "chain_seq"], name="cases_histo_chain_k_5e79c6_idx"),
        ),
        migrations.AddIndex(
            model_name="historicalobligation",
            index=models.Index(fields=["chain_key", "chain_seq"], name="cases_histo_chain_k_325215_idx"),
        ),
        migrations.AddIndex(
            model_name="historicalorganization",
            index=models.Index(fields=["chain_key", "chain_seq"], name="cases_histo_chain_k_b11004_idx"),
        ),
        migrations.AddIndex(
            model_name="historicaltimelineevent",
            index=models.Index(fields=["chain_key", "chain_seq"], name="cases_histo_chain_k_b26801_idx"),
        ),
        migrations.RunPython(reinstall_triggers, migrations.RunPython.noop),
    ]
