"""The breach-case domain: organisations, memberships, cases and what hangs off a case.

Every model a user can change keeps an audited, hash-chained history
(`cases.history`). Writes go through `cases.services`; the managers here refuse
the bulk writes that would skip history (`QuerySet.update()`, `bulk_update()`,
`QuerySet.delete()`), and nothing is ever deleted. One module per concept; import
the models from here (`from cases.models import BreachCase`).
"""

from .base import AuditedModel, AuditedQuerySet, HistoryBypassError, audited_history, siren_validator
from .breach_case import BreachCase, CaseChild, DataCategory, SubjectCategory
from .checkpoints import Checkpoint, CheckpointLeaf, CheckpointTimestamp
from .communications import MemberCommunication
from .controllers import ControllerNotice
from .dora import DoraFacts
from .evidence import Evidence
from .exports import DossierExport
from .feeds import CalendarFeedToken
from .filings import Filing
from .jobs import BackgroundJob, JobState
from .obligations import Obligation
from .organizations import Membership, Organization
from .relationships import ProcessingRelationship, ReceivedNotice
from .submissions import Submission
from .timeline import TimelineEvent

__all__ = [
    "AuditedModel",
    "AuditedQuerySet",
    "BackgroundJob",
    "BreachCase",
    "CalendarFeedToken",
    "CaseChild",
    "Checkpoint",
    "CheckpointLeaf",
    "CheckpointTimestamp",
    "ControllerNotice",
    "DataCategory",
    "DoraFacts",
    "DossierExport",
    "Evidence",
    "Filing",
    "HistoryBypassError",
    "JobState",
    "MemberCommunication",
    "Membership",
    "Obligation",
    "Organization",
    "ProcessingRelationship",
    "ReceivedNotice",
    "SubjectCategory",
    "Submission",
    "TimelineEvent",
    "audited_history",
    "siren_validator",
]
