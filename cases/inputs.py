"""What user input may be, for models, forms and services alike: text sizes and characters, instants, numbers.

The rule (README, "Bad input"): every text field declares a maximum length, on the model
(`max_length`, TextField included: `AuditedModel.clean_fields` enforces it, and
tests/test_input_limits.py fails for a field without one) and on the form (every form field is
checked by `CheckedFormMixin`, which `cases.forms.CheckedForm` and `VersionedForm` use). Text
never holds control characters but tab and line breaks in multi-line text; instants lie between
1990 and 2100. A refused value is a `ValidationError` next to its field, never a server error.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, ProhibitNullCharactersValidator
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# A name, a title, a reference or a channel: one line (the longest organisation names in the
# French company register are under 200 characters).
NAME_MAX = 200
# A postal address: a few lines.
ADDRESS_MAX = 1_000
# Free text (a description, a reason, the text sent to the persons): 20,000 characters is about
# eight printed pages, far more than any box of the CNIL notification form, and it bounds what one
# case costs to store, show and lay out in the dossier.
LONG_TEXT_MAX = 20_000

# Counts of persons, records or recipients: more than the world's population, far below the
# 64-bit column (an out-of-range integer is a database error, not a validation message).
COUNT_MAX = 10**13
# A contractual notice period (processor to controller): a year at most (Art. 33(2) asks for "without
# undue delay"; a longer period is a typo).
NOTICE_PERIOD_MAX_HOURS = 24 * 365

# Instants: nothing in a breach register happened before 1990; a due date beyond 2100 is a typo.
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

# C0 controls and DEL, C1 controls, lone surrogates (cannot be stored as UTF-8), and the invisible
# bidirectional overrides and isolates, which make text display differently from what is stored.
_SINGLE_LINE_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
# Multi-line text keeps tab, line feed and carriage return.
_MULTI_LINE_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")

CONTROL_MESSAGE = _("Remove the invisible control characters from this text.")


def has_forbidden_characters(text: str, *, multiline: bool = False) -> bool:
    pattern = _MULTI_LINE_FORBIDDEN if multiline else _SINGLE_LINE_FORBIDDEN
    return pattern.search(text) is not None


def without_forbidden_characters(text: str, *, multiline: bool = False) -> str:
    pattern = _MULTI_LINE_FORBIDDEN if multiline else _SINGLE_LINE_FORBIDDEN
    return pattern.sub("", text)


def text_errors(value: object, *, max_length: int | None, multiline: bool) -> list[str]:
    """Why `value` is not acceptable text (empty list: it is)."""
    if not isinstance(value, str):
        return []
    errors = []
    if max_length is not None and len(value) > max_length:
        errors.append(
            _("Keep this text under %(max)s characters (it has %(n)s).")
            % {"max": f"{max_length:,}".replace(",", "\u00a0"), "n": f"{len(value):,}".replace(",", "\u00a0")}
        )
    if has_forbidden_characters(value, multiline=multiline):
        errors.append(str(CONTROL_MESSAGE))
    return errors


def instant_error(value: datetime) -> str | None:
    """Why an instant is implausible for the register (None: it is plausible).

    A naive value is a wall-clock time, compared as if in UTC (the limits are years apart, the
    offset is hours). Never raises: year 1 in a zone east of UTC has no UTC equivalent at all.
    """
    try:
        aware = value if value.utcoffset() is not None else value.replace(tzinfo=UTC)
        plausible = EARLIEST <= aware < LATEST
    except OverflowError:
        plausible = False
    return None if plausible else str(_("Enter a date between 1990 and 2099."))


class CheckedFormMixin:
    """Checks every field of a form the same way, whoever wrote the form.

    Text (every CharField): no control characters (multi-line text, a Textarea, keeps tab and line
    breaks); integers: at most COUNT_MAX unless the field says less. A form field without a max
    length is caught by tests/test_input_limits.py.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                field.validators = [
                    v for v in field.validators if not isinstance(v, ProhibitNullCharactersValidator)
                ] + [TextCharactersValidator(multiline=isinstance(field.widget, forms.Textarea))]
            if isinstance(field, forms.IntegerField) and field.max_value is None:
                field.max_value = COUNT_MAX
                field.validators.append(MaxValueValidator(COUNT_MAX))
                field.widget.attrs.setdefault("max", COUNT_MAX)


@deconstructible
class TextCharactersValidator:
    """Refuses control characters (NUL included) and invisible direction overrides."""

    def __init__(self, *, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, value: str) -> None:
        if isinstance(value, str) and has_forbidden_characters(value, multiline=self.multiline):
            raise ValidationError(CONTROL_MESSAGE, code="control_characters")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TextCharactersValidator) and other.multiline == self.multiline
