"""Section 6: communications to the persons concerned (Art. 34): channel, date, recipients, text or exemption."""

from __future__ import annotations

from reportlab.platypus import CondPageBreak, Flowable

from ..context import Context
from ..document import Heading
from ..styles import kv_table, para, spacer

KEY = "s6"


def build(ctx: Context) -> list[Flowable]:
    t = ctx.t
    out: list[Flowable] = [Heading(t("s6"), KEY)]
    if not ctx.data.communications:
        return [*out, para(t("none"))]
    for c in ctx.data.communications:
        proof = f"{c.evidence.original_name} — SHA-256 {c.evidence.sha256}" if c.evidence else ""
        out.append(CondPageBreak(100))
        out.extend(
            kv_table(
                [
                    (t("channel"), ctx.choice("channel", c.channel)),
                    (t("sent_at"), ctx.dt(c.sent_at, empty="—")),
                    (t("recipients_count"), ctx.number(c.recipients_count)),
                    (t("exemption"), ctx.choice("exemption", c.exemption)),
                    (t("exemption_reason"), c.exemption_reason),
                    (t("receipt"), proof),
                    (t("who"), ctx.data.username(c.created_by_id)),
                    (t("text_sent"), c.text),
                ]
            )
        )
        out.append(spacer(8))
    return out
