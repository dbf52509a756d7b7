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
from webhooks import services as webhook_services

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
    # Processing relationships and the inbox (cases/views/relationships.py): every reader of a processor
    # (controller) organisation sees its lists; only administrators (writers, for the inbox) post.
    "cases:relationship_controllers": {"get": set(ROLES), "post": True},
    "cases:relationship_processors": {"get": set(ROLES), "post": True},
    "cases:relationship_import": {"get": {"admin"}, "post": True},
    "cases:relationship_detail": {"get": set(ROLES), "post": True},
    "cases:relationship_invite": {"get": set(), "post": True},
    "cases:inbox": {"get": set(ROLES), "post": False},
    "cases:inbox_notice": {"get": set(ROLES), "post": True},
    # The PDF a processor sent, as received: every member of the controller reads it; nobody posts.
    "cases:inbox_notice_pdf": {"get": set(ROLES), "post": False},
    # The user's own API tokens; POST creates one of the user's own (with no input: 400, nothing saved).
    "api:tokens": {"get": set(ROLES), "post": True},
    "api:token_revoke": {"get": set(), "post": True},
    "api:docs": {"get": set(ROLES), "post": False},
    # Webhooks (webhooks/views.py): the endpoints and delivery log of the organisations the user
    # administers; other roles 403. Disable/enable need the version read (empty POST: 400, nothing
    # changed); another organisation's endpoint 404 (tests/test_webhooks.py).
    "webhooks:endpoints": {"get": {"admin"}, "post": True},
    "webhooks:endpoint_disable": {"get": set(), "post": True},
    "webhooks:endpoint_enable": {"get": set(), "post": True},
    "webhooks:deliveries": {"get": {"admin"}, "post": False},
}
# The URLs whose ids name a relationship or a received notice: another organisation's ids answer 404.
OBJECT_URLS = {
    "cases:relationship_detail": "relationship_id",
    "cases:relationship_invite": "relationship_id",
    "cases:inbox_notice": "received_id",
    "cases:inbox_notice_pdf": "received_id",
}
# The REST API (/api/v1/): a token or a verified session, JSON in and out. Anonymous: 401. On a case
# URL (the view's `method_roles`), another organisation's user gets 404, a role not listed 403, an
# empty write 400 and nothing saved; a read-only token 403 on every write. The user-scoped ones list
# only the user's organisations. Checked below with the session, a token and a read-only token.
API_PREFIX = "api/v1/"
API_USER_SCOPED = {"api:schema", "api:case_list", "api:deadline_list", "api:register"}
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
def world(db, make_org, make_user, make_relationship, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    home = make_org(name="Mutuelle A", code="muta", kind=Organization.Kind.BOTH, is_dora_entity=True)
    other = make_org(name="Mutuelle B", code="mutb", kind=Organization.Kind.BOTH)
    client_org = make_org(name="Assureur client", code="client")
    users = {role: make_user(home, role, f"a-{role}") for role in ROLES}
    outsider = make_user(other, Membership.Role.DPO, "b-dpo")
    outsider_admin = make_user(other, Membership.Role.ADMIN, "b-admin")

    def a_case(org, user, canary, year=2024, **facts):
        case = services.case_open(
            organization=org,
            title=f"Intrusion {canary}",
            first_signal_at=paris(year, 2, 1, 9, 0),
            aware_at=paris(year, 2, 1, 18, 0),
            aware_justification="Logs confirm data were read.",
            acting_user=user,
            **facts,
        )
        services.timeline_event_add(case, occurred_at=paris(year, 2, 1, 19), title="Coupure", acting_user=user)
        return case

    # A's case is also a major ICT-related incident (A is a DORA financial entity, DORA applies from
    # 17 January 2025): its DORA pages are walked.
    case_a = a_case(
        home,
        users["dpo"],
        "CANARY-A-7f3",
        year=2025,
        incident_known_at=paris(2025, 2, 1, 9, 0),
        dora_major=True,
        dora_classified_at=paris(2025, 2, 1, 12, 0),
    )
    case_b = a_case(other, outsider, "CANARY-B-9d1")
    notice = services.controller_add(case_a, relationship=make_relationship(home, client_org), acting_user=users["dpo"])
    # Informed, so that its PDF (cases:controller_notice_pdf) exists for the walk.
    services.controller_inform(notice, informed_at=paris(2025, 2, 1, 20, 0), acting_user=users["dpo"])
    # Organisation A's inbox holds a notice from its own processor; B has its own relationships and notice.
    received_a = _received_notice(make_org, make_user, make_relationship, home, "presta")
    received_b = _received_notice(make_org, make_user, make_relationship, other, "prestb")
    pending_b = make_relationship(other, controller_name="Client en attente", on_platform=True)
    evidence = services.evidence_add(
        case_a, uploaded_file=SimpleUploadedFile("recu.pdf", b"%PDF-1.4\n%%EOF\n"), acting_user=users["dpo"]
    )
    obligation = case_a.obligations.get(rule_code="GDPR_33_1")
    services.submission_draft(case_a, obligation=obligation, acting_user=users["dpo"])
    # The submission URLs are walked with the Art. 34 letter: every one of them answers for it, the
    # document (DOCX) and the merge-field list (CSV) included, which a CNIL notification does not have.
    services.decision_inform_persons(
        case_a, inform=True, reason="Risque élevé.", exemption="", acting_user=users["legal"]
    )
    letter = case_a.obligations.get(rule_code="GDPR_34")
    submission = services.submission_draft(case_a, obligation=letter, acting_user=users["dpo"])
    dora_report = services.submission_draft(
        case_a, obligation=case_a.obligations.get(rule_code="DORA_INITIAL"), acting_user=users["dpo"]
    )
    export = services.dossier_export_request(case_a, lang="fr", acting_user=users["auditor"])
    services.run_dossier_export(export.pk)
    history_row = case_a.history.first()
    endpoint, _secret = webhook_services.endpoint_create(
        organization=home, url="https://siem.example/hook", events=["case.opened"], acting_user=users["admin"]
    )
    return {
        "users": users,
        "outsider": outsider,
        "outsider_admin": outsider_admin,
        "case_a": case_a,
        "case_b": case_b,
        # Organisation B's objects, each plugged into A's URLs by A's users.
        "foreign_ids": {
            "relationship_id": [received_b.relationship_id, pending_b.pk],
            "received_id": [received_b.pk],
        },
        "params": {
            "reference": case_a.reference,
            "obligation_id": obligation.pk,
            "submission_id": submission.pk,
            "report_id": dora_report.pk,
            "evidence_id": evidence.pk,
            "notice_id": notice.pk,
            "relationship_id": notice.relationship_id,
            "received_id": received_a.pk,
            "export_id": export.pk,
            "token": "not-a-token",
            "token_id": 999_999,
            "endpoint_id": endpoint.pk,
            # admin
            "app_label": "cases",
            "object_id": str(case_a.pk),
            "version_id": str(history_row.history_id),
            "content_type_id": "1",
            "id": str(users["dpo"].pk),
            "pk": "1",
        },
    }


def _received_notice(make_org, make_user, make_relationship, controller, code):
    """A notice from a processor of `controller`, waiting in `controller`'s inbox."""
    processor = make_org(name=f"Prestataire {code}", code=code, kind=Organization.Kind.PROCESSOR)
    processor_dpo = make_user(processor, Membership.Role.DPO)
    case = services.case_open(
        organization=processor,
        title="Incident chez le prestataire",
        first_signal_at=paris(2024, 2, 1, 9, 0),
        aware_at=paris(2024, 2, 1, 10, 0),
        aware_justification="Confirmed.",
        acting_user=processor_dpo,
    )
    notice = services.controller_add(
        case, relationship=make_relationship(processor, controller), acting_user=processor_dpo
    )
    services.controller_inform(notice, informed_at=paris(2024, 2, 1, 11, 0), acting_user=processor_dpo)
    return notice.receipt


def snapshot() -> dict[str, int]:
    """Row counts of every table a request could change, history included."""
    models = [
        m
        for m in apps.get_models()
        if m._meta.app_label in {"cases", "reminders", "auth", "otp_totp", "otp_static", "api", "webhooks"}
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

        # Nobody logged in: the login page, never the content (the API: 401).
        for method in ("get", "post"):
            before = snapshot()
            response = getattr(Client(), method)(url)
            if route.startswith(API_PREFIX):
                ok = response.status_code == 401
            elif name in TOKEN:
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
        if route.startswith(API_PREFIX):
            expectation = _check_api_url(name, url, view, world, login, problems, canary_a, canary_b)
        elif hasattr(view, "case_roles"):
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


API_METHODS = ("get", "post", "patch", "put", "delete")


def _api_clients(user, login) -> dict[str, Client]:
    """The user's session, a read-write token and a read-only token."""
    from tests.api_support import issue_token

    _token, secret = issue_token(user, name="walk")
    _token, read_only = issue_token(user, name="walk read-only", read_only=True)
    return {
        "session": verified_client(user, login),
        "token": Client(HTTP_AUTHORIZATION=f"Bearer {secret}"),
        "read-only token": Client(HTTP_AUTHORIZATION=f"Bearer {read_only}"),
    }


def _api_call(client: Client, method: str, url: str):
    if method in ("get", "delete"):
        return getattr(client, method)(url)
    return getattr(client, method)(url, data="{}", content_type="application/json")


def _check_api_url(name, url, view, world, login, problems, canary_a, canary_b) -> str:
    view_class = view.view_class
    offered = {m for m in API_METHODS if hasattr(view_class, m)}
    method_roles = getattr(view_class, "method_roles", {})
    for who in ("outsider", "outsider_admin"):
        for kind, client in _api_clients(world[who], login).items():
            for method in API_METHODS:
                before = snapshot()
                status = _api_call(client, method, url).status_code
                if kind == "read-only token" and method != "get":
                    ok = status == 403  # refused before anything else, whatever the method
                elif method not in offered:
                    ok = status == 405
                elif name in API_USER_SCOPED:
                    ok = status in {200, 400}
                else:
                    ok = status == 404
                if not ok:
                    problems.append(f"{name} {method.upper()} another organisation's {who} ({kind}) -> {status}")
                if method != "get" and snapshot() != before:
                    problems.append(f"{name} {method.upper()} by another organisation ({kind}) changed the database")
            if "get" in offered and canary_a.encode() in _body(_api_call(client, "get", url)):
                problems.append(f"{name} GET shows organisation A's case to organisation B ({kind})")
    for role, user in world["users"].items():
        for kind, client in _api_clients(user, login).items():
            for method in API_METHODS:
                before = snapshot()
                response = _api_call(client, method, url)
                status = response.status_code
                allowed = method_roles.get(method.upper())
                if kind == "read-only token" and method != "get":
                    ok = status == 403
                elif method not in offered:
                    ok = status == 405
                elif allowed is not None and role not in allowed:
                    ok = status == 403
                else:
                    ok = status == 200 if method == "get" else status == 400
                if not ok:
                    problems.append(f"{name} {method.upper()} {role} ({kind}) -> {status}")
                if method != "get" and snapshot() != before:
                    problems.append(f"{name} {method.upper()} {role} ({kind}) with no input changed the database")
                if canary_b.encode() in _body(response):
                    problems.append(f"{name} {method.upper()} {role} ({kind}) shows another organisation's case")
    roles = "; ".join(f"{m} {'/'.join(sorted(r))}" for m, r in sorted(method_roles.items())) or "every member"
    scope = "only own organisations" if name in API_USER_SCOPED else "another organisation 404"
    return (
        f"API ({'/'.join(sorted(m.upper() for m in offered))}): roles {roles}; {scope}; "
        "anonymous 401, read-only token 403 on writes, other methods 405"
    )


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def test_another_organisations_relationships_and_notices_answer_404_and_change_nothing(world, login):
    """Every id of B's relationships and received notices, and of the relationship between A's own
    processor and A seen from the processor's side, plugged into A's URLs by every A user: 404."""
    problems = []
    a_users = list(world["users"].values())
    for user in [*a_users, world["outsider"], world["outsider_admin"]]:
        verified_client(user, login)
    for name, param in OBJECT_URLS.items():
        for foreign in world["foreign_ids"][param]:
            if param == "received_id" or foreign != world["foreign_ids"]["relationship_id"][-1]:
                url = reverse(name, kwargs={param: foreign})
                for user in a_users:
                    for method in ("get", "post"):
                        before = snapshot()
                        response = getattr(verified_client(user, login), method)(url, {"reason": "x", "version": 1})
                        if response.status_code not in {404, 405}:
                            problems.append(
                                f"{name} {param}={foreign} {method} {user.username} -> {response.status_code}"
                            )
                        if snapshot() != before:
                            problems.append(f"{name} {param}={foreign} {method} {user.username} changed the database")
    # And B's users on A's objects.
    for name, param in OBJECT_URLS.items():
        url = reverse(name, kwargs={param: world["params"][param]})
        for who in ("outsider", "outsider_admin"):
            for method in ("get", "post"):
                before = snapshot()
                response = getattr(verified_client(world[who], login), method)(url, {"reason": "x", "version": 1})
                if response.status_code not in {404, 405}:
                    problems.append(f"{name} {method} {who} on A's object -> {response.status_code}")
                if snapshot() != before:
                    problems.append(f"{name} {method} {who} on A's object changed the database")
    assert not problems, "\n".join(problems)


def test_pages_never_name_an_organisation_without_a_relationship(world, login):
    """The lists and pickers name only the user's own related parties: no other tenant shows."""
    urls = [reverse(n) for n in ("cases:relationship_controllers", "cases:relationship_processors", "cases:inbox")]
    urls.append(reverse("cases:controller_add", kwargs={"reference": world["case_a"].reference}))
    for user in world["users"].values():
        client = verified_client(user, login)
        for url in urls:
            body = _body(client.get(url)).decode()
            assert "Mutuelle B" not in body and "Client en attente" not in body and "Prestataire prestb" not in body, (
                url,
                user,
            )


def test_the_walk_sees_the_case_urls(world):
    names = {name for name, _, _ in walk(get_resolver().url_patterns) if name}
    assert {"cases:dossier_download", "cases:evidence_download"} <= names
    assert all(re.match(r"^[\w:]+$", n) for n in names)
