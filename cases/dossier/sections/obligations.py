"""Section 3: every obligation: rule, legal source, clock start, due date, completion and reasons.

It ends with what the proposals loaded as draft regimes would change (one line each, marked
not in force), in the dossier's language through gettext.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.platypus import CondPageBreak, Flowable

from ...deadlines import DueBasis
from ...regimes import authority_name
from ...selectors.drafts import draft_lines
from ..context import Context
from ..document import Heading
from ..styles import LABEL, SMALL, kv_table, para, spacer

KEY = "s3"


def _anchor(ctx: Context, ob) -> str:
    try:
        rule = ob.rule
    except KeyError:
        rule = None
    label = ctx.choice("anchor", rule.anchor.value) if rule else ""
    when = ctx.dt(ob.anchor_at, empty="")
    return " — ".join(p for p in (label, when) if p) or ctx.t("not_set")


def _due(ctx: Context, ob) -> str:
    deadline = ob.deadline_label_en if ctx.lang == "en" else ob.deadline_label_fr
    due = ctx.dt(ob.due_at, empty="")
    note = {
        DueBasis.INTERNAL_TARGET.value: ctx.t("due_internal"),
        DueBasis.CONTRACT.value: ctx.t("due_contract"),
        DueBasis.AUTHORITY.value: ctx.t("due_authority"),
    }.get(ob.due_basis, "")
    parts = [deadline, due + (f" ({note})" if note and due else "")]
    return " — ".join(p for p in parts if p)


def build(ctx: Context) -> list[Flowable]:
    t = ctx.t
    out: list[Flowable] = [Heading(t("s3"), KEY)]
    if not ctx.data.obligations:
        return [*out, para(t("none"))]
    for ob in ctx.data.obligations:
        title = ob.label(ctx.lang)
        if ob.controller_notice_id:
            title = f"{title} — {ob.controller_notice.controller_name}"
        status = ctx.choice("obligation_status", ob.status(ctx.generated_at).value)
        state = ctx.choice("obligation_state", ob.state)
        decided = ""
        if ob.decided_at:
            decided = f"{ctx.data.username(ob.decided_by_id)} — {ctx.dt(ob.decided_at)}"
        out.append(CondPageBreak(120))
        out.extend(
            kv_table(
                [
                    (t("rule"), f"{title} [{ob.rule_code}]"),
                    (t("authority"), authority_name(ob.authority, ctx.lang)),
                    (t("legal_source"), ob.legal_source),
                    (t("anchor"), _anchor(ctx, ob)),
                    (t("due"), _due(ctx, ob)),
                    (t("done"), ctx.dt(ob.completed_at, empty="—")),
                    (t("status"), f"{status} ({state})"),
                    (t("reference"), ob.reference),
                    (t("late_reason"), ob.late_reason),
                    (t("na_reason"), ob.not_applicable_reason),
                    (t("decided_by"), decided),
                ]
            )
        )
        out.append(spacer(8))
    return [*out, *_drafts(ctx)]


def _drafts(ctx: Context) -> list[Flowable]:
    with translation.override(ctx.lang):
        lines = draft_lines(ctx.case, ctx.data.obligations, ctx.data.notices)
        if not lines:
            return []
        out: list[Flowable] = [para(_("Proposals, not in force"), LABEL)]
        for line in lines:
            out.append(para(" ".join(p for p in (line.text, line.law) if p)))
        out.append(para(_("For comparison only: never used for a deadline, a reminder or the calendar feed."), SMALL))
    return out
