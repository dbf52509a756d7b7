"""The History tab reads as an activity log: who did what, when and why, in words; field changes beneath."""

from __future__ import annotations

import re

from cases.selectors.history import history_page
from tests.conftest import paris
from tests.filing_helpers import complete_by_filing


def _named(user, first="Maëlle", last="Payet"):
    user.first_name, user.last_name = first, last
    user.save(update_fields=["first_name", "last_name"])
    return user


def test_opening_a_case_is_one_entry_with_the_full_name(org, dpo, open_case):
    _named(dpo)
    case = open_case()
    page = history_page(case, page=1, per_page=200)
    (opening,) = page.activities  # the case and every obligation it opened: one action
    assert opening.who == "Maëlle Payet"
    assert len(opening.versions) == page.total_rows > 1
    assert not opening.changed
    assert re.search(r"création\u00a0: dossier, 4 × obligation", opening.summary)


def test_each_later_action_is_its_own_entry_with_its_reason(org, dpo, open_case, make_user):
    _named(dpo)
    case = open_case()
    cnil = case.obligations.get(rule_code="GDPR_33_1")
    complete_by_filing(cnil, completed_at=paris(2024, 2, 2, 9), reference="CNIL-1", acting_user=dpo)
    page = history_page(case, page=1, per_page=200)
    newest = page.activities[0]
    assert newest.who == "Maëlle Payet" and newest.changed
    assert newest.reason  # the service's own words
    assert {v.object_kind for v in newest.versions} >= {cnil._meta.verbose_name}
    assert len(page.activities) == 2


def test_the_page_shows_the_entries_and_folds_the_fields(org, dpo, open_case, login):
    _named(dpo)
    case = open_case()
    html = login(dpo).get(f"/cases/{case.reference}/history/").content.decode()
    assert html.count('<li class="activity') == 1
    assert "Maëlle Payet" in html
    assert re.search(r"<details>\s*<summary>\d+ enregistrements, champ par champ</summary>", html)  # creations folded


def test_the_dossier_has_the_activity_log_with_full_names_and_says_how_to_check_it(org, dpo, open_case):
    import io

    from pypdf import PdfReader

    from cases.dossier.builder import render_dossier

    _named(dpo)
    case = open_case()
    cnil = case.obligations.get(rule_code="GDPR_33_1")
    complete_by_filing(cnil, completed_at=paris(2024, 2, 2, 9), reference="CNIL-1", acting_user=dpo)
    reader = PdfReader(io.BytesIO(render_dossier(case, lang="fr").pdf))
    text = re.sub(r"\s+", " ", "".join(page.extract_text() or "" for page in reader.pages))
    log = text[text.index("Journal des actions") :]
    assert "Maëlle Payet" in log and "Dossier ouvert." in log
    assert re.search(r"création ?: dossier, \d+ × obligation", log)
    assert "python manage.py" not in text
    assert "sans cette application" in text
