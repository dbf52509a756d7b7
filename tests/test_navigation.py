"""The menu shows each user only what the user may open; one product name everywhere; confirmations stay visible."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from cases.models import Membership

ROOT = Path(__file__).resolve().parent.parent
NAV = re.compile(r'<nav aria-label="[^"]*" class="mainnav">(.*?)</nav>', re.S)
LINK = re.compile(r'<a href="([^"]+)"[^>]*>([^<]+)</a>')


def menu(client) -> dict[str, str]:
    html = client.get("/").content.decode()
    (nav,) = NAV.findall(html)
    return {text.strip(): href for href, text in LINK.findall(nav)}


# The organisation of the fixtures is a controller: its members see its processors and its inbox.
CONTROLLER_PAGES = {"Sous-traitants", "Boîte de réception"}
EXPECTED = {
    Membership.Role.DPO: {"Échéances", "Dossiers", "Nouveau dossier", "Exports et calendriers", "Rappels"},
    Membership.Role.LEGAL: {"Échéances", "Dossiers", "Exports et calendriers", "Rappels"},
    Membership.Role.AUDITOR: {"Échéances", "Dossiers", "Exports et calendriers", "Rappels"},
    Membership.Role.ADMIN: {
        "Échéances",
        "Dossiers",
        "Nouveau dossier",
        "Exports et calendriers",
        "Rappels",
        "Journal de sécurité",
    },
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_the_menu_lists_exactly_what_the_role_may_open(role, org, make_user, login):
    client = login(make_user(org, role=role, username=f"nav-{role}"))
    links = menu(client)
    assert set(links) == EXPECTED[role] | CONTROLLER_PAGES
    for href in links.values():  # every link shown opens
        assert client.get(href).status_code == 200, href


def test_a_user_with_several_roles_gets_the_union(org, make_org, make_user, login):
    user = make_user(org, role=Membership.Role.AUDITOR, username="two-hats")
    Membership.objects.create(user=user, organization=make_org(name="Filiale", code="fil"), role=Membership.Role.ADMIN)
    assert "Journal de sécurité" in menu(login(user))


def test_one_product_name_in_the_pages_the_feed_the_mail_and_the_authenticator(org, dpo, login):
    name = settings.PRODUCT_NAME
    html = login(dpo).get("/").content.decode()
    assert re.search(rf"<title>[^<]* · {re.escape(name)}</title>", html)
    assert f'class="brand" href="/">{name}</a>' in html
    assert settings.DEFAULT_FROM_EMAIL.startswith(name)
    assert name == settings.OTP_TOTP_ISSUER


def test_no_borrowed_name_is_left_in_the_code():
    tracked = subprocess.run(  # noqa: S603, S607 - git, on this repository
        ["git", "grep", "-il", "cairn", "--", ":!tests/test_navigation.py"], cwd=ROOT, capture_output=True, text=True
    )
    assert tracked.stdout == "", tracked.stdout


def test_the_confirmation_of_an_action_stays_on_screen(org, dpo, open_case, login):
    case = open_case()
    client = login(dpo)
    response = client.post(
        f"/cases/{case.reference}/contain/",
        {"contained_at": "2024-02-02T10:00", "reason": "", "version": case.version},
        follow=True,
    )
    html = response.content.decode()
    assert response.redirect_chain[-1][0].endswith("#status")  # the page opens at the changed section
    assert "Le dossier est marqué comme maîtrisé." in html
    assert '<ul class="messages" role="status">' in html
    css = (ROOT / "static" / "css" / "app.css").read_text()
    assert re.search(r"\.messages \{[^}]*position: sticky; top: 0", css)


def test_the_dashboard_filters_are_folded_unless_in_use(org, dpo, open_case, login):
    open_case()
    client = login(dpo)
    assert '<details class="filters-box card">' in client.get("/").content.decode()
    used = client.get("/", {"authority": "cnil"}).content.decode()
    assert '<details class="filters-box card" open>' in used
    assert "(1 filtre actif)" in used
