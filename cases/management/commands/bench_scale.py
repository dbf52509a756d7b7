"""Benchmark the register at scale (10,000 cases, a million history rows) in a throwaway database.

`manage.py bench_scale --cases 10000 --history 1000000` creates a throwaway database next to
the project's own (a new PostgreSQL database `<name>_bench_scale` on the same server when
DATABASE_URL is PostgreSQL, else a temporary SQLite file), fills it in a first child process,
then measures each figure in fresh child processes (`--repeat` times, median printed). The
project's own database is only used to create and drop the throwaway one; each child gets the
throwaway database through DATABASE_URL and refuses to run on anything else.

The dataset: a few organisations and one case per organisation opened through the services (real
obligations, real history), then bulk-written cases, each with timeline events and about
`history / cases` history rows (the case and its events created, then edited in turn). Bulk rows
are chained with the project's own code (`cases.history.link_values`), so every chain is genuine
and `verify_history` passes on it.

Figures are one function each in FIGURES (name -> measure, format); `--figure NAME` picks some,
default all. Add a figure by adding a measuring function (self-contained: its imports inside it)
and a formatting function there.

`--baseline DIR` measures each figure with the code of another checkout too (e.g. `git archive
main | tar -x -C DIR`), interleaved run by run with the current code on the same database, so
a noisy machine weighs on both alike. The baseline runs the figure function's own source in
that checkout, so a figure compared this way only calls what both versions have.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction

CHILD_MARKER = "BENCH_SCALE_DB"
RESULT_PREFIX = "BENCH-RESULT "
BATCH = 5000
ORGANIZATIONS = 10
EVENTS_PER_CASE = 10


def figure_verify_history() -> dict:
    """`verify_history` over everything: rows per second and the process's peak memory."""
    from cases import history

    # A baseline checkout (--baseline) may predate the streaming pass: it then runs verify_all.
    verify = getattr(history, "iter_verify_all", history.verify_all)
    before = _peak_rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    rows = chains = broken = 0
    first_error = ""
    for result in verify():
        chains += 1
        rows += result.rows
        if not result.ok:
            broken += 1
            first_error = first_error or result.error
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "cpu_rows_per_s": rows / cpu if cpu else 0.0,
        "rows": rows,
        "chains": chains,
        "broken": broken,
        "first_error": first_error,
        "seconds": elapsed,
        "rows_per_s": rows / elapsed if elapsed else 0.0,
        "peak_mb": _peak_rss_mb(),
        "before_mb": before,
    }


def _format_verify_history(runs: list[dict]) -> str:
    last = runs[-1]
    rates = [r["rows_per_s"] for r in runs]
    peaks = [r["peak_mb"] for r in runs]
    cpu_rate = statistics.median(r.get("cpu_rows_per_s", 0) for r in runs)
    line = (
        f"verify_history: {last['rows']:,} rows in {last['chains']:,} chains; "
        f"median {statistics.median(rates):,.0f} rows/s ({statistics.median(r['seconds'] for r in runs):.1f} s), "
        f"runs {', '.join(f'{r:,.0f}' for r in rates)} rows/s; "
        f"per second of the verifier's own CPU time median {cpu_rate:,.0f} rows "
        "(what the wall-clock rate approaches on an idle machine, the database working on the other core); "
        f"peak memory median {statistics.median(peaks):.0f} MB ({last['before_mb']:.0f} MB before the pass)"
    )
    if any(r["broken"] for r in runs):
        line += f"; BROKEN chains: {last['broken']} (first: {last['first_error']})"
    return line


def _runs(runs: list[dict], key: str, digits: int) -> str:
    """Each run's figure, for the reader to judge the noise."""
    return ", ".join(f"{r[key]:.{digits}f}" for r in runs)


def figure_case_list() -> dict:
    """The case list's first page (its count and 25 rows), the default sort, then filtered on overdue CNIL deadlines."""
    import statistics

    from django.contrib.auth import get_user_model
    from django.core.paginator import Paginator
    from django.utils import timezone

    from cases.selectors import board

    user = get_user_model().objects.get(username="bench-dpo")
    timings = {}
    for name, filters in (("all", {}), ("overdue_cnil", {"overdue_authority": "cnil"})):
        best = []
        for _ in range(5):
            started = time.perf_counter()
            page = Paginator(board.case_list(user, now=timezone.now(), **filters), 25).get_page(1)
            rows = [(c.reference, c.next_due_at, c.overdue_count) for c in page]
            best.append((time.perf_counter() - started) * 1000)
        timings[name] = statistics.median(best)
        timings[name + "_count"] = page.paginator.count
        timings[name + "_rows"] = len(rows)
    return timings


def _format_case_list(runs: list[dict]) -> str:
    last = runs[-1]
    return (
        f"case list page 1: median {statistics.median(r['all'] for r in runs):.0f} ms "
        f"({last['all_count']:,} cases; runs {_runs(runs, 'all', 0)}); "
        f"overdue CNIL filter median {statistics.median(r['overdue_cnil'] for r in runs):.0f} ms "
        f"({last['overdue_cnil_count']:,} cases; runs {_runs(runs, 'overdue_cnil', 0)})"
    )


def figure_register_csv() -> dict:
    """The register.csv view for every case of the user's organisations: ms and the process's peak memory growth."""
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory
    from django.utils import translation

    from cases import register
    from cases.views import feeds

    user = get_user_model().objects.get(username="bench-dpo")
    translation.activate("fr")
    register.write_csv([], "fr")  # warm: modules and the catalogue loaded, as in a running server
    request = RequestFactory().get("/register.csv")
    request.user = user
    # The resident memory now (not the peak so far, which start-up may have set higher).
    before = int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize() / 2**20  # noqa: SIM115, PTH123
    started = time.perf_counter()
    response = feeds.register_csv(request)
    size = 0
    chunks = response.streaming_content if response.streaming else [response.content]
    for chunk in chunks:
        size += len(chunk)
    elapsed = (time.perf_counter() - started) * 1000
    return {
        "ms": elapsed,
        "bytes": size,
        "peak_growth_mb": max(0.0, _peak_rss_mb() - before),
        "peak_mb": _peak_rss_mb(),
    }


def _format_register_csv(runs: list[dict]) -> str:
    return (
        f"register.csv: {runs[-1]['bytes'] / 1e6:.1f} MB; median {statistics.median(r['ms'] for r in runs):.0f} ms "
        f"(runs {_runs(runs, 'ms', 0)}); peak memory growth median "
        f"{statistics.median(r['peak_growth_mb'] for r in runs):.0f} MB "
        f"(process peak {statistics.median(r['peak_mb'] for r in runs):.0f} MB)"
    )


def figure_calendar_feed() -> dict:
    """The first organisation's iCalendar feed: a full fetch, then a poll with the ETag it gave (304 if supported)."""
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory

    from cases.calendar_feed import feed_token_issue
    from cases.models import Organization
    from cases.views import feeds

    user = get_user_model().objects.get(username="bench-dpo")
    from django.utils import timezone

    from cases.calendar_feed import Feed

    organization = Organization.objects.get(code="bench0")
    token = feed_token_issue(user=user, organization=organization, language="fr")
    # Warm: modules and the catalogue loaded, as in a running server.
    Feed(organization=organization, obligations=[], lang="fr", now=timezone.now()).render()
    factory = RequestFactory()
    # The resident memory now (not the peak so far, which start-up may have set higher).
    before = int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize() / 2**20  # noqa: SIM115, PTH123
    started = time.perf_counter()
    response = feeds.calendar_feed(factory.get("/calendar/feed/"), token)
    full_ms = (time.perf_counter() - started) * 1000
    growth = max(0.0, _peak_rss_mb() - before)
    etag = response.get("ETag", "")
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    started = time.perf_counter()
    polled = feeds.calendar_feed(factory.get("/calendar/feed/", **headers), token)
    poll_ms = (time.perf_counter() - started) * 1000
    return {
        "ms": full_ms,
        "bytes": len(response.content),
        "events": response.content.count(b"BEGIN:VEVENT"),
        "peak_growth_mb": growth,
        "poll_ms": poll_ms,
        "poll_status": polled.status_code,
    }


def _format_calendar_feed(runs: list[dict]) -> str:
    last = runs[-1]
    return (
        f"calendar feed: {last['events']:,} events, {last['bytes'] / 1e6:.2f} MB; full fetch median "
        f"{statistics.median(r['ms'] for r in runs):.0f} ms (runs {_runs(runs, 'ms', 0)}), "
        f"peak memory growth {statistics.median(r['peak_growth_mb'] for r in runs):.0f} MB; poll with its ETag: "
        f"HTTP {last['poll_status']}, median {statistics.median(r['poll_ms'] for r in runs):.1f} ms "
        f"(runs {_runs(runs, 'poll_ms', 1)})"
    )


def figure_send_reminders() -> dict:
    """`send_reminders` when 10,000 pending obligations (or all there are) are due within 24 h or overdue.

    The benchmark DPO, a legal member and an admin of every organisation (granted through the services
    on the first run) have e-mail addresses; the messages go to Django's in-memory backend, which
    serialises each one as SMTP would. Each run starts with no reminder sent.
    """
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core import mail

    from cases import services
    from cases.models import BreachCase, Membership, Obligation, Organization
    from reminders.models import ReminderSent
    from reminders.services import send_due_reminders

    wanted = 10_000
    users = get_user_model().objects
    users.filter(username="bench-dpo").update(email="dpo@bench.example")
    for username, role in (("bench-legal", Membership.Role.LEGAL), ("bench-admin", Membership.Role.ADMIN)):
        if not users.filter(username=username).exists():
            person = users.create_user(username, email=f"{username}@bench.example", password=None)
            for organization in Organization.objects.filter(code__startswith="bench"):
                services.membership_grant(user=person, organization=organization, role=role, acting_user=None)
    ReminderSent.objects.all().delete()
    due = (
        Obligation.objects.filter(state=Obligation.State.PENDING, due_at__isnull=False)
        .exclude(case__status=BreachCase.Status.CLOSED)
        .order_by("due_at")
        .values_list("due_at", flat=True)
    )
    count = due.count()
    last_due = due[min(wanted, count) - 1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    before = int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize() / 2**20  # noqa: SIM115, PTH123
    started = time.perf_counter()
    report = send_due_reminders(now=last_due - timedelta(hours=24))
    elapsed = time.perf_counter() - started
    return {
        "seconds": elapsed,
        "obligations": report.obligations,
        "reminders": report.total_sent,
        "messages": len(mail.outbox),
        "failed": report.failed,
        "peak_growth_mb": max(0.0, _peak_rss_mb() - before),
    }


def _format_send_reminders(runs: list[dict]) -> str:
    last = runs[-1]
    return (
        f"send_reminders: {last['obligations']:,} obligations due within 24 h or overdue, "
        f"{last['reminders']:,} reminders in {last['messages']:,} e-mails; median "
        f"{statistics.median(r['seconds'] for r in runs):.2f} s (runs {_runs(runs, 'seconds', 2)}); "
        f"peak memory growth median {statistics.median(r['peak_growth_mb'] for r in runs):.0f} MB"
        + (f"; FAILED deliveries: {last['failed']}" if last["failed"] else "")
    )


def figure_pages() -> dict:
    """Every page a user opens, through the whole stack (django.test.Client, middleware, templates): the median
    server ms of 5 GETs after a warm-up, with the status and the queries of the warm-up, per page.

    As the benchmark DPO (a verified second factor, as tests/conftest.py logs in) and, for the pages only
    administrators see, an administrator of the first organisation (granted through the services on the
    first run, as figure_send_reminders does). Case pages for a bulk-written case and for the case with the
    longest history chain: the case page and each of its tabs (History first and last page, Dossier) and
    forms; the REST API with a read-only personal token (deleted afterwards).
    """
    import statistics
    from datetime import UTC, datetime, timedelta

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_static.models import StaticDevice

    from api.models import ApiToken, digest, new_secret
    from cases import services
    from cases.history import HistoryChainHead
    from cases.models import BreachCase, Membership, Obligation, Organization, Submission

    settings.DEBUG = False  # as served: no query log kept, no debug page
    users = get_user_model().objects
    dpo = users.get(username="bench-dpo")
    first_org = Organization.objects.get(code="bench0")
    admin = users.filter(username="bench-admin").first()
    if admin is None:
        admin = users.create_user("bench-admin", email="bench-admin@bench.example", password=None)
    if not Membership.objects.filter(user=admin, organization=first_org, role=Membership.Role.ADMIN).exists():
        services.membership_grant(user=admin, organization=first_org, role=Membership.Role.ADMIN, acting_user=None)

    def logged_in(user) -> Client:
        client = Client()
        device, _ = StaticDevice.objects.get_or_create(user=user, name="bench device", defaults={"confirmed": True})
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    as_dpo, as_admin = logged_in(dpo), logged_in(admin)
    secret = new_secret()
    token = ApiToken.objects.create(
        user=dpo,
        name="bench pages",
        prefix=secret[: ApiToken._meta.get_field("prefix").max_length],
        token_hash=digest(secret),
        read_only=True,
        expires_at=datetime.now(UTC) + timedelta(days=1),
    )
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    bulk = BreachCase.objects.filter(reference__startswith="BENCH-").order_by("reference")
    bulk_case = bulk[bulk.count() // 2] if bulk.exists() else BreachCase.objects.order_by("pk").first()
    longest = HistoryChainHead.objects.filter(chain_key__startswith="case:").order_by("-length", "chain_key").first()
    big_case = BreachCase.objects.get(pk=int(longest.chain_key.split(":", 1)[1]))

    pages: list[tuple[str, Client, str]] = [
        ("dashboard", as_dpo, "/"),
        ("dashboard overdue", as_dpo, "/?status=overdue"),
        ("dashboard page 2", as_dpo, "/?page=2"),
        ("case list", as_dpo, "/cases/"),
        ("case list last page", as_dpo, "/cases/?page=last"),
        ("case list by reference", as_dpo, "/cases/?sort=reference"),
        ("case list open", as_dpo, "/cases/?status=open"),
        ("case list overdue CNIL", as_dpo, "/cases/?overdue_authority=cnil"),
        ("case list one org", as_dpo, "/cases/?organization=bench1"),
        ("search", as_dpo, "/cases/?q=portail"),
        ("search no match", as_dpo, "/cases/?q=zzzqqq"),
        ("open a case", as_dpo, "/cases/new/"),
        ("calendar", as_dpo, "/calendar/"),
        ("reminder preferences", as_dpo, "/reminders/preferences/"),
        ("controllers", as_dpo, "/relationships/controllers/"),
        ("processors", as_dpo, "/relationships/processors/"),
        ("inbox", as_dpo, "/inbox/"),
        ("API tokens", as_dpo, "/api/tokens/"),
        ("API docs", as_dpo, "/api/docs/"),
        ("admin: security log", as_admin, "/accounts/security-log/"),
        ("admin: webhooks", as_admin, "/webhooks/"),
        ("admin: deliveries", as_admin, "/webhooks/deliveries/"),
        ("admin: import", as_admin, "/relationships/import/"),
        ("API cases", api, "/api/v1/cases/"),
        ("API deadlines", api, "/api/v1/deadlines/"),
        ("API register", api, "/api/v1/register/"),
    ]
    for tag, case in (("bulk", bulk_case), ("longest", big_case)):
        base = f"/cases/{case.reference}/"
        length = HistoryChainHead.objects.get(chain_key=f"case:{case.pk}").length
        pending = case.obligations.filter(state=Obligation.State.PENDING).order_by("pk").first()
        pages += [
            (f"{tag} case", as_dpo, base),
            (f"{tag} history p1", as_dpo, base + "history/"),
            (f"{tag} history last", as_dpo, base + f"history/?page={max(1, -(-length // 50))}"),
            (f"{tag} dossier tab", as_dpo, base + "dossier/"),
            (f"{tag} edit", as_dpo, base + "edit/"),
            (f"{tag} decide authority", as_dpo, base + "decisions/authority/"),
            (f"{tag} decide persons", as_dpo, base + "decisions/persons/"),
            (f"{tag} record filing", as_dpo, base + "filings/new/"),
            (f"{tag} add event", as_dpo, base + "events/new/"),
            (f"{tag} add evidence", as_dpo, base + "evidence/new/"),
            (f"{tag} communication", as_dpo, base + "communications/new/"),
            (f"{tag} add controller", as_dpo, base + "controllers/new/"),
            (f"{tag} inform controllers", as_dpo, base + "controllers/inform/"),
            (f"{tag} contain", as_dpo, base + "contain/"),
            (f"{tag} close", as_dpo, base + "close/"),
        ]
        if pending is not None:
            pages += [
                (f"{tag} complete obligation", as_dpo, base + f"obligations/{pending.pk}/complete/"),
                (f"{tag} not applicable", as_dpo, base + f"obligations/{pending.pk}/not-applicable/"),
            ]
        submission = Submission.objects.filter(case=case).order_by("pk").first()
        if submission is not None:
            pages.append((f"{tag} submission", as_dpo, base + f"submissions/{submission.pk}/"))
        if case.organization.is_dora_entity:
            pages.append((f"{tag} DORA facts", as_dpo, base + "dora/"))
        api_base = f"/api/v1/cases/{case.reference}/"
        pages += [
            (f"{tag} API case", api, api_base),
            (f"{tag} API obligations", api, api_base + "obligations/"),
            (f"{tag} API timeline", api, api_base + "timeline/"),
            (f"{tag} API filings", api, api_base + "filings/"),
            (f"{tag} API submissions", api, api_base + "submissions/"),
            (f"{tag} API evidence", api, api_base + "evidence/"),
            (f"{tag} API controller notices", api, api_base + "controller-notices/"),
        ]

    results = {}
    try:
        for label, client, path in pages:
            with CaptureQueriesContext(connection) as queries:  # the warm-up, counted
                response = client.get(path)
                if getattr(response, "streaming", False):
                    b"".join(response.streaming_content)
            count = len(queries.captured_queries)  # now: the next request empties the connection's log
            timings, cpu = [], []
            for _ in range(5):
                started, cpu_started = time.perf_counter(), time.process_time()
                response = client.get(path)
                if getattr(response, "streaming", False):
                    b"".join(response.streaming_content)
                timings.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - cpu_started) * 1000)
            results[label] = {
                "ms": statistics.median(timings),
                "cpu_ms": statistics.median(cpu),
                "status": response.status_code,
                "queries": count,
            }
    finally:
        ApiToken.objects.filter(pk=token.pk).delete()
    return {
        "pages": results,
        "bulk": bulk_case.reference,
        "longest": big_case.reference,
        "longest_rows": longest.length,
        "cases": BreachCase.objects.count(),
    }


def _format_pages(runs: list[dict]) -> str:
    last = runs[-1]
    lines = [
        f"pages ({last['cases']:,} cases; bulk case {last['bulk']}, longest history {last['longest']} "
        f"with {last['longest_rows']:,} rows): median server ms of each run's median of 5 GETs, "
        "the Python process's own CPU ms (less sensitive to a loaded machine), [status, queries], runs; "
        ">= 150 ms flagged"
    ]
    slow = 0
    for label, page in last["pages"].items():
        each = [r["pages"][label]["ms"] for r in runs if label in r["pages"]]
        ms = statistics.median(each)
        flag = "  <-- SLOW" if ms >= 150 else ""
        slow += ms >= 150
        cpu = statistics.median(r["pages"][label].get("cpu_ms", 0) for r in runs if label in r["pages"])
        lines.append(
            f"  {label:32} {ms:7.1f} ms  cpu {cpu:6.1f}  [{page['status']}, {page['queries']:3d} q]  "
            f"({', '.join(f'{m:.0f}' for m in each)}){flag}"
        )
    lines.append(f"  {slow} page(s) at or over 150 ms")
    return "\n".join(lines)


# name -> (measure in a fresh process, format the runs' results)
FIGURES: dict[str, tuple[Callable[[], dict], Callable[[list[dict]], str]]] = {
    "verify_history": (figure_verify_history, _format_verify_history),
    "case_list": (figure_case_list, _format_case_list),
    "register_csv": (figure_register_csv, _format_register_csv),
    "calendar_feed": (figure_calendar_feed, _format_calendar_feed),
    "send_reminders": (figure_send_reminders, _format_send_reminders),
    "pages": (figure_pages, _format_pages),
}


class Command(BaseCommand):
    help = "Build 10,000 cases and a million history rows in a throwaway database and print each figure (median)."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=10_000, help="cases in the dataset")
        parser.add_argument("--history", type=int, default=1_000_000, help="history rows in the dataset (about)")
        parser.add_argument(
            "--figure", action="append", choices=sorted(FIGURES), help="figure to measure (repeatable; default all)"
        )
        parser.add_argument("--repeat", type=int, default=3, help="runs of each figure (the median is printed)")
        parser.add_argument(
            "--keep", action="store_true", help="keep the throwaway database and print its URL (reuse with --reuse)"
        )
        parser.add_argument("--reuse", metavar="URL", help="measure on a database kept by an earlier --keep run")
        parser.add_argument("--baseline", metavar="DIR", help="also measure with the code of this checkout (before)")
        parser.add_argument("--phase", choices=["populate", "measure"], help=_hidden())
        parser.add_argument("--measure", help=_hidden())

    def handle(self, *args, **options):
        if options["phase"]:
            self._child(options)
            return
        figures = options["figure"] or sorted(FIGURES)
        if options["reuse"]:
            url, cleanup = options["reuse"], None
        else:
            url, cleanup = _throwaway_database()
        env = {**os.environ, "DATABASE_URL": url, CHILD_MARKER: _name_of(url)}
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "bench_scale"]
        try:
            if not options["reuse"]:
                self._run(manage + [f"--cases={options['cases']}", f"--history={options['history']}"], "populate", env)
            for name in figures:
                runs, baseline_runs = [], []
                for _ in range(options["repeat"]):
                    if options["baseline"]:
                        baseline_runs.append(_measure_in(Path(options["baseline"]), name, env))
                    output = self._run(manage + [f"--measure={name}"], "measure", env, echo=False)
                    runs.append(json.loads(output.split(RESULT_PREFIX, 1)[1]))
                if baseline_runs:
                    self.stdout.write(f"before ({options['baseline']}): {FIGURES[name][1](baseline_runs)}")
                    self.stdout.write(f"after (this checkout): {FIGURES[name][1](runs)}")
                else:
                    self.stdout.write(FIGURES[name][1](runs))
        finally:
            if options["keep"] or options["reuse"]:
                self.stdout.write(f"database kept: {url}")
            elif cleanup:
                cleanup()

    def _run(self, command: list[str], phase: str, env: dict, *, echo: bool = True) -> str:
        result = subprocess.run(  # noqa: S603 - our own manage.py with our own arguments
            [*command, f"--phase={phase}"], env=env, capture_output=True, text=True, check=False
        )
        if result.returncode:
            raise CommandError(f"{phase} phase failed:\n{result.stderr}")
        if echo:
            self.stdout.write(result.stdout.rstrip())
        return result.stdout

    def _child(self, options) -> None:
        expected = os.environ.get(CHILD_MARKER, "")
        if not expected or str(connection.settings_dict["NAME"]) != expected:
            raise CommandError("The benchmark phases only run on their throwaway database (use bench_scale).")
        if options["phase"] == "populate":
            started = time.perf_counter()
            call_command("migrate", verbosity=0, interactive=False)
            cases, rows = populate(cases=options["cases"], history=options["history"])
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM ANALYZE")
            self.stdout.write(
                f"populated: {cases:,} cases, {rows:,} history rows in {time.perf_counter() - started:.0f} s "
                f"({connection.vendor} throwaway database)"
            )
            return
        measure, _ = FIGURES[options["measure"]]
        self.stdout.write(RESULT_PREFIX + json.dumps(measure()))


def _measure_in(checkout: Path, name: str, env: dict) -> dict:
    """Run figure `name`'s own source with the code of another checkout, on the same database."""
    measure, _ = FIGURES[name]
    script = "\n".join(
        [
            "import json, resource, sys, time",
            "import django",
            "django.setup()",
            inspect.getsource(_peak_rss_mb),
            inspect.getsource(measure),
            f"print({RESULT_PREFIX!r} + json.dumps({measure.__name__}()))",
        ]
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter running our own figure's source
        [sys.executable, "-c", script],
        cwd=checkout,
        env={**env, "DJANGO_SETTINGS_MODULE": "compliance.settings", "PYTHONPATH": str(checkout)},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise CommandError(f"baseline measure of {name} failed:\n{result.stderr}")
    return json.loads(result.stdout.split(RESULT_PREFIX, 1)[1])


def _hidden() -> str:
    from argparse import SUPPRESS

    return SUPPRESS


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / (1024 * 1024)


def _name_of(url: str) -> str:
    return str(dj_database_url.parse(url)["NAME"])


def _throwaway_database() -> tuple[str, Callable[[], None]]:
    """(URL, cleanup) of a new empty database: PostgreSQL beside the project's, else a temporary SQLite file."""
    if connection.vendor == "postgresql":
        params = connection.settings_dict
        name = f"{params['NAME']}_bench_scale"
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cursor.execute(f'CREATE DATABASE "{name}"')
        user = params.get("USER") or ""
        password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
        host = f"{params.get('HOST') or '127.0.0.1'}:{params.get('PORT') or 5432}"
        url = f"postgres://{user}{password}@{host}/{name}"

        def drop() -> None:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')

        return url, drop
    workdir = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    return f"sqlite:///{workdir / 'bench.sqlite3'}", lambda: shutil.rmtree(workdir, ignore_errors=True)


def populate(*, cases: int, history: int) -> tuple[int, int]:
    """`cases` cases (ORGANIZATIONS through the services, the rest bulk-written) and about `history` rows."""
    from django.contrib.auth import get_user_model

    from cases import services
    from cases.history import HistoryChainHead, chain_head
    from cases.models import BreachCase, Obligation, Organization, TimelineEvent

    user = get_user_model().objects.create_user("bench-dpo", password=None)
    start = datetime(2024, 2, 1, 8, 0, tzinfo=UTC)
    templates = []
    for n in range(ORGANIZATIONS):
        with transaction.atomic():
            org = Organization(name=f"Mutuelle {n}", code=f"bench{n}", siren=f"{123456000 + n}", dpo_name="DPO")
            org.save()
        services.membership_grant(user=user, organization=org, role="dpo", acting_user=None)
        templates.append(
            services.case_open(
                organization=org,
                title=f"Intrusion sur le portail {n}",
                first_signal_at=start,
                aware_at=start + timedelta(hours=2),
                aware_justification="Journaux du serveur consultés.",
                acting_user=user,
                data_categories=["identity", "nir"],
                severity_ei=Decimal("1"),
                description="Accès non autorisé au portail des adhérents.",
            )
        )
    template_obligations = [
        [o for o in t.obligations.order_by("pk") if o.controller_notice_id is None] for t in templates
    ]
    ob_fields = [f for f in Obligation._meta.concrete_fields if f.attname not in {"id", "case_id"}]
    now = datetime.now(UTC)
    per_case = max(2 + EVENTS_PER_CASE, history // max(cases, 1))
    bulk = max(0, cases - ORGANIZATIONS)
    skip = {"id", "reference", "title", "created_at", "next_due_at"}
    fields = [f for f in BreachCase._meta.concrete_fields if f.attname not in skip]
    written = 0
    writers = _Writers()
    heads = []
    for first in range(0, bulk, 1000):
        # Synthetic records with their history written below: a plain QuerySet, as the audited manager refuses.
        batch = models.QuerySet(BreachCase).bulk_create(
            [
                BreachCase(
                    **{f.attname: getattr(templates[i % ORGANIZATIONS], f.attname) for f in fields},
                    reference=f"BENCH-{i:06d}",
                    title=f"Violation synthétique n° {i}",
                    created_at=start + timedelta(minutes=i),
                )
                for i in range(first, min(first + 1000, bulk))
            ]
        )
        events = models.QuerySet(TimelineEvent).bulk_create(
            [
                TimelineEvent(
                    case=case,
                    occurred_at=start + timedelta(minutes=10 * e),
                    kind="investigation",
                    title=f"Étape d'investigation n° {e}",
                    description=f"Analyse des journaux du serveur {e} : connexions suspectes relevées.",
                    created_by=user,
                    created_at=start + timedelta(hours=1, minutes=e),
                )
                for case in batch
                for e in range(EVENTS_PER_CASE)
            ],
            batch_size=BATCH,
        )
        obligations = models.QuerySet(Obligation).bulk_create(
            [
                _copy_obligation(o, ob_fields, case, now, first + i)
                for i, case in enumerate(batch)
                for o in template_obligations[(first + i) % ORGANIZATIONS]
            ],
            batch_size=BATCH,
        )
        by_case: dict[int, list] = {}
        for ob in obligations:
            by_case.setdefault(ob.case_id, []).append(ob)
        # The list fields the services keep (`BreachCase.store_list_fields`), as the migration backfills them.
        earliest = (
            models.QuerySet(Obligation)
            .filter(case_id=models.OuterRef("pk"), state="pending")
            .order_by()
            .values("case_id")
            .annotate(at=models.Min("due_at"))
            .values("at")
        )
        models.QuerySet(BreachCase).filter(pk__in=[c.pk for c in batch]).update(next_due_at=models.Subquery(earliest))
        for i, case in enumerate(batch):
            case_events = events[i * EVENTS_PER_CASE : (i + 1) * EVENTS_PER_CASE]
            length, head = 0, None
            rows = _case_history(case, case_events, by_case.get(case.pk, []), user.pk, per_case, start)
            for model, values in rows:
                length += 1
                head = writers.add(model, values, key=case.history_chain_key(), seq=length, prev=head)
            heads.append(HistoryChainHead(chain_key=case.history_chain_key(), length=length, head_hash=head))
            written += length
        HistoryChainHead.objects.bulk_create(heads)
        heads = []
    writers.flush()
    real = sum(chain_head(t.history_chain_key())[0] for t in templates)
    return BreachCase.objects.count(), written + real


def _copy_obligation(template, fields, case, now: datetime, spread: int):
    """The template's obligation for `case`; a dated one due within 60 days either side of now (some overdue)."""
    from cases.models import Obligation

    values = {f.attname: getattr(template, f.attname) for f in fields}
    if values["due_at"] is not None:
        values["due_at"] = now + timedelta(minutes=spread * 2_654_435_761 % 172_800 - 86_400)
    return Obligation(**values, case=case)


def _case_history(case, events, obligations, user_id: int, rows: int, start: datetime) -> Iterator[tuple[type, dict]]:
    """The column values of a case's history rows, in chain order: created, obligations, events added, then edits."""
    from cases.models import BreachCase, Obligation, TimelineEvent

    case_history, event_history = BreachCase.history.model, TimelineEvent.history.model
    obligation_history = Obligation.history.model
    clock = start
    texts = ("description", "likely_consequences", "measures_immediate", "measures_medium")

    def row(model, obj, kind: str, reason: str) -> tuple[type, dict]:
        nonlocal clock
        clock += timedelta(seconds=7)
        values = {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}
        values.update(history_date=clock, history_type=kind, history_user_id=user_id, history_change_reason=reason)
        return model, values

    yield row(case_history, case, "+", "Dossier ouvert.")
    for obligation in obligations:
        yield row(obligation_history, obligation, "+", f"Généré par la règle {obligation.rule_code}.")
    for event in events:
        yield row(event_history, event, "+", "Événement ajouté.")
    for i in range(rows - 1 - len(events)):
        if i % 3 == 2:
            event = events[i % len(events)]
            event.description = f"Analyse complétée (révision {i}) : serveur {i % 17}."
            yield row(event_history, event, "~", "Précision apportée.")
        else:
            setattr(case, texts[i % len(texts)], f"Révision {i} du texte : mesures renforcées, coût estimé {i} €.")
            yield row(case_history, case, "~", f"Mise à jour n° {i}.")


class _Writers:
    """Buffers history rows per table, chained on the way in, and writes them in bulk (COPY on PostgreSQL)."""

    def __init__(self) -> None:
        self.pending: dict[type, list[tuple]] = {}
        self.connection = connections[DEFAULT_DB_ALIAS]  # not the proxy: it costs a lookup per use
        self.adapters: dict[type, list] = {}

    def _adapters(self, model) -> list:
        """Per column, how a Python value is sent: COPY takes plain values (JSON wrapped); SQLite the prepared ones."""
        adapters = self.adapters.get(model)
        if adapters is None:
            from psycopg.types.json import Jsonb

            pg = self.connection.vendor == "postgresql"
            adapters = self.adapters[model] = [
                (lambda v: None if v is None else Jsonb(v))
                if pg and isinstance(f, models.JSONField)
                else None
                if pg
                else (lambda v, f=f: f.get_db_prep_save(v, self.connection))
                for f in _insert_fields(model)
            ]
        return adapters

    def add(self, model, values: dict, *, key: str, seq: int, prev: str | None) -> str:
        from cases.history import GENESIS, link_values

        chained = link_values(model, values, key=key, seq=seq, prev=prev or GENESIS)
        rows = self.pending.setdefault(model, [])
        rows.append(
            tuple(
                values[f.attname] if adapt is None else adapt(values[f.attname])
                for f, adapt in zip(_insert_fields(model), self._adapters(model), strict=True)
            )
        )
        if len(rows) >= BATCH:
            self._write(model, rows)
            rows.clear()
        return chained

    def flush(self) -> None:
        for model, rows in self.pending.items():
            if rows:
                self._write(model, rows)
        self.pending = {}

    def _write(self, model, rows: list[tuple]) -> None:
        connection = self.connection
        table = connection.ops.quote_name(model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in _insert_fields(model))
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                return
            marks = ", ".join(["%s"] * len(rows[0]))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)  # noqa: S608 - names


@functools.cache
def _insert_fields(model) -> tuple:
    return tuple(f for f in model._meta.concrete_fields if not f.primary_key)
