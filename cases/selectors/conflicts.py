"""Reads behind a refused stale edit: the record as the user read it, and what changed since.

A tracked record's version N is its Nth history row (`cases.models.base.AuditedModel`), so
both come from the record's own history, in two queries whatever its length.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import models
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from ..deadlines import PARIS
from ..history import CHAIN_FIELDS

# Columns of a historical row that describe the version, not the record.
_VERSION_COLUMNS = frozenset(
    {"history_id", "history_date", "history_change_reason", "history_type", "history_user_id", "id"}
    | {"chain_key", "chain_seq", "chain_prev", *CHAIN_FIELDS}
)


@dataclass(frozen=True)
class Change:
    """One field changed by someone else after the user read the record."""

    field: str
    before: str
    after: str
    by: str
    at: datetime
    reason: str


def _history_rows(record: models.Model, version: int) -> list[dict]:
    if version < 1:
        return []
    return list(type(record).history.filter(id=record.pk).order_by("history_id").values()[version - 1 :])


def state_at(record: models.Model, version: int | None) -> models.Model | None:
    """The record as it was at `version` (a model instance, unsaved), or None if unknown."""
    if not version or version < 1:
        return None
    row = type(record).history.filter(id=record.pk).order_by("history_id")[version - 1 : version].first()
    return row.instance if row is not None else None


def _user_names(ids: set[int]) -> dict[int, str]:
    users = get_user_model().objects.filter(pk__in=ids)
    return {user.pk: user.get_full_name() or user.get_username() for user in users}


def _shown(field: models.Field, value, names: dict[int, str]) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.BooleanField):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime):
        return date_format(value.astimezone(PARIS), "SHORT_DATETIME_FORMAT")
    if isinstance(field, models.ForeignKey) and field.related_model is get_user_model():
        return names.get(value, f"#{value}")
    if isinstance(value, list):
        choices = dict(getattr(field, "base_choices", None) or ())
        return ", ".join(str(choices.get(item, item)) for item in value)
    return str(value)


def changes_since(record: models.Model, version: int) -> list[Change]:
    """Every field change written to `record` after its version `version`, oldest first."""
    rows = _history_rows(record, version)
    if len(rows) < 2:
        return []
    # The fields the history keeps (not the derived ones excluded from it, e.g. a case's next_due_at).
    kept = {f.attname for f in type(record).history.model._meta.concrete_fields}
    fields = [
        f
        for f in type(record)._meta.concrete_fields
        if f.attname in kept and f.attname not in _VERSION_COLUMNS and f.attname != "version" and not f.primary_key
    ]
    user_fields = [f for f in fields if isinstance(f, models.ForeignKey) and f.related_model is get_user_model()]
    ids = {row["history_user_id"] for row in rows} | {row[f.attname] for row in rows for f in user_fields}
    names = _user_names({i for i in ids if i is not None})
    changes = []
    for before, row in zip(rows, rows[1:], strict=False):
        by = names.get(row["history_user_id"], _("the system"))
        for f in fields:
            if before[f.attname] != row[f.attname]:
                changes.append(
                    Change(
                        field=capfirst(str(f.verbose_name)),
                        before=_shown(f, before[f.attname], names),
                        after=_shown(f, row[f.attname], names),
                        by=by,
                        at=row["history_date"],
                        reason=row["history_change_reason"] or "",
                    )
                )
    return changes
