"""The DORA facts of a case: what the reports of a major ICT-related incident say that a breach case does not.

Commission Implementing Regulation (EU) 2025/302 (templates of the initial notification, intermediate and
final reports) and Delegated Regulation (EU) 2024/1772 (classification criteria). One row per case, kept
beside the case (not in it) because only DORA financial entities need it; edited through
`services.dora_facts_update` with its version, audited in the case's history chain like the case itself.
Coded answers hold the values of the ESAs' JSON schema (`cases.dora_schema`), so the report built from
them validates against it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .. import dora_schema as ds
from ..inputs import LONG_TEXT_MAX, NAME_MAX
from .base import audited_history
from .breach_case import BreachCase, CaseChild

LEI_RE = r"^[A-Z0-9]{18}[0-9]{2}$"
DURATION_RE = r"^\d{1,3}:(?:[01]\d|2[0-3]):[0-5]\d$"  # DDD:HH:MM, as in the schema


class CodeList:
    """A validator: a list of the schema's values for one question, each at most once."""

    def __init__(self, values: tuple[str, ...]):
        self.values = values

    def __call__(self, value) -> None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValidationError(_("Choose values from the list."))
        unknown = [v for v in value if v not in self.values]
        if unknown:
            raise ValidationError(_("Not a value of the list: %(value)s."), params={"value": ", ".join(unknown)[:200]})
        if len(set(value)) != len(value):
            raise ValidationError(_("A value is listed twice."))

    def deconstruct(self):
        return ("cases.models.dora.CodeList", (self.values,), {})

    def __eq__(self, other) -> bool:
        return isinstance(other, CodeList) and other.values == self.values


def _codes(label, values):
    return models.JSONField(label, default=list, blank=True, validators=[CodeList(values)])


def _code(label, values, **kw):
    return models.CharField(label, max_length=300, blank=True, choices=ds.choices(values), **kw)


def _text(label):
    return models.TextField(label, blank=True, max_length=LONG_TEXT_MAX)


def _number(label):
    return models.DecimalField(
        label, max_digits=18, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )


def _count(label):
    return models.PositiveBigIntegerField(label, null=True, blank=True)


def _percentage(label):
    return models.DecimalField(
        label,
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )


def _duration(label):
    return models.CharField(
        label,
        max_length=9,
        blank=True,
        validators=[RegexValidator(DURATION_RE, _("Give a duration as days:hours:minutes, e.g. 002:05:30."))],
    )


class DoraFacts(CaseChild):
    """The facts of a major ICT-related incident asked by the DORA reports (ITS 2025/302, annex II)."""

    case = models.OneToOneField(BreachCase, on_delete=models.PROTECT, related_name="dora_facts")
    # --- 1. General information about the financial entity
    lei = models.CharField(
        _("LEI of the financial entity"),
        max_length=20,
        blank=True,
        validators=[RegexValidator(LEI_RE, _("A LEI has 20 characters: 18 letters or digits, then 2 digits."))],
    )
    entity_type = _code(_("Type of financial entity"), ds.ENTITY_TYPES)
    contact_name = models.CharField(_("Primary contact: name"), max_length=NAME_MAX, blank=True)
    contact_email = models.EmailField(_("Primary contact: e-mail"), max_length=NAME_MAX, blank=True)
    contact_phone = models.CharField(_("Primary contact: telephone"), max_length=40, blank=True)
    second_contact_name = models.CharField(_("Second contact: name"), max_length=NAME_MAX, blank=True)
    second_contact_email = models.EmailField(_("Second contact: e-mail"), max_length=NAME_MAX, blank=True)
    second_contact_phone = models.CharField(_("Second contact: telephone"), max_length=40, blank=True)
    parent_name = models.CharField(_("Ultimate parent undertaking: name"), max_length=NAME_MAX, blank=True)
    parent_lei = models.CharField(
        _("Ultimate parent undertaking: LEI"),
        max_length=20,
        blank=True,
        validators=[RegexValidator(LEI_RE, _("A LEI has 20 characters: 18 letters or digits, then 2 digits."))],
    )
    currency = _code(_("Reporting currency"), ds.CURRENCIES, default="EUR")
    # --- 2. Content of the initial notification
    criteria = _codes(_("Classification criteria met"), ds.CRITERIA)
    countries = _codes(_("Member States affected (geographical spread)"), ds.COUNTRIES)
    discovery = _code(_("How the incident was discovered"), ds.DISCOVERY)
    third_party_origin = _text(_("Originates from a third-party provider or another financial entity"))
    business_continuity_activated = models.BooleanField(_("Business continuity plan activated"), null=True, blank=True)
    other_information = _text(_("Other information"))
    # --- 3. Content of the intermediate report
    restored_at = models.DateTimeField(_("Services restored at"), null=True, blank=True)
    clients_affected = _count(_("Clients affected: number"))
    clients_affected_pct = _percentage(_("Clients affected: percentage"))
    counterparts_affected = _count(_("Financial counterparts affected: number"))
    counterparts_affected_pct = _percentage(_("Financial counterparts affected: percentage"))
    relevant_clients_impact = models.BooleanField(
        _("Impact on relevant clients or counterparts"), null=True, blank=True
    )
    transactions_affected = _count(_("Transactions affected: number"))
    transactions_affected_pct = _percentage(_("Transactions affected: percentage"))
    transactions_value = _number(_("Value of the transactions affected"))
    figures = _codes(_("Actual figures or estimates"), ds.FIGURES)
    reputational_impact = _codes(_("Reputational impact"), ds.REPUTATIONAL_IMPACTS)
    reputational_description = _text(_("Reputational impact: description"))
    duration = _duration(_("Duration of the incident (DDD:HH:MM)"))
    downtime = _duration(_("Service downtime (DDD:HH:MM)"))
    duration_information = _code(_("Duration and downtime: actual or estimated"), ds.DOWNTIME_INFORMATION)
    member_state_impacts = _codes(_("Type of impact in the Member States"), ds.MEMBER_STATE_IMPACTS)
    member_state_description = _text(_("Impact in the Member States: description"))
    data_losses = _codes(_("Data losses: availability, authenticity, integrity, confidentiality"), ds.DATA_LOSSES)
    data_losses_description = _text(_("Data losses: description"))
    critical_services = _text(_("Critical services affected"))
    incident_types = _codes(_("Type of incident"), ds.INCIDENT_TYPES)
    incident_type_other = _text(_("Other type of incident"))
    threat_techniques = _codes(_("Threats and techniques used by the threat actor"), ds.THREAT_TECHNIQUES)
    threat_technique_other = _text(_("Other threats and techniques"))
    functional_areas = _text(_("Functional areas and business processes affected"))
    infrastructure_affected = _code(_("Infrastructure components affected"), ds.YES_NO_NOT_AVAILABLE)
    infrastructure_description = _text(_("Infrastructure components affected: description"))
    financial_interest_impact = _code(_("Impact on the financial interests of clients"), ds.YES_NO_NOT_AVAILABLE)
    other_authorities = _codes(_("Reported to other authorities"), ds.OTHER_AUTHORITIES)
    other_authorities_other = _text(_("Other authorities reported to"))
    temporary_actions = models.BooleanField(_("Temporary actions or measures for recovery"), null=True, blank=True)
    temporary_actions_description = _text(_("Temporary actions or measures: description"))
    indicators_of_compromise = _text(_("Indicators of compromise"))
    # --- 4. Content of the final report
    root_causes = _codes(_("Root cause: high-level classification"), ds.ROOT_CAUSES)
    root_cause_details = _codes(_("Root cause: detailed classification"), ds.ROOT_CAUSE_DETAILS)
    root_cause_additional = _codes(_("Root cause: additional classification"), ds.ROOT_CAUSE_ADDITIONAL)
    root_cause_other = _text(_("Other root cause"))
    root_cause_information = _text(_("Root cause: further information"))
    resolution_summary = _text(_("Resolution: lessons learnt and actions"))
    root_cause_addressed_at = models.DateTimeField(_("Root cause addressed at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("Incident resolved at"), null=True, blank=True)
    resolution_vs_planned = _text(_("Resolution: differences from the planned implementation"))
    critical_functions_risk = _text(_("Assessment of the risk to critical functions (resolution)"))
    resolution_authorities_information = _text(_("Information relevant to resolution authorities"))
    economic_impact_threshold = _text(_("Economic impact: materiality threshold"))
    gross_costs = _number(_("Gross direct and indirect costs and losses"))
    recoveries = _number(_("Financial recoveries"))
    recurring_description = _text(_("Recurring non-major incidents: description"))
    recurring_at = models.DateTimeField(_("Recurring incidents: date of occurrence"), null=True, blank=True)

    history = audited_history()

    class Meta:
        verbose_name = _("DORA facts")
        verbose_name_plural = _("DORA facts")

    def __str__(self) -> str:
        return str(_("DORA facts"))
