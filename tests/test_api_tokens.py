"""Personal API tokens: shown once, stored as SHA-256 only, expiring, revocable, logged, attributable."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import SecurityEvent
from api import tokens
from api.models import ApiToken
from cases import services
from cases.models import Membership
from cases.services.common import save
from tests.api_support import bearer, issue_token

CASES = "/api/v1/cases/"


def test_the_secret_is_stored_only_as_its_sha256(dpo):
    token, secret = issue_token(dpo)
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert not any(secret in str(value) for value in row.values())
    assert secret.startswith(stored.prefix) and len(stored.prefix) < 12


def test_creation_needs_the_second_factor_an_expiry_and_a_name(dpo):
    dpo.is_verified = lambda: False
    with pytest.raises(PermissionDenied):
        tokens.issue(user=dpo, name="SIEM", days=30, read_only=False)
    dpo.is_verified = lambda: True
    with pytest.raises(ValidationError) as error:
        tokens.issue(user=dpo, name=" ", days=366, read_only=False)
    assert set(error.value.message_dict) == {"name", "days"}
    with pytest.raises(ValidationError):
        tokens.issue(user=dpo, name="SIEM", days=0, read_only=False)
    assert not ApiToken.objects.exists()


def test_the_page_shows_a_new_token_once_and_lists_it_after(dpo, login):
    client = login(dpo)
    response = client.post(reverse("api:tokens"), {"name": "SIEM", "days": "30", "read_only": "on"})
    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret and secret.encode() in response.content
    again = client.get(reverse("api:tokens"))
    assert secret.encode() not in again.content
    assert b"SIEM" in again.content
    token = ApiToken.objects.get()
    assert token.read_only and token.user == dpo
    event = SecurityEvent.objects.filter(user=dpo, detail__startswith=f"API token #{token.pk} created").get()
    assert "read-only" in event.detail


def test_the_page_refuses_bad_input_with_400_and_saves_nothing(dpo, login):
    response = login(dpo).post(reverse("api:tokens"), {"name": "", "days": "9999"})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_the_page_needs_the_second_factor(dpo):
    client = Client()
    client.force_login(dpo)
    response = client.post(reverse("api:tokens"), {"name": "SIEM", "days": "30"})
    assert response.status_code == 302
    assert not ApiToken.objects.exists()


def test_revoked_token_answers_401_and_revocation_is_logged(dpo, login):
    token, secret = issue_token(dpo)
    assert bearer(secret).get(CASES).status_code == 200
    client = login(dpo)
    assert client.post(reverse("api:token_revoke", args=[token.pk])).status_code == 302
    assert bearer(secret).get(CASES).status_code == 401
    assert SecurityEvent.objects.filter(detail=f"API token #{token.pk} revoked").count() == 1


def test_only_the_owner_revokes_a_token(dpo, org, make_user, login):
    token, secret = issue_token(dpo)
    other = make_user(org, Membership.Role.DPO, "other")
    assert login(other, Client()).post(reverse("api:token_revoke", args=[token.pk])).status_code == 404
    assert bearer(secret).get(CASES).status_code == 200


def test_expired_token_answers_401(dpo):
    token, secret = issue_token(dpo)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = bearer(secret).get(CASES)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header", ["Bearer nope", "Bearer", "Bearer a b", "Bearer " + "x" * 500, "Bearer \u00e9t\u00e9"]
)
def test_unknown_or_malformed_tokens_answer_401(db, header):
    response = bearer("").get(CASES, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401


def test_no_credentials_answer_401(db):
    assert bearer("").get(CASES, HTTP_AUTHORIZATION="").status_code == 401


def test_a_deactivated_user_token_stops_working(dpo):
    _token, secret = issue_token(dpo)
    get_user_model().objects.filter(pk=dpo.pk).update(is_active=False)
    assert bearer(secret).get(CASES).status_code == 401


def test_a_lost_membership_stops_reaching_the_cases(dpo, org, open_case, make_user):
    case = open_case()
    _token, secret = issue_token(dpo)
    client = bearer(secret)
    assert client.get(f"{CASES}{case.reference}/").status_code == 200
    membership = Membership.objects.get(user=dpo, organization=org)
    membership.is_active = False
    save(membership, acting_user=None, reason="Left the organisation.")  # audited, as an administrator would
    assert client.get(f"{CASES}{case.reference}/").status_code == 404
    assert client.get(CASES).json()["count"] == 0


def test_every_use_is_logged_and_remembered(dpo):
    token, secret = issue_token(dpo)
    before = SecurityEvent.objects.count()
    bearer(secret).get(CASES)
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert SecurityEvent.objects.count() == before + 1
    assert SecurityEvent.objects.first().detail == f"API token #{token.pk} used: GET {CASES}"


def test_writes_name_the_token_in_the_history(dpo, org, open_case):
    case = open_case()
    token, secret = issue_token(dpo)
    response = bearer(secret).patch(
        f"{CASES}{case.reference}/", {"version": case.version, "description": "Exfiltration"}, format="json"
    )
    assert response.status_code == 200, response.content
    row = case.history.order_by("-history_id").first()
    assert row.history_user_id == dpo.pk
    assert f"API token #{token.pk}" in row.history_change_reason
    # Outside the API, reasons are untouched.
    services.case_update_facts(case, acting_user=dpo, description="Exfiltration confirmée")
    assert "API token" not in case.history.order_by("-history_id").first().history_change_reason


def test_a_server_error_does_not_leave_the_token_named_in_later_writes(dpo, org, open_case, monkeypatch):
    """The token is named in the history only during its own request: a request that ends in a server
    error must not leave it set for whatever the same worker thread writes next (a page, a command)."""
    case = open_case()
    token, secret = issue_token(dpo)

    def broken(*args, **kwargs):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(services, "timeline_event_add", broken)
    client = bearer(secret)
    client.raise_request_exception = False
    response = client.post(
        f"{CASES}{case.reference}/timeline/", {"occurred_at": "2024-02-01T19:00:00+01:00", "title": "x"}, format="json"
    )
    assert response.status_code == 500
    services.case_update_facts(case, acting_user=dpo, description="Written from a page")
    assert f"API token #{token.pk}" not in case.history.order_by("-history_id").first().history_change_reason
