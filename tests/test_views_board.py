"""The deadlines dashboard (home page) and the case list: scoping, ordering, filters, counts, flat queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import BreachCase, Membership, Obligation, Organization
from cases.selectors import board as selectors
from cases.views import board as board_views

HOME = "/"
CASES = "/cases/"


def hours_ago(hours: float):
    return timezone.now() - timedelta(hours=hours)


@pytest.fixture
def open_aware(open_case):
    """A case aware `hours` ago: its CNIL clock is due 72 h later, the complaint target 24 h later."""

    def make(hours: float, **facts):
        facts.setdefault("first_signal_at", hours_ago(hours + 1))
        return open_case(aware_at=hours_ago(hours), **facts)

    return make


@pytest.fixture
def three_cases(open_aware):
    """late: both clocks overdue; soon: CNIL due in 12 h; fresh: nothing overdue."""
    late = open_aware(80, title="Portail des praticiens")
    soon = open_aware(60, title="Messagerie compromise")
    fresh = open_aware(1, title="Clé USB perdue")
    return late, soon, fresh


@pytest.fixture
def other_org_case(make_org, make_user, open_case):
    other = make_org(name="Assureur Voisin", code="voisin")
    other_dpo = make_user(other, Membership.Role.DPO, "other-dpo")
    case = open_case(
        organization=other,
        acting_user=other_dpo,
        title="Dossier du voisin",
        first_signal_at=hours_ago(90),
        aware_at=hours_ago(89),
    )
    return other, case


def rows(response) -> list[Obligation]:
    return list(response.context["page"].object_list)


def test_urls():
    assert reverse("home") == HOME
    assert reverse("cases:case_list") == CASES


@pytest.mark.parametrize("url", [HOME, CASES])
def test_pages_need_a_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("url", [HOME, CASES])
def test_pages_only_answer_get(dpo, login, url):
    assert login(dpo).post(url).status_code == 405


@pytest.mark.parametrize("role", [r.value for r in Membership.Role])
def test_pages_render_for_every_role(role, org, make_user, login, three_cases):
    user = make_user(org, role)
    client = login(user)
    home = client.get(HOME)
    assert home.status_code == 200
    assert len(rows(home)) == 6
    html = home.content.decode()
    assert "Échéances" in html and "Portail des praticiens" in html
    # Writers are offered to complete the obligation; legal and auditors to consult it.
    action = "Compléter" if role in {"dpo", "admin"} else "Consulter"
    assert action in html
    listing = client.get(CASES)
    assert listing.status_code == 200
    assert listing.context["page"].paginator.count == 3


@pytest.mark.parametrize("url", [HOME, CASES])
def test_a_user_without_organisation_sees_nothing(make_user, login, three_cases, url):
    response = login(make_user()).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Vous n'êtes membre d'aucun organisme" in html
    assert "Portail des praticiens" not in html


def test_an_inactive_membership_shows_nothing(org, dpo, make_user, login, three_cases):
    user = make_user(org, Membership.Role.LEGAL)
    membership = Membership.objects.get(user=user, organization=org)
    membership.is_active = False
    membership.save()
    assert list(selectors.user_organizations(user)) == []
    assert not selectors.running_obligations(user, now=timezone.now()).exists()
    assert not selectors.case_list(user, now=timezone.now()).exists()
    assert "Portail des praticiens" not in login(user).get(HOME).content.decode()


def test_another_organisations_obligations_never_appear(dpo, login, three_cases, other_org_case):
    other, other_case = other_org_case
    client = login(dpo)
    for query in ({}, {"organization": other.code}):
        response = client.get(HOME, query)
        assert {ob.case.organization_id for ob in rows(response)} == {dpo.memberships.get().organization_id}
        html = response.content.decode()
        assert other_case.reference not in html and "Dossier du voisin" not in html
        assert "Assureur Voisin" not in html
    # The foreign code is not a valid choice: shown as an error and ignored, the own scope stays.
    assert response.context["form"].errors["organization"]
    assert len(rows(response)) == 6
    # The selectors refuse it on their own too.
    now = timezone.now()
    assert not selectors.running_obligations(dpo, organization=other.code, now=now).exists()
    assert not selectors.undated_obligations(dpo, organization=other.code).exists()
    assert not selectors.case_list(dpo, organization=other.code, now=now).exists()


def test_another_organisations_cases_are_never_listed(dpo, login, three_cases, other_org_case):
    other, other_case = other_org_case
    client = login(dpo)
    for query in ({}, {"organization": other.code}, {"q": other_case.reference}, {"q": "voisin"}):
        response = client.get(CASES, query)
        assert other_case not in response.context["page"].object_list
        assert "Dossier du voisin" not in response.content.decode()
    assert client.get(CASES, {"organization": other.code}).context["form"].errors["organization"]


def test_a_user_of_two_organisations_sees_both(org, dpo, login, three_cases, other_org_case):
    other, other_case = other_org_case
    services.membership_grant(user=dpo, organization=other, role=Membership.Role.AUDITOR, acting_user=None)
    orgs = list(selectors.user_organizations(dpo))
    assert [(o.code, o.role) for o in orgs] == [("voisin", "auditor"), ("mutex", "dpo")]
    client = login(dpo)
    response = client.get(HOME)
    assert {ob.case.organization.code for ob in rows(response)} == {"mutex", "voisin"}
    response = client.get(HOME, {"organization": "voisin"})
    assert {ob.case_id for ob in rows(response)} == {other_case.pk}
    assert client.get(CASES).context["page"].paginator.count == 4


def test_overdue_on_top_then_the_soonest(dpo, login, three_cases):
    late, soon, fresh = three_cases
    response = login(dpo).get(HOME)
    listed = [(ob.case_id, ob.rule_code) for ob in rows(response)]
    assert listed == [
        (late.pk, "COMPLAINT_GENERAL"),  # due 56 h ago
        (soon.pk, "COMPLAINT_GENERAL"),  # due 36 h ago
        (late.pk, "GDPR_33_1"),  # due 8 h ago
        (soon.pk, "GDPR_33_1"),  # due in 12 h
        (fresh.pk, "COMPLAINT_GENERAL"),  # due in 23 h
        (fresh.pk, "GDPR_33_1"),  # due in 71 h
    ]
    html = response.content.decode()
    assert html.count('class="clock clock-overdue"') == 3
    assert html.count('class="clock clock-due_soon"') == 2
    assert html.count('class="clock clock-running"') == 1
    # Not colour only: each row says it in words, with the time left.
    assert html.count('<span class="badge badge-overdue">En retard</span>') == 3
    assert "en retard de 8 h" in html or "en retard de 7 h 59" in html
    assert "dans 11 h 59" in html or "dans 12 h 00" in html


def test_a_row_shows_the_rule_authority_basis_case_and_a_link_to_complete_it(dpo, login, three_cases):
    late, _, _ = three_cases
    ob = late.obligations.get(rule_code="GDPR_33_1")
    html = login(dpo).get(HOME).content.decode()
    assert ob.label_fr in html
    assert "Délai légal" in html and "Objectif interne (sans délai injustifié)" in html
    assert "CNIL" in html and "Procureur de la République, police ou gendarmerie" in html
    assert late.reference in html and "Mutuelle Exemple" in html
    assert f'/cases/{late.reference}/#obligation-{ob.pk}"' in html


def test_the_rule_label_follows_the_language(dpo, login, three_cases):
    late, _, _ = three_cases
    ob = late.obligations.get(rule_code="GDPR_33_1")
    client = login(dpo)
    client.post(reverse("set_language"), {"language": "en", "next": HOME})
    html = client.get(HOME).content.decode()
    assert ob.label_en in html and "Legal deadline" in html and "overdue" in html


def test_obligations_without_a_due_date_are_listed_apart(dpo, login, three_cases):
    response = login(dpo).get(HOME)
    undated = response.context["undated"]
    # Each case waits for its complementary notification; the register (continuous) is left out.
    assert {ob.rule_code for ob in undated} == {"GDPR_33_4"}
    assert response.context["undated_count"] == 3
    assert "Délais pas encore démarrés" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "overdue"}, 3),
        ({"status": "due_soon"}, 2),
        ({"status": "running"}, 1),
        ({"authority": "cnil"}, 3),
        ({"authority": "prosecutor", "status": "overdue"}, 2),
        ({"authority": "acpr"}, 0),
        ({"organization": "mutex", "status": "overdue"}, 3),
        ({"status": "bogus"}, 6),  # an invalid value is reported and ignored
    ],
)
def test_dashboard_filters(dpo, login, three_cases, query, expected):
    response = login(dpo).get(HOME, query)
    assert response.status_code == 200
    assert len(rows(response)) == expected
    if expected == 0:
        assert "Aucun délai en cours ne correspond à ces filtres." in response.content.decode()


def test_dashboard_filter_form_is_labelled(dpo, login, three_cases):
    html = login(dpo).get(HOME).content.decode()
    for field in ("organization", "authority", "status"):
        assert f'<label for="id_{field}">' in html
    assert '<th scope="col">' in html
    assert 'class="skip-link" href="#content"' in html


def test_case_counts_by_state(org, dpo, login, three_cases):
    late, soon, fresh = three_cases
    services.case_contain(soon, contained_at=hours_ago(2), acting_user=dpo)
    for ob in fresh.obligations.filter(state=Obligation.State.PENDING).exclude(rule_code="GDPR_33_5"):
        services.obligation_mark_not_applicable(ob, reason="Pas de données personnelles.", acting_user=dpo)
    services.case_close(fresh, reason="Fausse alerte.", acting_user=dpo)
    counts = selectors.case_counts_by_status(dpo)
    assert (counts.open, counts.contained, counts.closed, counts.total) == (1, 1, 1, 3)
    response = login(dpo).get(HOME)
    assert response.context["counts"] == counts
    html = response.content.decode()
    assert '<span class="count-n">1</span> ouvert<' in html  # singular after 1 ("1 ouverts" was wrong)
    assert '<span class="count-n">1</span> clos' in html
    # The closed case's obligations are no longer running.
    assert fresh.pk not in {ob.case_id for ob in rows(response)}


def test_counts_ignore_other_organisations(dpo, three_cases, other_org_case):
    assert selectors.case_counts_by_status(dpo).total == 3


def test_dashboard_paginates(dpo, login, three_cases, monkeypatch):
    monkeypatch.setattr(board_views, "DASHBOARD_PAGE_SIZE", 4)
    client = login(dpo)
    first = client.get(HOME, {"status": ""})
    assert len(rows(first)) == 4 and first.context["page"].paginator.num_pages == 2
    html = first.content.decode()
    assert "Page 1 sur 2" in html and "page=2" in html
    second = client.get(HOME, {"page": 2})
    assert len(rows(second)) == 2
    assert client.get(HOME, {"page": 99}).context["page"].number == 2


def case_rows(response) -> list[BreachCase]:
    return list(response.context["page"].object_list)


def test_case_list_default_sort_is_the_most_urgent_next_due_date(dpo, login, three_cases):
    late, soon, fresh = three_cases
    response = login(dpo).get(CASES)
    listed = case_rows(response)
    assert listed == [late, soon, fresh]
    assert [c.overdue_count for c in listed] == [2, 1, 0]
    assert listed[0].next_due_at == late.obligations.get(rule_code="COMPLAINT_GENERAL").due_at
    html = response.content.decode()
    assert "2 en retard" in html and "Prise de connaissance (heure de Paris)" in html
    assert f'<a href="/cases/{late.reference}/">{late.reference}</a>' in html


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("aware_at", ["late", "soon", "fresh"]),
        ("-aware_at", ["fresh", "soon", "late"]),
        ("due", ["late", "soon", "fresh"]),
        ("bogus", ["late", "soon", "fresh"]),
    ],
)
def test_case_list_sorts(dpo, login, three_cases, sort, order):
    by_name = dict(zip(["late", "soon", "fresh"], three_cases, strict=True))
    response = login(dpo).get(CASES, {"sort": sort})
    assert case_rows(response) == [by_name[name] for name in order]


def test_case_list_sorts_by_reference(dpo, login, three_cases):
    response = login(dpo).get(CASES, {"sort": "reference"})
    references = [c.reference for c in case_rows(response)]
    assert references == sorted(references)


def test_a_case_without_pending_clock_comes_last(dpo, login, three_cases):
    late, soon, fresh = three_cases
    for ob in late.obligations.filter(state=Obligation.State.PENDING, due_at__isnull=False):
        services.obligation_mark_not_applicable(ob, reason="Décidé en comité.", acting_user=dpo)
    assert case_rows(login(dpo).get(CASES)) == [soon, fresh, late]


def test_case_list_search_by_reference_and_title(dpo, login, three_cases):
    late, soon, fresh = three_cases
    client = login(dpo)
    assert case_rows(client.get(CASES, {"q": "MESSAGERIE"})) == [soon]
    assert case_rows(client.get(CASES, {"q": late.reference.lower()})) == [late]
    assert case_rows(client.get(CASES, {"q": "  clé usb "})) == [fresh]
    response = client.get(CASES, {"q": "introuvable"})
    assert case_rows(response) == []
    assert "Aucun dossier ne correspond à cette recherche." in response.content.decode()


def test_case_list_filters(dpo, login, three_cases):
    late, soon, fresh = three_cases
    services.case_contain(soon, contained_at=hours_ago(2), acting_user=dpo)
    client = login(dpo)
    assert case_rows(client.get(CASES, {"status": "contained"})) == [soon]
    assert case_rows(client.get(CASES, {"status": "open"})) == [late, fresh]
    assert case_rows(client.get(CASES, {"organization": "mutex"})) == [late, soon, fresh]
    # Authority with overdue items: CNIL is overdue on `late` only, the complaint on both.
    assert case_rows(client.get(CASES, {"overdue_authority": "cnil"})) == [late]
    both = case_rows(client.get(CASES, {"overdue_authority": "prosecutor"}))
    assert both == [late, soon]
    # The filter narrows the rows, not the counts shown on them.
    assert [c.overdue_count for c in both] == [2, 1]


def test_case_list_form_keeps_the_query_and_is_labelled(dpo, login, three_cases):
    html = login(dpo).get(CASES, {"q": "portail", "sort": "reference"}).content.decode()
    assert 'value="portail"' in html
    for field in ("q", "organization", "status", "overdue_authority", "sort"):
        assert f'<label for="id_{field}">' in html
    assert 'role="search"' in html


@pytest.fixture
def many_cases(org, dpo, open_aware):
    """Thirty cases, a third of them overdue, with distinct titles."""
    return [open_aware(80 if n % 3 == 0 else 30, title=f"Dossier numéro {n:02d}") for n in range(30)]


def test_case_list_paginates_by_25_keeping_the_filters(dpo, login, many_cases):
    client = login(dpo)
    first = client.get(CASES, {"q": "numéro", "sort": "reference"})
    assert len(case_rows(first)) == 25
    html = first.content.decode()
    assert "Page 1 sur 2" in html
    assert "?q=num%C3%A9ro&amp;sort=reference&amp;page=2" in html
    second = client.get(CASES, {"q": "numéro", "sort": "reference", "page": 2})
    assert len(case_rows(second)) == 5
    assert "30 dossiers" in second.content.decode()


# Measured on PostgreSQL and SQLite: session, user and OTP device (3), the user's
# organisations (1), then per page: dashboard = running count + rows, undated count +
# rows, case counts (5); case list = count + rows (2).
# The menu (compliance/context_processors.py) reuses the page's query of the user's organisations.
DASHBOARD_QUERIES = 9
CASE_LIST_QUERIES = 6


def _page_queries(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        assert client.get(HOME).status_code == 200
    with django_assert_max_num_queries(CASE_LIST_QUERIES):
        assert client.get(CASES, {"overdue_authority": "cnil", "q": "o"}).status_code == 200
    with django_assert_max_num_queries(CASE_LIST_QUERIES):
        assert client.get(CASES, {"page": 2}).status_code == 200


def test_query_count_is_flat_with_few_cases(dpo, login, three_cases, django_assert_max_num_queries):
    _page_queries(login(dpo), django_assert_max_num_queries)


def test_query_count_is_flat_with_many_cases(dpo, login, many_cases, django_assert_max_num_queries):
    client = login(dpo)
    _page_queries(client, django_assert_max_num_queries)
    assert len(rows(client.get(HOME))) == 60


def test_only_the_first_undated_obligations_are_listed(dpo, login, three_cases, monkeypatch):
    monkeypatch.setattr(board_views, "UNDATED_SHOWN", 2)
    response = login(dpo).get(HOME)
    assert len(response.context["undated"]) == 2
    assert response.context["undated_count"] == 3
    assert "Seules les 2 premières sont listées." in response.content.decode()


def test_the_first_undated_rows_are_those_of_the_whole_list_in_its_order(dpo, three_cases, many_cases):
    undated = selectors.undated_obligations(dpo)
    expected = list(undated.values_list("pk", flat=True))
    assert len(expected) > 3
    for limit in (1, 3, len(expected) + 5):
        assert [o.pk for o in selectors.first_rows_counted(undated, limit)[0]] == expected[:limit]
    # Narrowed by organisation and authority as the list is; the long texts are left unread.
    narrowed = selectors.undated_obligations(dpo, authority="cnil")
    assert [o.pk for o in selectors.first_rows_counted(narrowed, 50)[0]] == list(narrowed.values_list("pk", flat=True))[
        :50
    ]
    first = selectors.first_rows_counted(undated, 1)[0][0]
    assert {"legal_text_fr", "description"} & first.get_deferred_fields() == {"legal_text_fr"}
    assert "description" in first.case.get_deferred_fields()


def test_each_row_links_to_its_obligation_and_case_and_reads_only_what_it_shows(dpo, login, three_cases):
    response = login(dpo).get(HOME)
    shown = response.context["rows"] + response.context["undated_rows"]
    assert [row.obligation for row in response.context["rows"]] == rows(response)
    assert [row.obligation for row in response.context["undated_rows"]] == response.context["undated"]
    assert len(shown) == 6 + 3
    html = response.content.decode()
    for row in shown:
        ob = Obligation.objects.get(pk=row.obligation.pk)
        assert row.url == ob.get_absolute_url() and row.case_url == ob.case.get_absolute_url()
        assert f'href="{row.url}"' in html
        assert row["title"] == row.title and row["pk"] == ob.pk  # the template's first lookup answers
    # The rows read the columns they print, not the legal texts nor the case's other facts.
    for row in shown:
        assert {"legal_text_fr", "late_reason"} <= row.obligation.get_deferred_fields()
        assert {"description", "aware_at", "severity_level"} <= row.obligation.case.get_deferred_fields()


def test_a_processor_s_notice_row_names_the_controller_to_inform(make_org, make_user, login):
    operator = make_org(name="Opérateur TP", code="optp", kind=Organization.Kind.PROCESSOR)
    admin = make_user(operator, Membership.Role.ADMIN, "op-admin")
    dpo = make_user(operator, Membership.Role.DPO, "op-dpo")
    case = services.case_open(
        organization=operator,
        title="Portail PS",
        first_signal_at=hours_ago(3),
        aware_at=hours_ago(2),
        aware_justification="Identifiants détournés.",
        acting_user=dpo,
    )
    relationship = services.relationship_create(
        processor=operator, controller_name="Assureur Externe", controller_siren="123456789", acting_user=admin
    )
    services.controller_add(case, relationship=relationship, acting_user=dpo)
    ob = Obligation.objects.get(case=case, controller_notice__isnull=False, state=Obligation.State.PENDING)
    response = login(dpo).get(HOME)
    html = response.content.decode()
    assert f"{ob.label_fr} — Assureur Externe" in html
    # The button's hidden words name the rule only, as before.
    assert f'<span class="visually-hidden"> {ob.label_fr}, {case.reference}</span>' in html


def test_the_first_undated_rows_and_their_count_come_from_one_sort(dpo, three_cases, many_cases):
    undated = selectors.undated_obligations(dpo)
    whole = list(undated.values_list("pk", flat=True))
    for limit in (1, 3, len(whole) + 5):
        rows_, count = selectors.first_rows_counted(undated, limit)
        assert [o.pk for o in rows_] == whole[:limit]
        assert count == len(whole) == undated.count()
    assert selectors.first_rows_counted(selectors.undated_obligations(dpo, authority="acpr"), 50) == ([], 0)


def test_the_case_counts_read_the_organisation_and_status_index_only(dpo, three_cases):
    """COUNT(*), which the (organization, status) index answers alone; COUNT(id) read every case's row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        selectors.case_counts_by_status(dpo)
    assert "COUNT(*)" in queries.captured_queries[-1]["sql"]
