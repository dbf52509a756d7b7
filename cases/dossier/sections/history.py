"""Section 9: the complete change history as field-level diffs, and the hash-chain verification."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from reportlab.platypus import Flowable

from ...history import ChainResult
from ...selectors.history import HISTORY_META_FIELDS, chain_history_rows, chain_user_ids, usernames
from ..chain import ChainChecker
from ..context import Context
from ..document import Heading
from ..grid import Column, grids
from ..i18n import FIELD_LABELS, TEXT
from ..styles import ALERT, FRAME_WIDTH, para, spacer

KEY = "s9"

# Choice fields whose labels the dossier translates itself, per historical model.
CHOICE_GROUPS = {
    ("breachcase", "status"): "status",
    ("breachcase", "nature"): "nature",
    ("breachcase", "origin"): "origin",
    ("breachcase", "cause"): "cause",
    ("breachcase", "severity_level"): "severity_level",
    ("breachcase", "inform_persons_exemption"): "exemption",
    ("obligation", "state"): "obligation_state",
    ("obligation", "authority"): "authority",
    ("filing", "kind"): "filing_kind",
    ("timelineevent", "kind"): "event_kind",
    ("membercommunication", "channel"): "channel",
    ("membercommunication", "exemption"): "exemption",
}
CATEGORY_GROUPS = {"data_categories": "data_category", "subject_categories": "subject_category"}


def _is_empty(value: object) -> bool:
    return value is None or value == "" or value == [] or value == {}


class _Formatter:
    """Turns raw column values of historical rows into the dossier's wording, per (model, column)."""

    def __init__(self, ctx: Context, user_names: dict[int, str]) -> None:
        self.ctx = ctx
        self.user_names = user_names
        data = ctx.data
        self.labels: dict[type[models.Model], dict[int, str]] = {}
        orgs = {data.case.organization_id: data.case.organization.name}
        if data.case.processor_id:
            orgs[data.case.processor_id] = data.case.processor.name
        orgs.update((n.controller_id, n.controller.name) for n in data.notices)
        self.orgs = orgs
        self.related = {
            "obligation": {o.pk: o.rule_code for o in data.obligations},
            "evidence": {e.pk: e.original_name for e in data.evidence},
            "controllernotice": {n.pk: n.controller.name for n in data.notices},
            "breachcase": {data.case.pk: data.case.reference},
        }
        self._columns: dict[type[models.Model], list[tuple[str, str, Callable]]] = {}

    def columns(self, model: type[models.Model]) -> list[tuple[str, str, Callable]]:
        """(attname, label, format) for each of the object's own columns."""
        cached = self._columns.get(model)
        if cached is None:
            cached = self._columns[model] = [
                (f.attname, self._label(f), self._format_for(model, f))
                for f in model._meta.concrete_fields
                if f.attname not in HISTORY_META_FIELDS and not f.primary_key and f.attname != "id"
            ]
        return cached

    def _label(self, f: models.Field) -> str:
        name = f.name
        if name in FIELD_LABELS:
            fr, en = FIELD_LABELS[name]
            return en if self.ctx.lang == "en" else fr
        if name in TEXT:
            return self.ctx.t(name)
        return str(f.verbose_name or name)

    def _format_for(self, model: type[models.Model], f: models.Field) -> Callable[[object], str]:
        ctx = self.ctx
        object_name = model._meta.model_name.removeprefix("historical")
        group = CHOICE_GROUPS.get((object_name, f.name))
        if group:
            return lambda v: ctx.choice(group, v)
        if f.name in CATEGORY_GROUPS:
            category = CATEGORY_GROUPS[f.name]
            return lambda v: "; ".join(ctx.choice(category, c) for c in v or [])
        if isinstance(f, models.ForeignKey):
            target = f.related_model
            if target._meta.label == settings.AUTH_USER_MODEL:
                return lambda v: self.user_names.get(v, f"#{v}") if v is not None else ""
            if target._meta.model_name == "organization":
                return lambda v: self.orgs.get(v, f"#{v}") if v is not None else ""
            names = self.related.get(target._meta.model_name, {})
            return lambda v: names.get(v, f"#{v}") if v is not None else ""
        if f.choices:
            display = {k: str(label) for k, label in f.flatchoices}
            return lambda v: display.get(v, "" if v is None else str(v))
        return self._plain

    def _plain(self, value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return self.ctx.yes_no(value)
        if isinstance(value, datetime):
            return self.ctx.dt(value, seconds=True)
        if isinstance(value, Decimal):
            return self.ctx.number(value)
        if isinstance(value, list | dict):
            return json.dumps(value, ensure_ascii=False, sort_keys=True)
        return str(value)

    def object_label(self, model: type[models.Model], row: dict) -> str:
        ctx = self.ctx
        name = model._meta.model_name.removeprefix("historical")
        kind = ctx.t(f"obj_{name}") if f"obj_{name}" in TEXT else name
        if name == "breachcase":
            return f"{kind} {row.get('reference', '')}"
        if name == "obligation":
            return f"{kind} {row.get('rule_code', '')}"
        if name == "evidence":
            return f"{kind} #{row['id']} {row.get('original_name', '')}"
        if name == "controllernotice":
            return f"{kind} {self.orgs.get(row.get('controller_id'), '')}"
        return f"{kind} #{row['id']}"


def change_rows(ctx: Context, checker: ChainChecker) -> Iterator[tuple[str, str, str, str, str, str, str]]:
    """(when, who, object, field, before, after, reason), one per changed field, in chain order.

    Each row read is also handed to `checker`, which verifies the hash chain in the same pass.
    """
    key = ctx.data.chain_key
    user_names = usernames(chain_user_ids(key))
    fmt = _Formatter(ctx, user_names)
    previous: dict[tuple[type[models.Model], int], dict] = {}
    created, deleted, unchanged, system = (
        ctx.t("history_created"),
        ctx.t("history_deleted"),
        ctx.t("history_saved"),
        ctx.t("system"),
    )
    for model, row in chain_history_rows(key):
        checker.feed(model, row)
        when = ctx.dt(row["history_date"], seconds=True)
        user_id = row["history_user_id"]
        who = user_names.get(user_id, f"#{user_id}") if user_id is not None else system
        obj = fmt.object_label(model, row)
        reason = row["history_change_reason"] or ""
        before = previous.get((model, row["id"]))
        previous[(model, row["id"])] = row
        columns = fmt.columns(model)
        if row["history_type"] == "-":
            yield when, who, obj, deleted, "", "", reason
            continue
        if before is None:
            changed = [(label, "", f(row[name])) for name, label, f in columns if not _is_empty(row[name])]
            if row["history_type"] == "+":
                reason = f"{reason} ({created})" if reason else created
        else:
            changed = [
                (label, f(before[name]), f(row[name])) for name, label, f in columns if before[name] != row[name]
            ]
        if not changed:
            yield when, who, obj, unchanged, "", "", reason
        for label, old, new in changed:
            yield when, who, obj, label, old, new, reason


def verification(ctx: Context, result: ChainResult) -> list[Flowable]:
    t = ctx.t
    if result.ok:
        line = para(t("chain_ok", n=result.rows, hash=result.head_hash))
    else:
        line = para(t("chain_broken", n=result.rows, error=result.error), ALERT)
    return [Heading(t("chain_verification"), f"{KEY}-chain", level=1), line, para(t("chain_recheck"))]


def build(ctx: Context) -> list[Flowable]:
    t = ctx.t
    w = FRAME_WIDTH
    columns = [
        Column(t("when"), w * 0.115),
        Column(t("who"), w * 0.1),
        Column(t("object"), w * 0.15),
        Column(t("field"), w * 0.13),
        Column(t("before"), w * 0.18),
        Column(t("after"), w * 0.18),
        Column(t("reason"), w * 0.145 - 0.5),
    ]
    checker = ChainChecker(ctx.data.chain_key)
    changes = grids(columns, change_rows(ctx, checker))
    return [
        Heading(t("s9"), KEY),
        *verification(ctx, checker.result()),
        spacer(6),
        Heading(t("history_changes"), f"{KEY}-changes", level=1),
        para(t("history_intro")),
        *changes,
    ]
