"""Background tasks of the breach register, and the pattern every task follows.

Where things go
- A task here is thin: it takes ids (never objects), and calls a function of `cases.services`
  that does the work, so the work is tested, and runs inline, without any worker.
- A task's state lives in a job row (`cases.models.BackgroundJob`), never in the broker; the
  mechanics (claim, lease, heartbeat, finish) are in `cases.jobs`.
- Without a broker (CELERY_BROKER_URL unset) `task.delay()` runs the task inline: `make run` and
  `make test` need no worker.

The pattern: idempotent, safe to retry, nothing lost when a worker dies
1. The request writes the job row (state "queued") in the transaction of the action that calls
   for it, and `jobs.enqueue_on_commit(task, job.pk)` sends the message only once that transaction
   has committed (a rolled-back request sends nothing; a worker never sees a row not yet written).
2. The task claims the row (`jobs.claim`): it gets it if it is queued, or running under an expired
   lease (its worker died). A job already done or failed is skipped: the message was a duplicate.
   A job another worker holds is retried once that lease would have ended (`JobHeld`).
3. While working, the task renews its lease and records progress (`claim.heartbeat(percent)`); a
   worker that lost its lease (`ClaimLost`) stops, and the one that took over finishes.
4. Every step is idempotent: it checks what is already done before doing it, so a second attempt
   after a crash completes the work instead of repeating it. The job is marked done in one write
   that records what it produced (`claim.finish(...)`).
5. Messages are acknowledged once the task has finished (settings: CELERY_TASK_ACKS_LATE and
   CELERY_TASK_REJECT_ON_WORKER_LOST): a worker killed in the middle leaves its message to be
   delivered again. And `requeue_stale_jobs` (beat, every minute) sends again any job whose lease
   expired or which stayed queued too long (a message lost with a broker restarted empty).

Bulk controller notices (the processor informing many controllers at once) take the same shape:
a job model deriving from `BackgroundJob` that names the case and the notices; a task here that
claims it, then informs each controller not yet informed through `services.controller_inform`,
one notice per transaction (so a crash keeps the ones already done, and a retry skips them), with
`claim.heartbeat(done * 100 // total)` after each; and `jobs.register(TheJobModel, the_task)` so
that the sweeper picks up a job its worker dropped.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task

from . import jobs
from .models import DossierExport

logger = logging.getLogger(__name__)

# A job queued for longer than this without a worker taking it is sent again.
QUEUED_GRACE = timedelta(minutes=5)


@shared_task(bind=True, max_retries=None)
def build_dossier_export(self, export_id: int) -> None:
    """Build (or reuse) the PDF of one dossier export."""
    from .services.exports import run_dossier_export

    try:
        run_dossier_export(export_id)
    except jobs.JobHeld as held:
        if self.request.is_eager:
            return  # inline, without a broker: the process holding it finishes it
        raise self.retry(countdown=held.retry_in) from held
    except jobs.ClaimLost:
        logger.warning("dossier export %s was taken over by another worker", export_id)


jobs.register(DossierExport, build_dossier_export)


@shared_task
def requeue_stale_jobs() -> int:
    """Send again every job whose worker died or whose message was lost; returns how many."""
    count = 0
    for model, task in jobs.JOB_TASKS.items():
        for job_id in jobs.stale_jobs(model, queued_for=QUEUED_GRACE).values_list("pk", flat=True):
            task.delay(job_id)
            count += 1
    if count:
        logger.info("requeued %d stale background jobs", count)
    return count
