"""The reminder e-mail: plain text and HTML, in the recipient's language, with an absolute link."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext, pgettext

from cases.deadlines import PARIS
from cases.models import Membership, Obligation
from cases.regimes import Authority

from .models import ReminderKind

SUBJECTS = {
    ReminderKind.DUE_24H: gettext_noop("[%(reference)s] Due within 24 hours: %(label)s"),
    ReminderKind.DUE_4H: gettext_noop("[%(reference)s] Due within 4 hours: %(label)s"),
    ReminderKind.OVERDUE: gettext_noop("[%(reference)s] Overdue: %(label)s"),
    ReminderKind.ESCALATION: gettext_noop("[%(reference)s] Escalation, deadline missed: %(label)s"),
}


def action_url(obligation: Obligation) -> str:
    """Absolute link to the obligation on its case page."""
    return f"{settings.SITE_URL}{obligation.get_absolute_url()}"


def preferences_url() -> str:
    return f"{settings.SITE_URL}{reverse('reminders:preferences')}"


def paris_time(instant: datetime) -> str:
    """'lundi 5 février 2024 à 19:00 (heure de Paris)' in the active language."""
    local = instant.astimezone(PARIS)
    return _("%(date)s at %(time)s (Paris time)") % {
        "date": formats.date_format(local, "l j F Y"),
        "time": local.strftime("%H:%M"),
    }


def duration(delta: timedelta) -> str:
    """A coarse, readable duration: '2 jours 3 heures', '3 heures 20 minutes', '15 minutes'."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = []
    if days:
        parts.append(ngettext("%(n)d day", "%(n)d days", days) % {"n": days})
    if hours:
        parts.append(ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours})
    if minutes and not days:
        parts.append(ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes})
    return " ".join(parts) or _("less than a minute")


# The catalogue's labels are translated here under a context of this app's own, so that these
# translations never leak into cases' choices (some are evaluated when the models are imported).
def authority_label(obligation: Obligation) -> str:
    try:
        label = Authority(obligation.authority).label
    except ValueError:
        return obligation.authority
    return pgettext("authority", label)


def role_label(role: str) -> str:
    """The role as worded in e-mails ("délégué à la protection des données"), from its English source label."""
    with translation.override(None):  # the source label, not the project catalogue's French one
        source = str(Membership.Role(role).label)
    return pgettext("role", source)


def build_message(
    *,
    obligation: Obligation,
    recipient,
    email: str,
    role: str,
    kind: str,
    language: str,
    now: datetime,
) -> EmailMultiAlternatives:
    """One reminder e-mail, rendered in `language` whatever the active language of the caller."""
    with translation.override(language):
        case = obligation.case
        label = obligation.label(language)
        overdue = kind in {ReminderKind.OVERDUE, ReminderKind.ESCALATION}
        context = {
            "kind": kind,
            "overdue": overdue,
            "escalation": kind == ReminderKind.ESCALATION,
            "recipient_name": recipient.get_full_name() or recipient.get_username(),
            "role": role_label(role),
            "organisation": case.organization.name,
            "case": case,
            "label": label,
            "rule_code": obligation.rule_code,
            "authority": authority_label(obligation),
            "controller": obligation.controller_notice.controller.name if obligation.controller_notice else "",
            "due": paris_time(obligation.due_at),
            "delay": duration(now - obligation.due_at if overdue else obligation.due_at - now),
            "url": action_url(obligation),
            "preferences_url": preferences_url(),
        }
        subject = _(SUBJECTS[kind]) % {"reference": case.reference, "label": label}
        text = render_to_string("reminders/email/reminder.txt", context)
        html = render_to_string("reminders/email/reminder.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[email])
    message.attach_alternative(html, "text/html")
    return message
