"""Background jobs: work done by a Celery worker, whose state lives in the database.

A job row is the source of truth, never the broker: a lost message, a restarted broker or a
killed worker leave the row as it was, and the job is picked up again (cases/tasks.py explains
the pattern: claim with a lease, renew it while working, finish in one write).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class JobState(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("in progress")
    DONE = "done", _("ready")
    FAILED = "failed", _("failed")


class BackgroundJob(models.Model):
    """State of one unit of background work; concrete jobs add what they produce.

    Operational state, not a fact of a case: it keeps no history row (what it produces is
    logged where it matters, e.g. a dossier download in the security log).
    """

    State = JobState

    state = models.CharField(_("state"), max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # The claim of the worker doing the job: its token, and until when it holds without news from it.
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        abstract = True

    @property
    def pending(self) -> bool:
        return self.state in {JobState.QUEUED, JobState.RUNNING}
