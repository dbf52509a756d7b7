"""French typography in templates: the punctuation that follows a label, by the active language.

French puts a no-break space before ":" (and ";" "?" "!"), English none: `{% translate "Reason" %}{% colon %}`
prints "Motif :" in French (never split across lines) and "Reason:" in English. Whole sentences carry
their punctuation in the catalogue instead (tests/test_french_typography.py checks it).
"""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

register = template.Library()

NO_BREAK_SPACE = "\u00a0"


def is_french() -> bool:
    return (get_language() or "").lower().startswith("fr")


@register.simple_tag
def colon() -> str:
    return f"{NO_BREAK_SPACE}:" if is_french() else ":"
