"""Section 4: what was actually filed, with references and receipts."""

from __future__ import annotations

from reportlab.platypus import CondPageBreak, Flowable

from ..context import Context
from ..document import Heading
from ..styles import kv_table, para, spacer

KEY = "s4"


def build(ctx: Context) -> list[Flowable]:
    t = ctx.t
    out: list[Flowable] = [Heading(t("s4"), KEY)]
    if not ctx.data.filings:
        return [*out, para(t("none"))]
    for f in ctx.data.filings:
        receipt = f"{f.evidence.original_name} — SHA-256 {f.evidence.sha256}" if f.evidence else ""
        obligation = f"{f.obligation.label(ctx.lang)} [{f.obligation.rule_code}]" if f.obligation else ""
        out.append(CondPageBreak(100))
        out.extend(
            kv_table(
                [
                    (t("kind"), ctx.choice("filing_kind", f.kind)),
                    (t("sent_at"), ctx.dt(f.sent_at)),
                    (t("channel"), f.channel),
                    (t("recipient"), f.recipient),
                    (t("reference"), f.reference),
                    (t("receipt"), receipt),
                    (t("obligation"), obligation),
                    (t("who"), ctx.data.username(f.created_by_id)),
                    (t("content_sent"), f.content),
                ]
            )
        )
        out.append(spacer(8))
    return out
