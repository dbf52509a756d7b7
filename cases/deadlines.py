"""Deadline arithmetic and obligation statuses: pure functions, no ORM.

Conventions (docs/regulations.md):
- instants are aware datetimes; hour deadlines are continuous calendar hours, so
  weekends, public holidays and DST changes neither stop nor shift them;
- month deadlines are calendar months in Europe/Paris: same local wall-clock time on
  the same day of the month, clamped to the month's last day (31 Jan + 1 month =
  28/29 Feb at the same time). A wall-clock time that does not exist that day (spring
  DST gap) is read as the end of the gap, the first instant the clock has passed it
  (02:30 -> 03:00 summer time), so a later start never gets an earlier due date; a
  time that happens twice (autumn) is the first occurrence, the earlier and safer one;
- "without undue delay" has no legal hour count: the due date shown is an internal
  target (the organisation's policy, or the contract for Art. 33(2)), labelled as such;
- DORA's weekend relief (RTS 2025/301 art. 5(4)) moves a due date falling on a Saturday,
  Sunday or French public holiday to 12:00 (Paris) on the next working day, for the initial
  notification and the intermediate and final reports; the entities of art. 5(5)-(6) lose it
  for the initial notification and the intermediate report only, never for the final report;
- a completed obligation is judged against the due date it carried when completed;
- the version of a rule a case gets is the one in force at the instant that starts its clock
  (`applicable_version`); a proposal's variants are computed for comparison only
  (`compare_draft`), never stored.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy, pgettext_lazy

from .regimes import Anchor, CaseFacts, DeadlineKind, Regime, Rule

PARIS = ZoneInfo("Europe/Paris")
DUE_SOON = timedelta(hours=24)
DEFAULT_INTERNAL_TARGET_HOURS = 24
DORA_INITIAL_AWARENESS_CAP = timedelta(hours=24)
RELIEF_TIME = time(12, 0)


class Status(enum.StrEnum):
    WAITING = "waiting"  # the clock has not started: its anchor is not known yet
    RUNNING = "running"
    DUE_SOON = "due_soon"  # due within 24 h
    OVERDUE = "overdue"
    DONE_ON_TIME = "done_on_time"
    DONE_LATE = "done_late"
    NOT_APPLICABLE = "not_applicable"


# The words for a status (pages and documents): a coloured badge never carries the meaning alone.
STATUS_LABELS = {
    Status.OVERDUE: pgettext_lazy("clock", "Overdue"),
    Status.DUE_SOON: pgettext_lazy("clock", "Due within 24 h"),
    Status.RUNNING: pgettext_lazy("clock", "Running"),
    Status.WAITING: pgettext_lazy("clock", "Not started"),
    Status.DONE_ON_TIME: pgettext_lazy("clock", "Done on time"),
    Status.DONE_LATE: pgettext_lazy("clock", "Done late"),
    Status.NOT_APPLICABLE: pgettext_lazy("clock", "Not applicable"),
}


class DueBasis(enum.StrEnum):
    LEGAL = "legal"  # a deadline fixed by the text
    INTERNAL_TARGET = "internal_target"  # "without undue delay": the organisation's own target
    CONTRACT = "contract"  # Art. 33(2): the processing contract's notice period
    AUTHORITY = "authority"  # set by the authority's request
    NONE = "none"  # continuous duty, or the anchor is not known yet


# Said next to a due date that is not fixed by the text itself (calendar feed, reminder e-mails).
BASIS_NOTES = {
    DueBasis.INTERNAL_TARGET: gettext_lazy("the organisation's internal target, not a legal deadline"),
    DueBasis.CONTRACT: gettext_lazy("contractual notice period"),
    DueBasis.AUTHORITY: gettext_lazy("date set by the authority"),
}


@dataclass(frozen=True)
class Due:
    at: datetime | None
    basis: DueBasis

    @property
    def is_asap(self) -> bool:
        return self.basis in {DueBasis.INTERNAL_TARGET, DueBasis.CONTRACT}


@dataclass(frozen=True)
class AnchorTimes:
    """The instants a case knows, from which rule anchors are resolved."""

    aware_at: datetime | None = None
    incident_known_at: datetime | None = None
    contained_at: datetime | None = None
    dora_classified_at: datetime | None = None
    rule_done: dict[str, datetime] = field(default_factory=dict)
    # The latest update of a completed report that accepts updates (DORA updated intermediate report).
    rule_updated: dict[str, datetime] = field(default_factory=dict)

    @property
    def incident_aware_at(self) -> datetime | None:
        """Knowledge of the (ICT) incident, or awareness of the breach when it was not recorded apart."""
        return self.incident_known_at or self.aware_at


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")


def add_hours(start: datetime, hours: int) -> datetime:
    """Continuous calendar hours: computed in UTC, so DST never adds or removes one."""
    _require_aware(start, "start")
    return (start.astimezone(UTC) + timedelta(hours=hours)).astimezone(UTC)


def localize(naive: datetime) -> datetime:
    """Attach Europe/Paris to a wall-clock time and return the UTC instant.

    fold=0 picks the first of the two autumn 02:30s. A time in the spring gap (02:30 on
    the last Sunday of March) is the end of the gap, 03:00 summer time: the first
    instant the clock has passed it. Reading it with the winter offset instead (03:30)
    would give a start at 02:30 a later due date than a start at 03:00 the same day.
    A wall time with no UTC equivalent (year 1 at midnight) is a ValueError, never an OverflowError.
    """
    try:
        instant = naive.replace(tzinfo=PARIS, fold=0).astimezone(UTC)
    except OverflowError as error:
        raise ValueError(f"{naive.isoformat()} is outside the dates Python can represent in UTC") from error
    if instant.astimezone(PARIS).replace(tzinfo=None) != naive:
        # In the gap fold=0 lands after the jump, by the time elapsed since the gap began;
        # EU clocks change at 01:00 UTC, so the jump is the UTC hour it falls in.
        instant = instant.replace(minute=0, second=0, microsecond=0)
    return instant


def to_paris(instant: datetime) -> datetime:
    """The Paris wall clock of an instant, through UTC.

    `astimezone(PARIS)` alone returns a datetime already in Paris unchanged, even a wall
    time that never existed (02:30 on the last Sunday of March); going through UTC
    normalises it to the real instant's wall clock.
    """
    return instant.astimezone(UTC).astimezone(PARIS)


def add_months(start: datetime, months: int) -> datetime:
    """Calendar months in Europe/Paris, same wall-clock time, clamped to the month's end."""
    _require_aware(start, "start")
    local = to_paris(start)
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    naive = local.replace(tzinfo=None, year=year, month=month, day=day, fold=0)
    return localize(naive)


def easter_sunday(year: int) -> date:
    """Gregorian Easter (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 - the algorithm's own name
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


def french_public_holidays(year: int) -> frozenset[date]:
    """The eleven national public holidays of metropolitan France."""
    easter = easter_sunday(year)
    return frozenset(
        {
            date(year, 1, 1),
            easter + timedelta(days=1),  # lundi de Pâques
            date(year, 5, 1),
            date(year, 5, 8),
            easter + timedelta(days=39),  # Ascension
            easter + timedelta(days=50),  # lundi de Pentecôte
            date(year, 7, 14),
            date(year, 8, 15),
            date(year, 11, 1),
            date(year, 11, 11),
            date(year, 12, 25),
        }
    )


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in french_public_holidays(day.year)


def apply_weekend_relief(due: datetime) -> datetime:
    """DORA: a due date on a weekend or public holiday moves to 12:00 the next working day."""
    _require_aware(due, "due")
    local_day = to_paris(due).date()
    if is_working_day(local_day):
        return due.astimezone(UTC)
    day = local_day + timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return localize(datetime.combine(day, RELIEF_TIME))


def dora_initial_due(*, aware_at: datetime, classified_at: datetime | None) -> datetime:
    """4 h after classification as major, at most 24 h after awareness; if classified later, 4 h after it.

    `aware_at` is when the financial entity became aware of the ICT-related incident (RTS 2025/301
    art. 5(1)(a); ITS 2025/302 field 2.2). Before classification the 24 h cap is the only known limit.
    """
    cap = add_hours(aware_at, 24)
    if classified_at is None:
        return cap
    four_hours = add_hours(classified_at, 4)
    if classified_at > cap:
        return four_hours
    return min(four_hours, cap)


def resolve_anchor(rule: Rule, anchors: AnchorTimes) -> datetime | None:
    """The instant that starts `rule`'s clock, or None while it is not known."""
    if rule.anchor is Anchor.AWARE_AT:
        return anchors.aware_at
    if rule.anchor is Anchor.INCIDENT_KNOWN:
        return anchors.incident_aware_at
    if rule.anchor is Anchor.DORA_CLASSIFICATION:
        return anchors.dora_classified_at or anchors.incident_aware_at
    if rule.anchor is Anchor.CONTAINED:
        return anchors.contained_at
    if rule.anchor is Anchor.RULE_DONE:
        if rule.from_latest_update and rule.after_rule in anchors.rule_updated:
            # RTS 2025/301 art. 5(1)(c): the final report runs from the latest updated intermediate report.
            return anchors.rule_updated[rule.after_rule]
        return anchors.rule_done.get(rule.after_rule)
    return None  # Anchor.AUTHORITY_REQUEST: the due date itself is given


def version_instant(rule: Rule, anchors: AnchorTimes) -> datetime | None:
    """The instant deciding which version of a rule a case gets: its anchor once known.

    Until then (a follow-up waiting for its predecessor, a report due on request or after
    handling) the case's first clock stands in for it: the incident, or the breach.
    """
    return resolve_anchor(rule, anchors) or anchors.incident_aware_at


def applicable_version(candidates: Sequence[Rule], anchors: AnchorTimes) -> Rule | None:
    """Among the versions of one rule, the one in force at the instant that starts its clock."""
    for rule in candidates:
        at = version_instant(rule, anchors)
        if at is not None and rule.in_force_at(at):
            return rule
    return None


def compute_due(
    rule: Rule,
    anchors: AnchorTimes,
    *,
    internal_target_hours: int | None = None,
    contract_hours: int | None = None,
    requested_due_at: datetime | None = None,
    weekend_relief: bool = True,
) -> Due:
    """The due date of `rule` for a case whose known instants are `anchors`.

    `internal_target_hours` is the organisation's target for "without undue delay"
    rules (the rule's own practice, e.g. the CNIL's 72 h for a complementary
    notification, applies when the organisation has none); `contract_hours` is a
    processing contract's notice period (Art. 33(2)); `requested_due_at` is the date an
    authority asked for; `weekend_relief` is False for the DORA entities of art. 5(5)-(6) of
    RTS 2025/301 (credit institutions, central counterparties, trading venue operators, NIS2
    essential or important entities, entities the competent authority declared significant
    or systemic): they lose the relief for the reports marked `relief_excludable` (initial
    notification, intermediate report) and keep it for the final report.
    """
    if rule.kind is DeadlineKind.ON_REQUEST:
        if requested_due_at is None:
            return Due(None, DueBasis.NONE)
        _require_aware(requested_due_at, "requested_due_at")
        return Due(requested_due_at.astimezone(UTC), DueBasis.AUTHORITY)
    anchor_at = resolve_anchor(rule, anchors)
    if rule.kind is DeadlineKind.CONTINUOUS or anchor_at is None:
        return Due(None, DueBasis.NONE)
    _require_aware(anchor_at, "anchor")

    if rule.kind is DeadlineKind.HOURS:
        due, basis = add_hours(anchor_at, rule.hours), DueBasis.LEGAL
    elif rule.kind is DeadlineKind.MONTHS:
        due, basis = add_months(anchor_at, rule.months), DueBasis.LEGAL
    elif rule.kind is DeadlineKind.DORA_INITIAL:
        if anchors.incident_aware_at is None:
            return Due(None, DueBasis.NONE)
        due = dora_initial_due(aware_at=anchors.incident_aware_at, classified_at=anchors.dora_classified_at)
        basis = DueBasis.LEGAL
    elif contract_hours is not None:
        due, basis = add_hours(anchor_at, contract_hours), DueBasis.CONTRACT
    else:
        hours = internal_target_hours
        if hours is None:
            hours = rule.practice_hours if rule.practice_hours is not None else DEFAULT_INTERNAL_TARGET_HOURS
        due, basis = add_hours(anchor_at, hours), DueBasis.INTERNAL_TARGET

    if rule.weekend_relief and (weekend_relief or not rule.relief_excludable):
        due = apply_weekend_relief(due)
    return Due(due, basis)


@dataclass(frozen=True)
class DraftOutcome:
    """What a proposal's variant of a rule would give on a case: for comparison, never a deadline."""

    regime: Regime
    rule: Rule
    applies: bool
    due: Due


def compare_draft(
    regime: Regime,
    facts: CaseFacts,
    anchors: AnchorTimes,
    *,
    internal_target_hours: dict[str, int | None] | None = None,
    weekend_relief: bool = True,
) -> list[DraftOutcome]:
    """Each variant of a draft regime computed on a case's facts and clocks, as if it were law."""
    targets = internal_target_hours or {}
    outcomes = []
    for rule in regime.rules:
        applies = rule.applies(facts)
        due = (
            compute_due(rule, anchors, internal_target_hours=targets.get(rule.code), weekend_relief=weekend_relief)
            if applies
            else Due(None, DueBasis.NONE)
        )
        outcomes.append(DraftOutcome(regime=regime, rule=rule, applies=applies, due=due))
    return outcomes


def is_late(*, due_at: datetime | None, completed_at: datetime) -> bool:
    """Late means completed strictly after the due date; no due date is never late."""
    _require_aware(completed_at, "completed_at")
    if due_at is None:
        return False
    _require_aware(due_at, "due_at")
    # In UTC: Python compares two datetimes sharing a tzinfo by wall clock, ignoring DST.
    return completed_at.astimezone(UTC) > due_at.astimezone(UTC)


def status(
    *,
    due_at: datetime | None,
    completed_at: datetime | None,
    not_applicable: bool,
    now: datetime,
    started: bool = True,
) -> Status:
    """The status of an obligation at `now`. `started` is False while the anchor is unknown."""
    _require_aware(now, "now")
    if due_at is not None:
        _require_aware(due_at, "due_at")
        # In UTC: Python compares and subtracts datetimes sharing a tzinfo by wall clock.
        due_at, now = due_at.astimezone(UTC), now.astimezone(UTC)
    if not_applicable:
        return Status.NOT_APPLICABLE
    if completed_at is not None:
        return Status.DONE_LATE if is_late(due_at=due_at, completed_at=completed_at) else Status.DONE_ON_TIME
    if not started:
        return Status.WAITING
    if due_at is None:
        return Status.RUNNING
    if now > due_at:
        return Status.OVERDUE
    if due_at - now <= DUE_SOON:
        return Status.DUE_SOON
    return Status.RUNNING
