"""The deadlines dashboard (home page) and the case list: user-scoped pages, read-only for every role.

Both pages read through `cases.selectors.board`, which scopes every query by the user's
active memberships. The filter forms below only parse the query string: an organisation
code the user is not a member of is not a valid choice, so it is reported next to the
field and ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import date as date_filter
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from ..deadlines import Status
from ..forms import CheckedForm
from ..models import BreachCase, Obligation
from ..permissions import WRITE_ROLES
from ..regimes import AUTHORITY_LABELS, Authority
from ..selectors import board as selectors
from ..templatetags import deadline_tags

DASHBOARD_PAGE_SIZE = 100
CASE_LIST_PAGE_SIZE = 25
UNDATED_SHOWN = 50

ALL = [("", _("Any"))]
AUTHORITY_CHOICES = ALL + [(a.value, AUTHORITY_LABELS[a]) for a in Authority]
CLOCK_STATUS_CHOICES = ALL + [
    (Status.OVERDUE.value, _("Overdue")),
    (Status.DUE_SOON.value, _("Due within 24 h")),
    (Status.RUNNING.value, _("Running (more than 24 h left)")),
]
SORT_CHOICES = [
    ("due", _("Next due date (most urgent first)")),
    ("-aware_at", _("Awareness (most recent first)")),
    ("aware_at", _("Awareness (oldest first)")),
    ("reference", _("Reference")),
]


class _ScopedFilterForm(CheckedForm):
    """A GET filter form whose organisation choices are the user's own organisations."""

    organization = forms.ChoiceField(label=_("Organisation"), required=False)

    def __init__(self, data, *, organizations):
        super().__init__(data)
        self.fields["organization"].choices = ALL + [(o.code, o.name) for o in organizations]

    def filters(self) -> dict:
        """The valid filters; an invalid value is shown as an error and left out."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}


class DashboardFilterForm(_ScopedFilterForm):
    authority = forms.ChoiceField(label=_("Authority"), required=False, choices=AUTHORITY_CHOICES)
    status = forms.ChoiceField(label=_("Deadline"), required=False, choices=CLOCK_STATUS_CHOICES)


class CaseListFilterForm(_ScopedFilterForm):
    q = forms.CharField(label=_("Search the cases' text"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("Case status"), required=False, choices=ALL + BreachCase.Status.choices)
    overdue_authority = forms.ChoiceField(label=_("Overdue towards"), required=False, choices=AUTHORITY_CHOICES)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)

    field_order = ["q", "organization", "status", "overdue_authority", "sort"]


@dataclass(frozen=True, slots=True)
class BoardRow:
    """What a dashboard row prints, worked out once in Python: the template only places it.

    A row of template tags and filters (labels, dates, two URLs, translations) cost about 1 ms of rendering
    per row, most of the dashboard's time with 100 running clocks and 50 undated ones.
    """

    obligation: Obligation
    url: str  # the obligation's row on its case page
    case_url: str
    pk: int
    reference: str
    case_title: str
    legal_source: str
    rule: str  # the rule's label in the page's language
    title: str  # the same, with the controller it concerns for a processor's notice
    authority: str
    organization: str
    status: str = ""  # running rows only, from here on
    status_label: str = ""
    due_iso: str = ""
    due_text: str = ""
    time_left: str = ""
    basis: str = ""
    action: str = ""
    deadline: str = ""  # undated rows only

    def __getitem__(self, name: str):
        # The template engine looks `row.title` up as row["title"] first, then as an attribute: answered here,
        # without the exception of a failed item lookup on each of the page's 2,000 cells.
        return getattr(self, name)


class _RowMaker:
    """Builds `BoardRow`s, each case URL reversed and each repeated word translated once per page, not per row."""

    def __init__(self, *, now: datetime, writable_org_ids: set[int]) -> None:
        self.now = now
        self.writable_org_ids = writable_org_ids
        self.lang = "en" if (translation.get_language() or "").startswith("en") else "fr"
        self.complete, self.view = gettext("Complete"), gettext("View")
        self.case_urls: dict[int, str] = {}

    def _common(self, ob: Obligation) -> dict:
        case = ob.case
        case_url = self.case_urls.get(case.pk)
        if case_url is None:
            case_url = self.case_urls[case.pk] = case.get_absolute_url()
        rule = ob.label(self.lang)
        return {
            "obligation": ob,
            # As Obligation.get_absolute_url, without reversing the case's URL again.
            "url": f"{case_url}#obligation-{ob.pk}",
            "case_url": case_url,
            "pk": ob.pk,
            "reference": case.reference,
            "case_title": case.title,
            "legal_source": ob.legal_source,
            "rule": rule,
            "title": f"{rule} — {ob.controller_notice.controller_name}" if ob.controller_notice_id else rule,
            "authority": deadline_tags.authority_label(ob.authority),
            "organization": case.organization.name,
        }

    def running(self, obligations: Iterable[Obligation]) -> list[BoardRow]:
        rows = []
        for ob in obligations:
            status = ob.status(self.now).value
            due = timezone.template_localtime(ob.due_at)
            rows.append(
                BoardRow(
                    **self._common(ob),
                    status=status,
                    status_label=deadline_tags.clock_label(status),
                    due_iso=date_filter(due, "c"),
                    due_text=date_filter(due, "d/m/Y H:i"),
                    time_left=deadline_tags.time_left(ob.due_at, self.now),
                    basis=deadline_tags.due_basis_label(ob.due_basis),
                    action=self.complete if ob.case.organization_id in self.writable_org_ids else self.view,
                )
            )
        return rows

    def undated(self, obligations: Iterable[Obligation]) -> list[BoardRow]:
        return [BoardRow(**self._common(ob), deadline=deadline_tags.deadline_label(ob)) for ob in obligations]


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Every running clock of the user's organisations, overdue first, then the soonest."""
    now = timezone.now()
    organizations = selectors.request_organizations(request)
    form = DashboardFilterForm(request.GET, organizations=organizations)
    filters = form.filters()
    running = selectors.board_rows(selectors.running_obligations(request.user, now=now, **filters))
    page = Paginator(running, DASHBOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    undated = selectors.undated_obligations(
        request.user, organization=filters.get("organization"), authority=filters.get("authority")
    )
    first_undated, undated_count = selectors.first_rows_counted(undated, UNDATED_SHOWN)
    writable_org_ids = {o.pk for o in organizations if o.role in WRITE_ROLES}
    make = _RowMaker(now=now, writable_org_ids=writable_org_ids)
    context = {
        "now": now,
        "organizations": organizations,
        "form": form,
        "filters_in_use": len(filters),
        "page": page,
        "rows": make.running(page.object_list),
        "undated": first_undated,
        "undated_rows": make.undated(first_undated),
        "undated_count": undated_count,
        "counts": selectors.case_counts_by_status(request.user),
    }
    return render(request, "cases/dashboard.html", context)


@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    """The user's organisations' cases: search, filters, sort and pages of 25."""
    now = timezone.now()
    organizations = selectors.request_organizations(request)
    form = CaseListFilterForm(request.GET, organizations=organizations)
    cases = selectors.case_list(request.user, now=now, **form.filters())
    page = Paginator(cases, CASE_LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"now": now, "organizations": organizations, "form": form, "page": page}
    return render(request, "cases/case_list.html", context)
