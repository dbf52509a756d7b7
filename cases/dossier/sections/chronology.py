"""Section 2: the chronology: the case's key instants, its timeline events, filings and notices."""

from __future__ import annotations

from reportlab.platypus import Flowable

from ..context import Context
from ..document import Heading
from ..grid import Column, grids
from ..styles import FRAME_WIDTH, para

KEY = "s2"


def entries(ctx: Context) -> list[tuple]:
    """(instant, order, kind, title, description) for everything dated in the case."""
    case, t = ctx.case, ctx.t
    case_kind = t("ev_case")
    out: list[tuple] = []
    for order, (when, key, detail) in enumerate(
        [
            (case.first_signal_at, "ev_first_signal", case.first_signal_source),
            (case.occurred_from, "ev_occurred_from", ""),
            (case.occurred_to, "ev_occurred_to", ""),
            (case.processor_alerted_at, "ev_processor_alerted", ""),
            (case.incident_known_at, "ev_incident_known", ""),
            (case.aware_at, "ev_aware", case.aware_justification),
            (case.dora_classified_at, "ev_dora_classified", ""),
            (case.notify_authority_decided_at, "ev_decision_authority", case.notify_authority_reason),
            (case.inform_persons_decided_at, "ev_decision_persons", case.inform_persons_reason),
            (case.contained_at, "ev_contained", ""),
            (case.closed_at, "ev_closed", ""),
        ]
    ):
        if when is not None:
            out.append((when, 0, order, case_kind, t(key), detail))
    for e in ctx.data.events:
        out.append((e.occurred_at, 1, e.pk, ctx.choice("event_kind", e.kind), e.title, e.description))
    for f in ctx.data.filings:
        title = ctx.choice("filing_kind", f.kind) + (f" — {f.reference}" if f.reference else "")
        out.append((f.sent_at, 2, f.pk, t("ev_filing"), title, f.recipient))
    for c in ctx.data.communications:
        if c.sent_at:
            title = f"{ctx.choice('channel', c.channel)} ({ctx.number(c.recipients_count)})"
            out.append((c.sent_at, 3, c.pk, t("ev_communication"), title, ""))
    for n in ctx.data.notices:
        if n.informed_at:
            out.append((n.informed_at, 4, n.pk, t("ev_controller"), n.controller_name, n.channel))
    out.sort(key=lambda item: item[:3])
    return out


def build(ctx: Context) -> list[Flowable]:
    t = ctx.t
    w = FRAME_WIDTH
    columns = [
        Column(t("when"), w * 0.14),
        Column(t("kind"), w * 0.14),
        Column(t("title"), w * 0.30),
        Column(t("description"), w * 0.42 - 0.5),
    ]
    rows = [(ctx.dt(when), kind, title, detail) for when, _, _, kind, title, detail in entries(ctx)]
    out: list[Flowable] = [Heading(t("s2"), KEY)]
    if not rows:
        return [*out, para(t("none"))]
    return [*out, *grids(columns, rows)]
