"""The forms of the bodies that receive filings, as data: sections, fields, where each answer comes from.

One module per receiving body (`cnil` now; ANSSI, DORA, the complaint and the Art. 34 letter
follow the same shape). A change of the body's form is a change of its mapping here, not of
the services, views or dossier, which only walk `FilingForm.sections`.
"""

from __future__ import annotations

from .base import FilingForm, FormField, FormSection, content_errors, missing_fields, prefill
from .cnil import CNIL_COMPLEMENTARY, CNIL_INITIAL, EDPB_SECTIONS
from .dora import DORA_FORMS

# The form of each kind of submission.
FORMS: dict[str, FilingForm] = {form.kind: form for form in (CNIL_INITIAL, CNIL_COMPLEMENTARY, *DORA_FORMS)}
# The kind of submission that fulfils each filing obligation (rule code).
KIND_FOR_RULE: dict[str, str] = {form.rule_code: form.kind for form in FORMS.values()}

__all__ = [
    "EDPB_SECTIONS",
    "FORMS",
    "KIND_FOR_RULE",
    "FilingForm",
    "FormField",
    "FormSection",
    "content_errors",
    "missing_fields",
    "prefill",
]
