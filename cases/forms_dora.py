"""The form of a case's DORA facts (`DoraFacts`): one box per fact, built from the model so the two
cannot drift apart. Lists of the ESAs' values are check boxes; the service decides what is valid."""

from __future__ import annotations

from django import forms
from django.db import models

from . import dora_schema as ds
from .forms import ParisDateTimeField, VersionedForm, YesNoField
from .models import DoraFacts
from .models.dora import CodeList
from .services.dora import EDITABLE


def _field(model_field: models.Field) -> forms.Field:
    label = model_field.verbose_name
    if isinstance(model_field, models.JSONField):
        values = next(v.values for v in model_field.validators if isinstance(v, CodeList))
        return forms.MultipleChoiceField(
            label=label, choices=ds.choices(values), required=False, widget=forms.CheckboxSelectMultiple
        )
    if isinstance(model_field, models.BooleanField):
        return YesNoField(label=label, allow_unknown=True)
    if isinstance(model_field, models.DateTimeField):
        return ParisDateTimeField(label=label, required=False)
    if model_field.name == "currency":  # ITS field 1.15, always given (an empty post saves nothing)
        return forms.ChoiceField(label=label, choices=model_field.choices, initial="EUR")
    if model_field.choices:
        return forms.ChoiceField(label=label, choices=[("", "—"), *model_field.choices], required=False)
    field = model_field.formfield(required=False)
    if isinstance(model_field, models.TextField):
        field.widget = forms.Textarea(attrs={"rows": 2})
    return field


DoraFactsForm = type(
    "DoraFactsForm",
    (VersionedForm,),
    {
        "__module__": __name__,
        "__doc__": "The DORA facts of a case, as the reports ask them (ITS 2025/302).",
        **{name: _field(DoraFacts._meta.get_field(name)) for name in EDITABLE},
    },
)
