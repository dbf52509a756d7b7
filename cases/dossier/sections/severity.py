"""Section 5: the ENISA severity assessment and the decisions taken, with their reasons."""

from __future__ import annotations

from reportlab.platypus import Flowable

from ...severity import data_processing_context
from ..context import Context
from ..document import Heading
from ..styles import ALERT, kv_table, para, spacer

KEY = "s5"


def build(ctx: Context) -> list[Flowable]:
    case, t = ctx.case, ctx.t
    dpc = data_processing_context(case.data_categories or [], case.severity_dpc_adjustment)
    assessed = case.severity_score is not None
    out: list[Flowable] = [
        Heading(t("s5"), KEY),
        para(t("enisa_method")),
        *kv_table(
            [
                (t("data_categories"), ctx.categories("data_category", case.data_categories)),
                (t("dpc"), str(dpc)),
                (t("dpc_adjustment"), f"{case.severity_dpc_adjustment:+d}"),
                (t("ei"), ctx.number(case.severity_ei)),
                (t("cb_confidentiality"), ctx.number(case.severity_cb_confidentiality)),
                (t("cb_integrity"), ctx.number(case.severity_cb_integrity)),
                (t("cb_availability"), ctx.number(case.severity_cb_availability)),
                (t("cb_malicious"), ctx.yes_no(case.severity_cb_malicious)),
                (t("score"), ctx.number(case.severity_score) if assessed else t("not_assessed")),
                (t("level"), ctx.choice("severity_level", case.severity_level) or t("not_assessed")),
            ]
        ),
        spacer(10),
        Heading(t("decisions"), f"{KEY}-decisions", level=1),
        *kv_table(
            [
                (t("decision_authority"), ctx.yes_no(case.notify_authority)),
                (t("reason"), case.notify_authority_reason),
                (t("decided_by"), ctx.data.username(case.notify_authority_decided_by_id)),
                (t("decided_at"), ctx.dt(case.notify_authority_decided_at, empty="—")),
            ]
        ),
        spacer(6),
        *kv_table(
            [
                (t("decision_persons"), ctx.yes_no(case.inform_persons)),
                (t("exemption"), ctx.choice("exemption", case.inform_persons_exemption)),
                (t("reason"), case.inform_persons_reason),
                (t("decided_by"), ctx.data.username(case.inform_persons_decided_by_id)),
                (t("decided_at"), ctx.dt(case.inform_persons_decided_at, empty="—")),
            ]
        ),
    ]
    if case.decision_conflict:
        out += [spacer(6), para(t("decision_conflict"), ALERT)]
    return out
