"""Verifies a history chain from the rows the dossier already streams, instead of reading them twice.

`cases.history.verify_chain` loads every row as a model instance and recomputes its hash;
for a 20,000-row case that alone is most of the dossier's time budget. The dossier reads
the same rows (as dicts) for its change history, so it checks them in that one pass with
the same rules: consecutive positions, each row linked to the previous hash, each hash
recomputed (HMAC-SHA-256 keyed with HISTORY_CHAIN_KEY, as `cases.history.row_hash`) over
the canonical JSON of `cases.history.canonical_content`, and the recorded chain head
matching. The common values are spelled inline the way `_canonical_value`
spells them (None, text, numbers and booleans as they are, aware datetimes in UTC ISO with
microseconds, decimals at their field's places, lists of strings as they are); every other
value goes through `_canonical_value` itself.

This pass can only raise false alarms, never pass a broken chain: the stored hashes were
computed by `cases.history`, so a row can only match here if it matches there. Whenever
anything looks wrong the dossier asks `verify_chain` itself and prints its verdict.
tests/test_dossier_chain.py checks both agree, intact or tampered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.db import models

from ..history import CHAIN_FIELDS, GENESIS, ChainResult, HistoryChainHead, _canonical_value, verify_chain

_SELF_CANONICAL = frozenset({str, int, bool})


class ChainChecker:
    def __init__(self, chain_key: str) -> None:
        self.chain_key = chain_key
        self.key = settings.HISTORY_CHAIN_KEY.encode()
        self.prev = GENESIS
        self.count = 0
        self.error = ""
        self._fields: dict[type[models.Model], list[tuple]] = {}

    def canonical(self, model: type[models.Model], row: dict) -> str:
        """`canonical_content` of the row, from its column values."""
        prepared = self._fields.get(model) or self._prepare(model)
        # Keys go in sorted order (as "model" and the attnames were sorted once), so the JSON
        # needs no per-row key sort unless a value holds a dict of its own.
        data: dict[str, object] = {}
        nested = False
        for field, attname, quantum in prepared:
            if field is None:
                data[attname] = quantum
                continue
            value = row[attname]
            kind = type(value)
            if value is None or kind in _SELF_CANONICAL:
                data[attname] = value
            elif kind is datetime and value.tzinfo is not None:
                data[attname] = value.astimezone(UTC).isoformat(timespec="microseconds")
            elif kind is Decimal and quantum is not None:
                data[attname] = str(value.quantize(quantum))
            elif kind is list and all(type(item) is str for item in value):
                data[attname] = value
            else:
                data[attname] = value = _canonical_value(field, value)
                nested = nested or not isinstance(value, str | int | float | bool | type(None))
        return json.dumps(data, sort_keys=nested, ensure_ascii=False, separators=(",", ":"))

    def _prepare(self, model: type[models.Model]) -> list[tuple]:
        """(field, attname, decimal quantum) per hashed column, and ("model" label), in key order."""
        entries: list[tuple] = [(None, "model", model._meta.label_lower)]
        for f in model._meta.concrete_fields:
            if f.primary_key or f.attname in CHAIN_FIELDS:
                continue
            places = f.decimal_places if isinstance(f, models.DecimalField) else None
            entries.append((f, f.attname, Decimal(1).scaleb(-places) if places is not None else None))
        entries.sort(key=lambda entry: entry[1])
        self._fields[model] = entries
        return entries

    def feed(self, model: type[models.Model], row: dict) -> None:
        """Check the next row of the chain (rows must come in chain order)."""
        if self.error:
            return
        self.count += 1
        if row["chain_seq"] != self.count:
            self.error = "position"
        elif row["chain_prev"] != self.prev:
            self.error = "link"
        else:
            payload = f"{self.prev}\n{self.canonical(model, row)}".encode()
            if row["chain_hash"] != hmac.new(self.key, payload, hashlib.sha256).hexdigest():
                self.error = "hash"
            else:
                self.prev = row["chain_hash"]

    def result(self) -> ChainResult:
        """The verdict: this pass's when the chain is intact, `verify_chain`'s own otherwise."""
        if not self.error:
            head = HistoryChainHead.objects.filter(chain_key=self.chain_key).first()
            intact_head = (
                (self.count == 0) if head is None else (head.length, head.head_hash) == (self.count, self.prev)
            )
            if intact_head:
                return ChainResult(self.chain_key, self.count, self.prev)
        return verify_chain(self.chain_key)
