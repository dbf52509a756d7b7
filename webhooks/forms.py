from django import forms
from django.utils.translation import gettext_lazy as _

from cases.forms import CheckedForm, VersionedForm

from .models import URL_MAX, EventType


class EndpointForm(CheckedForm):
    organization = forms.ChoiceField(label=_("Organisation"))
    url = forms.CharField(label=_("URL (https)"), max_length=URL_MAX)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=EventType.choices, widget=forms.CheckboxSelectMultiple, initial=EventType.values
    )

    def __init__(self, *args, organizations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].choices = [(o.code, o.name) for o in organizations]


class EndpointStateForm(VersionedForm):
    """Disable or enable: the version read is required, so an empty post changes nothing."""

    version = forms.IntegerField(min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput)
