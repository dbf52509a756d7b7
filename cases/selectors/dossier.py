"""Everything the dossier prints about one case, loaded with a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import F

from ..models import (
    BreachCase,
    ControllerNotice,
    Evidence,
    Filing,
    MemberCommunication,
    Obligation,
    ReceivedNotice,
    Submission,
    TimelineEvent,
)
from .history import usernames


@dataclass
class DossierData:
    """Everything the dossier prints about one case, loaded with a fixed number of queries."""

    case: BreachCase
    events: list[TimelineEvent]
    obligations: list[Obligation]
    filings: list[Filing]
    communications: list[MemberCommunication]
    notices: list[ControllerNotice]
    evidence: list[Evidence]
    usernames: dict[int, str] = field(default_factory=dict)
    # The notifications drafted in the register and sent, by the filing that records their sending.
    submissions: dict[int, Submission] = field(default_factory=dict)
    # The processors' notices this (controller's) case was opened from or attached to, as received.
    received: list[ReceivedNotice] = field(default_factory=list)
    # The Art. 34 letters drafted in the register and sent, by the communication that records their sending.
    letters: dict[int, Submission] = field(default_factory=dict)

    @property
    def chain_key(self) -> str:
        return self.case.history_chain_key()

    def username(self, user_id: int | None) -> str:
        return self.usernames.get(user_id, "") if user_id is not None else ""


def dossier_data(case: BreachCase) -> DossierData:
    """The case and all its records, with the users they mention resolved in one query."""
    case = BreachCase.objects.select_related(
        "organization",
        "processor",
        "source_notice__case__organization",
        "notify_authority_decided_by",
        "inform_persons_decided_by",
        "created_by",
    ).get(pk=case.pk)
    data = DossierData(
        case=case,
        events=list(case.events.order_by("occurred_at", "pk")),
        obligations=list(
            case.obligations.select_related("controller_notice").order_by(
                F("due_at").asc(nulls_last=True), "rule_code", "pk"
            )
        ),
        filings=list(case.filings.select_related("obligation", "evidence").order_by("sent_at", "pk")),
        communications=list(case.communications.select_related("evidence").order_by("sent_at", "pk")),
        notices=list(
            case.controller_notices.select_related("relationship", "receipt", "obligation").order_by(
                "controller_name", "pk"
            )
        ),
        evidence=list(case.evidence.order_by("uploaded_at", "pk")),
        received=list(case.received_notices.select_related("relationship").order_by("received_at", "pk")),
    )
    for sent in case.submissions.filter(state=Submission.State.SENT):
        if sent.filing_id:
            data.submissions[sent.filing_id] = sent
        elif sent.communication_id:
            data.letters[sent.communication_id] = sent
    user_ids = {case.created_by_id, case.notify_authority_decided_by_id, case.inform_persons_decided_by_id}
    for ob in data.obligations:
        user_ids.update((ob.completed_by_id, ob.decided_by_id))
    for item in (*data.events, *data.filings, *data.communications):
        user_ids.add(item.created_by_id)
    user_ids.update(n.informed_by_id for n in data.notices)
    user_ids.update(e.uploaded_by_id for e in data.evidence)
    user_ids.update(r.decided_by_id for r in data.received)
    for sub in (*data.submissions.values(), *data.letters.values()):
        user_ids.update((sub.author_id, sub.approved_by_id, sub.sent_by_id))
    data.usernames = usernames(user_ids)
    return data
