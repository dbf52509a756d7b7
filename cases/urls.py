"""URLs of the case workspace (included at the site root by compliance/urls.py).

Every URL with a `reference` resolves the case through the user's memberships
(`cases.access.case_view`): another organisation's case answers 404.
"""

from django.urls import path

from .views import downloads

app_name = "cases"

urlpatterns = [
    # Downloads (read-only, every role)
    path("cases/<str:reference>/dossier.pdf", downloads.dossier_download, name="dossier_download"),
    path("cases/<str:reference>/member-letter.pdf", downloads.member_letter_download, name="member_letter_download"),
    path(
        "cases/<str:reference>/evidence/<int:evidence_id>/download/",
        downloads.evidence_download,
        name="evidence_download",
    ),
]
