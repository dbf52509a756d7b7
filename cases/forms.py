"""Forms of the case workspace: they parse what the browser sends; the services decide what is valid.

Field names are the keys the services use in their `ValidationError` dicts, so a refusal
lands next to the field it is about (`apply_service_errors`). Date-times are entered with
`<input type="datetime-local">` as Europe/Paris wall-clock times.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import regimes
from .deadlines import PARIS, localize
from .inputs import (
    LONG_TEXT_MAX,
    NAME_MAX,
    NOTICE_PERIOD_MAX_HOURS,
    CheckedFormMixin,
    TextCharactersValidator,
    instant_error,
)
from .models import (
    BreachCase,
    ControllerNotice,
    DataCategory,
    Filing,
    MemberCommunication,
    Obligation,
    Organization,
    ProcessingRelationship,
    SubjectCategory,
    TimelineEvent,
    siren_validator,
)
from .models.relationships import contacts_errors
from .permissions import WRITE_ROLES
from .selectors.conflicts import state_at
from .services.cases import related_processors
from .services.obligations import BARE_COMPLETION_RULES

# Obligations no filing completes: the Art. 34 communication (its own form) and the register entry.
NOT_BY_A_FILING = frozenset({"GDPR_34"}) | BARE_COMPLETION_RULES

DATETIME_INPUT_FORMATS = [
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
]


class ParisDateTimeInput(forms.DateTimeInput):
    """A datetime-local input showing the instant in Paris time (seconds only when there are some)."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs={"step": "1", **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, datetime):
            if timezone.is_aware(value):
                value = value.astimezone(PARIS)
            return value.strftime("%Y-%m-%dT%H:%M:%S" if value.second else "%Y-%m-%dT%H:%M")
        return value


class ParisDateTimeField(forms.DateTimeField):
    """A Europe/Paris wall-clock time, returned as an aware UTC instant.

    A time in the spring DST gap reads as the end of the gap, an autumn time that happens
    twice as its first occurrence (`cases.deadlines.localize`), as the deadline engine does.
    A date outside 1990-2099 is refused here, before any arithmetic (year 1 or 9999 would overflow).
    """

    widget = ParisDateTimeInput
    input_formats = DATETIME_INPUT_FORMATS
    default_error_messages = {"invalid": _("Enter a valid date and time, e.g. 01/02/2024 18:00.")}

    def to_python(self, value):
        if isinstance(value, datetime):
            return value if timezone.is_aware(value) else localize(value)
        if value in self.empty_values:
            return None
        text = str(value).strip()
        for fmt in self.input_formats:
            try:
                naive = datetime.strptime(text, fmt)
            except ValueError:
                continue
            refused = instant_error(naive)
            if refused:
                raise ValidationError(refused, code="out_of_range")
            return localize(naive)
        raise ValidationError(self.error_messages["invalid"], code="invalid")


def apply_service_errors(form: forms.Form, error: ValidationError, field_map: dict[str, str] | None = None) -> None:
    """Put a service's refusal next to the fields it names; the rest goes to the top of the form."""
    field_map = field_map or {}
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            target = field_map.get(name, name)
            form.add_error(target if target in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def link_errors(form: forms.Form) -> None:
    """Point each invalid input at its error message (and help text) for screen readers."""
    for name in form.errors:
        if name not in form.fields:
            continue
        bound = form[name]
        ids = [f"{bound.auto_id}_error"]
        if form.fields[name].help_text:
            ids.append(f"{bound.auto_id}_helptext")
        form.fields[name].widget.attrs["aria-describedby"] = " ".join(ids)


class CheckedForm(CheckedFormMixin, forms.Form):
    """Base of every form of the product: each field checked for control characters and size (`cases.inputs`)."""


class VersionedForm(CheckedForm):
    """An edit of an existing record: it carries the version the user read (optimistic concurrency).

    The service refuses the edit if the record changed since (`StaleVersionError`); the page then
    shows what changed and keeps what the user typed (`user_input`). A post without a version (an
    old page) is checked against nothing, as before versions existed.
    """

    version = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput)

    def user_input(self) -> dict:
        """What the user entered, to put back into the form shown with a conflict."""
        return {name: value for name, value in self.cleaned_data.items() if name != "version"}


YES_NO = [("yes", _("Yes")), ("no", _("No"))]
UNKNOWN_YES_NO = [("", _("Not assessed")), ("yes", _("Yes")), ("no", _("No"))]


def _to_bool(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class YesNoField(forms.TypedChoiceField):
    """Yes / no as radio buttons (a decision), or yes / no / not assessed as a list (a classification)."""

    def __init__(self, *, allow_unknown: bool = False, **kwargs):
        super().__init__(
            choices=UNKNOWN_YES_NO if allow_unknown else YES_NO,
            coerce=_to_bool,
            empty_value=None,
            required=False,
            widget=forms.Select if allow_unknown else forms.RadioSelect,
            **kwargs,
        )

    def prepare_value(self, value):
        if value is True:
            return "yes"
        if value is False:
            return "no"
        return value


def _text(label, *, rows: int = 3, required: bool = False, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        strip=True,
        max_length=LONG_TEXT_MAX,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


# --- cases -----------------------------------------------------------------------------------


def writable_organizations(user):
    """The organisations where the user may open a case (an active DPO or administrator membership)."""
    return Organization.objects.filter(
        memberships__user=user, memberships__is_active=True, memberships__role__in=WRITE_ROLES
    ).order_by("name")


class CaseOpenForm(CheckedForm):
    """The facts that start the clocks; everything else can follow on the case page."""

    organization = forms.ModelChoiceField(label=_("Organisation"), queryset=Organization.objects.none())
    title = forms.CharField(label=_("Title"), max_length=300)
    first_signal_at = ParisDateTimeField(
        label=_("First signal (Paris time)"), help_text=_("The first alert or report.")
    )
    first_signal_source = _text(_("How it was discovered"), rows=2)
    aware_at = ParisDateTimeField(
        label=_("Aware at (Paris time)"),
        help_text=_("When the organisation was reasonably certain that personal data were compromised."),
    )
    aware_justification = _text(_("Why awareness is dated so"), required=True)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        queryset = writable_organizations(user)
        self.fields["organization"].queryset = queryset
        if len(queryset) == 1:
            self.fields["organization"].initial = queryset[0].pk


CIRCUMSTANCE_CHOICES = [("0", "0"), ("0.25", "0,25"), ("0.5", "0,5")]
EI_CHOICES = [("", _("Not assessed")), ("0.25", "0,25"), ("0.5", "0,5"), ("0.75", "0,75"), ("1", "1")]


def _decimal(value) -> Decimal:
    """A posted number as a Decimal; anything else is a ValueError, which the field reports as invalid."""
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError) as error:
        raise ValueError(value) from error


def _decimal_or_none(value: str):
    return _decimal(value) if value not in (None, "") else None


class CaseFactsForm(VersionedForm):
    """Every fact a DPO may change, in the order of the CNIL notification form."""

    title = forms.CharField(label=_("Title"), max_length=300, required=False)
    # Nature and dates.
    nature = forms.ChoiceField(label=_("Established or suspected"), choices=BreachCase.Nature.choices)
    first_signal_at = ParisDateTimeField(label=_("Discovery: first signal (Paris time)"), required=False)
    first_signal_source = _text(_("How it was discovered"), rows=2)
    aware_at = ParisDateTimeField(label=_("Aware at (Paris time)"), required=False)
    aware_justification = _text(_("Why awareness is dated so"))
    incident_known_at = ParisDateTimeField(
        label=_("Knowledge of the security incident (Paris time)"),
        required=False,
        help_text=_("For the ANSSI, NIS, DORA and complaint clocks; awareness is used when empty."),
    )
    occurred_from = ParisDateTimeField(label=_("Breach started (Paris time)"), required=False)
    occurred_to = ParisDateTimeField(label=_("Breach ended (Paris time)"), required=False)
    processor_alerted_at = ParisDateTimeField(label=_("A processor alerted us at (Paris time)"), required=False)
    ongoing = forms.BooleanField(label=_("Still ongoing"), required=False)
    # Origin, circumstances, cause.
    origin = forms.ChoiceField(label=_("Origin"), choices=BreachCase.Origin.choices)
    breach_confidentiality = forms.BooleanField(label=_("Loss of confidentiality"), required=False)
    breach_integrity = forms.BooleanField(label=_("Loss of integrity"), required=False)
    breach_availability = forms.BooleanField(label=_("Loss of availability"), required=False)
    cause = forms.ChoiceField(label=_("Cause"), choices=BreachCase.Cause.choices)
    description = _text(_("Description"), rows=4)
    # Processors.
    processor = forms.ModelChoiceField(
        label=_("Processor involved"), queryset=Organization.objects.none(), required=False
    )
    processor_name = forms.CharField(label=_("Processor (if not listed)"), max_length=NAME_MAX, required=False)
    # Persons.
    subject_categories = forms.MultipleChoiceField(
        label=_("Categories of persons"),
        choices=SubjectCategory.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    persons_approx = forms.IntegerField(label=_("Approximate number of persons"), min_value=0, required=False)
    directly_identifiable = forms.BooleanField(label=_("Persons directly identifiable"), required=False)
    # Data.
    data_categories = forms.MultipleChoiceField(
        label=_("Categories of data"),
        choices=DataCategory.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    records_approx = forms.IntegerField(label=_("Approximate number of records"), min_value=0, required=False)
    # Consequences and measures.
    likely_consequences = _text(_("Likely consequences"))
    measures_immediate = _text(_("Immediate measures"))
    measures_medium = _text(_("Medium-term measures"))
    measures_long = _text(_("Long-term measures"))
    # Severity (ENISA) and sector classifications.
    severity_dpc_adjustment = forms.IntegerField(
        label=_("Data-processing context adjustment"), min_value=-3, max_value=3, initial=0
    )
    severity_ei = forms.TypedChoiceField(
        label=_("Ease of identification"), choices=EI_CHOICES, coerce=_decimal_or_none, empty_value=None, required=False
    )
    severity_cb_confidentiality = forms.TypedChoiceField(
        label=_("Circumstance: confidentiality"), choices=CIRCUMSTANCE_CHOICES, coerce=_decimal
    )
    severity_cb_integrity = forms.TypedChoiceField(
        label=_("Circumstance: integrity"), choices=CIRCUMSTANCE_CHOICES, coerce=_decimal
    )
    severity_cb_availability = forms.TypedChoiceField(
        label=_("Circumstance: availability"), choices=CIRCUMSTANCE_CHOICES, coerce=_decimal
    )
    severity_cb_malicious = forms.BooleanField(label=_("Circumstance: malicious intent"), required=False)
    nis2_significant = YesNoField(label=_("Significant incident (NIS2)"), allow_unknown=True)
    dora_major = YesNoField(label=_("Major ICT-related incident (DORA)"), allow_unknown=True)
    dora_classified_at = ParisDateTimeField(label=_("Classified as major at (Paris time)"), required=False)
    change_reason = _text(
        _("Reason for the change"),
        help_text=_("Required when a clock's start time moves; kept in the history."),
    )

    FIELDSETS = (
        (_("Case"), ("title",)),
        (
            _("Nature and dates"),
            (
                "nature",
                "first_signal_at",
                "first_signal_source",
                "aware_at",
                "aware_justification",
                "incident_known_at",
                "occurred_from",
                "occurred_to",
                "processor_alerted_at",
                "ongoing",
            ),
        ),
        (
            _("Origin, circumstances and cause"),
            ("origin", "breach_confidentiality", "breach_integrity", "breach_availability", "cause", "description"),
        ),
        (_("Processors involved"), ("processor", "processor_name")),
        (_("Persons concerned"), ("subject_categories", "persons_approx", "directly_identifiable")),
        (_("Data concerned"), ("data_categories", "records_approx")),
        (
            _("Consequences and measures"),
            ("likely_consequences", "measures_immediate", "measures_medium", "measures_long"),
        ),
        (
            _("Severity (ENISA) and sector classification"),
            (
                "severity_dpc_adjustment",
                "severity_ei",
                "severity_cb_confidentiality",
                "severity_cb_integrity",
                "severity_cb_availability",
                "severity_cb_malicious",
                "nis2_significant",
                "dora_major",
                "dora_classified_at",
            ),
        ),
        (_("Why"), ("change_reason",)),
    )

    def __init__(self, *args, case: BreachCase, **kwargs):
        overrides = kwargs.pop("initial", None) or {}
        data = args[0] if args else kwargs.get("data")
        # A post made on an older version: what the user changed is judged against what they read.
        read = state_at(case, _posted_version(data)) if data is not None else None
        shown = read or case
        initial = {
            name: getattr(shown, name)
            for name in self.base_fields
            if name not in {"processor", "change_reason", "version"}
        }
        initial["processor"] = shown.processor_id
        initial["version"] = case.version
        for name in ("severity_cb_confidentiality", "severity_cb_integrity", "severity_cb_availability", "severity_ei"):
            value = initial.get(name)
            initial[name] = None if value is None else _decimal_text(value)
        initial.update(overrides)
        super().__init__(*args, initial=initial, **kwargs)
        # Only the organisation's own processors (and the one the case already names): never another tenant.
        self.fields["processor"].queryset = Organization.objects.filter(
            Q(pk__in=related_processors(case.organization_id).values("pk")) | Q(pk=case.processor_id)
        ).order_by("name")

    def fieldsets(self):
        return [(legend, [self[name] for name in names]) for legend, names in self.FIELDSETS]

    def clean(self) -> dict:
        cleaned = super().clean()
        # Only the facts the user changed go to the service, which compares them with the case as stored:
        # a list of categories in another order or a date re-entered without its seconds is no change.
        cleaned["changed_facts"] = {
            name: cleaned[name]
            for name in self.changed_data
            if name not in {"change_reason", "version"} and name in cleaned
        }
        return cleaned

    def user_input(self) -> dict:
        processor = self.cleaned_data["changed_facts"].get("processor", ...)
        facts = {**self.cleaned_data["changed_facts"], "change_reason": self.cleaned_data.get("change_reason", "")}
        if processor is not ...:
            facts["processor"] = processor.pk if processor else None
        return facts


def _posted_version(data) -> int | None:
    value = data.get("version") if hasattr(data, "get") else None
    # isascii: "²" and other Unicode digits pass isdigit() but not int().
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10 else None


def _decimal_text(value: Decimal) -> str:
    text = f"{Decimal(value).normalize():f}"
    return "0" if text in {"0", "-0"} else text


# --- decisions -------------------------------------------------------------------------------


def _happened_at(label) -> ParisDateTimeField:
    """When a fact entered now happened: shown as now, may be set earlier (a past fact entered later)."""
    return ParisDateTimeField(
        label=label,
        required=False,
        initial=timezone.now,
        help_text=_("When it happened, which may be earlier than today; its recording time is kept apart."),
    )


class DecisionAuthorityForm(VersionedForm):
    notify_authority = YesNoField(label=_("Notify the supervisory authority (Art. 33)?"))
    notify_authority_reason = _text(_("Reason for the decision"), rows=4)
    notify_authority_decided_at = _happened_at(_("Decided at (Paris time)"))


class DecisionPersonsForm(VersionedForm):
    inform_persons = YesNoField(label=_("Inform the persons concerned (Art. 34)?"))
    inform_persons_exemption = forms.ChoiceField(
        label=_("Art. 34(3) ground (when persons are not informed)"),
        choices=[("", "—"), *BreachCase.Art34Exemption.choices],
        required=False,
    )
    inform_persons_reason = _text(_("Reason for the decision"), rows=4)
    inform_persons_decided_at = _happened_at(_("Decided at (Paris time)"))


# --- obligations -----------------------------------------------------------------------------


class ObligationCompleteForm(VersionedForm):
    completed_at = ParisDateTimeField(label=_("Done at (Paris time)"))
    reference = forms.CharField(label=_("Reference (e.g. CNIL number, PV number)"), max_length=200, required=False)
    late_reason = _text(
        _("Reasons for the delay"), help_text=_("Required when the obligation is completed after its due date.")
    )


class ObligationNotApplicableForm(VersionedForm):
    not_applicable_reason = _text(_("Why this obligation does not apply"), rows=4)
    decided_at = _happened_at(_("Decided at (Paris time)"))


class ObligationRequestedDueForm(VersionedForm):
    requested_due_at = ParisDateTimeField(label=_("Due date set by the authority (Paris time)"))
    reason = _text(_("Which request set this date"))


# --- filings, events, evidence, communications -------------------------------------------------


class FilingForm(CheckedForm):
    kind = forms.ChoiceField(label=_("Kind of filing"), choices=[("", "—"), *Filing.Kind.choices], required=False)
    sent_at = ParisDateTimeField(label=_("Sent at (Paris time)"))
    obligation = forms.ModelChoiceField(
        label=_("Obligation it satisfies"),
        queryset=Obligation.objects.none(),
        required=False,
        help_text=_(
            "Recording the filing completes this obligation; for a DORA intermediate report already filed, it "
            "records the updated report, from which the final report then runs."
        ),
    )
    reference = forms.CharField(label=_("Reference (e.g. CNIL number)"), max_length=200, required=False)
    channel = forms.CharField(label=_("Channel"), max_length=100, required=False)
    recipient = forms.CharField(label=_("Recipient"), max_length=200, required=False)
    content = _text(_("Content sent"), rows=4)
    receipt = forms.FileField(
        label=_("Receipt or proof (file)"),
        required=False,
        help_text=_("PDF, image, e-mail, text or office file; stored with its SHA-256."),
    )
    late_reason = _text(
        _("Reasons for the delay"), help_text=_("Required when the obligation is completed after its due date.")
    )

    def __init__(self, *args, case: BreachCase, lang: str = "fr", **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["obligation"]
        updatable = {rule.code for rule in regimes.RULES if rule.accepts_updates}
        field.queryset = (
            case.obligations.filter(controller_notice__isnull=True)
            .exclude(rule_code__in=NOT_BY_A_FILING)  # completed by their own record (a communication, the closure)
            .filter(Q(state=Obligation.State.PENDING) | Q(state=Obligation.State.DONE, rule_code__in=updatable))
            .order_by("due_at", "pk")
        )
        field.label_from_instance = lambda ob: (
            _("%(report)s (updated report)") % {"report": ob.label(lang)}
            if ob.state == Obligation.State.DONE
            else ob.label(lang)
        )


class TimelineEventForm(CheckedForm):
    occurred_at = ParisDateTimeField(label=_("When (Paris time)"))
    kind = forms.ChoiceField(label=_("Kind"), choices=TimelineEvent.Kind.choices, initial=TimelineEvent.Kind.OTHER)
    title = forms.CharField(label=_("Title"), max_length=300, required=False)
    description = _text(_("Description"))


class EvidenceForm(CheckedForm):
    file = forms.FileField(label=_("File"), help_text=_("PDF, image, e-mail, text or office file."))
    description = forms.CharField(label=_("Description"), max_length=500, required=False)


class CommunicationForm(CheckedForm):
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("", "—"), *MemberCommunication.Channel.choices], required=False
    )
    sent_at = ParisDateTimeField(label=_("Sent at (Paris time)"), required=False)
    recipients_count = forms.IntegerField(label=_("Number of recipients"), min_value=0, required=False)
    text = _text(_("Text sent (Art. 34(2))"), rows=6)
    exemption = forms.ChoiceField(
        label=_("Art. 34(3) ground (when nothing is sent)"),
        choices=[("", "—"), *BreachCase.Art34Exemption.choices],
        required=False,
    )
    exemption_reason = _text(_("Why the exemption applies"))
    evidence = forms.ModelChoiceField(label=_("Proof already uploaded"), queryset=None, required=False)
    late_reason = _text(
        _("Reasons for the delay"), help_text=_("Required when the communication comes after its due date.")
    )

    def __init__(self, *args, case: BreachCase, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evidence"].queryset = case.evidence.order_by("uploaded_at", "pk")


# --- processor to controllers --------------------------------------------------------------------


def active_relationships(processor_id: int):
    """The processor's own relationships it may pick on a case: processor-accepted, controller-accepted
    when on the platform, not ended. Never another organisation's list."""
    return (
        ProcessingRelationship.objects.filter(ProcessingRelationship.ACTIVE, processor_id=processor_id)
        .filter(Q(on_platform=False) | Q(controller__isnull=False))
        .order_by("controller_name", "pk")
    )


class ControllerAddForm(CheckedForm):
    relationship = forms.ModelChoiceField(
        label=_("Controller to inform"),
        queryset=ProcessingRelationship.objects.none(),
        help_text=_("Only your organisation's active relationships are listed (Controllers page)."),
    )
    notice_period_hours = forms.IntegerField(
        label=_("Contractual notice period (hours)"),
        min_value=1,
        max_value=NOTICE_PERIOD_MAX_HOURS,
        required=False,
        help_text=_("Empty: the contract's period, or without undue delay if the contract sets none."),
    )

    def __init__(self, *args, case: BreachCase, **kwargs):
        super().__init__(*args, **kwargs)
        listed = ControllerNotice.objects.filter(case=case, relationship__isnull=False).values("relationship_id")
        self.fields["relationship"].queryset = active_relationships(case.organization_id).exclude(pk__in=listed)
        self.fields["relationship"].label_from_instance = lambda rel: (
            f"{rel.controller_name} ({rel.controller_siren})" if rel.controller_siren else rel.controller_name
        )


class ControllerInformForm(VersionedForm):
    informed_at = ParisDateTimeField(label=_("Informed at (Paris time)"))
    channel = forms.CharField(label=_("Channel"), max_length=100, required=False)
    reference = forms.CharField(label=_("Reference"), max_length=200, required=False)
    late_reason = _text(
        _("Reasons for the delay"), help_text=_("Required when the controller is informed after the due date.")
    )


class ControllersInformManyForm(CheckedForm):
    """Inform several controllers of the case at once: those chosen, or every one not yet informed."""

    notices = forms.TypedMultipleChoiceField(
        label=_("Controllers to inform"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": _(
                "Some of the chosen controllers are not among this case's controllers to inform: nothing was recorded."
            )
        },
    )
    all_pending = forms.BooleanField(label=_("Every controller not yet informed"), required=False)
    informed_at = ParisDateTimeField(label=_("Informed at (Paris time)"))
    channel = forms.CharField(label=_("Channel"), max_length=100, required=False)
    reference = forms.CharField(label=_("Reference"), max_length=200, required=False)
    late_reason = _text(
        _("Reasons for the delay"), help_text=_("Required when a controller is informed after its due date.")
    )

    def __init__(self, *args, notices, **kwargs):
        super().__init__(*args, **kwargs)
        self.case_notices = notices
        self.fields["notices"].choices = [(n.pk, notice_choice_label(n)) for n in notices]

    def clean(self):
        data = super().clean()
        if data.get("all_pending"):
            data["notices"] = [n.pk for n in self.case_notices if n.informed_at is None]
        if not data.get("notices") and "notices" not in self.errors:
            self.add_error("notices", _("Choose at least one controller to inform."))
        return data


def notice_choice_label(notice) -> str:
    """A controller as listed for informing: its name, its due date (or that it was already informed)."""
    from .deadlines import PARIS

    if notice.informed_at is not None:
        return _("%(name)s (already informed)") % {"name": notice.controller_name}
    ob = getattr(notice, "obligation", None)
    if ob is not None and ob.due_at is not None:
        return _("%(name)s (due %(when)s)") % {
            "name": notice.controller_name,
            "when": ob.due_at.astimezone(PARIS).strftime("%d/%m/%Y %H:%M"),
        }
    return notice.controller_name


# --- case status -----------------------------------------------------------------------------------


class ContainForm(VersionedForm):
    contained_at = ParisDateTimeField(label=_("Contained at (Paris time)"))
    reason = _text(_("Comment"))


class ReasonForm(VersionedForm):
    reason = _text(_("Reason"), rows=4)


class CloseForm(ReasonForm):
    closed_at = _happened_at(_("Closed at (Paris time)"))


class DossierExportForm(CheckedForm):
    lang = forms.ChoiceField(label=_("Language"), choices=[("fr", _("French")), ("en", _("English"))])


# --- processing relationships and the inbox ---------------------------------------------------------


class DecisionForm(VersionedForm):
    """A decision on a record read at a version: the version is required, so an empty post decides nothing."""

    version = forms.IntegerField(min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput)


def parse_contacts(text: str) -> list[dict]:
    """One contact per line, "name; e-mail; role" (role optional); the service validates each one."""
    contacts = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(";")]
        if len(parts) == 1:
            parts = ["", parts[0], ""]
        parts += [""] * (3 - len(parts))
        if len(parts) > 3:
            raise ValidationError(_("One contact per line: name; e-mail; role."))
        contacts.append({"name": parts[0], "email": parts[1], "role": parts[2]})
    return contacts


class RelationshipForm(CheckedForm):
    organization = forms.ModelChoiceField(
        label=_("Processor (your organisation)"), queryset=Organization.objects.none()
    )
    controller_name = forms.CharField(label=_("Controller's name"), max_length=NAME_MAX)
    on_platform = forms.BooleanField(
        label=_("The controller uses this register"),
        required=False,
        help_text=_(
            "An invitation code is then shown once: send it to the controller's administrator, who enters it on "
            "its Processors page. Otherwise the controller is external: nothing is written outside your register."
        ),
    )
    controller_siren = forms.CharField(label=_("SIREN"), max_length=9, required=False, validators=[siren_validator])
    contacts = forms.CharField(
        label=_("Contacts to notify"),
        required=False,
        max_length=LONG_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: name; e-mail; role."),
    )
    notice_period_hours = forms.IntegerField(
        label=_("Contractual notice period (hours)"),
        min_value=1,
        max_value=NOTICE_PERIOD_MAX_HOURS,
        required=False,
        help_text=_("Empty: without undue delay (the organisation's internal target applies)."),
    )
    contract_reference = forms.CharField(label=_("Contract reference"), max_length=NAME_MAX, required=False)

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations

    def clean_contacts(self):
        contacts = parse_contacts(self.cleaned_data.get("contacts", ""))
        problems = contacts_errors(contacts)
        if problems:
            raise ValidationError(problems)
        return contacts


class RelationshipAcceptForm(CheckedForm):
    organization = forms.ModelChoiceField(
        label=_("Controller (your organisation)"), queryset=Organization.objects.none()
    )
    code = forms.CharField(label=_("Invitation code"), max_length=200)

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations


class RelationshipEndForm(DecisionForm):
    reason = _text(_("Reason"), required=True)


class OpenFromNoticeForm(DecisionForm):
    aware_at = ParisDateTimeField(
        label=_("Aware at (Paris time)"),
        help_text=_("Proposed: when the notice was received. Another time needs its justification."),
    )
    aware_justification = _text(_("Justification of the awareness time"))
    title = forms.CharField(label=_("Title"), max_length=300, required=False)


class AttachNoticeForm(DecisionForm):
    case = forms.ModelChoiceField(label=_("Case"), queryset=BreachCase.objects.none())
    reason = _text(_("Comment"))

    def __init__(self, *args, organization_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case"].queryset = (
            BreachCase.objects.filter(organization_id=organization_id)
            .exclude(status=BreachCase.Status.CLOSED)
            .order_by("-aware_at")
        )
        self.fields["case"].label_from_instance = lambda case: f"{case.reference} — {case.title}"


class DismissNoticeForm(DecisionForm):
    reason = _text(_("Why it does not concern your organisation"), required=True)


class RelationshipImportForm(CheckedForm):
    organization = forms.ModelChoiceField(
        label=_("Processor (your organisation)"), queryset=Organization.objects.none()
    )
    file = forms.FileField(
        label=_("CSV file"),
        required=False,
        help_text=_(
            "Columns: name; SIREN; contact e-mails; notice hours; contract reference (a header row names them)."
        ),
    )
    text = forms.CharField(
        label=_("Or paste the lines"),
        required=False,
        max_length=1_000_000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    skip_rejected = forms.BooleanField(label=_("Import only the valid lines"), required=False)

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload is not None:
            if upload.size > 1_000_000:
                raise ValidationError({"file": _("The file is too large (1 MB at most).")})
            raw = upload.read()
            try:
                data["text"] = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                data["text"] = raw.decode("cp1252", errors="replace")
        if not (data.get("text") or "").strip() and "text" not in self.errors:
            raise ValidationError({"file": _("Choose a CSV file or paste its lines.")})
        return data


# --- submissions: a filing drafted, reviewed and sent from the register ---------------------------


class SubmissionStepForm(VersionedForm):
    """A step of the review (start, submit): only the version the user read, which is required."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].required = True


def answer_field_name(section_key: str, field_key: str) -> str:
    return f"{section_key}__{field_key}"


class SubmissionEditForm(SubmissionStepForm):
    """One box per question of the receiving body's form, in its order (`cases.filings`)."""

    def __init__(self, *args, filing_form, **kwargs):
        self.filing_form = filing_form
        super().__init__(*args, **kwargs)
        for section, f in filing_form.all_fields():
            self.fields[answer_field_name(section.key, f.key)] = forms.CharField(
                label=f"{section.title} — {f.label}",
                required=False,
                strip=True,
                max_length=LONG_TEXT_MAX,
                widget=forms.Textarea(attrs={"rows": 3}) if f.multiline else forms.TextInput(),
            )
        # The checks of CheckedFormMixin ran before these fields existed: apply them now.
        for section, f in filing_form.all_fields():
            field = self.fields[answer_field_name(section.key, f.key)]
            field.validators = [*field.validators, TextCharactersValidator(multiline=f.multiline)]

    def content(self) -> dict:
        content: dict[str, dict[str, str]] = {}
        for section, f in self.filing_form.all_fields():
            content.setdefault(section.key, {})[f.key] = self.cleaned_data[answer_field_name(section.key, f.key)]
        return content

    def field_map(self) -> dict[str, str]:
        """The service names an answer "section.field": the form's box for it."""
        return {
            f"{section.key}.{f.key}": answer_field_name(section.key, f.key)
            for section, f in self.filing_form.all_fields()
        }


class SubmissionApproveForm(SubmissionStepForm):
    comment = _text(_("Comment of the review"), help_text=_("Kept with the approval, in the history and the dossier."))


class SubmissionSendBackForm(SubmissionStepForm):
    comment = _text(_("What the author should change"), rows=4)


class SubmissionSendForm(SubmissionStepForm):
    sent_at = ParisDateTimeField(
        label=_("Sent at (Paris time)"), help_text=_("When it was actually sent: it may be earlier than today.")
    )
    channel = forms.CharField(label=_("Channel"), max_length=100, required=False)
    recipient = forms.CharField(label=_("Recipient"), max_length=NAME_MAX, required=False)
    authority_reference = forms.CharField(
        label=_("Reference given by the authority"), max_length=NAME_MAX, required=False
    )
    receipt = forms.FileField(
        label=_("Receipt or proof (file)"),
        required=False,
        help_text=_("PDF, image, e-mail, text or office file; stored with its SHA-256."),
    )
    late_reason = _text(
        _("Reasons for the delay"), help_text=_("Required when the obligation is completed after its due date.")
    )


class SubmissionStartForm(SubmissionStepForm):
    """Start a draft; where several filings fulfil the obligation (the complaint), choose which one."""

    kind = forms.ChoiceField(label=_("What to draft"), choices=(), required=False, widget=forms.RadioSelect)

    def __init__(self, *args, kinds: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        if len(kinds) > 1:
            self.fields["kind"].choices = kinds
            self.fields["kind"].required = True
            self.fields["kind"].initial = kinds[0][0]
        else:
            del self.fields["kind"]


class Art34SendForm(SubmissionSendForm):
    """The Art. 34 letter sent by the mailing chain: how, and how many letters (recorded as the communication)."""

    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[c for c in MemberCommunication.Channel.choices if c[0] != MemberCommunication.Channel.NONE],
    )
    recipients_count = forms.IntegerField(label=_("Number of letters sent"), min_value=1)
    recipient = forms.CharField(label=_("Mailing chain or printer"), max_length=NAME_MAX, required=False)
    authority_reference = forms.CharField(label=_("Reference of the mailing"), max_length=NAME_MAX, required=False)
