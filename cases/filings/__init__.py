"""The forms of the bodies that receive filings, as data: sections, fields, where each answer comes from.

One module per receiving body (`cnil`, `anssi`; DORA, the complaint and the Art. 34 letter
follow the same shape). A change of the body's form is a change of its mapping here, not of
the services, views or dossier, which only walk `FilingForm.sections`.
"""

from __future__ import annotations

from .anssi import ANSSI_FORMS
from .art34 import ART34_LETTER
from .base import FilingForm, FormField, FormSection, content_errors, missing_fields, prefill
from .cnil import CNIL_COMPLEMENTARY, CNIL_INITIAL, EDPB_SECTIONS
from .complaint import COMPLAINT_PROSECUTOR, COMPLAINT_STATION
from .dora import DORA_FORMS

# The form of each kind of submission.
FORMS: dict[str, FilingForm] = {
    form.kind: form
    for form in (
        CNIL_INITIAL,
        CNIL_COMPLEMENTARY,
        *ANSSI_FORMS,
        *DORA_FORMS,
        COMPLAINT_PROSECUTOR,
        COMPLAINT_STATION,
        ART34_LETTER,
    )
}
# The kinds of submission that may fulfil each filing obligation (rule code), the first one by default
# (a complaint: the letter to the prosecutor, or the record of a complaint lodged at a station).
KINDS_FOR_RULE: dict[str, tuple[str, ...]] = {}
for _form in FORMS.values():
    for _code in _form.rule_codes:
        KINDS_FOR_RULE[_code] = (*KINDS_FOR_RULE.get(_code, ()), _form.kind)
# The kind of submission drafted by default for each filing obligation (rule code).
KIND_FOR_RULE: dict[str, str] = {code: kinds[0] for code, kinds in KINDS_FOR_RULE.items()}

__all__ = [
    "EDPB_SECTIONS",
    "FORMS",
    "KINDS_FOR_RULE",
    "KIND_FOR_RULE",
    "FilingForm",
    "FormField",
    "FormSection",
    "content_errors",
    "missing_fields",
    "prefill",
]
