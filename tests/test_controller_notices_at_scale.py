"""Issue 9, item 3: a processor informs all (or some) of its controllers in one action, each with the exact
Art. 33(2) notice sent (a French PDF, kept with its SHA-256), per-contract deadlines and progress;
the dossiers of both sides show it."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from cases import services
from cases.history import verify_chain
from cases.models import (
    BreachCase,
    ControllerNotice,
    Membership,
    Obligation,
    Organization,
    ReceivedNotice,
)
from tests.conftest import paris
from webhooks import services as webhook_services
from webhooks.models import EventType, WebhookDelivery, WebhookEvent

# Measured: 22 on SQLite for 5 as for 80 controllers (one executemany per table, not one insert per row).
INFORM_MANY_QUERIES = 30  # with the webhook events of both sides (3 + 3 queries)

AWARE = paris(2024, 2, 1, 18, 0)
INFORMED = AWARE + timedelta(hours=6)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def operator(make_org):
    return make_org(
        name="Tiers-payant Opérateur",
        code="tpo",
        kind=Organization.Kind.PROCESSOR,
        siren="123456789",
        dpo_name="Claire Martin",
        dpo_email="dpo@tpo.example",
        dpo_phone="01 02 03 04 05",
    )


@pytest.fixture
def operator_dpo(operator, make_user):
    return make_user(operator, Membership.Role.DPO, "operator-dpo")


@pytest.fixture
def operator_admin(operator, make_user):
    return make_user(operator, Membership.Role.ADMIN, "operator-admin")


def open_processor_case(operator, user, title="Portail professionnels de santé"):
    return services.case_open(
        organization=operator,
        title=title,
        first_signal_at=paris(2024, 2, 1, 9, 0),
        aware_at=AWARE,
        aware_justification="Identifiants de praticiens volés confirmés.",
        description="Connexions frauduleuses au portail des professionnels de santé.",
        data_categories=["identity", "nir", "insurance"],
        subject_categories=["members"],
        persons_approx=33_000_000,
        likely_consequences="Hameçonnage ciblé des assurés.",
        measures_immediate="Comptes compromis désactivés, double authentification imposée.",
        acting_user=user,
    )


@pytest.fixture
def processor_case(operator, operator_dpo):
    return open_processor_case(operator, operator_dpo)


@pytest.fixture
def insurer(make_org):
    return make_org(name="Mutuelle Sur Plateforme", code="msp", kind=Organization.Kind.CONTROLLER)


@pytest.fixture
def insurer_dpo(insurer, make_user):
    return make_user(insurer, Membership.Role.DPO, "insurer-dpo")


@pytest.fixture
def insurer_admin(insurer, make_user):
    return make_user(insurer, Membership.Role.ADMIN, "insurer-admin")


@pytest.fixture
def on_platform(operator, operator_admin, insurer, insurer_admin):
    rel = services.relationship_create(
        processor=operator,
        controller_name=insurer.name,
        on_platform=True,
        contacts=[{"name": "Paul Durand", "email": "dpo@msp.example", "role": "DPO"}],
        notice_period_hours=24,
        contract_reference="CTR-MSP-2023",
        acting_user=operator_admin,
    )
    return services.relationship_accept(organization=insurer, code=rel.invitation_code, acting_user=insurer_admin)


def externals(operator, admin, n, *, start=0, hours=48):
    return [
        services.relationship_create(
            processor=operator,
            controller_name=f"Assureur externe {i:03d}",
            controller_siren=f"{900000000 + i}",
            contacts=[{"name": f"DPO {i}", "email": f"dpo{i}@assureur{i}.example", "role": "DPO"}],
            notice_period_hours=hours,
            contract_reference=f"CTR-{i:03d}",
            acting_user=admin,
        )
        for i in range(start, start + n)
    ]


def listed(case, user):
    services.controller_add_all(case, acting_user=user)
    return list(case.controller_notices.order_by("pk").values_list("pk", flat=True))


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


# --- the service ------------------------------------------------------------------------------------


def test_informing_many_records_each_notice_with_its_pdf_and_hash(
    processor_case, operator, operator_admin, operator_dpo, on_platform, insurer
):
    externals(operator, operator_admin, 3)
    ids = listed(processor_case, operator_dpo)
    result = services.controllers_inform_many(
        processor_case, notice_ids=ids, informed_at=INFORMED, channel="e-mail", acting_user=operator_dpo
    )
    assert len(result.informed) == 4 and not result.skipped
    for notice in ControllerNotice.objects.filter(pk__in=ids).select_related("relationship"):
        assert notice.informed_at == INFORMED and notice.channel == "e-mail" and notice.informed_by == operator_dpo
        assert notice.recipients == notice.relationship.contacts
        data = notice.notice_pdf.read()
        assert data.startswith(b"%PDF") and hashlib.sha256(data).hexdigest() == notice.notice_sha256
        ob = Obligation.objects.get(controller_notice=notice)
        assert ob.state == Obligation.State.DONE and ob.completed_at == INFORMED
    received = ReceivedNotice.objects.get()
    notice = received.notice
    assert received.controller == insurer and received.pdf_sha256 == notice.notice_sha256
    assert "article 33, paragraphe 2" in received.content and "CTR-MSP-2023" in received.content
    # Receiving starts no clock: no case in the controller's register.
    assert not BreachCase.objects.filter(organization=insurer).exists()


def test_the_pdf_is_the_french_art_33_2_notice_with_what_the_controller_needs(
    processor_case, operator_dpo, on_platform
):
    [notice_id] = listed(processor_case, operator_dpo)
    services.controllers_inform_many(
        processor_case, notice_ids=[notice_id], informed_at=INFORMED, channel="e-mail", acting_user=operator_dpo
    )
    notice = ControllerNotice.objects.get(pk=notice_id)
    text = " ".join(pdf_text(notice.notice_pdf.read()).split())
    for expected in (
        "article 33, paragraphe 2",
        "Mutuelle Sur Plateforme",
        "Paul Durand",
        "dpo@msp.example",
        "CTR-MSP-2023",
        "24 heures",
        "02/02/2024 à 18:00",  # the per-contract due date: awareness + 24 h
        "01/02/2024 à 18:00",  # when the processor became aware
        "Nature de la violation",
        "Personnes et données concernées",
        "33 000 000",
        "Conséquences probables",
        "Hameçonnage ciblé",
        "Mesures prises ou proposées",
        "double authentification",
        "Claire Martin",
        "dpo@tpo.example",
        "Restent à déterminer",
        "enregistrements concernés",
        "article 33, paragraphe 3",
    ):
        assert expected in text, expected


def test_already_informed_controllers_are_skipped_and_said_so(processor_case, operator, operator_admin, operator_dpo):
    externals(operator, operator_admin, 3)
    ids = listed(processor_case, operator_dpo)
    services.controllers_inform_many(processor_case, notice_ids=ids[:1], informed_at=INFORMED, acting_user=operator_dpo)
    first = ControllerNotice.objects.get(pk=ids[0])
    result = services.controllers_inform_many(
        processor_case, notice_ids=ids, informed_at=INFORMED + timedelta(hours=1), acting_user=operator_dpo
    )
    assert [n.pk for n in result.skipped] == [ids[0]] and len(result.informed) == 2
    again = ControllerNotice.objects.get(pk=ids[0])
    assert (again.informed_at, again.notice_sha256, again.version) == (
        first.informed_at,
        first.notice_sha256,
        first.version,
    )
    with pytest.raises(ValidationError) as exc:
        services.controllers_inform_many(processor_case, notice_ids=ids, informed_at=INFORMED, acting_user=operator_dpo)
    assert "notices" in exc.value.message_dict


def test_another_organisations_notice_is_refused_and_nothing_is_written(
    processor_case, operator, operator_admin, operator_dpo, make_org, make_user
):
    externals(operator, operator_admin, 2)
    ids = listed(processor_case, operator_dpo)
    other = make_org(name="Autre sous-traitant", code="other", kind=Organization.Kind.PROCESSOR)
    other_admin = make_user(other, Membership.Role.ADMIN, "other-admin")
    externals(other, other_admin, 1, start=500)
    other_case = open_processor_case(other, other_admin, "Autre incident")
    [foreign] = listed(other_case, other_admin)
    history = ControllerNotice.history.count()
    for bad in ([*ids, foreign], [foreign], [], ["1"], [True], None):
        with pytest.raises(ValidationError) as exc:
            services.controllers_inform_many(
                processor_case, notice_ids=bad, informed_at=INFORMED, acting_user=operator_dpo
            )
        assert "notices" in exc.value.message_dict
    assert not ControllerNotice.objects.filter(informed_at__isnull=False).exists()
    assert ControllerNotice.history.count() == history
    assert not ReceivedNotice.objects.exists()


def test_a_closed_case_is_refused(processor_case, operator, operator_admin, operator_dpo):
    externals(operator, operator_admin, 1)
    ids = listed(processor_case, operator_dpo)
    case = BreachCase.objects.get(pk=processor_case.pk)
    # The services refuse to close a case with pending notices; this guards data written otherwise.
    with transaction.atomic():
        case.status = BreachCase.Status.CLOSED
        case.save()
    with pytest.raises(ValidationError):
        services.controllers_inform_many(case, notice_ids=ids, informed_at=INFORMED, acting_user=operator_dpo)
    assert not ControllerNotice.objects.filter(informed_at__isnull=False).exists()


def test_a_late_notice_needs_the_reasons_for_the_delay(processor_case, operator, operator_admin, operator_dpo):
    externals(operator, operator_admin, 2, hours=4)
    externals(operator, operator_admin, 1, start=10, hours=72)
    ids = listed(processor_case, operator_dpo)
    with pytest.raises(ValidationError) as exc:
        services.controllers_inform_many(processor_case, notice_ids=ids, informed_at=INFORMED, acting_user=operator_dpo)
    assert "2 controllers" in str(exc.value) or "2 responsables" in str(exc.value)
    assert not ControllerNotice.objects.filter(informed_at__isnull=False).exists()
    services.controllers_inform_many(
        processor_case, notice_ids=ids, informed_at=INFORMED, late_reason="Week-end.", acting_user=operator_dpo
    )
    reasons = dict(
        Obligation.objects.filter(controller_notice__in=ids).values_list("controller_notice_id", "late_reason")
    )
    assert sorted(reasons.values()) == ["", "Week-end.", "Week-end."]


def test_a_reader_cannot_inform(processor_case, operator, operator_admin, operator_dpo, make_user):
    from django.core.exceptions import PermissionDenied

    externals(operator, operator_admin, 1)
    ids = listed(processor_case, operator_dpo)
    auditor = make_user(operator, Membership.Role.AUDITOR, "auditor")
    with pytest.raises(PermissionDenied):
        services.controllers_inform_many(processor_case, notice_ids=ids, informed_at=INFORMED, acting_user=auditor)


def test_each_notice_has_its_history_row_and_the_chains_still_verify(
    processor_case, operator, operator_admin, operator_dpo, on_platform
):
    externals(operator, operator_admin, 3)
    ids = listed(processor_case, operator_dpo)
    services.controllers_inform_many(
        processor_case, notice_ids=ids, informed_at=INFORMED, channel="e-mail", acting_user=operator_dpo
    )
    for notice in ControllerNotice.objects.filter(pk__in=ids):
        last = notice.history.order_by("-history_id").first()
        assert last.history_type == "~" and last.informed_at == INFORMED and last.history_user == operator_dpo
        assert last.notice_sha256 == notice.notice_sha256
        assert notice.version == notice.history.count()
    received = ReceivedNotice.objects.get()
    assert received.history.get().history_type == "+"
    for key in (f"case:{processor_case.pk}", f"rel:{on_platform.pk}"):
        assert verify_chain(key).ok, key


def test_eighty_controllers_cost_the_same_queries_as_five(
    operator, operator_admin, operator_dpo, make_org, make_user, django_assert_max_num_queries
):
    # A mix as in the seed incident: external insurers and insurers on the platform (their inbox).
    # Every organisation listens to its webhooks: the events cost no query per controller either.
    every_event = [t.value for t in EventType]
    webhook_services.endpoint_create(
        organization=operator, url="https://siem.example/hook", events=every_event, acting_user=operator_admin
    )
    for n in range(4):
        org = make_org(name=f"Mutuelle {n}", code=f"mut{n}", kind=Organization.Kind.CONTROLLER)
        admin = make_user(org, Membership.Role.ADMIN, f"mut{n}-admin")
        webhook_services.endpoint_create(
            organization=org, url=f"https://mut{n}.example/hook", events=every_event, acting_user=admin
        )
        rel = services.relationship_create(
            processor=operator, controller_name=org.name, on_platform=True, acting_user=operator_admin
        )
        services.relationship_accept(organization=org, code=rel.invitation_code, acting_user=admin)
    externals(operator, operator_admin, 76)
    small = open_processor_case(operator, operator_dpo, "Petit incident")
    large = open_processor_case(operator, operator_dpo, "Grand incident")
    small_ids = listed(small, operator_dpo)[:5]
    large_ids = listed(large, operator_dpo)
    assert len(large_ids) == 80
    # The 4 on-platform controllers in both selections: each lands in an inbox in both.
    on_platform_small = list(small.controller_notices.filter(controller__isnull=False).values_list("pk", flat=True))
    small_ids = [*on_platform_small, *[i for i in small_ids if i not in on_platform_small]][:5]
    counts = []
    for case, ids in ((small, small_ids), (large, large_ids)):
        with django_assert_max_num_queries(INFORM_MANY_QUERIES), CaptureQueriesContext(connection) as queries:
            services.controllers_inform_many(case, notice_ids=ids, informed_at=INFORMED, acting_user=operator_dpo)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert ControllerNotice.objects.filter(case=large, informed_at__isnull=False).count() == 80
    assert ReceivedNotice.objects.filter(notice__case=large).count() == 4
    assert ReceivedNotice.objects.filter(notice__case=small).count() == 4
    # One "completed" event per controller informed (5 + 80) for the processor, one "notice received"
    # per on-platform controller and case (4 + 4) in the controllers' own organisations.
    assert WebhookEvent.objects.filter(organization=operator, type=EventType.COMPLETED).count() == 85
    assert WebhookEvent.objects.filter(type=EventType.NOTICE_RECEIVED).exclude(organization=operator).count() == 8
    assert WebhookDelivery.objects.count() == 2 + 85 + 8  # with the two "case opened"


# --- pages and downloads ------------------------------------------------------------------------------

PAGE_QUERIES = 40


def test_the_case_page_shows_progress_overdue_first_and_selects(
    processor_case, operator, operator_admin, operator_dpo, login, django_assert_max_num_queries
):
    externals(operator, operator_admin, 3, hours=200)
    externals(operator, operator_admin, 1, start=50, hours=2)  # overdue since 01/02 20:00
    externals(operator, operator_admin, 1, start=60, hours=None)  # without undue delay: the internal target
    ids = listed(processor_case, operator_dpo)
    services.controllers_inform_many(
        processor_case, notice_ids=ids[:1], informed_at=INFORMED - timedelta(hours=5), acting_user=operator_dpo
    )
    client = login(operator_dpo)
    url = reverse("cases:case_detail", kwargs={"reference": processor_case.reference})
    with django_assert_max_num_queries(PAGE_QUERIES):
        body = client.get(url).content.decode()
    body = body[body.index('id="controllers"') :]
    assert "1 / 5" in body
    # Each row carries its contract's period; one without says so.
    assert "dans les meilleurs délais" in body and "200" in body
    overdue = body.index("Assureur externe 050")
    assert overdue < body.index("Assureur externe 001") < body.index("Assureur externe 000")
    assert 'class="overdue"' in body
    assert reverse("cases:controllers_inform_many", kwargs={"reference": processor_case.reference}) in body
    assert (
        reverse("cases:controller_notice_pdf", kwargs={"reference": processor_case.reference, "notice_id": ids[0]})
        in body
    )


def test_the_page_query_count_does_not_grow_with_the_controllers(
    operator, operator_admin, operator_dpo, login, django_assert_max_num_queries
):
    externals(operator, operator_admin, 30)
    case = open_processor_case(operator, operator_dpo)
    ids = listed(case, operator_dpo)
    services.controllers_inform_many(case, notice_ids=ids[:20], informed_at=INFORMED, acting_user=operator_dpo)
    client = login(operator_dpo)
    for name in ("cases:case_detail", "cases:controllers_inform_many"):
        with django_assert_max_num_queries(PAGE_QUERIES):
            assert client.get(reverse(name, kwargs={"reference": case.reference})).status_code == 200


def test_inform_many_through_the_page(processor_case, operator, operator_admin, operator_dpo, login):
    externals(operator, operator_admin, 3)
    ids = listed(processor_case, operator_dpo)
    client = login(operator_dpo)
    url = reverse("cases:controllers_inform_many", kwargs={"reference": processor_case.reference})
    page = client.get(url, {"notices": [ids[0], ids[1]]}).content.decode()
    assert page.count("checked") >= 2
    response = client.post(
        url, {"notices": [ids[0], ids[1]], "informed_at": "01/02/2024 22:00", "channel": "e-mail"}, follow=True
    )
    assert response.status_code == 200
    assert ControllerNotice.objects.filter(informed_at__isnull=False).count() == 2
    response = client.post(url, {"all_pending": "on", "informed_at": "01/02/2024 23:00"}, follow=True)
    assert ControllerNotice.objects.filter(informed_at__isnull=False).count() == 3


def test_the_page_refuses_another_organisations_notice_and_writes_nothing(
    processor_case, operator, operator_admin, operator_dpo, make_org, make_user, login
):
    externals(operator, operator_admin, 2)
    ids = listed(processor_case, operator_dpo)
    other = make_org(name="Autre sous-traitant", code="other", kind=Organization.Kind.PROCESSOR)
    other_admin = make_user(other, Membership.Role.ADMIN, "other-admin")
    externals(other, other_admin, 1, start=500)
    other_case = open_processor_case(other, other_admin, "Autre incident")
    [foreign] = listed(other_case, other_admin)
    before = ControllerNotice.history.count()
    client = login(operator_dpo)
    url = reverse("cases:controllers_inform_many", kwargs={"reference": processor_case.reference})
    response = client.post(url, {"notices": [ids[0], foreign], "informed_at": "01/02/2024 22:00"})
    assert response.status_code == 400
    assert "not among this case" in response.content.decode() or "ne figurent pas" in response.content.decode()
    assert ControllerNotice.history.count() == before
    assert not ControllerNotice.objects.filter(informed_at__isnull=False).exists()
    # Nor does another organisation's GET preselect or name it.
    assert "Assureur externe 500" not in client.get(url, {"notices": [foreign]}).content.decode()
    # And its PDF is not reachable through this case.
    pdf = reverse("cases:controller_notice_pdf", kwargs={"reference": processor_case.reference, "notice_id": foreign})
    assert client.get(pdf).status_code == 404


DOWNLOAD_QUERIES = 15


def test_the_pdf_is_downloadable_by_each_side_only(
    processor_case,
    operator_dpo,
    on_platform,
    insurer,
    insurer_dpo,
    make_org,
    make_user,
    login,
    django_assert_max_num_queries,
):
    [notice_id] = listed(processor_case, operator_dpo)
    services.controllers_inform_many(
        processor_case, notice_ids=[notice_id], informed_at=INFORMED, acting_user=operator_dpo
    )
    notice = ControllerNotice.objects.get(pk=notice_id)
    received = ReceivedNotice.objects.get(notice=notice)
    sent_url = reverse(
        "cases:controller_notice_pdf", kwargs={"reference": processor_case.reference, "notice_id": notice_id}
    )
    received_url = reverse("cases:inbox_notice_pdf", kwargs={"received_id": received.pk})

    def body(response):
        return b"".join(response.streaming_content)

    processor_client = login(operator_dpo)
    with django_assert_max_num_queries(DOWNLOAD_QUERIES):
        sent = processor_client.get(sent_url)
    assert sent.status_code == 200 and hashlib.sha256(body(sent)).hexdigest() == notice.notice_sha256
    assert processor_client.get(received_url).status_code == 404

    from django.test import Client

    controller_client = login(insurer_dpo, Client())
    with django_assert_max_num_queries(DOWNLOAD_QUERIES):
        got = controller_client.get(received_url)
    assert got.status_code == 200 and hashlib.sha256(body(got)).hexdigest() == received.pdf_sha256
    assert controller_client.get(sent_url).status_code == 404
    page = controller_client.get(reverse("cases:inbox_notice", kwargs={"received_id": received.pk})).content.decode()
    assert received.pdf_sha256 in page

    stranger = make_user(make_org(name="Tiers", code="tiers"), Membership.Role.DPO, "stranger")
    stranger_client = login(stranger, Client())
    assert stranger_client.get(received_url).status_code == 404
    assert stranger_client.get(sent_url).status_code == 404


# --- dossiers -------------------------------------------------------------------------------------------


def test_the_processor_dossier_lists_each_controller_deadline_informed_and_acknowledged(
    processor_case, operator, operator_admin, operator_dpo, on_platform, insurer_dpo
):
    from cases.dossier.builder import build_dossier

    externals(operator, operator_admin, 1)
    ids = listed(processor_case, operator_dpo)
    services.controllers_inform_many(processor_case, notice_ids=ids, informed_at=INFORMED, acting_user=operator_dpo)
    received = ReceivedNotice.objects.get()
    services.received_dismiss(received, reason="Pas nos assurés.", acting_user=insurer_dpo)
    text = " ".join(pdf_text(build_dossier(processor_case, lang="fr")).split())
    text = text[text.rindex("7. Responsables") :]
    assert "2 responsable(s) informé(s) sur 2" in text
    for expected in (
        "Mutuelle Sur Plateforme",
        "Assureur externe 000",
        "02/02/2024 18:00",  # the on-platform insurer's deadline (24 h)
        "03/02/2024 18:00",  # the external one's (48 h)
        "02/02/2024 00:00",  # informed at
        "Reçue le",
        "Traitée le",  # acknowledged by the controller
        "dpo@msp.example",  # to whom
    ):
        assert expected in text, expected
    notice = ControllerNotice.objects.get(controller__isnull=False)
    assert notice.notice_sha256[:16] in text.replace(" ", "") or notice.notice_sha256[:16] in text


def test_the_controller_dossier_shows_the_notice_it_received(
    processor_case, operator_dpo, on_platform, insurer, insurer_dpo
):
    from cases.dossier.builder import build_dossier

    [notice_id] = listed(processor_case, operator_dpo)
    services.controllers_inform_many(
        processor_case, notice_ids=[notice_id], informed_at=INFORMED, acting_user=operator_dpo
    )
    received = ReceivedNotice.objects.get()
    own = services.received_open_case(received, aware_at=received.received_at, acting_user=insurer_dpo)
    text = "".join(pdf_text(build_dossier(own, lang="fr")).split())
    assert "Tiers-payantOpérateur" in text
    assert received.pdf_sha256 in text
    assert "article33,paragraphe2" in text  # the content as received
