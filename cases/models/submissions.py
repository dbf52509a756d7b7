"""Submissions: a filing drafted in the structure of the body that receives it, reviewed, then sent.

A submission is written in the register before it is sent: its `content` holds the answers to
the receiving body's form (for the CNIL, `cases.filings.cnil`), section by section. It goes
draft -> in review -> approved (by someone other than its author: four eyes) -> sent. Any edit
after approval takes it back to review. Sending records when it happened (`sent_at`) apart from
when that was recorded (`sent_recorded_at`), freezes the content with its SHA-256, and records
the `Filing` that completes the obligation; a sent submission never changes again.
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..inputs import LONG_TEXT_MAX, NAME_MAX
from .base import audited_history
from .breach_case import BreachCase, CaseChild
from .communications import MemberCommunication
from .evidence import Evidence
from .filings import Filing
from .obligations import Obligation


def canonical_json(content) -> bytes:
    """The content as the bytes its SHA-256 is computed on: sorted keys, no spaces, UTF-8."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def content_hash(content) -> str:
    return hashlib.sha256(canonical_json(content)).hexdigest()


class Submission(CaseChild):
    """A filing drafted, reviewed and sent from the register."""

    class Kind(models.TextChoices):
        # Other authorities (DORA, complaint, Art. 34 letter) extend this list.
        CNIL_INITIAL = "cnil_initial", _("CNIL initial notification")
        CNIL_COMPLEMENTARY = "cnil_complementary", _("CNIL complementary notification")
        NIS2_EARLY_WARNING = "nis2_early_warning", _("NIS2 early warning")
        NIS2_NOTIFICATION = "nis2_notification", _("NIS2 incident notification")
        NIS2_INTERMEDIATE = "nis2_intermediate", _("NIS2 intermediate report")
        NIS2_FINAL = "nis2_final", _("NIS2 final report")
        NIS2_PROGRESS = "nis2_progress", _("NIS2 progress report")
        NIS2_FINAL_AFTER_HANDLING = "nis2_final_after_handling", _("NIS2 final report after handling")
        NIS1_OSE = "nis1_ose", _("ANSSI incident declaration (NIS1 OSE)")
        OIV = "oiv", _("ANSSI incident declaration (OIV)")
        # The criminal complaint: the letter to the public prosecutor, or the record of a complaint
        # lodged at a police or gendarmerie station (cases.filings.complaint).
        COMPLAINT_PROSECUTOR = "complaint_prosecutor", _("Complaint to the public prosecutor")
        COMPLAINT_STATION = "complaint_station", _("Complaint lodged at a police or gendarmerie station")
        # The Art. 34 letter to the persons, produced for mail merge (cases.filings.art34): sending it
        # records the communication to the persons, which alone completes the Art. 34 obligation.
        ART34_LETTER = "art34_letter", _("Art. 34 letter to the persons (mail merge)")
        DORA_INITIAL = "dora_initial", _("DORA initial notification")
        DORA_INTERMEDIATE = "dora_intermediate", _("DORA intermediate report")
        DORA_FINAL = "dora_final", _("DORA final report")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("Submitted for review")
        APPROVED = "approved", _("Approved")
        SENT = "sent", _("Sent")

    case = models.ForeignKey(BreachCase, on_delete=models.PROTECT, related_name="submissions")
    obligation = models.ForeignKey(Obligation, on_delete=models.PROTECT, related_name="submissions")
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.DRAFT)
    # The answers, {section key: {field key: text}}, in the structure of the receiving body's form.
    content = models.JSONField(_("content"), default=dict, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted for review at"), null=True, blank=True)
    # The last time a reviewer sent it back to its author (in review -> draft), and why.
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    returned_at = models.DateTimeField(_("sent back at"), null=True, blank=True)
    return_comment = models.TextField(_("why it was sent back"), blank=True, max_length=LONG_TEXT_MAX)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approval_comment = models.TextField(_("approval comment"), blank=True, max_length=LONG_TEXT_MAX)
    # When it was sent (a past fact may be entered later) and when that was recorded.
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    sent_recorded_at = models.DateTimeField(_("sending recorded at"), null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=100, blank=True)
    recipient = models.CharField(_("recipient"), max_length=NAME_MAX, blank=True)
    authority_reference = models.CharField(_("authority's reference"), max_length=NAME_MAX, blank=True)
    receipt = models.ForeignKey(Evidence, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    content_sha256 = models.CharField(_("SHA-256 of the content sent"), max_length=64, blank=True)
    filing = models.OneToOneField(Filing, on_delete=models.PROTECT, null=True, blank=True, related_name="submission")
    # The Art. 34 letter, once sent, is the communication to the persons it records (no `Filing`).
    communication = models.OneToOneField(
        MemberCommunication, on_delete=models.PROTECT, null=True, blank=True, related_name="submission"
    )

    history = audited_history()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_state_display()})"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("cases:submission_detail", kwargs={"reference": self.case.reference, "submission_id": self.pk})

    @property
    def is_sent(self) -> bool:
        return self.state == self.State.SENT
