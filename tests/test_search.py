"""Finding a case by what its text says: description, consequences, measures, reasons, not only reference and title."""

from __future__ import annotations

import pytest
from django.db import connection

from cases import search, services
from cases.models import BreachCase, Membership


@pytest.fixture
def cases(org, dpo, open_case, make_org, make_user):
    nir = open_case(title="Portail des praticiens")
    services.case_update_facts(
        nir,
        change_reason="",
        description="Consultation des NIR et des numéros de sécurité sociale des assurés.",
        likely_consequences="Hameçonnage ciblé des adhérents.",
        acting_user=dpo,
    )
    other = open_case(title="Messagerie compromise")
    services.case_update_facts(other, description="Un courriel de phishing.", acting_user=dpo)
    # Another organisation's case says the same words: it is never found.
    outsider_org = make_org(name="Autre mutuelle", code="autre")
    outsider = make_user(outsider_org, role=Membership.Role.DPO, username="autre.dpo")
    open_case(organization=outsider_org, acting_user=outsider, title="NIR exposés")
    return nir, other


def found(query: str) -> set[str]:
    return set(search.matching(BreachCase.objects.all(), query).values_list("title", flat=True))


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("NIR", {"Portail des praticiens", "NIR exposés"}),
        ("nir", {"Portail des praticiens", "NIR exposés"}),
        ("sécurité sociale", {"Portail des praticiens"}),
        ("hameçonnage adhérents", {"Portail des praticiens"}),
        ("phishing", {"Messagerie compromise"}),
        ("Messagerie", {"Messagerie compromise"}),
        ("phishing praticiens", set()),  # every word must match
        ("", {"Portail des praticiens", "Messagerie compromise", "NIR exposés"}),
    ],
)
def test_the_text_of_the_case_is_searched(cases, query, titles):
    assert found(query) == titles


def test_the_french_dictionary_finds_other_forms_of_a_word_on_postgresql(cases):
    if connection.vendor != "postgresql":
        pytest.skip("stems are PostgreSQL full-text search's")
    assert found("numéro") == {"Portail des praticiens"}  # the text says "numéros"
    assert found("consultations") == {"Portail des praticiens"}


def test_the_case_list_searches_the_text_and_never_another_organisation(cases, dpo, login):
    html = login(dpo).get("/cases/", {"q": "NIR"}).content.decode()
    assert "Portail des praticiens" in html
    assert "NIR exposés" not in html and "Messagerie compromise" not in html


def test_odd_queries_are_harmless(cases, dpo, login):
    client = login(dpo)
    for query in ("'", '"', "-", "or", "&|!:*", "a" * 100, "x " * 50):
        assert client.get("/cases/", {"q": query}).status_code == 200


def test_a_word_matches_at_the_start_of_a_word_not_inside_a_reference(cases, open_case):
    open_case(title="Fuite 1")  # its reference ends in 3: "1" must not match "…-001"
    assert found("Fuite 1") == {"Fuite 1"}
    assert found("numéro") == {"Portail des praticiens"}  # a prefix of "numéros"


def test_a_word_matches_in_any_field_but_never_across_two(cases, dpo):
    nir, _other = cases
    # The last word of the title and the first of the description are not one word of the joined text.
    assert found("praticiens") == {"Portail des praticiens"}
    assert found("consultation") == {"Portail des praticiens"}  # the first word of the description
    assert found("praticiensconsultation") == set()
    assert found(nir.reference) == {"Portail des praticiens"}


def test_on_postgresql_a_search_reads_the_two_indexes_not_every_case(cases):
    """The GIN indexes of migration 0013 hold the expressions the search filters on (else a search
    computes every case's vector): with sequential scans off, the plan uses both."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's indexes")
    for query in ("NIR", "sécurité sociale", "x"):
        queryset = search.matching(BreachCase.objects.all(), query).order_by().values("pk")
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            plan = queryset.explain()
        assert "cases_breachcase_search_vector" in plan, plan
        assert "cases_breachcase_search_trgm" in plan, plan
