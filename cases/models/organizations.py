"""Organisations (controllers, processors) and who holds which role in them."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .. import deadlines
from ..inputs import ADDRESS_MAX
from ..regimes import AUTHORITY_LABELS, DORA_AUTHORITIES, RULES_BY_CODE, Authority
from .base import AuditedModel, audited_history, siren_validator


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
    address = models.TextField(_("address"), blank=True, max_length=ADDRESS_MAX)

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
    dora_authority = models.CharField(
        _("DORA competent authority"),
        max_length=30,
        choices=[(a.value, AUTHORITY_LABELS[a]) for a in DORA_AUTHORITIES],
        default=Authority.ACPR.value,
        help_text=_(
            "Receives the DORA reports (Regulation 2022/2554, art. 46): the ACPR for insurers, mutuelles and "
            "banks, the AMF for the asset managers and other entities it supervises."
        ),
    )
    dora_relief_excluded = models.BooleanField(
        _("excluded from DORA weekend relief"),
        default=False,
        help_text=_(
            "Credit institutions, central counterparties, trading venue operators, NIS2 essential or important "
            "entities and entities the competent authority declared significant or systemic (RTS 2025/301, "
            "art. 5(5) and 5(6)) may not file the initial notification or the intermediate report on the next "
            "working day; the final report keeps the relief."
        ),
    )
    has_cyber_insurance = models.BooleanField(_("holds a cyber-insurance policy"), default=False)
    dpo_peer_review = models.BooleanField(
        _("another DPO may approve a filing"),
        default=False,
        help_text=_("Besides legal members and administrators (never the author of the filing)."),
    )

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
