"""The case facts' "processor involved" picker lists only the organisation's own processors (issue 9).

A controller's DPO editing a case must not see, nor be able to name, a processor organisation of
the platform that its organisation has no accepted relationship with: that would reveal another
tenant exists. The service refuses it too, since another client than the form may call it.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cases import services
from cases.models import Organization
from tests.test_no_lost_update import facts_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(org, dpo, make_org, make_relationship, open_case):
    ours = make_org(name="Opérateur Lié", code="lie", kind=Organization.Kind.PROCESSOR)
    stranger = make_org(name="Opérateur Inconnu", code="inconnu", kind=Organization.Kind.PROCESSOR)
    pending = make_org(name="Opérateur En Attente", code="attente", kind=Organization.Kind.PROCESSOR)
    make_relationship(ours, org)
    make_relationship(pending, None, controller_name=org.name)  # external: never linked to our organisation
    return open_case(), ours, stranger, pending


def test_the_edit_page_names_no_unrelated_processor(world, dpo, login):
    case, ours, stranger, pending = world
    page = login(dpo).get(reverse("cases:case_update", kwargs={"reference": case.reference}))
    assert page.status_code == 200
    html = page.content.decode()
    assert ours.name in html
    assert stranger.name not in html
    assert pending.name not in html


def test_posting_an_unrelated_processor_is_refused_and_saves_nothing(world, dpo, login):
    case, ours, stranger, _pending = world
    client = login(dpo)
    url = reverse("cases:case_update", kwargs={"reference": case.reference})
    data = {**facts_form(case), "processor": str(stranger.pk)}
    response = client.post(url, data)
    assert response.status_code == 400
    case.refresh_from_db()
    assert case.processor_id is None
    # The same form naming the organisation's own processor goes through.
    assert client.post(url, {**data, "processor": str(ours.pk)}).status_code == 302
    case.refresh_from_db()
    assert case.processor_id == ours.pk


def test_the_service_refuses_an_unrelated_processor(world, dpo):
    case, ours, stranger, _pending = world
    with pytest.raises(ValidationError) as refused:
        services.case_update_facts(case, acting_user=dpo, processor=stranger)
    assert "processor" in refused.value.message_dict
    case.refresh_from_db()
    assert case.processor_id is None
    services.case_update_facts(case, acting_user=dpo, processor=ours)
    case.refresh_from_db()
    assert case.processor_id == ours.pk
