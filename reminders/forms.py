"""The reminder-preferences form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.inputs import CheckedFormMixin

from .models import ReminderPreference


class ReminderPreferenceForm(CheckedFormMixin, forms.ModelForm):
    class Meta:
        model = ReminderPreference
        fields = ["receive_due_24h", "receive_due_4h", "receive_overdue", "language"]
        labels = {
            "receive_due_24h": _("Remind me 24 hours before a deadline"),
            "receive_due_4h": _("Remind me 4 hours before a deadline"),
            "receive_overdue": _("Tell me when a deadline has passed"),
            "language": _("Language of the reminder e-mails"),
        }
        widgets = {"language": forms.RadioSelect}
