"""The deadlines dashboard (home page) and the case list: user-scoped pages, read-only for every role.

Both pages read through `cases.selectors.board`, which scopes every query by the user's
active memberships. The filter forms below only parse the query string: an organisation
code the user is not a member of is not a valid choice, so it is reported next to the
field and ignored.
"""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from ..deadlines import Status
from ..forms import CheckedForm
from ..models import BreachCase
from ..permissions import WRITE_ROLES
from ..regimes import AUTHORITY_LABELS, Authority
from ..selectors import board as selectors

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
    context = {
        "now": now,
        "organizations": organizations,
        "writable_org_ids": {o.pk for o in organizations if o.role in WRITE_ROLES},
        "form": form,
        "filters_in_use": len(filters),
        "page": page,
        "undated": list(selectors.first_rows(undated, UNDATED_SHOWN)),
        "undated_count": undated.count(),
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
