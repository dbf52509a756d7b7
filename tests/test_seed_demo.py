"""`manage.py seed_demo`: the February 2024 Viamedis / Almerys demo, idempotent and fully audited."""

from __future__ import annotations

import hashlib
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from cases import demo, history
from cases.deadlines import Status
from cases.models import (
    BreachCase,
    Evidence,
    MemberCommunication,
    Membership,
    Obligation,
    Organization,
    ProcessingRelationship,
    ReceivedNotice,
)


@pytest.fixture
def seed_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    # The demo users' Argon2 hashes dominate the run time; the hasher is not what is tested here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings


def run_seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def test_seed_demo_creates_the_incident(db, seed_settings):
    output = run_seed()

    codes = set(Organization.objects.values_list("code", flat=True))
    assert {"viamedis", "almerys", "crc", "lmg", "vyv", "malakoff", "ag2r", "aesio", "macif", "interiale"} <= codes
    viamedis = Organization.objects.get(code="viamedis")
    assert viamedis.is_processor and viamedis.is_controller and viamedis.has_cyber_insurance
    assert len(viamedis.siren) == 9

    operator_case = BreachCase.objects.get(organization=viamedis, title=demo.VIAMEDIS_TITLE)
    assert operator_case.controller_notices.count() >= 30
    assert operator_case.severity_level == BreachCase.SeverityLevel.HIGH
    assert operator_case.status == BreachCase.Status.CONTAINED
    assert operator_case.events.filter(kind="recovery", occurred_at=demo.paris(2024, 2, 12, 8, 0)).exists()
    rules = set(operator_case.obligations.values_list("rule_code", flat=True))
    assert {"GDPR_33_1", "GDPR_33_4", "GDPR_33_2", "NIS1_OSE", "COMPLAINT_INSURANCE"} <= rules
    assert operator_case.filings.filter(kind="complaint").exclude(reference="").exists()
    # The CNIL initial notification as sent: drafted in the form's structure, approved by the legal member.
    cnil = operator_case.submissions.get(kind="cnil_initial")
    assert cnil.state == "sent" and cnil.approved_by.username == "viamedis.juriste" and len(cnil.content_sha256) == 64
    assert cnil.author.username == "viamedis.dpo" and cnil.filing.obligation.rule_code == "GDPR_33_1"
    assert cnil.content["filing"]["filing_type"] == "Notification initiale" and cnil.receipt is not None
    almerys_case = BreachCase.objects.get(organization__code="almerys", title=demo.ALMERYS_TITLE)
    assert almerys_case.controller_notices.count() >= 15
    assert almerys_case.obligations.filter(rule_code="NIS1_OSE", state=Obligation.State.DONE).exists()

    # Relationships: the clients on the platform accepted the invitation, the others are external.
    viamedis_rels = ProcessingRelationship.objects.filter(processor=viamedis)
    assert viamedis_rels.filter(on_platform=True, controller__code__in=["crc", "lmg", "vyv"]).count() == 3
    assert viamedis_rels.filter(on_platform=False).count() >= 25
    assert all(rel.is_active for rel in viamedis_rels)
    # Informing opened nothing in the external clients' registers; VYV's notice waits in its inbox.
    assert not BreachCase.objects.filter(organization__code__in=["malakoff", "ag2r", "macif"]).exists()
    waiting = ReceivedNotice.objects.get(controller__code="vyv")
    assert waiting.decision == ReceivedNotice.Decision.RECEIVED
    # Each notice sent keeps the Art. 33(2) PDF as sent, with its SHA-256; the inbox holds the same.
    informed = operator_case.controller_notices.filter(informed_at__isnull=False)
    assert informed.exists() and not informed.filter(notice_sha256="").exists()
    assert waiting.pdf_sha256 == waiting.notice.notice_sha256
    assert hashlib.sha256(waiting.notice.notice_pdf.read()).hexdigest() == waiting.pdf_sha256
    assert "article 33, paragraphe 2" in waiting.content
    assert not BreachCase.objects.filter(organization__code="vyv").exists()

    # Controller cases opened from the processor's notice by their own DPO: aware when informed.
    for code in ("crc", "lmg"):
        case = BreachCase.objects.filter(organization__code=code, source_notice__isnull=False).first()
        assert case is not None
        assert case.aware_at == case.source_notice.informed_at
        assert case.communications.exclude(text="").exists()
        assert case.filings.filter(kind="cnil_initial").exists()
    assert MemberCommunication.objects.filter(channel=MemberCommunication.Channel.PORTAL).exists()

    # Evidence files are stored under MEDIA_ROOT; PDFs are PDFs.
    evidence = list(Evidence.objects.all())
    assert any(e.content_type == "application/pdf" for e in evidence)
    assert any(e.content_type == "text/plain" for e in evidence)
    for item in evidence:
        path = Path(item.file.path)
        assert path.is_relative_to(seed_settings.MEDIA_ROOT) and path.stat().st_size == item.size
        if item.content_type == "application/pdf":
            assert path.read_bytes().startswith(b"%PDF-1.4")

    # Demo users: every role, a superuser, the printed logins work.
    User = get_user_model()
    roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == set(Membership.Role.values)
    assert User.objects.get(username="admin").is_superuser
    for spec in demo.USERS:
        assert User.objects.get(username=spec.username).check_password(spec.password)
        assert len(spec.password) >= 12
        assert spec.username in output and spec.password in output
    assert "http://127.0.0.1:8000/admin/" in output


def test_a_demo_user_logs_in_with_the_printed_totp_secret(db, seed_settings, client):
    import base64

    from django.urls import reverse
    from django_otp.oath import totp

    output = run_seed()
    spec = next(s for s in demo.USERS if s.username == "crc.dpo")
    secret = next(line.split()[2] for line in output.splitlines() if line.strip().startswith("crc.dpo "))
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    response = client.post(reverse("accounts:login"), {"username": spec.username, "password": spec.password})
    assert response["Location"].startswith(reverse("accounts:verify"))
    response = client.post(reverse("accounts:verify"), {"token": f"{totp(key):06d}"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    out = StringIO()
    call_command("demo_totp", "crc.dpo", stdout=out)
    assert out.getvalue().strip().isdigit()


def test_seed_demo_has_every_kind_of_obligation_status(db, seed_settings):
    run_seed()
    now = timezone.now()
    obligations = list(Obligation.objects.all())
    statuses = {ob.status(now) for ob in obligations}
    assert {Status.DONE_ON_TIME, Status.DONE_LATE, Status.NOT_APPLICABLE, Status.OVERDUE, Status.RUNNING} <= statuses
    assert all(ob.late_reason for ob in obligations if ob.status(now) == Status.DONE_LATE)
    assert all(ob.not_applicable_reason for ob in obligations if ob.state == Obligation.State.NOT_APPLICABLE), (
        "a not-applicable decision always carries its reason"
    )
    assert any(ob.decided_by_id for ob in obligations if ob.state == Obligation.State.NOT_APPLICABLE)

    # The recent case's clocks run relative to now: one running, one due within 24 h, one overdue.
    recent = BreachCase.objects.get(organization__code="crc", title=demo.RECENT_TITLE)
    by_rule = {ob.rule_code: ob.status(now) for ob in recent.obligations.filter(controller_notice__isnull=True)}
    assert by_rule["GDPR_33_1"] == Status.RUNNING
    assert by_rule["COMPLAINT_INSURANCE"] == Status.DUE_SOON
    assert by_rule["GDPR_34"] == Status.OVERDUE

    # Processor notices: most on time, some late with reasons, some not sent yet.
    notices = Obligation.objects.filter(rule_code="GDPR_33_2", case__organization__code="viamedis")
    notice_statuses = [ob.status(now) for ob in notices]
    assert notice_statuses.count(Status.DONE_ON_TIME) > len(notice_statuses) / 2
    assert Status.DONE_LATE in notice_statuses and Status.OVERDUE in notice_statuses


def test_seed_demo_is_idempotent_and_its_history_verifies(db, seed_settings):
    first = run_seed()
    counts = row_counts()
    files = sorted(p.name for p in Path(seed_settings.MEDIA_ROOT).rglob("*") if p.is_file())

    second = run_seed()

    assert row_counts() == counts
    assert sorted(p.name for p in Path(seed_settings.MEDIA_ROOT).rglob("*") if p.is_file()) == files
    assert "Demo loaded" in first
    assert "nothing changed" in second and "viamedis.dpo" in second
    results = history.verify_all()
    assert results and all(result.ok for result in results), [r.error for r in results if not r.ok]


def test_seed_demo_fills_in_what_is_missing(db, seed_settings, make_org):
    # An organisation that already exists under a demo code is kept as it is.
    existing = make_org(name="Groupe VYV", code="vyv")
    run_seed()
    assert Organization.objects.get(code="vyv").pk == existing.pk
    assert BreachCase.objects.filter(title=demo.VIAMEDIS_TITLE).count() == 1


def test_seed_demo_failure_leaves_nothing_half_seeded(db, seed_settings, monkeypatch):
    def boom(self):
        raise RuntimeError("injected failure")

    monkeypatch.setattr(demo.DemoBuilder, "build_recent_case", boom)
    with pytest.raises(RuntimeError, match="injected failure"):
        run_seed()
    assert not Organization.objects.exists()
    assert not BreachCase.objects.exists()
    assert not get_user_model().objects.exists()
