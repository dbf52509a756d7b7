"""Second-factor failures lock the account like password failures, even when the password is entered again
between tries; the session key changes when the second factor is verified; an overlong or malformed
username is refused before any database work and still counts toward lockout.
"""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice

from accounts.models import SecurityEvent, UserSession
from cases.models import Membership
from tests.test_accounts_security import PASSWORD, attempt


@pytest.fixture
def alice(org, make_user):
    user = make_user(org, Membership.Role.DPO, "alice")
    user.set_password(PASSWORD)
    user.save()
    StaticDevice.objects.create(user=user, name="backup codes", confirmed=True).token_set.create(token="12345678")
    return user


def wrong_code(client):
    return client.post(reverse("accounts:verify"), {"token": "00000000"}, REMOTE_ADDR="10.0.0.1")


def test_wrong_codes_keep_counting_when_the_password_is_entered_again(alice):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        browser = Client()
        assert attempt(browser, "alice", PASSWORD)["Location"].startswith(reverse("accounts:verify"))
        assert wrong_code(browser).status_code == 200
    # A fresh login with the right password does not wipe the count: the next wrong code locks.
    browser = Client()
    assert attempt(browser, "alice", PASSWORD).status_code == 302
    assert wrong_code(browser).status_code == 429
    assert attempt(Client(), "alice", PASSWORD).status_code == 429


def test_a_complete_login_forgets_the_failures(alice):
    browser = Client()
    attempt(browser, "alice", "wrong")
    attempt(browser, "alice", PASSWORD)
    wrong_code(browser)
    assert AccessAttempt.objects.filter(username="alice").exists()
    # django-otp makes a device wait after a wrong code; this test is about the lockout count.
    StaticDevice.objects.filter(user=alice).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    assert browser.post(reverse("accounts:verify"), {"token": "12345678"}).status_code == 302
    assert not AccessAttempt.objects.filter(username="alice").exists()


def test_the_session_key_changes_when_the_second_factor_is_verified(alice):
    browser = Client()
    attempt(browser, "alice", PASSWORD)
    before = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert browser.post(reverse("accounts:verify"), {"token": "12345678"}).status_code == 302
    after = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert browser.get("/").status_code == 200
    # The old key is worth nothing, and the session list follows the new key (log out everywhere works).
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = before
    assert stale.get("/")["Location"].startswith(reverse("accounts:login"))
    assert list(UserSession.objects.filter(user=alice).values_list("session_key", flat=True)) == [after]


def test_an_overlong_username_is_refused_and_counted_toward_lockout(alice, db):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = attempt(client, "a" * 300, "wrong", ip="10.0.0.5")
        assert response.status_code == 200
        assert response.context["form"].non_field_errors()
    assert attempt(client, "b\x00" * 100, "wrong", ip="10.0.0.5").status_code == 429
    assert attempt(Client(), "alice", PASSWORD, ip="10.0.0.5").status_code == 429
    assert attempt(Client(), "alice", PASSWORD, ip="10.0.0.6").status_code == 302
    stored = set(AccessAttempt.objects.values_list("username", flat=True))
    assert {"a" * 150, "b" * 100} <= stored and max(map(len, stored)) == 150
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN_FAILED, username="a" * 150).exists()
