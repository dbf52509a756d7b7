"""The mechanics of background jobs: enqueue on commit, claim with a lease, renew it, finish.

cases/tasks.py explains the pattern and holds the tasks; the job models derive from
`cases.models.BackgroundJob`. Claims are conditional UPDATEs on the job row, so two workers
given the same message (a redelivery, a requeue) never both work on one job: the second waits
for the first's lease to end, and takes over only if the first stopped renewing it (it died).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import BackgroundJob, JobState


class JobHeld(Exception):
    """Another worker holds the job's lease; try again in `retry_in` seconds."""

    def __init__(self, retry_in: float) -> None:
        super().__init__(f"held by another worker for {retry_in:.0f} s")
        self.retry_in = retry_in


class ClaimLost(Exception):
    """This worker's lease ended and another worker took the job over: stop, the other one finishes."""


@dataclass(frozen=True)
class Claim:
    """A worker's hold on one job: renew it with `heartbeat`, end it with `finish` or `fail`."""

    model: type[BackgroundJob]
    job_id: int
    token: str

    def _rows(self) -> models.QuerySet:
        return self.model.objects.filter(pk=self.job_id, claim_token=self.token, state=JobState.RUNNING)

    def heartbeat(self, progress: int | None = None) -> None:
        """Renew the lease (and record progress, in percent); ClaimLost if the job was taken over."""
        fields = {"claimed_until": _lease_end()}
        if progress is not None:
            fields["progress"] = max(0, min(99, int(progress)))
        if not self._rows().update(**fields):
            raise ClaimLost(f"{self.model.__name__} {self.job_id}")

    def finish(self, **fields) -> None:
        """Mark the job done, with what it produced, in one write."""
        done = {"state": JobState.DONE, "progress": 100, "finished_at": timezone.now(), "claimed_until": None}
        if not self._rows().update(**done, **fields):
            raise ClaimLost(f"{self.model.__name__} {self.job_id}")

    def fail(self, error: str) -> None:
        """Mark the job failed (an error that another attempt would repeat); the user may ask again."""
        self._rows().update(state=JobState.FAILED, error=error[:500], finished_at=timezone.now(), claimed_until=None)


def _lease_end():
    return timezone.now() + timedelta(seconds=settings.JOB_LEASE_SECONDS)


def claim(model: type[BackgroundJob], job_id: int) -> Claim | None:
    """Take the job if it is queued, or running under an expired lease; None if there is nothing to do.

    Raises JobHeld while another worker holds a live lease on it.
    """
    now = timezone.now()
    token = uuid.uuid4().hex
    claimable = Q(state=JobState.QUEUED) | Q(state=JobState.RUNNING, claimed_until__lt=now)
    taken = model.objects.filter(Q(pk=job_id) & claimable).update(
        state=JobState.RUNNING,
        claim_token=token,
        claimed_until=_lease_end(),
        attempts=F("attempts") + 1,
        started_at=Coalesce("started_at", now),
    )
    if taken:
        return Claim(model, job_id, token)
    job = model.objects.filter(pk=job_id).only("state", "claimed_until").first()
    if job is None or job.state not in {JobState.QUEUED, JobState.RUNNING}:
        return None  # done, failed or unknown: a duplicate message
    # Running under another worker's live lease (or claimed since our UPDATE): try when that lease would end.
    remaining = (job.claimed_until - now).total_seconds() + 1 if job.claimed_until else 1.0
    raise JobHeld(retry_in=max(1.0, remaining))


def enqueue_on_commit(task, *args) -> None:
    """Send `task(*args)` once the current transaction commits (inline without a broker)."""
    transaction.on_commit(lambda: task.delay(*args))


# Job models and the task that runs one job of each, for the sweeper (`requeue_stale_jobs`).
JOB_TASKS: dict[type[BackgroundJob], Callable] = {}


def register(model: type[BackgroundJob], task) -> None:
    JOB_TASKS[model] = task


def stale_jobs(model: type[BackgroundJob], *, queued_for: timedelta) -> models.QuerySet:
    """Jobs whose message may be lost: queued for longer than `queued_for`, or running under an expired lease."""
    now = timezone.now()
    return model.objects.filter(
        Q(state=JobState.QUEUED, requested_at__lt=now - queued_for) | Q(state=JobState.RUNNING, claimed_until__lt=now)
    )
