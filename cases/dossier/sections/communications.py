"""Section 6: communications to the persons concerned (Art. 34): channel, date, recipients, text or exemption."""

from __future__ import annotations

from django.utils.translation import gettext
from reportlab.platypus import CondPageBreak, Flowable

from ...models import BreachCase, MemberCommunication
from ..context import Context
from ..document import Heading
from ..styles import kv_table, para, spacer
from .filings import submission_annex

KEY = "s6"


def build(ctx: Context) -> list[Flowable]:
    out: list[Flowable] = [Heading(gettext("6. Communication to the persons concerned"), KEY)]
    if not ctx.data.communications:
        return [*out, para(gettext("None."))]
    for c in ctx.data.communications:
        proof = f"{c.evidence.original_name} — SHA-256 {c.evidence.sha256}" if c.evidence else ""
        out.append(CondPageBreak(100))
        out.extend(
            kv_table(
                [
                    (gettext("Channel"), ctx.choice(MemberCommunication.Channel, c.channel)),
                    (gettext("Sent at"), ctx.dt(c.sent_at, empty="—")),
                    (gettext("Number of recipients"), ctx.number(c.recipients_count)),
                    (gettext("Exemption (Art. 34(3))"), ctx.choice(BreachCase.Art34Exemption, c.exemption)),
                    (gettext("Reasoning of the exemption"), c.exemption_reason),
                    (gettext("Receipt / proof"), proof),
                    (gettext("Recorded at"), ctx.dt(c.created_at)),
                    (gettext("Who"), ctx.data.username(c.created_by_id)),
                    (gettext("Text sent"), c.text),
                ]
            )
        )
        letter = ctx.data.letters.get(c.pk)
        if letter is not None:  # the Art. 34 letter drafted, approved and sent from the register
            out.extend(submission_annex(ctx, letter))
        out.append(spacer(8))
    return out
