"""Sending deliveries: each (event, endpoint) pair exactly once, retried with backoff, endpoint disabled
after repeated failures.

Exactly once: a delivery row is claimed with `SELECT ... FOR UPDATE SKIP LOCKED` among the pending
ones that are due; the HTTP request is made while the row is locked and the row is marked delivered
in the same transaction, so a second worker (the after-commit task and the periodic drain at once)
skips it while it is being sent and no longer finds it pending afterwards. The one gap left is
a crash after the receiver answered 2xx and before the commit: that delivery is sent again (the
receiver deduplicates on `Webhook-Id`, as the docs say).

Targets (SSRF): only https (http when WEBHOOK_ALLOW_HTTP, on this machine), redirects are not
followed, and every address the host name resolves to is checked right before sending: private,
loopback, link-local, reserved, multicast, unspecified and any other not globally reachable
addresses (shared address space 100.64.0.0/10) are refused unless
WEBHOOK_ALLOW_PRIVATE_TARGETS (this machine and the tests). A short timeout (WEBHOOK_TIMEOUT_SECONDS).
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import signing
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)


def timeout() -> float:
    return float(getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 5))


def max_attempts() -> int:
    return int(getattr(settings, "WEBHOOK_MAX_ATTEMPTS", 10))


def disable_after() -> int:
    return int(getattr(settings, "WEBHOOK_DISABLE_AFTER", 15))


def backoff(attempts: int) -> timedelta:
    """Wait before attempt n+1 after n failed ones: 30 s, 1 min, 2 min... capped at 6 hours."""
    base = float(getattr(settings, "WEBHOOK_BACKOFF_SECONDS", 30))
    return timedelta(seconds=min(base * 2 ** (attempts - 1), 6 * 3600))


def _is_forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and (ip.ipv4_mapped or ip.sixtofour):
        # An IPv4 address inside an IPv6 one is judged as itself: 2002::/16 (6to4) counts as global in
        # Python's terms whatever address it carries (2002:7f00:1:: is 127.0.0.1 behind a relay).
        ip = ip.ipv4_mapped or ip.sixtofour
    # Not globally reachable covers what "private" misses, e.g. 100.64.0.0/10 (shared address space:
    # carrier-grade NAT, and a cloud metadata service at 100.100.100.200).
    return (
        not ip.is_global
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


def _target(url: str, *, resolve: bool) -> tuple[str, list[str]]:
    """(why `url` may not be a webhook target or '', the addresses it resolves to when `resolve`).

    Without `resolve`, only literal addresses are checked and no address is returned."""
    parts = urlsplit(url)
    allowed = {"https", "http"} if getattr(settings, "WEBHOOK_ALLOW_HTTP", False) else {"https"}
    if parts.scheme not in allowed:
        return _("A webhook URL must use https."), []
    host = parts.hostname or ""
    if not host:
        return _("Enter a URL with a host name."), []
    private_allowed = getattr(settings, "WEBHOOK_ALLOW_PRIVATE_TARGETS", False)
    refused = _("This address is private or local: a webhook must go to a public address.")
    if not private_allowed and (host == "localhost" or host.endswith(".localhost")):
        return refused, []
    try:
        if resolve:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            addresses = list(dict.fromkeys(info[4][0] for info in infos))
        else:
            addresses = [str(ipaddress.ip_address(host))]
    except ValueError:  # a host name, not checked without resolving
        return "", []
    except OSError:
        return _("The host name does not resolve."), []
    if not private_allowed and any(_is_forbidden(a) for a in addresses):
        return refused, []
    return "", addresses if resolve else []


def url_error(url: str, *, resolve: bool) -> str:
    """Why `url` may not be a webhook target ('' if it may). Without `resolve`, only literal addresses."""
    return _target(url, resolve=resolve)[0]


def post(url: str, body: bytes, headers: dict) -> tuple[int | None, str]:
    """POST once; (HTTP status or None, error text).

    The connection goes to the address that was just checked, not to a second lookup of the name
    (which could answer a local address: DNS rebinding); https still verifies the certificate
    against the host name. A redirect is an answer (3xx: failed), never followed."""
    refused, addresses = _target(url, resolve=True)
    if refused:
        return None, refused
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=timeout())
    checked = addresses[0]
    connection._create_connection = lambda address, *args, **kwargs: socket.create_connection(
        (checked, address[1]), *args, **kwargs
    )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(1024)
        status = response.status
    except (http.client.HTTPException, OSError, ValueError) as error:
        return None, str(error)[:500] or type(error).__name__
    finally:
        connection.close()
    return status, "" if 200 <= status < 300 else f"HTTP {status}"


@dataclass
class DrainReport:
    delivered: int = 0
    failed: int = 0  # attempts that failed (retried later, or given up)
    disabled: int = 0  # endpoints disabled by this drain


def _claim(now: datetime, event_id: int | None):
    pending = WebhookDelivery.objects.filter(
        state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now, endpoint__is_active=True
    )
    if event_id is not None:
        pending = pending.filter(event_id=event_id)
    return (
        pending.select_for_update(skip_locked=True, of=("self",))
        .select_related("event__organization", "endpoint")
        .order_by("next_attempt_at", "pk")
        .first()
    )


def _consecutive_failures(endpoint: WebhookEndpoint) -> int:
    attempts = WebhookAttempt.objects.filter(endpoint=endpoint, at__gte=endpoint.enabled_at)
    last_ok = attempts.filter(ok=True).order_by("-pk").values_list("pk", flat=True).first()
    if last_ok is not None:
        attempts = attempts.filter(pk__gt=last_ok)
    return attempts.filter(ok=False).count()


def _deliver_one(now: datetime | None, event_id: int | None, report: DrainReport) -> bool:
    """Claim, send and record one due delivery; False when none is left."""
    with transaction.atomic():
        at = now or timezone.now()
        delivery = _claim(at, event_id)
        if delivery is None:
            return False
        event, endpoint = delivery.event, delivery.endpoint
        body = signing.body_of(event.payload())
        headers = signing.headers(
            secret=endpoint.secret, event_id=event.payload()["id"], event_type=event.type, body=body
        )
        started = time.monotonic()
        status, error = post(endpoint.url, body, headers)
        ok = status is not None and 200 <= status < 300
        WebhookAttempt.objects.create(
            delivery=delivery,
            endpoint=endpoint,
            at=at,
            ok=ok,
            status=status,
            error=error[:500],
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        delivery.attempts += 1
        delivery.last_status = status
        delivery.last_error = error[:500]
        if ok:
            delivery.state = WebhookDelivery.State.DELIVERED
            delivery.delivered_at = at
            report.delivered += 1
        else:
            report.failed += 1
            if delivery.attempts >= max_attempts():
                delivery.state = WebhookDelivery.State.FAILED
            else:
                delivery.next_attempt_at = at + backoff(delivery.attempts)
        delivery.save()
        if not ok and _consecutive_failures(endpoint) >= disable_after():
            from .services import endpoint_auto_disable

            endpoint_auto_disable(endpoint_id=endpoint.pk, reason=error or _("no answer"), failures=disable_after())
            report.disabled += 1
        return True


def drain(*, now: datetime | None = None, event_id: int | None = None, limit: int = 500) -> DrainReport:
    """Send every due delivery (of one event, or all), one per transaction; safe to run in parallel."""
    report = DrainReport()
    for _i in range(limit):
        if not _deliver_one(now, event_id, report):
            break
    return report
