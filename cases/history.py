"""Tamper evidence for the audited history: hash chains, append-only triggers, verification.

Every historical row (django-simple-history) belongs to a chain: the chain of its case
(`case:<id>`) for a case and everything under it, or of its organisation
(`org:<id>`). Each row stores its position in the chain, the previous row's hash and
two seals of its own:

- `chain_hash`, a plain SHA-256 over the previous row's hash and the row's canonical JSON
  (`public_hash`): anyone can recompute it, with no secret, from the canonical rows of an
  outsider's bundle (cases/bundle.py, checked by cases/verify_bundle.py);
- `chain_mac`, an HMAC-SHA-256 of that hash keyed with HISTORY_CHAIN_KEY (kept outside the
  database): someone with write access to the database alone can recompute SHA-256 hashes but
  not this, so the operator's `verify_history` still catches them.

Signed, time-stamped checkpoints of every chain's head (cases/checkpoints.py) stop whoever holds
both the database and HISTORY_CHAIN_KEY from rewriting what a checkpoint already covers.

The chain's head (length and last hash) is kept in `HistoryChainHead`, so dropping the
last rows is detected too. Database triggers refuse UPDATE and DELETE (and TRUNCATE on
PostgreSQL) on history tables; an attacker who drops them still cannot rewrite a row
without breaking the chain, which `verify_chain` (and `manage.py verify_history`)
recomputes. `verify_all` also reports tracked records that have no history row at all.
Tracked saves must run inside `transaction.atomic()`; one outside is refused before the
record is written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import heapq
import hmac
import json
import operator
import os
import re
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.db import connection, connections, models, router, transaction
from django.db.models import Exists, F, Func, OuterRef
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.db.models.signals import class_prepared, pre_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy, pgettext_lazy
from simple_history.signals import pre_create_historical_record

GENESIS = "0" * 64
# The columns that are not hashed (the row's own hash), and every chain column.
CHAIN_FIELDS = ("chain_hash", "chain_mac")
CHAIN_COLUMNS = ("chain_key", "chain_seq", "chain_prev", "chain_hash", "chain_mac")
TRIGGER_MESSAGE = "history is append-only"


class HistoryWriteError(RuntimeError):
    """A history row could not be chained (e.g. written outside a transaction)."""


class ChainedHistoricalRecord(models.Model):
    """Abstract base of every historical model: the hash-chain columns."""

    # Indexed with chain_seq (see index_chain_positions), which also serves lookups by key alone.
    chain_key = models.CharField(max_length=40, editable=False)
    chain_seq = models.PositiveBigIntegerField(editable=False)
    chain_prev = models.CharField(max_length=64, editable=False)
    chain_hash = models.CharField(max_length=64, editable=False)
    chain_mac = models.CharField(max_length=64, editable=False)

    class Meta:
        abstract = True


@receiver(class_prepared)
def index_chain_positions(sender: type[models.Model], **kwargs) -> None:
    """Give every history table a (chain_key, chain_seq) index: a chain read in order, a page of it,
    and verify_history's ordered pass over a whole table all walk it.

    Added here because django-simple-history builds each historical model's Meta itself, so the
    abstract base's Meta.indexes would not reach it.
    """
    if issubclass(sender, ChainedHistoricalRecord) and not sender._meta.abstract:
        index = models.Index(fields=["chain_key", "chain_seq"])
        index.set_name_with_model(sender)
        sender._meta.indexes.append(index)
        # Migrations read a model's indexes only when its Meta declared some.
        sender._meta.original_attrs["indexes"] = sender._meta.indexes


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
    "cases.historicalorganization": {"dora_authority": "acpr"},
    # The notice sent to a controller, kept as sent (issue 9, item 3): empty for the notices before it.
    "cases.historicalcontrollernotice": {"notice_pdf": "", "notice_sha256": ""},
    "cases.historicalreceivednotice": {"pdf_sha256": ""},
    # Issue 12: when a decision or a closure was recorded, apart from when it happened; a sent-back review.
    "cases.historicalbreachcase": {
        "notify_authority_recorded_at": None,
        "inform_persons_recorded_at": None,
        "closed_recorded_at": None,
    },
    "cases.historicalobligation": {"rule_version": "", "latest_update_at": None, "decided_recorded_at": None},
    "cases.historicalsubmission": {
        "returned_by_id": None,
        "returned_at": None,
        "return_comment": "",
        "communication_id": None,  # the Art. 34 letter's communication
    },
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


def public_hash(prev_hash: str, canonical: str) -> str:
    """SHA-256 (hex) of the previous row's hash, a newline and the row's canonical JSON, in UTF-8:
    the documented chain an outsider recomputes without any secret."""
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def row_mac(chain_hash: str) -> str:
    """HMAC-SHA-256 of a row's hash, keyed with HISTORY_CHAIN_KEY (held outside the database)."""
    return hmac.digest(settings.HISTORY_CHAIN_KEY.encode(), chain_hash.encode(), "sha256").hex()


def link_values(model: type[models.Model], values: dict, *, key: str, seq: int, prev: str) -> str:
    """Set the chain columns of a history row given as its column values (attname -> value), and
    return its hash: how every history row is chained, whether the signal handler writes it or a
    benchmark bulk-writes it."""
    values["chain_key"], values["chain_seq"], values["chain_prev"] = key, seq, prev
    values["chain_hash"] = chained = public_hash(prev, canonical_values(model, values))
    values["chain_mac"] = row_mac(chained)
    return chained


def row_hash(prev_hash: str, history_row: models.Model) -> str:
    """The public SHA-256 hash of a history row following `prev_hash` (see `public_hash`)."""
    return public_hash(prev_hash, canonical_content(history_row))


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
    model = type(history_instance)
    values = {f.attname: getattr(history_instance, f.attname) for f in model._meta.concrete_fields}
    head.length += 1
    head.head_hash = link_values(model, values, key=key, seq=head.length, prev=head.head_hash)
    for name in CHAIN_COLUMNS:
        setattr(history_instance, name, values[name])
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


@dataclass(frozen=True)
class _Layout:
    """Where a historical model's values sit in the tuples a verification pass reads, and the
    canonical JSON of such a tuple, fast.

    Values read back from the database already have their canonical Python types (str, int,
    bool, aware datetime, Decimal, list), so only the instants, decimals and other special
    columns need spelling out; anything unexpected goes the general way (`canonical_values`).
    """

    model: type[models.Model]
    columns: tuple[str, ...]
    history_id: int
    chain_key: int
    chain_seq: int
    chain_prev: int
    chain_hash: int
    chain_mac: int
    # The hashed columns in canonical order, the label appended to the row as its last value.
    names: tuple[str, ...]
    hashed: Callable[[tuple], tuple]
    label: tuple[str]
    datetimes: tuple[int, ...]
    decimals: tuple[tuple[int, Decimal], ...]
    jsons: tuple[int, ...]
    others: tuple[tuple[int, models.Field], ...]
    json_columns: tuple[str, ...]
    # Whether the database sends instants already spelled, decimals and JSON as text (see `select`).
    formatted: bool
    # (position, value) of the LATE_COLUMNS: left out of the canonical form while they hold that value.
    late: tuple[tuple[int, object], ...] = ()

    def canonical(self, values: tuple) -> str:
        """canonical_values of a row read back from the database, as a tuple in `columns` order."""
        hashed = list(self.hashed(values + self.label))
        left_out = [i for i, value in self.late if hashed[i] == value]
        if not self.formatted:
            for i in self.datetimes:
                value = hashed[i]
                if value is not None:
                    hashed[i] = value.astimezone(dt.UTC).isoformat(timespec="microseconds")
        if not self.formatted:
            for i, quantum in self.decimals:
                value = hashed[i]
                if value is not None:
                    hashed[i] = str(value.quantize(quantum))
        for i in self.jsons:
            value = hashed[i]
            if value is not None:
                if self.formatted:
                    value = hashed[i] = json.loads(value)
                if not (type(value) is list and all(type(item) is str for item in value)):
                    return canonical_values(self.model, self.as_dict(values))
        for i, field in self.others:
            hashed[i] = _canonical_value(field, hashed[i])
        data = dict(zip(self.names, hashed, strict=True))
        for i in left_out:
            del data[self.names[i]]
        return _encode(data)

    def respell(self, values: tuple) -> str | None:
        """Python already spelled the row (see `_SpelledLayout.respell`)."""
        return None

    # Where the database's own check of the row's hash sits in the tuple (`_CheckedLayout`): nowhere.
    checked = None

    def as_dict(self, values: tuple) -> dict:
        """The row as attname -> value, JSON columns parsed back when the database sent them as text."""
        row = dict(zip(self.columns, values, strict=True))
        if self.formatted:
            for name in self.json_columns:
                if row[name] is not None:
                    row[name] = json.loads(row[name])
        return row

    def select(self) -> list:
        """What to select for `values_list`: the columns, or on PostgreSQL the instants already
        spelled in UTC ISO 8601 (the text canonical_values writes), decimals and JSON as text: decoding
        timestamps into Python objects only to spell them again costs more than the hashing."""
        if not self.formatted:
            return list(self.columns)
        selected: list = []
        for field in self.model._meta.concrete_fields:
            kind = _kind(field)
            if kind == _DATETIME:
                selected.append(Func(F(field.attname), template=_PG_UTC_ISO, output_field=models.CharField()))
            elif kind == _JSON:
                selected.append(Cast(field.attname, models.TextField()))
            elif kind == _DECIMAL:
                # numeric(p, s) as text has exactly s decimals: str(Decimal.quantize(...)), spelled by the database.
                selected.append(Cast(field.attname, models.TextField()))
            else:
                selected.append(field.attname)
        return selected


# json.dumps(..., ensure_ascii=False, separators=(",", ":")) without building an encoder per row
# (json.dumps makes a new one whenever an option differs from its defaults): a tenth of a row's cost.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


# PostgreSQL spelling of datetime.isoformat(timespec="microseconds") in UTC.
_PG_UTC_ISO = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')"


@functools.cache
def _layout(model: type[models.Model], formatted: bool = False) -> _Layout:
    columns = tuple(f.attname for f in model._meta.concrete_fields)
    position = {name: i for i, name in enumerate(columns)}
    entries = _hashed_columns(model)
    datetimes, decimals, jsons, others = [], [], [], []
    late = []
    for i, (_, field, kind, quantum, left_out) in enumerate(entries):
        if left_out is not _HASHED_ALWAYS:
            late.append((i, left_out))
        if kind == _DATETIME:
            datetimes.append(i)
        elif kind == _DECIMAL:
            decimals.append((i, quantum))
        elif kind == _JSON:
            jsons.append(i)
        elif kind == _OTHER:
            others.append((i, field))
    return _Layout(
        model=model,
        columns=columns,
        history_id=position["history_id"],
        chain_key=position["chain_key"],
        chain_seq=position["chain_seq"],
        chain_prev=position["chain_prev"],
        chain_hash=position["chain_hash"],
        chain_mac=position["chain_mac"],
        names=tuple(attname for attname, *_ in entries),
        hashed=operator.itemgetter(*(len(columns) if field is None else position[a] for a, field, *_ in entries)),
        label=(model._meta.label_lower,),
        datetimes=tuple(datetimes),
        decimals=tuple(decimals),
        jsons=tuple(jsons),
        others=tuple(others),
        json_columns=tuple(f.attname for f in model._meta.concrete_fields if _kind(f) == _JSON),
        formatted=formatted,
        late=tuple(late),
    )


# What `_SpelledLayout` selects before the spelled row, in this order.
_SPELLED_COLUMNS = ("history_id", "chain_key", "chain_seq", "chain_prev", "chain_hash", "chain_mac")
_NAME = re.compile(r"^[a-z0-9_.]+$")


@dataclass(frozen=True)
class _SpelledLayout:
    """On PostgreSQL, a historical model whose rows the database spells in canonical JSON itself.

    Decoding a row's thirty to seventy columns into Python objects to spell them again costs several
    times the SHA-256 and the HMAC together, so the database writes the text: the hashed columns'
    members in canonical order, each value as canonical_values spells it (instants in UTC ISO 8601 to
    the microsecond, decimals as text, arrays compact, strings as `to_json` escapes them), the
    LATE_COLUMNS that hold their old value left out, all joined by one `concat` (row_to_json and a
    chain of `||` cost the database twice as much). The verification pass has the database hash that
    text too (`_CheckedLayout`); `query` reads the text itself.

    Sound because that text is a faithful spelling of the row: a text that hashes to the row's
    `chain_hash` is the canonical form the row was chained with, so the row holds exactly what was
    chained. A value the database spells otherwise (a JSON column holding objects or numbers, a
    decimal written -0, an escape spelled differently by another PostgreSQL version) only fails to
    hash: the row is then read again and spelled in Python (`respell`), which decides.
    """

    model: type[models.Model]
    # The SQL expression of the row's canonical JSON, over the table's columns.
    sql: str
    history_id: int = 0
    chain_key: int = 1
    chain_seq: int = 2
    chain_prev: int = 3
    chain_hash: int = 4
    chain_mac: int = 5
    spelled: int = 6

    checked = None  # see `_CheckedLayout`

    def query(self) -> models.QuerySet:
        spelled = RawSQL(self.sql, (), output_field=models.TextField())  # noqa: S611 - our own column names
        return self.model._default_manager.annotate(canonical_text=spelled).values_list(
            *_SPELLED_COLUMNS, "canonical_text"
        )

    def canonical(self, values: tuple) -> str:
        return values[self.spelled]

    def respell(self, values: tuple) -> str | None:
        """The row spelled in Python from its column values, read again."""
        layout = _layout(self.model, formatted=True)
        rows = self.model._default_manager.filter(history_id=values[self.history_id]).values_list(*layout.select())
        found = rows.first()
        return None if found is None else layout.canonical(found)


def _spelled_value(column: str, kind: int) -> str | None:
    """SQL for one column's value as canonical_values spells it in JSON (NULL for null); None if not spelled here."""
    if kind == _INT:
        return f"{column}::text"
    if kind == _BOOL:
        return f"CASE WHEN {column} THEN 'true' WHEN NOT {column} THEN 'false' END"
    if kind == _TEXT:
        # to_json escapes as json.dumps does; testing each string first for what needs escaping
        # (a regular expression, then quotes around the plain ones) cost the database more.
        return f"pg_catalog.to_json({column})::text"
    if kind == _DATETIME:
        return f"'\"' || {_PG_UTC_ISO % {'expressions': column}} || '\"'"
    if kind == _DECIMAL:
        # numeric(p, s) as text has exactly s decimals: str(Decimal.quantize(...)).
        return f"'\"' || {column}::text || '\"'"
    if kind == _JSON:
        # jsonb writes an array of strings as ["a", "b"]: '", "' only ever sits between two elements
        # (a quote inside a string is escaped), so dropping its space gives the compact form. Any
        # other JSON keeps a space somewhere and fails to hash: Python spells that row.
        return f"pg_catalog.replace({column}::text, '\", \"', '\",\"')"
    return None


def _sql_text(value: str) -> str:
    """A string constant in a statement run with (client-side bound) parameters."""
    return "'" + value.replace("'", "''").replace("%", "%%") + "'"


@functools.cache
def _spelled_layout(model: type[models.Model]) -> _SpelledLayout | None:
    """The database-spelled layout of a live historical model on PostgreSQL, or None if Python spells its
    rows: a model with a JSON column holding objects (most of its rows would be spelled twice), a column
    of another kind, or a column left out while it holds its old value (LATE_COLUMNS) first in order."""
    table = connection.ops.quote_name(model._meta.db_table)
    members = []
    for position, (attname, field, kind, _, left_out) in enumerate(_hashed_columns(model)):
        if not _NAME.match(attname) or (field is None and not _NAME.match(kind)):
            return None
        key = ("," if position else "{") + _encode(attname) + ":"
        if field is None:
            members.append(_sql_text(key + _encode(kind)))  # the model label
            continue
        if isinstance(field, models.JSONField) and field.default is not list:
            return None
        target = getattr(field, "target_field", field)  # a foreign key is spelled as the key it holds
        if kind == _INT and not isinstance(target, models.IntegerField):
            kind = _TEXT if isinstance(target, models.CharField | models.TextField) else _OTHER
        column = f"{table}.{connection.ops.quote_name(field.column)}"
        value = _spelled_value(column, kind)
        if value is None:
            return None
        member = f"{_sql_text(key)} || {value}"
        if left_out is _HASHED_ALWAYS:
            members.append(f"COALESCE({member}, {_sql_text(key + 'null')})")
        elif position == 0 or not (left_out is None or isinstance(left_out, str)):
            return None
        elif left_out is None:
            members.append(member)  # NULL while the column is null: concat() leaves it out
        else:
            members.append(
                f"CASE WHEN {column} = {_sql_text(left_out)} THEN NULL "
                f"ELSE COALESCE({member}, {_sql_text(key + 'null')}) END"
            )
    # concat() takes up to 100 arguments.
    groups = [f"pg_catalog.concat({', '.join(members[i : i + 90])})" for i in range(0, len(members), 90)]
    return _SpelledLayout(model=model, sql=f"pg_catalog.concat({', '.join(groups)}, '}}')")


@dataclass(frozen=True)
class _CheckedLayout:
    """On PostgreSQL, a historical model whose rows the database spells (`_SpelledLayout`) and hashes too.

    Per row the verification pass then reads only the chain columns and one boolean: whether SHA-256 of
    the row's stored `chain_prev`, a newline and its canonical JSON as the database spells it from the
    stored columns is the row's stored `chain_hash` (`public_hash`, recomputed from the content, never
    taken on trust). The verifier checks the rest in Python: that `chain_prev` is the previous row's hash
    (so the database hashed after the right row), the keyed seal (HISTORY_CHAIN_KEY never leaves Python)
    and the checkpoints. A row whose boolean is not true is read again and spelled in Python (`respell`),
    which decides, exactly as on the spelled path. Sound for the same reason: the database's spelling is
    faithful, so only the row as it was chained can hash to its `chain_hash`. The functions are named
    in pg_catalog, so no function of the same name elsewhere on the search path stands in for them.

    Each row then costs Python a tuple of six short columns instead of two kilobytes of text to receive,
    encode and hash, and the database its spelling once more, but not the sending of that text.
    """

    spelled: _SpelledLayout
    # SELECT ... FROM the table, with `{where}` where the range of chain keys goes (%s placeholders).
    sql: str
    history_id: int = 0
    chain_key: int = 1
    chain_seq: int = 2
    chain_prev: int = 3
    chain_hash: int = 4
    chain_mac: int = 5
    checked: int = 6

    @property
    def model(self) -> type[models.Model]:
        return self.spelled.model

    def stream(self, between: tuple[str, str] | None, chunk_size: int) -> Iterator[tuple]:
        """The rows (chain columns, then whether the database found the row's hash), in (chain_key,
        chain_seq) order, through a server-side cursor: memory stays flat."""
        table = connection.ops.quote_name(self.model._meta.db_table)
        where, params = "", []
        if between is not None:
            where = f"WHERE {table}.chain_key >= %s AND {table}.chain_key <= %s"
            params = list(between)
        with connection.chunked_cursor() as cursor:
            cursor.execute(self.sql.replace("{where}", where), params)
            while rows := cursor.fetchmany(chunk_size):
                yield from rows

    def canonical(self, values: tuple) -> None:
        """No text is read on this path: a row the database did not find intact is spelled in Python."""
        return None

    def respell(self, values: tuple) -> str | None:
        return self.spelled.respell(values)


@functools.cache
def _checked_layout(model: type[models.Model]) -> _CheckedLayout | None:
    """The layout of a live historical model whose rows PostgreSQL spells and hashes, or None (see
    `_spelled_layout`)."""
    spelled = _spelled_layout(model)
    if spelled is None:
        return None
    table = connection.ops.quote_name(model._meta.db_table)
    chained = ", ".join(f"{table}.{connection.ops.quote_name(name)}" for name in _SPELLED_COLUMNS)
    text = f"{table}.chain_prev || E'\\n' || {spelled.sql}"
    digest = f"pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to({text}, 'UTF8')), 'hex')"
    sql = (
        f"SELECT {chained}, {digest} = {table}.chain_hash FROM {table} "  # noqa: S608 - names checked
        f"{{where}} ORDER BY {table}.chain_key, {table}.chain_seq"
    )
    return _CheckedLayout(spelled=spelled, sql=sql)


def chain_rows(key: str, *, chunk_size: int = 1000) -> Iterator[tuple[type[models.Model], dict]]:
    """Every history row of a chain, in chain order, as (historical model, its column values).

    One streaming query per historical model, merged on the chain position: memory stays
    flat and rows are plain dicts, not model instances.
    """
    streams = [_chain_stream(model, key, chunk_size) for model in chained_history_models()]
    for _, model, row in heapq.merge(*streams, key=lambda item: item[0]):
        yield model, row


def _chain_stream(model: type[models.Model], key: str, chunk_size: int) -> Iterator[tuple]:
    """(position, model, row) of one model's rows of a chain: the same query and values as
    `.values(*columns).iterator()`, each row's values converted by `_row_converter` (Django's own
    converters, with faster equivalents for the commonest ones) rather than value by value."""
    from django.db.models.sql.constants import MULTI

    columns = [f.attname for f in model._meta.concrete_fields]
    queryset = model.objects.filter(chain_key=key).order_by("chain_seq").values_list(*columns)
    compiler = queryset.query.get_compiler(queryset.db)
    chunked = not connections[queryset.db].settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
    chunks = compiler.execute_sql(MULTI, chunked_fetch=chunked, chunk_size=chunk_size)
    convert = _row_converter(compiler)  # once the query is compiled: its select is known then
    for chunk in chunks:
        for values in chunk:
            row = dict(zip(columns, convert(values) if convert else values, strict=True))
            yield row["chain_seq"], model, row


class ChainVerifier:
    """Checks one chain's rows, fed in chain order; the one implementation behind verify_chain,
    verify_all and the dossier.

    The dossier feeds it the rows it already streams for its change history, so a case is
    read once; `verify_chain` feeds it `chain_rows`, and `verify_all` the tuples of its
    single pass over every table (`feed_values`).
    """

    def __init__(
        self,
        key: str,
        *,
        anchor: tuple[int, str, str] | None = None,
        sink: Callable[[str, str], None] | None = None,
    ) -> None:
        """`anchor`: (length, head, name) a signed checkpoint recorded for this chain, checked on the
        way; `sink(canonical, hash)`: receives each intact row (the dossier's outsider bundle)."""
        self.key = key
        self.prev = GENESIS
        self.count = 0
        self.error = ""
        self.anchor = anchor
        self.sink = sink
        # row_mac without reading the setting for each row.
        self.mac_key = settings.HISTORY_CHAIN_KEY.encode()

    def _describe(self, model: type[models.Model], history_id: int, seq: int) -> str:
        return f"{model._meta.label} history_id={history_id} (chain {self.key}, position {seq})"

    def feed(self, model: type[models.Model], row: dict) -> bool:
        """Check the next row, given as a dict of its column values; False once the chain is broken."""
        layout = _layout(model)
        return self.feed_values(layout, _columns_getter(layout.columns)(row))

    def feed_values(self, layout: _Layout, values: tuple) -> bool:
        """Check the next row, given as a tuple in `layout`'s column order (the first error is kept)."""
        if self.error:
            return False
        self.count += 1
        seq = values[layout.chain_seq]
        chained = values[layout.chain_hash]
        canonical = ""
        if seq < self.count:
            self.error = f"{self._describe(layout.model, values[layout.history_id], seq)} repeats an earlier position"
        elif seq > self.count:
            where = self._describe(layout.model, values[layout.history_id], seq)
            self.error = f"row missing before {where}: expected position {self.count}"
        elif values[layout.chain_prev] != self.prev:
            where = self._describe(layout.model, values[layout.history_id], seq)
            self.error = f"{where} does not link to the previous row"
        elif (canonical := self._content(layout, values, chained)) is None:
            where = self._describe(layout.model, values[layout.history_id], seq)
            self.error = f"{where} was altered: its content no longer matches its hash"
        elif values[layout.chain_mac] != hmac.digest(self.mac_key, chained.encode(), "sha256").hex():
            where = self._describe(layout.model, values[layout.history_id], seq)
            self.error = f"{where} was rewritten without HISTORY_CHAIN_KEY: its keyed seal does not match"
        elif self.anchor is not None and self.anchor[0] == seq and self.anchor[2] and chained != self.anchor[1]:
            where = self._describe(layout.model, values[layout.history_id], seq)
            self.error = f"{where} differs from the hash signed in {self.anchor[2]}: rewritten after it"
        else:
            self.prev = chained
            if self.sink is not None:
                self.sink(canonical, chained)
            return True
        return False

    def _content(self, layout, values: tuple, chained: str) -> str | None:
        """The row's canonical JSON if it hashes to `chained` after the previous row, else None; "" when
        the database recomputed that hash from the row's stored content (`_CheckedLayout`, read after the
        row's `chain_prev` was found to be the previous row's hash) and no sink needs the text."""
        if layout.checked is not None and values[layout.checked] is True and self.sink is None:
            return ""
        canonical = layout.canonical(values)
        if canonical is not None and public_hash(self.prev, canonical) == chained:
            return canonical
        # The database spells a few values otherwise than Python (see `_SpelledLayout`): Python decides.
        canonical = layout.respell(values)
        if canonical is not None and public_hash(self.prev, canonical) == chained:
            return canonical
        return None

    def result(self, head: tuple[int, str] | None | bool = False) -> ChainResult:
        """The verdict, the recorded head included (dropping the last rows is detected there).

        `head` is the recorded (length, hash), None when there is none; left out, it is read.
        """
        key, count, prev = self.key, self.count, self.prev
        if self.error:
            return ChainResult(key, count, prev, self.error)
        if self.anchor is not None and self.anchor[0] > count:
            return ChainResult(
                key,
                count,
                prev,
                f"chain {key} ends at position {count}, before position {self.anchor[0]} "
                f"signed in {self.anchor[2]}: rows were dropped after it",
            )
        if head is False:
            head = HistoryChainHead.objects.filter(chain_key=key).values_list("length", "head_hash").first()
        if head is None:
            if count:
                return ChainResult(key, count, prev, f"chain {key} has {count} rows but no recorded head")
        elif head[0] != count:
            return ChainResult(
                key, count, prev, f"chain {key} ends at position {count} but its head records position {head[0]}"
            )
        elif head[1] != prev:
            return ChainResult(key, count, prev, f"chain {key} ends with hash {prev} but its head records {head[1]}")
        return ChainResult(key, count, prev)


def verify_chain(key: str, *, anchor: tuple[int, str, str] | None = None) -> ChainResult:
    """Recompute one chain from its first row; report the first broken row (or a break with `anchor`)."""
    verifier = ChainVerifier(key, anchor=anchor)
    for model, row in chain_rows(key):
        if not verifier.feed(model, row):
            break
    return verifier.result()


def ordered_chain_keys(history_models: list | None = None, head_model: type | None = None) -> dict[str, int]:
    """Every chain key (recorded heads and history rows), ranked in the database's own order.

    The single pass reads each table ordered by (chain_key, chain_seq) and merges the tables
    in Python: ranking the keys by the database's collation keeps the merge consistent with
    what the database sends, whatever that collation is. Migrations pass their own models.
    """
    history_models = chained_history_models() if history_models is None else history_models
    heads = (head_model or HistoryChainHead)._default_manager.order_by().values_list("chain_key")
    tables = [m._default_manager.order_by().values_list("chain_key") for m in history_models]
    keys = heads.union(*tables).order_by("chain_key")
    return {key: rank for rank, (key,) in enumerate(keys)}


def all_rows(
    rank: dict[str, int],
    *,
    chunk_size: int = 2000,
    history_models: list | None = None,
    between: tuple[str, str] | None = None,
) -> Iterator[tuple]:
    """(rank, seq, stream, layout, values) for every history row, in chain order across tables:
    one streaming query per table, ordered by (chain_key, chain_seq), merged. `between`: only the
    chains whose keys lie in that closed range."""
    # The live models' rows are spelled and hashed by PostgreSQL (`_CheckedLayout`); a migration's by Python.
    spelled = history_models is None and connection.vendor == "postgresql"
    history_models = chained_history_models() if history_models is None else history_models

    def stream(index: int, model: type[models.Model]) -> Iterator[tuple]:
        layout = _layout(model, formatted=connection.vendor == "postgresql")
        if spelled and (checked := _checked_layout(model)) is not None:
            layout, rows = checked, checked.stream(between, chunk_size)
        else:
            queryset = model._default_manager.values_list(*layout.select())
            if between is not None:
                queryset = queryset.filter(chain_key__gte=between[0], chain_key__lte=between[1])
            rows = queryset.order_by("chain_key", "chain_seq").iterator(chunk_size=chunk_size)
        key_at, seq_at = layout.chain_key, layout.chain_seq
        for values in rows:
            yield rank[values[key_at]], values[seq_at], index, layout, values

    # Ties (one position written twice) are broken by the stream index, never by the layouts.
    return heapq.merge(*(stream(i, m) for i, m in enumerate(history_models)))


def verify_workers(requested: int | None = None) -> int:
    """How many connections `iter_verify_all` reads with: `requested`, by default one per core (up to 4),
    whose backends spell the rows side by side, on PostgreSQL; always one inside a transaction, whose
    uncommitted rows the other connections could not see, and on SQLite."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    return requested if requested is not None else max(1, min(4, os.cpu_count() or 1))


# What pg_export_snapshot() returns (e.g. 00000003-0000001B-1): checked before it is spelled into SQL.
_SNAPSHOT_ID = re.compile(r"^[0-9A-Fa-f]+-[0-9A-Fa-f]+(-[0-9]+)?$")


@contextlib.contextmanager
def consistent_reads(*, export: bool = False) -> Iterator[str | None]:
    """Every read on this connection inside sees one snapshot of the database: the chains, their heads
    and the records as they all stood at one instant, whatever is committed meanwhile.

    On PostgreSQL a read-only REPEATABLE READ transaction; with `export`, its snapshot's id is returned
    for other connections to read in it too (`joined_snapshot`). On SQLite a read transaction (its
    first read fixes what it sees). Inside a transaction already begun, the caller's transaction is
    kept as it is (None). Nothing can be written on this connection inside.
    """
    if connection.in_atomic_block:
        yield None
        return
    with transaction.atomic():
        snapshot = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                if export:
                    # This connection then waits, idle in its transaction, while the others read in its snapshot:
                    # a server's idle_in_transaction_session_timeout must not end the pass (for this
                    # transaction only).
                    cursor.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
                    cursor.execute("SELECT pg_export_snapshot()")
                    snapshot = cursor.fetchone()[0]
        yield snapshot


@contextlib.contextmanager
def joined_snapshot(snapshot: str) -> Iterator[None]:
    """Every read on this (thread's) connection inside sees the snapshot another connection exported
    (`consistent_reads(export=True)`), still open there."""
    if not _SNAPSHOT_ID.match(snapshot):
        raise ValueError(f"not a PostgreSQL snapshot id: {snapshot!r}")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        yield


def iter_verify_all(
    *, anchors: dict[str, tuple[int, str, str]] | None = None, chunk_size: int = 2000, workers: int | None = None
) -> Iterator[ChainResult]:
    """Every chain's verdict in key order, plus the rule that every tracked record has a history.

    `anchors`: chain key -> (length, head, name) of the latest signed checkpoint, checked too.

    One streaming pass per history table, ordered by (chain_key, chain_seq) and merged:
    memory stays flat whatever the number of rows, and the query count does not grow with
    the number of chains. With `workers` > 1 (default `verify_workers()`), the chains are cut
    into consecutive key ranges, each read on a connection of its own in a thread, and the
    verdicts still come in key order.

    Every read of the pass, on every connection, is made in one snapshot (`consistent_reads`): the
    heads, the chain keys and the rows as they stood together at its start, so a chain written or
    created while the pass runs is judged as it was then (or not seen), never half-written. This
    connection stays in that read-only transaction until the last verdict has been taken.
    """
    anchors = anchors or {}
    workers = verify_workers(workers)
    with consistent_reads(export=workers > 1) as snapshot:
        yield from _verify_all_in_snapshot(anchors, chunk_size, workers, snapshot)


def _verify_all_in_snapshot(
    anchors: dict[str, tuple[int, str, str]], chunk_size: int, workers: int, snapshot: str | None
) -> Iterator[ChainResult]:
    missing: dict[str, str] = {}
    for record in records_without_history():
        key = record.history_chain_key()
        missing.setdefault(key, f"{record._meta.label} id={record.pk} has no history row (chain {key})")
    heads = {
        key: (length, head)
        for key, length, head in HistoryChainHead.objects.values_list("chain_key", "length", "head_hash")
    }
    rank = ordered_chain_keys()
    keys = list(rank)
    if snapshot is None:
        workers = 1  # inside the caller's transaction, whose snapshot no other connection can join

    def verify_range(first: int, end: int, threaded: bool) -> Iterator[ChainResult]:
        try:
            with joined_snapshot(snapshot) if threaded else contextlib.nullcontext():
                between = (keys[first], keys[end - 1]) if threaded else None
                rows = all_rows(rank, chunk_size=chunk_size, between=between) if end > first else ()
                yield from _verify_ranks(keys, first, end, rows, heads=heads, missing=missing, anchors=anchors)
        finally:
            if threaded:
                connection.close()  # the thread's own connection

    if workers <= 1 or len(keys) < 2:
        yield from verify_range(0, len(keys), threaded=False)
    else:
        # Several ranges per worker so one long chain does not leave the others idle; a bounded window
        # of ranges in flight, so memory holds a few ranges' verdicts, not every chain's.
        parts = min(len(keys), workers * 4)
        bounds = [len(keys) * i // parts for i in range(parts + 1)]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="verify-history") as pool:
            pending: deque = deque()
            for i in range(parts):
                pending.append(pool.submit(lambda a, b: list(verify_range(a, b, True)), bounds[i], bounds[i + 1]))
                if len(pending) > workers:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
    for key in sorted(missing):
        yield ChainResult(key, 0, GENESIS, missing[key])


def _verify_ranks(
    keys: list[str], first: int, end: int, rows: Iterable[tuple], *, heads: dict, missing: dict, anchors: dict
) -> Iterator[ChainResult]:
    """The verdicts of the chains ranked first..end-1, fed their rows (`all_rows`) in chain order."""
    position = first
    verifier: ChainVerifier | None = None

    def finish(checker: ChainVerifier) -> ChainResult:
        result = checker.result(heads.get(checker.key))
        error = missing.pop(checker.key, "")
        if result.ok and error:
            return ChainResult(result.chain_key, result.rows, result.head_hash, error)
        return result

    for key_rank, _, _, layout, values in rows:
        if verifier is None or key_rank != position:
            if verifier is not None:
                yield finish(verifier)
                position += 1
            # Chains with a recorded head but no row at all come in between.
            while position < key_rank:
                yield finish(ChainVerifier(keys[position], anchor=anchors.get(keys[position])))
                position += 1
            verifier = ChainVerifier(keys[key_rank], anchor=anchors.get(keys[key_rank]))
        verifier.feed_values(layout, values)
    if verifier is not None:
        yield finish(verifier)
        position += 1
    while position < end:
        yield finish(ChainVerifier(keys[position], anchor=anchors.get(keys[position])))
        position += 1


def all_chain_keys() -> list[str]:
    return sorted(ordered_chain_keys())


def records_without_history() -> Iterator[models.Model]:
    """Tracked records with no history row at all: written around the history, or their chain erased.

    An anti-join (NOT EXISTS): `exclude(pk__in=...)` becomes a NOT IN subplan that PostgreSQL
    rescans per record once the history no longer fits in memory.
    """
    for history_model in chained_history_models():
        model = history_model.instance_type
        has_history = history_model.objects.filter(id=OuterRef("pk"))
        yield from model._default_manager.filter(~Exists(has_history)).order_by("pk")


def verify_all(keys: Iterable[str] | None = None) -> list[ChainResult]:
    """Verify the given chains, or every chain plus the rule that every tracked record has a history."""
    if keys is not None:
        return [verify_chain(key) for key in keys]
    return list(iter_verify_all())


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


# --- words for people reading the history (the History tab and the dossier) --------------------------------

# Column names where the history says it differently from the model field's verbose_name (the others use
# the verbose_name), by field name whatever the model.
FIELD_LABELS = {
    "anchor_at": gettext_lazy("Clock started at"),
    "authority": gettext_lazy("Recipient authority"),
    "aware_at": gettext_lazy("Awareness (Art. 33(1))"),
    "aware_justification": gettext_lazy("Why awareness is dated so"),
    "case": gettext_lazy("Case"),
    "completed_at": gettext_lazy("Completed at"),
    "completed_by": gettext_lazy("Completed by"),
    "controller": pgettext_lazy("dossier", "Controller"),
    "controller_notice": pgettext_lazy("dossier", "Controller to inform"),
    "created_at": gettext_lazy("Created at"),
    "created_by": gettext_lazy("Created by"),
    "data_categories": gettext_lazy("Categories of data"),
    "deadline_label_en": gettext_lazy("Deadline (en)"),
    "deadline_label_fr": gettext_lazy("Deadline (fr)"),
    "decided_at": gettext_lazy("Decided at"),
    "decided_by": gettext_lazy("Decided by"),
    "dora_classified_at": gettext_lazy("Classified as major at"),
    "dora_major": gettext_lazy("Major ICT incident (DORA)"),
    "due_basis": gettext_lazy("Due date basis"),
    "evidence": pgettext_lazy("dossier", "Evidence"),
    "exemption": gettext_lazy("Exemption (Art. 34(3))"),
    "exemption_reason": gettext_lazy("Reasoning of the exemption"),
    "file": gettext_lazy("Stored file"),
    "first_signal_at": gettext_lazy("Discovery (first signal)"),
    "first_signal_source": gettext_lazy("How it was discovered"),
    "incident_known_at": gettext_lazy("Knowledge of the security incident"),
    "inform_persons_decided_at": gettext_lazy("Persons decision at"),
    "inform_persons_decided_by": gettext_lazy("Persons decision by"),
    "inform_persons_exemption": pgettext_lazy("dossier", "Art. 34(3) ground"),
    "informed_by": gettext_lazy("Informed by"),
    "kind": gettext_lazy("Kind"),
    "label_en": gettext_lazy("Label (en)"),
    "label_fr": gettext_lazy("Label (fr)"),
    "legal_text_en": gettext_lazy("Legal text (en)"),
    "legal_text_fr": gettext_lazy("Legal text (fr)"),
    "nature": gettext_lazy("Established or suspected"),
    "not_applicable_reason": gettext_lazy("Why not applicable"),
    "notice_period_hours": gettext_lazy("Notice period (h)"),
    "notify_authority_decided_at": gettext_lazy("Authority decision at"),
    "notify_authority_decided_by": gettext_lazy("Authority decision by"),
    "obligation": gettext_lazy("Obligation satisfied"),
    "occurred_at": pgettext_lazy("dossier history", "When"),
    "occurred_from": gettext_lazy("Start of the breach"),
    "occurred_to": gettext_lazy("End of the breach"),
    "ongoing": pgettext_lazy("dossier", "Still ongoing"),
    "organization": gettext_lazy("Organisation"),
    "processor_name": gettext_lazy("Processor (not listed)"),
    "records_approx": pgettext_lazy("dossier", "Approximate number of records"),
    "requested_due_at": gettext_lazy("Requested due date"),
    "rule_code": gettext_lazy("Rule code"),
    "severity_cb_malicious": pgettext_lazy("dossier history", "Circumstance: malicious intent"),
    "severity_dpc_adjustment": gettext_lazy("DPC adjustment"),
    "severity_ei": gettext_lazy("Ease of identification (EI)"),
    "source_notice": gettext_lazy("Originating notice"),
    "uploaded_by": gettext_lazy("Uploaded by"),
}

# What each chained object is called, by model name.
OBJECT_LABELS = {
    "breachcase": gettext_lazy("Case"),
    "obligation": gettext_lazy("Obligation"),
    "filing": gettext_lazy("Filing"),
    "timelineevent": gettext_lazy("Event"),
    "evidence": pgettext_lazy("dossier", "Evidence"),
    "membercommunication": gettext_lazy("Communication"),
    "controllernotice": pgettext_lazy("dossier", "Controller to inform"),
    "submission": gettext_lazy("Notification drafted in the register"),
    "dorafacts": gettext_lazy("DORA facts"),
}


# --- reading a chain's rows fast (chain_rows) ---------------------------------------------------


@functools.cache
def _columns_getter(columns: tuple[str, ...]) -> Callable[[dict], tuple]:
    """A row dict's values in `columns` order, as a tuple (ChainVerifier.feed)."""
    getter = operator.itemgetter(*columns)
    return getter if len(columns) > 1 else lambda row: (getter(row),)


def _row_converter(compiler) -> Callable[[tuple], list] | None:
    """What Django's `apply_converters` does to a row of `compiler`'s results, in one call per row.

    Django calls every converter of every column, None values included, through a generic loop; a
    history row has a dozen instants, and on SQLite each is text turned into an aware datetime. The
    commonest converters are replaced by equivalents that skip None (which they return unchanged);
    any other column keeps Django's converters, called as Django calls them.
    """
    connection = compiler.connection
    if not hasattr(compiler, "col_count"):  # an empty result known without a query: nothing to convert
        return None
    fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
    steps: list[tuple[int, Callable[[object], object], bool]] = []
    for position, (converters, expression) in compiler.get_converters(fields).items():
        fast = _fast_converter(connection, converters)
        if fast is not None:
            steps.append((position, fast, True))
        else:
            steps.append((position, _composed(converters, expression, connection), False))
    if not steps:
        return None

    def convert(values: tuple) -> list:
        row = list(values)
        for position, step, skip_none in steps:
            value = row[position]
            if value is not None or not skip_none:
                row[position] = step(value)
        return row

    return convert


def _composed(converters: list, expression, connection) -> Callable[[object], object]:
    def convert(value):
        for converter in converters:
            value = converter(value, expression, connection)
        return value

    return convert


def _fast_converter(connection, converters: list) -> Callable[[object], object] | None:
    """A one-argument equivalent of `converters` for non-None values, when they are one of the known ones."""
    if connection.vendor != "sqlite" or len(converters) != 1:
        return None
    (converter,) = converters
    if converter == connection.ops.convert_datetimefield_value:
        # Django's convert_datetimefield_value: text parsed (parse_datetime), made aware in the
        # connection's time zone when USE_TZ and naive.
        from django.utils.dateparse import parse_datetime

        use_tz, zone = settings.USE_TZ, connection.timezone
        fromisoformat = dt.datetime.fromisoformat

        def to_datetime(value):
            if not isinstance(value, dt.datetime):
                try:
                    value = fromisoformat(value)
                except ValueError:
                    value = parse_datetime(value)
            if use_tz and value.utcoffset() is None:  # timezone.is_aware / make_aware, inlined
                value = value.replace(tzinfo=zone)
            return value

        return to_datetime
    if converter == connection.ops.convert_booleanfield_value:
        return lambda value: bool(value) if value in (1, 0) else value
    return None
