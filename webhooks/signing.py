"""The signature of a delivery: HMAC-SHA256 over "<timestamp>.<body>" with the endpoint's secret.

Headers sent with every delivery (docs/api.md shows how a receiver checks them):
    Webhook-Id:        evt_<32 hex>, the event's id (the same on every retry)
    Webhook-Event:     the event type, e.g. obligation.due_4h
    Webhook-Timestamp: Unix seconds when this attempt was signed
    Webhook-Signature: v1=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

SIGNATURE_VERSION = "v1"
# A receiver should refuse a timestamp older than this (replay).
TOLERANCE_SECONDS = 300


def body_of(payload: dict) -> bytes:
    """The exact bytes sent and signed: compact JSON, keys sorted, UTF-8."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


def headers(*, secret: str, event_id: str, event_type: str, body: bytes, timestamp: int | None = None) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        "User-Agent": "breach-register-webhooks/1",
        "Webhook-Id": event_id,
        "Webhook-Event": event_type,
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": signature(secret, timestamp, body),
    }


def verify(secret: str, timestamp: str, body: bytes, received: str, *, now: float | None = None) -> bool:
    """What a receiver does (the snippet of docs/api.md): recompute, compare in constant time, refuse old ones."""
    if abs((time.time() if now is None else now) - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(signature(secret, int(timestamp), body), received)
