"""Section 4: what was actually filed, with references and receipts."""

from __future__ import annotations

from django.utils.translation import gettext
from reportlab.platypus import CondPageBreak, Flowable

from ...models import Filing
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
        out.append(spacer(8))
    return out
