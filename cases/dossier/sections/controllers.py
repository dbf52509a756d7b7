"""Section 7: for a processor's case, each controller to inform and when it was; else where the case came from."""

from __future__ import annotations

from reportlab.platypus import Flowable

from ..context import Context
from ..document import Heading
from ..styles import para, small_table, spacer

KEY = "s7"


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
        own_case = getattr(n, "controller_case", None)
        rows.append(
            [
                f"{n.controller.name}\n{n.controller.siren}".strip(),
                period,
                ctx.dt(ob.due_at, empty="—") if ob else "—",
                ctx.dt(n.informed_at, empty="—"),
                "\n".join(p for p in (n.channel, n.reference) if p),
                status + (f"\n{ob.late_reason}" if ob and ob.late_reason else ""),
                own_case.reference if own_case else "",
            ]
        )
    header = [
        t("controller"),
        t("notice_period"),
        t("due"),
        t("informed_at"),
        f"{t('channel')} / {t('reference')}",
        t("status"),
        t("controller_case"),
    ]
    out.append(small_table(header, rows, [18, 12, 11, 11, 17, 15, 16]))
    return out
