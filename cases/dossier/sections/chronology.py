"""Section 2: the chronology: the case's key instants, its timeline events, filings and notices."""

from __future__ import annotations

from django.utils.translation import gettext, pgettext
from reportlab.platypus import Flowable

from ...models import Filing, MemberCommunication, TimelineEvent
from ..context import Context
from ..document import Heading
from ..grid import Column, grids
from ..styles import FRAME_WIDTH, para

KEY = "s2"


def entries(ctx: Context) -> list[tuple]:
    """(instant, order, kind, title, description) for everything dated in the case."""
    case = ctx.case
    case_kind = gettext("Case")
    out: list[tuple] = []
    for order, (when, title, detail) in enumerate(
        [
            (case.first_signal_at, gettext("First signal"), case.first_signal_source),
            (case.occurred_from, gettext("Breach started"), ""),
            (case.occurred_to, gettext("Breach ended"), ""),
            (case.processor_alerted_at, gettext("Processor's alert"), ""),
            (case.incident_known_at, gettext("Knowledge of the incident"), ""),
            (case.aware_at, gettext("Awareness of the breach"), case.aware_justification),
            (case.dora_classified_at, gettext("Classified as major incident (DORA)"), ""),
            (
                case.notify_authority_decided_at,
                gettext("Decision on notifying the authority"),
                case.notify_authority_reason,
            ),
            (case.inform_persons_decided_at, gettext("Decision on informing the persons"), case.inform_persons_reason),
            (case.contained_at, gettext("Incident contained"), ""),
            (
                case.closed_at,
                gettext("Case closed"),
                gettext("Recorded at %(when)s") % {"when": ctx.dt(case.closed_recorded_at)}
                if case.closed_recorded_at and case.closed_recorded_at != case.closed_at
                else "",
            ),
        ]
    ):
        if when is not None:
            out.append((when, 0, order, case_kind, title, detail))
    for e in ctx.data.events:
        out.append((e.occurred_at, 1, e.pk, ctx.choice(TimelineEvent.Kind, e.kind), e.title, e.description))
    for f in ctx.data.filings:
        title = ctx.choice(Filing.Kind, f.kind) + (f" — {f.reference}" if f.reference else "")
        out.append((f.sent_at, 2, f.pk, gettext("Filing"), title, f.recipient))
    for c in ctx.data.communications:
        if c.sent_at:
            title = f"{ctx.choice(MemberCommunication.Channel, c.channel)} ({ctx.number(c.recipients_count)})"
            out.append((c.sent_at, 3, c.pk, gettext("Communication to persons"), title, ""))
    for n in ctx.data.notices:
        if n.informed_at:
            out.append(
                (n.informed_at, 4, n.pk, pgettext("dossier", "Controller informed"), n.controller_name, n.channel)
            )
    out.sort(key=lambda item: item[:3])
    return out


def build(ctx: Context) -> list[Flowable]:
    w = FRAME_WIDTH
    columns = [
        Column(pgettext("dossier", "When"), w * 0.14),
        Column(gettext("Kind"), w * 0.14),
        Column(gettext("Title"), w * 0.30),
        Column(gettext("Description"), w * 0.42 - 0.5),
    ]
    rows = [(ctx.dt(when), kind, title, detail) for when, _, _, kind, title, detail in entries(ctx)]
    out: list[Flowable] = [Heading(gettext("2. Chronology"), KEY)]
    if not rows:
        return [*out, para(gettext("None."))]
    return [*out, *grids(columns, rows)]
