"""Second factor: TOTP enrolment (QR code), verification and single-use backup codes (django-otp)."""

from __future__ import annotations

import base64
import hashlib
import secrets

import qrcode
import qrcode.image.svg
from django.db import transaction
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .lockout import forget_failures
from .models import UserSession

BACKUP_CODE_COUNT = 10
TOTP_DIGITS = 6
DEMO_DEVICE_NAME = "demo authenticator"
TOTP_DEVICE_NAME = "authenticator"
BACKUP_DEVICE_NAME = "backup codes"


def has_second_factor(user) -> bool:
    return user_has_device(user, confirmed=True)


def pending_totp_device(user) -> TOTPDevice:
    """The unconfirmed authenticator being enrolled, created on first use."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def base32_secret(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG (no script, no external request)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")


@transaction.atomic
def confirm_enrolment(request, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the authenticator with a first code; returns fresh backup codes, or None if the code is wrong."""
    if not device.verify_token(token.strip().replace(" ", "")):
        return None
    device.confirmed = True
    device.save()
    second_factor_verified(request, device)
    return regenerate_backup_codes(request.user)


@transaction.atomic
def regenerate_backup_codes(user) -> list[str]:
    """Replace the user's backup codes; each works once. Shown once, stored as given by django-otp."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [f"{secrets.randbelow(10**8):08d}" for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def authenticator_throttled(user, token: str) -> bool:
    """Whether `token` is an authenticator code that django-otp's throttling would refuse right now.

    Backup codes (8 digits) are never throttled: only the authenticator waits after a failure.
    """
    if len(token.strip().replace(" ", "")) != TOTP_DIGITS:
        return False
    return any(not d.verify_is_allowed()[0] for d in TOTPDevice.objects.filter(user=user, confirmed=True))


def verify(request, token: str):
    """Check a TOTP or backup code for the logged-in user; on success the session is verified."""
    device = match_token(request.user, token.strip().replace(" ", ""))
    if device is not None:
        second_factor_verified(request, device)
    return device


def second_factor_verified(request, device) -> None:
    """The login is complete: mark the session verified under a new key, and forget past failures.

    A new session key at this step means a key seen before the second factor (on a shared
    machine, in a log) is worth nothing afterwards. The user's session list follows the new key,
    so "log out everywhere" still ends this session.
    """
    otp_login(request, device)
    old_key = request.session.session_key
    request.session.cycle_key()
    UserSession.objects.filter(session_key=old_key).update(session_key=request.session.session_key)
    forget_failures(request, request.user)


def _demo_key_hex(username: str) -> str:
    return hashlib.sha1(f"breach-register demo TOTP {username}".encode()).hexdigest()  # noqa: S324 - demo key


def demo_secret_base32(username: str) -> str:
    return base64.b32encode(bytes.fromhex(_demo_key_hex(username))).decode().rstrip("=")


def ensure_demo_device(user) -> TOTPDevice:
    """A confirmed authenticator with a published secret, for the demo accounts only."""
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name=DEMO_DEVICE_NAME, defaults={"key": _demo_key_hex(user.get_username()), "confirmed": True}
    )
    return device


def current_demo_code(user) -> str | None:
    """The current code of a demo account's authenticator; None for any other account."""
    device = TOTPDevice.objects.filter(user=user, name=DEMO_DEVICE_NAME, confirmed=True).first()
    if device is None:
        return None
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"
