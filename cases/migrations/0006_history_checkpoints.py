"""Signed checkpoints of the history chains, append-only like the history (triggers)."""

import django.db.models.deletion
from django.db import migrations, models

from cases.history import install_append_only_triggers, remove_append_only_triggers

CHECKPOINT_TABLES = ["cases_checkpoint", "cases_checkpointleaf", "cases_checkpointtimestamp"]


def forwards(apps, schema_editor):
    install_append_only_triggers(schema_editor, CHECKPOINT_TABLES)


def backwards(apps, schema_editor):
    remove_append_only_triggers(schema_editor, CHECKPOINT_TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_history_public_sha256_chain"),
    ]

    operations = [
        migrations.CreateModel(
            name="Checkpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("seq", models.PositiveBigIntegerField(unique=True)),
                ("created_at", models.DateTimeField()),
                ("reason", models.CharField(max_length=200)),
                ("tree_size", models.PositiveBigIntegerField()),
                ("root", models.CharField(max_length=64)),
                ("prev_hash", models.CharField(max_length=64)),
                ("key_id", models.CharField(max_length=64)),
                ("statement", models.TextField()),
                ("statement_hash", models.CharField(max_length=64, unique=True)),
                ("signature", models.CharField(max_length=128)),
            ],
            options={
                "ordering": ["seq"],
            },
        ),
        migrations.CreateModel(
            name="CheckpointTimestamp",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("tsa_url", models.CharField(max_length=500)),
                ("token", models.BinaryField()),
                ("gen_time", models.DateTimeField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "checkpoint",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="timestamps", to="cases.checkpoint"
                    ),
                ),
            ],
            options={
                "ordering": ["gen_time"],
            },
        ),
        migrations.CreateModel(
            name="CheckpointLeaf",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("chain_key", models.CharField(max_length=40)),
                ("length", models.PositiveBigIntegerField()),
                ("head_hash", models.CharField(max_length=64)),
                (
                    "checkpoint",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="leaves", to="cases.checkpoint"
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["chain_key", "checkpoint"], name="cases_ckpt_leaf_chain_idx")],
                "constraints": [
                    models.UniqueConstraint(fields=("checkpoint", "chain_key"), name="cases_ckpt_leaf_once")
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
