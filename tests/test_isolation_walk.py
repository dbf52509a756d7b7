"""Every URL pattern of the project, walked automatically with each role and with another organisation's user.

Nobody keeps a list of views here: the walk reads the URL configuration, so a new view is
covered the day it is added. Case URLs (decorated with `cases.access.case_view`) must
answer 404 to another organisation's user, 403 to a role the view does not allow, 405
to another method; the other URLs must be declared in `USER_SCOPED` or `ADMIN` below
(the test fails for an undeclared one). After every request that could write (any POST,
and any request refused), the database is checked unchanged. The organisation's own
canary text never shows in another organisation's pages, and the reverse.

The matrix actually checked is written to test-artifacts/url-matrix.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cases import services
from cases.history import chained_history_models
from cases.models import Membership, Organization
from tests.conftest import paris

ROLES = ("dpo", "legal", "auditor", "admin")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

# Reachable before login by design; tested in tests/test_accounts_*.py, tests/test_production_serving.py
# (health) and, for the public history keys and verifier (nothing about any case),
# tests/test_history_bundle_downloads.py.
OPEN = {"accounts:login", "accounts:logout", "set_language", "health", "cases:history_keys", "cases:history_verifier"}
# Token-authenticated (no session); tested in tests/test_calendar_feed.py, checked below for unknown tokens.
TOKEN = {"cases:calendar_feed"}
# Pages about the user's own organisations (no case in the URL): every verified member may GET them
# unless a role set is given; POST is either refused (405) or handled as the page's own form.
USER_SCOPED = {
    "home": {"get": set(ROLES), "post": False},
    "cases:case_list": {"get": set(ROLES), "post": False},
    "cases:case_open": {"get": set(ROLES), "post": True},
    "cases:register_csv": {"get": set(ROLES), "post": False},
    "cases:calendar_feeds": {"get": set(ROLES), "post": True},
    "accounts:enrol": {"get": set(), "post": True},
    "accounts:verify": {"get": set(), "post": True},
    # POST replaces the user's own backup codes: it writes, by design, to the user's own device only.
    "accounts:backup_codes": {"get": set(ROLES), "post": True, "writes_own": True},
    "accounts:logout_everywhere": {"get": set(), "post": True},
    "accounts:security_log": {"get": {"admin"}, "post": False},
    "accounts:unlock": {"get": set(), "post": True},
    "reminders:preferences": {"get": set(ROLES), "post": True},
}
# The Django admin is for platform staff only: a member who is not staff is sent to its login page.
ADMIN_NAMESPACE = "admin"
UNNAMED_ALLOWED = {"admin/(?P<url>.*)$"}  # the admin's catch-all
# The admin's unnamed "<id>/" redirects to the change page are checked like the rest of the admin.
UNNAMED_ADMIN = re.compile(r"^admin/[\w]+/[\w]+/<path:object_id>/$")


def walk(patterns, namespace=None, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = ":".join(filter(None, [namespace, p.namespace])) or None
            yield from walk(p.url_patterns, ns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace and p.name else p.name
            yield name, prefix + str(p.pattern), p


# simple-history's admin version page uses positional groups: (object id, history id).
POSITIONAL = ("object_id", "version_id")


def params_of(pattern: URLPattern) -> tuple[list[str], bool]:
    """The URL's parameter names, and whether they are positional."""
    converters = getattr(pattern.pattern, "converters", None)
    if converters:
        return list(converters), False
    regex = pattern.pattern.regex
    if regex.groupindex:
        return list(regex.groupindex), False
    return list(POSITIONAL[: regex.groups]), True


@pytest.fixture
def world(db, make_org, make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    home = make_org(name="Mutuelle A", code="muta", kind=Organization.Kind.BOTH)
    other = make_org(name="Mutuelle B", code="mutb", kind=Organization.Kind.BOTH)
    client_org = make_org(name="Assureur client", code="client")
    users = {role: make_user(home, role, f"a-{role}") for role in ROLES}
    outsider = make_user(other, Membership.Role.DPO, "b-dpo")
    outsider_admin = make_user(other, Membership.Role.ADMIN, "b-admin")

    def a_case(org, user, canary):
        case = services.case_open(
            organization=org,
            title=f"Intrusion {canary}",
            first_signal_at=paris(2024, 2, 1, 9, 0),
            aware_at=paris(2024, 2, 1, 18, 0),
            aware_justification="Logs confirm data were read.",
            acting_user=user,
        )
        services.timeline_event_add(case, occurred_at=paris(2024, 2, 1, 19), title="Coupure", acting_user=user)
        return case

    case_a = a_case(home, users["dpo"], "CANARY-A-7f3")
    case_b = a_case(other, outsider, "CANARY-B-9d1")
    notice = services.controller_add(case_a, controller=client_org, acting_user=users["dpo"])
    evidence = services.evidence_add(
        case_a, uploaded_file=SimpleUploadedFile("recu.pdf", b"%PDF-1.4\n%%EOF\n"), acting_user=users["dpo"]
    )
    obligation = case_a.obligations.get(rule_code="GDPR_33_1")
    submission = services.submission_draft(case_a, obligation=obligation, acting_user=users["dpo"])
    export = services.dossier_export_request(case_a, lang="fr", acting_user=users["auditor"])
    services.run_dossier_export(export.pk)
    history_row = case_a.history.first()
    return {
        "users": users,
        "outsider": outsider,
        "outsider_admin": outsider_admin,
        "case_a": case_a,
        "case_b": case_b,
        "params": {
            "reference": case_a.reference,
            "obligation_id": obligation.pk,
            "submission_id": submission.pk,
            "evidence_id": evidence.pk,
            "notice_id": notice.pk,
            "export_id": export.pk,
            "token": "not-a-token",
            # admin
            "app_label": "cases",
            "object_id": str(case_a.pk),
            "version_id": str(history_row.history_id),
            "content_type_id": "1",
            "id": str(users["dpo"].pk),
            "pk": "1",
        },
    }


def snapshot() -> dict[str, int]:
    """Row counts of every table a request could change, history included."""
    models = [
        m for m in apps.get_models() if m._meta.app_label in {"cases", "reminders", "auth", "otp_totp", "otp_static"}
    ]
    models += chained_history_models()
    counts = {m._meta.db_table: m._default_manager.count() for m in set(models)}
    with connection.cursor() as cursor:
        for table in [t for t in connection.introspection.table_names() if t.startswith("cases_historical")]:
            cursor.execute(f'SELECT MAX(history_id) FROM "{table}"')  # noqa: S608 - table names from introspection
            counts[f"{table}.max"] = cursor.fetchone()[0] or 0
    return counts


def verified_client(user, login) -> Client:
    return login(user, Client())


def test_every_url_pattern_is_scoped_and_refuses_what_a_role_may_not_do(world, login):
    resolver = get_resolver()
    rows: list[str] = []
    problems: list[str] = []
    params = world["params"]
    canary_a, canary_b = "CANARY-A-7f3", "CANARY-B-9d1"
    for user in [*world["users"].values(), world["outsider"], world["outsider_admin"]]:
        verified_client(user, login)  # creates each user's second-factor device before the first snapshot

    for name, route, pattern in walk(resolver.url_patterns):
        if name is None:
            if UNNAMED_ADMIN.match(route):
                url = "/" + route.replace("<path:object_id>", params["object_id"])
                rows.append(f"| (unnamed) | `{route}` | {_check_admin_url(route, url, world, login, problems)} |")
            elif route not in UNNAMED_ALLOWED:
                problems.append(f"unnamed URL pattern {route!r}: name it so the walk can check it")
            continue
        if name.startswith("static") or name in OPEN:
            continue
        names, positional = params_of(pattern)
        missing = [p for p in names if p not in params]
        if missing:
            problems.append(f"{name}: add a value for {missing} in the walk's params")
            continue
        if positional:
            url = reverse(name, args=[params[p] for p in names])
        else:
            url = reverse(name, kwargs={p: params[p] for p in names})

        # Nobody logged in: the login page, never the content.
        for method in ("get", "post"):
            before = snapshot()
            response = getattr(Client(), method)(url)
            if name in TOKEN:
                ok = response.status_code == 404
            else:
                ok = response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
            if not ok:
                problems.append(f"{name} {method.upper()} anonymous -> {response.status_code}")
            if snapshot() != before:
                problems.append(f"{name} {method.upper()} anonymous changed the database")
        if name in TOKEN:
            rows.append(f"| `{name}` | `{route}` | token only: unknown token 404 for everyone |")
            continue

        view = pattern.callback
        if hasattr(view, "case_roles"):
            expectation = _check_case_url(name, url, view, world, login, problems, canary_b)
        elif name.split(":")[0] == ADMIN_NAMESPACE:
            expectation = _check_admin_url(name, url, world, login, problems)
        elif name in USER_SCOPED:
            expectation = _check_user_scoped_url(name, url, world, login, problems, canary_a, canary_b)
        else:
            problems.append(
                f"{name}: neither a case URL (case_view) nor declared in USER_SCOPED: decide who may use it"
            )
            continue
        rows.append(f"| `{name}` | `{route}` | {expectation} |")

    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "url-matrix.md").write_text(
        "| URL name | route | what each user gets |\n|---|---|---|\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    assert not problems, "\n".join(problems)
    assert any("case_view" in r or "another organisation" in r for r in rows)


def _response_of(client: Client, method: str, url: str):
    return getattr(client, method)(url, {})


def _check_case_url(name, url, view, world, login, problems, canary_b) -> str:
    roles, methods = view.case_roles, view.case_methods
    for method in ("get", "post"):
        for who in ("outsider", "outsider_admin"):
            before = snapshot()
            response = _response_of(verified_client(world[who], login), method, url)
            if response.status_code != 404:
                problems.append(f"{name} {method.upper()} another organisation's {who} -> {response.status_code}")
            if snapshot() != before:
                problems.append(f"{name} {method.upper()} by another organisation changed the database")
        for role, user in world["users"].items():
            before = snapshot()
            response = _response_of(verified_client(user, login), method, url)
            status = response.status_code
            if method.upper() not in methods:
                expected_ok = status == 405
            elif role not in roles:
                expected_ok = status == 403
            else:
                expected_ok = status in {200, 302, 400}
            if not expected_ok:
                problems.append(f"{name} {method.upper()} {role} -> {status}")
            if (method == "post" or status >= 400) and snapshot() != before:
                problems.append(f"{name} {method.upper()} {role} with no input changed the database")
            if status == 200 and canary_b.encode() in _body(response):
                problems.append(f"{name} {method.upper()} {role} shows another organisation's case")
    return (
        f"case_view: roles {'/'.join(sorted(roles))}, methods {'/'.join(m for m in methods if m != 'HEAD')}; "
        "other roles 403, other methods 405, another organisation 404"
    )


def _check_admin_url(name, url, world, login, problems) -> str:
    for method in ("get", "post"):
        for user in (world["users"]["admin"], world["outsider"]):
            before = snapshot()
            response = _response_of(verified_client(user, login), method, url)
            if name in {"admin:login", "admin:logout"}:
                ok = response.status_code in {200, 302}
            else:
                ok = response.status_code == 302 and "/admin/login/" in response["Location"]
            if not ok:
                problems.append(f"{name} {method.upper()} non-staff member -> {response.status_code}")
            if snapshot() != before:
                problems.append(f"{name} {method.upper()} by a non-staff member changed the database")
    return "Django admin: non-staff members are sent to the admin login; staff only"


def _check_user_scoped_url(name, url, world, login, problems, canary_a, canary_b) -> str:
    rule = USER_SCOPED[name]
    for method in ("get", "post"):
        for role, user in world["users"].items():
            before = snapshot()
            response = _response_of(verified_client(user, login), method, url)
            status = response.status_code
            if method == "get":
                ok = status in {200, 302} if role in rule["get"] else status in {302, 403, 404, 405}
            else:
                ok = status in {200, 302, 400, 403, 404} if rule["post"] else status in {403, 404, 405}
            if not ok:
                problems.append(f"{name} {method.upper()} {role} -> {status}")
            if canary_b.encode() in _body(response):
                problems.append(f"{name} {method.upper()} {role} shows another organisation's case")
            if not rule.get("writes_own") and method == "post" and snapshot() != before:
                problems.append(f"{name} POST {role} with no input changed the database")
        response = _response_of(verified_client(world["outsider"], login), "get", url)
        if canary_a.encode() in _body(response):
            problems.append(f"{name} GET shows organisation A's case to organisation B")
    allowed = "/".join(sorted(rule["get"])) or "nobody (POST only or redirect)"
    return f"user-scoped: GET {allowed}; POST {'its own form' if rule['post'] else 'refused'}; only own organisations"


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def test_the_walk_sees_the_case_urls(world):
    names = {name for name, _, _ in walk(get_resolver().url_patterns) if name}
    assert {"cases:dossier_download", "cases:evidence_download"} <= names
    assert all(re.match(r"^[\w:]+$", n) for n in names)
