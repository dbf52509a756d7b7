"""The reports and declarations received by ANSSI / CERT-FR, as data.

NIS2 (Directive (EU) 2022/2555, art. 23(4)): the early warning (24 h, point (a): suspected unlawful
or malicious act, possible cross-border impact), the incident notification (72 h, point (b): an
update of the early warning, an initial assessment with severity and impact, indicators of
compromise where available), the intermediate report on request (point (c)), the final report
(1 month, point (d): detailed description with severity and impact, type of threat or root cause,
mitigation measures applied and ongoing, cross-border impact) and, for an incident still ongoing,
the progress report then the final report after handling (point (e)).

NIS1 (loi n° 2018-133 art. 7, décret n° 2018-384 art. 11) and OIV (code de la défense
art. L1332-6-2) declarations, in the order of ANSSI's incident declaration form: declarant,
entity, incident, systems affected, impact, measures, contacts.

The case knows most answers. What it does not (the essential service or vital-importance system
concerned, the systems affected, the cross-border impact, the indicators of compromise, the root
cause, the contact for the incident) is answered in the draft itself: no column is added to the
case for facts only ANSSI asks. Such an answer, once sent, is carried into the next report of the
same family (the 72 h notification is an update of the early warning, the final report an update
of the notification), so nobody types it twice. ANSSI forms have no EDPB mapping (`edpb` is "").
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..languages import colon, label
from ..models import BreachCase, Filing, Obligation, Submission
from .base import FilingForm, FormField, FormSection
from .cnil import _circumstances, _join, _known, _number, _when, _yes_no

EARLY_WARNING = "nis2_early_warning"
NOTIFICATION = "nis2_notification"
INTERMEDIATE = "nis2_intermediate"
FINAL = "nis2_final"
PROGRESS = "nis2_progress"
FINAL_AFTER_HANDLING = "nis2_final_after_handling"
OSE = "nis1_ose"
OIV = "oiv"

NIS2_KINDS = frozenset({EARLY_WARNING, NOTIFICATION, INTERMEDIATE, FINAL, PROGRESS, FINAL_AFTER_HANDLING})
DECLARATION_KINDS = frozenset({OSE, OIV})
AFTER_WARNING = NIS2_KINDS - {EARLY_WARNING}
FINALS = frozenset({FINAL, FINAL_AFTER_HANDLING})
UPDATES = frozenset({INTERMEDIATE, PROGRESS})

# The report each NIS2 report follows, most recent first: its reference is quoted.
EARLIER_RULES = {
    NOTIFICATION: ("NIS2_24H",),
    INTERMEDIATE: ("NIS2_72H", "NIS2_24H"),
    FINAL: ("NIS2_72H", "NIS2_24H"),
    PROGRESS: ("NIS2_72H", "NIS2_24H"),
    FINAL_AFTER_HANDLING: ("NIS2_PROGRESS", "NIS2_72H", "NIS2_24H"),
}
REPORT_TYPES = {
    EARLY_WARNING: _("Early warning (Art. 23(4)(a))"),
    NOTIFICATION: _("Incident notification (Art. 23(4)(b))"),
    INTERMEDIATE: _("Intermediate report (Art. 23(4)(c))"),
    FINAL: _("Final report (Art. 23(4)(d))"),
    PROGRESS: _("Progress report (Art. 23(4)(e))"),
    FINAL_AFTER_HANDLING: _("Final report after handling of the incident (Art. 23(4)(e))"),
}
REGIMES = {
    OSE: _("Operator of essential services (NIS1: loi n° 2018-133, décret n° 2018-384)"),
    OIV: _("Operator of vital importance (code de la défense, art. L1332-6-2)"),
}


@dataclass(frozen=True)
class Sources:
    """What the answers are read from, loaded once (`sources_for`)."""

    kind: str
    case: BreachCase
    obligations: dict[str, Obligation]  # the case's ANSSI and CNIL obligations by rule code
    carried: dict  # the content of the latest report of the same family sent, {} if none
    complaints: list[Filing]


def sources_for(case: BreachCase, kind: str) -> Sources:
    """Three queries whatever the case: its ANSSI/CNIL obligations, the latest report of the same
    family sent, its complaints."""
    codes = [f.rule_code for f in ANSSI_FORMS] + ["GDPR_33_1"]
    obligations = {
        ob.rule_code: ob for ob in case.obligations.filter(rule_code__in=codes, controller_notice__isnull=True)
    }
    family = NIS2_KINDS if kind in NIS2_KINDS else DECLARATION_KINDS
    latest = (
        case.submissions.filter(kind__in=family, state=Submission.State.SENT)
        .order_by("-sent_at", "-pk")
        .values_list("content", flat=True)
        .first()
    )
    complaints = list(case.filings.filter(kind=Filing.Kind.COMPLAINT).order_by("sent_at", "pk"))
    return Sources(kind, case, obligations, latest or {}, complaints)


def _carried(section: str, key: str):
    """An answer the case does not hold: the one given in the latest report of the family sent, if any."""

    def read(s: Sources) -> str:
        answers = s.carried.get(section)
        value = answers.get(key, "") if isinstance(answers, dict) else ""
        return value if isinstance(value, str) else ""

    return read


def _known_at(s: Sources) -> str:
    return _when(s.case.incident_known_at or s.case.aware_at)


def _suspected_malicious(s: Sources) -> str:
    """From the cause and the ENISA malicious-intent circumstance; "" while the cause is unknown."""
    c = s.case
    if c.severity_cb_malicious or c.cause in {BreachCase.Cause.EXTERNAL_MALICIOUS, BreachCase.Cause.INTERNAL_MALICIOUS}:
        return _join(gettext("Yes"), _known(BreachCase.Cause, c.cause), sep=f"{colon()} ")
    if c.cause in {BreachCase.Cause.EXTERNAL_ACCIDENTAL, BreachCase.Cause.INTERNAL_ACCIDENTAL}:
        return _join(gettext("No"), _known(BreachCase.Cause, c.cause), sep=f"{colon()} ")
    return ""


def _threat(s: Sources) -> str:
    return _join(_known(BreachCase.Origin, s.case.origin), _known(BreachCase.Cause, s.case.cause), sep=" — ")


def _severity(s: Sources) -> str:
    c = s.case
    if not c.severity_level:
        return ""
    level = label(BreachCase.SeverityLevel, c.severity_level)
    if c.severity_score is None:
        return level
    score = formats.number_format(c.severity_score, 2)  # 2,00 in French
    return gettext("%(level)s (score %(score)s, ENISA method)") % {"level": level, "score": score}


def _impact(s: Sources) -> str:
    c = s.case
    lines = [
        _join(gettext("Circumstances"), _circumstances(s), sep=f"{colon()} ") if _circumstances(s) else "",
        _join(gettext("Approximate number of persons"), _number(c.persons_approx), sep=f"{colon()} ")
        if c.persons_approx is not None
        else "",
        _join(gettext("Approximate number of records"), _number(c.records_approx), sep=f"{colon()} ")
        if c.records_approx is not None
        else "",
        c.likely_consequences,
    ]
    return "\n".join(line for line in lines if line)


def _earlier_reference(s: Sources) -> str:
    for code in EARLIER_RULES.get(s.kind, ()):
        ob = s.obligations.get(code)
        if ob is not None and ob.state == Obligation.State.DONE:
            return _join(ob.reference, _when(ob.completed_at))
    return ""


def _cnil_notification(s: Sources) -> str:
    ob = s.obligations.get("GDPR_33_1")
    if ob is None:
        return ""
    if ob.state == Obligation.State.DONE:
        return _join(gettext("Yes"), _when(ob.completed_at), ob.reference)
    if ob.state == Obligation.State.NOT_APPLICABLE:
        return gettext("No")
    return gettext("Not yet")


def _complaint(s: Sources) -> str:
    return "; ".join(
        _join(gettext("Yes"), _when(f.sent_at), f.recipient, f.reference) for f in s.complaints
    ) or gettext("No")


def _f(key, label_, source, *, kinds=frozenset(), **kw) -> FormField:
    return FormField(key=key, label=label_, source=source, edpb="", kinds=frozenset(kinds), **kw)


def _organization(s: Sources):
    return s.case.organization


NIS2_SECTIONS = (
    FormSection(
        "report",
        _("Report and entity"),
        (
            _f("report_type", _("Type of report"), lambda s: str(REPORT_TYPES[s.kind])),
            _f(
                "earlier_reference",
                _("Reference of the earlier report"),
                _earlier_reference,
                kinds=AFTER_WARNING,
                required=False,
            ),
            _f("entity", _("Entity"), lambda s: _organization(s).name),
            _f("siren", _("SIREN"), lambda s: _organization(s).siren),
            _f(
                "entity_type",
                _("Essential or important entity, sector and service concerned"),
                _carried("report", "entity_type"),
            ),
            _f(
                "contact",
                _("Contact for this incident (name, role, phone, e-mail)"),
                _carried("report", "contact"),
                multiline=True,
            ),
        ),
    ),
    FormSection(
        "incident",
        _("The incident"),
        (
            _f("known_at", _("Incident known at"), _known_at),
            _f("first_signal_at", _("Discovery (first signal)"), lambda s: _when(s.case.first_signal_at)),
            _f("started_at", _("Start of the incident"), lambda s: _when(s.case.occurred_from), required=False),
            _f("nature", _("Incident established or suspected"), lambda s: label(BreachCase.Nature, s.case.nature)),
            _f("ongoing", _("Incident still ongoing"), lambda s: _yes_no(s.case.ongoing)),
            _f(
                "handled_at",
                _("Incident handled at"),
                lambda s: _when(s.case.contained_at),
                kinds={FINAL_AFTER_HANDLING},
            ),
            _f("description", _("Description of the incident"), lambda s: s.case.description, multiline=True),
        ),
    ),
    FormSection(
        "malicious_cross_border",
        _("Malicious act and cross-border impact"),
        (
            _f("suspected_malicious", _("Suspected unlawful or malicious act"), _suspected_malicious),
            _f(
                "cross_border",
                _("Cross-border impact (Member States concerned)"),
                _carried("malicious_cross_border", "cross_border"),
                multiline=True,
            ),
        ),
    ),
    FormSection(
        "assessment",
        _("Assessment of the incident"),
        (
            _f("severity", _("Severity"), _severity, kinds=AFTER_WARNING),
            _f("impact", _("Impact"), _impact, kinds=AFTER_WARNING, multiline=True),
            _f(
                "services_affected",
                _("Services and systems affected"),
                _carried("assessment", "services_affected"),
                kinds=AFTER_WARNING,
                multiline=True,
            ),
            _f(
                "indicators",
                _("Indicators of compromise"),
                _carried("assessment", "indicators"),
                kinds=AFTER_WARNING,
                multiline=True,
                required=False,  # "where available", Art. 23(4)(b)
            ),
        ),
    ),
    FormSection(
        "status",
        _("Status of the handling"),
        (
            _f(
                "status_update",
                _("Relevant status updates since the incident notification"),
                None,
                kinds=UPDATES,
                multiline=True,
            ),
        ),
    ),
    FormSection(
        "threat",
        _("Type of threat and root cause"),
        (
            _f("threat_type", _("Type of threat"), _threat, kinds=FINALS | UPDATES, required=False),
            _f(
                "root_cause",
                _("Root cause"),
                _carried("threat", "root_cause"),
                kinds=FINALS,
                multiline=True,
            ),
        ),
    ),
    FormSection(
        "measures",
        _("Mitigation measures"),
        (
            _f(
                "measures_applied",
                _("Mitigation measures applied"),
                lambda s: s.case.measures_immediate,
                kinds=AFTER_WARNING,
                multiline=True,
            ),
            _f(
                "measures_ongoing",
                _("Mitigation measures ongoing"),
                lambda s: _join(s.case.measures_medium, s.case.measures_long, sep="\n"),
                kinds=FINALS,
                multiline=True,
            ),
            _f(
                "measures_ongoing",
                _("Mitigation measures ongoing"),
                lambda s: _join(s.case.measures_medium, s.case.measures_long, sep="\n"),
                kinds=AFTER_WARNING - FINALS,
                multiline=True,
                required=False,
            ),
        ),
    ),
    FormSection(
        "personal_data",
        _("Personal data"),
        (_f("cnil", _("Personal data breach notified to the CNIL"), _cnil_notification, required=False),),
    ),
)

DECLARATION_SECTIONS = (
    FormSection(
        "reporter",
        _("Declarant"),
        (
            _f(
                "reporter",
                _("Declarant (name, role, phone, e-mail)"),
                _carried("reporter", "reporter"),
                multiline=True,
            ),
        ),
    ),
    FormSection(
        "entity",
        _("Entity"),
        (
            _f("entity", _("Entity"), lambda s: _organization(s).name),
            _f("siren", _("SIREN"), lambda s: _organization(s).siren),
            _f("address", _("Address"), lambda s: _organization(s).address, required=False, multiline=True),
            _f("regime", _("Status of the operator"), lambda s: str(REGIMES[s.kind])),
            _f(
                "service",
                _("Essential service concerned"),
                _carried("entity", "service"),
                kinds={OSE},
                multiline=True,
            ),
            _f(
                "service",
                _("Vital-importance information system (SIIV) concerned"),
                _carried("entity", "service"),
                kinds={OIV},
                multiline=True,
            ),
        ),
    ),
    FormSection(
        "incident",
        _("The incident"),
        (
            _f("first_signal_at", _("Discovery (first signal)"), lambda s: _when(s.case.first_signal_at)),
            _f(
                "first_signal_source",
                _("How it was discovered"),
                lambda s: s.case.first_signal_source,
                multiline=True,
            ),
            _f("known_at", _("Incident known at"), _known_at),
            _f("started_at", _("Start of the incident"), lambda s: _when(s.case.occurred_from), required=False),
            _f("ended_at", _("End of the incident"), lambda s: _when(s.case.occurred_to), required=False),
            _f("ongoing", _("Incident still ongoing"), lambda s: _yes_no(s.case.ongoing)),
            _f("nature", _("Incident established or suspected"), lambda s: label(BreachCase.Nature, s.case.nature)),
            _f("suspected_malicious", _("Suspected unlawful or malicious act"), _suspected_malicious),
            _f("threat_type", _("Type of threat"), _threat),
            _f("description", _("Description of the incident"), lambda s: s.case.description, multiline=True),
        ),
    ),
    FormSection(
        "systems",
        _("Systems affected"),
        (
            _f(
                "systems_affected",
                _("Information systems affected"),
                _carried("systems", "systems_affected"),
                multiline=True,
            ),
            _f(
                "indicators",
                _("Indicators of compromise"),
                _carried("systems", "indicators"),
                multiline=True,
                required=False,
            ),
        ),
    ),
    FormSection(
        "impact",
        _("Impact"),
        (
            _f("circumstances", _("Circumstances"), _circumstances),
            _f(
                "service_impact",
                _("Impact on the service (interruption, degradation, duration)"),
                _carried("impact", "service_impact"),
                multiline=True,
            ),
            _f("impact", _("Impact"), _impact, multiline=True, required=False),
            _f("severity", _("Severity"), _severity, required=False),
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
                multiline=True,
            ),
            _f(
                "measures_planned",
                _("Measures planned"),
                lambda s: _join(s.case.measures_medium, s.case.measures_long, sep="\n"),
                multiline=True,
                required=False,
            ),
            _f("complaint", _("Complaint lodged"), _complaint, required=False),
            _f("cnil", _("Personal data breach notified to the CNIL"), _cnil_notification, required=False),
        ),
    ),
    FormSection(
        "contacts",
        _("Contacts"),
        (
            _f(
                "security_contact",
                _("Security contact for ANSSI (name, phone, e-mail)"),
                _carried("contacts", "security_contact"),
                multiline=True,
            ),
            _f(
                "dpo",
                _("Data protection officer (DPO)"),
                lambda s: _join(_organization(s).dpo_name, _organization(s).dpo_email, _organization(s).dpo_phone),
                required=False,
            ),
            _f(
                "legal_rep",
                _("Legal representative"),
                lambda s: _join(
                    _organization(s).legal_rep_name, _organization(s).legal_rep_title, _organization(s).legal_rep_email
                ),
                required=False,
            ),
        ),
    ),
)


def _nis2(kind: str, rule_code: str, title) -> FilingForm:
    return FilingForm(kind, rule_code, title, NIS2_SECTIONS, sources_for, filing_kind=Filing.Kind.NIS2)


ANSSI_FORMS = (
    _nis2(EARLY_WARNING, "NIS2_24H", _("NIS2 early warning")),
    _nis2(NOTIFICATION, "NIS2_72H", _("NIS2 incident notification")),
    _nis2(INTERMEDIATE, "NIS2_INTERMEDIATE", _("NIS2 intermediate report")),
    _nis2(FINAL, "NIS2_FINAL", _("NIS2 final report")),
    _nis2(PROGRESS, "NIS2_PROGRESS", _("NIS2 progress report")),
    _nis2(FINAL_AFTER_HANDLING, "NIS2_FINAL_AFTER_HANDLING", _("NIS2 final report after handling")),
    FilingForm(
        OSE,
        "NIS1_OSE",
        _("ANSSI incident declaration (NIS1 OSE)"),
        DECLARATION_SECTIONS,
        sources_for,
        filing_kind=Filing.Kind.ANSSI,
    ),
    FilingForm(
        OIV,
        "OIV",
        _("ANSSI incident declaration (OIV)"),
        DECLARATION_SECTIONS,
        sources_for,
        filing_kind=Filing.Kind.ANSSI,
    ),
)
