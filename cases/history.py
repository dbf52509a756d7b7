"""Tamper evidence for the audited history: hash chains, append-only triggers, verification.

Every historical row (django-simple-history) belongs to a chain: the chain of its case
(`case:<id>`) for a case and everything under it, or of its organisation
(`org:<id>`). Each row stores its position in the chain, the previous row's hash and
its own hash: HMAC-SHA-256 (keyed with the HISTORY_CHAIN_KEY setting, kept outside the
database) over the previous hash and a canonical JSON of the row. The
chain's head (length and last hash) is kept in `HistoryChainHead`, so dropping the
last rows is detected too. Database triggers refuse UPDATE and DELETE (and TRUNCATE on
PostgreSQL) on history tables; an attacker who drops them still cannot rewrite a row
without breaking the chain, which `verify_chain` (and `manage.py verify_history`)
recomputes. `verify_all` also reports tracked records that have no history row at all.
Tracked saves must run inside `transaction.atomic()`; one outside is refused before the
record is written.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import heapq
import hmac
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.db import connection, connections, models, router
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.utils import timezone
from simple_history.signals import pre_create_historical_record

GENESIS = "0" * 64
CHAIN_FIELDS = ("chain_hash",)
TRIGGER_MESSAGE = "history is append-only"


class HistoryWriteError(RuntimeError):
    """A history row could not be chained (e.g. written outside a transaction)."""


class ChainedHistoricalRecord(models.Model):
    """Abstract base of every historical model: the hash-chain columns."""

    chain_key = models.CharField(max_length=40, db_index=True, editable=False)
    chain_seq = models.PositiveBigIntegerField(editable=False)
    chain_prev = models.CharField(max_length=64, editable=False)
    chain_hash = models.CharField(max_length=64, editable=False)

    class Meta:
        abstract = True


class HistoryChainHead(models.Model):
    """The last position and hash of each history chain (detects truncation)."""

    chain_key = models.CharField(max_length=40, unique=True)
    length = models.PositiveBigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, default=GENESIS)

    class Meta:
        app_label = "cases"

    def __str__(self) -> str:
        return f"{self.chain_key} #{self.length} {self.head_hash[:12]}"


def _canonical_value(field: models.Field, value):
    """One spelling per value, whether it comes from the instance being saved or the row read back."""
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        # What the database keeps: tuples become lists, keys become strings.
        return json.loads(json.dumps(value, cls=field.encoder))
    # File fields are text columns in history models: to_python() keeps the stored name.
    value = field.to_python(value)
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if timezone.is_naive(value):
            # Django stores a naive datetime in the default time zone, whatever zone is active.
            value = timezone.make_aware(value, timezone.get_default_timezone())
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        places = getattr(field, "decimal_places", None)
        if places is not None:
            value = value.quantize(Decimal(1).scaleb(-places))
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


# How a column's value is spelled when it already has its canonical type (the common case for
# rows read back from the database); anything else goes through _canonical_value.
_TEXT, _INT, _BOOL, _DATETIME, _DECIMAL, _JSON, _OTHER = range(7)


def _kind(field: models.Field) -> int:
    if isinstance(field, models.JSONField):
        return _JSON
    if isinstance(field, models.BooleanField):
        return _BOOL
    if isinstance(field, models.DateTimeField):
        return _DATETIME
    if isinstance(field, models.DecimalField):
        return _DECIMAL
    if isinstance(field, models.ForeignKey | models.IntegerField | models.AutoField):
        return _INT
    if isinstance(field, models.CharField | models.TextField):
        return _TEXT
    return _OTHER


# Columns added to a tracked model after rows were chained, with the value every earlier row holds
# since the migration: hashed only when they differ from it, so the rows chained before the column
# existed still verify. Tamper evidence holds: leaving out a column means exactly that value.
LATE_COLUMNS: dict[str, dict[str, object]] = {
    "cases.historicalobligation": {"rule_version": "", "latest_update_at": None},
    "cases.historicalorganization": {"dora_authority": "acpr"},
}
_HASHED_ALWAYS = object()


@functools.cache
def _hashed_columns(model: type[models.Model]) -> tuple[tuple, ...]:
    """(attname, field, kind, decimal quantum, value left out) per hashed column, plus the model
    label as ("model", None, label, None, ...), sorted by name."""
    late = LATE_COLUMNS.get(model._meta.label_lower, {})
    entries = [("model", None, model._meta.label_lower, None, _HASHED_ALWAYS)]
    for f in model._meta.concrete_fields:
        if f.primary_key or f.attname in CHAIN_FIELDS:
            continue
        quantum = Decimal(1).scaleb(-f.decimal_places) if isinstance(f, models.DecimalField) else None
        entries.append((f.attname, f, _kind(f), quantum, late.get(f.attname, _HASHED_ALWAYS)))
    return tuple(sorted(entries, key=lambda entry: entry[0]))


def canonical_values(model: type[models.Model], values) -> str:
    """A history row as canonical JSON, from its column values (attname -> value): every column but
    its own id and hash, keys sorted. One spelling whether the values come from the instance being
    saved or from the row read back."""
    data: dict[str, object] = {}
    nested = False
    for attname, field, kind, quantum, left_out in _hashed_columns(model):
        if field is None:
            data[attname] = kind  # the model label
            continue
        value = values[attname]
        if left_out is not _HASHED_ALWAYS and value == left_out:
            continue
        vtype = type(value)
        if value is None or (
            (kind == _TEXT and vtype is str) or (kind == _INT and vtype is int) or (kind == _BOOL and vtype is bool)
        ):
            pass
        elif kind == _DATETIME and vtype is dt.datetime and value.tzinfo is not None:
            value = value.astimezone(dt.UTC).isoformat(timespec="microseconds")
        elif kind == _DECIMAL and vtype is Decimal:
            value = str(value.quantize(quantum))
        elif kind == _JSON and vtype is list and all(type(item) is str for item in value):
            pass
        else:
            value = _canonical_value(field, value)
            nested = nested or not isinstance(value, str | int | float | bool | type(None))
        data[attname] = value
    # Keys are already in sorted order; only values holding dicts of their own need sorting.
    return json.dumps(data, sort_keys=nested, ensure_ascii=False, separators=(",", ":"))


def canonical_content(history_row: models.Model) -> str:
    """The history instance as canonical JSON (see canonical_values)."""
    model = type(history_row)
    return canonical_values(model, {f.attname: getattr(history_row, f.attname) for f in model._meta.concrete_fields})


def _keyed_hash(prev_hash: str, canonical: str) -> str:
    payload = f"{prev_hash}\n{canonical}".encode()
    return hmac.new(settings.HISTORY_CHAIN_KEY.encode(), payload, hashlib.sha256).hexdigest()


def row_hash(prev_hash: str, history_row: models.Model) -> str:
    """HMAC-SHA-256, keyed with HISTORY_CHAIN_KEY, of the previous hash and the row's canonical content.

    The key lives outside the database: someone with write access to the database
    alone cannot rebuild a valid chain after rewriting a row.
    """
    return _keyed_hash(prev_hash, canonical_content(history_row))


def chained_history_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if issubclass(m, ChainedHistoricalRecord)]


def _is_chained(model: type[models.Model]) -> bool:
    """Whether `model` keeps a chained history (its simple-history model has the chain columns)."""
    manager_name = getattr(model._meta, "simple_history_manager_attribute", None)
    if manager_name is None:
        return False
    return issubclass(getattr(model, manager_name).model, ChainedHistoricalRecord)


def _require_atomic(model: type[models.Model], using: str) -> None:
    if not connections[using].in_atomic_block:
        raise HistoryWriteError(
            f"{model.__name__} must be saved inside transaction.atomic() so its history row is chained "
            "atomically; use cases.services."
        )


@receiver(pre_save)
def refuse_unchained_save(sender, instance, raw=False, using=None, **kwargs) -> None:
    """Refuse a tracked save outside a transaction before the record is written.

    Checking only when the history row is built would be too late: in autocommit the record
    itself would already be committed, without any history.
    """
    if not raw and _is_chained(sender):
        _require_atomic(sender, using or router.db_for_write(sender))


@receiver(pre_create_historical_record)
def chain_history_row(sender, instance, history_instance, using=None, **kwargs) -> None:
    """Stamp the server time and link the new history row to its chain before it is inserted."""
    if not issubclass(sender, ChainedHistoricalRecord):
        return
    using = using or router.db_for_write(sender)
    _require_atomic(type(instance), using)
    # History dates are the server's clock, never a caller-supplied _history_date.
    history_instance.history_date = timezone.now()
    key = instance.history_chain_key()
    head, _ = HistoryChainHead.objects.using(using).select_for_update().get_or_create(chain_key=key)
    history_instance.chain_key = key
    history_instance.chain_seq = head.length + 1
    history_instance.chain_prev = head.head_hash
    history_instance.chain_hash = row_hash(head.head_hash, history_instance)
    head.length = history_instance.chain_seq
    head.head_hash = history_instance.chain_hash
    head.save(using=using, update_fields=["length", "head_hash"])


@dataclass(frozen=True)
class ChainResult:
    chain_key: str
    rows: int
    head_hash: str
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def chain_rows(key: str, *, chunk_size: int = 5000) -> Iterator[tuple[type[models.Model], dict]]:
    """Every history row of a chain, in chain order, as (historical model, its column values).

    One streaming query per historical model, merged on the chain position: memory stays
    flat and rows are plain dicts, not model instances.
    """
    streams = [_chain_stream(model, key, chunk_size) for model in chained_history_models()]
    for _, model, row in heapq.merge(*streams, key=lambda item: item[0]):
        yield model, row


def _chain_stream(model: type[models.Model], key: str, chunk_size: int) -> Iterator[tuple]:
    columns = [f.attname for f in model._meta.concrete_fields]
    rows = model.objects.filter(chain_key=key).order_by("chain_seq").values(*columns)
    for row in rows.iterator(chunk_size=chunk_size):
        yield row["chain_seq"], model, row


class ChainVerifier:
    """Checks one chain's rows, fed in chain order; the one implementation behind verify_chain and the dossier.

    The dossier feeds it the rows it already streams for its change history, so a case is
    read once; `verify_history` feeds it `chain_rows`.
    """

    def __init__(self, key: str) -> None:
        self.key = key
        self.prev = GENESIS
        self.count = 0
        self.error = ""

    def _describe(self, model: type[models.Model], row: dict) -> str:
        return f"{model._meta.label} history_id={row['history_id']} (chain {self.key}, position {row['chain_seq']})"

    def feed(self, model: type[models.Model], row: dict) -> bool:
        """Check the next row; False once the chain is broken (the first error is kept)."""
        if self.error:
            return False
        self.count += 1
        seq = row["chain_seq"]
        if seq < self.count:
            self.error = f"{self._describe(model, row)} repeats an earlier position"
        elif seq > self.count:
            self.error = f"row missing before {self._describe(model, row)}: expected position {self.count}"
        elif row["chain_prev"] != self.prev:
            self.error = f"{self._describe(model, row)} does not link to the previous row"
        elif row["chain_hash"] != _keyed_hash(self.prev, canonical_values(model, row)):
            self.error = f"{self._describe(model, row)} was altered: its content no longer matches its hash"
        else:
            self.prev = row["chain_hash"]
            return True
        return False

    def result(self) -> ChainResult:
        """The verdict, the recorded head included (dropping the last rows is detected there)."""
        key, count, prev = self.key, self.count, self.prev
        if self.error:
            return ChainResult(key, count, prev, self.error)
        head = HistoryChainHead.objects.filter(chain_key=key).first()
        if head is None:
            if count:
                return ChainResult(key, count, prev, f"chain {key} has {count} rows but no recorded head")
        elif head.length != count:
            return ChainResult(
                key, count, prev, f"chain {key} ends at position {count} but its head records position {head.length}"
            )
        elif head.head_hash != prev:
            return ChainResult(
                key, count, prev, f"chain {key} ends with hash {prev} but its head records {head.head_hash}"
            )
        return ChainResult(key, count, prev)


def verify_chain(key: str) -> ChainResult:
    """Recompute one chain from its first row; report the first broken row."""
    verifier = ChainVerifier(key)
    for model, row in chain_rows(key):
        if not verifier.feed(model, row):
            break
    return verifier.result()


def all_chain_keys() -> list[str]:
    keys: set[str] = set(HistoryChainHead.objects.values_list("chain_key", flat=True))
    for model in chained_history_models():
        keys.update(model.objects.values_list("chain_key", flat=True).distinct())
    return sorted(keys)


def records_without_history() -> Iterator[models.Model]:
    """Tracked records with no history row at all: written around the history, or their chain erased."""
    for history_model in chained_history_models():
        model = history_model.instance_type
        yield from model._default_manager.exclude(pk__in=history_model.objects.values("id")).order_by("pk")


def verify_all(keys: Iterable[str] | None = None) -> list[ChainResult]:
    """Verify the given chains, or every chain plus the rule that every tracked record has a history."""
    if keys is not None:
        return [verify_chain(key) for key in keys]
    results = {key: verify_chain(key) for key in all_chain_keys()}
    for record in records_without_history():
        key = record.history_chain_key()
        result = results.get(key) or ChainResult(key, 0, GENESIS)
        if result.ok:
            error = f"{record._meta.label} id={record.pk} has no history row (chain {key})"
            results[key] = ChainResult(key, result.rows, result.head_hash, error)
    return [results[key] for key in sorted(results)]


def chain_head(key: str) -> tuple[int, str]:
    """(length, head hash) of a chain, as printed in the dossier."""
    head = HistoryChainHead.objects.filter(chain_key=key).first()
    return (head.length, head.head_hash) if head else (0, GENESIS)


# --- Append-only triggers (installed by migrations, SQLite and PostgreSQL) ---

# TRUNCATE skips row triggers, so a statement trigger refuses it too; an empty table may still be
# truncated (nothing is lost), which keeps Django's test flush working as DELETE does on SQLite.
PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION history_append_only() RETURNS trigger AS $$
DECLARE
    has_rows boolean;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I)', TG_TABLE_SCHEMA, TG_TABLE_NAME) INTO has_rows;
        IF NOT has_rows THEN
            RETURN NULL;
        END IF;
    END IF;
    RAISE EXCEPTION '{TRIGGER_MESSAGE}: % on % refused', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
"""  # noqa: S608 - only the constant message is interpolated


def trigger_statements(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        # ENABLE ALWAYS: the triggers fire even under session_replication_role = replica.
        return [
            *drop_trigger_statements(vendor, table),
            f'CREATE TRIGGER "{table}_append_only" BEFORE UPDATE OR DELETE ON "{table}" '
            "FOR EACH ROW EXECUTE FUNCTION history_append_only()",
            f'ALTER TABLE "{table}" ENABLE ALWAYS TRIGGER "{table}_append_only"',
            f'CREATE TRIGGER "{table}_no_truncate" BEFORE TRUNCATE ON "{table}" '
            "FOR EACH STATEMENT EXECUTE FUNCTION history_append_only()",
            f'ALTER TABLE "{table}" ENABLE ALWAYS TRIGGER "{table}_no_truncate"',
        ]
    if vendor == "sqlite":
        return [
            *drop_trigger_statements(vendor, table),
            f'CREATE TRIGGER "{table}_no_update" BEFORE UPDATE ON "{table}" '
            f"BEGIN SELECT RAISE(ABORT, '{TRIGGER_MESSAGE}'); END",
            f'CREATE TRIGGER "{table}_no_delete" BEFORE DELETE ON "{table}" '
            f"BEGIN SELECT RAISE(ABORT, '{TRIGGER_MESSAGE}'); END",
        ]
    raise NotImplementedError(f"No append-only triggers for database vendor {vendor!r}")


def drop_trigger_statements(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f'DROP TRIGGER IF EXISTS "{table}_append_only" ON "{table}"',
            f'DROP TRIGGER IF EXISTS "{table}_no_truncate" ON "{table}"',
        ]
    return [f'DROP TRIGGER IF EXISTS "{table}_no_update"', f'DROP TRIGGER IF EXISTS "{table}_no_delete"']


def install_append_only_triggers(schema_editor, tables: Iterable[str]) -> None:
    # params=None: the statements are sent as they are; with parameters psycopg would read
    # PL/pgSQL's "%" placeholders as its own and refuse the function.
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION, params=None)
    for table in tables:
        for statement in trigger_statements(vendor, table):
            schema_editor.execute(statement, params=None)


def remove_append_only_triggers(schema_editor, tables: Iterable[str]) -> None:
    for table in tables:
        for statement in drop_trigger_statements(schema_editor.connection.vendor, table):
            schema_editor.execute(statement, params=None)


# The DELETE, UPDATE and TRUNCATE bits of pg_trigger.tgtype (PostgreSQL's catalog/pg_trigger.h).
_PG_ALL_WRITES = 8 | 16 | 32


def tables_with_append_only_triggers() -> set[str]:
    """History tables the database protects (introspected, for tests and checks).

    A table counts only when its triggers refuse both UPDATE and DELETE (and TRUNCATE on
    PostgreSQL, where they must also be enabled in every replication role).
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname, t.tgtype FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_proc p ON p.oid = t.tgfoid WHERE p.proname = 'history_append_only' "
                "AND NOT t.tgisinternal AND t.tgenabled = 'A'"
            )
            refused: dict[str, int] = {}
            for table, tgtype in cursor.fetchall():
                refused[table] = refused.get(table, 0) | (tgtype & _PG_ALL_WRITES)
            return {table for table, ops in refused.items() if ops == _PG_ALL_WRITES}
        cursor.execute("SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'trigger'")
        refusing: dict[str, set[str]] = {}
        for table, name, sql in cursor.fetchall():
            if f"RAISE(ABORT, '{TRIGGER_MESSAGE}')" in sql:
                refusing.setdefault(table, set()).add(name)
        return {t for t, names in refusing.items() if {f"{t}_no_update", f"{t}_no_delete"} <= names}
