"""Section 7: for a processor's case, each controller to inform and when it was; else where the case came from."""

from __future__ import annotations

from django.utils.translation import gettext, pgettext
from reportlab.platypus import Flowable

from ...deadlines import STATUS_LABELS
from ...models import ReceivedNotice
from ..context import Context
from ..document import Heading
from ..styles import kv_table, para, small_table, spacer

KEY = "s7"


def _acknowledged(ctx: Context, notice) -> str:
    """What the processor may know of an on-platform controller: received, and when it decided (never its case)."""
    receipt = getattr(notice, "receipt", None)
    if receipt is None:
        return ""
    lines = [gettext("Received at %(when)s") % {"when": ctx.dt(receipt.received_at)}]
    if receipt.decided_at:
        lines.append(gettext("Acknowledged at %(when)s") % {"when": ctx.dt(receipt.decided_at)})
    return "\n".join(lines)


def _received(ctx: Context) -> list[Flowable]:
    """The processors' notices this controller's case rests on, as received: who, when, the decision, the
    content and the SHA-256 of the PDF sent (the same bytes the processor keeps)."""
    out: list[Flowable] = []
    for received in ctx.data.received:
        decision = ctx.choice(ReceivedNotice.Decision, received.decision)
        if received.decided_at:
            decision += f" — {ctx.dt(received.decided_at)}"
            who = ctx.data.username(received.decided_by_id)
            if who:
                decision += f", {who}"
        out += [
            spacer(4),
            para(gettext("Notice received from the processor %(processor)s") % {"processor": received.processor_name}),
            *kv_table(
                [
                    (gettext("Received at"), ctx.dt(received.received_at)),
                    (gettext("Contract reference"), received.relationship.contract_reference or "—"),
                    (gettext("Decision"), "\n".join(p for p in (decision, received.decision_reason) if p)),
                    (gettext("SHA-256 of the notice sent"), received.pdf_sha256 or "—"),
                    (gettext("Content of the notice"), received.content or received.subject),
                ]
            ),
        ]
    return out


def build(ctx: Context) -> list[Flowable]:
    case = ctx.case
    out: list[Flowable] = [Heading(gettext("7. Controllers informed"), KEY)]
    if case.source_notice_id:
        notice = case.source_notice
        out.append(
            para(
                gettext("This case was opened on the notice of the processor %(processor)s, received at %(when)s.")
                % {"processor": notice.case.organization.name, "when": ctx.dt(notice.informed_at)}
            )
        )
    out += _received(ctx)
    notices = ctx.data.notices
    if not notices:
        if not case.source_notice_id and not ctx.data.received:
            out.append(para(gettext("Not applicable: the organisation is not acting as a processor in this case.")))
        return out
    done = sum(1 for n in notices if n.informed_at)
    out += [
        para(gettext("%(done)s of %(total)s controller(s) informed.") % {"done": done, "total": len(notices)}),
        spacer(4),
    ]
    rows = []
    for n in notices:
        ob = getattr(n, "obligation", None)
        period = (
            gettext("%(n)s h") % {"n": n.notice_period_hours}
            if n.notice_period_hours
            else gettext("without undue delay")
        )
        status = ctx.choice(STATUS_LABELS, ob.status(ctx.generated_at).value) if ob else ""
        rows.append(
            [
                f"{n.controller_name}\n{n.relationship.controller_siren if n.relationship else ''}".strip(),
                period,
                ctx.dt(ob.due_at, empty="—") if ob else "—",
                ctx.dt(n.informed_at, empty="—") + (f"\nSHA-256 {n.notice_sha256[:16]}…" if n.notice_sha256 else ""),
                "\n".join(p for p in (n.channel, n.reference, *(c.get("email", "") for c in n.recipients or [])) if p),
                status + (f"\n{ob.late_reason}" if ob and ob.late_reason else ""),
                _acknowledged(ctx, n),
            ]
        )
    header = [
        pgettext("dossier", "Controller"),
        gettext("Contractual notice period"),
        gettext("Due"),
        gettext("Informed at"),
        f"{gettext('Channel')} / {gettext('Reference')}",
        gettext("Status"),
        gettext("Received / acknowledged"),
    ]
    out.append(small_table(header, rows, [18, 12, 11, 11, 17, 15, 16]))
    return out
