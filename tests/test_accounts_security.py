"""Brute-force lockout, the security log, session and password policy, security headers, check --deploy."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice

from accounts.models import SecurityEvent
from cases.models import Membership

PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def alice(org, make_user):
    user = make_user(org, Membership.Role.DPO, "alice")
    user.set_password(PASSWORD)
    user.save()
    return user


def attempt(client, username, password, ip="10.0.0.1"):
    return client.post(reverse("accounts:login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_account_locked_after_repeated_password_failures_even_with_the_right_password(client, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "alice", "wrong").status_code == 200
    locked = attempt(client, "alice", "wrong")
    assert locked.status_code == 429
    assert "Trop de tentatives infructueuses" in locked.content.decode()
    # From another address, with the right password: the account stays locked.
    assert attempt(Client(), "alice", PASSWORD, ip="10.0.0.99").status_code == 429
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOCKED_OUT, username="alice").exists()
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN_FAILED, username="alice").count() >= 4


def test_address_locked_after_failures_across_accounts(client, alice, make_user, org):
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, f"nobody{n}", "wrong", ip="10.0.0.7")
    assert attempt(client, "alice", PASSWORD, ip="10.0.0.7").status_code == 429
    assert attempt(Client(), "alice", PASSWORD, ip="10.0.0.8").status_code == 302


def test_second_factor_failures_lock_the_account_too(client, alice):
    StaticDevice.objects.create(user=alice, name="backup codes", confirmed=True).token_set.create(token="12345678")
    assert attempt(client, "alice", PASSWORD)["Location"].startswith(reverse("accounts:verify"))
    statuses = [
        client.post(reverse("accounts:verify"), {"token": "00000000"}, REMOTE_ADDR="10.0.0.1").status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert statuses[-1] == 429 and set(statuses[:-1]) == {200}
    # The session was ended; the right code no longer helps, the password neither.
    assert client.get("/")["Location"].startswith(reverse("accounts:login"))
    assert attempt(Client(), "alice", PASSWORD).status_code == 429
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.OTP_FAILED, username="alice").exists()


def test_an_organisation_admin_unlocks_a_member_and_sees_the_security_log(client, alice, org, make_user, login):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(Client(), "alice", "wrong")
    admin = make_user(org, Membership.Role.ADMIN, "orgadmin")
    admin_client = login(admin, Client())
    log = admin_client.get(reverse("accounts:security_log"))
    assert log.status_code == 200
    assert "alice" in log.content.decode()
    assert admin_client.post(reverse("accounts:unlock"), {"username": "alice"}).status_code == 302
    assert attempt(Client(), "alice", PASSWORD).status_code == 302
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.UNLOCKED, user=admin).exists()


def test_security_log_is_for_admins_of_the_organisation_only(client, alice, org, make_org, make_user, login):
    attempt(Client(), "alice", "wrong")
    other_org = make_org(name="Autre", code="autre")
    outsider_admin = make_user(other_org, Membership.Role.ADMIN, "outsider")
    page = login(outsider_admin, Client()).get(reverse("accounts:security_log"))
    assert page.status_code == 200 and "alice" not in page.content.decode()
    assert login(outsider_admin, Client()).post(reverse("accounts:unlock"), {"username": "alice"}).status_code == 404
    auditor = make_user(org, Membership.Role.AUDITOR, "auditor")
    assert login(auditor, Client()).get(reverse("accounts:security_log")).status_code == 404


def test_security_log_is_append_only(alice):
    event = SecurityEvent.objects.create(kind=SecurityEvent.Kind.LOGIN, user=alice)
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()
    from django.db import DatabaseError, connection, transaction

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_securityevent SET detail = 'x'")


def test_passwords_are_hashed_with_argon2_and_validated():
    from compliance import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    names = {v["NAME"].rsplit(".", 1)[1] for v in project_settings.AUTH_PASSWORD_VALIDATORS}
    assert {"MinimumLengthValidator", "CommonPasswordValidator", "NumericPasswordValidator"} <= names


def test_sessions_expire_after_eight_hours_and_on_browser_close():
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_COOKIE_HTTPONLY is True


def test_security_headers_on_every_page(client, db):
    response = client.get(reverse("accounts:login"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_templates_have_no_inline_script_or_style():
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        assert "<script>" not in text and "<style" not in text and " style=" not in text, template


def test_production_settings_pass_check_deploy_with_no_warning(tmp_path):
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "x7!" + "k" * 60 + "Zq9#pL2@",
        "DJANGO_ALLOWED_HOSTS": "breaches.example.org",
        "HISTORY_CHAIN_KEY": "k" * 48,
        "SQLITE_PATH": str(tmp_path / "deploy.sqlite3"),
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
