"""An organisation's administrator lifts the lockout of the organisation's current members only.

A member who was removed (membership deactivated) is no longer the organisation's user: its former
administrators may not unlock the account, which an attacker trying that account's password would
otherwise get lifted again and again by someone the account no longer answers to.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse

from accounts.models import SecurityEvent
from cases.models import Membership
from tests.test_accounts_security import PASSWORD, attempt


def test_a_former_member_is_not_unlocked_by_the_former_organisations_admin(org, make_org, make_user, login):
    alice = make_user(org, Membership.Role.DPO, "alice")
    alice.set_password(PASSWORD)
    alice.save()
    admin = make_user(org, Membership.Role.ADMIN, "orgadmin")
    membership = Membership.objects.get(user=alice, organization=org)
    membership.is_active = False
    with transaction.atomic():
        membership.save()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(Client(), "alice", "wrong")

    client = login(admin, Client())
    log = client.get(reverse("accounts:security_log"))
    assert log.status_code == 200
    assert 'value="alice"' not in log.content.decode()  # no unlock button for a former member
    response = client.post(reverse("accounts:unlock"), {"username": "alice"})

    assert response.status_code == 404
    assert attempt(Client(), "alice", PASSWORD).status_code == 429  # still locked
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.UNLOCKED).exists()


def test_a_current_member_is_still_unlocked(org, make_user, login):
    alice = make_user(org, Membership.Role.DPO, "alice")
    alice.set_password(PASSWORD)
    alice.save()
    admin = make_user(org, Membership.Role.ADMIN, "orgadmin")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(Client(), "alice", "wrong")
    client = login(admin, Client())
    assert 'value="alice"' in client.get(reverse("accounts:security_log")).content.decode()
    assert client.post(reverse("accounts:unlock"), {"username": "alice"}).status_code == 302
    assert attempt(Client(), "alice", PASSWORD).status_code == 302
