"""`/health/`: what a load balancer or a monitor asks each application server before sending it traffic.

Checks the three things a request may need besides this process: the database, the evidence
storage and, when one is configured, the broker. 200 when all answer, 503 otherwise; the body
names each check's result, never an error's detail (the endpoint answers without a login).
"""

from __future__ import annotations

import logging
import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)
# A key no one writes: asking for it proves the storage answers and accepts our credentials.
STORAGE_PROBE = "health/probe"
BROKER_TIMEOUT_SECONDS = 3


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _storage() -> None:
    default_storage.exists(STORAGE_PROBE)  # S3: a HEAD request, refused without the right credentials
    if isinstance(default_storage, FileSystemStorage):
        location = default_storage.location
        os.makedirs(location, mode=0o700, exist_ok=True)  # as the first upload would
        if not os.access(location, os.W_OK | os.X_OK):
            raise OSError(f"{location} is not a writable directory")


def _broker() -> str:
    if not settings.CELERY_BROKER_URL:
        return "inline"  # no broker: tasks run in the requesting process
    from compliance.celery import app

    with app.connection_for_write(url=settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
        conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
    return "ok"


@never_cache
@require_safe
def health(request: HttpRequest) -> JsonResponse:
    checks = {}
    for name, check in (("database", _database), ("storage", _storage), ("broker", _broker)):
        try:
            checks[name] = check() or "ok"
        except Exception:  # any failure of a dependency is a "no" for the load balancer
            logger.exception("health check %s failed", name)
            checks[name] = "error"
    healthy = "error" not in checks.values()
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)
