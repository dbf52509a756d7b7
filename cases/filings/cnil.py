"""The CNIL online notification form ("notifier une violation de données personnelles"), as data.

Sections and questions follow the public copy of the form described in
docs/regulations.md (the live form may differ: change the mapping below, nothing else). Each
question says where its answer comes from in the case, whether the form requires it, and which
section of the EDPB common breach-notification template (draft adopted 10 June 2026) it belongs
to, so the same answers can be served in the EDPB's order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from ..deadlines import PARIS
from ..languages import label
from ..models import BreachCase, DataCategory, MemberCommunication, SubjectCategory
from .base import FilingForm, FormField, FormSection

INITIAL = "cnil_initial"
COMPLEMENTARY = "cnil_complementary"

# The sections of the EDPB common template, in its order.
EDPB_SECTIONS = {
    "notification_type": _("Notification type"),
    "parties": _("Parties"),
    "nature_timing": _("Nature and timing"),
    "consequences": _("Consequences"),
    "measures": _("Measures"),
    "communication": _("Communication to data subjects"),
}


@dataclass(frozen=True)
class Sources:
    """What the answers are read from, loaded once (`sources_for`)."""

    kind: str
    case: BreachCase
    communications: list[MemberCommunication]
    initial_reference: str  # the CNIL's reference of the initial notification, for a complementary one


def sources_for(case: BreachCase, kind: str) -> Sources:
    """Two queries whatever the case: its communications and its initial notification's reference."""
    communications = list(case.communications.order_by("sent_at", "pk"))
    initial = case.obligations.filter(rule_code="GDPR_33_1", controller_notice__isnull=True).first()
    return Sources(kind, case, communications, initial.reference if initial else "")


def _when(value: datetime | None) -> str:
    return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M") if value else ""


def _number(value: int | None) -> str:
    return "" if value is None else f"{value:,}".replace(",", "\u00a0")


def _yes_no(value: bool | None) -> str:
    if value is None:
        return ""
    return gettext("Yes") if value else gettext("No")


def _join(*parts: str, sep: str = ", ") -> str:
    return sep.join(p for p in parts if p)


def _filing_type(s: Sources) -> str:
    return gettext("Complementary notification") if s.kind == COMPLEMENTARY else gettext("Initial notification")


def _circumstances(s: Sources) -> str:
    c = s.case
    return _join(
        gettext("loss of confidentiality") if c.breach_confidentiality else "",
        gettext("loss of integrity") if c.breach_integrity else "",
        gettext("loss of availability") if c.breach_availability else "",
    )


def _known(choices, value: str) -> str:
    """A choice's label, "" when it is Unknown (so the question shows as missing)."""
    return "" if value == "unknown" else label(choices, value)


def _persons_informed(s: Sources) -> str:
    sent = [m for m in s.communications if m.sent_at and m.channel != MemberCommunication.Channel.NONE]
    if sent:
        return "; ".join(
            _join(gettext("Yes"), _when(m.sent_at), label(MemberCommunication.Channel, m.channel)) for m in sent
        )
    c = s.case
    if c.inform_persons is None:
        return ""
    if c.inform_persons:
        return gettext("Yes")
    ground = label(BreachCase.Art34Exemption, c.inform_persons_exemption)
    return f"{gettext('No')}: " + " — ".join(p for p in (ground, c.inform_persons_reason) if p)


def _data_flag(*categories: str):
    def read(s: Sources) -> str:
        return _yes_no(any(c in (s.case.data_categories or []) for c in categories))

    return read


def _f(key, label_, source, edpb, **kw) -> FormField:
    return FormField(key=key, label=label_, source=source, edpb=edpb, **kw)


SECTIONS = (
    FormSection(
        "filing",
        _("Type of filing and organisation"),
        (
            _f("filing_type", _("Type of filing"), _filing_type, "notification_type"),
            _f(
                "initial_reference",
                _("Reference of the initial notification"),
                lambda s: s.initial_reference,
                "notification_type",
                kinds=frozenset({COMPLEMENTARY}),
            ),
            _f("organization", _("Organisation"), lambda s: s.case.organization.name, "parties"),
            _f("siren", _("SIREN"), lambda s: s.case.organization.siren, "parties"),
            _f(
                "legal_rep",
                _("Legal representative"),
                lambda s: _join(
                    s.case.organization.legal_rep_name,
                    s.case.organization.legal_rep_title,
                    s.case.organization.legal_rep_email,
                ),
                "parties",
            ),
            _f(
                "dpo",
                _("Data protection officer (DPO)"),
                lambda s: _join(
                    s.case.organization.dpo_name, s.case.organization.dpo_email, s.case.organization.dpo_phone
                ),
                "parties",
            ),
        ),
    ),
    FormSection(
        "nature",
        _("Nature of the breach"),
        (
            _f(
                "nature",
                _("Established or suspected"),
                lambda s: label(BreachCase.Nature, s.case.nature),
                "nature_timing",
            ),
            _f(
                "first_signal_at",
                _("Discovery (first signal)"),
                lambda s: _when(s.case.first_signal_at),
                "nature_timing",
            ),
            _f(
                "first_signal_source",
                _("How it was discovered"),
                lambda s: s.case.first_signal_source,
                "nature_timing",
                multiline=True,
            ),
            _f("aware_at", _("Awareness (Art. 33(1))"), lambda s: _when(s.case.aware_at), "nature_timing"),
            _f(
                "occurred_from",
                _("Start of the breach"),
                lambda s: _when(s.case.occurred_from),
                "nature_timing",
                required=False,
            ),
            _f(
                "occurred_to",
                _("End of the breach"),
                lambda s: _when(s.case.occurred_to),
                "nature_timing",
                required=False,
            ),
            _f(
                "ongoing", pgettext_lazy("dossier", "Still ongoing"), lambda s: _yes_no(s.case.ongoing), "nature_timing"
            ),
            _f(
                "processor_alerted_at",
                _("Processor alerted us at"),
                lambda s: _when(s.case.processor_alerted_at),
                "nature_timing",
                required=False,
            ),
        ),
    ),
    FormSection(
        "origin",
        _("Origin, circumstances and cause"),
        (
            _f("origin", _("Origin"), lambda s: _known(BreachCase.Origin, s.case.origin), "nature_timing"),
            _f("circumstances", _("Circumstances"), _circumstances, "nature_timing"),
            _f("cause", _("Cause"), lambda s: _known(BreachCase.Cause, s.case.cause), "nature_timing"),
            _f("description", _("Description"), lambda s: s.case.description, "nature_timing", multiline=True),
        ),
    ),
    FormSection(
        "processors",
        _("Processors involved"),
        (
            _f(
                "processor",
                _("Processor"),
                lambda s: _join(s.case.processor.name if s.case.processor_id else "", s.case.processor_name),
                "parties",
                required=False,
            ),
        ),
    ),
    FormSection(
        "persons",
        _("Persons concerned"),
        (
            _f(
                "subject_categories",
                _("Categories of persons"),
                lambda s: "; ".join(label(SubjectCategory, c) for c in s.case.subject_categories or []),
                "nature_timing",
            ),
            _f(
                "persons_approx",
                _("Approximate number of persons"),
                lambda s: _number(s.case.persons_approx),
                "nature_timing",
            ),
            _f(
                "directly_identifiable",
                _("Persons directly identifiable"),
                lambda s: _yes_no(s.case.directly_identifiable),
                "nature_timing",
            ),
        ),
    ),
    FormSection(
        "data",
        _("Data concerned"),
        (
            _f(
                "data_categories",
                _("Categories of data"),
                lambda s: "; ".join(label(DataCategory, c) for c in s.case.data_categories or []),
                "nature_timing",
            ),
            _f("nir", _("Social security number (NIR)"), _data_flag(DataCategory.NIR), "nature_timing"),
            _f(
                "sensitive",
                _("Sensitive data (Art. 9 / 10)"),
                _data_flag(DataCategory.HEALTH, DataCategory.SENSITIVE_OTHER),
                "nature_timing",
            ),
            _f(
                "records_approx",
                pgettext_lazy("dossier", "Approximate number of records"),
                lambda s: _number(s.case.records_approx),
                "nature_timing",
            ),
            _f("media", _("Media concerned (servers, paper, devices)"), None, "nature_timing", required=False),
        ),
    ),
    FormSection(
        "consequences",
        _("Likely consequences"),
        (
            _f(
                "likely_consequences",
                _("Likely consequences"),
                lambda s: s.case.likely_consequences,
                "consequences",
                multiline=True,
            ),
            _f(
                "severity",
                _("Severity (ENISA method)"),
                lambda s: label(BreachCase.SeverityLevel, s.case.severity_level) if s.case.severity_level else "",
                "consequences",
                required=False,
            ),
        ),
    ),
    FormSection(
        "measures",
        _("Measures"),
        (
            _f(
                "measures_immediate",
                _("Immediate measures"),
                lambda s: s.case.measures_immediate,
                "measures",
                multiline=True,
            ),
            _f(
                "measures_medium",
                _("Medium-term measures"),
                lambda s: s.case.measures_medium,
                "measures",
                multiline=True,
            ),
            _f(
                "measures_long",
                _("Long-term measures"),
                lambda s: s.case.measures_long,
                "measures",
                multiline=True,
                required=False,
            ),
            _f(
                "delay_reasons",
                _("Reasons for the delay (Art. 33(1))"),
                None,
                "notification_type",
                multiline=True,
                required=False,
            ),
        ),
    ),
    FormSection(
        "information",
        _("Information of the persons"),
        (_f("persons_informed", _("Persons informed"), _persons_informed, "communication"),),
    ),
)

CNIL_INITIAL = FilingForm(INITIAL, "GDPR_33_1", _("CNIL initial notification"), SECTIONS, sources_for)
CNIL_COMPLEMENTARY = FilingForm(COMPLEMENTARY, "GDPR_33_4", _("CNIL complementary notification"), SECTIONS, sources_for)
