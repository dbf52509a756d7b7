"""Reads of the reminders app, with the joins that keep the pages' query counts flat."""

from __future__ import annotations

from django.db.models import QuerySet

from cases.models import BreachCase

from .models import ReminderSent


def reminders_for_case(case: BreachCase) -> QuerySet[ReminderSent]:
    """Every reminder sent about the case's obligations, newest first (one query)."""
    return (
        ReminderSent.objects.filter(obligation__case=case)
        .select_related("recipient", "obligation")
        .order_by("-sent_at", "obligation__due_at", "pk")
    )
