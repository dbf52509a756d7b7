"""`manage.py verify_history`: recompute the history hash chains and name the first broken row."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from cases.checkpoints import verify_checkpoints
from cases.history import ChainResult, consistent_reads, iter_verify_all, verify_chain
from cases.models import BreachCase


class Command(BaseCommand):
    help = (
        "Recompute every history chain (or the chain of one case) from its first row and check it "
        "against its recorded head, its keyed seals and the latest signed checkpoint (whose signatures, "
        "links and time stamps are checked too); exits with an error naming the first broken row."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--case", metavar="REF", help="only the chain of the case with this reference")
        parser.add_argument(
            "--jobs",
            type=int,
            metavar="N",
            help="connections reading the chains side by side (default: one per core, up to 4, on PostgreSQL)",
        )

    def handle(self, *args, case: str | None = None, jobs: int | None = None, **options) -> None:
        if jobs is not None and jobs < 1:
            raise CommandError("--jobs must be at least 1.")
        checkpoints = verify_checkpoints()
        anchors = checkpoints.anchors
        if case is None:
            results = iter_verify_all(anchors=anchors, workers=jobs)
        else:
            results = iter([self._verify_case(case, anchors)])
        # Streamed: a million rows in ten thousand chains never sit in memory at once.
        total = 0
        broken: list[ChainResult] = [ChainResult("checkpoints", 0, "", error) for error in checkpoints.errors]
        for result in results:
            total += 1
            if result.ok:
                self.stdout.write(f"{result.chain_key}: {result.rows} rows, head {result.head_hash}")
            else:
                broken.append(result)
        if broken:
            raise CommandError(
                f"History chain broken ({len(broken)} of {total} chains): {broken[0].error}"
                + "".join(f"\n- {r.error}" for r in broken[1:])
            )
        self.stdout.write(f"{checkpoints.checked} signed checkpoints checked.")
        self.stdout.write(self.style.SUCCESS(f"{total} history chains verified."))

    def _verify_case(self, reference: str, anchors: dict) -> ChainResult:
        case = BreachCase.objects.filter(reference=reference).first()
        if case is None:
            raise CommandError(f"No case with reference {reference!r}.")
        with consistent_reads():  # the rows and the head as they stood together, whatever is written meanwhile
            result = verify_chain(case.history_chain_key(), anchor=anchors.get(case.history_chain_key()))
        if result.ok and result.rows == 0:
            return ChainResult(result.chain_key, 0, result.head_hash, f"case {reference} has no history row")
        if not result.ok:
            return ChainResult(result.chain_key, result.rows, result.head_hash, f"case {reference}: {result.error}")
        return result
