"""Signed checkpoints of the history chains (cases/checkpoints.py makes and checks them).

Append-only like the history itself (database triggers refuse UPDATE and DELETE): a checkpoint,
the chain heads it changed and its time-stamp tokens are only ever added.
"""

from __future__ import annotations

from django.db import models


class Checkpoint(models.Model):
    """A signed statement committing to the head of every history chain at one moment.

    `statement` is the exact UTF-8 text that was signed (canonical JSON: type, seq, created_at,
    tree_size, root, prev, key_id); the other columns repeat it for queries.
    """

    seq = models.PositiveBigIntegerField(unique=True)
    created_at = models.DateTimeField()
    reason = models.CharField(max_length=200)
    tree_size = models.PositiveBigIntegerField()
    root = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64)
    key_id = models.CharField(max_length=64)
    statement = models.TextField()
    statement_hash = models.CharField(max_length=64, unique=True)
    signature = models.CharField(max_length=128)

    class Meta:
        app_label = "cases"
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"checkpoint #{self.seq} ({self.tree_size} chains, root {self.root[:12]})"


class CheckpointLeaf(models.Model):
    """A chain head as a checkpoint saw it, stored only when it changed since the previous checkpoint."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="leaves")
    chain_key = models.CharField(max_length=40)
    length = models.PositiveBigIntegerField()
    head_hash = models.CharField(max_length=64)

    class Meta:
        app_label = "cases"
        indexes = [models.Index(fields=["chain_key", "checkpoint"], name="cases_ckpt_leaf_chain_idx")]
        constraints = [models.UniqueConstraint(fields=["checkpoint", "chain_key"], name="cases_ckpt_leaf_once")]


class CheckpointTimestamp(models.Model):
    """An RFC 3161 time-stamp token over a checkpoint's statement hash, as the authority returned it."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="timestamps")
    tsa_url = models.CharField(max_length=500)
    token = models.BinaryField()
    gen_time = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "cases"
        ordering = ["gen_time"]
