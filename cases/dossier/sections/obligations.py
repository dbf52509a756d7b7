"""Section 3: every obligation: rule, legal source, clock start, due date, completion and reasons.

It ends with what the proposals loaded as draft regimes would change (one line each, marked
not in force), in the dossier's language (the whole dossier is built under `translation.override`).
"""

from __future__ import annotations

from django.utils.translation import gettext, pgettext
from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.platypus import CondPageBreak, Flowable

from ...clock_chart import clock_chart
from ...deadlines import STATUS_LABELS, DueBasis, Status
from ...models import Obligation
from ...regimes import ANCHOR_LABELS, AUTHORITY_LABELS
from ...selectors.drafts import draft_lines
from ..context import Context
from ..document import Heading
from ..fonts import REGULAR
from ..styles import FRAME_WIDTH, LABEL, SMALL, kv_table, para, spacer
from ..text import clean, visual

KEY = "s3"


def _anchor(ctx: Context, ob) -> str:
    try:
        rule = ob.rule
    except KeyError:
        rule = None
    label = ctx.choice(ANCHOR_LABELS, rule.anchor.value) if rule else ""
    when = ctx.dt(ob.anchor_at, empty="")
    return " — ".join(p for p in (label, when) if p) or gettext("not recorded")


def _due(ctx: Context, ob) -> str:
    deadline = ob.deadline_label_en if ctx.lang == "en" else ob.deadline_label_fr
    due = ctx.dt(ob.due_at, empty="")
    note = {
        DueBasis.INTERNAL_TARGET.value: gettext("the organisation's internal target"),
        DueBasis.CONTRACT.value: gettext("contractual notice period"),
        DueBasis.AUTHORITY.value: gettext("date set by the authority"),
    }.get(ob.due_basis, "")
    parts = [deadline, due + (f" ({note})" if note and due else "")]
    return " — ".join(p for p in parts if p)


def build(ctx: Context) -> list[Flowable]:
    out: list[Flowable] = [Heading(gettext("3. Obligations and deadlines"), KEY)]
    if not ctx.data.obligations:
        return [*out, para(gettext("None."))]
    out.extend(_chart(ctx))
    for ob in ctx.data.obligations:
        title = ob.title(ctx.lang)
        status = ctx.choice(STATUS_LABELS, ob.status(ctx.generated_at).value)
        state = ctx.choice(Obligation.State, ob.state)
        decided = ""
        if ob.decided_at:
            decided = f"{ctx.data.username(ob.decided_by_id)} — {ctx.dt(ob.decided_at)}"
            if ob.decided_recorded_at and ob.decided_recorded_at != ob.decided_at:
                decided += " " + gettext("(recorded at %(when)s)") % {"when": ctx.dt(ob.decided_recorded_at)}
        out.append(CondPageBreak(120))
        out.extend(
            kv_table(
                [
                    (gettext("Rule"), f"{title} [{ob.rule_code}]"),
                    (gettext("Recipient authority"), ctx.choice(AUTHORITY_LABELS, ob.authority)),
                    (gettext("Legal source"), ob.legal_source),
                    (gettext("Clock started by"), _anchor(ctx, ob)),
                    (gettext("Due"), _due(ctx, ob)),
                    (pgettext("dossier", "Done at"), ctx.dt(ob.completed_at, empty="—")),
                    (gettext("Status"), f"{status} ({state})"),
                    (gettext("Reference"), ob.reference),
                    (gettext("Reasons for the delay"), ob.late_reason),
                    (gettext("Why not applicable"), ob.not_applicable_reason),
                    (gettext("Decided by"), decided),
                ]
            )
        )
        out.append(spacer(8))
    return [*out, *_drafts(ctx)]


# The chart's colours by status (the same as the case page's); the legend says them in words.
CHART_COLOURS = {
    Status.RUNNING: colors.HexColor("#7ea2e0"),
    Status.DUE_SOON: colors.HexColor("#e0a23a"),
    Status.OVERDUE: colors.HexColor("#d9534f"),
    Status.DONE_LATE: colors.HexColor("#d9534f"),
    Status.DONE_ON_TIME: colors.HexColor("#4caf72"),
}
CHART_ROWS_MAX = 60  # a processor informing hundreds of controllers: the table below lists them all


def _chart(ctx: Context) -> list[Flowable]:
    """The clocks as a vector drawing: the same rows as the case page's SVG (cases.clock_chart)."""
    chart = clock_chart(ctx.data.obligations, now=ctx.generated_at, label=lambda ob: ob.title(ctx.lang))
    if not chart:
        return []
    bars = chart.bars[:CHART_ROWS_MAX]
    row_h, axis_h, label_w = 14, 16, FRAME_WIDTH * 0.34
    x0, x1 = label_w + 6, FRAME_WIDTH - 6
    height = row_h * len(bars) + axis_h

    def x(position: float) -> float:
        return x0 + position * (x1 - x0)

    drawing = Drawing(FRAME_WIDTH, height)
    top = height
    axis_y = axis_h
    for tick in chart.ticks:
        drawing.add(Line(x(tick.at), axis_y, x(tick.at), top, strokeColor=colors.HexColor("#d9dde5"), strokeWidth=0.5))
        drawing.add(String(x(tick.at), 4, tick.label, fontName=REGULAR, fontSize=6, textAnchor="middle"))
    for row, bar in enumerate(bars):
        y = top - (row + 1) * row_h
        label = visual(clean(bar.label if len(bar.label) <= 60 else bar.label[:59] + "…"))
        drawing.add(String(label_w, y + 4, label, fontName=REGULAR, fontSize=6.5, textAnchor="end"))
        colour = CHART_COLOURS.get(bar.status, colors.HexColor("#7ea2e0"))
        start, end = x(bar.start), x(bar.end)
        drawing.add(Rect(start, y + 3, max(end - start, 1.5), row_h - 6, fillColor=colour, strokeColor=None))
        if bar.due is not None:
            drawing.add(Line(x(bar.due), y + 1, x(bar.due), y + row_h - 1, strokeColor=colors.black, strokeWidth=1.2))
        if bar.done is not None:
            drawing.add(Circle(x(bar.done), y + row_h / 2, 2.8, fillColor=colors.white, strokeColor=colors.black))
    if chart.now is not None:
        drawing.add(
            Line(
                x(chart.now), axis_y, x(chart.now), top, strokeColor=colors.HexColor("#f5b700"), strokeDashArray=[3, 2]
            )
        )
    legend = gettext(
        "Each bar runs from the clock's start to when it was done (dot), or to now for a running clock; "
        "the tick is the due date. Red: late or overdue; green: done on time; blue: running."
    )
    out: list[Flowable] = [CondPageBreak(min(height, 400) + 30), para(gettext("The case's clocks"), LABEL), drawing]
    if len(chart.bars) > CHART_ROWS_MAX:
        out.append(
            para(
                gettext("The first %(n)s clocks are drawn; every obligation is listed below.") % {"n": CHART_ROWS_MAX},
                SMALL,
            )
        )
    return [*out, para(legend, SMALL), spacer(8)]


def _drafts(ctx: Context) -> list[Flowable]:
    lines = draft_lines(ctx.case, ctx.data.obligations, ctx.data.notices)
    if not lines:
        return []
    out: list[Flowable] = [para(gettext("Proposals, not in force"), LABEL)]
    for line in lines:
        out.append(para(" ".join(p for p in (line.text, line.law) if p)))
    out.append(para(gettext("For comparison only: never used for a deadline, a reminder or the calendar feed."), SMALL))
    return out
