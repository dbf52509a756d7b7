"""Section 5: the ENISA severity assessment and the decisions taken, with their reasons."""

from __future__ import annotations

from django.utils.translation import gettext, pgettext
from reportlab.platypus import Flowable

from ...models import BreachCase, DataCategory
from ...severity import data_processing_context
from ..context import Context
from ..document import Heading
from ..styles import ALERT, kv_table, para, spacer

KEY = "s5"


def build(ctx: Context) -> list[Flowable]:
    case = ctx.case
    dpc = data_processing_context(case.data_categories or [], case.severity_dpc_adjustment)
    assessed = case.severity_score is not None
    out: list[Flowable] = [
        Heading(gettext("5. Severity assessment and decisions"), KEY),
        para(
            gettext(
                "ENISA (2013) method: severity = data-processing context (DPC) × ease of identification (EI) + "
                "circumstances (CB)."
            )
        ),
        *kv_table(
            [
                (gettext("Categories of data"), ctx.categories(DataCategory, case.data_categories)),
                (gettext("Data-processing context (DPC)"), str(dpc)),
                (gettext("Context adjustment"), f"{case.severity_dpc_adjustment:+d}"),
                (gettext("Ease of identification (EI)"), ctx.number(case.severity_ei)),
                (gettext("Circumstance: confidentiality"), ctx.number(case.severity_cb_confidentiality)),
                (gettext("Circumstance: integrity"), ctx.number(case.severity_cb_integrity)),
                (gettext("Circumstance: availability"), ctx.number(case.severity_cb_availability)),
                (gettext("Circumstance: malicious intent"), ctx.yes_no(case.severity_cb_malicious)),
                (gettext("Severity score"), ctx.number(case.severity_score) if assessed else gettext("not assessed")),
                (
                    gettext("Level"),
                    ctx.choice(BreachCase.SeverityLevel, case.severity_level) or gettext("not assessed"),
                ),
            ]
        ),
        spacer(10),
        Heading(gettext("Decisions"), f"{KEY}-decisions", level=1),
        *kv_table(
            [
                (gettext("Notify the supervisory authority (Art. 33)"), ctx.yes_no(case.notify_authority)),
                (gettext("Reason"), case.notify_authority_reason),
                (gettext("Decided by"), ctx.data.username(case.notify_authority_decided_by_id)),
                (gettext("Decided at"), ctx.dt(case.notify_authority_decided_at, empty="—")),
                (
                    gettext("Recorded at"),
                    ctx.dt(case.notify_authority_recorded_at or case.notify_authority_decided_at, empty="—"),
                ),
            ]
        ),
        spacer(6),
        *kv_table(
            [
                (gettext("Inform the persons concerned (Art. 34)"), ctx.yes_no(case.inform_persons)),
                (
                    gettext("Exemption (Art. 34(3))"),
                    ctx.choice(BreachCase.Art34Exemption, case.inform_persons_exemption),
                ),
                (gettext("Reason"), case.inform_persons_reason),
                (gettext("Decided by"), ctx.data.username(case.inform_persons_decided_by_id)),
                (gettext("Decided at"), ctx.dt(case.inform_persons_decided_at, empty="—")),
                (
                    gettext("Recorded at"),
                    ctx.dt(case.inform_persons_recorded_at or case.inform_persons_decided_at, empty="—"),
                ),
            ]
        ),
    ]
    if case.decision_conflict:
        out += [
            spacer(6),
            para(
                pgettext("dossier", "Warning: high risk, persons not informed and no Art. 34(3) ground relied on."),
                ALERT,
            ),
        ]
    return out
