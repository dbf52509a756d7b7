"""The iCalendar feed of an organisation's running deadlines: its personal tokens and its RFC 5545 text.

A feed URL carries a random token and is fetched by calendar clients without a session,
so only the token's SHA-256 is stored, the URL is shown once, issuing a new one revokes
the old one, and a token stops working as soon as its user loses the membership.

The feed says as little as it can: rule, authority, legal source, due date, and the case
reference and title (no person's data is recorded on a case; the title is the DPO's own
wording). Instants are written in UTC ("Z"), which every client converts to local time.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from .deadlines import DueBasis
from .models import BreachCase, CalendarFeedToken, Membership, Obligation, Organization
from .permissions import READ_ROLES
from .regimes import authority_name

EVENT_LENGTH = timedelta(minutes=15)
ALARM_BEFORE = "-PT24H"
REFRESH = "PT1H"
FOLD_AT = 75  # octets per line, CRLF excluded (RFC 5545 §3.1)

TEXT = {
    "calname": ("Échéances — %(org)s", "Deadlines — %(org)s"),
    "authority": ("Destinataire : ", "Recipient: "),
    "source": ("Source juridique : ", "Legal source: "),
    "deadline": ("Délai : ", "Deadline: "),
    "case": ("Dossier : ", "Case: "),
    "alarm": ("Échéance dans 24 h : %(summary)s", "Due in 24 h: %(summary)s"),
}
# Said next to a due date that is not fixed by the text itself.
BASIS_NOTES = {
    DueBasis.INTERNAL_TARGET: (
        "objectif interne de l'organisme, pas un délai légal",
        "the organisation's internal target, not a legal deadline",
    ),
    DueBasis.CONTRACT: ("délai contractuel", "contractual notice period"),
    DueBasis.AUTHORITY: ("date fixée par l'autorité", "date set by the authority"),
}


def _t(key: str, lang: str, **params: str) -> str:
    fr, en = TEXT[key]
    text = en if lang == "en" else fr
    return text % params if params else text


# --- tokens ------------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _active_membership(user_ref, organization_ref):
    return Membership.objects.filter(user=user_ref, organization=organization_ref, is_active=True, role__in=READ_ROLES)


@transaction.atomic
def feed_token_issue(*, user, organization: Organization, language: str) -> str:
    """A new feed token for the user's organisation (the previous one revoked); returned once, stored hashed."""
    # Serialises two clicks on "regenerate": the second waits, then revokes the first one's token.
    if not list(_active_membership(user, organization).select_for_update().values_list("pk", flat=True)):
        raise PermissionDenied("Only an active member of the organisation may subscribe to its deadlines.")
    now = timezone.now()
    # Not a history-tracked model: revoking in bulk writes no audited fact of a case.
    CalendarFeedToken.objects.filter(user=user, organization=organization, revoked_at__isnull=True).update(
        revoked_at=now
    )
    token = secrets.token_urlsafe(32)
    CalendarFeedToken.objects.create(
        user=user,
        organization=organization,
        token_hash=hash_token(token),
        language="en" if language == "en" else "fr",
    )
    return token


def feed_token_revoke(*, user, organization: Organization) -> int:
    """Revoke the user's feed of the organisation; the number of tokens revoked (0 or 1)."""
    return CalendarFeedToken.objects.filter(user=user, organization=organization, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def feed_token_resolve(token: str) -> CalendarFeedToken | None:
    """The live token, with its user and organisation, if its user is still an active member; else None."""
    if not token or len(token) > 100:
        return None
    return (
        CalendarFeedToken.objects.filter(token_hash=hash_token(token), revoked_at__isnull=True, user__is_active=True)
        .filter(Exists(_active_membership(OuterRef("user"), OuterRef("organization"))))
        .select_related("user", "organization")
        .first()
    )


def running_obligations(organization: Organization) -> list[Obligation]:
    """Pending obligations with a due date of the organisation's open cases, soonest first, in one query."""
    return list(
        Obligation.objects.filter(
            case__organization=organization,
            state=Obligation.State.PENDING,
            due_at__isnull=False,
        )
        .exclude(case__status=BreachCase.Status.CLOSED)
        .select_related("case")
        .only(
            "pk",
            "rule_code",
            "label_fr",
            "label_en",
            "authority",
            "legal_source",
            "deadline_label_fr",
            "deadline_label_en",
            "due_at",
            "due_basis",
            "case__reference",
            "case__title",
            "case__status",
        )
        .order_by("due_at", "pk")
    )


# --- RFC 5545 text -----------------------------------------------------------------------------


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): backslash, semicolon and comma escaped, newlines as \\n."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """The content line folded at 75 octets, never inside a UTF-8 character (RFC 5545 §3.1)."""
    data = line.encode("utf-8")
    if len(data) <= FOLD_AT:
        return line
    parts: list[str] = []
    start, limit = 0, FOLD_AT
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # a continuation byte: back off
            end -= 1
        parts.append(data[start:end].decode("utf-8"))
        start, limit = end, FOLD_AT - 1  # continuation lines start with a space
    return "\r\n ".join(parts)


def utc_stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def obligation_url(obligation: Obligation) -> str:
    reference = obligation.case.reference
    try:
        path = reverse("cases:case_detail", kwargs={"reference": reference})
    except NoReverseMatch:
        path = f"/cases/{reference}/"
    return f"{settings.SITE_URL}{path}#obligation-{obligation.pk}"


@dataclass(frozen=True)
class Feed:
    organization: Organization
    obligations: list[Obligation]
    lang: str
    now: datetime

    def lines(self) -> Iterable[str]:
        yield "BEGIN:VCALENDAR"
        yield "VERSION:2.0"
        yield "PRODID:-//Cairn Conformite//Breach deadlines//FR"
        yield "CALSCALE:GREGORIAN"
        yield "METHOD:PUBLISH"
        yield "X-WR-CALNAME:" + escape_text(_t("calname", self.lang, org=self.organization.name))
        yield "X-WR-TIMEZONE:Europe/Paris"
        yield f"REFRESH-INTERVAL;VALUE=DURATION:{REFRESH}"
        yield f"X-PUBLISHED-TTL:{REFRESH}"
        for obligation in self.obligations:
            yield from self.event(obligation)
        yield "END:VCALENDAR"

    def event(self, ob: Obligation) -> Iterable[str]:
        lang = self.lang
        summary = f"[{ob.case.reference}] {ob.label(lang)}"
        deadline = ob.deadline_label_en if lang == "en" else ob.deadline_label_fr
        note = BASIS_NOTES.get(ob.due_basis)
        if note:
            basis = note[1] if lang == "en" else note[0]
            deadline = f"{deadline} ({basis})" if deadline else basis
        url = obligation_url(ob)
        authority = authority_name(ob.authority, lang)
        description = "\n".join(
            [
                _t("authority", lang) + authority,
                _t("source", lang) + ob.legal_source,
                _t("deadline", lang) + deadline,
                _t("case", lang) + f"{ob.case.reference} — {ob.case.title}",
                url,
            ]
        )
        yield "BEGIN:VEVENT"
        yield f"UID:obligation-{ob.pk}@{_host()}"
        yield f"DTSTAMP:{utc_stamp(self.now)}"
        yield f"DTSTART:{utc_stamp(ob.due_at)}"
        yield f"DTEND:{utc_stamp(ob.due_at + EVENT_LENGTH)}"
        yield "SUMMARY:" + escape_text(summary)
        yield "DESCRIPTION:" + escape_text(description)
        yield "URL:" + url
        yield "CATEGORIES:" + escape_text(authority)
        yield "CLASS:CONFIDENTIAL"
        yield "TRANSP:TRANSPARENT"
        yield "STATUS:CONFIRMED"
        yield "BEGIN:VALARM"
        yield "ACTION:DISPLAY"
        yield f"TRIGGER:{ALARM_BEFORE}"
        yield "DESCRIPTION:" + escape_text(_t("alarm", lang, summary=summary))
        yield "END:VALARM"
        yield "END:VEVENT"

    def render(self) -> bytes:
        return "".join(fold(line) + "\r\n" for line in self.lines()).encode("utf-8")


def build_feed(organization: Organization, *, lang: str, now: datetime | None = None) -> tuple[bytes, int]:
    """The organisation's feed as iCalendar bytes, and the number of events in it."""
    obligations = running_obligations(organization)
    feed = Feed(organization=organization, obligations=obligations, lang=lang, now=now or timezone.now())
    return feed.render(), len(obligations)
