"""A picture of a case's clocks: for each obligation, when its clock started, when it is or was due,
when it was done, and whether it was late.

`clock_chart()` turns obligations into geometry (positions between 0 and 1 on one time axis);
the case page draws it as inline SVG (templates/cases/_clock_chart.html, no script), the dossier
as a reportlab vector drawing (cases/dossier/sections/obligations.py). Both read the same rows,
so the page and the document always show the same picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from .deadlines import PARIS, Status

# Bar kinds, each with its meaning in words next to it (a colour never carries the meaning alone).
LATE = {Status.OVERDUE, Status.DONE_LATE}


@dataclass(frozen=True)
class Bar:
    label: str
    status: Status
    start: float  # the clock's start on the axis (0..1)
    due: float | None  # the due date, if there is one
    done: float | None  # when it was done, if it was
    end: float  # where the bar stops: done, or now for a running clock, or the due date

    @property
    def late(self) -> bool:
        return self.status in LATE

    @property
    def kind(self) -> str:
        return self.status.value


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    ticks: list[Tick]
    now: float | None  # "now" on the axis, when it falls inside it

    def __bool__(self) -> bool:
        return bool(self.bars)


def _tick_step(span: timedelta) -> timedelta:
    for step in (timedelta(hours=6), timedelta(hours=12), timedelta(days=1), timedelta(days=2), timedelta(days=7)):
        if span / step <= 8:
            return step
    return timedelta(days=30)


def clock_chart(obligations, *, now: datetime, label=lambda ob: ob.rule_code) -> Chart:
    """The chart of the obligations whose clock has started (the others have no place on a time axis)."""
    started = [ob for ob in obligations if ob.anchor_at is not None and ob.status(now) != Status.NOT_APPLICABLE]
    if not started:
        return Chart(bars=[], ticks=[], now=None)
    instants = [ob.anchor_at for ob in started]
    for ob in started:
        instants += [t for t in (ob.due_at, ob.completed_at) if t is not None]
        if ob.status(now) in {Status.RUNNING, Status.DUE_SOON, Status.OVERDUE}:
            instants.append(now)
    first, last = min(instants), max(instants)
    span = max(last - first, timedelta(hours=1))

    def at(moment: datetime | None) -> float | None:
        return None if moment is None else min(1.0, max(0.0, (moment - first) / span))

    bars = []
    for ob in sorted(started, key=lambda o: (o.anchor_at, o.due_at or o.anchor_at, o.pk or 0)):
        status = ob.status(now)
        done = at(ob.completed_at) if status in {Status.DONE_ON_TIME, Status.DONE_LATE} else None
        pending_end = at(now) if status in {Status.RUNNING, Status.DUE_SOON, Status.OVERDUE} else at(ob.due_at)
        end = done if done is not None else (pending_end if pending_end is not None else at(ob.anchor_at))
        bars.append(Bar(label(ob), status, at(ob.anchor_at), at(ob.due_at), done, end))
    step = _tick_step(span)
    local_first = timezone.localtime(first, PARIS)
    tick = local_first.replace(minute=0, second=0, microsecond=0)
    if step >= timedelta(days=1):
        tick = tick.replace(hour=0)
    ticks = []
    while tick <= last:
        if tick >= first:
            ticks.append(Tick(at(tick), tick.strftime("%d/%m %Hh" if step < timedelta(days=1) else "%d/%m")))
        tick = (tick + step).astimezone(PARIS)  # wall-clock ticks across a DST change
    now_at = (now - first) / span
    return Chart(bars=bars, ticks=ticks, now=now_at if 0 <= now_at <= 1 else None)


# --- the page's SVG ------------------------------------------------------------------------------

WIDTH, LABEL_W, ROW_H, TOP, AXIS_H = 1000, 330, 26, 8, 30
PLOT_X0, PLOT_X1 = LABEL_W + 10, WIDTH - 20


def _x(position: float) -> float:
    return round(PLOT_X0 + position * (PLOT_X1 - PLOT_X0), 1)


def svg(chart: Chart, *, title: str, status_words: dict) -> str:
    """The chart as an accessible inline SVG (a <title>, and each bar's meaning in words in its own title)."""
    from django.utils.html import escape
    from django.utils.safestring import mark_safe

    height = TOP + ROW_H * len(chart.bars) + AXIS_H
    parts = [
        f'<svg class="clock-chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-labelledby="clock-chart-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="clock-chart-title">{escape(title)}</title>',
    ]
    axis_y = TOP + ROW_H * len(chart.bars)
    for tick in chart.ticks:
        x = _x(tick.at)
        parts.append(f'<line class="grid" x1="{x}" y1="{TOP}" x2="{x}" y2="{axis_y}"/>')
        parts.append(f'<text class="tick" x="{x}" y="{axis_y + 18}" text-anchor="middle">{escape(tick.label)}</text>')
    for row, bar in enumerate(chart.bars):
        y = TOP + row * ROW_H
        words = escape(status_words.get(bar.status, bar.status.value))
        label = bar.label if len(bar.label) <= 42 else bar.label[:41] + "…"
        parts.append(f'<g class="bar {bar.kind}"><title>{escape(bar.label)} — {words}</title>')
        parts.append(f'<text class="label" x="{LABEL_W}" y="{y + 17}" text-anchor="end">{escape(label)}</text>')
        x0, x1 = _x(bar.start), _x(bar.end)
        parts.append(f'<rect x="{x0}" y="{y + 6}" width="{max(x1 - x0, 2)}" height="{ROW_H - 12}" rx="3"/>')
        if bar.due is not None:
            xd = _x(bar.due)
            parts.append(f'<line class="due" x1="{xd}" y1="{y + 2}" x2="{xd}" y2="{y + ROW_H - 2}"/>')
        if bar.done is not None:
            parts.append(f'<circle class="done" cx="{_x(bar.done)}" cy="{y + ROW_H / 2}" r="5"/>')
        parts.append("</g>")
    if chart.now is not None:
        x = _x(chart.now)
        parts.append(f'<line class="now" x1="{x}" y1="{TOP - 4}" x2="{x}" y2="{axis_y}"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
