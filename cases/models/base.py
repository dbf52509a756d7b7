"""Base classes of the audited models: no deletion, no bulk write, no history-less save."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..history import ChainedHistoricalRecord
from ..inputs import text_errors


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
    """Base of every history-tracked model: no deletion, no history-less save, a version per save.

    `version` counts the record's saves: 1 when created, +1 at each change. It is the optimistic
    concurrency token of the edit forms (`cases.services.common.check_version`). It is not copied
    into the history (a concurrency token, not a fact): since every save writes exactly one
    history row, version N is the record's Nth history row.
    """

    version = models.PositiveIntegerField(default=1, editable=False)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if hasattr(self, "skip_history_when_saving"):
            raise HistoryBypassError("Saving without a history record is not allowed.")
        if not self._state.adding:
            self.version += 1
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "version"}
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise HistoryBypassError(f"{type(self).__name__} records are never deleted.")

    def clean_fields(self, exclude=None) -> None:
        """Django's checks, then text checks for every text field (`cases.inputs`).

        Django does not enforce a TextField's max_length: it is enforced here, so every service
        saving through `services.common.save` (which calls `full_clean`) refuses oversized text.
        No text holds control characters, but tab and line breaks in a TextField (multi-line).
        """
        errors: dict = {}
        try:
            super().clean_fields(exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        for field in self._meta.concrete_fields:
            if exclude and field.name in exclude or field.name in errors:
                continue
            if isinstance(field, models.CharField | models.TextField):
                multiline = isinstance(field, models.TextField)
                problems = text_errors(
                    getattr(self, field.attname),
                    max_length=field.max_length if multiline else None,
                    multiline=multiline,
                )
                if problems:
                    errors[field.name] = problems
        if errors:
            raise ValidationError(errors)


def audited_history(**kwargs) -> HistoricalRecords:
    kwargs["excluded_fields"] = ["version", *kwargs.get("excluded_fields", ())]
    return HistoricalRecords(bases=[ChainedHistoricalRecord], cascade_delete_history=False, **kwargs)


siren_validator = RegexValidator(r"^\d{9}$", _("A SIREN number has exactly 9 digits."))
