"""The iCalendar feed of an organisation's running deadlines: its personal tokens and its RFC 5545 text.

A feed URL carries a random token and is fetched by calendar clients without a session,
so only the token's SHA-256 is stored, the URL is shown once, issuing a new one revokes
the old one, and a token stops working as soon as its user loses the membership.

The feed says as little as it can: rule, authority, legal source, due date, and the case
reference and title (no person's data is recorded on a case; the title is the DPO's own
wording). Instants are written in UTC ("Z"), which every client converts to local time. The
RFC 5545 text (escaping, folding, line ends) is the icalendar library's; the words are gettext's,
in the language the feed was issued in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, QuerySet, Subquery, Sum
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from .deadlines import BASIS_NOTES
from .models import BreachCase, CalendarFeedToken, Membership, Obligation, Organization
from .permissions import READ_ROLES
from .regimes import authority_name

EVENT_LENGTH = timedelta(minutes=15)
# Relative to a DTSTART in UTC, so the library's "-P1D" is exactly 24 hours, even across a DST change.
ALARM_BEFORE = timedelta(hours=-24)
REFRESH = timedelta(hours=1)

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


def window_start(now: datetime) -> datetime:
    """The earliest due date in the feed: settings.CALENDAR_FEED_PAST_DAYS before `now`."""
    return now - timedelta(days=settings.CALENDAR_FEED_PAST_DAYS)


def _in_feed(organization: Organization, now: datetime) -> QuerySet[Obligation]:
    """Pending obligations of the organisation's open cases due from `window_start(now)` on, overdue ones included."""
    return Obligation.objects.filter(
        case__organization=organization,
        state=Obligation.State.PENDING,
        due_at__gte=window_start(now),
    ).exclude(case__status=BreachCase.Status.CLOSED)


def _last_change() -> Subquery:
    """The time of an obligation's latest history row (its last change)."""
    rows = Obligation.history.model.objects.filter(id=OuterRef("pk")).order_by("-history_date")
    return Subquery(rows.values("history_date")[:1])


def running_obligations(organization: Organization, *, now: datetime | None = None) -> list[Obligation]:
    """The obligations of the feed (`_in_feed`), with their cases, soonest first, in one query.

    Each carries `changed_at` (its latest history row) so the feed's validators come from the
    same rows (`Validators.of`) without a second query.
    """
    return list(
        _in_feed(organization, now or timezone.now())
        .select_related("case", "controller_notice")
        .only(
            "pk",
            "version",
            "rule_code",
            "label_fr",
            "label_en",
            "authority",
            "legal_source",
            "deadline_label_fr",
            "deadline_label_en",
            "due_at",
            "due_basis",
            "case__version",
            "case__reference",
            "case__title",
            "case__status",
            "controller_notice",
            "controller_notice__controller_name",
        )
        .annotate(changed_at=_last_change())
        .order_by("due_at", "pk")
    )


# Part of every ETag: change it when the feed's text changes for the same data (a new property...).
FEED_FORMAT = "2"


@dataclass(frozen=True)
class Validators:
    """The feed's ETag and Last-Modified, derived from its data.

    What the feed prints is the organisation's name, its obligations' fields and their cases'
    reference and title. Every save of an audited record bumps its `version`, so the sum of the
    obligations' and of their cases' versions changes whenever one of them changes; the count and
    the sum of ids change when one enters or leaves the feed (done, not applicable, case closed,
    out of the window). Last-Modified is the latest change of an obligation in the feed: it is
    informational only, conditional requests are answered on the ETag (a case's new title does
    not move it).
    """

    etag: str
    last_modified: datetime | None

    @classmethod
    def from_facts(cls, organization: Organization, lang: str, facts: dict) -> Validators:
        key = "|".join(
            str(part)
            for part in (
                FEED_FORMAT,
                settings.SITE_URL,
                settings.PRODUCT_NAME,
                lang,
                organization.pk,
                organization.name,
                facts["count"] or 0,
                facts["ids"] or 0,
                facts["versions"] or 0,
                facts["case_versions"] or 0,
            )
        )
        return cls(etag=f'W/"{hashlib.sha256(key.encode()).hexdigest()[:32]}"', last_modified=facts["changed_at"])

    @classmethod
    def of(cls, organization: Organization, lang: str, obligations: list[Obligation]) -> Validators:
        """From the feed's obligations as `running_obligations` returns them."""
        changed = [ob.changed_at for ob in obligations if ob.changed_at is not None]
        facts = {
            "count": len(obligations),
            "ids": sum(ob.pk for ob in obligations),
            "versions": sum(ob.version for ob in obligations),
            "case_versions": sum(ob.case.version for ob in obligations),
            "changed_at": max(changed, default=None),
        }
        return cls.from_facts(organization, lang, facts)

    @classmethod
    def query(cls, organization: Organization, lang: str, *, now: datetime | None = None) -> Validators:
        """The same, in one aggregate query: what a poll costs when nothing changed."""
        facts = _in_feed(organization, now or timezone.now()).aggregate(
            count=Count("pk"),
            ids=Sum("pk"),
            versions=Sum("version"),
            case_versions=Sum("case__version"),
            # Not Max of an annotation: Django then refers to a column its inner query lacks.
            changed_at=Max(_last_change()),
        )
        return cls.from_facts(organization, lang, facts)


# --- RFC 5545 text (the icalendar library escapes, folds at 75 octets and writes CRLF) --------------


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
    """The feed of one organisation in one language; build it under `translation.override(lang)`."""

    organization: Organization
    obligations: list[Obligation]
    lang: str
    now: datetime

    def calendar(self) -> icalendar.Calendar:
        calendar = icalendar.Calendar()
        calendar.add("prodid", f"-//{settings.PRODUCT_NAME}//{gettext('Deadlines')}//{self.lang.upper()}")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        calendar.add("x-wr-calname", gettext("Deadlines — %(org)s") % {"org": self.organization.name})
        calendar.add("x-wr-timezone", "Europe/Paris")
        calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", REFRESH)
        for obligation in self.obligations:
            calendar.add_component(self.event(obligation))
        return calendar

    @cached_property
    def _words(self) -> dict:
        """What every event repeats, translated once per feed in the feed's language: the notes on a due date's
        basis and the description's lines."""
        with translation.override(self.lang):
            return {
                "notes": {basis: str(note) for basis, note in BASIS_NOTES.items()},
                "recipient": gettext("Recipient: %(authority)s"),
                "source": gettext("Legal source: %(source)s"),
                "deadline": gettext("Deadline: %(deadline)s"),
                "case": gettext("Case: %(case)s"),
                "alarm": gettext("Due in 24 h: %(summary)s"),
                "host": _host(),
                "dtstamp": self.now.astimezone(UTC),
            }

    def event(self, ob: Obligation) -> icalendar.Event:
        words = self._words
        summary = f"[{ob.case.reference}] {ob.title(self.lang)}"  # a processor's notice names its controller
        deadline = ob.deadline_label_en if self.lang == "en" else ob.deadline_label_fr
        note = words["notes"].get(ob.due_basis)
        if note:
            deadline = f"{deadline} ({note})" if deadline else note
        url = obligation_url(ob)
        authority = authority_name(ob.authority, self.lang)
        description = "\n".join(
            [
                words["recipient"] % {"authority": authority},
                words["source"] % {"source": ob.legal_source},
                words["deadline"] % {"deadline": deadline},
                words["case"] % {"case": f"{ob.case.reference} — {ob.case.title}"},
                url,
            ]
        )
        event = icalendar.Event()
        event.add("uid", f"obligation-{ob.pk}@{words['host']}")
        event.add("dtstamp", words["dtstamp"])
        event.add("dtstart", ob.due_at.astimezone(UTC))
        event.add("dtend", (ob.due_at + EVENT_LENGTH).astimezone(UTC))
        event.add("summary", summary)
        event.add("description", description)
        event.add("url", url, parameters={})
        event.add("categories", [authority])
        event.add("class", "CONFIDENTIAL")
        event.add("transp", "TRANSPARENT")
        event.add("status", "CONFIRMED")
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("trigger", ALARM_BEFORE)
        alarm.add("description", words["alarm"] % {"summary": summary})
        event.add_component(alarm)
        return event

    def render(self) -> bytes:
        with translation.override(self.lang):
            return self.calendar().to_ical()


def build_feed(organization: Organization, *, lang: str, now: datetime | None = None) -> tuple[bytes, int, Validators]:
    """The organisation's feed as iCalendar bytes, the number of events in it, and its validators."""
    now = now or timezone.now()
    obligations = running_obligations(organization, now=now)
    feed = Feed(organization=organization, obligations=obligations, lang=lang, now=now)
    return feed.render(), len(obligations), Validators.of(organization, lang, obligations)
