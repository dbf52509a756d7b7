"""What every service shares: the transaction wrapper, the lock order, the version check, the clock,
the audited save and input checks.

Lock order (one for every write on a case): the case row first, locked alone
(`select_for_update()` without `select_related`, which would lock the organisation row in the
same statement), then the case's children, re-read after that lock. Every writer of a case and of
anything under it takes the case lock first, so two writers of one case wait for each other
instead of deadlocking; the history chain head of the case is locked after it, by the save.

Optimistic concurrency: tracked records carry a `version` (cases.models.base.AuditedModel). An
edit of an existing record passes the version it was read at as `expected_version`; a stale one
raises `StaleVersionError` (views answer 409 and show what changed since), never a silent revert.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..deadlines import PARIS
from ..inputs import instant_error
from ..models import BreachCase, Obligation, Organization

logger = logging.getLogger(__name__)

# Clock skew tolerated for instants entered "now" from a browser.
FUTURE_TOLERANCE = timedelta(minutes=5)
# A service that meets a deadlock or a serialization failure is run again this many times in all.
ATTEMPTS = 3
# PostgreSQL's serialization_failure and deadlock_detected.
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})

F = TypeVar("F", bound=Callable)


class StaleVersionError(Exception):
    """The record changed since the caller read it: nothing was saved.

    `record` is the record as stored now (locked by the refused transaction, so use it only for
    display), `expected` the version the caller read.
    """

    def __init__(self, record, expected: int) -> None:
        self.record = record
        self.expected = expected
        super().__init__(
            f"{type(record).__name__} {record.pk} is at version {record.version}, the change was made on {expected}"
        )


class TryAgainError(Exception):
    """The database kept refusing the transaction (deadlock, serialization failure): nothing was saved."""


def is_transient(error: OperationalError) -> bool:
    """A failure that a new attempt of the same transaction can get past."""
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) in TRANSIENT_SQLSTATES:
        return True
    return "database is locked" in str(error)


# Files a service stored (storage, name) before it failed: a rolled-back action leaves no file behind.
_stored_files: ContextVar[list | None] = ContextVar("stored_files", default=None)


def discard_if_rolled_back(field_file) -> None:
    """Delete the file just stored in `field_file` if the service storing it fails (its rows roll back)."""
    stored = _stored_files.get()
    if stored is not None and field_file.name:
        stored.append((field_file.storage, field_file.name))


def _discard_stored(stored: list) -> None:
    for storage, name in stored:
        try:
            storage.delete(name)
        except Exception:  # the action's own error matters more than a leftover file
            logger.exception("could not delete %s stored by a failed action", name)
    stored.clear()


def service(func: F) -> F:
    """Run a service in one transaction; the outermost call retries a deadlock or serialization failure.

    Inside a caller's transaction the service joins it (the caller owns the retry); on its own it
    is attempted up to ATTEMPTS times, then `TryAgainError` says so clearly instead of a server error.
    The outermost service call deletes the files stored during a failed attempt (`discard_if_rolled_back`).
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if _stored_files.get() is not None:  # inside another service: it owns the stored files
            with transaction.atomic():
                return func(*args, **kwargs)
        stored: list = []
        token = _stored_files.set(stored)
        try:
            if transaction.get_connection().in_atomic_block:
                with transaction.atomic():
                    return func(*args, **kwargs)
            for attempt in range(1, ATTEMPTS + 1):
                try:
                    with transaction.atomic():
                        return func(*args, **kwargs)
                except OperationalError as error:
                    if not is_transient(error):
                        raise
                    _discard_stored(stored)
                    if attempt == ATTEMPTS:
                        raise TryAgainError(str(error)) from error
                    time.sleep(0.05 * attempt)
            raise AssertionError("unreachable")  # pragma: no cover
        except BaseException:
            _discard_stored(stored)
            raise
        finally:
            _stored_files.reset(token)

    return wrapper  # type: ignore[return-value]


def lock_case(case: BreachCase | int) -> BreachCase:
    """The case as stored, locked for this transaction: the first lock of every write on a case.

    The organisation is attached without locking it (it is read, not written, by case writes).
    """
    pk = case if isinstance(case, int) else case.pk
    locked = BreachCase.objects.select_for_update().get(pk=pk)
    cached = None if isinstance(case, int) else case._state.fields_cache.get("organization")
    locked.organization = (
        cached
        if cached is not None and cached.pk == locked.organization_id
        else Organization.objects.get(pk=locked.organization_id)
    )
    return locked


def lock_open_case(case: BreachCase | int) -> BreachCase:
    """`lock_case`, refused if the case is closed (the caller's copy may be stale)."""
    locked = lock_case(case)
    require_not_closed(locked)
    return locked


def lock_child(model, case: BreachCase, pk: int):
    """A record of `case` (obligation, notice...), locked after the case and re-read; 404-like if not the case's."""
    record = model.objects.select_for_update().get(pk=pk, case_id=case.pk)
    record.case = case
    return record


def check_version(record, expected_version: int | None) -> None:
    """Refuse an edit made on an older version of `record` (None: the caller read it under this lock)."""
    if expected_version is not None and record.version != expected_version:
        raise StaleVersionError(record, expected_version)


def now() -> datetime:
    return timezone.now()


def paris_time(value: datetime) -> str:
    """An instant as Paris wall-clock time for error messages, e.g. 01/02/2024 18:00."""
    return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


# The channel a write comes through when it is not a page (e.g. "API token #12"): named in every
# history change reason written meanwhile, so that the history says which token made the change.
_acting_via: ContextVar[str] = ContextVar("acting_via", default="")


@contextmanager
def acting_via(channel: str) -> Iterator[None]:
    """Name `channel` in the change reason of every history row saved inside this block."""
    token = _acting_via.set(channel)
    try:
        yield
    finally:
        _acting_via.reset(token)


def save(obj, *, acting_user, reason: str = "") -> None:
    channel = _acting_via.get()
    if channel:
        reason = f"{reason} ({channel})" if reason else channel
    obj._history_user = acting_user
    obj._change_reason = reason
    obj.full_clean(validate_unique=False, validate_constraints=False)
    obj.save()
    if isinstance(obj, Obligation):
        # The one place obligations change: the case list's stored fields follow, under the case lock.
        fields = BreachCase.store_list_fields(obj.case_id)
        if Obligation.case.is_cached(obj):  # the caller's copy of the case, if loaded, says the same
            for name, value in fields.items():
                setattr(obj.case, name, value)


def check_not_future(errors: dict, field: str, value: datetime | None) -> None:
    if value is not None and value > now() + FUTURE_TOLERANCE:
        errors.setdefault(field, []).append(_("This date is in the future."))


def check_aware(errors: dict, field: str, value) -> None:
    """An instant given to a service: aware, and within the register's plausible years (`cases.inputs`)."""
    if value is None:
        return
    if not isinstance(value, datetime) or timezone.is_naive(value):
        errors.setdefault(field, []).append(_("Enter a date and time with its time zone."))
        return
    refused = instant_error(value)
    if refused:
        errors.setdefault(field, []).append(refused)


def raise_errors(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def differs(old, new) -> bool:
    """Whether a submitted value changes the stored one. A value that cannot even be compared (a
    signalling-NaN decimal, an unexpected type) counts as a change, so that validation refuses it."""
    try:
        return bool(old != new)
    except (TypeError, ArithmeticError):  # decimal.InvalidOperation is an ArithmeticError
        return True


def blank(text) -> bool:
    return not (text or "").strip()


def require_not_closed(case: BreachCase) -> None:
    if case.status == BreachCase.Status.CLOSED:
        raise ValidationError(_("This case is closed; reopen it (with a reason) before changing it."))


def _prepared(field, obj, *, add: bool, connection):
    return field.get_db_prep_save(field.pre_save(obj, add), connection)


def save_many(objs: list, *, acting_user, reason: str = "", fields: tuple[str, ...] = (), key: str = "") -> None:
    """`save` for many records of one model, in a number of queries that does not grow with them.

    Each record is validated as `save` does (its foreign keys excepted: the caller sets them from
    rows it read and locked), then new records are inserted (`key`: a unique field to read their ids
    back by) and existing ones have `fields` updated with their version, each with its history row
    chained exactly as the signal handler chains one (`cases.history.link_values`). Every statement
    is one `executemany`, so the SQLite parameter limit never splits it into batches. Must run
    inside the caller's transaction, after the case lock.
    """
    from django.db import connection as default_connection

    from ..history import CHAIN_COLUMNS, HistoryChainHead, link_values

    if not objs:
        return
    connection = default_connection
    if not connection.in_atomic_block:
        raise RuntimeError("save_many() runs inside a service's transaction.")
    model = type(objs[0])
    channel = _acting_via.get()
    if channel:
        reason = f"{reason} ({channel})" if reason else channel
    relations = [f.name for f in model._meta.concrete_fields if f.is_relation]
    for obj in objs:
        obj.clean_fields(exclude=relations)
        obj.clean()
    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    new = [o for o in objs if o._state.adding]
    old = [o for o in objs if not o._state.adding]
    with connection.cursor() as cursor:
        if new:
            if not key:
                raise ValueError("save_many() needs a unique `key` to read new records' ids back.")
            inserted = [f for f in model._meta.concrete_fields if not f.primary_key]
            columns = ", ".join(ops.quote_name(f.column) for f in inserted)
            marks = ", ".join(["%s"] * len(inserted))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608 - model's own names
                [[_prepared(f, o, add=True, connection=connection) for f in inserted] for o in new],
            )
            ids = dict(
                model._default_manager.filter(**{f"{key}__in": [getattr(o, key) for o in new]}).values_list(key, "pk")
            )
            for o in new:
                o.pk = ids[getattr(o, key)]
                o._state.adding, o._state.db = False, connection.alias
        if old:
            updated = [model._meta.get_field(name) for name in (*fields, "version")]
            for o in old:
                o.version += 1
            assignments = ", ".join(f"{ops.quote_name(f.column)} = %s" for f in updated)
            pk_column = ops.quote_name(model._meta.pk.column)
            cursor.executemany(
                f"UPDATE {table} SET {assignments} WHERE {pk_column} = %s",  # noqa: S608 - model's own names
                [[*(_prepared(f, o, add=False, connection=connection) for f in updated), o.pk] for o in old],
            )
    history = model.history.model
    moment = now()
    added = {id(o) for o in new}
    rows = [
        history(
            history_date=moment,
            history_user=acting_user,
            history_change_reason=reason,
            history_type="+" if id(o) in added else "~",
            **{f.attname: getattr(o, f.attname) for f in history.tracked_fields},
        )
        for o in objs
    ]
    keys = [o.history_chain_key() for o in objs]
    heads = {
        h.chain_key: h
        for h in HistoryChainHead.objects.select_for_update().filter(chain_key__in=set(keys)).order_by("chain_key")
    }
    missing = sorted(set(keys) - set(heads))
    if missing:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {ops.quote_name(HistoryChainHead._meta.db_table)} (chain_key, length, head_hash) "  # noqa: S608
                "VALUES (%s, 0, %s)",
                [[k, HistoryChainHead._meta.get_field("head_hash").default] for k in missing],
            )
        heads.update(
            {h.chain_key: h for h in HistoryChainHead.objects.select_for_update().filter(chain_key__in=missing)}
        )
    for row, chain_key in zip(rows, keys, strict=True):
        head = heads[chain_key]
        values = {f.attname: getattr(row, f.attname) for f in history._meta.concrete_fields}
        head.length += 1
        head.head_hash = link_values(history, values, key=chain_key, seq=head.length, prev=head.head_hash)
        for name in CHAIN_COLUMNS:
            setattr(row, name, values[name])
    inserted = [f for f in history._meta.concrete_fields if not f.primary_key]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {ops.quote_name(history._meta.db_table)} "  # noqa: S608 - model's own names
            f"({', '.join(ops.quote_name(f.column) for f in inserted)}) VALUES ({', '.join(['%s'] * len(inserted))})",
            [[_prepared(f, row, add=True, connection=connection) for f in inserted] for row in rows],
        )
        cursor.executemany(
            f"UPDATE {ops.quote_name(HistoryChainHead._meta.db_table)} SET length = %s, head_hash = %s "  # noqa: S608
            f"WHERE {ops.quote_name(HistoryChainHead._meta.pk.column)} = %s",
            [[h.length, h.head_hash, h.pk] for h in heads.values()],
        )
