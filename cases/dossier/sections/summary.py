"""Section 1: the case summarised in the order of the CNIL online notification form."""

from __future__ import annotations

from django.utils.translation import gettext, pgettext
from reportlab.platypus import CondPageBreak, Flowable

from ...models import BreachCase, DataCategory, Filing, MemberCommunication, SubjectCategory
from ..context import Context
from ..document import Heading
from ..styles import fields

KEY = "s1"


def _filing_type(ctx: Context) -> str:
    kinds = [f for f in ctx.data.filings if f.kind in {Filing.Kind.CNIL_INITIAL, Filing.Kind.CNIL_COMPLEMENTARY}]
    if not kinds:
        return gettext("No CNIL notification recorded")
    parts = []
    for f in kinds:
        label = (
            gettext("Initial notification")
            if f.kind == Filing.Kind.CNIL_INITIAL
            else gettext("Complementary notification")
        )
        parts.append(f"{label} — {ctx.dt(f.sent_at)}" + (f" — {f.reference}" if f.reference else ""))
    return "\n".join(parts)


def _circumstances(ctx: Context) -> str:
    case = ctx.case
    flags = [
        (case.breach_confidentiality, gettext("loss of confidentiality")),
        (case.breach_integrity, gettext("loss of integrity")),
        (case.breach_availability, gettext("loss of availability")),
    ]
    return "; ".join(text for on, text in flags if on) or gettext("not recorded")


def _persons_informed(ctx: Context) -> tuple[str, str]:
    case = ctx.case
    sent = [c for c in ctx.data.communications if c.channel != MemberCommunication.Channel.NONE and c.sent_at]
    informed = "\n".join(f"{ctx.dt(c.sent_at)} — {ctx.choice(MemberCommunication.Channel, c.channel)}" for c in sent)
    if not informed:
        informed = ctx.yes_no(case.inform_persons)
    why_not = ""
    if case.inform_persons is False or not sent:
        ground = ctx.choice(BreachCase.Art34Exemption, case.inform_persons_exemption)
        why_not = "\n".join(p for p in (ground, case.inform_persons_reason) if p)
    return informed, why_not


def build(ctx: Context) -> list[Flowable]:
    case, org = ctx.case, ctx.case.organization
    dpo = "\n".join(p for p in (org.dpo_name, org.dpo_email, org.dpo_phone) if p)
    legal_rep = ", ".join(p for p in (org.legal_rep_name, org.legal_rep_title, org.legal_rep_email) if p)
    processor = case.processor.name if case.processor else case.processor_name
    informed, why_not = _persons_informed(ctx)
    groups = [
        (
            "s1_filing",
            gettext("Type of filing and organisation"),
            [
                (gettext("Type of filing"), _filing_type(ctx)),
                (gettext("Organisation"), org.name),
                (gettext("SIREN"), org.siren),
                (gettext("Contact person"), dpo),
                (gettext("Legal representative"), legal_rep),
                (gettext("Data protection officer (DPO)"), dpo),
            ],
        ),
        (
            "s1_nature",
            gettext("Nature of the breach"),
            [
                (gettext("Established or suspected"), ctx.choice(BreachCase.Nature, case.nature)),
                (gettext("Discovery (first signal)"), ctx.dt(case.first_signal_at)),
                (gettext("Awareness (Art. 33(1))"), ctx.dt(case.aware_at)),
                (gettext("Why awareness is dated so"), case.aware_justification),
                (
                    gettext("Knowledge of the security incident"),
                    ctx.dt(case.incident_known_at, empty=ctx.dt(case.aware_at)),
                ),
                (gettext("Start of the breach"), ctx.dt(case.occurred_from)),
                (gettext("End of the breach"), ctx.dt(case.occurred_to)),
                (gettext("Processor alerted us at"), ctx.dt(case.processor_alerted_at, empty="—")),
                (pgettext("dossier", "Still ongoing"), ctx.yes_no(case.ongoing)),
                (gettext("How it was discovered"), case.first_signal_source),
            ],
        ),
        (
            "s1_origin",
            gettext("Origin, circumstances and cause"),
            [
                (gettext("Origin"), ctx.choice(BreachCase.Origin, case.origin)),
                (gettext("Circumstances"), _circumstances(ctx)),
                (gettext("Cause"), ctx.choice(BreachCase.Cause, case.cause)),
                (gettext("Description"), case.description),
            ],
        ),
        ("s1_processors", gettext("Processors involved"), [(gettext("Processor"), processor)]),
        (
            "s1_persons",
            gettext("Persons concerned"),
            [
                (gettext("Categories of persons"), ctx.categories(SubjectCategory, case.subject_categories)),
                (gettext("Approximate number of persons"), ctx.number(case.persons_approx)),
                (gettext("Persons directly identifiable"), ctx.yes_no(case.directly_identifiable)),
            ],
        ),
        (
            "s1_data",
            gettext("Data concerned"),
            [
                (gettext("Categories of data"), ctx.categories(DataCategory, case.data_categories)),
                (pgettext("dossier", "Approximate number of records"), ctx.number(case.records_approx)),
            ],
        ),
        (
            "s1_consequences",
            gettext("Likely consequences and measures"),
            [
                (gettext("Likely consequences"), case.likely_consequences),
                (gettext("Immediate measures"), case.measures_immediate),
                (gettext("Medium-term measures"), case.measures_medium),
                (gettext("Long-term measures"), case.measures_long),
            ],
        ),
        (
            "s1_informed",
            gettext("Information of the persons"),
            [(gettext("Persons informed"), informed), (gettext("Why not informed"), why_not)],
        ),
    ]
    out: list[Flowable] = [Heading(gettext("1. Summary (in the order of the CNIL form)"), KEY)]
    for key, title, pairs in groups:
        out.append(CondPageBreak(80))
        out.append(Heading(title, f"{KEY}-{key}", level=1))
        out.extend(fields(pairs))
    return out
