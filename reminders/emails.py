"""The reminder e-mail: plain text and HTML, in the recipient's language, with an absolute link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape as html_escape
from urllib.parse import quote

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, translation
from django.utils.html import escape
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext, pgettext, pgettext_lazy

from cases.deadlines import BASIS_NOTES, PARIS
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


def due_words(obligation: Obligation, due: str) -> str:
    """The due date as printed, followed by what fixes it when the text does not (an internal target for
    "without undue delay", a contract's notice period, the authority's date): never read as a legal deadline."""
    note = BASIS_NOTES.get(obligation.due_basis)
    return f"{due} — {note}" if note else due


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
            # The name the processor recorded: most controllers are not on the platform (no organisation).
            "controller": obligation.controller_notice.controller_name if obligation.controller_notice else "",
            "due": due_words(obligation, paris_time(obligation.due_at)),
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


# How many reminders an e-mail carries (a digest lists several), for mail filters and audits.
COUNT_HEADER = "X-Reminder-Count"
# The order of a digest's sections: what is most late first.
DIGEST_ORDER = (ReminderKind.ESCALATION, ReminderKind.OVERDUE, ReminderKind.DUE_4H, ReminderKind.DUE_24H)
SECTION_TITLES = {
    ReminderKind.ESCALATION: pgettext_lazy("reminders", "Escalations: deadlines missed"),
    ReminderKind.OVERDUE: pgettext_lazy("reminders", "Overdue"),
    ReminderKind.DUE_4H: pgettext_lazy("reminders", "Due within 4 hours"),
    ReminderKind.DUE_24H: pgettext_lazy("reminders", "Due within 24 hours"),
}


@dataclass(frozen=True)
class DigestItem:
    """One reminder of a digest: the obligation, why the recipient gets it (role) and which reminder."""

    obligation: Obligation
    role: str
    kind: str


class DigestPrinter:
    """Prints a run's digest lines, caching what many reminders share (the case link's pattern, a day's
    name, an authority's label, a duration's words), so that a line costs string formatting, not lookups
    in the translation catalogue."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        marker = "REFERENCE"
        self.case_url = f"{settings.SITE_URL}{reverse('cases:case_detail', kwargs={'reference': marker})}"
        self.marker = marker
        self.days: dict[tuple, str] = {}
        self.lines: dict[tuple, tuple[str, str]] = {}
        self.words: dict[tuple, str] = {}  # (language, what, ...) -> translated words

    def url(self, obligation: Obligation) -> str:
        """`action_url` without resolving the URL per reminder (the same string, see the tests)."""
        reference = quote(obligation.case.reference, safe=RFC3986_SUBDELIMS + "/~:@")
        return f"{self.case_url.replace(self.marker, reference, 1)}#obligation-{obligation.pk}"

    def _cached(self, key: tuple, make) -> str:
        words = self.words.get(key)
        if words is None:
            words = self.words[key] = make()
        return words

    def due(self, instant: datetime, language: str) -> str:
        """`paris_time(instant)` in `language`, the active one."""
        local = instant.astimezone(PARIS)
        key = (language, local.date())
        day = self.days.get(key)
        if day is None:
            day = self.days[key] = formats.date_format(local, "l j F Y")
        pattern = self._cached((language, "due"), lambda: _("%(date)s at %(time)s (Paris time)"))
        return pattern % {"date": day, "time": f"{local.hour:02d}:{local.minute:02d}"}

    def duration(self, delta: timedelta, language: str) -> str:
        """`duration(delta)` in `language`, the active one, its words translated once per value and run."""
        minutes = max(0, int(delta.total_seconds() // 60))
        days, rest = divmod(minutes, 24 * 60)
        hours, minutes = divmod(rest, 60)
        if days:
            minutes = 0  # not printed
        return self._cached(
            (language, "duration", days, hours, minutes),
            lambda: duration(timedelta(days=days, hours=hours, minutes=minutes)),
        )

    def line(self, obligation: Obligation, kind: str, language: str | None = None) -> tuple[str, str]:
        """(plain text, HTML) of one reminder in the active language, once per language and run.

        `language` is the active language, when the caller knows it (asking costs more than the rest)."""
        language = language or translation.get_language()
        key = (language, obligation.pk, kind)
        printed = self.lines.get(key)
        if printed is not None:
            return printed
        case = obligation.case
        overdue = kind in {ReminderKind.OVERDUE, ReminderKind.ESCALATION}
        delay = self.duration(self.now - obligation.due_at if overdue else obligation.due_at - self.now, language)
        authority = self._cached((language, "authority", obligation.authority), lambda: authority_label(obligation))
        what = f"{obligation.label(language)} ({obligation.rule_code}), {authority}"
        if obligation.controller_notice:
            what += f", {obligation.controller_notice.controller_name}"
        due = self.due(obligation.due_at, language)
        basis = obligation.due_basis
        if basis in BASIS_NOTES:  # `due_words`, its note translated once per language and run
            due = f"{due} — {self._cached((language, 'basis', basis), lambda: str(BASIS_NOTES[basis]))}"
        when = f"{due}, {delay}"
        url = self.url(obligation)
        heading = f"{case.reference} — {case.title}"
        text = f"* {heading}\n  {what}\n  {when}\n  {url}\n"
        # html.escape is what django.utils.html.escape does, without its lazy-string wrapper per call.
        html = (
            f'<li><a href="{html_escape(url)}">{html_escape(heading)}</a>'
            f"<br>{html_escape(what)}<br>{html_escape(when)}</li>"
        )
        printed = self.lines[key] = (text, html)
        return printed


def build_digest(
    *,
    items: list[DigestItem],
    recipient,
    email: str,
    language: str,
    now: datetime,
    printer: DigestPrinter | None = None,
) -> EmailMultiAlternatives:
    """One e-mail listing every reminder a run sends to one person, in `language`.

    A single reminder is the usual reminder e-mail (`build_message`). A digest's frame comes from
    its templates and its lines are printed in Python: with thousands of reminders, a template loop
    would cost more than everything else. Pass the run's `printer` so that recipients share its lines.
    """
    if len(items) == 1:
        item = items[0]
        message = build_message(
            obligation=item.obligation,
            recipient=recipient,
            email=email,
            role=item.role,
            kind=item.kind,
            language=language,
            now=now,
        )
        message.extra_headers[COUNT_HEADER] = "1"
        return message
    printer = printer or DigestPrinter(now)
    with translation.override(language):
        by_kind: dict[str, list[tuple[str, str]]] = {kind: [] for kind in DIGEST_ORDER}
        for item in sorted(items, key=lambda i: (i.obligation.due_at, i.obligation.pk)):
            by_kind[item.kind].append(printer.line(item.obligation, item.kind, language))
        sections = []
        for kind in DIGEST_ORDER:
            lines = by_kind[kind]
            if lines:
                title = f"{SECTION_TITLES[kind]} ({len(lines)})"
                # One line per reminder: a line longer than SMTP's 998 characters would make Django
                # encode the whole HTML part as quoted-printable, which costs seconds for a large digest.
                lines_html = "\n".join(html for _t, html in lines)
                sections.append(
                    {
                        "text": "".join(text for text, _html in lines),
                        "html": mark_safe(f"<h2>{escape(title)}</h2>\n<ul>\n{lines_html}\n</ul>"),  # noqa: S308 - escaped above
                        "title": title,
                    }
                )
        memberships = sorted({(i.obligation.case.organization.name, i.role) for i in items})
        overdue = len(by_kind[ReminderKind.OVERDUE]) + len(by_kind[ReminderKind.ESCALATION])
        context = {
            "recipient_name": recipient.get_full_name() or recipient.get_username(),
            "sections": sections,
            "memberships": [(organisation, role_label(role)) for organisation, role in memberships],
            "preferences_url": preferences_url(),
        }
        count = len(items)
        subject = ngettext(
            "%(count)d deadline reminder, %(overdue)d overdue",
            "%(count)d deadline reminders, %(overdue)d overdue",
            count,
        ) % {"count": count, "overdue": overdue}
        text = render_to_string("reminders/email/digest.txt", context)
        html = render_to_string("reminders/email/digest.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[email], headers={COUNT_HEADER: str(count)})
    message.attach_alternative(html, "text/html")
    return message
