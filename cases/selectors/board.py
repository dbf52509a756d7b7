"""Reads of the deadlines dashboard and the case list, scoped by the user's active memberships.

Every query joins the user's memberships itself: an organisation code or filter value
taken from a request can only narrow the user's own scope, never widen it. Aggregates
are annotations and subqueries, so each page costs the same number of queries whatever
the number of cases and obligations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, Window
from django.db.models.functions import Coalesce

from .. import search
from ..deadlines import DUE_SOON, Status
from ..models import BreachCase, Membership, Obligation, Organization
from ..regimes import RULES, DeadlineKind

# The statuses the dashboard filters on: the three states of a clock still running.
RUNNING_STATUSES = (Status.OVERDUE, Status.DUE_SOON, Status.RUNNING)

# Sort keys of the case list -> ORDER BY; the first is the default.
CASE_SORTS = {
    "due": (F("next_due_at").asc(nulls_last=True), "-aware_at", "pk"),
    "-aware_at": ("-aware_at", "pk"),
    "aware_at": ("aware_at", "pk"),
    "reference": ("reference", "pk"),
}
DEFAULT_CASE_SORT = "due"

# Duties kept for as long as a case is open (the Art. 33(5) register): never a clock.
CONTINUOUS_RULES = frozenset(rule.code for rule in RULES if rule.kind is DeadlineKind.CONTINUOUS)


def _member_org_ids(user) -> QuerySet:
    """The ids of the organisations where `user` has an active membership, as a subquery."""
    return Membership.objects.filter(user=user, is_active=True).values("organization_id")


def _is_usable(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def user_organizations(user) -> QuerySet[Organization]:
    """The user's organisations (active memberships), each annotated with the user's `role` there."""
    if not _is_usable(user):
        return Organization.objects.none()
    return (
        Organization.objects.filter(memberships__user=user, memberships__is_active=True)
        .annotate(role=F("memberships__role"))
        .order_by("name")
    )


def request_organizations(request) -> list[Organization]:
    """`user_organizations` of the request's user, fetched once per request: the page and its menu share it."""
    cached = getattr(request, "_user_organizations", None)
    if cached is None:
        cached = request._user_organizations = list(user_organizations(request.user))
    return cached


def _scoped_obligations(user, organization: str | None) -> QuerySet[Obligation]:
    if not _is_usable(user):
        return Obligation.objects.none()
    obligations = Obligation.objects.filter(
        state=Obligation.State.PENDING, case__organization_id__in=_member_org_ids(user)
    )
    if organization:
        obligations = obligations.filter(case__organization__code=organization)
    return obligations


def running_obligations(
    user,
    *,
    organization: str | None = None,
    authority: str | None = None,
    status: str | None = None,
    now: datetime,
) -> QuerySet[Obligation]:
    """Pending obligations with a due date in the user's organisations, overdue first, then soonest.

    `organization` is an organisation code, `authority` an `Authority` value and `status`
    one of `RUNNING_STATUSES`, each narrowing the list; the status boundaries are those of
    `deadlines.status()` (overdue strictly after the due date, due soon within 24 h).
    """
    obligations = _scoped_obligations(user, organization).filter(due_at__isnull=False)
    if authority:
        obligations = obligations.filter(authority=authority)
    if status == Status.OVERDUE:
        obligations = obligations.filter(due_at__lt=now)
    elif status == Status.DUE_SOON:
        obligations = obligations.filter(due_at__gte=now, due_at__lte=now + DUE_SOON)
    elif status == Status.RUNNING:
        obligations = obligations.filter(due_at__gt=now + DUE_SOON)
    # Ascending due date puts the overdue (due dates already past) on top, most overdue first.
    return obligations.select_related("case__organization", "controller_notice").order_by("due_at", "pk")


def undated_obligations(user, *, organization: str | None = None, authority: str | None = None) -> QuerySet[Obligation]:
    """Pending obligations whose clock has not started (anchor unknown, or a date the authority has not set).

    Continuous duties (the breach register) are left out: they never carry a clock.
    """
    obligations = _scoped_obligations(user, organization).filter(due_at__isnull=True)
    obligations = obligations.exclude(rule_code__in=CONTINUOUS_RULES)
    if authority:
        obligations = obligations.filter(authority=authority)
    return obligations.select_related("case__organization", "controller_notice").order_by(
        "case__aware_at", "case_id", "pk"
    )


# What a dashboard row prints (cases.views.board.BoardRow) and its status needs, of the obligation and of the
# case, organisation and notice joined to it: every other column (the legal texts, the case's long texts and
# its fifty other facts) left unread, the rows the database joins and sorts are narrow and each model is
# built from a few values, not from a hundred (instantiating them was a third of the page's Python time).
BOARD_ROW_FIELDS = (
    "case",
    "controller_notice",
    "rule_code",
    "label_fr",
    "label_en",
    "authority",
    "legal_source",
    "deadline_label_fr",
    "deadline_label_en",
    "anchor_at",
    "due_at",
    "due_basis",
    "state",
    "completed_at",
    "case__organization",
    "case__reference",
    "case__title",
    "case__organization__name",
    "controller_notice__controller_name",
)


def board_rows(obligations: QuerySet[Obligation]) -> QuerySet[Obligation]:
    """`running_obligations` or `undated_obligations` reading only what a list row shows (`BOARD_ROW_FIELDS`)."""
    return obligations.only(*BOARD_ROW_FIELDS)


def first_rows_counted(obligations: QuerySet[Obligation], limit: int) -> tuple[list[Obligation], int]:
    """The first `limit` of an ordered list of obligations (`board_rows`) and the length of the whole list,
    in two queries that sort and count the list once.

    The first query sorts the ids only and counts them in the same pass (a window over the whole list,
    computed before its LIMIT); the second reads those rows whole by their ids. Counting apart joined and
    scanned the whole list a second time.
    """
    ordering = obligations.query.order_by
    chosen = list(obligations.annotate(whole_count=Window(Count("*"))).values_list("pk", "whole_count")[:limit])
    if not chosen:
        return [], 0
    rows = board_rows(
        Obligation.objects.filter(pk__in=[pk for pk, _count in chosen])
        .select_related("case__organization", "controller_notice")
        .order_by(*ordering)
    )
    return list(rows), chosen[0][1]


@dataclass(frozen=True)
class CaseCounts:
    open: int = 0
    contained: int = 0
    closed: int = 0

    @property
    def total(self) -> int:
        return self.open + self.contained + self.closed


def case_counts_by_status(user) -> CaseCounts:
    """How many of the user's organisations' cases are open, contained and closed (one query)."""
    if not _is_usable(user):
        return CaseCounts()
    # COUNT(*), not COUNT(id): the (organization, status) index then answers alone, without reading the cases.
    rows = (
        BreachCase.objects.filter(organization_id__in=_member_org_ids(user))
        .order_by()
        .values("status")
        .annotate(n=Count("*"))
    )
    counts = {row["status"]: row["n"] for row in rows}
    return CaseCounts(**{status: counts.get(status, 0) for status in BreachCase.Status.values})


def case_list(
    user,
    *,
    q: str = "",
    organization: str | None = None,
    status: str | None = None,
    overdue_authority: str | None = None,
    sort: str = DEFAULT_CASE_SORT,
    now: datetime,
) -> QuerySet[BreachCase]:
    """The user's organisations' cases (with their stored `next_due_at`), annotated with `overdue_count`.

    `q` searches the case's text (`cases.search`); `overdue_authority` keeps the cases with an overdue
    pending obligation towards that authority; `sort` is a key of `CASE_SORTS` (unknown
    keys fall back to the default: the most urgent next due date first).
    """
    if not _is_usable(user):
        return BreachCase.objects.none()
    cases = BreachCase.objects.filter(organization_id__in=_member_org_ids(user))
    if organization:
        cases = cases.filter(organization__code=organization)
    if status:
        cases = cases.filter(status=status)
    cases = search.matching(cases, q)
    overdue = Q(state=Obligation.State.PENDING, due_at__lt=now)
    if overdue_authority:
        # A subquery, not a join: a second join on obligations would multiply the counts below.
        cases = cases.filter(
            Exists(Obligation.objects.filter(overdue, case_id=OuterRef("pk"), authority=overdue_authority))
        )
    # `next_due_at` is stored on the case (kept by the services' write path); the overdue count is
    # relative to `now`, so it is counted, per case shown only: PostgreSQL evaluates it after the
    # sort and the page's LIMIT.
    overdue_of_case = (
        Obligation.objects.filter(overdue, case_id=OuterRef("pk"))
        .order_by()
        .values("case_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    cases = cases.annotate(overdue_count=Coalesce(Subquery(overdue_of_case, output_field=IntegerField()), Value(0)))
    return cases.select_related("organization").order_by(*CASE_SORTS.get(sort, CASE_SORTS[DEFAULT_CASE_SORT]))
