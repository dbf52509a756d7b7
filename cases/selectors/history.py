"""Reads of a case's change history: the rows of its hash chain, streamed in chain order."""

from __future__ import annotations

import heapq
from collections.abc import Iterator

from django.contrib.auth import get_user_model
from django.db import models

from ..history import chained_history_models

# Columns of a historical row that describe the version, not the object.
HISTORY_META_FIELDS = frozenset(
    {
        "history_id",
        "history_date",
        "history_change_reason",
        "history_type",
        "history_user",
        "history_user_id",
        "chain_key",
        "chain_seq",
        "chain_prev",
        "chain_hash",
    }
)


def usernames(user_ids) -> dict[int, str]:
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    user_model = get_user_model()
    return dict(user_model.objects.filter(pk__in=ids).values_list("pk", user_model.USERNAME_FIELD))


def chain_history_rows(chain_key: str, *, chunk_size: int = 5000) -> Iterator[tuple[type[models.Model], dict]]:
    """Every history row of a chain, in chain order, as (historical model, all its column values).

    One streaming query per historical model, merged on the chain position: memory stays
    flat and rows are plain dicts, not model instances.
    """
    streams = [_history_stream(model, chain_key, chunk_size) for model in chained_history_models()]
    for _, model, row in heapq.merge(*streams, key=lambda item: item[0]):
        yield model, row


def _history_stream(model: type[models.Model], chain_key: str, chunk_size: int) -> Iterator[tuple]:
    columns = [f.attname for f in model._meta.concrete_fields]
    rows = model.objects.filter(chain_key=chain_key).order_by("chain_seq").values(*columns)
    for row in rows.iterator(chunk_size=chunk_size):
        yield row["chain_seq"], model, row


def chain_user_ids(chain_key: str) -> set[int]:
    """The users who wrote any history row of a chain (one small query per historical model)."""
    ids: set[int] = set()
    for model in chained_history_models():
        ids.update(
            model.objects.filter(chain_key=chain_key, history_user_id__isnull=False)
            .values_list("history_user_id", flat=True)
            .distinct()
        )
    return ids
