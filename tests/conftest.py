"""Shared fixtures: organisations, users with roles, and a case opened through the services."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from hypothesis import HealthCheck, settings

from cases import services
from cases.deadlines import PARIS
from cases.models import Membership, Organization
from tests.pg_race import race_database  # noqa: F401 - a fixture: a committed PostgreSQL copy for multi-process tests
from tests.processes import app_database  # noqa: F401 - a fixture: the database application processes share

# Property tests: no per-example time limit and no "too slow" health check, which a loaded 2-core
# CI machine trips on database-backed examples; the properties themselves are unchanged.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")


def paris(*args) -> datetime:
    """An aware datetime from Europe/Paris wall-clock fields."""
    return datetime(*args, tzinfo=PARIS)


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    """A zip archive with fixed timestamps: the same bytes every run (test ids stay stable across workers)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 2, 1, 0, 0, 0)), data)
    return buffer.getvalue()


@pytest.fixture
def make_org(db):
    counter = iter(range(1, 10_000))

    def make(**fields) -> Organization:
        n = next(counter)
        fields.setdefault("name", f"Organisation {n}")
        fields.setdefault("code", f"org{n}")
        org = Organization(**fields)
        with transaction.atomic():
            org.save()
        return org

    return make


@pytest.fixture
def make_user(db):
    counter = iter(range(1, 10_000))

    def make(org: Organization | None = None, role: str = Membership.Role.DPO, username: str | None = None):
        user = get_user_model().objects.create_user(username or f"user{next(counter)}", password="x" * 16)
        if org is not None:
            services.membership_grant(user=user, organization=org, role=role, acting_user=None)
        return user

    return make


@pytest.fixture
def make_relationship(make_user):
    """A processor's relationship, through the services: external (no `controller`), or with an
    on-platform controller whose administrator accepted the invitation code."""

    def make(processor: Organization, controller: Organization | None = None, **extra):
        extra.setdefault("controller_name", controller.name if controller is not None else "Responsable externe")
        extra.setdefault("on_platform", controller is not None)
        relationship = services.relationship_create(
            processor=processor,
            acting_user=make_user(processor, Membership.Role.ADMIN),
            **extra,
        )
        if controller is not None:
            relationship = services.relationship_accept(
                organization=controller,
                code=relationship.invitation_code,
                acting_user=make_user(controller, Membership.Role.ADMIN),
            )
        return relationship

    return make


@pytest.fixture
def org(make_org):
    return make_org(name="Mutuelle Exemple", code="mutex", kind=Organization.Kind.CONTROLLER)


@pytest.fixture
def dpo(org, make_user):
    return make_user(org, Membership.Role.DPO, "dpo")


@pytest.fixture
def open_case(org, dpo):
    def make(**facts):
        facts.setdefault("title", "Accès frauduleux au portail")
        facts.setdefault("first_signal_at", paris(2024, 2, 1, 9, 0))
        facts.setdefault("aware_at", paris(2024, 2, 1, 18, 0))
        facts.setdefault("aware_justification", "Logs confirm data were read.")
        organization = facts.pop("organization", org)
        user = facts.pop("acting_user", dpo)
        return services.case_open(organization=organization, acting_user=user, **facts)

    return make


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the product's default language (French), as a fresh request does."""
    from django.conf import settings as django_settings
    from django.utils import translation

    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 is the production hasher (tested in test_accounts_security); tests hash fast."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _checkpoint_signing_key(settings, tmp_path_factory):
    """Checkpoints are signed with a key made for the test session, never one in the repository's var/."""
    settings.HISTORY_CHECKPOINT_KEY_FILE = str(tmp_path_factory.getbasetemp() / "history-checkpoint-key.pem")
    settings.HISTORY_CHECKPOINT_KEY_CREATE = True
    settings.HISTORY_CHECKPOINT_RETIRED_KEYS = []
    settings.HISTORY_TSA_URL = ""


@pytest.fixture
def login(client):
    """Log a user in with a verified second factor (as after the TOTP step)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_static.models import StaticDevice

    def log_in(user, http_client=None):
        http_client = http_client or client
        device, _ = StaticDevice.objects.get_or_create(user=user, name="test device", defaults={"confirmed": True})
        http_client.force_login(user)
        session = http_client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return http_client

    return log_in
