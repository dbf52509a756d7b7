"""Section 7: for a processor's case, each controller to inform and when it was; else where the case came from."""

from __future__ import annotations

from reportlab.platypus import Flowable

from ..context import Context
from ..document import Heading
from ..styles import para, small_table, spacer

KEY = "s7"


def _acknowledged(ctx: Context, notice) -> str:
    """What the processor may know of an on-platform controller: received, and when it decided (never its case)."""
    receipt = getattr(notice, "receipt", None)
    if receipt is None:
        return ""
    lines = [ctx.t("received_at", when=ctx.dt(receipt.received_at))]
    if receipt.decided_at:
        lines.append(ctx.t("acknowledged_at", when=ctx.dt(receipt.decided_at)))
    return "\n".join(lines)


def build(ctx: Context) -> list[Flowable]:
    case, t = ctx.case, ctx.t
    out: list[Flowable] = [Heading(t("s7"), KEY)]
    if case.source_notice_id:
        notice = case.source_notice
        out.append(
            para(
                t(
                    "informed_by_processor",
                    processor=notice.case.organization.name,
                    when=ctx.dt(notice.informed_at),
                )
            )
        )
    notices = ctx.data.notices
    if not notices:
        if not case.source_notice_id:
            out.append(para(t("controllers_none")))
        return out
    done = sum(1 for n in notices if n.informed_at)
    out += [para(t("controllers_progress", done=done, total=len(notices))), spacer(4)]
    rows = []
    for n in notices:
        ob = getattr(n, "obligation", None)
        period = t("hours", n=n.notice_period_hours) if n.notice_period_hours else t("without_undue_delay")
        status = ctx.choice("obligation_status", ob.status(ctx.generated_at).value) if ob else ""
        rows.append(
            [
                f"{n.controller_name}\n{n.relationship.controller_siren if n.relationship else ''}".strip(),
                period,
                ctx.dt(ob.due_at, empty="—") if ob else "—",
                ctx.dt(n.informed_at, empty="—"),
                "\n".join(p for p in (n.channel, n.reference) if p),
                status + (f"\n{ob.late_reason}" if ob and ob.late_reason else ""),
                _acknowledged(ctx, n),
            ]
        )
    header = [
        t("controller"),
        t("notice_period"),
        t("due"),
        t("informed_at"),
        f"{t('channel')} / {t('reference')}",
        t("status"),
        t("acknowledged"),
    ]
    out.append(small_table(header, rows, [18, 12, 11, 11, 17, 15, 16]))
    return out
