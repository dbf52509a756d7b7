"""The shape every receiving body's form takes, and what is done with it: pre-fill, check, list what is missing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from ..inputs import LONG_TEXT_MAX, text_errors


@dataclass(frozen=True)
class FormField:
    """One question of the body's form.

    `source` reads the answer from the case's facts (`Sources`), "" when the case does not know
    it; `required` says whether a blank answer is listed as missing; `edpb` is the section of the
    EDPB common breach-notification template the question belongs to ("" for a form that is not a
    personal-data breach notification, e.g. ANSSI's).
    """

    key: str
    label: Any  # a lazy translation
    source: Callable[[Any], str] | None
    edpb: str
    required: bool = True
    multiline: bool = False
    kinds: frozenset[str] = field(default_factory=frozenset)  # empty: every kind of the form

    def applies_to(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds


@dataclass(frozen=True)
class FormSection:
    key: str
    title: Any
    fields: tuple[FormField, ...]


@dataclass(frozen=True)
class FilingForm:
    kind: str
    rule_code: str  # the obligation a submission of this kind fulfils
    title: Any
    sections: tuple[FormSection, ...]
    # Loads, in a bounded number of queries, what the fields' `source`s read: (case, kind) -> sources.
    sources: Callable[[Any, str], Any]
    _: KW_ONLY  # the settings below are named, never positional
    # Other obligations (rule codes) a submission of this kind also fulfils (the complaint: with or
    # without cyber-insurance), and the kind of `Filing` it records when sent ("" = its own kind).
    other_rules: tuple[str, ...] = ()
    filing_kind: str = ""
    # Whether a required answer still missing refuses approval and sending (the Art. 34(2) letter).
    blocks_when_missing: bool = False
    # Why the answers cannot be sent as they stand, beyond blank answers (e.g. a schema the authority
    # validates against): (kind, content) -> messages; None: nothing more to check.
    send_errors: Callable[[str, dict], list[str]] | None = None

    @property
    def rule_codes(self) -> tuple[str, ...]:
        return (self.rule_code, *self.other_rules)

    def fields_of(self, section: FormSection) -> list[FormField]:
        return [f for f in section.fields if f.applies_to(self.kind)]

    def all_fields(self) -> list[tuple[FormSection, FormField]]:
        return [(s, f) for s in self.sections for f in self.fields_of(s)]


def prefill(form: FilingForm, sources) -> dict[str, dict[str, str]]:
    """The answers the case gives, in the form's structure, in the active language."""
    content: dict[str, dict[str, str]] = {}
    for section, f in form.all_fields():
        value = f.source(sources) if f.source else ""
        content.setdefault(section.key, {})[f.key] = (value or "").strip()
    return content


def answer(content: dict, section: FormSection, f: FormField) -> str:
    value = (content or {}).get(section.key, {})
    value = value.get(f.key, "") if isinstance(value, dict) else ""
    return value if isinstance(value, str) else ""


def missing_fields(form: FilingForm, content: dict) -> list[tuple[FormSection, FormField]]:
    """The required questions still without an answer, in the form's order."""
    return [(s, f) for s, f in form.all_fields() if f.required and not answer(content, s, f).strip()]


def content_errors(form: FilingForm, content: object) -> dict[str, list[str]]:
    """Why `content` is not a set of answers to `form` (keyed "section.field"); empty when it is."""
    if not isinstance(content, dict):
        return {"content": [_("The answers must be given section by section.")]}
    known = {s.key: {f.key for f in form.fields_of(s)} for s in form.sections}
    errors: dict[str, list[str]] = {}
    for section_key, answers in content.items():
        if section_key not in known or not isinstance(answers, dict):
            errors.setdefault("content", []).append(_("Unknown section: %(key)s.") % {"key": str(section_key)[:50]})
            continue
        for field_key, value in answers.items():
            name = f"{section_key}.{field_key}"
            if field_key not in known[section_key]:
                errors.setdefault("content", []).append(_("Unknown field: %(key)s.") % {"key": name[:100]})
            elif not isinstance(value, str):
                errors[name] = [_("Enter text.")]
            else:
                problems = text_errors(value, max_length=LONG_TEXT_MAX, multiline=True)
                if problems:
                    errors[name] = problems
    return errors
