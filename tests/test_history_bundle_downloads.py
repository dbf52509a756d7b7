"""The verification bundle downloads for every role of the case's organisation (404 elsewhere, logged);
the signing keys and the verifier are public."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import SecurityEvent
from cases import checkpoints, services, verify_bundle
from cases.models import Membership
from tests.conftest import paris

pytestmark = pytest.mark.django_db


def _url(case) -> str:
    return reverse("cases:history_bundle", kwargs={"reference": case.reference})


@pytest.mark.parametrize("role", [r.value for r in Membership.Role])
def test_every_role_of_the_organisation_downloads_a_bundle_that_verifies_and_it_is_logged(
    role, open_case, org, make_user, login
):
    case = open_case()
    user = make_user(org, role, f"u-{role}")
    response = login(user).get(_url(case))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/gzip"
    assert response["Content-Disposition"] == f'attachment; filename="history-bundle-{case.reference}.json.gz"'
    bundle = json.loads(gzip.decompress(response.content))
    verify_bundle.verify(bundle, trusted={checkpoints.key_id(checkpoints.signing_key().public_key())})
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.EXPORT, user=user)
    assert event.detail == f"history bundle {case.reference}" and event.organization == org


def test_another_organisation_gets_404_and_anonymous_users_log_in(open_case, make_org, make_user, login):
    case = open_case()
    outsider = make_user(make_org(name="Autre mutuelle", code="autre"), Membership.Role.ADMIN, "intrus")
    assert login(outsider).get(_url(case)).status_code == 404
    response = Client().get(_url(case))
    assert response.status_code == 302 and "login" in response["Location"]
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.EXPORT).exists()


def test_the_bundle_download_costs_the_same_queries_for_a_small_and_a_large_history(
    open_case, dpo, login, django_assert_max_num_queries
):
    small, large = open_case(title="Petit"), open_case(title="Grand")
    for hour in range(40):
        services.timeline_event_add(large, occurred_at=paris(2024, 2, 2, 0), title=f"Étape {hour}", acting_user=dpo)
    client = login(dpo)
    client.get(_url(small))  # the first checkpoint of the test: later ones read what it stored
    for case in (small, large):
        services.timeline_event_add(case, occurred_at=paris(2024, 2, 3, 0), title="Encore", acting_user=dpo)
        with django_assert_max_num_queries(45):
            assert client.get(_url(case)).status_code == 200


def test_the_signing_keys_and_the_verifier_are_public():
    client = Client()
    keys = client.get(reverse("cases:history_keys"))
    assert keys.status_code == 200
    current = checkpoints.key_id(checkpoints.signing_key().public_key())
    assert keys.json()["keys"] == [
        {"key_id": current, "public_key": checkpoints.published_keys()[0]["public_key"], "status": "current"}
    ]
    script = client.get(reverse("cases:history_verifier"))
    assert script.status_code == 200
    assert script.content == Path(verify_bundle.__file__).read_bytes()
    assert script["Content-Disposition"] == 'attachment; filename="verify_bundle.py"'
    assert client.post(reverse("cases:history_keys")).status_code == 405


def test_the_case_page_offers_the_bundle(open_case, dpo, login):
    case = open_case()
    page = login(dpo).get(reverse("cases:case_detail", kwargs={"reference": case.reference}))
    assert f'href="{_url(case)}"' in page.content.decode()
