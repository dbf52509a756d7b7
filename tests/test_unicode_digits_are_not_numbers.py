"""Characters Python calls digits but `int()` refuses ("²", "①", "٣") are bad input, never a server error.

`str.isdigit()` is true for superscripts and other Unicode digits; a value checked only with it then
made `int()` raise (a 500). Each such place answers as for any other bad value.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from cases import services
from cases.models import Membership, Organization, ProcessingRelationship
from tests.conftest import paris

pytestmark = pytest.mark.django_db

NOT_NUMBERS = ["²", "①", "٣", "1²"]


@pytest.fixture
def operator(make_org):
    return make_org(name="Opérateur TP", code="optp", kind=Organization.Kind.PROCESSOR)


@pytest.fixture
def op_admin(operator, make_user):
    return make_user(operator, Membership.Role.ADMIN, "op-admin")


def test_the_inform_many_page_ignores_a_unicode_digit_in_its_preselection(
    operator, op_admin, make_org, make_relationship, login
):
    case = services.case_open(
        organization=operator,
        title="Portail praticiens",
        first_signal_at=paris(2024, 2, 1, 9),
        aware_at=paris(2024, 2, 1, 18),
        aware_justification="Confirmed.",
        acting_user=op_admin,
    )
    notice = services.controller_add(
        case, relationship=make_relationship(operator, make_org(name="Assureur", code="ins")), acting_user=op_admin
    )
    client = login(op_admin, Client(raise_request_exception=False))
    url = reverse("cases:controllers_inform_many", kwargs={"reference": case.reference})
    for value in NOT_NUMBERS:
        response = client.get(url, {"notices": [value, str(notice.pk)]})
        assert response.status_code == 200, value
        assert response.context["form"].initial["notices"] == [notice.pk]


def test_a_new_invitation_code_with_a_unicode_digit_version_is_a_400(operator, op_admin, login):
    rel = services.relationship_create(
        processor=operator, controller_name="Client", on_platform=True, acting_user=op_admin
    )
    client = login(op_admin, Client(raise_request_exception=False))
    url = reverse("cases:relationship_invite", kwargs={"relationship_id": rel.pk})
    for value in NOT_NUMBERS:
        assert client.post(url, {"version": value}).status_code == 400, value
    rel.refresh_from_db()
    assert rel.version == 1


def test_an_import_line_with_unicode_digit_hours_is_rejected_with_its_reason(operator, op_admin, login):
    header = "Nom;SIREN;E-mails;Délai (heures);Référence contrat\n"
    text = header + "".join(f"Assureur {i};{100000000 + i};;{hours};C-{i}\n" for i, hours in enumerate(NOT_NUMBERS))
    preview = services.relationships_import_preview(processor=operator, text=text, acting_user=op_admin)
    assert [line.action for line in preview] == ["reject"] * len(NOT_NUMBERS)
    assert all(line.reasons for line in preview)
    client = login(op_admin, Client(raise_request_exception=False))
    page = client.post(reverse("cases:relationship_import"), {"organization": operator.pk, "text": text})
    assert page.status_code == 200
    assert not ProcessingRelationship.objects.exists()
