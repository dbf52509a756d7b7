"""The Controllers, Processors and Inbox pages: who sees what, the code shown once, decisions, flat query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from cases import services
from cases.deadlines import PARIS
from cases.models import BreachCase, Membership, Organization, ProcessingRelationship, ReceivedNotice
from tests.conftest import paris

PAGE_QUERIES = 12


@pytest.fixture
def parties(make_org, make_user):
    operator = make_org(name="Opérateur TP", code="optp", kind=Organization.Kind.PROCESSOR)
    insurer = make_org(name="Assureur Client", code="assc", kind=Organization.Kind.CONTROLLER)
    return {
        "operator": operator,
        "insurer": insurer,
        "op_admin": make_user(operator, Membership.Role.ADMIN, "op-admin"),
        "op_dpo": make_user(operator, Membership.Role.DPO, "op-dpo"),
        "ins_admin": make_user(insurer, Membership.Role.ADMIN, "ins-admin"),
        "ins_dpo": make_user(insurer, Membership.Role.DPO, "ins-dpo"),
        "ins_auditor": make_user(insurer, Membership.Role.AUDITOR, "ins-auditor"),
    }


def test_the_processor_records_a_controller_sees_the_code_once_and_the_controller_accepts_it(parties, login):
    client = login(parties["op_admin"])
    page = reverse("cases:relationship_controllers")
    response = client.post(
        page,
        {
            "organization": parties["operator"].pk,
            "controller_name": "Mon assureur",
            "on_platform": "on",
            "contacts": "Jeanne Dupont; dpo@assureur.example; DPO",
            "notice_period_hours": "24",
        },
    )
    assert response.status_code == 200
    code = response.context["new_code"]["code"]
    assert code in response.content.decode()
    assert code not in client.get(page).content.decode()  # shown once
    rel = ProcessingRelationship.objects.get()
    assert rel.contacts == [{"name": "Jeanne Dupont", "email": "dpo@assureur.example", "role": "DPO"}]

    insurer_client = login(parties["ins_admin"])
    accept = reverse("cases:relationship_processors")
    wrong = insurer_client.post(accept, {"organization": parties["insurer"].pk, "code": "nope"})
    assert wrong.status_code == 400 and "code" in wrong.context["form"].errors
    ok = insurer_client.post(accept, {"organization": parties["insurer"].pk, "code": code})
    assert ok.status_code == 302
    rel.refresh_from_db()
    assert rel.controller == parties["insurer"] and rel.is_active
    assert "Opérateur TP" in insurer_client.get(accept).content.decode()
    again = insurer_client.post(accept, {"organization": parties["insurer"].pk, "code": code})
    assert again.status_code == 400


def test_a_dpo_reads_the_controllers_but_cannot_record_one(parties, login):
    client = login(parties["op_dpo"])
    page = reverse("cases:relationship_controllers")
    assert client.get(page).status_code == 200
    response = client.post(page, {"organization": parties["operator"].pk, "controller_name": "X"})
    assert response.status_code == 403
    assert not ProcessingRelationship.objects.exists()


def test_bad_input_on_the_controllers_page_is_a_400_with_messages(parties, login):
    client = login(parties["op_admin"])
    response = client.post(
        reverse("cases:relationship_controllers"),
        {"organization": parties["operator"].pk, "controller_name": "X", "controller_siren": "12", "contacts": "bad"},
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "controller_siren" in errors and "contacts" in errors
    assert not ProcessingRelationship.objects.exists()


@pytest.fixture
def received(parties, make_relationship):
    case = services.case_open(
        organization=parties["operator"],
        title="Portail PS",
        first_signal_at=paris(2024, 2, 1, 9),
        aware_at=paris(2024, 2, 1, 10),
        aware_justification="Confirmed.",
        acting_user=parties["op_dpo"],
    )
    notice = services.controller_add(
        case, relationship=make_relationship(parties["operator"], parties["insurer"]), acting_user=parties["op_dpo"]
    )
    services.controller_inform(notice, informed_at=paris(2024, 2, 1, 12), acting_user=parties["op_dpo"])
    return notice.receipt


def test_the_inbox_lists_the_notice_and_the_dpo_opens_a_case_from_it(parties, received, login):
    client = login(parties["ins_dpo"])
    assert "Portail PS" in client.get(reverse("cases:inbox")).content.decode()
    url = reverse("cases:inbox_notice", kwargs={"received_id": received.pk})
    assert 'id="open-form"' in client.get(url).content.decode()
    later = received.received_at - timedelta(hours=1)
    refused = client.post(
        url,
        {
            "action": "open",
            "version": 1,
            "aware_at": later.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M:%S"),
        },
    )
    assert refused.status_code == 400
    assert not BreachCase.objects.filter(organization=parties["insurer"]).exists()
    response = client.post(
        url,
        {
            "action": "open",
            "version": 1,
            "aware_at": later.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M:%S"),
            "aware_justification": "Appel du prestataire une heure avant.",
        },
    )
    assert response.status_code == 302
    case = BreachCase.objects.get(organization=parties["insurer"])
    assert response["Location"] == case.get_absolute_url()
    received.refresh_from_db()
    assert received.decision == ReceivedNotice.Decision.OPENED


def test_an_auditor_reads_the_inbox_but_cannot_decide(parties, received, login):
    client = login(parties["ins_auditor"])
    url = reverse("cases:inbox_notice", kwargs={"received_id": received.pk})
    assert 'id="open-form"' not in client.get(url).content.decode()
    assert client.post(url, {"action": "dismiss", "version": 1, "reason": "x"}).status_code == 403
    received.refresh_from_db()
    assert received.decision == ReceivedNotice.Decision.RECEIVED


def test_the_processor_sees_received_and_acknowledged_never_the_controllers_case(parties, received, login):
    case = services.received_open_case(received, aware_at=received.received_at, acting_user=parties["ins_dpo"])
    body = login(parties["op_dpo"]).get(received.notice.case.get_absolute_url()).content.decode()
    assert case.reference not in body
    assert "acknowledged" in body or "traitée" in body.lower() or "accus" in body.lower()


def test_a_processor_cannot_open_the_inbox_notice_it_sent(parties, received, login):
    url = reverse("cases:inbox_notice", kwargs={"received_id": received.pk})
    for user in (parties["op_dpo"], parties["op_admin"]):
        assert login(user).get(url).status_code == 404


def test_query_counts_stay_flat(parties, make_relationship, make_org, received, login, django_assert_max_num_queries):
    for n in range(15):
        make_relationship(parties["operator"], controller_name=f"Externe {n}", controller_siren=f"{n:09d}")
    pages = {
        parties["op_admin"]: [reverse("cases:relationship_controllers")],
        parties["ins_admin"]: [
            reverse("cases:relationship_processors"),
            reverse("cases:inbox"),
            reverse("cases:inbox_notice", kwargs={"received_id": received.pk}),
            reverse("cases:relationship_detail", kwargs={"relationship_id": received.relationship_id}),
        ],
    }
    for user, urls in pages.items():
        client = login(user)
        for url in urls:
            with django_assert_max_num_queries(PAGE_QUERIES):
                assert client.get(url).status_code == 200


def test_nav_links_only_for_members_who_may_use_them(parties, login, make_org, make_user):
    body = login(parties["op_dpo"]).get(reverse("cases:case_list")).content.decode()
    assert reverse("cases:relationship_controllers") in body and reverse("cases:inbox") not in body
    body = login(parties["ins_dpo"]).get(reverse("cases:case_list")).content.decode()
    assert reverse("cases:relationship_controllers") not in body and reverse("cases:inbox") in body


def test_the_import_page_previews_then_imports(parties, login, django_assert_max_num_queries):
    client = login(parties["op_admin"])
    url = reverse("cases:relationship_import")
    text = "Nom;SIREN;E-mails;Délai (heures);Référence contrat\n" + "".join(
        f"Assureur {i};{100000000 + i};dpo@as{i}.example;24;C-{i}\n" for i in range(100)
    )
    text += "Mauvais;123;;;\n"
    data = {"organization": parties["operator"].pk, "text": text}
    with django_assert_max_num_queries(PAGE_QUERIES):
        preview = client.post(url, {**data, "action": "preview"})
    assert preview.status_code == 200
    body = preview.content.decode()
    assert 'id="line-102"' in body and "SIREN" in body
    assert not ProcessingRelationship.objects.exists()
    refused = client.post(url, {**data, "action": "import"})
    assert refused.status_code == 400 and not ProcessingRelationship.objects.exists()
    done = client.post(url, {**data, "action": "import", "skip_rejected": "on"})
    assert done.status_code == 302
    assert ProcessingRelationship.objects.count() == 100


def test_only_an_admin_of_a_processor_uses_the_import_page(parties, login):
    for user in (parties["op_dpo"], parties["ins_admin"]):
        assert login(user).get(reverse("cases:relationship_import")).status_code == 403


def test_the_controllers_admin_ends_the_relationship_from_its_page_with_a_reason(parties, received, login):
    url = reverse("cases:relationship_detail", kwargs={"relationship_id": received.relationship_id})
    assert login(parties["ins_dpo"]).post(url, {"reason": "x", "version": 2}).status_code == 403
    client = login(parties["ins_admin"])
    page = client.get(url).content.decode()
    assert 'id="end-form"' in page and "dpo@" not in page  # the processor's contacts stay on its side
    assert client.post(url, {"reason": "", "version": 2}).status_code == 400
    assert client.post(url, {"reason": "Contrat résilié", "version": 2}).status_code == 302
    relationship = ProcessingRelationship.objects.get(pk=received.relationship_id)
    assert relationship.status == ProcessingRelationship.Status.ENDED and relationship.ended_by == parties["ins_admin"]


def test_a_new_invitation_code_from_the_relationship_page(parties, login):
    rel = services.relationship_create(
        processor=parties["operator"], controller_name="Client", on_platform=True, acting_user=parties["op_admin"]
    )
    url = reverse("cases:relationship_invite", kwargs={"relationship_id": rel.pk})
    assert login(parties["op_dpo"]).post(url, {"version": 1}).status_code == 403
    client = login(parties["op_admin"])
    assert client.post(url, {}).status_code == 400
    response = client.post(url, {"version": 1})
    assert response.status_code == 200
    code = response.context["new_code"]
    accepted = services.relationship_accept(
        organization=parties["insurer"], code=code, acting_user=parties["ins_admin"]
    )
    assert accepted.is_active


def test_the_case_page_adds_all_active_controllers_in_one_confirmed_action(parties, make_relationship, login):
    case = services.case_open(
        organization=parties["operator"],
        title="Portail PS",
        first_signal_at=paris(2024, 2, 1, 9),
        aware_at=paris(2024, 2, 1, 10),
        aware_justification="Confirmed.",
        acting_user=parties["op_dpo"],
    )
    for n in range(3):
        make_relationship(parties["operator"], controller_name=f"Externe {n}", controller_siren=f"{n:09d}")
    client = login(parties["op_dpo"])
    assert 'id="add-all-controllers"' in client.get(case.get_absolute_url()).content.decode()
    url = reverse("cases:controller_add_all", kwargs={"reference": case.reference})
    assert client.post(url, {}).status_code == 400
    assert not case.controller_notices.exists()
    assert client.post(url, {"confirm": "all"}).status_code == 302
    assert case.controller_notices.count() == 3
    assert login(parties["ins_dpo"]).post(url, {"confirm": "all"}).status_code == 404
