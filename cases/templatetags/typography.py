"""French typography in templates: the punctuation that follows a label, by the active language.

French puts a no-break space before ":" (and ";" "?" "!"), English none: `{% translate "Reason" %}{% colon %}`
prints "Motif :" in French (never split across lines) and "Reason:" in English. Whole sentences carry
their punctuation in the catalogue instead (tests/test_french_typography.py checks it).
"""

from __future__ import annotations

from django import template

from .. import languages

register = template.Library()


@register.simple_tag
def colon() -> str:
    return languages.colon()
