"""An organisation's administrator reads the security events of that organisation only.

An export of another organisation's dossier never shows, even when a member of both made it;
logins and second-factor events show for the organisation's own members.
"""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from accounts.models import SecurityEvent
from accounts.security_log import record
from cases.models import Membership


def test_the_log_shows_own_organisation_events_and_own_members_logins_only(org, make_org, make_user, login):
    other = make_org(name="Clinique Voisine", code="voisine")
    admin = make_user(org, Membership.Role.ADMIN, "chef")
    both = make_user(org, Membership.Role.DPO, "double")
    from cases import services

    services.membership_grant(user=both, organization=other, role=Membership.Role.DPO, acting_user=None)
    stranger = make_user(other, Membership.Role.DPO, "etranger")

    record(SecurityEvent.Kind.EXPORT, user=both, organization=org, detail="dossier MUTEX-OWN")
    record(SecurityEvent.Kind.EXPORT, user=both, organization=other, detail="dossier VOISINE-SECRET")
    record(SecurityEvent.Kind.EXPORT, user=stranger, organization=other, detail="dossier VOISINE-AUTRE")
    record(SecurityEvent.Kind.LOGIN, user=both)
    record(SecurityEvent.Kind.LOGIN, user=stranger)
    record(SecurityEvent.Kind.LOGIN_FAILED, username="double")

    page = login(admin, Client()).get(reverse("accounts:security_log"))
    assert page.status_code == 200
    shown = list(page.context["page"])
    details = {e.detail for e in shown}
    assert "dossier MUTEX-OWN" in details
    assert not details & {"dossier VOISINE-SECRET", "dossier VOISINE-AUTRE"}
    assert "Clinique Voisine" not in page.content.decode()
    logins = {(e.kind, e.username) for e in shown if e.organization_id is None}
    assert ("login", "double") in logins and ("login_failed", "double") in logins
    assert not any(username == "etranger" for _, username in logins)
