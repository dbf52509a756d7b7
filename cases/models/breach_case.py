"""The breach case: the two clocks, the facts in the order of the CNIL form, the decisions."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ..inputs import COUNT_MAX, LONG_TEXT_MAX
from .base import AuditedModel, audited_history
from .organizations import Organization


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


# The columns of BreachCase derived from its obligations for the case list (see `next_due_at`).
LIST_FIELDS = frozenset({"next_due_at"})


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
    first_signal_source = models.TextField(_("how it was discovered"), blank=True, max_length=LONG_TEXT_MAX)
    aware_at = models.DateTimeField(
        _("aware at"),
        db_index=True,
        help_text=_("When the organisation was reasonably certain that personal data were compromised."),
    )
    aware_justification = models.TextField(_("justification of the awareness time"), max_length=LONG_TEXT_MAX)
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
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)  # when it was closed (may be past)
    closed_recorded_at = models.DateTimeField(_("closure recorded at"), null=True, blank=True)

    nature = models.CharField(_("nature"), max_length=20, choices=Nature.choices, default=Nature.ESTABLISHED)
    breach_confidentiality = models.BooleanField(_("loss of confidentiality"), default=False)
    breach_integrity = models.BooleanField(_("loss of integrity"), default=False)
    breach_availability = models.BooleanField(_("loss of availability"), default=False)
    origin = models.CharField(_("origin"), max_length=30, choices=Origin.choices, default=Origin.UNKNOWN)
    cause = models.CharField(_("cause"), max_length=30, choices=Cause.choices, default=Cause.UNKNOWN)
    description = models.TextField(_("description"), blank=True, max_length=LONG_TEXT_MAX)

    data_categories = models.JSONField(_("data categories"), default=list, blank=True)
    subject_categories = models.JSONField(_("categories of persons"), default=list, blank=True)
    persons_approx = models.PositiveBigIntegerField(
        _("approximate number of persons"), null=True, blank=True, validators=[MaxValueValidator(COUNT_MAX)]
    )
    records_approx = models.PositiveBigIntegerField(
        _("approximate number of records"), null=True, blank=True, validators=[MaxValueValidator(COUNT_MAX)]
    )
    directly_identifiable = models.BooleanField(_("persons directly identifiable"), default=True)
    likely_consequences = models.TextField(_("likely consequences"), blank=True, max_length=LONG_TEXT_MAX)
    measures_immediate = models.TextField(_("immediate measures"), blank=True, max_length=LONG_TEXT_MAX)
    measures_medium = models.TextField(_("medium-term measures"), blank=True, max_length=LONG_TEXT_MAX)
    measures_long = models.TextField(_("long-term measures"), blank=True, max_length=LONG_TEXT_MAX)

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

    # Human decisions, with who, when and why. `*_decided_at` is when the decision was taken (it may be
    # entered later, never in the future); `*_recorded_at` when it was recorded in the register (empty
    # for a decision recorded before the two were told apart: it was recorded when it was taken).
    notify_authority = models.BooleanField(_("notify the authority"), null=True, blank=True)
    notify_authority_reason = models.TextField(_("reason (authority)"), blank=True, max_length=LONG_TEXT_MAX)
    notify_authority_decided_at = models.DateTimeField(null=True, blank=True)
    notify_authority_recorded_at = models.DateTimeField(_("decision (authority) recorded at"), null=True, blank=True)
    notify_authority_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    inform_persons = models.BooleanField(_("inform the persons"), null=True, blank=True)
    inform_persons_reason = models.TextField(_("reason (persons)"), blank=True, max_length=LONG_TEXT_MAX)
    inform_persons_exemption = models.CharField(
        _("Art. 34(3) ground"), max_length=10, choices=Art34Exemption.choices, blank=True
    )
    inform_persons_decided_at = models.DateTimeField(null=True, blank=True)
    inform_persons_recorded_at = models.DateTimeField(_("decision (persons) recorded at"), null=True, blank=True)
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

    # What the case list sorts on, derived from the case's obligations (which are audited, each
    # change a history row of its own): the earliest due date of a pending obligation. Written only
    # by `store_list_fields`, from the services' single write path (`services.common.save` of an
    # obligation, under the case lock); not a fact of the case, so not in its history nor its version.
    next_due_at = models.DateTimeField(null=True, blank=True, editable=False, db_index=True)

    history = audited_history(excluded_fields=["next_due_at"])

    class Meta:
        ordering = ["-aware_at"]
        verbose_name = _("breach case")
        verbose_name_plural = _("breach cases")
        indexes = [models.Index(fields=["organization", "status"])]

    def __str__(self) -> str:
        return f"{self.reference} — {self.title}"

    def save(self, *args, **kwargs):
        """As every audited record; an edit never writes the derived list fields (an instance may hold stale ones)."""
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields if not f.primary_key and f.name not in LIST_FIELDS
            ]
        super().save(*args, **kwargs)

    @classmethod
    def list_fields_of(cls, case_id: int) -> dict:
        """The list fields of a case recomputed from its obligations (one query)."""
        from .obligations import Obligation

        pending = Obligation.objects.filter(case_id=case_id, state=Obligation.State.PENDING)
        return {"next_due_at": pending.aggregate(at=models.Min("due_at"))["at"]}

    @classmethod
    def store_list_fields(cls, case_id: int) -> dict:
        """Recompute and store the case's list fields; for the services' write path, under the case lock.

        A plain queryset: these columns are excluded from the history and the version (derived
        data, not a fact), which the audited manager's refusal of update() is there to protect.
        """
        fields = cls.list_fields_of(case_id)
        models.QuerySet(cls).filter(pk=case_id).update(**fields)
        return fields

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
