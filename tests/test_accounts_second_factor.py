"""Every account needs a second factor: TOTP enrolment by QR code, verification, backup codes."""

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import SecurityEvent
from cases.models import Membership

PASSWORD = "correct horse battery"


@pytest.fixture
def member(org, make_user):
    user = make_user(org, Membership.Role.DPO, "alice")
    user.set_password(PASSWORD)
    user.save()
    return user


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def password_step(client, username="alice", password=PASSWORD):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_anonymous_users_are_sent_to_the_login_page_everywhere_admin_included(client, db):
    for url in ["/", "/admin/", "/admin/cases/breachcase/", reverse("accounts:security_log")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_password_alone_reaches_only_the_enrolment_page(client, member):
    response = password_step(client)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:enrol"))
    for url in ["/", "/admin/", reverse("accounts:security_log"), reverse("accounts:backup_codes")]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("accounts:enrol"), url
    assert client.get(reverse("accounts:enrol")).status_code == 200


def test_enrolment_by_qr_code_then_backup_codes_shown_once(client, member):
    password_step(client)
    page = client.get(reverse("accounts:enrol"))
    assert "<svg" in page.content.decode() and page.context["secret"]
    device = TOTPDevice.objects.get(user=member, confirmed=False)

    wrong = client.post(
        reverse("accounts:enrol"), {"token": "000000" if current_code(device) != "000000" else "111111"}
    )
    assert wrong.status_code == 200 and "pas valide" in wrong.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    throttled = client.post(reverse("accounts:enrol"), {"token": current_code(device)})
    assert "Trop de tentatives" in throttled.content.decode()  # django-otp's throttling after a failure
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)

    done = client.post(reverse("accounts:enrol"), {"token": current_code(device)})
    assert done.status_code == 302 and done["Location"].startswith(reverse("accounts:backup_codes"))
    codes = client.get(done["Location"]).context["codes"]
    assert len(codes) == 10 and all(len(c) == 8 for c in codes)
    assert client.get(reverse("accounts:backup_codes")).context["codes"] is None  # shown once
    assert client.get("/").status_code == 200
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.OTP_ENROLLED, user=member).exists()


def enrolled(client, member) -> tuple[TOTPDevice, list[str]]:
    password_step(client)
    client.get(reverse("accounts:enrol"))
    device = TOTPDevice.objects.get(user=member, confirmed=False)
    client.post(reverse("accounts:enrol"), {"token": current_code(device)})
    codes = client.get(reverse("accounts:backup_codes")).context["codes"]
    client.post(reverse("accounts:logout"))
    device.refresh_from_db()
    return device, codes


def test_an_enrolled_account_must_give_a_code_at_every_login(client, member):
    device, _ = enrolled(client, member)
    response = password_step(client)
    assert response["Location"].startswith(reverse("accounts:verify"))
    assert client.get("/admin/")["Location"] == reverse("accounts:verify")
    # The enrolment page cannot be used to add a second authenticator.
    assert client.get(reverse("accounts:enrol"))["Location"] == reverse("accounts:verify")
    device.refresh_from_db()
    device.last_t = -1  # allow the code already used at enrolment time step
    device.save()
    ok = client.post(reverse("accounts:verify"), {"token": current_code(device)})
    assert ok.status_code == 302
    assert client.get("/").status_code == 200


def test_a_backup_code_works_once(client, member):
    _, codes = enrolled(client, member)
    password_step(client)
    assert client.post(reverse("accounts:verify"), {"token": codes[0]}).status_code == 302
    assert client.get("/").status_code == 200
    client.post(reverse("accounts:logout"))
    password_step(client)
    again = client.post(reverse("accounts:verify"), {"token": codes[0]})
    assert again.status_code == 200 and "pas valide" in again.content.decode()
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.BACKUP_CODE_USED, user=member).count() == 1


def test_logout_is_post_only_and_ends_the_session(client, member, login):
    login(member)
    assert client.get(reverse("accounts:logout")).status_code == 405
    client.post(reverse("accounts:logout"))
    assert client.get("/")["Location"].startswith(reverse("accounts:login"))


def test_logout_everywhere_ends_every_session_of_the_user(member, django_user_model):
    from django.test import Client

    from accounts.models import UserSession

    phone, laptop = Client(), Client()
    for browser in (phone, laptop):
        browser.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    assert UserSession.objects.filter(user=member).count() == 2
    phone.get(reverse("accounts:enrol"))
    # Enrol on the phone so it may use the page; the laptop stays at the password step.
    device = TOTPDevice.objects.get(user=member, confirmed=False)
    phone.post(reverse("accounts:enrol"), {"token": current_code(device)})
    phone.post(reverse("accounts:logout_everywhere"))
    assert UserSession.objects.filter(user=member).count() == 0
    for browser in (phone, laptop):
        assert browser.get(reverse("accounts:enrol"))["Location"].startswith(reverse("accounts:login"))


def test_a_code_sent_while_throttled_says_to_wait(client, member):
    device, _ = enrolled(client, member)
    password_step(client)
    client.post(reverse("accounts:verify"), {"token": "000000" if current_code(device) != "000000" else "111111"})
    response = client.post(reverse("accounts:verify"), {"token": current_code(device)})
    assert "Trop de tentatives" in response.content.decode()
