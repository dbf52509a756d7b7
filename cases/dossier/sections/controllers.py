"""Section 7: for a processor's case, each controller to inform and when it was; else where the case came from."""

from __future__ import annotations

from django.utils.translation import gettext, pgettext
from reportlab.platypus import Flowable

from ...deadlines import STATUS_LABELS
from ..context import Context
from ..document import Heading
from ..styles import para, small_table, spacer

KEY = "s7"


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
    notices = ctx.data.notices
    if not notices:
        if not case.source_notice_id:
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
        pgettext("dossier", "Controller"),
        gettext("Contractual notice period"),
        gettext("Due"),
        gettext("Informed at"),
        f"{gettext('Channel')} / {gettext('Reference')}",
        gettext("Status"),
        pgettext("dossier", "Controller's case"),
    ]
    out.append(small_table(header, rows, [18, 12, 11, 11, 17, 15, 16]))
    return out
