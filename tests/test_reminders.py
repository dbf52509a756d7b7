"""Reminders before and after a deadline: each threshold, DST, exactly once, only after the commit."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import translation
from django.utils.html import escape

from cases import services
from cases.deadlines import PARIS
from cases.models import BreachCase, Membership, Obligation
from reminders.emails import DigestPrinter, action_url, duration, paris_time
from reminders.models import ReminderKind, ReminderPreference, ReminderSent
from reminders.services import send_due_reminders
from tests.conftest import paris
from tests.filing_helpers import complete_by_filing

K = ReminderKind
AWARE = paris(2024, 2, 1, 18, 0)  # Thursday 18:00: the CNIL clock ends Sunday 4 February 18:00
DUE = paris(2024, 2, 4, 18, 0)


@pytest.fixture
def team(org, dpo, make_user):
    """The case organisation's people: dpo, legal, auditor and admin, each with an e-mail address."""
    people = {
        "dpo": dpo,
        "legal": make_user(org, Membership.Role.LEGAL, "legal"),
        "auditor": make_user(org, Membership.Role.AUDITOR, "auditor"),
        "admin": make_user(org, Membership.Role.ADMIN, "admin"),
    }
    for name, user in people.items():
        user.email = f"{name}@mutex.example"
        user.save()
    return people


def only_the_cnil_clock(case, user) -> BreachCase:
    """Decide the other dated obligation (the complaint's internal target) so one clock remains."""
    for ob in case.obligations.filter(state=Obligation.State.PENDING, due_at__isnull=False).exclude(
        rule_code="GDPR_33_1"
    ):
        services.obligation_mark_not_applicable(ob, reason="Out of this test's scope.", acting_user=user)
    return case


@pytest.fixture
def case(team, open_case):
    return only_the_cnil_clock(open_case(aware_at=AWARE), team["dpo"])


@pytest.fixture
def cnil(case) -> Obligation:
    ob = case.obligations.get(rule_code="GDPR_33_1")
    assert ob.due_at == DUE
    return ob


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run the reminders at `now`, executing the on-commit e-mails as a real commit would."""

    def go(now):
        with django_capture_on_commit_callbacks(execute=True):
            return send_due_reminders(now=now)

    return go


def sent() -> set[tuple[str, str]]:
    """(recipient username, kind) of every reminder recorded."""
    return {(r.recipient.username, r.kind) for r in ReminderSent.objects.select_related("recipient")}


def mailed() -> list[tuple[str, str]]:
    return sorted((m.to[0].split("@")[0], m.subject) for m in mail.outbox)


# --- each threshold ---------------------------------------------------------------------------


def test_25_hours_before_the_deadline_nothing_is_sent(cnil, run):
    report = run(DUE - timedelta(hours=25))
    assert report.total_sent == 0
    assert mail.outbox == []
    assert not ReminderSent.objects.exists()


def test_23_hours_before_the_dpo_and_legal_get_the_24_hour_reminder(cnil, run):
    report = run(DUE - timedelta(hours=23))
    assert sent() == {("dpo", K.DUE_24H), ("legal", K.DUE_24H)}
    assert report.sent == {K.DUE_24H: 2}
    assert sorted(m.to[0] for m in mail.outbox) == ["dpo@mutex.example", "legal@mutex.example"]


def test_3_hours_before_the_4_hour_reminder_follows_the_24_hour_one(cnil, run):
    run(DUE - timedelta(hours=23))
    mail.outbox.clear()
    report = run(DUE - timedelta(hours=3))
    assert report.sent == {K.DUE_4H: 2}
    assert len(mail.outbox) == 2
    assert sent() == {(u, k) for u in ("dpo", "legal") for k in (K.DUE_24H, K.DUE_4H)}


def test_a_24_hour_reminder_missed_by_the_runs_is_sent_with_the_4_hour_one(cnil, run):
    report = run(DUE - timedelta(hours=3))
    assert report.sent == {K.DUE_24H: 2, K.DUE_4H: 2}
    # One digest per person listing both reminders, not one e-mail per reminder.
    assert sorted(m.to[0] for m in mail.outbox) == ["dpo@mutex.example", "legal@mutex.example"]
    body = next(m for m in mail.outbox if m.to == ["dpo@mutex.example"]).body
    assert "== Échéance dans moins de 4 heures (1) ==" in body
    assert "== Échéance dans moins de 24 heures (1) ==" in body


def test_once_overdue_the_team_is_told_and_the_admins_get_an_escalation(cnil, run):
    report = run(DUE + timedelta(minutes=1))
    assert sent() == {("dpo", K.OVERDUE), ("legal", K.OVERDUE), ("admin", K.ESCALATION)}
    assert report.sent == {K.OVERDUE: 2, K.ESCALATION: 1}
    # Reminders before the deadline are not sent once it has passed, and auditors are never reminded.
    assert {m.to[0] for m in mail.outbox} == {"dpo@mutex.example", "legal@mutex.example", "admin@mutex.example"}


def test_at_the_due_instant_it_is_not_yet_overdue(cnil, run):
    report = run(DUE)
    assert report.sent == {K.DUE_24H: 2, K.DUE_4H: 2}


def test_escalation_reaches_only_the_admins_of_the_case_organisation(cnil, run, make_org, make_user):
    other = make_org(name="Autre mutuelle", code="autre")
    for role, name in ((Membership.Role.ADMIN, "other_admin"), (Membership.Role.DPO, "other_dpo")):
        user = make_user(other, role, name)
        user.email = f"{name}@autre.example"
        user.save()
    run(DUE + timedelta(hours=1))
    assert not any(m.to[0].endswith("@autre.example") for m in mail.outbox)
    assert {r for r, k in sent() if k == K.ESCALATION} == {"admin"}


def test_an_organisation_without_admin_is_reported(org, dpo, open_case, run):
    dpo.email = "dpo@mutex.example"
    dpo.save()
    only_the_cnil_clock(open_case(aware_at=AWARE), dpo)
    report = run(DUE + timedelta(hours=1))
    assert report.sent == {K.OVERDUE: 1}
    assert report.no_escalation_recipient == 1


def test_users_without_an_e_mail_address_are_counted_not_recorded(cnil, team, run):
    team["legal"].email = ""
    team["legal"].save()
    report = run(DUE - timedelta(hours=23))
    assert sent() == {("dpo", K.DUE_24H)}
    assert report.no_email == 1


# --- DST ---------------------------------------------------------------------------------------


def test_a_72h_clock_across_the_spring_dst_change_reminds_24h_and_4h_of_real_time_before(team, open_case, run):
    # Friday 29 March 2024 18:00 (UTC+1); the clocks go forward on Sunday 31 March at 02:00.
    case = open_case(first_signal_at=paris(2024, 3, 29, 9, 0), aware_at=paris(2024, 3, 29, 18, 0))
    only_the_cnil_clock(case, team["dpo"])
    ob = case.obligations.get(rule_code="GDPR_33_1")
    due = datetime(2024, 4, 1, 17, 0, tzinfo=UTC)  # 72 real hours later: Monday 19:00 summer time
    assert ob.due_at == due

    assert run(due - timedelta(hours=24, seconds=1)).total_sent == 0
    assert run(due - timedelta(hours=24)).sent == {K.DUE_24H: 2}
    assert run(due - timedelta(hours=4, seconds=1)).total_sent == 0
    assert run(due - timedelta(hours=4)).sent == {K.DUE_4H: 2}
    assert run(due).total_sent == 0
    assert run(due + timedelta(seconds=1)).sent == {K.OVERDUE: 2, K.ESCALATION: 1}

    first = mail.outbox[0]
    assert "lundi 1 avril 2024 à 19:00 (heure de Paris)" in first.body
    assert "Temps restant\u00a0: 1 jour" in first.body
    # 24 real hours before is Sunday 19:00 summer time: a wall-clock "day before" in winter time would be 18:00.
    assert (due - timedelta(hours=24)).astimezone(PARIS) == paris(2024, 3, 31, 19, 0)


# --- exactly once -------------------------------------------------------------------------------


def test_running_twice_sends_each_reminder_once(cnil, run):
    now = DUE - timedelta(hours=23)
    first = run(now)
    second = run(now + timedelta(minutes=5))
    assert first.total_sent == 2
    assert second.total_sent == 0
    assert second.already_sent == 2
    assert len(mail.outbox) == 2
    assert ReminderSent.objects.count() == 2


def test_a_reminder_claimed_by_another_run_since_it_was_read_is_not_sent_again(cnil, team, open_case, run, monkeypatch):
    """Two runs may both read a reminder as not sent: the claim itself (the unique row) decides."""
    first = run(DUE + timedelta(minutes=1))
    assert first.sent == {K.OVERDUE: 2, K.ESCALATION: 1}
    mail.outbox.clear()
    # The second run read the claims before the first one committed them; a new reminder is due too.
    monkeypatch.setattr("reminders.services._already_sent", lambda obligations: set())
    later = only_the_cnil_clock(open_case(aware_at=paris(2024, 2, 2, 18, 0), title="Second incident"), team["dpo"])
    other = later.obligations.get(rule_code="GDPR_33_1")
    second = run(DUE + timedelta(minutes=2))
    assert second.sent == {K.DUE_24H: 2}
    assert second.already_sent == 3
    assert {(m.to[0], m.extra_headers["X-Reminder-Count"]) for m in mail.outbox} == {
        ("dpo@mutex.example", "1"),
        ("legal@mutex.example", "1"),
    }
    assert all(f"#obligation-{other.pk}" in m.body for m in mail.outbox)
    assert ReminderSent.objects.count() == 5


def test_a_recomputed_due_date_re_arms_the_reminders(case, cnil, team, run):
    run(DUE - timedelta(hours=23))
    later = AWARE + timedelta(hours=6)
    services.case_update_facts(case, acting_user=team["dpo"], aware_at=later, change_reason="Logs re-read.")
    new_due = later + timedelta(hours=72)
    cnil.refresh_from_db()
    assert cnil.due_at == new_due
    report = run(new_due - timedelta(hours=23))
    assert report.sent == {K.DUE_24H: 2}
    assert set(ReminderSent.objects.values_list("due_at_when_sent", flat=True)) == {DUE, new_due}


def test_nothing_is_sent_when_the_surrounding_transaction_rolls_back(cnil, django_capture_on_commit_callbacks):
    class Boom(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Boom), transaction.atomic():
        report = send_due_reminders(now=DUE - timedelta(hours=23))
        assert report.total_sent == 2
        raise Boom
    assert callbacks == []
    assert mail.outbox == []
    assert not ReminderSent.objects.exists()


def test_no_e_mail_leaves_before_the_commit(cnil, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send_due_reminders(now=DUE - timedelta(hours=23))
        assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 2


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP down")


def test_a_failed_delivery_is_released_for_the_next_run(cnil, run, settings, caplog):
    settings.EMAIL_BACKEND = "tests.test_reminders.FailingBackend"
    with caplog.at_level(logging.CRITICAL, logger="reminders.services"):
        report = run(DUE - timedelta(hours=23))
    assert report.failed == 2
    assert not ReminderSent.objects.exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert run(DUE - timedelta(hours=22)).sent == {K.DUE_24H: 2}
    assert len(mail.outbox) == 2


# --- what is never reminded -----------------------------------------------------------------------


def test_a_completed_obligation_is_not_reminded(cnil, team, run):
    complete_by_filing(cnil, completed_at=paris(2024, 2, 3, 10, 0), reference="CNIL-1", acting_user=team["dpo"])
    assert run(DUE - timedelta(hours=3)).total_sent == 0
    assert run(DUE + timedelta(hours=3)).total_sent == 0
    assert mail.outbox == []


def test_a_not_applicable_obligation_is_not_reminded(cnil, team, run):
    services.obligation_mark_not_applicable(cnil, reason="No personal data after all.", acting_user=team["legal"])
    assert run(DUE + timedelta(hours=3)).total_sent == 0
    assert mail.outbox == []


def test_obligations_without_due_date_are_not_reminded(case, run):
    register = case.obligations.get(rule_code="GDPR_33_5")  # continuous duty: no due date
    assert register.due_at is None
    run(DUE + timedelta(days=30))
    assert not ReminderSent.objects.filter(obligation=register).exists()


def test_a_closed_case_is_not_reminded(case, cnil, run):
    # The services refuse to close a case with pending obligations; this guards data written otherwise.
    with transaction.atomic():
        case.status = BreachCase.Status.CLOSED
        case.save()
    assert run(DUE + timedelta(hours=3)).total_sent == 0
    assert mail.outbox == []


# --- preferences ----------------------------------------------------------------------------------


def test_preferences_are_respected_but_escalations_always_go(cnil, team, run):
    ReminderPreference.objects.create(user=team["dpo"], receive_due_24h=False)
    ReminderPreference.objects.create(user=team["legal"], receive_overdue=False)
    ReminderPreference.objects.create(
        user=team["admin"], receive_due_24h=False, receive_due_4h=False, receive_overdue=False
    )
    run(DUE - timedelta(hours=23))
    assert sent() == {("legal", K.DUE_24H)}
    run(DUE - timedelta(hours=3))
    assert sent() == {("legal", K.DUE_24H), ("legal", K.DUE_4H), ("dpo", K.DUE_4H)}
    report = run(DUE + timedelta(hours=1))
    assert report.sent == {K.OVERDUE: 1, K.ESCALATION: 1}
    assert report.turned_off == 1
    assert ("admin", K.ESCALATION) in sent() and ("dpo", K.OVERDUE) in sent()


# --- the e-mail -----------------------------------------------------------------------------------


def test_the_e_mail_is_in_french_by_default_with_plain_text_html_and_the_link(case, cnil, run, settings):
    settings.SITE_URL = "https://registre.example"
    run(DUE - timedelta(hours=23))
    message = next(m for m in mail.outbox if m.to == ["dpo@mutex.example"])
    ref = case.reference
    assert message.subject == f"[{ref}] Échéance dans moins de 24 heures\u00a0: {cnil.label_fr}"
    body = message.body
    for expected in (
        "Bonjour dpo,",
        "Cette obligation arrive à échéance dans 23 heures.",
        f"Dossier\u00a0: {ref} — Accès frauduleux au portail",
        f"Obligation\u00a0: {cnil.label_fr} (GDPR_33_1)",
        "Autorité\u00a0: CNIL",
        "Échéance\u00a0: dimanche 4 février 2024 à 18:00 (heure de Paris)",
        "Temps restant\u00a0: 23 heures",
        "en tant que délégué à la protection des données de Mutuelle Exemple",
    ):
        assert expected in body
    url = action_url(cnil)
    assert url.startswith(f"https://registre.example/cases/{ref}")
    assert url.endswith(f"#obligation-{cnil.pk}")
    assert f"Agir maintenant\u00a0: {url}" in body
    assert "&#x27;" not in body and "&amp;" not in body  # plain text is not HTML-escaped
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert f'<a href="{url}">Agir maintenant</a>' in html
    assert "dimanche 4 février 2024 à 18:00 (heure de Paris)" in html
    assert '<html lang="fr">' in html


def test_the_e_mail_is_in_english_when_the_user_prefers_it(case, cnil, team, run):
    ReminderPreference.objects.create(user=team["legal"], language="en")
    run(DUE + timedelta(hours=2, minutes=5))
    message = next(m for m in mail.outbox if m.to == ["legal@mutex.example"])
    assert message.subject == f"[{case.reference}] Overdue: {cnil.label_en}"
    assert "Due: Sunday 4 February 2024 at 18:00 (Paris time)" in message.body
    assert "Overdue by: 2 hours 5 minutes" in message.body
    assert f"Obligation: {cnil.label_en}" in message.body
    assert '<html lang="en">' in message.alternatives[0][0]
    french = next(m for m in mail.outbox if m.to == ["dpo@mutex.example"])
    assert "Retard\u00a0: 2 heures 5 minutes" in french.body


def test_the_escalation_e_mail_says_why_the_admin_receives_it(cnil, run):
    run(DUE + timedelta(days=1, hours=3))
    message = next(m for m in mail.outbox if m.to == ["admin@mutex.example"])
    assert "Escalade, échéance manquée" in message.subject
    assert "dépassée depuis 1 jour 3 heures" in message.body
    assert "en tant qu'administrateur de Mutuelle Exemple" in message.body


def test_user_text_is_escaped_in_the_html_part(team, open_case, run):
    only_the_cnil_clock(open_case(aware_at=AWARE, title="<script>alert(1)</script> & co"), team["dpo"])
    run(DUE - timedelta(hours=23))
    html = mail.outbox[0].alternatives[0][0]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<script>alert(1)</script> & co" in mail.outbox[0].body


# --- query count ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cases", [5, 50])
def test_the_query_count_does_not_grow_with_the_number_of_obligations(
    cases, team, open_case, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    for i in range(cases):
        open_case(aware_at=AWARE, title=f"Incident {i}")  # two dated obligations each: CNIL and complaint
    with (
        django_capture_on_commit_callbacks(execute=True),
        django_assert_max_num_queries(12) as captured,
    ):
        report = send_due_reminders(now=DUE + timedelta(hours=1))
    assert report.obligations == 2 * cases
    assert report.total_sent == 6 * cases
    # One digest per person (DPO, legal, admin), each listing all of that person's reminders.
    assert sorted(m.to[0] for m in mail.outbox) == ["admin@mutex.example", "dpo@mutex.example", "legal@mutex.example"]
    assert mail.outbox[0].body.count("#obligation-") == 2 * cases
    # A digest's lines stay short enough for its parts to go as they are, not as quoted-printable.
    assert "quoted-printable" not in mail.outbox[0].message().as_string()
    inserts = [q for q in captured.captured_queries if q["sql"].startswith("INSERT")]
    # Savepoint, obligations, members, reminders already sent, release, the organisations' subscribed
    # webhook endpoints; elsewhere than on PostgreSQL, the read-back of the claims.
    if connection.vendor == "postgresql":
        assert len(captured) - len(inserts) == 6
        assert len(inserts) == 1  # the claim returns the rows it inserted
    else:
        assert len(captured) - len(inserts) == 7
        # SQLite caps a statement at 999 parameters: one INSERT per ~140 reminders, not per obligation.
        assert len(inserts) <= 1 + report.total_sent // 100


# --- the command ----------------------------------------------------------------------------------


def test_the_command_sends_and_prints_counts(cnil, capsys, django_capture_on_commit_callbacks):
    # Real time: the 2024 deadline has long passed.
    call_command("send_reminders", "--dry-run")
    assert "would send 3 reminders" in capsys.readouterr().out
    assert not ReminderSent.objects.exists() and mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders")
    out = capsys.readouterr().out
    assert "sent 3 reminders (due_24h=0, due_4h=0, overdue=2, escalation=1)" in out
    assert len(mail.outbox) == 3
    call_command("send_reminders")
    assert "sent 0 reminders" in capsys.readouterr().out


# --- the digest -----------------------------------------------------------------------------------


def test_several_reminders_go_to_each_person_as_one_digest(team, open_case, run, settings):
    settings.SITE_URL = "https://registre.example"
    ReminderPreference.objects.create(user=team["legal"], language="en")
    cases = [
        only_the_cnil_clock(open_case(aware_at=AWARE, title=title), team["dpo"])
        for title in ("Accès frauduleux au portail", "<script>alert(1)</script> & co")
    ]
    obligations = [c.obligations.get(rule_code="GDPR_33_1") for c in cases]
    report = run(DUE - timedelta(hours=23))
    assert report.sent == {K.DUE_24H: 4}
    assert sorted(m.to[0] for m in mail.outbox) == ["dpo@mutex.example", "legal@mutex.example"]
    french = next(m for m in mail.outbox if m.to == ["dpo@mutex.example"])
    assert french.subject == "2 rappels d'échéance, dont 0 en retard"
    assert french.extra_headers["X-Reminder-Count"] == "2"
    assert "== Échéance dans moins de 24 heures (2) ==" in french.body
    for ob in obligations:
        # The digest prints the same link as a single reminder, without resolving it per reminder.
        assert action_url(ob) in french.body
        assert f'<a href="{action_url(ob)}">' in french.alternatives[0][0]
    assert "dimanche 4 février 2024 à 18:00 (heure de Paris), 23 heures" in french.body
    assert "<script>alert(1)</script> & co" in french.body
    html = french.alternatives[0][0]
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert "délégué à la protection des données, Mutuelle Exemple" in french.body
    english = next(m for m in mail.outbox if m.to == ["legal@mutex.example"])
    assert english.subject == "2 deadline reminders, 0 overdue"
    assert "Sunday 4 February 2024 at 18:00 (Paris time), 23 hours" in english.body
    assert '<html lang="en">' in english.alternatives[0][0]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_digest_prints_the_words_of_a_single_reminder(language):
    """The digest's cached durations and dates are those `duration` and `paris_time` print."""
    now = paris(2024, 3, 30, 12, 0)
    printer = DigestPrinter(now)
    deltas = [
        timedelta(minutes=m) for m in (0, 1, 59, 60, 61, 119, 23 * 60 + 59, 24 * 60, 24 * 60 + 1, 3 * 24 * 60 + 61)
    ]
    deltas += [timedelta(seconds=-5), timedelta(seconds=59), timedelta(days=400, minutes=7)]
    with translation.override(language):
        for delta in deltas * 2:  # the second time from the cache
            assert printer.duration(delta, language) == duration(delta)
            instant = now + delta
            assert printer.due(instant, language) == paris_time(instant)


# --- an internal target is never announced as a legal deadline --------------------------------------

INTERNAL_NOTE_FR = "objectif interne de l'organisme, pas un délai légal"
INTERNAL_NOTE_EN = "the organisation's internal target, not a legal deadline"


def test_a_reminder_for_an_internal_target_says_it_is_not_a_legal_deadline(team, open_case, run):
    """regulations.md: "without undue delay" has no legal hour count; its internal target is labelled as
    internal policy wherever it is shown. The complaint (no legal deadline) runs on the organisation's
    24 h target: its reminder and its escalation must not read as a missed legal deadline."""
    case = open_case(aware_at=AWARE)
    complaint = case.obligations.get(rule_code="COMPLAINT_GENERAL")
    assert complaint.due_basis == "internal_target"
    ReminderPreference.objects.create(user=team["legal"], language="en")
    run(complaint.due_at - timedelta(hours=2))  # the complaint alone is due within 24 h (the CNIL's in 50 h)
    by_user = {m.to[0].split("@")[0]: m for m in mail.outbox}
    assert set(by_user) == {"dpo", "legal"}
    for user, note in (("dpo", INTERNAL_NOTE_FR), ("legal", INTERNAL_NOTE_EN)):
        message = by_user[user]
        assert note in message.body, message.body
        assert escape(note) in message.alternatives[0][0]
    mail.outbox.clear()
    run(complaint.due_at + timedelta(hours=1))  # overdue: the admin's escalation says it too
    admin = next(m for m in mail.outbox if m.to == ["admin@mutex.example"])
    assert INTERNAL_NOTE_FR in admin.body, admin.body


def test_a_digest_labels_the_internal_target_line_and_not_the_legal_one(team, open_case, run):
    case = open_case(aware_at=AWARE)
    complaint = case.obligations.get(rule_code="COMPLAINT_GENERAL")
    run(DUE - timedelta(hours=2))  # CNIL due within 4 h (legal), complaint long overdue (internal target)
    body = next(m for m in mail.outbox if m.to == ["dpo@mutex.example"]).body
    lines = body.splitlines()
    complaint_at = next(i for i, line in enumerate(lines) if "COMPLAINT_GENERAL" in line)
    cnil_at = next(i for i, line in enumerate(lines) if "GDPR_33_1" in line)
    assert INTERNAL_NOTE_FR in lines[complaint_at + 1], body
    assert INTERNAL_NOTE_FR not in lines[cnil_at + 1], body
    assert complaint.due_basis == "internal_target"


# --- a processor's notice to a controller outside the platform -------------------------------------


def test_a_notice_due_to_an_external_controller_is_reminded_with_the_controller_s_name(
    make_org, make_user, make_relationship, run
):
    """Most of a processor's controllers are not on the platform (a name, no organisation): their Art. 33(2)
    notices are reminded like any other, naming the controller, and never make the whole run fail."""
    processor = make_org(name="Tiers payant", code="tp", kind="processor")
    dpo = make_user(processor, Membership.Role.DPO, "tp-dpo")
    dpo.email = "dpo@tp.example"
    dpo.save()
    case = services.case_open(
        organization=processor,
        title="Fuite chez le sous-traitant",
        first_signal_at=AWARE - timedelta(hours=1),
        aware_at=AWARE,
        aware_justification="Logs reviewed.",
        acting_user=dpo,
    )
    external = make_relationship(processor, controller_name="Mutuelle Externe", notice_period_hours=48)
    services.controller_add(case, relationship=external, acting_user=dpo)
    notice = case.obligations.get(rule_code="GDPR_33_2")
    assert notice.controller_notice.controller is None  # off the platform
    assert notice.due_at == AWARE + timedelta(hours=48)

    report = run(notice.due_at - timedelta(hours=2))  # a single reminder e-mail (the complaint is overdue too:
    assert report.failed == 0  # a digest), then the notice alone
    body = next(m for m in mail.outbox if m.to == ["dpo@tp.example"]).body
    assert "Mutuelle Externe" in body
    mail.outbox.clear()
    for ob in case.obligations.filter(state=Obligation.State.PENDING).exclude(pk=notice.pk):
        services.obligation_mark_not_applicable(ob, reason="Out of this test's scope.", acting_user=dpo)
    report = run(notice.due_at + timedelta(hours=1))
    assert report.failed == 0
    assert [m.to for m in mail.outbox] == [["dpo@tp.example"]]
    assert "Mutuelle Externe" in mail.outbox[0].body
