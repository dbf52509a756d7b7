"""What the page of a drafted notification shows: each question with its answer, what is missing, who may act."""

from __future__ import annotations

from dataclasses import dataclass

from ..filings import EDPB_SECTIONS, FORMS, FilingForm
from ..filings.base import answer
from ..models import Submission
from ..permissions import WRITE_ROLES
from ..services.submissions import may_approve, writers


@dataclass
class AnswerRow:
    dom_id: str
    label: str
    answer: str
    required: bool
    missing: bool
    edpb: str


@dataclass
class SectionRows:
    key: str
    title: str
    rows: list[AnswerRow]


@dataclass
class SubmissionPage:
    submission: Submission
    form: FilingForm
    sections: list[SectionRows]
    missing: list[str]
    can_edit: bool
    can_submit: bool
    can_approve: bool
    can_send: bool
    own_text: bool  # the reader wrote it: someone else approves


def submission_page(submission: Submission, *, user, role: str) -> SubmissionPage:
    """The submission and its case are loaded by the view; one read of its history, only for a reviewer
    deciding whether they wrote part of the text."""
    form = FORMS[submission.kind]
    sections = []
    missing = []
    for section in form.sections:
        rows = []
        for f in form.fields_of(section):
            text = answer(submission.content, section, f)
            is_missing = f.required and not text.strip()
            if is_missing:
                missing.append(f"{section.title} — {f.label}")
            rows.append(
                AnswerRow(
                    dom_id=f"answer-{section.key}-{f.key}".replace("_", "-"),
                    label=str(f.label),
                    answer=text,
                    required=f.required,
                    missing=is_missing,
                    edpb=str(EDPB_SECTIONS[f.edpb]) if f.edpb else "",  # "" for a filing outside the template
                )
            )
        sections.append(SectionRows(section.key, str(section.title), rows))
    state = submission.state
    open_case = submission.case.status != submission.case.Status.CLOSED
    writer = role in WRITE_ROLES and open_case
    reviewable = open_case and state == Submission.State.IN_REVIEW and may_approve(role, submission.case.organization)
    # Everyone who wrote part of the text (a history read) only where it decides the review buttons.
    own = user.pk in (writers(submission) if reviewable else {submission.author_id, submission.last_edited_by_id})
    return SubmissionPage(
        submission=submission,
        form=form,
        sections=sections,
        missing=missing,
        can_edit=writer and state != Submission.State.SENT,
        can_submit=writer and state == Submission.State.DRAFT,
        can_approve=reviewable and not own,
        can_send=writer and state == Submission.State.APPROVED,
        own_text=own,
    )
