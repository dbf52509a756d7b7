"""Section 3: every obligation: rule, legal source, clock start, due date, completion and reasons.

It ends with what the proposals loaded as draft regimes would change (one line each, marked
not in force), in the dossier's language (the whole dossier is built under `translation.override`).
"""

from __future__ import annotations

from django.utils.translation import gettext, pgettext
from reportlab.platypus import CondPageBreak, Flowable

from ...deadlines import STATUS_LABELS, DueBasis
from ...models import Obligation
from ...regimes import ANCHOR_LABELS, AUTHORITY_LABELS
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
    label = ctx.choice(ANCHOR_LABELS, rule.anchor.value) if rule else ""
    when = ctx.dt(ob.anchor_at, empty="")
    return " — ".join(p for p in (label, when) if p) or gettext("not recorded")


def _due(ctx: Context, ob) -> str:
    deadline = ob.deadline_label_en if ctx.lang == "en" else ob.deadline_label_fr
    due = ctx.dt(ob.due_at, empty="")
    note = {
        DueBasis.INTERNAL_TARGET.value: gettext("the organisation's internal target"),
        DueBasis.CONTRACT.value: gettext("contractual notice period"),
        DueBasis.AUTHORITY.value: gettext("date set by the authority"),
    }.get(ob.due_basis, "")
    parts = [deadline, due + (f" ({note})" if note and due else "")]
    return " — ".join(p for p in parts if p)


def build(ctx: Context) -> list[Flowable]:
    out: list[Flowable] = [Heading(gettext("3. Obligations and deadlines"), KEY)]
    if not ctx.data.obligations:
        return [*out, para(gettext("None."))]
    for ob in ctx.data.obligations:
        title = ob.label(ctx.lang)
        if ob.controller_notice_id:
            title = f"{title} — {ob.controller_notice.controller.name}"
        status = ctx.choice(STATUS_LABELS, ob.status(ctx.generated_at).value)
        state = ctx.choice(Obligation.State, ob.state)
        decided = ""
        if ob.decided_at:
            decided = f"{ctx.data.username(ob.decided_by_id)} — {ctx.dt(ob.decided_at)}"
        out.append(CondPageBreak(120))
        out.extend(
            kv_table(
                [
                    (gettext("Rule"), f"{title} [{ob.rule_code}]"),
                    (gettext("Recipient authority"), ctx.choice(AUTHORITY_LABELS, ob.authority)),
                    (gettext("Legal source"), ob.legal_source),
                    (gettext("Clock started by"), _anchor(ctx, ob)),
                    (gettext("Due"), _due(ctx, ob)),
                    (pgettext("dossier", "Done at"), ctx.dt(ob.completed_at, empty="—")),
                    (gettext("Status"), f"{status} ({state})"),
                    (gettext("Reference"), ob.reference),
                    (gettext("Reasons for the delay"), ob.late_reason),
                    (gettext("Why not applicable"), ob.not_applicable_reason),
                    (gettext("Decided by"), decided),
                ]
            )
        )
        out.append(spacer(8))
    return [*out, *_drafts(ctx)]


def _drafts(ctx: Context) -> list[Flowable]:
    lines = draft_lines(ctx.case, ctx.data.obligations, ctx.data.notices)
    if not lines:
        return []
    out: list[Flowable] = [para(gettext("Proposals, not in force"), LABEL)]
    for line in lines:
        out.append(para(" ".join(p for p in (line.text, line.law) if p)))
    out.append(para(gettext("For comparison only: never used for a deadline, a reminder or the calendar feed."), SMALL))
    return out
