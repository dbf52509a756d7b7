"""Deadline wording for templates: time left or overdue, and the labels an obligation row shows.

`{{ ob.due_at|time_left:now }}` reads "dans 5 h 12" / "en retard de 2 j" in French and
"in 5 h 12" / "2 d overdue" in English. Durations are truncated, never rounded up, so
the time left is never overstated.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django import template
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy

from ..deadlines import STATUS_LABELS, DueBasis, Status
from ..regimes import authority_name

register = template.Library()

# Under this many days, the hours are still worth showing ("1 j 23 h").
DAYS_WITH_HOURS = 3


def duration(seconds: float) -> str:
    """A short human duration: "12 min", "5 h 07", "1 j 23 h", "12 j"."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return _("less than a minute")
    if minutes < 60:
        return pgettext("duration", "%(minutes)d min") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return pgettext("duration", "%(hours)d h %(minutes)02d") % {"hours": hours, "minutes": minutes}
    days, hours = divmod(hours, 24)
    if days < DAYS_WITH_HOURS and hours:
        return pgettext("duration", "%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    return pgettext("duration", "%(days)d d") % {"days": days}


@register.filter
def time_left(due_at: datetime | None, now: datetime | None = None) -> str:
    """Time left until `due_at` ("dans 5 h 12"), or how late it is ("en retard de 2 j")."""
    if due_at is None:
        return ""
    now = now or timezone.now()
    # In UTC: Python subtracts datetimes sharing a tzinfo by wall clock, across DST too.
    seconds = (due_at.astimezone(UTC) - now.astimezone(UTC)).total_seconds()
    if seconds >= 0:
        return _("in %(duration)s") % {"duration": duration(seconds)}
    return _("%(duration)s overdue") % {"duration": duration(-seconds)}


@register.filter
def authority_label(value: str) -> str:
    """The authority's name in the active language."""
    return authority_name(value, translation.get_language())


@register.filter
def rule_label(obligation) -> str:
    """The obligation's rule as copied when it was generated, in the active language."""
    language = translation.get_language() or ""
    return obligation.label("en" if language.startswith("en") else "fr")


DUE_BASIS_LABELS = {
    DueBasis.LEGAL: pgettext_lazy("due basis", "Legal deadline"),
    DueBasis.INTERNAL_TARGET: pgettext_lazy("due basis", "Internal target (without undue delay)"),
    DueBasis.CONTRACT: pgettext_lazy("due basis", "Contractual notice period"),
    DueBasis.AUTHORITY: pgettext_lazy("due basis", "Date set by the authority"),
    DueBasis.NONE: pgettext_lazy("due basis", "No date yet"),
}


@register.filter
def due_basis_label(value: str) -> str:
    """What the due date rests on: the law, an internal target, a contract or the authority."""
    try:
        return str(DUE_BASIS_LABELS[DueBasis(value)])
    except ValueError:
        return value


@register.filter
def clock_label(status: str) -> str:
    """The words for a status: the coloured badge never carries the meaning alone."""
    try:
        return str(STATUS_LABELS[Status(status)])
    except ValueError:
        return status


@register.filter
def deadline_label(obligation) -> str:
    """The rule's deadline in words ("72 h", "sans délai injustifié"), in the active language."""
    language = translation.get_language() or ""
    return obligation.deadline_label_en if language.startswith("en") else obligation.deadline_label_fr


@register.simple_tag
def case_url(case, obligation=None) -> str:
    """The case page, at `obligation`'s row when given (`{% case_url ob.case ob %}`)."""
    return obligation.get_absolute_url() if obligation is not None else case.get_absolute_url()
