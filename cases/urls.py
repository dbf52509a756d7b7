"""URLs of the case workspace (included at the site root by compliance/urls.py).

Every URL with a `reference` resolves the case through the user's memberships
(`cases.access.case_view`): another organisation's case answers 404.
"""

from django.urls import path

from .views import actions, board, case_page, dora, downloads, exports, feeds, public, relationships, submissions

app_name = "cases"

urlpatterns = [
    # The case list (the deadlines dashboard is the home page, in compliance/urls.py)
    path("cases/", board.case_list, name="case_list"),
    # The case page, its History tab, and one form per action (case_open before the <reference> routes)
    path("cases/new/", case_page.case_open, name="case_open"),
    path("cases/<str:reference>/", case_page.case_detail, name="case_detail"),
    path("cases/<str:reference>/history/", case_page.case_history, name="case_history"),
    path("cases/<str:reference>/edit/", actions.case_update, name="case_update"),
    path("cases/<str:reference>/decisions/authority/", actions.decision_authority, name="decision_authority"),
    path("cases/<str:reference>/decisions/persons/", actions.decision_persons, name="decision_persons"),
    path(
        "cases/<str:reference>/obligations/<int:obligation_id>/complete/",
        actions.obligation_complete,
        name="obligation_complete",
    ),
    path(
        "cases/<str:reference>/obligations/<int:obligation_id>/not-applicable/",
        actions.obligation_not_applicable,
        name="obligation_not_applicable",
    ),
    path(
        "cases/<str:reference>/obligations/<int:obligation_id>/requested-due/",
        actions.obligation_requested_due,
        name="obligation_requested_due",
    ),
    path("cases/<str:reference>/filings/new/", actions.filing_record, name="filing_record"),
    # A filing drafted in the register, reviewed by another person, then recorded as sent
    path(
        "cases/<str:reference>/obligations/<int:obligation_id>/draft/",
        submissions.submission_start,
        name="submission_start",
    ),
    path(
        "cases/<str:reference>/submissions/<int:submission_id>/",
        submissions.submission_detail,
        name="submission_detail",
    ),
    path(
        "cases/<str:reference>/submissions/<int:submission_id>/edit/",
        submissions.submission_edit,
        name="submission_edit",
    ),
    path(
        "cases/<str:reference>/submissions/<int:submission_id>/submit/",
        submissions.submission_submit,
        name="submission_submit",
    ),
    path(
        "cases/<str:reference>/submissions/<int:submission_id>/approve/",
        submissions.submission_approve,
        name="submission_approve",
    ),
    path(
        "cases/<str:reference>/submissions/<int:submission_id>/send-back/",
        submissions.submission_send_back,
        name="submission_send_back",
    ),
    path(
        "cases/<str:reference>/submissions/<int:submission_id>/send/",
        submissions.submission_send,
        name="submission_send",
    ),
    path(
        "cases/<str:reference>/submissions/<int:submission_id>/document/",
        submissions.submission_document,
        name="submission_document",
    ),
    path(
        "cases/<str:reference>/submissions/<int:submission_id>/merge-fields.csv",
        submissions.submission_merge_fields,
        name="submission_merge_fields",
    ),
    # DORA: the case's DORA facts, and each DORA report as the ESAs' JSON and as PDF
    path("cases/<str:reference>/dora/", dora.dora_facts_edit, name="dora_facts_edit"),
    path(
        "cases/<str:reference>/dora/reports/<int:report_id>.json",
        dora.submission_dora_json,
        name="submission_dora_json",
    ),
    path(
        "cases/<str:reference>/dora/reports/<int:report_id>.pdf",
        dora.submission_dora_pdf,
        name="submission_dora_pdf",
    ),
    path("cases/<str:reference>/events/new/", actions.event_add, name="event_add"),
    path("cases/<str:reference>/evidence/new/", actions.evidence_add, name="evidence_add"),
    path("cases/<str:reference>/communications/new/", actions.communication_record, name="communication_record"),
    path("cases/<str:reference>/controllers/new/", actions.controller_add, name="controller_add"),
    path("cases/<str:reference>/controllers/all/", actions.controller_add_all, name="controller_add_all"),
    path("cases/<str:reference>/controllers/inform/", actions.controllers_inform_many, name="controllers_inform_many"),
    path(
        "cases/<str:reference>/controllers/<int:notice_id>/notice.pdf",
        downloads.controller_notice_pdf,
        name="controller_notice_pdf",
    ),
    path(
        "cases/<str:reference>/controllers/<int:notice_id>/inform/",
        actions.controller_inform,
        name="controller_inform",
    ),
    path("cases/<str:reference>/contain/", actions.case_contain, name="case_contain"),
    path("cases/<str:reference>/close/", actions.case_close, name="case_close"),
    path("cases/<str:reference>/reopen/", actions.case_reopen, name="case_reopen"),
    # Downloads (read-only, every role)
    path("cases/<str:reference>/dossier.pdf", downloads.dossier_download, name="dossier_download"),
    path("cases/<str:reference>/member-letter.pdf", downloads.member_letter_download, name="member_letter_download"),
    path("cases/<str:reference>/history-bundle.json.gz", downloads.history_bundle_download, name="history_bundle"),
    path(
        "cases/<str:reference>/evidence/<int:evidence_id>/download/",
        downloads.evidence_download,
        name="evidence_download",
    ),
    # The dossier built in the background (cases/tasks.py): ask, follow, download
    path("cases/<str:reference>/dossier/", exports.dossier_exports, name="dossier_exports"),
    path("cases/<str:reference>/dossier/<int:export_id>/", exports.dossier_export, name="dossier_export"),
    path(
        "cases/<str:reference>/dossier/<int:export_id>/download/",
        exports.dossier_export_download,
        name="dossier_export_download",
    ),
    # Processing relationships (processor side: controllers; controller side: processors) and the inbox
    path("relationships/controllers/", relationships.controllers, name="relationship_controllers"),
    path("relationships/import/", relationships.relationship_import, name="relationship_import"),
    path("relationships/processors/", relationships.processors, name="relationship_processors"),
    path("relationships/<int:relationship_id>/", relationships.relationship_detail, name="relationship_detail"),
    path(
        "relationships/<int:relationship_id>/invite/",
        relationships.relationship_invite,
        name="relationship_invite",
    ),
    path("inbox/", relationships.inbox, name="inbox"),
    path("inbox/<int:received_id>/", relationships.inbox_notice, name="inbox_notice"),
    path("inbox/<int:received_id>/notice.pdf", relationships.inbox_notice_pdf, name="inbox_notice_pdf"),
    # Exports: the Art. 33(5) register, and personal calendar feeds (the feed itself authenticates by token)
    path("register.csv", feeds.register_csv, name="register_csv"),
    path("calendar/", feeds.calendar_feeds, name="calendar_feeds"),
    path("calendar/feed/<str:token>.ics", feeds.calendar_feed, name="calendar_feed"),
    # Public, no login: the history signing keys and the standalone verifier (cases/verify_bundle.py).
    path("history/public/keys.json", public.history_keys, name="history_keys"),
    path("history/public/verify_bundle.py", public.history_verifier, name="history_verifier"),
]
