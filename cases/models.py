"""The breach-case domain: organisations, memberships, cases and what hangs off a case.

Every model a user can change keeps an audited, hash-chained history
(`cases.history`). Writes go through `cases.services`; the managers here refuse
the bulk writes that would skip history (`QuerySet.update()`, `bulk_update()`,
`QuerySet.delete()`), and nothing is ever deleted.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from . import deadlines
from .history import ChainedHistoricalRecord
from .regimes import AUTHORITY_LABELS, RULE_CHOICES, RULES_BY_CODE, Authority


class HistoryBypassError(RuntimeError):
    """A write that would leave no history row was attempted."""


class AuditedQuerySet(models.QuerySet):
    """Refuses the bulk writes that bypass django-simple-history (update, bulk_update, bulk_create, delete)."""

    def update(self, **kwargs):
        raise HistoryBypassError(
            f"QuerySet.update() on {self.model.__name__} would skip the audited history; use cases.services."
        )

    def bulk_update(self, objs, fields, batch_size=None):
        raise HistoryBypassError(f"bulk_update() on {self.model.__name__} would skip the audited history.")

    def bulk_create(self, objs, *args, **kwargs):
        raise HistoryBypassError(f"bulk_create() on {self.model.__name__} would write records without history.")

    def delete(self):
        raise HistoryBypassError(f"{self.model.__name__} records are never deleted.")

    update.queryset_only = True
    delete.queryset_only = True
    bulk_create.queryset_only = True


class AuditedModel(models.Model):
    """Base of every history-tracked model: no deletion, no history-less save."""

    objects = AuditedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if hasattr(self, "skip_history_when_saving"):
            raise HistoryBypassError("Saving without a history record is not allowed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise HistoryBypassError(f"{type(self).__name__} records are never deleted.")


def audited_history(**kwargs) -> HistoricalRecords:
    return HistoricalRecords(bases=[ChainedHistoricalRecord], cascade_delete_history=False, **kwargs)


siren_validator = RegexValidator(r"^\d{9}$", _("A SIREN number has exactly 9 digits."))


class Organization(AuditedModel):
    class Kind(models.TextChoices):
        CONTROLLER = "controller", _("Controller")
        PROCESSOR = "processor", _("Processor")
        BOTH = "both", _("Controller and processor")

    name = models.CharField(_("name"), max_length=200, unique=True)
    code = models.SlugField(
        _("short code"), max_length=20, unique=True, help_text=_("Used as the prefix of case references.")
    )
    kind = models.CharField(_("role under the GDPR"), max_length=20, choices=Kind.choices, default=Kind.CONTROLLER)
    siren = models.CharField(_("SIREN"), max_length=9, blank=True, validators=[siren_validator])
    address = models.TextField(_("address"), blank=True)

    dpo_name = models.CharField(_("DPO name"), max_length=200, blank=True)
    dpo_email = models.EmailField(_("DPO e-mail"), blank=True)
    dpo_phone = models.CharField(_("DPO phone"), max_length=40, blank=True)
    legal_rep_name = models.CharField(_("legal representative"), max_length=200, blank=True)
    legal_rep_title = models.CharField(_("legal representative's title"), max_length=200, blank=True)
    legal_rep_email = models.EmailField(_("legal representative's e-mail"), blank=True)

    is_nis2_entity = models.BooleanField(_("NIS2 essential or important entity"), default=False)
    is_ose = models.BooleanField(_("operator of essential services (NIS1)"), default=False)
    is_oiv = models.BooleanField(_("operator of vital importance (OIV)"), default=False)
    is_health_establishment = models.BooleanField(_("health establishment or care body"), default=False)
    is_dora_entity = models.BooleanField(_("DORA financial entity"), default=False)
    dora_relief_excluded = models.BooleanField(
        _("excluded from DORA weekend relief"),
        default=False,
        help_text=_("Entity types listed in art. 5(5) of RTS 2025/301 may not file on the next working day."),
    )
    has_cyber_insurance = models.BooleanField(_("holds a cyber-insurance policy"), default=False)

    undue_delay_target_hours = models.PositiveIntegerField(
        _("internal target for 'without undue delay' (hours)"),
        default=deadlines.DEFAULT_INTERNAL_TARGET_HOURS,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 30)],
        help_text=_("Internal policy, not a legal deadline."),
    )
    internal_targets = models.JSONField(
        _("internal targets per rule (hours)"),
        default=dict,
        blank=True,
        help_text=_('Overrides per rule code, e.g. {"GDPR_34": 48}. Internal policy, not a legal deadline.'),
    )

    history = audited_history()

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        targets = self.internal_targets
        if not isinstance(targets, dict):
            raise ValidationError(
                {"internal_targets": _('Give a mapping of rule codes to hours, e.g. {"GDPR_34": 48}.')}
            )
        errors = []
        for code, hours in targets.items():
            if code not in RULES_BY_CODE:
                errors.append(_("%(code)s is not a rule code.") % {"code": code})
            elif isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= 24 * 30:
                errors.append(_("%(code)s: the target is a whole number of hours from 1 to 720.") % {"code": code})
        if errors:
            raise ValidationError({"internal_targets": errors})

    @property
    def is_controller(self) -> bool:
        return self.kind in {self.Kind.CONTROLLER, self.Kind.BOTH}

    @property
    def is_processor(self) -> bool:
        return self.kind in {self.Kind.PROCESSOR, self.Kind.BOTH}

    def internal_target_for(self, rule_code: str) -> int | None:
        """The organisation's target for an undue-delay rule: per rule, else None (rule practice, then default)."""
        value = (self.internal_targets or {}).get(rule_code)
        return int(value) if value is not None else None

    def history_chain_key(self) -> str:
        return f"org:{self.pk}"


class Membership(AuditedModel):
    class Role(models.TextChoices):
        DPO = "dpo", _("Data protection officer")
        LEGAL = "legal", _("Legal")
        AUDITOR = "auditor", _("Auditor")
        ADMIN = "admin", _("Administrator")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = audited_history()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="membership_unique_user_org")]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.get_role_display()})"

    def history_chain_key(self) -> str:
        return f"org:{self.organization_id}"


class DataCategory(models.TextChoices):
    IDENTITY = "identity", _("Civil status / identity (name, date of birth)")
    NIR = "nir", _("Social security number (NIR)")
    CONTACT = "contact", _("Contact details")
    IDENTITY_DOCUMENTS = "id_documents", _("Identity documents")
    FINANCIAL = "financial", _("Financial or banking data")
    HEALTH = "health", _("Health data (Art. 9)")
    INSURANCE = "insurance", _("Insurer and contract guarantees")
    CREDENTIALS = "credentials", _("Logins and passwords")
    LOCATION = "location", _("Location data")
    BEHAVIOURAL = "behavioural", _("Behavioural data (habits, traffic)")
    SENSITIVE_OTHER = "sensitive_other", _("Other sensitive data (Art. 9 / 10)")
    PROFESSIONAL = "professional", _("Professional or education data")


class SubjectCategory(models.TextChoices):
    MEMBERS = "members", _("Members / insured persons and beneficiaries")
    CUSTOMERS = "customers", _("Customers")
    PATIENTS = "patients", _("Patients")
    EMPLOYEES = "employees", _("Employees")
    PRACTITIONERS = "practitioners", _("Health professionals")
    MINORS = "minors", _("Minors")
    VULNERABLE = "vulnerable", _("Vulnerable persons")
    OTHER = "other", _("Other")


class BreachCase(AuditedModel):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CONTAINED = "contained", _("Contained")
        CLOSED = "closed", _("Closed")

    class Nature(models.TextChoices):
        ESTABLISHED = "established", _("Established")
        SUSPECTED = "suspected", _("Suspected")

    class Origin(models.TextChoices):
        CREDENTIAL_THEFT = "credential_theft", _("Use of stolen or usurped credentials")
        HACKING = "hacking", _("Hacking, malware, phishing")
        LOST_DEVICE = "lost_device", _("Lost or stolen device or paper")
        WRONG_RECIPIENT = "wrong_recipient", _("Data sent to the wrong recipient")
        ACCIDENTAL_PUBLICATION = "accidental_publication", _("Accidental publication")
        IMPROPER_DISPOSAL = "improper_disposal", _("Improper disposal")
        OTHER = "other", _("Other")
        UNKNOWN = "unknown", _("Unknown")

    class Cause(models.TextChoices):
        EXTERNAL_MALICIOUS = "external_malicious", _("External, malicious")
        EXTERNAL_ACCIDENTAL = "external_accidental", _("External, accidental")
        INTERNAL_MALICIOUS = "internal_malicious", _("Internal, malicious")
        INTERNAL_ACCIDENTAL = "internal_accidental", _("Internal, accidental")
        UNKNOWN = "unknown", _("Unknown")

    class SeverityLevel(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")
        VERY_HIGH = "very_high", _("Very high")

    class Art34Exemption(models.TextChoices):
        UNINTELLIGIBLE = "34_3_a", _("Art. 34(3)(a): data unintelligible (e.g. encrypted)")
        RISK_REMOVED = "34_3_b", _("Art. 34(3)(b): later measures removed the high risk")
        DISPROPORTIONATE = "34_3_c", _("Art. 34(3)(c): disproportionate effort, public communication instead")

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="cases")
    reference = models.CharField(_("reference"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=300)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)

    # The two clocks (EDPB Guidelines 9/2022).
    first_signal_at = models.DateTimeField(_("first signal"), help_text=_("The first alert or report."))
    first_signal_source = models.TextField(_("how it was discovered"), blank=True)
    aware_at = models.DateTimeField(
        _("aware at"),
        db_index=True,
        help_text=_("When the organisation was reasonably certain that personal data were compromised."),
    )
    aware_justification = models.TextField(_("justification of the awareness time"))
    incident_known_at = models.DateTimeField(
        _("incident known at"),
        null=True,
        blank=True,
        help_text=_(
            "Knowledge of the security incident, for ANSSI, NIS, DORA and complaint clocks; "
            "awareness is used when empty."
        ),
    )

    occurred_from = models.DateTimeField(_("breach started"), null=True, blank=True)
    occurred_to = models.DateTimeField(_("breach ended"), null=True, blank=True)
    ongoing = models.BooleanField(_("still ongoing"), default=False)
    contained_at = models.DateTimeField(_("contained at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    nature = models.CharField(_("nature"), max_length=20, choices=Nature.choices, default=Nature.ESTABLISHED)
    breach_confidentiality = models.BooleanField(_("loss of confidentiality"), default=False)
    breach_integrity = models.BooleanField(_("loss of integrity"), default=False)
    breach_availability = models.BooleanField(_("loss of availability"), default=False)
    origin = models.CharField(_("origin"), max_length=30, choices=Origin.choices, default=Origin.UNKNOWN)
    cause = models.CharField(_("cause"), max_length=30, choices=Cause.choices, default=Cause.UNKNOWN)
    description = models.TextField(_("description"), blank=True)

    data_categories = models.JSONField(_("data categories"), default=list, blank=True)
    subject_categories = models.JSONField(_("categories of persons"), default=list, blank=True)
    persons_approx = models.PositiveBigIntegerField(_("approximate number of persons"), null=True, blank=True)
    records_approx = models.PositiveBigIntegerField(_("approximate number of records"), null=True, blank=True)
    directly_identifiable = models.BooleanField(_("persons directly identifiable"), default=True)
    likely_consequences = models.TextField(_("likely consequences"), blank=True)
    measures_immediate = models.TextField(_("immediate measures"), blank=True)
    measures_medium = models.TextField(_("medium-term measures"), blank=True)
    measures_long = models.TextField(_("long-term measures"), blank=True)

    # ENISA severity inputs and result (cases.severity).
    severity_dpc_adjustment = models.SmallIntegerField(
        _("data-processing context adjustment"),
        default=0,
        validators=[MinValueValidator(-3), MaxValueValidator(3)],
        help_text=_("Raise or lower the data-processing context score; the result stays within 1..4."),
    )
    severity_ei = models.DecimalField(
        _("ease of identification"), max_digits=3, decimal_places=2, null=True, blank=True
    )
    severity_cb_confidentiality = models.DecimalField(
        _("circumstance: confidentiality"), max_digits=3, decimal_places=2, default=0
    )
    severity_cb_integrity = models.DecimalField(_("circumstance: integrity"), max_digits=3, decimal_places=2, default=0)
    severity_cb_availability = models.DecimalField(
        _("circumstance: availability"), max_digits=3, decimal_places=2, default=0
    )
    severity_cb_malicious = models.BooleanField(_("circumstance: malicious intent"), default=False)
    severity_score = models.DecimalField(_("severity score"), max_digits=4, decimal_places=2, null=True, blank=True)
    severity_level = models.CharField(_("severity level"), max_length=20, choices=SeverityLevel.choices, blank=True)

    # Human decisions, with who, when and why.
    notify_authority = models.BooleanField(_("notify the authority"), null=True, blank=True)
    notify_authority_reason = models.TextField(_("reason (authority)"), blank=True)
    notify_authority_decided_at = models.DateTimeField(null=True, blank=True)
    notify_authority_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    inform_persons = models.BooleanField(_("inform the persons"), null=True, blank=True)
    inform_persons_reason = models.TextField(_("reason (persons)"), blank=True)
    inform_persons_exemption = models.CharField(
        _("Art. 34(3) ground"), max_length=10, choices=Art34Exemption.choices, blank=True
    )
    inform_persons_decided_at = models.DateTimeField(null=True, blank=True)
    inform_persons_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    # Processor involvement (controller side) and sector classifications.
    processor = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("processor")
    )
    processor_name = models.CharField(_("processor (if not listed)"), max_length=200, blank=True)
    processor_alerted_at = models.DateTimeField(_("processor alerted us at"), null=True, blank=True)
    source_notice = models.OneToOneField(
        "ControllerNotice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="controller_case",
        help_text=_("The processor's notice that opened this case."),
    )
    nis2_significant = models.BooleanField(_("significant incident (NIS2)"), null=True, blank=True)
    dora_major = models.BooleanField(_("major ICT-related incident (DORA)"), null=True, blank=True)
    dora_classified_at = models.DateTimeField(_("classified as major at"), null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    history = audited_history()

    class Meta:
        ordering = ["-aware_at"]
        verbose_name = _("breach case")
        verbose_name_plural = _("breach cases")
        indexes = [models.Index(fields=["organization", "status"])]

    def __str__(self) -> str:
        return f"{self.reference} — {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("cases:case_detail", kwargs={"reference": self.reference})

    def history_chain_key(self) -> str:
        return f"case:{self.pk}"

    @property
    def decision_conflict(self) -> bool:
        """High risk, persons not informed and no Art. 34(3) ground: flagged on the case."""
        high = self.severity_level in {self.SeverityLevel.HIGH, self.SeverityLevel.VERY_HIGH}
        return high and self.inform_persons is False and not self.inform_persons_exemption


class CaseChild(AuditedModel):
    """Base of the records that belong to one case and share its history chain."""

    class Meta:
        abstract = True

    def history_chain_key(self) -> str:
        return f"case:{self.case_id}"


class ControllerNotice(CaseChild):
    """A controller the processor must inform of its breach (Art. 33(2)), and when it did."""

    case = models.ForeignKey(BreachCase, on_delete=models.PROTECT, related_name="controller_notices")
    controller = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    notice_period_hours = models.PositiveIntegerField(
        _("contractual notice period (hours)"),
        null=True,
        blank=True,
        help_text=_("Empty: without undue delay (the organisation's internal target applies)."),
    )
    informed_at = models.DateTimeField(_("informed at"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=100, blank=True)
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    informed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    history = audited_history()

    class Meta:
        ordering = ["controller__name"]
        constraints = [
            models.UniqueConstraint(fields=["case", "controller"], name="controller_notice_unique_case_controller")
        ]
        verbose_name = _("controller notice")
        verbose_name_plural = _("controller notices")

    def __str__(self) -> str:
        return f"{self.case.reference} → {self.controller}"


class Obligation(CaseChild):
    """One applicable rule on one case: legal wording copied from the catalogue, due date stored."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        NOT_APPLICABLE = "not_applicable", _("Not applicable (decided)")
        WITHDRAWN = "withdrawn", _("Withdrawn (rule no longer applies)")

    case = models.ForeignKey(BreachCase, on_delete=models.PROTECT, related_name="obligations")
    controller_notice = models.OneToOneField(
        ControllerNotice, on_delete=models.PROTECT, null=True, blank=True, related_name="obligation"
    )
    rule_code = models.CharField(_("rule"), max_length=40, choices=RULE_CHOICES)
    label_fr = models.CharField(max_length=300)
    label_en = models.CharField(max_length=300)
    authority = models.CharField(
        _("authority"), max_length=30, choices=[(a.value, AUTHORITY_LABELS[a]) for a in Authority], db_index=True
    )
    legal_source = models.CharField(_("legal source"), max_length=300)
    legal_text_fr = models.TextField()
    legal_text_en = models.TextField()
    deadline_label_fr = models.CharField(max_length=100)
    deadline_label_en = models.CharField(max_length=100)
    anchor_at = models.DateTimeField(_("clock started at"), null=True, blank=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True, db_index=True)
    due_basis = models.CharField(max_length=20, choices=[(b.value, b.value) for b in deadlines.DueBasis])
    requested_due_at = models.DateTimeField(_("due date requested by the authority"), null=True, blank=True)

    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.PENDING, db_index=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    late_reason = models.TextField(_("reasons for the delay"), blank=True)
    not_applicable_reason = models.TextField(_("why it does not apply"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    history = audited_history()

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "rule_code"],
                condition=models.Q(controller_notice__isnull=True),
                name="obligation_unique_rule_per_case",
            ),
        ]
        indexes = [models.Index(fields=["state", "due_at"])]
        verbose_name = _("obligation")
        verbose_name_plural = _("obligations")

    def __str__(self) -> str:
        return f"{self.case.reference}: {self.rule_code}"

    def get_absolute_url(self) -> str:
        """The obligation's row on its case page."""
        return f"{self.case.get_absolute_url()}#obligation-{self.pk}"

    @property
    def is_acted_upon(self) -> bool:
        return self.state in {self.State.DONE, self.State.NOT_APPLICABLE} or bool(self.reference)

    def status(self, now) -> deadlines.Status:
        return deadlines.status(
            due_at=self.due_at,
            completed_at=self.completed_at if self.state == self.State.DONE else None,
            not_applicable=self.state in {self.State.NOT_APPLICABLE, self.State.WITHDRAWN},
            now=now,
            started=self.anchor_at is not None or self.due_at is not None,
        )

    def label(self, lang: str = "fr") -> str:
        return self.label_en if lang == "en" else self.label_fr


class Evidence(CaseChild):
    """An uploaded proof: immutable once stored, identified by its SHA-256."""

    case = models.ForeignKey(BreachCase, on_delete=models.PROTECT, related_name="evidence")
    file = models.FileField(upload_to="evidence/%Y/%m/", max_length=300)
    original_name = models.CharField(_("file name"), max_length=255)
    description = models.CharField(_("description"), max_length=500, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    content_type = models.CharField(_("type"), max_length=100)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    history = audited_history()

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")

    def __str__(self) -> str:
        return self.original_name

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise HistoryBypassError("Evidence is immutable once stored.")
        super().save(*args, **kwargs)


class Filing(CaseChild):
    """What was actually sent to an authority, a controller or the persons."""

    class Kind(models.TextChoices):
        CNIL_INITIAL = "cnil_initial", _("CNIL initial notification")
        CNIL_COMPLEMENTARY = "cnil_complementary", _("CNIL complementary notification")
        ANSSI = "anssi", _("ANSSI / CERT-FR declaration")
        NIS2 = "nis2", _("NIS2 report")
        HEALTH = "health", _("ARS / CERT Santé report")
        DORA = "dora", _("DORA report (ACPR)")
        COMPLAINT = "complaint", _("Criminal complaint")
        CONTROLLER = "controller", _("Notice to a controller")
        MEMBERS = "members", _("Communication to persons")
        OTHER = "other", _("Other")

    case = models.ForeignKey(BreachCase, on_delete=models.PROTECT, related_name="filings")
    obligation = models.ForeignKey(Obligation, on_delete=models.PROTECT, null=True, blank=True, related_name="filings")
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    sent_at = models.DateTimeField(_("sent at"))
    channel = models.CharField(_("channel"), max_length=100, blank=True)
    recipient = models.CharField(_("recipient"), max_length=200, blank=True)
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    content = models.TextField(_("content sent"), blank=True)
    evidence = models.ForeignKey(Evidence, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    history = audited_history()

    class Meta:
        ordering = ["sent_at", "pk"]
        verbose_name = _("filing")
        verbose_name_plural = _("filings")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference}".strip()


class TimelineEvent(CaseChild):
    class Kind(models.TextChoices):
        DETECTION = "detection", _("Detection")
        CONTAINMENT = "containment", _("Containment")
        INVESTIGATION = "investigation", _("Investigation")
        NOTIFICATION = "notification", _("Notification")
        COMMUNICATION = "communication", _("Communication")
        RECOVERY = "recovery", _("Recovery")
        DECISION = "decision", _("Decision")
        OTHER = "other", _("Other")

    case = models.ForeignKey(BreachCase, on_delete=models.PROTECT, related_name="events")
    occurred_at = models.DateTimeField(_("when"), db_index=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    history = audited_history()

    class Meta:
        ordering = ["occurred_at", "pk"]
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")

    def __str__(self) -> str:
        return self.title


class MemberCommunication(CaseChild):
    """A communication campaign to the affected persons (Art. 34), or the exemption relied on."""

    class Channel(models.TextChoices):
        LETTER = "letter", _("Letter")
        EMAIL = "email", _("E-mail")
        PORTAL = "portal", _("Member portal banner")
        SMS = "sms", _("SMS")
        PUBLIC = "public", _("Public communication (Art. 34(3)(c))")
        NONE = "none", _("Not sent (exemption)")

    case = models.ForeignKey(BreachCase, on_delete=models.PROTECT, related_name="communications")
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    recipients_count = models.PositiveBigIntegerField(_("number of recipients"), default=0)
    text = models.TextField(_("text sent"), blank=True)
    exemption = models.CharField(
        _("Art. 34(3) ground"), max_length=10, choices=BreachCase.Art34Exemption.choices, blank=True
    )
    exemption_reason = models.TextField(_("exemption reasoning"), blank=True)
    evidence = models.ForeignKey(Evidence, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    history = audited_history()

    class Meta:
        ordering = ["sent_at", "pk"]
        verbose_name = _("member communication")
        verbose_name_plural = _("member communications")

    def __str__(self) -> str:
        return f"{self.get_channel_display()} ({self.recipients_count})"


class CalendarFeedToken(models.Model):
    """A personal, revocable secret URL to one organisation's running deadlines as an iCalendar feed.

    Only the SHA-256 of the token is stored: the URL is shown once when issued. A credential,
    not a fact of a case, so it keeps no history row; issuing and revoking it go to the
    security log instead (`cases.calendar_feed`).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="calendar_feed_tokens")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="calendar_feed_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="fr")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"],
                condition=models.Q(revoked_at__isnull=True),
                name="calendar_feed_token_one_active_per_user_org",
            )
        ]
        verbose_name = _("calendar feed token")
        verbose_name_plural = _("calendar feed tokens")

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.created_at:%Y-%m-%d})"
