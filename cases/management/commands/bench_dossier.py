"""Benchmark the dossier on a synthetic case in a throwaway SQLite database.

`manage.py bench_dossier --history 20000 --events 500 --evidence 200` creates a temporary
database file, migrates it and fills one case (in a first child process), then builds the
case's dossier in a second, fresh child process and prints the build time, pages, bytes and
that process's peak memory. With `--through-worker` (and CELERY_BROKER_URL set), the second
child asks for the dossier export as the page does and a Celery worker started for the run
builds it: it prints the time from the request to the PDF stored, for a first export (the
worker's first, fonts included), one in the other language, and a request served from the cache.
The project's own database is never opened: each child gets the temporary file through
DATABASE_URL, and the populate phase refuses to run on anything else.

Comparing: `--baseline DIR` (a checkout of an older commit, e.g. `git archive ... | tar -x -C DIR`
with a .venv next to it or not) builds the same populated case with DIR's code too, `--repeat N`
times each, alternating, and prints the medians side by side. `--db FILE` keeps the populated
database in FILE and reuses it on the next run (populating a million rows takes a while).

Synthetic history rows are bulk-inserted with their hash-chain fields computed exactly as
`cases.history` does (`row_hash`), so the dossier's chain verification passes on them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from statistics import median

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction

CHILD_MARKER = "BENCH_DOSSIER_DB"
BATCH = 2000


class Command(BaseCommand):
    help = "Build the dossier of a synthetic large case in a throwaway database and print time, pages, size, memory."

    def add_arguments(self, parser):
        parser.add_argument("--history", type=int, default=20_000, help="history rows in the case's chain")
        parser.add_argument("--events", type=int, default=500, help="timeline events")
        parser.add_argument("--evidence", type=int, default=200, help="evidence items")
        parser.add_argument("--lang", choices=["fr", "en"], default="fr")
        parser.add_argument("--output", help="also write the PDF to this file")
        parser.add_argument(
            "--through-worker", action="store_true", help="build through a Celery worker (needs CELERY_BROKER_URL)"
        )
        parser.add_argument("--baseline", help="also build with the checkout in this directory, alternating")
        parser.add_argument("--repeat", type=int, default=1, help="builds (child processes) per checkout")
        parser.add_argument("--db", help="keep the populated database in this file, and reuse it if it exists")
        parser.add_argument("--phase", choices=["populate", "build"], help=_hidden())

    def handle(self, *args, **options):
        if options["phase"]:
            self._child(options)
            return
        if options["through_worker"] and not settings.CELERY_BROKER_URL:
            raise CommandError(
                "--through-worker needs a broker: set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0)."
            )
        workdir = Path(tempfile.mkdtemp(prefix="bench-dossier-"))
        db_path = Path(options["db"]).resolve() if options["db"] else workdir / "bench.sqlite3"
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}", CHILD_MARKER: str(db_path)}
        # A queue and a storage of the run's own: nothing else's worker takes its messages.
        env.update(CELERY_QUEUE=f"bench-{os.getpid()}-{int(time.time())}", EVIDENCE_ROOT=str(workdir / "files"))
        common = [
            f"--history={options['history']}",
            f"--events={options['events']}",
            f"--evidence={options['evidence']}",
            f"--lang={options['lang']}",
        ]
        if options["output"]:
            common.append(f"--output={Path(options['output']).resolve()}")
        if options["through_worker"]:
            common.append("--through-worker")
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "bench_dossier", *common]
        checkouts = [("after", manage)]
        if options["baseline"]:
            base = Path(options["baseline"]).resolve()
            python = base / ".venv" / "bin" / "python"
            before = [str(python if python.exists() else sys.executable), str(base / "manage.py"), "bench_dossier"]
            checkouts.insert(0, ("before", [*before, *common]))
        try:
            if options["db"] and db_path.exists():
                self.stdout.write(f"reusing the populated database {db_path}")
            else:
                self.stdout.write(self._run([*manage, "--phase=populate"], env, "populate")[0])
            figures: dict[str, list[tuple[float, float, float, float | None]]] = {name: [] for name, _ in checkouts}
            for _ in range(max(1, options["repeat"])):
                for name, command in checkouts:
                    out, cpu = self._run([*command, "--phase=build"], env, "build")
                    self.stdout.write(f"{name}: {out} [child CPU {cpu:.2f} s]" if len(checkouts) > 1 else out)
                    wall = re.search(r"build: ([\d.]+) s", out)
                    peak = re.search(r"peak memory (\d+) MB", out)
                    chain = re.search(r"chain alone: ([\d.]+) s", out)  # absent from older checkouts
                    if wall and peak:
                        figures[name].append(
                            (float(wall.group(1)), float(peak.group(1)), cpu, float(chain.group(1)) if chain else None)
                        )
            if len(checkouts) > 1 or options["repeat"] > 1:
                for name, runs in figures.items():
                    if runs:
                        chains = [r[3] for r in runs if r[3] is not None]
                        self.stdout.write(
                            f"median {name} ({len(runs)} runs): build {median(r[0] for r in runs):.2f} s, peak "
                            f"memory {median(r[1] for r in runs):.0f} MB, child CPU {median(r[2] for r in runs):.2f} s"
                            + (f", chain alone {median(chains):.2f} s" if chains else "")
                        )
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _run(self, command: list[str], env: dict, phase: str) -> tuple[str, float]:
        """A child's output, and the CPU time it used (user + system). It runs in its checkout's directory:
        Django puts the working directory first on the path, so the baseline would import our code."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = subprocess.run(  # noqa: S603 - our own manage.py (or the baseline's) with our own arguments
            command, env=env, capture_output=True, text=True, check=False, cwd=Path(command[1]).parent
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if result.returncode:
            raise CommandError(f"{phase} phase failed:\n{result.stderr}")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return result.stdout.rstrip(), cpu

    def _child(self, options) -> None:
        expected = os.environ.get(CHILD_MARKER, "")
        if not expected or connection.vendor != "sqlite" or str(connection.settings_dict["NAME"]) != expected:
            raise CommandError("The benchmark phases only run on their throwaway database (use bench_dossier).")
        if options["phase"] == "populate":
            started = time.perf_counter()
            call_command("migrate", verbosity=0, interactive=False)
            rows = populate(history=options["history"], events=options["events"], evidence=options["evidence"])
            self.stdout.write(
                f"populated: {rows} history rows, {options['events']} events, {options['evidence']} evidence "
                f"in {time.perf_counter() - started:.1f} s (throwaway SQLite database)"
            )
            return
        if options["through_worker"]:
            self._through_worker()
        else:
            self._build(options)

    def _through_worker(self) -> None:
        from cases import services
        from cases.models import BreachCase, DossierExport, JobState

        case = BreachCase.objects.get()
        log = Path(os.environ[CHILD_MARKER]).with_name("worker.log")
        with log.open("wb") as out:
            worker = subprocess.Popen(  # noqa: S603 - our own celery application
                [str(Path(sys.executable).with_name("celery")), "-A", "compliance", "worker", "--pool=prefork",
                 "--concurrency=1", "--without-gossip", "--without-mingle", "--loglevel=INFO"],
                env=os.environ, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        try:
            while b"ready." not in log.read_bytes():
                if worker.poll() is not None:
                    raise CommandError(f"the worker stopped:\n{log.read_text()[-3000:]}")
                time.sleep(0.1)

            def export(lang: str) -> tuple[float, DossierExport]:
                started = time.perf_counter()
                with transaction.atomic():  # the message goes to the broker when this commits
                    asked = services.dossier_export_request(case, lang=lang, acting_user=case.created_by)
                while (done := DossierExport.objects.get(pk=asked.pk)).state in {JobState.QUEUED, JobState.RUNNING}:
                    time.sleep(0.05)
                if done.state != JobState.DONE:
                    raise CommandError(f"the export failed: {done.error}")
                return time.perf_counter() - started, done

            first, built = export("fr")
            other, _ = export("en")
            cached, again = export("fr")
            self.stdout.write(
                f"through the worker: {first:.2f} s from the request to the PDF stored (the worker's first, fonts "
                f"included), {other:.2f} s for the other language, {cached:.3f} s for the same data again "
                f"(cache: {'hit' if again.pk == built.pk else 'miss'}); {built.pages} pages, {built.size:,} bytes"
            )
        finally:
            worker.terminate()
            worker.wait(timeout=30)

    def _build(self, options) -> None:
        from cases.bundle import case_bundle
        from cases.dossier.builder import render_dossier
        from cases.models import BreachCase

        case = BreachCase.objects.get()
        before = _peak_rss_mb()
        timings = []
        # The first build in a process also parses the fonts; a server pays that once.
        for _ in range(2):
            result = None  # the first build's PDF released: the peak is one build's, not one build's plus a PDF
            started = time.perf_counter()
            result = render_dossier(
                case,
                lang=options["lang"],
                generated_at=datetime(2026, 1, 1, tzinfo=UTC),
                generated_by="bench",
                sign=False,
            )
            timings.append(time.perf_counter() - started)
        if options["output"]:
            Path(options["output"]).write_bytes(result.pdf)
        self.stdout.write(
            f"build: {timings[1]:.2f} s (first build in the process, fonts included: {timings[0]:.2f} s), "
            f"{result.pages} pages, {len(result.pdf):,} bytes, peak memory {_peak_rss_mb():.0f} MB "
            f"(process peak RSS; {before:.0f} MB before the builds)"
        )
        # What any dossier of this case costs before a line is worded or drawn: the chain read, every row
        # verified (canonical JSON, SHA-256, keyed seal) and written to the outsider's bundle.
        result = None
        started = time.perf_counter()
        case_bundle(case, generated_at=datetime(2026, 1, 1, tzinfo=UTC))
        self.stdout.write(f"chain alone: {time.perf_counter() - started:.2f} s (read, verified and bundled, no page)")


def _hidden() -> str:
    from argparse import SUPPRESS

    return SUPPRESS


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / (1024 * 1024)


def populate(*, history: int, events: int, evidence: int) -> int:
    """One case with `events` events, `evidence` items and a history chain of about `history` rows."""
    from django.contrib.auth import get_user_model

    from cases import services
    from cases.history import HistoryChainHead, chain_head, row_hash, row_mac
    from cases.models import BreachCase, Evidence, Organization, TimelineEvent

    user = get_user_model().objects.create_user("bench-dpo", password=None)
    with transaction.atomic():
        org = Organization(name="Mutuelle Bench", code="bench", siren="123456789", dpo_name="DPO Bench")
        org.save()
    services.membership_grant(user=user, organization=org, role="dpo", acting_user=None)
    start = datetime(2024, 2, 1, 8, 0, tzinfo=UTC)
    case = services.case_open(
        organization=org,
        title="Synthetic large case",
        first_signal_at=start,
        aware_at=start + timedelta(hours=2),
        aware_justification="Synthetic benchmark case.",
        acting_user=user,
        data_categories=["identity", "nir"],
        severity_ei=Decimal("1"),
        description="Synthetic case for the dossier benchmark.",
    )
    key = case.history_chain_key()
    length, prev = chain_head(key)
    clock = start + timedelta(days=1)

    def stamp(model, obj, **extra):
        nonlocal length, prev, clock
        clock += timedelta(seconds=7)
        tracked = {f.attname for f in model._meta.concrete_fields}
        values = {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields if f.attname in tracked}
        row = model(
            **values,
            history_date=clock,
            history_type=extra.pop("history_type", "~"),
            history_user_id=user.pk,
            history_change_reason=extra.pop("reason", ""),
        )
        length += 1
        row.chain_key, row.chain_seq, row.chain_prev = key, length, prev
        row.chain_hash = prev = row_hash(prev, row)
        row.chain_mac = row_mac(prev)
        return row

    # Synthetic rows with their history written below: a plain QuerySet, as the audited manager refuses.
    event_objs = models.QuerySet(TimelineEvent).bulk_create(
        [
            TimelineEvent(
                case=case,
                occurred_at=start + timedelta(minutes=10 * i),
                kind="investigation",
                title=f"Étape d'investigation n° {i}",
                description=f"Analyse des journaux du serveur {i % 17} : connexions suspectes relevées.",
                created_by=user,
            )
            for i in range(events)
        ],
        batch_size=BATCH,
    )
    evidence_objs = models.QuerySet(Evidence).bulk_create(
        [
            Evidence(
                case=case,
                file=f"evidence/2024/02/bench-{i}.pdf",
                original_name=f"preuve-{i}.pdf",
                description=f"Capture des journaux n° {i}",
                sha256=hashlib.sha256(str(i).encode()).hexdigest(),
                size=1000 + i,
                content_type="application/pdf",
                uploaded_by=user,
            )
            for i in range(evidence)
        ],
        batch_size=BATCH,
    )
    event_history = TimelineEvent.history.model
    evidence_history = Evidence.history.model
    case_history = BreachCase.history.model
    _bulk(
        event_history, [stamp(event_history, e, history_type="+", reason="Timeline event added.") for e in event_objs]
    )
    _bulk(
        evidence_history,
        [stamp(evidence_history, e, history_type="+", reason="Evidence added.") for e in evidence_objs],
    )
    # The rest of the chain: successive edits of the case's facts and of its events.
    remaining = max(0, history - length)
    fields = ("description", "likely_consequences", "measures_immediate", "measures_medium")
    pending_case, pending_events = [], []
    for i in range(remaining):
        if event_objs and i % 4 == 3:
            event = event_objs[i % len(event_objs)]
            event.description = f"Analyse complétée (révision {i}) : {json.dumps({'serveur': i % 17})}"
            pending_events.append(stamp(event_history, event, reason="Précision apportée."))
        else:
            setattr(case, fields[i % len(fields)], f"Révision {i} du texte : mesures renforcées, coût estimé {i} €.")
            pending_case.append(stamp(case_history, case, reason=f"Mise à jour n° {i}."))
        if len(pending_case) + len(pending_events) >= BATCH:
            _bulk(case_history, pending_case)
            _bulk(event_history, pending_events)
            pending_case, pending_events = [], []
    _bulk(case_history, pending_case)
    _bulk(event_history, pending_events)
    HistoryChainHead.objects.filter(chain_key=key).update(length=length, head_hash=prev)
    return length


def _bulk(model, rows) -> None:
    if rows:
        model.objects.bulk_create(rows, batch_size=BATCH)
