"""The languages documents are produced in, and choice labels in the active language.

A document (the dossier, the member letter, the register CSV) is rendered under
`translation.override(lang)` in the language asked for, whatever the request's; its words are
gettext messages and its choice labels are the domain's own (model `choices`, `regimes`, `deadlines`).
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import get_language

LANGS = ("fr", "en")
LANG_TAGS = {"fr": "fr-FR", "en": "en-GB"}


def label(labels, value: object) -> str:
    """The label of a choice value in the active language; the value itself when `labels` does not know it.

    `labels` is a model's `TextChoices` class or a mapping of values to (lazy) labels, so a new choice
    never breaks a document.
    """
    if value in (None, ""):
        return ""
    mapping: Mapping = labels if isinstance(labels, Mapping) else dict(labels.choices)
    text = mapping.get(str(value))
    return str(value) if text is None else str(text)


def colon() -> str:
    """The colon after a label in the active language: a no-break space before it in French, none in English."""
    return "\u00a0:" if (get_language() or "").lower().startswith("fr") else ":"
