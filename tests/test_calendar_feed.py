"""Personal iCalendar feeds of running deadlines: RFC 5545 text, one organisation per token, revocable, no session."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import icalendar
import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import parse_http_date

from accounts.models import SecurityEvent
from cases import calendar_feed, regimes, services
from cases.models import CalendarFeedToken, Membership, Obligation
from tests.conftest import paris
from tests.filing_helpers import complete_by_filing

PAGE = "/calendar/"
TOKEN_IN_URL = re.compile(r"/calendar/feed/([A-Za-z0-9_-]{43})\.ics")


@pytest.fixture(autouse=True)
def _every_fixture_deadline_in_the_window(settings):
    """The fixtures' cases date from 2024: the window is widened here, and narrowed in the window's own tests."""
    settings.CALENDAR_FEED_PAST_DAYS = 36_500


def save_audited(obj):
    with transaction.atomic():
        obj.save()


def issue(client, code="mutex") -> str:
    """Ask for a feed URL from the page; the token shown once in the response."""
    response = client.post(PAGE, {"organization": code, "action": "issue"})
    assert response.status_code == 200
    (token,) = set(TOKEN_IN_URL.findall(response.content.decode()))
    return token


def feed_url(token: str) -> str:
    return reverse("cases:calendar_feed", kwargs={"token": token})


def fetch(token: str, client: Client | None = None):
    return (client or Client()).get(feed_url(token))


def unfold(body: bytes) -> list[str]:
    return body.decode("utf-8").replace("\r\n ", "").split("\r\n")


def events(body: bytes) -> list[dict[str, str]]:
    found, current, depth = [], None, 0
    for line in unfold(body):
        if line == "BEGIN:VEVENT":
            current, depth = {}, 0
        elif line == "BEGIN:VALARM":
            depth += 1
        elif line == "END:VALARM":
            depth -= 1
        elif line == "END:VEVENT":
            found.append(current)
            current = None
        elif current is not None and depth == 0 and ":" in line:
            name, value = line.split(":", 1)
            current[name] = value
    return found


def running(org) -> list[Obligation]:
    return list(Obligation.objects.filter(case__organization=org, state=Obligation.State.PENDING, due_at__isnull=False))


def test_the_urls_are_named():
    assert reverse("cases:calendar_feeds") == PAGE
    assert reverse("cases:calendar_feed", kwargs={"token": "abc"}) == "/calendar/feed/abc.ics"


def test_the_page_lists_the_user_s_organisations_only(org, dpo, make_org, login):
    make_org(name="Mutuelle étrangère", code="autre")
    response = login(dpo).get(PAGE)
    assert response.status_code == 200
    assert b"Mutuelle Exemple" in response.content
    assert "Mutuelle étrangère".encode() not in response.content


def test_the_token_is_shown_once_and_stored_only_as_its_hash(org, dpo, login):
    client = login(dpo)
    token = issue(client)
    stored = CalendarFeedToken.objects.get()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {stored.token_hash, str(stored.pk)}
    page = client.get(PAGE)
    assert token not in page.content.decode()
    assert TOKEN_IN_URL.search(page.content.decode()) is None
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.EXPORT, detail__contains="issued").count() == 1


def test_the_feed_is_valid_icalendar_with_the_running_deadlines(org, dpo, open_case, login, settings):
    settings.SITE_URL = "https://registre.example"
    case = open_case()
    expected = running(org)
    assert expected, "a new case has at least its 72 h CNIL clock running"
    token = issue(login(dpo))

    response = fetch(token)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content
    assert body.startswith(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert body.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    lines = unfold(body)
    assert "X-WR-CALNAME:Échéances — Mutuelle Exemple" in lines
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == len(expected)
    assert lines.count("BEGIN:VALARM") == lines.count("END:VALARM") == len(expected)
    # 24 hours before a start written in UTC, where a day is always 24 hours (RFC 5545 §3.3.6).
    assert lines.count("TRIGGER:-P1D") == len(expected)

    cnil = case.obligations.get(rule_code="GDPR_33_1")
    event = next(e for e in events(body) if e["UID"] == f"obligation-{cnil.pk}@registre.example")
    assert event["DTSTART"] == "20240204T170000Z"  # 72 h after 1 Feb 18:00 Paris (UTC+1)
    assert event["DTEND"] == "20240204T171500Z"
    assert event["SUMMARY"] == f"[{case.reference}] Notification de la violation à la CNIL (art. 33(1) RGPD)"
    assert "Destinataire\u00a0: CNIL" in event["DESCRIPTION"]  # French typography: no-break space before ":"
    assert "Règlement (UE) 2016/679\\, art. 33(1) et 33(3)" in event["DESCRIPTION"]
    assert "Accès frauduleux au portail" in event["DESCRIPTION"]
    assert f"https://registre.example/cases/{case.reference}/#obligation-{cnil.pk}" in event["DESCRIPTION"]
    assert event["URL"] == f"https://registre.example/cases/{case.reference}/#obligation-{cnil.pk}"


def test_the_uid_is_stable_between_fetches(org, dpo, open_case, login):
    open_case()
    token = issue(login(dpo))
    first = [e["UID"] for e in events(fetch(token).content)]
    second = [e["UID"] for e in events(fetch(token).content)]
    assert first == second and len(set(first)) == len(first)


def test_long_accented_titles_are_folded_at_75_octets_and_text_is_escaped(org, dpo, open_case, login):
    title = "Exfiltration présumée, phase 1; serveur \\RH — données médicales des adhérents éàèùçœ " * 3
    case = open_case(title=title.strip())
    token = issue(login(dpo))
    body = fetch(token).content

    for raw in body.split(b"\r\n"):
        assert len(raw) <= 75, raw
        raw.decode("utf-8")  # never cut inside a character
    assert any(raw.startswith(b" ") for raw in body.split(b"\r\n")), "long lines are folded"
    summaries = [e["SUMMARY"] for e in events(body)]
    escaped = title.strip().replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    assert summaries and all(s.startswith(f"[{case.reference}] ") for s in summaries)
    assert all(escaped in e["DESCRIPTION"] for e in events(body))


def test_a_client_reads_back_exactly_the_texts_written(org, dpo, open_case, login):
    """Commas, semicolons, backslashes and line breaks survive the RFC 5545 escaping (a real parser reads them)."""
    title = "Fuite, phase 1; serveur \\RH\nsuite — éàèùçœ"
    case = open_case(title=title.replace("\n", " "))
    calendar = icalendar.Calendar.from_ical(fetch(issue(login(dpo))).content)
    events = calendar.walk("VEVENT")
    assert events
    for event in events:
        assert str(event["SUMMARY"]).startswith(f"[{case.reference}] ")
        assert f"Dossier\u00a0: {case.reference} — {case.title}" in str(event["DESCRIPTION"]).splitlines()
        assert event.walk("VALARM")[0]["TRIGGER"].dt == -timedelta(hours=24)


def test_only_running_obligations_are_in_the_feed(org, dpo, open_case, login):
    case = open_case()
    cnil = case.obligations.get(rule_code="GDPR_33_1")
    complete_by_filing(cnil, completed_at=paris(2024, 2, 2, 9), reference="CNIL-1", acting_user=dpo)
    token = issue(login(dpo))

    uids = {e["UID"].split("@")[0] for e in events(fetch(token).content)}

    assert f"obligation-{cnil.pk}" not in uids
    assert uids == {f"obligation-{o.pk}" for o in running(org)}
    no_due = case.obligations.filter(due_at__isnull=True)
    assert not uids & {f"obligation-{o.pk}" for o in no_due}


def test_an_obligation_marked_not_applicable_leaves_the_feed(org, dpo, open_case, login):
    case = open_case()
    token = issue(login(dpo))
    cnil = case.obligations.get(rule_code="GDPR_33_1")
    assert f"obligation-{cnil.pk}@" in fetch(token).content.decode()
    services.decision_notify_authority(case, notify=False, reason="Données chiffrées.", acting_user=dpo)
    assert f"obligation-{cnil.pk}@" not in fetch(token).content.decode()


def test_regenerating_revokes_the_previous_url(org, dpo, open_case, login):
    client = login(dpo)
    first = issue(client)
    second = issue(client)
    assert first != second
    assert fetch(first).status_code == 404
    assert fetch(second).status_code == 200
    assert CalendarFeedToken.objects.filter(revoked_at__isnull=True).count() == 1


def test_a_revoked_url_answers_404(org, dpo, login):
    client = login(dpo)
    token = issue(client)
    response = client.post(PAGE, {"organization": "mutex", "action": "revoke"})
    assert response.status_code == 302
    assert fetch(token).status_code == 404
    assert CalendarFeedToken.objects.get().revoked_at is not None
    assert SecurityEvent.objects.filter(detail="calendar feed URL revoked").count() == 1


def test_a_user_who_lost_the_membership_loses_the_feed(org, open_case, make_user, login):
    open_case()
    legal = make_user(org, Membership.Role.LEGAL, "juriste")
    token = issue(login(legal))
    assert fetch(token).status_code == 200
    membership = Membership.objects.get(user=legal, organization=org)
    membership.is_active = False
    save_audited(membership)
    assert fetch(token).status_code == 404


def test_a_deactivated_account_loses_the_feed(org, dpo, login):
    token = issue(login(dpo))
    dpo.is_active = False
    dpo.save()
    assert fetch(token).status_code == 404


def test_unknown_tokens_answer_404(db):
    for token in ("not-a-token", "x" * 43, "a" * 300):
        assert Client().get(feed_url(token)).status_code == 404


def test_a_token_for_one_organisation_never_shows_another(org, dpo, open_case, make_org, make_user, login):
    other = make_org(name="Autre mutuelle", code="autre")
    services.membership_grant(user=dpo, organization=other, role=Membership.Role.DPO, acting_user=None)
    mine = open_case(title="Dossier A")
    theirs = open_case(title="CANARY-B", organization=other)
    token = issue(login(dpo), "mutex")

    body = fetch(token).content.decode()

    assert mine.reference in body
    assert theirs.reference not in body and "CANARY-B" not in body and "Autre mutuelle" not in body


def test_a_feed_cannot_be_issued_for_an_organisation_the_user_is_not_in(org, dpo, make_org, login):
    make_org(name="Autre mutuelle", code="autre")
    client = login(dpo)
    assert client.post(PAGE, {"organization": "autre", "action": "issue"}).status_code == 404
    assert client.post(PAGE, {}).status_code == 400
    assert client.post(PAGE, {"organization": "mutex", "action": "delete"}).status_code == 400
    assert not CalendarFeedToken.objects.exists()


def test_an_auditor_may_subscribe(org, open_case, make_user, login):
    open_case()
    auditor = make_user(org, Membership.Role.AUDITOR, "auditeur")
    assert fetch(issue(login(auditor))).status_code == 200


def test_the_feed_speaks_the_language_it_was_issued_in(org, dpo, open_case, login):
    case = open_case()
    client = login(dpo)
    response = client.post(PAGE, {"organization": "mutex", "action": "issue"}, HTTP_ACCEPT_LANGUAGE="en")
    (token,) = set(TOKEN_IN_URL.findall(response.content.decode()))
    lines = unfold(fetch(token).content)
    assert "X-WR-CALNAME:Deadlines — Mutuelle Exemple" in lines
    assert f"SUMMARY:[{case.reference}] Breach notification to the CNIL (GDPR Art. 33(1))" in lines
    assert any(line.startswith("DESCRIPTION:Recipient: CNIL") for line in lines)
    assert any(line.startswith("PRODID:-//Registre des violations//") for line in lines)


def test_every_fetch_is_in_the_security_log(org, dpo, open_case, login):
    open_case()
    token = issue(login(dpo))
    Client().get(feed_url(token), REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Calendar/1.0")
    event = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.EXPORT, detail__startswith="calendar feed (").get()
    assert event.user == dpo and event.organization == org
    assert event.ip_address == "203.0.113.7" and event.user_agent == "Calendar/1.0"


def test_the_feed_needs_no_session_nor_second_factor_but_every_other_page_does(org, dpo, open_case, login):
    open_case()
    token = issue(login(dpo))

    assert Client().get(feed_url(token)).status_code == 200
    unverified = Client()
    unverified.force_login(dpo)
    assert unverified.get(feed_url(token)).status_code == 200

    for url in (PAGE, reverse("cases:register_csv"), reverse("reminders:preferences")):
        anonymous = Client().get(url)
        assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("accounts:login")), url
        half = unverified.get(url)
        assert half.status_code == 302 and half["Location"] in {reverse("accounts:verify"), reverse("accounts:enrol")}
    # The open prefix is exactly the feed's: a look-alike path is not let through.
    assert Client().get("/calendar/feedx/").status_code == 302
    assert Client().get("/calendar/").status_code == 302


def test_posting_to_a_feed_is_refused(org, dpo, login):
    token = issue(login(dpo))
    assert Client().post(feed_url(token)).status_code == 405
    assert Client().head(feed_url(token)).status_code == 200


def test_the_feed_query_count_does_not_grow_with_the_number_of_cases(
    org, dpo, open_case, login, django_assert_max_num_queries
):
    token = issue(login(dpo))
    open_case()
    # Token with its membership check, the obligations with their cases, the security-log row.
    with django_assert_max_num_queries(3) as small:
        small_body = fetch(token).content
    small_count = len(small.captured_queries)  # read now: a later request clears the log
    for n in range(20):
        open_case(title=f"Dossier {n}", aware_at=paris(2024, 2, 1, 18, n))
    with django_assert_max_num_queries(small_count):
        large_body = fetch(token).content
    assert len(events(large_body)) == 21 * len(events(small_body))


def test_the_page_query_count_does_not_grow_with_the_number_of_organisations(
    dpo, make_org, login, django_assert_max_num_queries
):
    client = login(dpo)
    # Session, user, OTP device, the organisations, their live tokens, the menu's roles.
    with django_assert_max_num_queries(6) as small:
        client.get(PAGE)
    small_count = len(small.captured_queries)  # read now: a later request clears the log
    for n in range(10):
        org_n = make_org(name=f"Filiale {n}", code=f"fil{n}")
        services.membership_grant(user=dpo, organization=org_n, role=Membership.Role.AUDITOR, acting_user=None)
        issue(client, f"fil{n}")
    with django_assert_max_num_queries(small_count):
        response = client.get(PAGE)
    assert response.content.count(b'value="revoke"') == 10


def test_the_service_refuses_a_token_without_an_active_membership(org, make_org, make_user):
    outsider = make_user(make_org(name="Autre", code="autre"), Membership.Role.ADMIN, "dehors")
    with pytest.raises(PermissionDenied):
        calendar_feed.feed_token_issue(user=outsider, organization=org, language="fr")
    assert not CalendarFeedToken.objects.exists()


def test_the_window_keeps_deadlines_due_from_30_days_ago_on_overdue_ones_included(org, dpo, open_case, login, settings):
    settings.CALENDAR_FEED_PAST_DAYS = 30
    now = timezone.now()
    recent = open_case(title="Récent", first_signal_at=now - timedelta(days=10), aware_at=now - timedelta(days=10))
    old = open_case(title="Ancien", first_signal_at=now - timedelta(days=60), aware_at=now - timedelta(days=60))
    new = open_case(title="Nouveau", first_signal_at=now - timedelta(hours=2), aware_at=now - timedelta(hours=1))
    token = issue(login(dpo))

    uids = {e["UID"].split("@")[0] for e in events(fetch(token).content)}

    recent_cnil = recent.obligations.get(rule_code="GDPR_33_1")
    assert recent_cnil.due_at < now, "overdue by a week"
    assert f"obligation-{recent_cnil.pk}" in uids
    assert f"obligation-{new.obligations.get(rule_code='GDPR_33_1').pk}" in uids
    assert not uids & {f"obligation-{o.pk}" for o in old.obligations.all()}, "due more than 30 days ago"
    in_window = [o for o in running(org) if o.due_at >= now - timedelta(days=30)]
    assert uids == {f"obligation-{o.pk}" for o in in_window}


def conditional(token: str, etag: str):
    return Client().get(feed_url(token), HTTP_IF_NONE_MATCH=etag)


def test_a_poll_with_the_current_etag_answers_304_cheaply_and_is_logged(
    org, dpo, open_case, login, django_assert_max_num_queries
):
    open_case()
    token = issue(login(dpo))
    first = fetch(token)
    etag = first["ETag"]
    assert etag.startswith('W/"') and first["Cache-Control"] == "private, no-cache"
    assert parse_http_date(first["Last-Modified"]) <= timezone.now().timestamp()

    # Token with its membership check, one aggregate query, the security-log row.
    with django_assert_max_num_queries(3):
        polled = conditional(token, etag)
    assert polled.status_code == 304
    assert polled.content == b""
    assert polled["ETag"] == etag and polled["Last-Modified"] == first["Last-Modified"]
    assert SecurityEvent.objects.filter(detail="calendar feed (not modified)").count() == 1
    # Another ETag, or none: the whole feed, with the same ETag as long as nothing changed.
    assert conditional(token, 'W/"something-else"').status_code == 200
    assert fetch(token)["ETag"] == etag
    # The aggregate query and the rows of the feed give the same validators.
    assert calendar_feed.Validators.query(org, "fr") == calendar_feed.Validators.of(
        org, "fr", calendar_feed.running_obligations(org)
    )


def test_the_etag_changes_whenever_a_deadline_in_the_feed_changes(org, dpo, open_case, login, settings):
    case = open_case()
    token = issue(login(dpo))
    seen = [fetch(token)["ETag"]]

    def changed() -> bool:
        etag = fetch(token)["ETag"]
        fresh = etag not in seen
        assert conditional(token, seen[-1]).status_code == (200 if fresh else 304)
        seen.append(etag)
        return fresh

    assert not changed()
    # A clock moved: due dates recomputed.
    services.case_update_facts(
        case, aware_at=paris(2024, 2, 1, 19, 0), change_reason="Journaux relus.", acting_user=dpo
    )
    assert changed()
    # The case's title, printed in every event of the case.
    services.case_update_facts(case, title="Accès frauduleux confirmé", acting_user=dpo)
    assert changed()
    # An obligation leaves the feed.
    services.decision_notify_authority(case, notify=False, reason="Données chiffrées.", acting_user=dpo)
    assert changed()
    # A new case brings its deadlines.
    other = open_case(title="Courriel mal adressé")
    assert changed()
    # One of its deadlines is met: it leaves.
    cnil = other.obligations.get(rule_code="GDPR_33_1")
    complete_by_filing(cnil, completed_at=paris(2024, 2, 5, 10, 0), late_reason="Analyse longue.", acting_user=dpo)
    assert changed()
    # The organisation's name is the calendar's name.
    org.name = "Mutuelle Renommée"
    save_audited(org)
    assert changed()
    # Time passes: deadlines slip out of the window.
    settings.CALENDAR_FEED_PAST_DAYS = 1
    assert changed()
    assert not changed()


def test_an_authority_s_name_is_translated_once_per_language_not_once_per_event(org, dpo, open_case):
    for title in ("Un", "Deux", "Trois"):
        open_case(title=title)
    regimes.authority_name.cache_clear()
    body, count, _validators = calendar_feed.build_feed(org, lang="fr")
    authorities = {ob.authority for ob in calendar_feed.running_obligations(org)}
    assert count > len(authorities) > 0
    assert regimes.authority_name.cache_info().misses == len(authorities)
    assert body.count(b"BEGIN:VEVENT") == count


def test_an_event_is_worded_in_the_feed_s_language_whatever_language_is_active(org, open_case):
    """The words every event repeats are translated once per feed, in the feed's language, not in whichever
    language happens to be active when its first event is built."""
    case = open_case()
    cnil = case.obligations.select_related("case").get(rule_code="GDPR_33_1")
    feed = calendar_feed.Feed(organization=org, obligations=[cnil], lang="fr", now=timezone.now())
    with translation.override("en"):
        description = str(feed.event(cnil)["DESCRIPTION"])
    assert description.startswith("Destinataire\u00a0: CNIL\n")
    assert "\nDélai\u00a0: " in description


def test_each_processor_notice_names_the_controller_it_is_owed_to(make_org, make_user, make_relationship, login):
    """A processor informing dozens of controllers gets one event per notice: each says which controller,
    or the subscriber sees the same title dozens of times."""
    processor = make_org(name="Tiers payant", code="tp", kind="processor")
    dpo = make_user(processor, Membership.Role.DPO)
    case = services.case_open(
        organization=processor,
        title="Fuite",
        first_signal_at=paris(2024, 2, 1, 9, 0),
        aware_at=paris(2024, 2, 1, 18, 0),
        aware_justification="Logs reviewed.",
        acting_user=dpo,
    )
    for name in ("Mutuelle Alpha", "Mutuelle Bêta"):
        services.controller_add(case, relationship=make_relationship(processor, controller_name=name), acting_user=dpo)
    body = fetch(issue(login(dpo), code="tp")).content
    notices = {ob.pk: ob for ob in case.obligations.filter(rule_code="GDPR_33_2")}
    summaries = {
        int(e["UID"].split("@")[0].removeprefix("obligation-")): e["SUMMARY"]
        for e in events(body)
        if int(e["UID"].split("@")[0].removeprefix("obligation-")) in notices
    }
    assert sorted(summaries.values()) == sorted(
        f"[{case.reference}] {ob.label('fr')} — {ob.controller_notice.controller_name}" for ob in notices.values()
    )
    assert len(set(summaries.values())) == 2
