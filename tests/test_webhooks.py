"""Signed webhooks, against a real HTTP receiver on this machine (http.server in a thread, no mock):
the signature verifies with the documented snippet, a 500 is retried after its backoff, each event
reaches each endpoint exactly once, a rolled-back action sends nothing, an endpoint failing again and
again is disabled, and only the organisation's administrators see and change its webhooks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from cases import services
from cases.models import Membership
from reminders.services import send_due_reminders
from webhooks import delivery, signing
from webhooks import services as webhook_services
from webhooks.models import EventType, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.tasks import deliver_webhooks

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.django_db


class Receiver:
    """A real HTTP server: records every request, answers the statuses queued (then 200)."""

    def __init__(self, statuses=(), delay: float = 0.0):
        self.requests: list[dict] = []
        self.statuses = list(statuses)
        self.delay = delay
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                time.sleep(receiver.delay)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(autouse=True)
def _english():
    """Messages are checked in English (the catalogue translates them: French by default)."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _local_targets(settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 3


@pytest.fixture
def admin(org, make_user):
    return make_user(org, Membership.Role.ADMIN, "org-admin")


@pytest.fixture
def endpoint(org, admin, receiver):
    endpoint, secret = webhook_services.endpoint_create(
        organization=org, url=receiver.url, events=EventType.values, description="SIEM", acting_user=admin
    )
    endpoint.raw_secret = secret
    return endpoint


def _snippet():
    """The verification snippet of docs/api.md, run as a receiver would."""
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    code = re.search(r"<!-- verification-snippet -->\n```python\n(.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - our own documentation
    return namespace["verify_webhook"]


def test_case_opened_is_delivered_after_commit_signed_as_documented(
    open_case, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = open_case(title="SIEM alert 4711")
        assert receiver.requests == []  # nothing leaves before the commit
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    event = _snippet()(endpoint.raw_secret, request["headers"], request["body"])
    assert event["type"] == "case.opened"
    assert event["organization"] == "mutex"
    assert event["data"]["case"]["reference"] == case.reference
    assert set(event) == {"id", "type", "created_at", "organization", "data"}
    assert request["headers"]["Webhook-Id"] == event["id"]
    assert request["headers"]["Webhook-Event"] == "case.opened"
    with pytest.raises(ValueError, match="bad signature"):
        _snippet()("whsec_wrong", request["headers"], request["body"])
    with pytest.raises(ValueError, match="bad signature"):
        _snippet()(endpoint.raw_secret, request["headers"], request["body"].replace(b"mutex", b"other"))
    assert signing.verify(
        endpoint.raw_secret,
        request["headers"]["Webhook-Timestamp"],
        request["body"],
        request["headers"]["Webhook-Signature"],
    )
    row = WebhookDelivery.objects.get()
    assert row.state == WebhookDelivery.State.DELIVERED and row.attempts == 1 and row.last_status == 200


def test_a_500_is_retried_after_its_backoff_then_delivered_once(
    open_case, endpoint, receiver, django_capture_on_commit_callbacks
):
    receiver.statuses = [500]
    with django_capture_on_commit_callbacks(execute=True):
        open_case()
    row = WebhookDelivery.objects.get()
    assert row.state == WebhookDelivery.State.PENDING and row.attempts == 1 and row.last_status == 500
    first = WebhookAttempt.objects.get()
    assert row.next_attempt_at == first.at + timedelta(seconds=30)
    assert delivery.drain().delivered == 0  # not due yet: nothing sent
    assert len(receiver.requests) == 1
    report = delivery.drain(now=row.next_attempt_at + timedelta(seconds=1))
    assert report.delivered == 1
    assert len(receiver.requests) == 2
    assert receiver.requests[0]["headers"]["Webhook-Id"] == receiver.requests[1]["headers"]["Webhook-Id"]
    row.refresh_from_db()
    assert row.state == WebhookDelivery.State.DELIVERED and row.attempts == 2
    assert [a.ok for a in WebhookAttempt.objects.order_by("pk")] == [False, True]
    assert delivery.backoff(1) == timedelta(seconds=30) and delivery.backoff(3) == timedelta(minutes=2)
    assert delivery.backoff(30) == timedelta(hours=6)


def test_two_drains_deliver_an_event_once(open_case, endpoint, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # the after-commit task is lost (no broker)
        open_case()
    assert receiver.requests == []
    later = timezone.now() + timedelta(seconds=1)
    assert delivery.drain(now=later).delivered == 1
    assert delivery.drain(now=later).delivered == 0
    assert deliver_webhooks.delay().get() == 0  # the beat's task: nothing left either
    out = StringIO()
    call_command("deliver_webhooks", stdout=out)
    assert out.getvalue().startswith("delivered 0,")
    assert len(receiver.requests) == 1


def test_a_rolled_back_action_records_and_sends_nothing(
    open_case, endpoint, receiver, django_capture_on_commit_callbacks
):
    class Boom(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Boom), transaction.atomic():
        open_case()
        assert WebhookEvent.objects.count() == 1
        raise Boom
    assert WebhookEvent.objects.count() == 0 and WebhookDelivery.objects.count() == 0
    assert delivery.drain(now=timezone.now() + timedelta(hours=1)).delivered == 0
    assert receiver.requests == []


def test_each_event_reaches_only_the_endpoints_subscribed_to_it(
    org, admin, open_case, receiver, django_capture_on_commit_callbacks
):
    webhook_services.endpoint_create(
        organization=org, url=receiver.url + "/done", events=["obligation.completed"], acting_user=admin
    )
    with django_capture_on_commit_callbacks(execute=True):
        open_case()
    assert receiver.requests == [] and WebhookEvent.objects.count() == 0  # nobody subscribed: no outbox row


def test_an_endpoint_failing_again_and_again_is_disabled_and_says_why(
    settings, org, open_case, endpoint, receiver, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_DISABLE_AFTER = 3
    receiver.statuses = [500] * 50
    with django_capture_on_commit_callbacks(execute=True):
        open_case(title="Premier")
        open_case(title="Second")
    endpoint.refresh_from_db()
    assert endpoint.is_active  # two failures so far
    delivery.drain(now=timezone.now() + timedelta(minutes=5))
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert "3" in endpoint.disabled_reason and "HTTP 500" in endpoint.disabled_reason
    assert endpoint.history.first().history_change_reason.startswith("Webhook endpoint disabled")
    sent = len(receiver.requests)
    assert delivery.drain(now=timezone.now() + timedelta(days=1)).delivered == 0
    assert len(receiver.requests) == sent  # a disabled endpoint gets nothing more
    # Enabled again by an administrator: earlier failures no longer count, pending deliveries go out.
    receiver.statuses = []
    webhook_services.endpoint_enable(
        endpoint=endpoint, acting_user=org.memberships.get(role="admin").user, expected_version=endpoint.version
    )
    assert delivery.drain(now=timezone.now() + timedelta(days=1)).delivered == 2


def test_deadline_events_come_from_the_reminders_run_once_per_threshold(
    org, open_case, endpoint, receiver, django_capture_on_commit_callbacks
):
    now = timezone.now()
    open_case(first_signal_at=now - timedelta(hours=71), aware_at=now - timedelta(hours=70))  # CNIL 72 h: due in 2 h
    WebhookDelivery.objects.all().delete()
    WebhookEvent.objects.all().delete()
    for _run in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            send_due_reminders(now)
    cnil = org.cases.get().obligations.get(rule_code="GDPR_33_1")

    def types_of(ob):
        return sorted(e.type for e in WebhookEvent.objects.all() if e.data["obligation"]["id"] == ob.pk)

    assert types_of(cnil) == ["obligation.due_24h", "obligation.due_4h"]
    assert len(receiver.requests) == WebhookEvent.objects.count()
    for _run in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            send_due_reminders(now + timedelta(hours=3))
    assert types_of(cnil) == ["obligation.due_24h", "obligation.due_4h", "obligation.overdue"]
    keys = list(WebhookEvent.objects.values_list("key", flat=True))
    assert len(keys) == len(set(keys))
    assert len(receiver.requests) == WebhookEvent.objects.count()


@pytest.mark.parametrize("cases", [2, 20])
def test_the_deadline_events_of_a_run_take_as_many_queries_however_many_obligations_are_due(
    cases, org, open_case, endpoint, django_assert_max_num_queries
):
    now = timezone.now()
    for i in range(cases):  # CNIL 72 h: due in 2 h (the 24- and 4-hour events)
        open_case(title=f"Incident {i}", first_signal_at=now - timedelta(hours=71), aware_at=now - timedelta(hours=70))
    WebhookDelivery.objects.all().delete()
    WebhookEvent.objects.all().delete()
    # The e-mails and the deliveries go after the commit, which a test's transaction never reaches.
    with django_assert_max_num_queries(14):
        send_due_reminders(now)
    events = list(WebhookEvent.objects.all())
    assert len(events) >= 2 * cases
    assert len({e.key for e in events}) == len(events)
    assert sorted(e.type for e in events if e.data["obligation"]["rule"] == "GDPR_33_1") == sorted(
        ["obligation.due_24h", "obligation.due_4h"] * cases
    )
    assert all(e.created_at == now for e in events)
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == len(events)
    with django_assert_max_num_queries(14):
        send_due_reminders(now + timedelta(minutes=5))
    assert WebhookEvent.objects.count() == len(events)  # each once


def test_completion_and_filing_are_events(org, dpo, open_case, endpoint, receiver, django_capture_on_commit_callbacks):
    case = open_case()
    ob = case.obligations.get(rule_code="GDPR_33_1")
    with django_capture_on_commit_callbacks(execute=True):
        services.filing_record(
            case,
            obligation=ob,
            kind="cnil_initial",
            sent_at=ob.anchor_at + timedelta(hours=2),
            reference="CNIL-1",
            acting_user=dpo,
        )
    types = [json.loads(r["body"])["type"] for r in receiver.requests]
    assert "obligation.completed" in types and "filing.sent" in types


def test_targets_private_addresses_and_plain_http_are_refused_in_production(settings, org, admin):
    settings.WEBHOOK_ALLOW_HTTP = False
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    for url, message in [
        ("http://example.com/hook", "https"),
        ("https://127.0.0.1/hook", "private"),
        ("https://10.1.2.3/hook", "private"),
        ("https://[::1]/hook", "private"),
        ("https://169.254.169.254/latest", "private"),
        ("https://localhost/hook", "private"),
    ]:
        with pytest.raises(ValidationError, match=message):
            webhook_services.endpoint_create(organization=org, url=url, events=["case.opened"], acting_user=admin)
    assert delivery.url_error("https://127.0.0.1:9/x", resolve=True)
    assert delivery.post("https://127.0.0.1:9/x", b"{}", {})[0] is None


@pytest.mark.parametrize(
    "address",
    [
        "100.100.100.200",
        "100.64.0.1",
        "[::ffff:100.100.100.200]",
        "192.0.0.170",
        "[2002:7f00:1::1]",
        "[2002:a9fe:a9fe::]",
    ],
    ids=[
        "cloud-metadata-in-shared-space",
        "carrier-grade-nat",
        "mapped-shared-space",
        "ietf-protocol",
        "6to4-of-loopback",  # 2002::/16 embeds an IPv4 address and counts as global itself
        "6to4-of-link-local-metadata",
    ],
)
def test_no_address_outside_the_public_internet_is_a_target(settings, org, admin, address):
    """100.64.0.0/10 (shared address space: carrier-grade NAT, and a cloud's metadata service at
    100.100.100.200) is neither private nor public in Python's terms: only globally reachable addresses
    may receive a webhook."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(ValidationError, match="private"):
        webhook_services.endpoint_create(
            organization=org, url=f"https://{address}/hook", events=["case.opened"], acting_user=admin
        )
    assert delivery.url_error(f"https://{address}/hook", resolve=True)
    assert delivery.post(f"https://{address}/hook", b"{}", {})[0] is None
    assert not WebhookEndpoint.objects.exists()


def test_only_an_administrator_adds_endpoints(org, dpo, admin, receiver):
    with pytest.raises(PermissionDenied):
        webhook_services.endpoint_create(organization=org, url=receiver.url, events=["case.opened"], acting_user=dpo)
    with pytest.raises(ValidationError) as refused:
        webhook_services.endpoint_create(organization=org, url="not a url", events=["nope"], acting_user=admin)
    assert set(refused.value.message_dict) == {"url", "events"}
    assert not WebhookEndpoint.objects.exists()


def test_pages_are_for_the_organisations_administrators_only(
    org,
    admin,
    dpo,
    make_org,
    make_user,
    endpoint,
    open_case,
    login,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    other = make_org(name="Autre", code="autre")
    other_admin = make_user(other, Membership.Role.ADMIN, "other-admin")
    with django_capture_on_commit_callbacks(execute=True):
        open_case(title="Ouvert")
    page = login(admin, Client())
    response = page.get(reverse("webhooks:deliveries"))
    assert response.status_code == 200 and b"case.opened" in response.content
    assert endpoint.raw_secret.encode() not in page.get(reverse("webhooks:endpoints")).content
    stranger = login(other_admin, Client())
    assert b"case.opened" not in stranger.get(reverse("webhooks:deliveries")).content
    assert b"/hook" not in stranger.get(reverse("webhooks:endpoints")).content
    url = reverse("webhooks:endpoint_disable", args=[endpoint.pk])
    assert stranger.post(url, {"version": endpoint.version}).status_code == 404
    assert login(dpo, Client()).get(reverse("webhooks:deliveries")).status_code == 403
    assert login(dpo, Client()).post(url, {"version": endpoint.version}).status_code == 404
    endpoint.refresh_from_db()
    assert endpoint.is_active
    assert page.post(url, {}).status_code == 400  # no version: nothing changed
    assert page.post(url, {"version": endpoint.version}).status_code == 302
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_reason
    # The delivery log's queries do not grow with the deliveries.
    with django_assert_max_num_queries(12) as few:
        page.get(reverse("webhooks:deliveries"))
    webhook_services.endpoint_enable(endpoint=endpoint, acting_user=admin, expected_version=endpoint.version)
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(5):
            open_case(title=f"Cas {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = page.get(reverse("webhooks:deliveries"))
    assert response.content.count(b"case.opened") >= 6
    with django_assert_max_num_queries(12):
        page.get(reverse("webhooks:endpoints"))


def test_creating_an_endpoint_on_the_page_shows_its_secret_once(org, admin, login, receiver):
    page = login(admin, Client())
    response = page.post(
        reverse("webhooks:endpoints"),
        {"organization": "mutex", "url": receiver.url, "events": ["case.opened", "filing.sent"]},
    )
    assert response.status_code == 200
    secret = re.search(rb'id="new-secret">(whsec_[\w-]+)<', response.content).group(1).decode()
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret == secret and endpoint.event_list == ["case.opened", "filing.sent"]
    assert secret.encode() not in page.get(reverse("webhooks:endpoints")).content
    assert "secret" not in {f.name for f in endpoint.history.model._meta.fields}


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)")
def test_two_processes_draining_at_once_deliver_once(race_database):
    from tests.pg_race import env, manage

    slow = Receiver(delay=1.5)
    try:
        manage(
            race_database,
            "shell",
            "-c",
            f"""
from django.db import transaction
from django.utils import timezone, translation
from cases.models import Organization
from webhooks.tasks import deliver_webhooks
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
with transaction.atomic():
    org = Organization(name="Course", code="course")
    org.save()
    endpoint = WebhookEndpoint(
        organization=org, url="{slow.url}", events="case.opened", secret="s", enabled_at=timezone.now()
    )
    endpoint.save()
    for i in range(3):
        event = WebhookEvent.objects.create(
            organization=org, type="case.opened", created_at=timezone.now(), data={{"i": i}}
        )
        WebhookDelivery.objects.create(event=event, endpoint=endpoint, next_attempt_at=timezone.now())
""",
        )
        start_at = str(time.time() + 4)
        code = (
            "import os, time\ntime.sleep(max(0.0, float(os.environ['START_AT']) - time.time()))\n"
            "from django.core.management import call_command\ncall_command('deliver_webhooks')\n"
        )
        runs = [
            subprocess.Popen(
                [sys.executable, "manage.py", "shell", "-c", code],
                cwd=ROOT,
                env=env(race_database, START_AT=start_at),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        delivered = []
        for run in runs:
            out, err = run.communicate(timeout=120)
            assert run.returncode == 0, err
            delivered.append(int(re.search(r"delivered (\d+)", out).group(1)))
        assert sum(delivered) == 3
        assert min(delivered) >= 1  # both worked at once (skip locked), neither sent the other's
        assert len(slow.requests) == 3
        assert len({json.loads(r["body"])["data"]["i"] for r in slow.requests}) == 3
    finally:
        slow.close()


def test_a_name_that_resolves_again_to_a_local_address_is_not_reached(settings, receiver, monkeypatch):
    """DNS rebinding: the name answers a public address when checked, then this machine's when
    connecting. The request must go to the address that was checked, never to a second lookup's."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    real = delivery.socket.getaddrinfo
    lookups = []

    def rebinding(host, port, *args, **kwargs):
        if host != "rebind.example":
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        # TEST-NET-3 (documentation) stands for a public address here: nothing answers there.
        address = "203.0.113.7" if len(lookups) == 1 else "127.0.0.1"
        return [(delivery.socket.AF_INET, delivery.socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(delivery.socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(delivery, "_is_forbidden", lambda a: a == "127.0.0.1")  # 203.0.113.7 counts as public
    port = receiver.server.server_address[1]
    status, error = delivery.post(f"http://rebind.example:{port}/hook", b"{}", {"Content-Type": "application/json"})
    assert status is None and error
    assert receiver.requests == []


def test_a_redirect_is_a_failed_answer_never_followed():
    receiver = Receiver(statuses=[302])
    try:
        assert delivery.post(receiver.url, b"{}", {"Content-Type": "application/json"}) == (302, "HTTP 302")
        assert len(receiver.requests) == 1
    finally:
        receiver.close()
