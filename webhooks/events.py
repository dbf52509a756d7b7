"""Recording webhook events (the outbox) in the transaction of the action they report.

A service calls `emit(...)` once its write is done: the event and one delivery row per active
endpoint of the organisation subscribed to that type are inserted in the same transaction, so a
rolled-back action records (and sends) nothing. Delivery is asked for after the commit
(`transaction.on_commit` -> Celery task, inline without a broker); the periodic drain
(`deliver_webhooks`) sends whatever that missed. Nothing is recorded for an organisation with no
endpoint subscribed to the type (no outbox row on the hot path of every case).
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import EventType, WebhookDelivery, WebhookEndpoint, WebhookEvent

logger = logging.getLogger(__name__)


def _subscribers(organization_ids) -> dict[int, list[WebhookEndpoint]]:
    """The active endpoints of these organisations, by organisation (one query)."""
    endpoints: dict[int, list[WebhookEndpoint]] = {}
    for endpoint in WebhookEndpoint.objects.filter(organization_id__in=set(organization_ids), is_active=True).only(
        "pk", "organization_id", "events"
    ):
        endpoints.setdefault(endpoint.organization_id, []).append(endpoint)
    return endpoints


def _deliver_after_commit(recorded: list[tuple[WebhookEvent, list[WebhookEndpoint]]]) -> None:
    """One delivery row per recorded event and subscribed endpoint (one insert); sent after the commit."""
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(event=event, endpoint=e, next_attempt_at=now)
            for event, endpoints in recorded
            for e in endpoints
        ]
    )
    for event, _ in recorded:
        transaction.on_commit(partial(_request_delivery, event.pk))


def _request_delivery(event_id: int) -> None:
    from .tasks import deliver_event

    try:
        deliver_event.delay(event_id)
    except Exception:  # the broker is down: the periodic drain sends it
        logger.exception("webhooks: could not queue event %s; the periodic drain will send it", event_id)


def emit(organization, event_type: str, data: dict, *, key: str | None = None, at: datetime | None = None):
    """Record one event for `organization` (a model or its id); returns it, or None if nobody subscribes
    (or, with a `key`, if an event with that key was already recorded)."""
    organization_id = getattr(organization, "pk", organization)
    endpoints = [e for e in _subscribers({organization_id}).get(organization_id, ()) if event_type in e.event_list]
    if not endpoints:
        return None
    at = at or timezone.now()
    event = WebhookEvent(organization_id=organization_id, type=EventType(event_type), key=key, created_at=at, data=data)
    if key is None:
        event.save()
    else:
        if WebhookEvent.objects.filter(key=key).exists():
            return None
        try:
            with transaction.atomic():
                event.save()
        except IntegrityError:  # another run recorded it meanwhile
            return None
    _deliver_after_commit([(event, endpoints)])
    return event


def emit_many(items: list[tuple[int, str, dict]]) -> int:
    """`emit` for many events at once ((organisation id, type, data) each, no key), in a number of
    queries that does not grow with them: one read of the subscribed endpoints, one insert of the
    events, one of their deliveries. Returns how many events were recorded."""
    if not items:
        return 0
    endpoints = _subscribers(org for org, _type, _data in items)
    at = timezone.now()
    recorded = []
    for organization_id, event_type, data in items:
        subscribed = [e for e in endpoints.get(organization_id, ()) if event_type in e.event_list]
        if subscribed:
            event = WebhookEvent(organization_id=organization_id, type=EventType(event_type), created_at=at, data=data)
            recorded.append((event, subscribed))
    if not recorded:
        return 0
    WebhookEvent.objects.bulk_create([event for event, _ in recorded])
    if any(event.pk is None for event, _ in recorded):  # a database that does not return the new ids
        ids = dict(WebhookEvent.objects.filter(uid__in=[e.uid for e, _ in recorded]).values_list("uid", "pk"))
        for event, _ in recorded:
            event.pk = ids[event.uid]
    _deliver_after_commit(recorded)
    return len(recorded)


def _case_data(case) -> dict:
    return {"case": {"reference": case.reference, "title": case.title, "status": case.status}}


def _obligation_data(ob) -> dict:
    return {
        **_case_data(ob.case),
        "obligation": {
            "id": ob.pk,
            "rule": ob.rule_code,
            "authority": ob.authority,
            "state": ob.state,
            "due_at": ob.due_at.isoformat() if ob.due_at else None,
            "completed_at": ob.completed_at.isoformat() if ob.completed_at else None,
        },
    }


# One line in each service: what each event carries (references and dates, never personal data).
def case_opened(case) -> None:
    emit(case.organization_id, EventType.CASE_OPENED, _case_data(case))


def obligation_completed(ob) -> None:
    emit(ob.case.organization_id, EventType.COMPLETED, _obligation_data(ob))


def filing_sent(filing) -> None:
    emit(
        filing.case.organization_id,
        EventType.FILING_SENT,
        {
            **_case_data(filing.case),
            "filing": {
                "id": filing.pk,
                "kind": filing.kind,
                "sent_at": filing.sent_at.isoformat(),
                "reference": filing.reference,
                "obligation_id": filing.obligation_id,
            },
        },
    )


def obligations_completed(obligations) -> None:
    """`obligation_completed` for many (informing many controllers at once), in bounded queries."""
    emit_many([(ob.case.organization_id, EventType.COMPLETED, _obligation_data(ob)) for ob in obligations])


def notices_received(received_notices) -> None:
    """`notice_received` for many (one processor informing many controllers), in bounded queries."""
    emit_many([(r.controller_id, EventType.NOTICE_RECEIVED, _notice_data(r)) for r in received_notices])


def _notice_data(received) -> dict:
    return {
        "notice": {
            "id": received.pk,
            "processor": received.processor_name,
            "subject": received.subject,
            "received_at": received.received_at.isoformat(),
        }
    }


def notice_received(received) -> None:
    emit(received.controller_id, EventType.NOTICE_RECEIVED, _notice_data(received))


DEADLINE_EVENTS = {
    "due_24h": EventType.DUE_24H,
    "due_4h": EventType.DUE_4H,
    "overdue": EventType.OVERDUE,
}


def deadline_events(obligations, kinds_due, now: datetime) -> int:
    """From the reminders run: one event per obligation, threshold and announced due date, ever.

    `kinds_due(due_at, now)` is the reminders' own rule (a late run still sends the 24-hour event
    with the 4-hour one; nothing before the deadline once it has passed). The event's unique key
    (type, obligation, due date) is the claim, as the reminders' rows are theirs. However many
    obligations are due, the queries are as many: one read of the subscribed endpoints, then, if any,
    one of the keys already recorded, one insert of the events (those another run recorded meanwhile
    are skipped, waiting for its commit), one read-back of those this run inserted, one insert of
    their deliveries. Returns how many events this run recorded.
    """
    endpoints = _subscribers({ob.case.organization_id for ob in obligations})
    candidates = []  # (key, type, obligation, endpoints subscribed to that type)
    for ob in obligations:
        org_endpoints = endpoints.get(ob.case.organization_id)
        if not org_endpoints:
            continue
        for kind in kinds_due(ob.due_at, now):
            event_type = DEADLINE_EVENTS.get(kind)
            subscribed = event_type and [e for e in org_endpoints if event_type in e.event_list]
            if subscribed:
                candidates.append((f"{event_type}:{ob.pk}:{ob.due_at.isoformat()}", event_type, ob, subscribed))
    if not candidates:
        return 0
    done = set(WebhookEvent.objects.filter(key__in=[c[0] for c in candidates]).values_list("key", flat=True))
    recorded = [
        (
            WebhookEvent(
                organization_id=ob.case.organization_id,
                type=EventType(event_type),
                key=key,
                created_at=now,
                data=_obligation_data(ob),
            ),
            subscribed,
        )
        for key, event_type, ob, subscribed in candidates
        if key not in done
    ]
    if not recorded:
        return 0
    WebhookEvent.objects.bulk_create([event for event, _ in recorded], ignore_conflicts=True)
    # The insert does not say which rows it skipped: the rows holding this run's own uids are its own.
    ids = dict(WebhookEvent.objects.filter(uid__in=[e.uid for e, _ in recorded]).values_list("uid", "pk"))
    inserted = []
    for event, subscribed in recorded:
        if event.uid in ids:
            event.pk = ids[event.uid]
            inserted.append((event, subscribed))
    if inserted:
        _deliver_after_commit(inserted)
    return len(inserted)
