"""Obligations: one applicable rule on one case, wording copied from the catalogue, due date stored."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .. import deadlines, regimes
from ..inputs import LONG_TEXT_MAX
from ..regimes import AUTHORITY_LABELS, RULE_CHOICES, Authority
from .base import audited_history
from .breach_case import BreachCase, CaseChild
from .controllers import ControllerNotice


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
    # Which version of the rule (the day it applies from) the wording was copied from.
    rule_version = models.CharField(_("rule version"), max_length=10, blank=True)
    label_fr = models.CharField(max_length=300)
    label_en = models.CharField(max_length=300)
    authority = models.CharField(
        _("authority"), max_length=30, choices=[(a.value, AUTHORITY_LABELS[a]) for a in Authority], db_index=True
    )
    legal_source = models.CharField(_("legal source"), max_length=300)
    legal_text_fr = models.TextField(max_length=LONG_TEXT_MAX)
    legal_text_en = models.TextField(max_length=LONG_TEXT_MAX)
    deadline_label_fr = models.CharField(max_length=100)
    deadline_label_en = models.CharField(max_length=100)
    anchor_at = models.DateTimeField(_("clock started at"), null=True, blank=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True, db_index=True)
    due_basis = models.CharField(max_length=20, choices=[(b.value, b.value) for b in deadlines.DueBasis])
    requested_due_at = models.DateTimeField(_("due date requested by the authority"), null=True, blank=True)
    # DORA: the latest updated intermediate report (RTS 2025/301 art. 5(1)(b)); the final report runs from it.
    latest_update_at = models.DateTimeField(_("latest updated report sent at"), null=True, blank=True)

    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.PENDING, db_index=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    late_reason = models.TextField(_("reasons for the delay"), blank=True, max_length=LONG_TEXT_MAX)
    not_applicable_reason = models.TextField(_("why it does not apply"), blank=True, max_length=LONG_TEXT_MAX)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)  # when the decision was taken (may be in the past)
    decided_recorded_at = models.DateTimeField(_("decision recorded at"), null=True, blank=True)

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
        indexes = [
            models.Index(fields=["state", "due_at"]),
            # The dashboard's counts and its first undated rows (cases.selectors.board) read this index only,
            # not the obligations' wide rows (their legal texts): what is pending, per case, dated or not.
            models.Index(
                fields=["case", "due_at", "rule_code"],
                include=["id"],
                condition=models.Q(state="pending"),
                name="obligation_pending_by_case",
            ),
        ]
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

    def title(self, lang: str = "fr") -> str:
        """The obligation's name in `lang`, with the controller it concerns for a processor's notice."""
        if self.controller_notice_id:
            return f"{self.label(lang)} — {self.controller_notice.controller_name}"
        return self.label(lang)

    @property
    def rule(self) -> regimes.Rule:
        """The version of the rule this obligation was generated from (how it runs, not its wording)."""
        return regimes.rule_version(self.rule_code, self.rule_version)
