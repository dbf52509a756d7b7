"""Every write on a breach case: one transactional, keyword-only function per business action.

Each function takes the acting user, checks their role, validates the input (raising
`ValidationError` with per-field messages and saving nothing), writes through model
saves so every change leaves a chained history row with the user and reason, and
regenerates the case's obligations from the rule catalogue when facts change.

One module per concept; callers use the names re-exported here (`services.case_open(...)`).
"""

from .cases import (
    case_close,
    case_contain,
    case_open,
    case_reopen,
    case_update_facts,
    decision_inform_persons,
    decision_notify_authority,
)
from .checkpoints import checkpoint_create
from .communications import member_communication_record
from .controllers import (
    controller_add,
    controller_add_all,
    controller_inform,
    controllers_inform_many,
    received_attach,
    received_dismiss,
    received_open_case,
)
from .dora import dora_facts_update
from .evidence import evidence_add
from .exports import dossier_export_request, run_dossier_export
from .filings import filing_record
from .memberships import membership_grant
from .obligations import (
    case_facts,
    obligation_complete,
    obligation_mark_not_applicable,
    obligation_set_requested_due,
    sync_obligations,
)
from .relationships import (
    relationship_accept,
    relationship_create,
    relationship_end,
    relationship_invite,
    relationships_import,
    relationships_import_preview,
)
from .submissions import (
    submission_approve,
    submission_draft,
    submission_edit,
    submission_mark_sent,
    submission_send_back,
    submission_submit_for_review,
)
from .timeline import timeline_event_add

__all__ = [
    "case_close",
    "case_contain",
    "case_facts",
    "case_open",
    "case_reopen",
    "case_update_facts",
    "checkpoint_create",
    "controller_add",
    "controller_add_all",
    "controller_inform",
    "controllers_inform_many",
    "decision_inform_persons",
    "decision_notify_authority",
    "dora_facts_update",
    "dossier_export_request",
    "evidence_add",
    "filing_record",
    "member_communication_record",
    "membership_grant",
    "obligation_complete",
    "obligation_mark_not_applicable",
    "obligation_set_requested_due",
    "received_attach",
    "received_dismiss",
    "received_open_case",
    "relationship_accept",
    "relationship_create",
    "relationship_end",
    "relationship_invite",
    "relationships_import",
    "relationships_import_preview",
    "run_dossier_export",
    "submission_approve",
    "submission_draft",
    "submission_edit",
    "submission_mark_sent",
    "submission_send_back",
    "submission_submit_for_review",
    "sync_obligations",
    "timeline_event_add",
]
