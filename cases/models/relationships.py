"""Processing relationships (processor x controller, under a contract) and the notices a controller receives.

A relationship belongs to the processor that created it. Its controller is either an organisation
on this platform, linked only once an administrator of that organisation entered the invitation code
the processor sent out of band (so no page reveals that another tenant exists), or an external
controller known by name, SIREN and contacts (nothing is then written outside the processor's register).

Both records share the relationship's own history chain (`rel:<id>`): each side writes there what it
agreed to or decided, never in the other side's case chains.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..inputs import LONG_TEXT_MAX, NAME_MAX, NOTICE_PERIOD_MAX_HOURS
from .base import AuditedModel, audited_history, siren_validator
from .breach_case import BreachCase
from .organizations import Organization

CONTACTS_MAX = 20
CONTACT_ROLE_MAX = 100


def contacts_errors(contacts) -> list[str]:
    """Why a list of contacts ({name, email, role}) is not acceptable (empty list: it is)."""
    from django.core.validators import validate_email

    from ..inputs import text_errors

    if not isinstance(contacts, list):
        return [str(_("Give the contacts as a list of name, e-mail and role."))]
    if len(contacts) > CONTACTS_MAX:
        return [str(_("At most %(n)s contacts.") % {"n": CONTACTS_MAX})]
    errors: list[str] = []
    for number, contact in enumerate(contacts, start=1):
        if not isinstance(contact, dict) or set(contact) - {"name", "email", "role"}:
            errors.append(str(_("Contact %(n)s: give a name, an e-mail and a role.") % {"n": number}))
            continue
        values = {key: contact.get(key, "") for key in ("name", "email", "role")}
        if not all(isinstance(v, str) for v in values.values()):
            errors.append(str(_("Contact %(n)s: give a name, an e-mail and a role.") % {"n": number}))
            continue
        try:
            validate_email(values["email"])
        except ValidationError:
            errors.append(str(_("Contact %(n)s: enter a valid e-mail address.") % {"n": number}))
        for key, limit in (("name", NAME_MAX), ("role", CONTACT_ROLE_MAX), ("email", 254)):
            for problem in text_errors(values[key], max_length=limit, multiline=False):
                errors.append(str(_("Contact %(n)s: %(problem)s") % {"n": number, "problem": problem}))
    return errors


class ProcessingRelationship(AuditedModel):
    """A processor's contract with one controller: whom to notify, within which period, who agreed."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the controller")
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")

    processor = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="controller_relationships", verbose_name=_("processor")
    )
    controller = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="processor_relationships",
        verbose_name=_("controller on the platform"),
    )
    on_platform = models.BooleanField(_("controller on the platform"), default=False)
    controller_name = models.CharField(_("controller"), max_length=NAME_MAX)
    controller_siren = models.CharField(_("SIREN"), max_length=9, blank=True, validators=[siren_validator])
    contacts = models.JSONField(_("contacts to notify"), default=list, blank=True)
    notice_period_hours = models.PositiveIntegerField(
        _("contractual notice period (hours)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(NOTICE_PERIOD_MAX_HOURS)],
        help_text=_("Empty: without undue delay (the organisation's internal target applies)."),
    )
    contract_reference = models.CharField(_("contract reference"), max_length=NAME_MAX, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    processor_accepted_at = models.DateTimeField(_("accepted by the processor at"), null=True, blank=True)
    processor_accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    controller_accepted_at = models.DateTimeField(_("accepted by the controller at"), null=True, blank=True)
    controller_accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Only the SHA-256 of the invitation code is kept; the code itself is shown once to the processor.
    invitation_digest = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    invitation_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    end_reason = models.TextField(_("reason for ending"), blank=True, max_length=LONG_TEXT_MAX)

    history = audited_history()

    class Meta:
        ordering = ["controller_name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["processor", "controller_siren"],
                condition=~models.Q(controller_siren="") & models.Q(ended_at__isnull=True),
                name="relationship_unique_processor_siren",
            ),
        ]
        verbose_name = _("processing relationship")
        verbose_name_plural = _("processing relationships")

    def __str__(self) -> str:
        return self.controller_name

    def history_chain_key(self) -> str:
        return f"rel:{self.pk}"

    def clean(self) -> None:
        super().clean()
        problems = contacts_errors(self.contacts)
        if problems:
            raise ValidationError({"contacts": problems})

    @property
    def status(self) -> str:
        if self.ended_at is not None:
            return self.Status.ENDED
        if self.processor_accepted_at is None or (self.on_platform and self.controller_accepted_at is None):
            return self.Status.PENDING
        return self.Status.ACTIVE

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    def get_status_display(self) -> str:
        return str(self.Status(self.status).label)


# `status == ACTIVE` as a filter, for every list of active relationships (never a copy of the rule).
ProcessingRelationship.ACTIVE = models.Q(ended_at__isnull=True, processor_accepted_at__isnull=False) & (
    models.Q(on_platform=False) | models.Q(controller_accepted_at__isnull=False)
)


class ReceivedNotice(AuditedModel):
    """A processor's notice as it lands in an on-platform controller's inbox, and the controller's decision.

    Receiving starts no clock: the controller decides whether it opens its own case (aware from the
    time it chooses, justified), attaches the notice to one of its cases, or records why it does not
    concern it. The processor sees only that it was received and when it was acknowledged.
    """

    class Decision(models.TextChoices):
        RECEIVED = "received", _("Received, to decide")
        OPENED = "opened", _("Own case opened")
        ATTACHED = "attached", _("Attached to an existing case")
        NOT_CONCERNED = "not_concerned", _("Does not concern us")

    notice = models.OneToOneField("ControllerNotice", on_delete=models.PROTECT, related_name="receipt")
    relationship = models.ForeignKey(ProcessingRelationship, on_delete=models.PROTECT, related_name="+")
    controller = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="received_notices")
    processor_name = models.CharField(_("processor"), max_length=NAME_MAX)
    subject = models.CharField(_("subject"), max_length=300)
    content = models.TextField(_("content of the notice"), blank=True, max_length=LONG_TEXT_MAX)
    # The breach facts as the processor sent them (nature, CIA, origin, cause, categories): a snapshot.
    facts = models.JSONField(_("facts sent"), default=dict, blank=True)
    received_at = models.DateTimeField(_("received at"))
    # The SHA-256 of the PDF the processor sent (the file is the notice's `notice_pdf`).
    pdf_sha256 = models.CharField(_("SHA-256 of the notice sent"), max_length=64, blank=True, default="", db_default="")

    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices, default=Decision.RECEIVED)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_reason = models.TextField(_("reason"), blank=True, max_length=LONG_TEXT_MAX)
    case = models.ForeignKey(
        BreachCase, on_delete=models.PROTECT, null=True, blank=True, related_name="received_notices"
    )

    history = audited_history()

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [models.Index(fields=["controller", "decision"], name="received_notice_inbox")]
        verbose_name = _("received notice")
        verbose_name_plural = _("received notices")

    def __str__(self) -> str:
        return f"{self.processor_name}: {self.subject}"

    def history_chain_key(self) -> str:
        return f"rel:{self.relationship_id}"
