"""Section 4: what was actually filed, with references and receipts; a notification drafted in the
register is printed as sent, with its review (who approved it, when, their comment), its SHA-256
and its content annexed question by question."""

from __future__ import annotations

from django.utils.translation import gettext
from reportlab.platypus import CondPageBreak, Flowable

from ...filings import FORMS
from ...filings.base import answer
from ...models import Filing, Submission
from ..context import Context
from ..document import Heading
from ..styles import kv_table, para, spacer

KEY = "s4"


def build(ctx: Context) -> list[Flowable]:
    out: list[Flowable] = [Heading(gettext("4. Filings made"), KEY)]
    if not ctx.data.filings:
        return [*out, para(gettext("None."))]
    for f in ctx.data.filings:
        receipt = f"{f.evidence.original_name} — SHA-256 {f.evidence.sha256}" if f.evidence else ""
        obligation = f"{f.obligation.label(ctx.lang)} [{f.obligation.rule_code}]" if f.obligation else ""
        out.append(CondPageBreak(100))
        out.extend(
            kv_table(
                [
                    (gettext("Kind"), ctx.choice(Filing.Kind, f.kind)),
                    (gettext("Sent at"), ctx.dt(f.sent_at)),
                    (gettext("Recorded at"), ctx.dt(f.created_at)),
                    (gettext("Channel"), f.channel),
                    (gettext("Recipient"), f.recipient),
                    (gettext("Reference"), f.reference),
                    (gettext("Receipt / proof"), receipt),
                    (gettext("Obligation satisfied"), obligation),
                    (gettext("Who"), ctx.data.username(f.created_by_id)),
                    (gettext("Content sent"), f.content),
                ]
            )
        )
        submission = ctx.data.submissions.get(f.pk)
        if submission is not None:
            out.extend(submission_annex(ctx, submission))
        out.append(spacer(8))
    return out


def submission_annex(ctx: Context, sub: Submission) -> list[Flowable]:
    """The review and the content as sent: the text the authority received, frozen by its SHA-256."""
    approval = ", ".join(p for p in (ctx.data.username(sub.approved_by_id), ctx.dt(sub.approved_at)) if p)
    out: list[Flowable] = [spacer(4)]
    out.extend(
        kv_table(
            [
                (gettext("Drafted by"), ctx.data.username(sub.author_id)),
                (gettext("Submitted for review at"), ctx.dt(sub.submitted_at, empty="—")),
                (gettext("Approved by"), approval),
                (gettext("Comment of the review"), sub.approval_comment),
                (gettext("Channel"), sub.channel),
                (gettext("Recipient"), sub.recipient),
                (gettext("Reference given by the authority"), sub.authority_reference),
                (gettext("Sent at"), ctx.dt(sub.sent_at)),
                (
                    gettext("Sending recorded at"),
                    f"{ctx.dt(sub.sent_recorded_at)} — {ctx.data.username(sub.sent_by_id)}",
                ),
                (gettext("SHA-256 of the content sent"), sub.content_sha256),
            ]
        )
    )
    form = FORMS[sub.kind]
    out.append(spacer(4))
    out.append(para(gettext("Content as sent (annex): %(form)s") % {"form": form.title}))
    for section in form.sections:
        out.extend(
            kv_table(
                [
                    (f"{section.title} — {f.label}", answer(sub.content, section, f) or "—")
                    for f in form.fields_of(section)
                ]
            )
        )
    return out
