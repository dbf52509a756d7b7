"""Base classes of the audited models: no deletion, no bulk write, no history-less save."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..history import ChainedHistoricalRecord


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


def audited_history(**kwargs) -> HistoricalRecords:
    kwargs["excluded_fields"] = ["version", *kwargs.get("excluded_fields", ())]
    return HistoricalRecords(bases=[ChainedHistoricalRecord], cascade_delete_history=False, **kwargs)


siren_validator = RegexValidator(r"^\d{9}$", _("A SIREN number has exactly 9 digits."))
