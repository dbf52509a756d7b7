"""Section 1: the case summarised in the order of the CNIL online notification form."""

from __future__ import annotations

from reportlab.platypus import CondPageBreak, Flowable

from ...models import Filing, MemberCommunication
from ..context import Context
from ..document import Heading
from ..styles import fields

KEY = "s1"


def _filing_type(ctx: Context) -> str:
    kinds = [f for f in ctx.data.filings if f.kind in {Filing.Kind.CNIL_INITIAL, Filing.Kind.CNIL_COMPLEMENTARY}]
    if not kinds:
        return ctx.t("filing_none")
    parts = []
    for f in kinds:
        label = ctx.t("filing_initial") if f.kind == Filing.Kind.CNIL_INITIAL else ctx.t("filing_complementary")
        parts.append(f"{label} — {ctx.dt(f.sent_at)}" + (f" — {f.reference}" if f.reference else ""))
    return "\n".join(parts)


def _circumstances(ctx: Context) -> str:
    case = ctx.case
    flags = [
        (case.breach_confidentiality, "confidentiality"),
        (case.breach_integrity, "integrity"),
        (case.breach_availability, "availability"),
    ]
    return "; ".join(ctx.t(key) for on, key in flags if on) or ctx.t("not_set")


def _persons_informed(ctx: Context) -> tuple[str, str]:
    case = ctx.case
    sent = [c for c in ctx.data.communications if c.channel != MemberCommunication.Channel.NONE and c.sent_at]
    informed = "\n".join(f"{ctx.dt(c.sent_at)} — {ctx.choice('channel', c.channel)}" for c in sent)
    if not informed:
        informed = ctx.yes_no(case.inform_persons)
    why_not = ""
    if case.inform_persons is False or not sent:
        ground = ctx.choice("exemption", case.inform_persons_exemption)
        why_not = "\n".join(p for p in (ground, case.inform_persons_reason) if p)
    return informed, why_not


def build(ctx: Context) -> list[Flowable]:
    case, org = ctx.case, ctx.case.organization
    dpo = "\n".join(p for p in (org.dpo_name, org.dpo_email, org.dpo_phone) if p)
    legal_rep = ", ".join(p for p in (org.legal_rep_name, org.legal_rep_title, org.legal_rep_email) if p)
    processor = case.processor.name if case.processor else case.processor_name
    informed, why_not = _persons_informed(ctx)
    t = ctx.t
    groups = [
        (
            "s1_filing",
            [
                (t("filing_type"), _filing_type(ctx)),
                (t("organisation"), org.name),
                (t("siren"), org.siren),
                (t("contact"), dpo),
                (t("legal_rep"), legal_rep),
                (t("dpo"), dpo),
            ],
        ),
        (
            "s1_nature",
            [
                (t("nature"), ctx.choice("nature", case.nature)),
                (t("first_signal_at"), ctx.dt(case.first_signal_at)),
                (t("aware_at"), ctx.dt(case.aware_at)),
                (t("aware_justification"), case.aware_justification),
                (t("incident_known_at"), ctx.dt(case.incident_known_at, empty=ctx.dt(case.aware_at))),
                (t("occurred_from"), ctx.dt(case.occurred_from)),
                (t("occurred_to"), ctx.dt(case.occurred_to)),
                (t("processor_alerted_at"), ctx.dt(case.processor_alerted_at, empty="—")),
                (t("ongoing"), ctx.yes_no(case.ongoing)),
                (t("first_signal_source"), case.first_signal_source),
            ],
        ),
        (
            "s1_origin",
            [
                (t("origin"), ctx.choice("origin", case.origin)),
                (t("circumstances"), _circumstances(ctx)),
                (t("cause"), ctx.choice("cause", case.cause)),
                (t("description"), case.description),
            ],
        ),
        ("s1_processors", [(t("processor"), processor)]),
        (
            "s1_persons",
            [
                (t("subject_categories"), ctx.categories("subject_category", case.subject_categories)),
                (t("persons_approx"), ctx.number(case.persons_approx)),
                (t("directly_identifiable"), ctx.yes_no(case.directly_identifiable)),
            ],
        ),
        (
            "s1_data",
            [
                (t("data_categories"), ctx.categories("data_category", case.data_categories)),
                (t("records_approx"), ctx.number(case.records_approx)),
            ],
        ),
        (
            "s1_consequences",
            [
                (t("likely_consequences"), case.likely_consequences),
                (t("measures_immediate"), case.measures_immediate),
                (t("measures_medium"), case.measures_medium),
                (t("measures_long"), case.measures_long),
            ],
        ),
        ("s1_informed", [(t("persons_informed"), informed), (t("persons_not_informed"), why_not)]),
    ]
    out: list[Flowable] = [Heading(t("s1"), KEY)]
    for key, pairs in groups:
        out.append(CondPageBreak(80))
        out.append(Heading(t(key), f"{KEY}-{key}", level=1))
        out.extend(fields(pairs))
    return out
