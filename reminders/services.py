"""Sending deadline reminders: who is told what, when, exactly once, and only after the commit."""

from __future__ import annotations

import logging
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.core.mail import get_connection
from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from cases.models import BreachCase, Membership, Obligation
from webhooks import events as webhook_events

from .emails import DigestItem, DigestPrinter, build_digest
from .models import ReminderKind, ReminderPreference, ReminderSent

logger = logging.getLogger(__name__)

WITHIN_24H = timedelta(hours=24)
WITHIN_4H = timedelta(hours=4)
CASE_ROLES = frozenset({Membership.Role.DPO, Membership.Role.LEGAL})
ESCALATION_ROLES = frozenset({Membership.Role.ADMIN})


@dataclass
class ReminderReport:
    """What one run did (or, in a dry run, would do)."""

    now: datetime
    dry_run: bool = False
    obligations: int = 0  # pending obligations due within 24 h or overdue
    sent: Counter = field(default_factory=Counter)  # claimed by this run, per kind
    already_sent: int = 0  # claimed earlier, or by another run at the same time
    turned_off: int = 0  # the recipient's preferences decline this kind
    no_email: int = 0  # the recipient has no e-mail address
    no_escalation_recipient: int = 0  # overdue, but the organisation has no active admin
    failed: int = 0  # delivery failed after the commit; the claim was released for the next run

    @property
    def total_sent(self) -> int:
        return sum(self.sent.values())


def kinds_due(due_at: datetime, now: datetime) -> list[str]:
    """The reminders an obligation due at `due_at` calls for at `now` (instants, so DST is irrelevant).

    A reminder missed by a late run is still sent (the 24-hour one with the 4-hour one), but
    nothing before the deadline is sent once it has passed: the overdue notice replaces them.
    """
    if now > due_at:
        return [ReminderKind.OVERDUE, ReminderKind.ESCALATION]
    left = due_at - now
    if left <= WITHIN_4H:
        return [ReminderKind.DUE_24H, ReminderKind.DUE_4H]
    if left <= WITHIN_24H:
        return [ReminderKind.DUE_24H]
    return []


@dataclass(frozen=True, slots=True)
class _Candidate:
    obligation: Obligation
    membership: Membership
    kind: str
    key: tuple  # (obligation id, recipient id, kind, due date announced): the claim's unique key


# What a run reads of each obligation: the reminder's lines and the deadline events' data, not the legal
# texts and decisions (with thousands of obligations due, the other columns cost more than the rest).
_OBLIGATION_FIELDS = (
    "rule_code",
    "label_fr",
    "label_en",
    "authority",
    "due_at",
    "due_basis",
    "state",
    "completed_at",
    "case",
    "case__reference",
    "case__title",
    "case__status",
    "case__organization",
    "case__organization__name",
    "controller_notice",
    "controller_notice__controller_name",
)


def _pending_obligations(now: datetime) -> list[Obligation]:
    # Waiting and continuous obligations have no due date; done, not-applicable and withdrawn
    # ones are not pending; a closed case needs nothing more.
    return list(
        Obligation.objects.filter(state=Obligation.State.PENDING, due_at__isnull=False, due_at__lte=now + WITHIN_24H)
        .exclude(case__status=BreachCase.Status.CLOSED)
        .select_related("case__organization", "controller_notice")
        .only(*_OBLIGATION_FIELDS)
        .order_by("due_at", "pk")
    )


def _members_by_organisation(organisation_ids: set[int]) -> dict[int, list[Membership]]:
    members = (
        Membership.objects.filter(
            organization_id__in=organisation_ids,
            is_active=True,
            user__is_active=True,
            role__in=CASE_ROLES | ESCALATION_ROLES,
        )
        .select_related("user__reminder_preference")
        .order_by("pk")
    )
    by_org: dict[int, list[Membership]] = defaultdict(list)
    for membership in members:
        by_org[membership.organization_id].append(membership)
    return by_org


@dataclass
class _Recipients:
    """Who gets one kind of reminder in one organisation, and who is left out (counted per reminder)."""

    members: list[Membership]
    turned_off: int
    no_email: int


def _recipients(org_members: list[Membership], kind: str) -> _Recipients:
    roles = ESCALATION_ROLES if kind == ReminderKind.ESCALATION else CASE_ROLES
    chosen = _Recipients([], 0, 0)
    for membership in org_members:
        if membership.role not in roles:
            continue
        if not ReminderPreference.for_user(membership.user).wants(kind):
            chosen.turned_off += 1
        elif not membership.user.email:
            chosen.no_email += 1
        else:
            chosen.members.append(membership)
    return chosen


def _candidates(obligations: list[Obligation], now: datetime, report: ReminderReport) -> list[_Candidate]:
    members = _members_by_organisation({ob.case.organization_id for ob in obligations})
    # Who gets which kind depends only on the organisation: decided once per organisation and kind.
    recipients: dict[tuple[int, str], _Recipients] = {}
    candidates = []
    for ob in obligations:
        organisation_id = ob.case.organization_id
        for kind in kinds_due(ob.due_at, now):
            chosen = recipients.get((organisation_id, kind))
            if chosen is None:
                chosen = recipients[organisation_id, kind] = _recipients(members.get(organisation_id, []), kind)
            if kind == ReminderKind.ESCALATION and not (chosen.members or chosen.turned_off or chosen.no_email):
                report.no_escalation_recipient += 1
            report.turned_off += chosen.turned_off
            report.no_email += chosen.no_email
            candidates.extend(_Candidate(ob, m, kind, (ob.pk, m.user_id, kind, ob.due_at)) for m in chosen.members)
    return candidates


def _already_sent(obligations: list[Obligation]) -> set[tuple]:
    ids: list[int] | RawSQL = [ob.pk for ob in obligations]
    if connection.vendor == "postgresql":  # one array parameter, not one per obligation
        ids = RawSQL(f"SELECT unnest(%s::{Obligation._meta.pk.db_type(connection)}[])", [ids])  # noqa: S611 - the ids are a parameter
    return set(
        ReminderSent.objects.filter(obligation_id__in=ids).values_list(
            "obligation_id", "recipient_id", "kind", "due_at_when_sent"
        )
    )


def _claim(candidates: list[_Candidate], now: datetime) -> dict[tuple, int]:
    """Insert one row per reminder; return the ones this run inserted (key -> row id).

    Rows another run inserted first (committed, or committed while we waited on its lock)
    are skipped by the unique constraint. On PostgreSQL the insert itself returns the rows it
    inserted (`ON CONFLICT DO NOTHING RETURNING` returns none of the skipped ones); elsewhere
    the run id tells our rows from theirs.
    """
    run_id = uuid.uuid4()
    if connection.vendor == "postgresql":
        return _claim_returning(candidates, now, run_id)
    ReminderSent.objects.bulk_create(
        [
            ReminderSent(
                obligation=c.obligation,
                recipient=c.membership.user,
                recipient_email=c.membership.user.email,
                kind=c.kind,
                sent_at=now,
                due_at_when_sent=c.obligation.due_at,
                run_id=run_id,
            )
            for c in candidates
        ],
        ignore_conflicts=True,
    )
    rows = ReminderSent.objects.filter(run_id=run_id).values_list(
        "pk", "obligation_id", "recipient_id", "kind", "due_at_when_sent"
    )
    return {(ob_id, user_id, kind, due): pk for pk, ob_id, user_id, kind, due in rows}


def _claim_returning(candidates: list[_Candidate], now: datetime, run_id: uuid.UUID) -> dict[tuple, int]:
    """`_claim` in one statement: the rows travel as one array per column (no model instance per row), in
    the candidates' order, so that two overlapping runs wait on each other's rows in the same order."""
    meta = ReminderSent._meta
    quote = connection.ops.quote_name
    arrays = ("obligation", "recipient", "recipient_email", "kind", "due_at_when_sent")  # one per row
    column = {name: quote(meta.get_field(name).column) for name in (*arrays, "sent_at", "run_id")}
    types = ", ".join(f"%s::{meta.get_field(name).db_type(connection)}[]" for name in arrays[:-1])
    due_type = meta.get_field("due_at_when_sent").db_type(connection)
    # A run announces one due date per obligation: the dates travel once each (turning a date into a
    # parameter costs more than the rest of a row), each row points at its obligation's, and the rows
    # inserted are told apart without it.
    returned = ", ".join([quote(meta.pk.column), *(column[n] for n in ("obligation", "recipient", "kind"))])
    # Names and types from the model's metadata; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(column.values())}) "  # noqa: S608
        f"SELECT c.o, c.r, c.e, c.k, (%s::{due_type}[])[c.d], %s, %s "
        f"FROM unnest({types}, %s::integer[]) AS c(o, r, e, k, d) ON CONFLICT DO NOTHING RETURNING {returned}"
    )
    dues: dict[int, int] = {}  # obligation id -> position of its due date (from 1)
    due_dates = []
    for c in candidates:
        if c.key[0] not in dues:
            dues[c.key[0]] = len(due_dates) + 1
            due_dates.append(c.key[3])
    params = [
        due_dates,
        now,
        run_id,
        [c.key[0] for c in candidates],
        [c.key[1] for c in candidates],
        [c.membership.user.email for c in candidates],
        [str(c.kind) for c in candidates],  # the value, not the enum's name
        [dues[c.key[0]] for c in candidates],
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {(ob_id, user_id, kind, due_dates[dues[ob_id] - 1]): pk for pk, ob_id, user_id, kind in rows}


def _deliver(claims: list[tuple[int, _Candidate]], now: datetime, report: ReminderReport) -> None:
    """After the commit: one e-mail per recipient listing every reminder this run claimed for them, all
    over one connection to the mail server. A digest that cannot be built or delivered releases its
    claims, so that the next run retries them."""
    by_recipient: dict[int, list[tuple[int, _Candidate]]] = defaultdict(list)
    for pk, candidate in claims:
        by_recipient[candidate.membership.user_id].append((pk, candidate))
    failed: list[int] = []
    connection = get_connection()
    try:
        connection.open()
    except Exception:
        logger.exception("Reminders: could not connect to the mail server; %d reminders released.", len(claims))
        failed = [pk for pk, _candidate in claims]
    else:
        printer = DigestPrinter(now)  # each reminder's lines printed once per language, for all its recipients
        try:
            for recipient_claims in by_recipient.values():
                user = recipient_claims[0][1].membership.user
                try:
                    message = build_digest(
                        items=[DigestItem(c.obligation, c.membership.role, c.kind) for _pk, c in recipient_claims],
                        recipient=user,
                        email=user.email,
                        language=ReminderPreference.for_user(user).language,
                        now=now,
                        printer=printer,
                    )
                    message.connection = connection
                    message.send()
                except Exception:
                    logger.exception("Reminders: delivery to %s failed; released for the next run.", user.email)
                    failed.extend(pk for pk, _candidate in recipient_claims)
        finally:
            connection.close()
    if failed:
        ReminderSent.objects.filter(pk__in=failed).delete()
        report.failed += len(failed)


def send_due_reminders(now: datetime | None = None, *, dry_run: bool = False) -> ReminderReport:
    """Send every reminder due at `now` that no run has sent yet; safe to run often and in parallel.

    Pending obligations due within 24 h, within 4 h, or overdue: their case organisation's
    active DPO and legal members are reminded (per their preferences), and its admins get an
    escalation once the deadline has passed. Each reminder is claimed by inserting its
    `ReminderSent` row; the e-mails of the rows this run inserted go out only once the
    transaction commits, so a rollback sends nothing and a concurrent run sends nothing twice.
    """
    now = now or timezone.now()
    if timezone.is_naive(now):
        raise ValueError("now must be an aware datetime")
    report = ReminderReport(now=now, dry_run=dry_run)
    with transaction.atomic():
        obligations = _pending_obligations(now)
        report.obligations = len(obligations)
        if not obligations:
            return report
        if not dry_run:
            webhook_events.deadline_events(obligations, kinds_due, now)
        candidates = _candidates(obligations, now, report)
        done = _already_sent(obligations)
        todo = [c for c in candidates if c.key not in done]
        report.already_sent += len(candidates) - len(todo)
        if dry_run or not todo:
            report.sent.update(c.kind for c in todo)
            return report
        claimed = _claim(todo, now)
        report.already_sent += len(todo) - len(claimed)
        claims = []
        for c in todo:
            pk = claimed.get(c.key)
            if pk is not None:
                report.sent[c.kind] += 1
                claims.append((pk, c))
        # The e-mails are built and sent once the claims are committed, outside the transaction.
        transaction.on_commit(partial(_deliver, claims, now, report))
    return report


PREFERENCE_FIELDS = ("receive_due_24h", "receive_due_4h", "receive_overdue", "language")


def preferences_save(*, acting_user, values: dict) -> ReminderPreference:
    """The acting user's own reminder preferences (`values` by field name), created or updated.

    One row per user whatever the timing: a first save from another tab or a double click that
    created the row meanwhile is updated, never a failure on the one-row-per-user constraint
    (get_or_create inside update_or_create retries the read on that conflict).
    """
    defaults = {name: values[name] for name in PREFERENCE_FIELDS if name in values}
    with transaction.atomic():
        preference, _created = ReminderPreference.objects.update_or_create(user=acting_user, defaults=defaults)
    return preference
