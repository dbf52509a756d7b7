"""The History tab: field-level changes (who, when, field, before, after, reason), paginated by chain position."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import services
from cases.history import HistoryChainHead
from cases.models import Membership
from cases.selectors.history import history_page
from cases.views.case_page import HISTORY_PER_PAGE
from tests.conftest import paris


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def case(open_case):
    return open_case()


def history_url(case, page: int | None = None) -> str:
    url = reverse("cases:case_history", kwargs={"reference": case.reference})
    return f"{url}?page={page}" if page else url


@pytest.mark.parametrize("role", list(Membership.Role.values))
def test_every_member_reads_the_history(role, case, org, make_user, login):
    response = login(make_user(org, role, f"h-{role}")).get(history_url(case))
    assert response.status_code == 200
    assert "Accès frauduleux au portail" in response.content.decode()


def test_another_organisation_gets_404(case, make_org, make_user, login):
    client = login(make_user(make_org(name="Autre", code="autre"), Membership.Role.ADMIN, "intrus"))
    assert client.get(history_url(case)).status_code == 404


def test_a_change_shows_who_when_field_before_after_and_reason(case, dpo, login):
    services.case_update_facts(
        case, aware_at=paris(2024, 2, 1, 20), change_reason="Lecture confirmée plus tard", acting_user=dpo
    )
    response = login(dpo).get(history_url(case))
    body = response.content.decode()
    newest_case_version = next(v for v in response.context["history"].versions if v.object_kind == "breachcase")
    assert newest_case_version.who == "dpo"
    assert newest_case_version.reason == "Lecture confirmée plus tard"
    changes = {c.field: (c.before, c.after) for c in newest_case_version.changes}
    assert changes["Prise de connaissance (art. 33(1))"] == ("01/02/2024 18:00:00", "01/02/2024 20:00:00")
    assert "Lecture confirmée plus tard" in body and "01/02/2024 20:00:00" in body
    # The obligation whose due date moved is in the same history, with the same reason.
    moved = [v for v in response.context["history"].versions if v.object_label.endswith("GDPR_33_1")]
    assert moved[0].reason == "Lecture confirmée plus tard"
    assert {c.field for c in moved[0].changes} >= {"Échéance"}


def test_newest_first_and_a_creation_lists_its_initial_values(case, dpo, login):
    services.timeline_event_add(case, occurred_at=paris(2024, 2, 1, 19), title="Coupure", acting_user=dpo)
    versions = login(dpo).get(history_url(case)).context["history"].versions
    seqs = [v.seq for v in versions]
    assert seqs == sorted(seqs, reverse=True)
    event = versions[0]
    assert event.object_kind == "timelineevent" and event.created
    assert ("", "Coupure") in {(c.before, c.after) for c in event.changes}


def _many_changes(case, dpo, n: int) -> None:
    for i in range(n):
        services.case_update_facts(case, description=f"Version {i}", acting_user=dpo)


def test_pages_are_chain_ranges_and_the_previous_version_is_found_on_an_older_page(case, dpo, login):
    _many_changes(case, dpo, 120)
    total = HistoryChainHead.objects.get(chain_key=case.history_chain_key()).length
    client = login(dpo)
    first = client.get(history_url(case)).context["history"]
    assert first.total_rows == total and first.num_pages == -(-total // HISTORY_PER_PAGE)
    assert first.last_seq == total and first.first_seq == total - HISTORY_PER_PAGE + 1
    second = client.get(history_url(case, 2)).context["history"]
    assert second.last_seq == first.first_seq - 1
    # The oldest row of page 1 is a description change whose previous version is on page 2.
    oldest = first.versions[-1]
    change = next(c for c in oldest.changes if c.field == "Description")
    n = int(change.after.removeprefix("Version "))
    assert change.before == f"Version {n - 1}"
    last = client.get(history_url(case, first.num_pages)).context["history"]
    assert last.first_seq == 1 and not last.has_next
    assert client.get(history_url(case, 9999)).context["history"].number == first.num_pages
    assert client.get(history_url(case) + "?page=abc").status_code == 200


def test_the_dossier_and_the_history_tab_word_a_change_alike(case, dpo):
    services.case_update_facts(case, title="Nouveau titre", acting_user=dpo)
    version = next(v for v in history_page(case, page=1).versions if v.object_kind == "breachcase")
    assert ("Intitulé", "Accès frauduleux au portail", "Nouveau titre") in {
        (c.field, c.before, c.after) for c in version.changes
    }
    english = next(v for v in history_page(case, page=1, lang="en").versions if v.object_kind == "breachcase")
    assert "Title" in {c.field for c in english.changes}


HISTORY_MAX_QUERIES = 30


def test_the_history_page_costs_the_same_queries_whatever_the_history_size(
    open_case, dpo, login, django_assert_max_num_queries
):
    small = open_case(title="Petit")
    large = open_case(title="Grand")
    _many_changes(large, dpo, 300)
    start = paris(2024, 2, 1, 19)
    for i in range(20):
        services.timeline_event_add(large, occurred_at=start + timedelta(minutes=i), title=f"É{i}", acting_user=dpo)
    _many_changes(large, dpo, 40)
    assert HistoryChainHead.objects.get(chain_key=large.history_chain_key()).length > 300
    client = login(dpo)
    client.get(history_url(small))

    def count(url) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    counts = {
        "small": count(history_url(small)),
        "large p1": count(history_url(large)),
        "large p2": count(history_url(large, 2)),
        "large last": count(history_url(large, 999)),
    }
    print(f"history page queries: {counts}")
    assert max(counts.values()) <= HISTORY_MAX_QUERIES
    with django_assert_max_num_queries(HISTORY_MAX_QUERIES):
        client.get(history_url(large, 3))


def test_each_object_changed_on_a_page_shows_its_own_previous_version_from_older_pages(case, dpo, login):
    """Two obligations created with the case and changed after many edits: on page 1 each change shows
    what that obligation was before (its own latest older version, not another object's)."""
    obligations = list(case.obligations.filter(controller_notice__isnull=True).order_by("pk")[:2])
    assert len(obligations) == 2
    _many_changes(case, dpo, HISTORY_PER_PAGE + 5)
    for ob in obligations:
        services.obligation_mark_not_applicable(ob, reason=f"Sans objet {ob.pk}", acting_user=dpo)
    page = login(dpo).get(history_url(case)).context["history"]
    changed = {v.object_id: v for v in page.versions if v.object_kind == "obligation"}
    assert set(changed) == {ob.pk for ob in obligations}
    for ob in obligations:
        state = {c.field: (c.before, c.after) for c in changed[ob.pk].changes}
        before, after = next(pair for field, pair in state.items() if field.lower().startswith(("état", "state")))
        assert before != after and before  # the value on the older page, not an empty "created" row
        assert any(f"Sans objet {ob.pk}" in pair[1] for pair in state.values())
        assert not changed[ob.pk].created
