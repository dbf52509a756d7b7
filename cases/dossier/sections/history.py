"""Section 9: the complete change history as field-level diffs, and the hash-chain verification.

The chain is read once, in chain order, before the layout: each row is verified (the verdict is
printed above the tables), handed to the outsider's bundle, grouped into the activity log and
turned into its field-level lines, and both tables' rows are wrapped and spilled to temporary files
(`RowSpill`) that every layout pass reads back page by page. Memory stays flat whatever the length
of the history, and the pages print exactly the rows that were verified and bundled.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext, pgettext
from reportlab.platypus import Flowable

from ...history import ChainResult, ChainVerifier, chain_rows
from ...selectors.history import (
    ActivityLog,
    HistoryFormatter,
    chain_user_ids,
    field_changes,
    object_name,
    usernames,
)
from ..context import Context
from ..document import Heading
from ..grid import Column, RowSpill, StreamedGrid
from ..styles import ALERT, FRAME_WIDTH, para, spacer

KEY = "s9"


def _formatter(ctx: Context, user_names: dict[int, str]) -> HistoryFormatter:
    """The shared history wording, naming what the case's rows point to from the dossier's data."""
    data = ctx.data
    orgs = {data.case.organization_id: data.case.organization.name}
    if data.case.processor_id:
        orgs[data.case.processor_id] = data.case.processor.name
    orgs.update((n.controller_id, n.controller_name) for n in data.notices if n.controller_id)
    related = {
        "obligation": {o.pk: o.rule_code for o in data.obligations},
        "evidence": {e.pk: e.original_name for e in data.evidence},
        "controllernotice": {n.pk: n.controller_name for n in data.notices},
        "breachcase": {data.case.pk: data.case.reference},
    }
    return HistoryFormatter(ctx.lang, user_names=user_names, orgs=orgs, related=related)


def change_rows(
    ctx: Context, checker: ChainVerifier, log: ActivityLog | None = None
) -> Iterator[tuple[str, str, str, str, str, str, str]]:
    """(when, who, object, field, before, after, reason), one per changed field, in chain order.

    Each row read is also handed to `checker`, which verifies the hash chain in the same pass, and to
    `log`, which groups the rows into actions for the activity log.
    """
    key = ctx.data.chain_key
    user_names = usernames(chain_user_ids(key))
    fmt = _formatter(ctx, user_names)
    previous: dict[tuple[type, int], dict] = {}
    created, deleted, unchanged = gettext("created"), gettext("deleted"), gettext("(saved without change)")
    for model, row in chain_rows(key):
        checker.feed(model, row)
        when = ctx.dt(row["history_date"], seconds=True)
        who = fmt.who(row["history_user_id"])
        obj = fmt.object_label(model, row)
        reason = row["history_change_reason"] or ""
        before = previous.get((model, row["id"]))
        previous[(model, row["id"])] = row
        if log is not None:
            log.add(
                who=who,
                when=row["history_date"],
                when_text=when,
                created=row["history_type"] == "+",
                kind=object_name(model),
                reason=reason,
            )
        if row["history_type"] == "-":
            yield when, who, obj, deleted, "", "", reason
            continue
        if before is None and row["history_type"] == "+":
            reason = f"{reason} ({created})" if reason else created
        changed = [
            (fmt.label(f), "" if before is None else fmt.value(model, f, old), fmt.value(model, f, new))
            for f, old, new in field_changes(model, before, row)
        ]
        if not changed:
            yield when, who, obj, unchanged, "", "", reason
        for label, old, new in changed:
            yield when, who, obj, label, old, new, reason


def verification(ctx: Context, result: ChainResult) -> list[Flowable]:
    if result.ok:
        line = para(
            gettext("Chain intact: %(n)s entries recomputed, head %(hash)s.")
            % {"n": result.rows, "hash": result.head_hash}
        )
    else:
        line = para(
            gettext("CHAIN BROKEN after %(n)s entries: %(error)s") % {"n": result.rows, "error": result.error}, ALERT
        )
    return [
        Heading(gettext("History chain verification"), f"{KEY}-chain", level=1),
        line,
        para(
            gettext(
                "How to check it without this application: every version of every record is written as canonical "
                "JSON (sorted keys, instants in UTC) and hashed with SHA-256 together with the hash of the version "
                "before it, so that changing, removing or reordering any version changes every hash after it. The "
                "last hash, the chain head, is printed on the cover. The section on verification below explains "
                "how to recompute the chain from the data embedded in this PDF with a short public script, and how "
                "the signed checkpoints and this file's seal show that the head was not rewritten."
            )
        ),
    ]


class _SpilledActivity(ActivityLog):
    """The activity log, each action spilled to `spill` as soon as the next one starts (memory: two actions)."""

    def __init__(self, spill: RowSpill) -> None:
        super().__init__()
        self.spill = spill
        # An action's summary ("created: 6 × obligation") depends only on its counts: worded once each.
        self._summaries: dict[tuple, str] = {}

    def add(self, **row) -> None:
        super().add(**row)
        if len(self.entries) > 1:
            self._emit(self.entries.pop(0))

    def _emit(self, entry: dict) -> None:
        key = (tuple(entry["created"].items()), tuple(entry["changed"].items()))
        summary = self._summaries.get(key)
        if summary is None:
            if len(self._summaries) > 1024:
                self._summaries.clear()
            summary = self._summaries[key] = ActivityLog.summary(entry)
        self.spill.add((entry["when_text"], entry["who"], entry["reason"], summary))

    def finish(self) -> None:
        for entry in self.entries:
            self._emit(entry)
        self.entries = []


def build(ctx: Context) -> list[Flowable]:
    w = FRAME_WIDTH
    columns = [
        Column(pgettext("dossier", "When"), w * 0.115),
        Column(gettext("Who"), w * 0.1),
        Column(gettext("Object"), w * 0.15),
        Column(gettext("Field"), w * 0.13),
        Column(gettext("Before"), w * 0.18),
        Column(gettext("After"), w * 0.18),
        Column(gettext("Reason"), w * 0.145 - 0.5),
    ]
    activity_columns = [
        Column(pgettext("dossier", "When"), w * 0.14),
        Column(gettext("Who"), w * 0.16),
        Column(gettext("Action"), w * 0.38),
        Column(gettext("Records"), w * 0.32 - 0.5),
    ]
    changes = ctx.spill(columns)
    activity = ctx.spill(activity_columns)
    bundle = ctx.bundle
    checker = ChainVerifier(ctx.data.chain_key, sink=bundle.add_row if bundle else None)
    log = _SpilledActivity(activity)
    lines = change_rows(ctx, checker, log)
    for line in bundle.printed([c.title for c in columns], lines) if bundle else lines:
        changes.add(line)
    log.finish()
    changes.close_writing()
    activity.close_writing()
    return [
        Heading(gettext("9. Complete change history"), KEY),
        *verification(ctx, checker.result()),
        spacer(6),
        Heading(gettext("Activity log"), f"{KEY}-activity", level=1),
        para(
            gettext(
                "One line per action, oldest first: who did it, when, why, and which records it created or changed. "
                "The field-level changes follow."
            )
        ),
        StreamedGrid(activity),
        spacer(6),
        Heading(gettext("Field-level changes"), f"{KEY}-changes", level=1),
        para(
            gettext(
                "Each line is a field-level difference between two successive versions of one object of the case "
                "(creation: the initial non-empty values). Paris time."
            )
        ),
        StreamedGrid(changes),
    ]
