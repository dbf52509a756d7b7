"""The languages documents are produced in, and choice labels in the active language.

A document (the dossier, the member letter, the register CSV) is rendered under
`translation.override(lang)` in the language asked for, whatever the request's; its words are
gettext messages and its choice labels are the domain's own (model `choices`, `regimes`, `deadlines`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from django.utils.translation import get_language

LANGS = ("fr", "en")
LANG_TAGS = {"fr": "fr-FR", "en": "en-GB"}


def label(labels, value: object, language: str | None = None) -> str:
    """The label of a choice value in the active language; the value itself when `labels` does not know it.

    `labels` is a model's `TextChoices` class or a mapping of values to (lazy) labels, so a new choice
    never breaks a document. `language` is the active one when the caller knows it (a register asks for
    a label on every cell: asking costs more than the rest).
    """
    if value in (None, ""):
        return ""
    if isinstance(labels, Mapping):
        text = labels.get(str(value))
        return str(value) if text is None else str(text)
    return _choice_label(labels, str(value), language or get_language())


@functools.lru_cache(maxsize=4096)
def _choice_label(choices, value: str, language: str | None) -> str:
    """A choices class's label of `value` in `language`, looked up once: a register or a dossier asks for
    the same few labels on every row, and `choices` rebuilds its list at each reading.

    `language` must be the active one (the labels are lazy and read in it); it is part of the key only.
    """
    text = dict(choices.choices).get(value)
    return value if text is None else str(text)


def colon() -> str:
    """The colon after a label in the active language: a no-break space before it in French, none in English."""
    return "\u00a0:" if (get_language() or "").lower().startswith("fr") else ":"
