"""Dossier exports built in the background, kept and reused for as long as the case's data is unchanged."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .breach_case import BreachCase
from .jobs import BackgroundJob


def export_upload_to(export: DossierExport, filename: str) -> str:
    return f"exports/{export.case_id}/{filename}"


class DossierExport(BackgroundJob):
    """One request for a case's dossier in one language, and the PDF once built.

    `data_hash` is the dossier's data hash (cases.dossier.builder.data_hash) of the PDF built:
    a later request for the same case and language with the same data hash reuses this PDF.
    """

    case = models.ForeignKey(BreachCase, on_delete=models.PROTECT, related_name="+")
    lang = models.CharField(_("language"), max_length=2)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    data_hash = models.CharField(_("data SHA-256"), max_length=64, blank=True, db_index=True)
    file = models.FileField(upload_to=export_upload_to, max_length=300, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    signed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["case", "lang", "state"], name="dossier_export_case_lang_state")]
        verbose_name = _("dossier export")
        verbose_name_plural = _("dossier exports")

    def __str__(self) -> str:
        return f"{self.case_id} {self.lang} {self.state}"
