"""API v1 endpoints: the same scoping, roles, versions and validation as the pages; never a 500."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from cases.models import BreachCase, Membership, Obligation
from tests.api_support import bearer, issue_token

CASES = "/api/v1/cases/"
OPENING = {
    "title": "Intrusion SIEM",
    "first_signal_at": "2024-02-01T09:00:00+01:00",
    "aware_at": "2024-02-01T18:00:00+01:00",
    "aware_justification": "The SIEM alert was confirmed by the SOC.",
}


@pytest.fixture
def api(dpo):
    return bearer(issue_token(dpo)[1])


@pytest.fixture
def other_case(make_org, make_user, open_case):
    other = make_org(name="Autre", code="autre")
    return open_case(organization=other, acting_user=make_user(other, Membership.Role.DPO, "other-dpo"))


def test_open_a_case_then_read_it(api, org):
    response = api.post(CASES, {"organization": org.code, **OPENING}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    case = BreachCase.objects.get(reference=body["reference"])
    assert body["version"] == case.version and body["organization"] == org.code
    assert case.obligations.exists()  # the services ran: obligations synced
    assert api.get(f"{CASES}{case.reference}/").json()["title"] == "Intrusion SIEM"


def test_opening_with_bad_input_answers_400_with_field_errors_and_saves_nothing(api, org):
    response = api.post(
        CASES, {"organization": org.code, **OPENING, "aware_at": "2024-01-01T00:00:00+01:00"}, format="json"
    )
    assert response.status_code == 400
    assert "aware_at" in response.json() or "first_signal_at" in response.json()
    response = api.post(CASES, {"organization": org.code, "title": "x" * 301}, format="json")
    assert response.status_code == 400
    assert {"title", "first_signal_at", "aware_at", "aware_justification"} <= set(response.json())
    response = api.post(CASES, {**OPENING, "aware_at": "2024-02-01T18:00:00"}, format="json")
    assert response.status_code == 400
    assert not BreachCase.objects.exists()


def test_opening_in_another_organisation_is_refused(api, make_org):
    other = make_org(name="Autre", code="autre")
    response = api.post(CASES, {"organization": other.code, **OPENING}, format="json")
    assert response.status_code == 400
    assert "organization" in response.json()
    assert not BreachCase.objects.exists()


@pytest.mark.parametrize("code", ["\x00", "mutex\x00", "\ud8be\x00\u00a3", "\ud8be", "mu\ntex"])
def test_an_organisation_code_with_a_control_character_is_a_400_not_a_server_error(api, org, code):
    # As a client sends it: JSON escapes even a lone surrogate (found by Schemathesis on PostgreSQL).
    body = json.dumps({**OPENING, "organization": code})
    response = api.post(CASES, body, content_type="application/json")
    assert response.status_code == 400
    assert "organization" in response.json()
    assert not BreachCase.objects.exists()


def test_an_auditor_cannot_open_a_case(org, make_user):
    auditor = make_user(org, Membership.Role.AUDITOR, "auditor")
    response = bearer(issue_token(auditor)[1]).post(CASES, {"organization": org.code, **OPENING}, format="json")
    assert response.status_code == 403
    assert not BreachCase.objects.exists()


def test_list_filters_and_paginates(api, org, open_case, other_case):
    for n in range(3):
        open_case(title=f"Fuite {n}")
    body = api.get(CASES, {"page_size": 2}).json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    assert other_case.reference not in str(api.get(CASES).json())
    assert api.get(CASES, {"q": "Fuite 1"}).json()["count"] == 1
    assert api.get(CASES, {"status": "closed"}).json()["count"] == 0
    assert api.get(CASES, {"organization": "autre"}).json()["count"] == 0
    assert api.get(CASES, {"status": "nope"}).status_code == 400
    assert api.get(CASES, {"page": 99}).status_code == 404
    assert len(api.get(CASES, {"page_size": 10_000}).json()["results"]) == 3  # capped, not refused


def test_the_case_list_runs_a_bounded_number_of_queries(api, open_case, django_assert_max_num_queries):
    for n in range(12):
        open_case(title=f"Fuite {n}")
    # token lookup, last-used update, security log, count, page (+ savepoints): flat in the number of cases
    with django_assert_max_num_queries(8):
        assert len(api.get(CASES).json()["results"]) == 12


def test_other_organisation_case_is_404_everywhere(api, other_case):
    ob = other_case.obligations.first()
    base = f"{CASES}{other_case.reference}/"
    assert api.get(base).status_code == 404
    assert api.patch(base, {"version": other_case.version, "title": "x"}, format="json").status_code == 404
    assert api.get(f"{base}obligations/").status_code == 404
    url = f"{base}obligations/{ob.pk}/complete/"
    assert (
        api.post(url, {"version": ob.version, "completed_at": "2024-02-02T10:00:00+01:00"}, format="json").status_code
        == 404
    )
    other_case.refresh_from_db()
    assert other_case.title != "x"


def test_an_obligation_of_another_case_is_404(api, open_case, other_case):
    mine = open_case()
    foreign = other_case.obligations.first()
    url = f"{CASES}{mine.reference}/obligations/{foreign.pk}/complete/"
    response = api.post(url, {"version": foreign.version, "completed_at": "2024-02-02T10:00:00+01:00"}, format="json")
    assert response.status_code == 404


def test_update_facts_needs_the_version_and_answers_409_when_stale(api, open_case):
    case = open_case()
    url = f"{CASES}{case.reference}/"
    assert api.patch(url, {"description": "a"}, format="json").status_code == 400
    response = api.patch(url, {"version": case.version, "description": "first"}, format="json")
    assert response.status_code == 200 and response.json()["version"] == case.version + 1
    stale = api.patch(url, {"version": case.version, "description": "second"}, format="json")
    assert stale.status_code == 409
    assert stale.json()["current_version"] == case.version + 1
    case.refresh_from_db()
    assert case.description == "first"


def test_moving_a_clock_needs_a_reason(api, open_case):
    case = open_case()
    url = f"{CASES}{case.reference}/"
    response = api.patch(url, {"version": case.version, "aware_at": "2024-02-01T19:00:00+01:00"}, format="json")
    assert response.status_code == 400 and "change_reason" in response.json()


def test_read_only_token_reads_but_never_writes(dpo, open_case):
    case = open_case()
    client = bearer(issue_token(dpo, read_only=True)[1])
    assert client.get(f"{CASES}{case.reference}/").status_code == 200
    assert (
        client.patch(f"{CASES}{case.reference}/", {"version": case.version, "title": "x"}, format="json").status_code
        == 403
    )
    assert client.post(CASES, {"organization": case.organization.code, **OPENING}, format="json").status_code == 403
    assert BreachCase.objects.count() == 1


def test_complete_an_obligation_then_a_stale_second_try_is_409(api, open_case):
    case = open_case()
    ob = case.obligations.get(rule_code="GDPR_33_5")  # the register entry: the one a bare completion may close
    listed = api.get(f"{CASES}{case.reference}/obligations/").json()
    assert ob.pk in {row["id"] for row in listed}
    url = f"{CASES}{case.reference}/obligations/{ob.pk}/complete/"
    data = {"version": ob.version, "completed_at": "2024-02-02T10:00:00+01:00", "reference": "CNIL-123"}
    response = api.post(url, data, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == Obligation.State.DONE
    assert api.post(url, data, format="json").status_code == 409


def test_a_filing_obligation_cannot_be_marked_done_through_the_api(api, open_case):
    case = open_case()
    ob = case.obligations.get(rule_code="GDPR_33_1")
    url = f"{CASES}{case.reference}/obligations/{ob.pk}/complete/"
    data = {"version": ob.version, "completed_at": "2024-02-02T10:00:00+01:00", "late_reason": "x"}
    response = api.post(url, data, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "only by the filing" in response.json()["obligation"][0]
    ob.refresh_from_db()
    assert ob.state == Obligation.State.PENDING and ob.version == 1


def test_not_applicable_needs_a_decision_role(api, open_case, org, make_user):
    case = open_case()
    ob = case.obligations.get(rule_code="GDPR_33_1")
    url = f"{CASES}{case.reference}/obligations/{ob.pk}/not-applicable/"
    auditor = bearer(issue_token(make_user(org, Membership.Role.AUDITOR, "aud"))[1])
    assert auditor.post(url, {"version": ob.version, "reason": "r"}, format="json").status_code == 403
    assert api.post(url, {"version": ob.version, "reason": " "}, format="json").status_code == 400
    response = api.post(url, {"version": ob.version, "reason": "No personal data."}, format="json")
    assert response.status_code == 200 and response.json()["state"] == Obligation.State.NOT_APPLICABLE


def test_deadlines_are_the_running_ones_of_my_organisations(api, open_case, other_case, django_assert_max_num_queries):
    for n in range(5):
        open_case(title=f"Fuite {n}")
    with django_assert_max_num_queries(8):
        body = api.get("/api/v1/deadlines/").json()
    assert body["count"] > 0
    assert all(row["organization"] == "mutex" for row in body["results"])
    assert api.get("/api/v1/deadlines/", {"status": "overdue"}).status_code == 200
    assert api.get("/api/v1/deadlines/", {"authority": "nope"}).status_code == 400


def test_the_register_lists_my_organisations_and_is_logged(api, open_case, other_case, django_assert_max_num_queries):
    from accounts.models import SecurityEvent

    for n in range(5):
        open_case(title=f"Fuite {n}")
    with django_assert_max_num_queries(9):
        body = api.get("/api/v1/register/").json()
    assert body["count"] == 5
    assert other_case.reference not in str(body)
    assert SecurityEvent.objects.filter(detail__startswith="breach register API").exists()
    assert api.get("/api/v1/register/", {"organization": "autre"}).status_code == 404


def test_the_schema_and_the_docs_page(api, dpo, login):
    schema = api.get("/api/v1/schema/")
    assert schema.status_code == 200 and b"/api/v1/cases/" in schema.content
    page = login(dpo).get(reverse("api:docs"))
    assert page.status_code == 200
    assert b"swagger-ui-bundle.js" in page.content and b"<script>" not in page.content
    assert "'unsafe-inline'" not in page["Content-Security-Policy"]


def test_the_throttle_answers_429(api, settings):
    from django.core.cache import cache

    settings.API_THROTTLE_RATE = "3/minute"
    cache.clear()
    statuses = [api.get(CASES).status_code for _ in range(4)]
    cache.clear()
    assert statuses == [200, 200, 200, 429]


def test_session_needs_the_second_factor(dpo, client, open_case):
    case = open_case()
    client.force_login(dpo)
    assert client.get(f"{CASES}{case.reference}/").status_code == 401


def test_an_impossible_reference_is_404_without_a_500(api):
    assert api.get(f"{CASES}{'x' * 200}/").status_code == 404
    assert api.get(f"{CASES}%00/").status_code == 404


def test_errors_outside_the_views_answer_json_too(api):
    for url in ("/api/v1/nothing-here/", "/api/v1/cases/?q=%01", "/api/v1/cases/a%01b/"):
        response = api.get(url)
        assert response.status_code in {400, 404}, url
        assert response["Content-Type"] == "application/json", url
        assert "detail" in response.json()


def test_timeline_events_are_listed_and_added_through_the_service(api, open_case, org, make_user, other_case):
    case = open_case()
    url = f"{CASES}{case.reference}/timeline/"
    response = api.post(url, {"occurred_at": "2024-02-01T19:00:00+01:00", "title": "Coupure du VPN"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "other"
    assert [e["title"] for e in api.get(url).json()] == ["Coupure du VPN"]
    assert api.post(url, {"occurred_at": "2024-02-01T19:00:00", "title": " "}, format="json").status_code == 400
    auditor = bearer(issue_token(make_user(org, Membership.Role.AUDITOR, "aud"))[1])
    assert auditor.get(url).status_code == 200
    assert (
        auditor.post(url, {"occurred_at": "2024-02-01T19:00:00+01:00", "title": "x"}, format="json").status_code == 403
    )
    assert api.get(f"{CASES}{other_case.reference}/timeline/").status_code == 404
    assert case.events.count() == 1


def test_register_pages_keep_the_register_order_and_each_case_once(api, open_case, django_assert_max_num_queries):
    from cases import register
    from cases.models import BreachCase

    for n in range(7):
        open_case(title=f"Fuite {n}")
    expected = [c.reference for c in register.register_cases(BreachCase.objects.values_list("organization", flat=True))]
    seen = []
    for number in (1, 2, 3):
        with django_assert_max_num_queries(9):
            body = api.get("/api/v1/register/", {"page_size": 3, "page": number}).json()
        seen += [entry["reference"] for entry in body["results"]]
    assert seen == expected and len(seen) == 7


@pytest.mark.parametrize(
    "body", ["[" * 5000 + "]" * 5000, '{"a": ' * 3000 + "1" + "}" * 3000], ids=["arrays", "objects"]
)
def test_deeply_nested_json_is_a_400_not_a_server_error(api, open_case, body):
    """A few kilobytes of nested brackets exhaust the parser's recursion: a malformed body, not a crash."""
    case = open_case()
    for url in (CASES, f"{CASES}{case.reference}/timeline/", f"{CASES}{case.reference}/evidence/"):
        response = api.post(url, body, content_type="application/json")
        assert response.status_code == 400, (url, response.content[:200])
        assert "detail" in response.json()
    response = api.patch(f"{CASES}{case.reference}/", body, content_type="application/json")
    assert response.status_code == 400
    assert BreachCase.objects.count() == 1 and not case.events.exists()


def test_not_found_answers_in_the_clients_language_and_name_nothing(api, open_case, other_case):
    """Every "not found" of the API says the same translated words, whatever was not found (the
    French default here): no English sentence naming a model or a lookup."""
    from rest_framework.exceptions import NotFound

    case = open_case()
    obligation = case.obligations.first()
    expected = str(NotFound.default_detail)
    assert expected == "Non trouvé."
    for method, url in [
        ("get", f"{CASES}NOPE-2024-001/"),
        ("get", f"{CASES}{other_case.reference}/"),
        ("get", f"{CASES}{case.reference}/evidence/999999/"),
        ("get", f"{CASES}{case.reference}/submissions/999999/"),
        ("post", f"{CASES}{case.reference}/obligations/999999/complete/"),
        ("post", f"{CASES}{other_case.reference}/obligations/{obligation.pk}/complete/"),
        ("get", "/api/v1/register/?organization=autre"),
    ]:
        response = getattr(api, method)(url, {}, format="json") if method == "post" else api.get(url)
        assert response.status_code == 404, url
        assert response.json() == {"detail": expected}, url


def test_errors_outside_the_views_speak_the_clients_language(api):
    """A URL that names nothing (404) or a control character in the query (400) is answered before any
    API view: in the same translated words as the views' own answers, not an English reason phrase."""
    from rest_framework.exceptions import NotFound, ParseError

    assert api.get("/api/v1/nothing-here/").json() == {"detail": str(NotFound.default_detail)}
    assert api.get("/api/v1/cases/?q=%01").json() == {"detail": str(ParseError.default_detail)}
    assert str(NotFound.default_detail) == "Non trouvé."
