"""The DORA reports of a major ICT-related incident, as data: the fields of Commission Implementing
Regulation (EU) 2025/302, annex II, numbered as there, and the JSON the ESAs' schema validates.

One table (`ITS_FIELDS`) says for each field its number, its question, its section (1 general
information, 2 initial notification, 3 intermediate report, 4 final report), where its answer comes
from (the case and its `DoraFacts`), the reports it belongs to, and where it goes in the JSON report
(`report_json`). The three forms (initial, intermediate, final) are built from it. Coded answers hold
the schema's values, comma-separated; dates and times are ISO 8601; yes/no questions read "yes"/"no";
so the submission's text answers are exactly what `report_json` turns into the report, and an answer
edited into something the schema refuses is caught before sending (`export_errors`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from jsonschema import Draft7Validator, Draft202012Validator, validators
from jsonschema.exceptions import best_match

from .. import dora_schema as ds
from ..deadlines import PARIS
from ..models import BreachCase, DoraFacts
from .base import FilingForm, FormField, FormSection

INITIAL = "dora_initial"
INTERMEDIATE = "dora_intermediate"
FINAL = "dora_final"
KINDS = (INITIAL, INTERMEDIATE, FINAL)
SUBMISSION_TYPE = {INITIAL: "initial_notification", INTERMEDIATE: "intermediate_report", FINAL: "final_report"}
_FROM_INTERMEDIATE = frozenset({INTERMEDIATE, FINAL})
_FINAL_ONLY = frozenset({FINAL})


@dataclass(frozen=True)
class Sources:
    kind: str
    case: BreachCase
    facts: DoraFacts  # unsaved and blank when the case has none yet


def sources_for(case: BreachCase, kind: str) -> Sources:
    """One query: the case's DORA facts (the organisation comes with the case)."""
    facts = DoraFacts.objects.filter(case_id=case.pk).first() or DoraFacts(case=case)
    return Sources(kind, case, facts)


# --- how answers are written in the submission ---------------------------------------------------


def when(value: datetime | None) -> str:
    return value.astimezone(PARIS).isoformat(timespec="seconds") if value else ""


def yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def number(value) -> str:
    if value is None:
        return ""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def codes(values) -> str:
    return ", ".join(values or [])


# --- the fields of the ITS annex -----------------------------------------------------------------


@dataclass(frozen=True)
class ItsField:
    number: str
    key: str
    label: Any
    path: tuple  # where the answer goes in the JSON report ("criterion", <criterion>, key): in that criterion
    type: str  # text, datetime, bool, int, number, percentage, code, codes
    source: Any
    kinds: frozenset[str] = frozenset()
    required: bool = False
    multiline: bool = False


def _fact(name: str, fmt=None):
    def read(s: Sources) -> str:
        value = getattr(s.facts, name)
        if fmt is not None:
            return fmt(value)
        return "" if value is None else str(value)

    return read


def _contact(name: str, fallback: str):
    return lambda s: getattr(s.facts, name) or getattr(s.case.organization, fallback)


_numbered = lazy(lambda n, text: f"{n} {text}", str)

ITS_FIELDS: tuple[ItsField, ...] = (
    # 1. General information
    ItsField(
        "1.1",
        "submission_type",
        _("Type of submission"),
        ("incidentSubmission",),
        "code",
        lambda s: SUBMISSION_TYPE[s.kind],
        required=True,
    ),
    ItsField(
        "1.2",
        "entity_name",
        _("Name of the entity submitting the report"),
        ("submittingEntity", "name"),
        "text",
        lambda s: s.case.organization.name,
        required=True,
    ),
    ItsField(
        "1.3",
        "entity_lei",
        _("LEI of the entity submitting the report"),
        ("submittingEntity", "LEI"),
        "text",
        _fact("lei"),
        required=True,
    ),
    ItsField(
        "1.4",
        "affected_type",
        _("Type of financial entity affected"),
        ("affectedEntity", 0, "affectedEntityType"),
        "codes",
        _fact("entity_type"),
        required=True,
    ),
    ItsField(
        "1.5",
        "affected_name",
        _("Name of the financial entity affected"),
        ("affectedEntity", 0, "name"),
        "text",
        lambda s: s.case.organization.name,
        required=True,
    ),
    ItsField(
        "1.6",
        "affected_lei",
        _("LEI of the financial entity affected"),
        ("affectedEntity", 0, "LEI"),
        "text",
        _fact("lei"),
        required=True,
    ),
    ItsField(
        "1.7",
        "contact_name",
        _("Primary contact: name"),
        ("primaryContact", "name"),
        "text",
        _contact("contact_name", "dpo_name"),
        required=True,
    ),
    ItsField(
        "1.8",
        "contact_email",
        _("Primary contact: e-mail"),
        ("primaryContact", "email"),
        "text",
        _contact("contact_email", "dpo_email"),
        required=True,
    ),
    ItsField(
        "1.9",
        "contact_phone",
        _("Primary contact: telephone"),
        ("primaryContact", "phone"),
        "text",
        _contact("contact_phone", "dpo_phone"),
        required=True,
    ),
    ItsField(
        "1.10",
        "second_contact_name",
        _("Second contact: name"),
        ("secondaryContact", "name"),
        "text",
        _fact("second_contact_name"),
    ),
    ItsField(
        "1.11",
        "second_contact_email",
        _("Second contact: e-mail"),
        ("secondaryContact", "email"),
        "text",
        _fact("second_contact_email"),
    ),
    ItsField(
        "1.12",
        "second_contact_phone",
        _("Second contact: telephone"),
        ("secondaryContact", "phone"),
        "text",
        _fact("second_contact_phone"),
    ),
    ItsField(
        "1.13",
        "parent_name",
        _("Ultimate parent undertaking: name"),
        ("ultimateParentUndertaking", "name"),
        "text",
        _fact("parent_name"),
    ),
    ItsField(
        "1.14",
        "parent_lei",
        _("Ultimate parent undertaking: LEI"),
        ("ultimateParentUndertaking", "LEI"),
        "text",
        _fact("parent_lei"),
    ),
    ItsField(
        "1.15", "currency", _("Reporting currency"), ("reportCurrency",), "code", _fact("currency"), required=True
    ),
    # 2. Initial notification
    ItsField(
        "2.1",
        "incident_code",
        _("Incident reference code given by the financial entity"),
        ("incident", "financialEntityCode"),
        "text",
        lambda s: s.case.reference,
        required=True,
    ),
    ItsField(
        "2.2",
        "detected_at",
        _("Date and time of detection of the incident"),
        ("incident", "detectionDateTime"),
        "datetime",
        lambda s: when(s.case.incident_known_at or s.case.first_signal_at),
        required=True,
    ),
    ItsField(
        "2.3",
        "classified_at",
        _("Date and time of classification of the incident as major"),
        ("incident", "classificationDateTime"),
        "datetime",
        lambda s: when(s.case.dora_classified_at),
        required=True,
    ),
    ItsField(
        "2.4",
        "description",
        _("Description of the incident"),
        ("incident", "incidentDescription"),
        "text",
        lambda s: s.case.description,
        required=True,
        multiline=True,
    ),
    ItsField(
        "2.5",
        "criteria",
        _("Classification criteria met"),
        ("criteria",),
        "codes",
        _fact("criteria", codes),
        required=True,
    ),
    ItsField(
        "2.6",
        "countries",
        _("Member States affected (geographical spread)"),
        ("criterion", "geographical_spread", "countryCodeMaterialityThresholds"),
        "codes",
        _fact("countries", codes),
    ),
    ItsField(
        "2.7",
        "discovery",
        _("How the incident was discovered"),
        ("incident", "incidentDiscovery"),
        "code",
        _fact("discovery"),
        required=True,
    ),
    ItsField(
        "2.8",
        "third_party_origin",
        _("Originates from a third-party provider or another financial entity"),
        ("incident", "originatesFromThirdPartyProvider"),
        "text",
        _fact("third_party_origin"),
        multiline=True,
    ),
    ItsField(
        "2.9",
        "business_continuity",
        _("Business continuity plan activated"),
        ("incident", "isBusinessContinuityActivated"),
        "bool",
        _fact("business_continuity_activated", yes_no),
        required=True,
    ),
    ItsField(
        "2.10",
        "other_information",
        _("Other information"),
        ("incident", "otherInformation"),
        "text",
        _fact("other_information"),
        multiline=True,
    ),
    # 3. Intermediate report
    ItsField(
        "3.1",
        "authority_code",
        _("Competent authority"),
        ("incident", "competentAuthorityCode"),
        "text",
        lambda s: s.case.organization.dora_authority.upper(),
        _FROM_INTERMEDIATE,
        required=True,
    ),
    ItsField(
        "3.2",
        "occurred_at",
        _("Date and time of occurrence of the incident"),
        ("incident", "incidentOccurrenceDateTime"),
        "datetime",
        lambda s: when(s.case.occurred_from),
        _FROM_INTERMEDIATE,
        required=True,
    ),
    ItsField(
        "3.3",
        "restored_at",
        _("Services restored at"),
        ("impactAssessment", "serviceImpact", "serviceRestorationDateTime"),
        "datetime",
        _fact("restored_at", when),
        _FROM_INTERMEDIATE,
    ),
    ItsField(
        "3.4",
        "clients_number",
        _("Clients affected: number"),
        ("impactAssessment", "affectedAssets", "affectedClients", "number"),
        "int",
        _fact("clients_affected"),
        _FROM_INTERMEDIATE,
    ),
    ItsField(
        "3.5",
        "clients_percentage",
        _("Clients affected: percentage"),
        ("impactAssessment", "affectedAssets", "affectedClients", "percentage"),
        "percentage",
        _fact("clients_affected_pct", number),
        _FROM_INTERMEDIATE,
    ),
    ItsField(
        "3.6",
        "counterparts_number",
        _("Financial counterparts affected: number"),
        ("impactAssessment", "affectedAssets", "affectedFinancialCounterparts", "number"),
        "int",
        _fact("counterparts_affected"),
        _FROM_INTERMEDIATE,
    ),
    ItsField(
        "3.7",
        "counterparts_percentage",
        _("Financial counterparts affected: percentage"),
        ("impactAssessment", "affectedAssets", "affectedFinancialCounterparts", "percentage"),
        "percentage",
        _fact("counterparts_affected_pct", number),
        _FROM_INTERMEDIATE,
    ),
    ItsField(
        "3.8",
        "relevant_clients",
        _("Impact on relevant clients or counterparts"),
        ("impactAssessment", "hasImpactOnRelevantClients"),
        "bool",
        _fact("relevant_clients_impact", yes_no),
        _FROM_INTERMEDIATE,
    ),
    ItsField(
        "3.9",
        "transactions_number",
        _("Transactions affected: number"),
        ("impactAssessment", "affectedAssets", "affectedTransactions", "number"),
        "int",
        _fact("transactions_affected"),
        _FROM_INTERMEDIATE,
    ),
    ItsField(
        "3.10",
        "transactions_percentage",
        _("Transactions affected: percentage"),
        ("impactAssessment", "affectedAssets", "affectedTransactions", "percentage"),
        "percentage",
        _fact("transactions_affected_pct", number),
        _FROM_INTERMEDIATE,
    ),
    ItsField(
        "3.11",
        "transactions_value",
        _("Value of the transactions affected"),
        ("impactAssessment", "affectedAssets", "valueOfAffectedTransactions"),
        "number",
        _fact("transactions_value", number),
        _FROM_INTERMEDIATE,
    ),
    ItsField(
        "3.12",
        "figures",
        _("Actual figures or estimates"),
        ("impactAssessment", "affectedAssets", "numbersActualEstimate"),
        "codes",
        _fact("figures", codes),
        _FROM_INTERMEDIATE,
        required=True,
    ),
    ItsField(
        "3.13",
        "reputational_impact",
        _("Reputational impact"),
        ("criterion", "reputational_impact", "reputationalImpactType"),
        "codes",
        _fact("reputational_impact", codes),
        _FROM_INTERMEDIATE,
    ),
    ItsField(
        "3.14",
        "reputational_description",
        _("Reputational impact: description"),
        ("criterion", "reputational_impact", "reputationalImpactDescription"),
        "text",
        _fact("reputational_description"),
        _FROM_INTERMEDIATE,
        multiline=True,
    ),
    ItsField(
        "3.15",
        "duration",
        _("Duration of the incident (DDD:HH:MM)"),
        ("incident", "incidentDuration"),
        "text",
        _fact("duration"),
        _FROM_INTERMEDIATE,
        required=True,
    ),
    ItsField(
        "3.16",
        "downtime",
        _("Service downtime (DDD:HH:MM)"),
        ("impactAssessment", "serviceImpact", "serviceDowntime"),
        "text",
        _fact("downtime"),
        _FROM_INTERMEDIATE,
        required=True,
    ),
    ItsField(
        "3.17",
        "duration_information",
        _("Duration and downtime: actual or estimated"),
        ("informationDurationServiceDowntimeActualOrEstimate",),
        "code",
        _fact("duration_information"),
        _FROM_INTERMEDIATE,
        required=True,
    ),
    ItsField(
        "3.18",
        "member_state_impacts",
        _("Type of impact in the Member States"),
        ("criterion", "geographical_spread", "memberStatesImpactType"),
        "codes",
        _fact("member_state_impacts", codes),
        _FROM_INTERMEDIATE,
    ),
    ItsField(
        "3.19",
        "member_state_description",
        _("Impact in the Member States: description"),
        ("criterion", "geographical_spread", "memberStatesImpactTypeDescription"),
        "text",
        _fact("member_state_description"),
        _FROM_INTERMEDIATE,
        multiline=True,
    ),
    ItsField(
        "3.20",
        "data_losses",
        _("Data losses: availability, authenticity, integrity, confidentiality"),
        ("criterion", "data_losses", "dataLosseMaterialityThresholds"),
        "codes",
        _fact("data_losses", codes),
        _FROM_INTERMEDIATE,
    ),
    ItsField(
        "3.21",
        "data_losses_description",
        _("Data losses: description"),
        ("criterion", "data_losses", "dataLossesDescription"),
        "text",
        _fact("data_losses_description"),
        _FROM_INTERMEDIATE,
        multiline=True,
    ),
    ItsField(
        "3.22",
        "critical_services",
        _("Critical services affected"),
        ("impactAssessment", "criticalServicesAffected"),
        "text",
        _fact("critical_services"),
        _FROM_INTERMEDIATE,
        required=True,
        multiline=True,
    ),
    ItsField(
        "3.23",
        "incident_types",
        _("Type of incident"),
        ("incident", "incidentType", "incidentClassification"),
        "codes",
        _fact("incident_types", codes),
        _FROM_INTERMEDIATE,
        required=True,
    ),
    ItsField(
        "3.24",
        "incident_type_other",
        _("Other type of incident"),
        ("incident", "incidentType", "otherIncidentClassification"),
        "text",
        _fact("incident_type_other"),
        _FROM_INTERMEDIATE,
    ),
    ItsField(
        "3.25",
        "threat_techniques",
        _("Threats and techniques used by the threat actor"),
        ("incident", "incidentType", "threatTechniques"),
        "codes",
        _fact("threat_techniques", codes),
        _FROM_INTERMEDIATE,
    ),
    ItsField(
        "3.26",
        "threat_technique_other",
        _("Other threats and techniques"),
        ("incident", "incidentType", "otherThreatTechniques"),
        "text",
        _fact("threat_technique_other"),
        _FROM_INTERMEDIATE,
    ),
    ItsField(
        "3.27",
        "functional_areas",
        _("Functional areas and business processes affected"),
        ("impactAssessment", "affectedFunctionalAreas"),
        "text",
        _fact("functional_areas"),
        _FROM_INTERMEDIATE,
        multiline=True,
    ),
    ItsField(
        "3.28",
        "infrastructure_affected",
        _("Infrastructure components affected"),
        ("impactAssessment", "isAffectedInfrastructureComponents"),
        "code",
        _fact("infrastructure_affected"),
        _FROM_INTERMEDIATE,
        required=True,
    ),
    ItsField(
        "3.29",
        "infrastructure_description",
        _("Infrastructure components affected: description"),
        ("impactAssessment", "affectedInfrastructureComponents"),
        "text",
        _fact("infrastructure_description"),
        _FROM_INTERMEDIATE,
        multiline=True,
    ),
    ItsField(
        "3.30",
        "financial_interest",
        _("Impact on the financial interests of clients"),
        ("impactAssessment", "isImpactOnFinancialInterest"),
        "code",
        _fact("financial_interest_impact"),
        _FROM_INTERMEDIATE,
    ),
    ItsField(
        "3.31",
        "other_authorities",
        _("Reported to other authorities"),
        ("reportingToOtherAuthorities",),
        "codes",
        _fact("other_authorities", codes),
        _FROM_INTERMEDIATE,
        required=True,
    ),
    ItsField(
        "3.32",
        "other_authorities_other",
        _("Other authorities reported to"),
        ("reportingToOtherAuthoritiesOther",),
        "text",
        _fact("other_authorities_other"),
        _FROM_INTERMEDIATE,
    ),
    ItsField(
        "3.33",
        "temporary_actions",
        _("Temporary actions or measures for recovery"),
        ("impactAssessment", "serviceImpact", "isTemporaryActionsMeasuresForRecovery"),
        "bool",
        _fact("temporary_actions", yes_no),
        _FROM_INTERMEDIATE,
    ),
    ItsField(
        "3.34",
        "temporary_actions_description",
        _("Temporary actions or measures: description"),
        ("impactAssessment", "serviceImpact", "descriptionOfTemporaryActionsMeasuresForRecovery"),
        "text",
        _fact("temporary_actions_description"),
        _FROM_INTERMEDIATE,
        multiline=True,
    ),
    ItsField(
        "3.35",
        "indicators_of_compromise",
        _("Indicators of compromise"),
        ("incident", "incidentType", "indicatorsOfCompromise"),
        "text",
        _fact("indicators_of_compromise"),
        _FROM_INTERMEDIATE,
        multiline=True,
    ),
    # 4. Final report
    ItsField(
        "4.1",
        "root_causes",
        _("Root cause: high-level classification"),
        ("incident", "rootCauseHLClassification"),
        "codes",
        _fact("root_causes", codes),
        _FINAL_ONLY,
        required=True,
    ),
    ItsField(
        "4.2",
        "root_cause_details",
        _("Root cause: detailed classification"),
        ("incident", "rootCausesDetailedClassification"),
        "codes",
        _fact("root_cause_details", codes),
        _FINAL_ONLY,
        required=True,
    ),
    ItsField(
        "4.3",
        "root_cause_additional",
        _("Root cause: additional classification"),
        ("incident", "rootCausesAdditionalClassification"),
        "codes",
        _fact("root_cause_additional", codes),
        _FINAL_ONLY,
    ),
    ItsField(
        "4.4",
        "root_cause_other",
        _("Other root cause"),
        ("incident", "rootCausesOther"),
        "text",
        _fact("root_cause_other"),
        _FINAL_ONLY,
    ),
    ItsField(
        "4.5",
        "root_cause_information",
        _("Root cause: further information"),
        ("incident", "rootCausesInformation"),
        "text",
        _fact("root_cause_information"),
        _FINAL_ONLY,
        required=True,
        multiline=True,
    ),
    ItsField(
        "4.6",
        "resolution_summary",
        _("Resolution: lessons learnt and actions"),
        ("incident", "incidentResolutionSummary"),
        "text",
        _fact("resolution_summary"),
        _FINAL_ONLY,
        required=True,
        multiline=True,
    ),
    ItsField(
        "4.7",
        "root_cause_addressed_at",
        _("Root cause addressed at"),
        ("incident", "rootCauseAddressingDateTime"),
        "datetime",
        _fact("root_cause_addressed_at", when),
        _FINAL_ONLY,
    ),
    ItsField(
        "4.8",
        "resolved_at",
        _("Incident resolved at"),
        ("incident", "incidentResolutionDateTime"),
        "datetime",
        _fact("resolved_at", when),
        _FINAL_ONLY,
        required=True,
    ),
    ItsField(
        "4.9",
        "resolution_vs_planned",
        _("Resolution: differences from the planned implementation"),
        ("incident", "incidentResolutionVsPlannedImplementation"),
        "text",
        _fact("resolution_vs_planned"),
        _FINAL_ONLY,
        required=True,
        multiline=True,
    ),
    ItsField(
        "4.10",
        "critical_functions_risk",
        _("Assessment of the risk to critical functions (resolution)"),
        ("incident", "assessmentOfRiskToCriticalFunctions"),
        "text",
        _fact("critical_functions_risk"),
        _FINAL_ONLY,
        multiline=True,
    ),
    ItsField(
        "4.11",
        "resolution_authorities",
        _("Information relevant to resolution authorities"),
        ("incident", "informationRelevantToResolutionAuthorities"),
        "text",
        _fact("resolution_authorities_information"),
        _FINAL_ONLY,
        multiline=True,
    ),
    ItsField(
        "4.12",
        "economic_threshold",
        _("Economic impact: materiality threshold"),
        ("criterion", "economic_impact", "economicImpactMaterialityThreshold"),
        "text",
        _fact("economic_impact_threshold"),
        _FINAL_ONLY,
    ),
    ItsField(
        "4.13",
        "gross_costs",
        _("Gross direct and indirect costs and losses"),
        ("incident", "grossAmountIndirectDirectCosts"),
        "number",
        _fact("gross_costs", number),
        _FINAL_ONLY,
    ),
    ItsField(
        "4.14",
        "recoveries",
        _("Financial recoveries"),
        ("incident", "financialRecoveriesAmount"),
        "number",
        _fact("recoveries", number),
        _FINAL_ONLY,
        required=True,
    ),
    ItsField(
        "4.15",
        "recurring_description",
        _("Recurring non-major incidents: description"),
        ("incident", "recurringNonMajorIncidentsDescription"),
        "text",
        _fact("recurring_description"),
        _FINAL_ONLY,
        multiline=True,
    ),
    ItsField(
        "4.16",
        "recurring_at",
        _("Recurring incidents: date of occurrence"),
        ("incident", "recurringIncidentDate"),
        "datetime",
        _fact("recurring_at", when),
        _FINAL_ONLY,
    ),
)
BY_KEY = {f.key: f for f in ITS_FIELDS}

SECTION_TITLES = (
    ("general", "1", _("General information about the financial entity")),
    ("initial", "2", _("Initial notification")),
    ("intermediate", "3", _("Intermediate report")),
    ("final", "4", _("Final report")),
)


def _form_field(f: ItsField) -> FormField:
    return FormField(
        key=f.key,
        label=_numbered(f.number, f.label),
        source=f.source,
        edpb="",
        required=f.required,
        multiline=f.multiline,
        kinds=f.kinds,
    )


SECTIONS = tuple(
    FormSection(key, title, tuple(_form_field(f) for f in ITS_FIELDS if f.number.split(".")[0] == n))
    for key, n, title in SECTION_TITLES
)
SECTION_OF = {f.key: s for s in SECTIONS for f in s.fields}


def _dora_form(kind: str, rule_code: str, title) -> FilingForm:
    return FilingForm(
        kind, rule_code, title, SECTIONS, sources_for, filing_kind="dora", send_errors=lambda k, c: export_errors(k, c)
    )


DORA_INITIAL = _dora_form(INITIAL, "DORA_INITIAL", _("DORA initial notification"))
DORA_INTERMEDIATE = _dora_form(INTERMEDIATE, "DORA_INTERMEDIATE", _("DORA intermediate report"))
DORA_FINAL = _dora_form(FINAL, "DORA_FINAL", _("DORA final report"))
DORA_FORMS = (DORA_INITIAL, DORA_INTERMEDIATE, DORA_FINAL)


# --- the JSON report -----------------------------------------------------------------------------


class AnswerError(ValueError):
    pass


CODES_MAX = 100  # the longest list of the ESAs' codes (Member States) has 30


def _split(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[,;\n]", text) if p.strip()]


def _decimal(text: str) -> Decimal:
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", text).replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise AnswerError(gettext("not a number")) from None
    if not value.is_finite():
        raise AnswerError(gettext("not a number"))
    return value


EARLIEST_YEAR = 1900  # no ICT incident, nor its restoration, is older


def _datetime(text: str) -> str:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        try:
            value = datetime.strptime(text, "%d/%m/%Y %H:%M").replace(tzinfo=PARIS)
        except ValueError:
            raise AnswerError(gettext("not a date and time (e.g. 2026-01-31T14:05:00+01:00)")) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=PARIS)
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # an offset that carries the instant past year 1 or 9999
        value = None
    if value is None or value.year < EARLIEST_YEAR:  # "%Y" would not even write a year below 1000 in 4 digits
        raise AnswerError(gettext("not a date and time (e.g. 2026-01-31T14:05:00+01:00)"))
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _convert(f: ItsField, text: str):
    if f.type == "text":
        return text
    if f.type == "code":
        return text
    if f.type == "codes":
        codes = _split(text)
        if len(codes) > CODES_MAX:  # each a schema error to compute, for nothing: no ESA list is this long
            raise AnswerError(gettext("at most %(max)s codes") % {"max": CODES_MAX})
        return codes
    if f.type == "datetime":
        return _datetime(text)
    if f.type == "bool":
        value = {"yes": True, "oui": True, "true": True, "no": False, "non": False, "false": False}.get(text.lower())
        if value is None:
            raise AnswerError(gettext('answer "yes" or "no"'))
        return value
    value = _decimal(text)
    if f.type == "int":
        if value != value.to_integral_value():
            raise AnswerError(gettext("not a whole number"))
        return int(value)
    return float(value)


def _put(doc: dict, path: tuple, value) -> None:
    node: Any = doc
    for i, key in enumerate(path[:-1]):
        nxt = path[i + 1]
        if isinstance(key, int):
            while len(node) <= key:
                node.append({})
            node = node[key]
            continue
        node = node.setdefault(key, [] if isinstance(nxt, int) else {})
    node[path[-1]] = value


def text_of(content: dict, key: str) -> str:
    """The answer to the ITS field `key` in a submission's content ("" when none)."""
    section = content.get(SECTION_OF[key].key) if isinstance(content, dict) else None
    value = section.get(key, "") if isinstance(section, dict) else ""
    return value if isinstance(value, str) else ""


# (later, earlier): steps of the incident that cannot come before another (the occurrence, its detection).
IN_ORDER = (
    ("detected_at", "occurred_at"),
    ("classified_at", "detected_at"),
    ("restored_at", "occurred_at"),
    ("root_cause_addressed_at", "occurred_at"),
    ("resolved_at", "occurred_at"),
)


def report_json(kind: str, content: dict) -> tuple[dict, list[str]]:
    """The report in the structure of the ESAs' schema, from the submission's answers; and the answers
    that could not be read (each naming its ITS field)."""
    doc: dict = {}
    problems: list[str] = []
    criteria: list[str] = []
    per_criterion: dict[str, dict] = {}
    instants: dict[str, str] = {}
    for f in ITS_FIELDS:
        if f.kinds and kind not in f.kinds:
            continue
        text = text_of(content, f.key).strip()
        if not text:
            continue
        try:
            value = _convert(f, text)
        except AnswerError as error:
            problems.append(f"{f.number} {f.label}: {error}")
            continue
        if f.type == "datetime":
            instants[f.key] = value  # UTC, "%Y-%m-%dT%H:%M:%SZ" from 1900: compared as text
        if f.path == ("criteria",):
            criteria = value
        elif f.path[0] == "criterion":
            per_criterion.setdefault(f.path[1], {})[f.path[2]] = value
        else:
            _put(doc, f.path, value)
    for later, earlier in IN_ORDER:
        if later in instants and earlier in instants and instants[later] < instants[earlier]:
            f, before = BY_KEY[later], BY_KEY[earlier]
            problems.append(
                f"{f.number} {f.label}: "
                + gettext("cannot precede %(other)s") % {"other": f"{before.number} {before.label}"}
            )
    if criteria:
        doc.setdefault("incident", {})["classificationTypes"] = [
            {"classificationCriterion": c, **per_criterion.get(c, {})} for c in criteria
        ]
    if "submittingEntity" in doc:
        doc["submittingEntity"] = {"entityType": "SUBMITTING_ENTITY", **doc["submittingEntity"]}
    if doc.get("affectedEntity"):
        doc["affectedEntity"] = [{"entityType": "AFFECTED_ENTITY", **e} for e in doc["affectedEntity"]]
    if "ultimateParentUndertaking" in doc:
        doc["ultimateParentUndertaking"] = {
            "entityType": "ULTIMATE_PARENT_UNDERTAKING_ENTITY",
            **doc["ultimateParentUndertaking"],
        }
    return doc, problems


# The schema declares JSON Schema 2020-12 but also uses draft 7's `dependencies` keyword (which 2020-12
# dropped): it is honoured here as draft 7 defines it, so its rules (the submitting entity's LEI or code,
# what an intermediate or final report must hold) are checked, not silently skipped.
_Validator = validators.extend(Draft202012Validator, {"dependencies": Draft7Validator.VALIDATORS["dependencies"]})


MESSAGE_MAX = 200  # a schema message quotes the value it refuses: a whole report, for an "anyOf"
ERRORS_MAX = 100  # lines listed at most: an answer of 10,000 unknown codes is 10,000 errors


def _leaf(error):
    """The most relevant failure under an "anyOf"/"oneOf" (which only says none of its branches matched)."""
    while error.context:
        error = best_match(error.context)
    return error


def schema_errors(doc: dict) -> list[str]:
    """Why `doc` does not validate against the ESAs' schema (empty when it does), one readable line each:
    where in the report, then the schema's reason, cut short where it would quote a whole object."""
    validator = _Validator(ds.schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    messages: dict[str, None] = {}  # in order, each once (a list's `in` made thousands of errors quadratic)
    for error in sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path]):
        leaf = _leaf(error)
        where = "/".join(str(p) for p in leaf.absolute_path) or gettext("report")
        text = leaf.message if len(leaf.message) <= MESSAGE_MAX else leaf.message[: MESSAGE_MAX - 1] + "…"
        messages[f"{where}: {text}"] = None
        if len(messages) == ERRORS_MAX:  # enough to correct the answers; the next ones show once these are
            break
    return list(messages)


def export_errors(kind: str, content: dict) -> list[str]:
    """Everything that keeps the answers from being sent as a report the ESAs' schema accepts."""
    doc, problems = report_json(kind, content)
    return problems + schema_errors(doc)
