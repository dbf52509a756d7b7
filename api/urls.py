"""API URLs: the versioned API under /api/v1/ (token or verified session), and its pages under /api/."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from . import pages, views

app_name = "api"

urlpatterns = [
    path("v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("v1/cases/", views.CaseListView.as_view(), name="case_list"),
    path("v1/cases/<str:reference>/", views.CaseDetailView.as_view(), name="case_detail"),
    path("v1/cases/<str:reference>/obligations/", views.ObligationListView.as_view(), name="obligation_list"),
    path(
        "v1/cases/<str:reference>/obligations/<int:obligation_id>/complete/",
        views.ObligationCompleteView.as_view(),
        name="obligation_complete",
    ),
    path(
        "v1/cases/<str:reference>/obligations/<int:obligation_id>/not-applicable/",
        views.ObligationNotApplicableView.as_view(),
        name="obligation_not_applicable",
    ),
    path("v1/cases/<str:reference>/timeline/", views.TimelineView.as_view(), name="timeline"),
    path("v1/cases/<str:reference>/filings/", views.FilingListView.as_view(), name="filing_list"),
    path("v1/cases/<str:reference>/submissions/", views.SubmissionListView.as_view(), name="submission_list"),
    path(
        "v1/cases/<str:reference>/submissions/<int:submission_id>/",
        views.SubmissionDetailView.as_view(),
        name="submission_detail",
    ),
    path("v1/cases/<str:reference>/evidence/", views.EvidenceListView.as_view(), name="evidence_list"),
    path(
        "v1/cases/<str:reference>/evidence/<int:evidence_id>/",
        views.EvidenceDownloadView.as_view(),
        name="evidence_download",
    ),
    path(
        "v1/cases/<str:reference>/controller-notices/",
        views.ControllerNoticeListView.as_view(),
        name="controller_notice_list",
    ),
    path("v1/deadlines/", views.DeadlineListView.as_view(), name="deadline_list"),
    path("v1/register/", views.RegisterView.as_view(), name="register"),
    # Pages (login and second factor, like every page).
    path("docs/", pages.docs, name="docs"),
    path("tokens/", pages.token_list, name="tokens"),
    path("tokens/<int:token_id>/revoke/", pages.token_revoke, name="token_revoke"),
]
