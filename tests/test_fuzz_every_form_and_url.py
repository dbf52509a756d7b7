"""Every form and every URL parameter receives bad values: never a server error, never a row changed by a refusal.

Nothing is listed by hand: the test walks the URL configuration (as tests/test_isolation_walk.py
does), GETs each page as each kind of visitor (each role, a user between password and second
factor, a user enrolling, an anonymous visitor), parses every <form> of the answers and its
fields, then posts each form once per bad value of each field, the other fields as the browser
would send them. A form added later (relationships, imports, inbox, API pages...) is fuzzed the
day it appears on a page. URL parameters get bad values of their own.

The corpus is fixed and bounded per field kind (text, number, date, choice, hidden, file):
missing, huge, NUL and other controls, a right-to-left override, HTML/script, negative, NaN,
infinity, year 1, year 9999, 30 February, the Paris DST gap and fold, invalid UTF-8, and the key
repeated. Each post runs in a savepoint rolled back afterwards, so every value meets the same
state; a refused post (4xx) must leave every tracked table as it found it.

Counts are written to test-artifacts/fuzz-report.md (and printed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from hashlib import sha256
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import get_resolver, reverse

from accounts.models import SecurityEvent
from cases.history import chained_history_models
from tests import test_isolation_walk as isolation
from tests.test_isolation_walk import ADMIN_NAMESPACE, params_of, walk

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
world = isolation.world  # the isolation walk's organisations, users, cases and URL parameters


class Missing:
    """The field is not sent at all."""


MISSING = Missing()
REPEATED = object()  # the key sent twice, with two different values
HUGE = "A" * 100_000
NUL = "ab\x00cd"
CONTROLS = "x\x1b[2J\x07\x7f"
RTL = "\u202egnp.exe"
HTML = '<script>alert("x")</script>'
BAD_UTF8 = b"\xff\xfe\xc3("
DATES = {
    "year 1": "0001-01-01T00:00",
    "year 9999": "9999-12-31T23:59",
    "30 February": "2024-02-30T10:00",
    "DST gap": "2024-03-31T02:30",
    "DST fold": "2024-10-27T02:30",
}
CORPUS: dict[str, dict[str, object]] = {
    "text": {"missing": MISSING, "huge": HUGE, "NUL": NUL, "controls": CONTROLS, "RTL": RTL, "HTML": HTML}
    | {"invalid UTF-8": BAD_UTF8, "repeated": REPEATED},
    "number": {"missing": MISSING, "huge": "9" * 400, "NUL": NUL, "negative": "-1", "NaN": "NaN"}
    | {"infinity": "Infinity", "overflow": "1e309", "repeated": REPEATED},
    "date": {"missing": MISSING, "NUL": NUL, **DATES, "invalid UTF-8": BAD_UTF8, "repeated": REPEATED},
    "choice": {"missing": MISSING, "NUL": NUL, "HTML": HTML, "NaN": "NaN", "huge": HUGE}
    | {"negative": "-1", "invalid UTF-8": BAD_UTF8, "repeated": REPEATED},
    "hidden": {"missing": MISSING, "negative": "-1", "huge": "9" * 400, "NaN": "NaN", "NUL": NUL}
    | {"RTL": RTL, "repeated": REPEATED},
}
FILES = ("missing", "empty", "hostile name", "long name")
PATH_VALUES = {
    "str": {"NUL": NUL, "huge": "A" * 5_000, "RTL": RTL, "HTML": HTML, "controls": CONTROLS, "dot-dot": ".."}
    | {"invalid UTF-8": BAD_UTF8, "negative": "-1"},
    "int": {"zero": "0", "huge": "9" * 40, "leading zeros": "000001"},
}


# --- reading the forms of a page ------------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # text, number, date, choice, hidden, file
    values: list[str] = field(default_factory=list)  # what the browser sends as the page is shown
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    page: str
    method: str
    action: str
    multipart: bool
    fields: dict[str, Field] = field(default_factory=dict)

    def key(self) -> tuple:
        return (self.method, urlsplit(self.action).path, tuple(sorted(self.fields)))

    def baseline(self) -> list[tuple[str, str]]:
        return [(f.name, v) for f in self.fields.values() if f.kind != "file" for v in f.values]


INPUT_KINDS = {"datetime-local": "date", "date": "date", "number": "number", "hidden": "hidden", "file": "file"}


class FormParser(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.select: Field | None = None
        self.option: tuple[str | None, bool] | None = None
        self.textarea: Field | None = None

    def _field(self, name: str, kind: str) -> Field:
        return self.form.fields.setdefault(name, Field(name, kind))

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            action = a.get("action") or self.page
            self.form = Form(self.page, a.get("method", "get").lower(), action, "multipart" in a.get("enctype", ""))
            self.forms.append(self.form)
        if tag == "option" and self.select is not None:
            self.option = (a.get("value"), "selected" in a)
        if self.form is None or not a.get("name"):
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in {"submit", "button", "image", "reset"}:
                field_ = self._field(name, "choice")
                field_.options.append(a.get("value", ""))
                field_.values[:] = field_.values or [a.get("value", "")]
            elif kind in {"radio", "checkbox"}:
                field_ = self._field(name, "choice")
                field_.options.append(a.get("value", "on"))
                if "checked" in a:
                    field_.values.append(a.get("value", "on"))
            else:
                field_ = self._field(name, INPUT_KINDS.get(kind, "text"))
                field_.values = [a.get("value", "")] if kind != "file" else []
        elif tag == "button" and a.get("type", "submit") == "submit":
            field_ = self._field(name, "choice")
            field_.options.append(a.get("value", ""))
            field_.values[:] = field_.values or [a.get("value", "")]
        elif tag == "select":
            self.select = self._field(name, "choice")
        elif tag == "textarea":
            self.textarea = self._field(name, "text")
            self.textarea.values = [""]

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea.values = [self.textarea.values[0] + data]
        if self.option is not None and self.option[0] is None:
            self.option = (data.strip(), self.option[1])

    def handle_endtag(self, tag):
        if tag == "option" and self.select is not None and self.option is not None:
            value, selected = self.option
            self.select.options.append(value or "")
            if selected:
                self.select.values.append(value or "")
            self.option = None
        elif tag == "select" and self.select is not None:
            if not self.select.values and self.select.options:
                self.select.values = [self.select.options[0]]
            self.select = None
        elif tag == "textarea":
            if self.textarea is not None and self.textarea.values[0].startswith("\n"):
                self.textarea.values = [self.textarea.values[0][1:]]
            self.textarea = None
        elif tag == "form":
            self.form = None


def page_forms(url: str, html: str) -> list[Form]:
    parser = FormParser(url)
    parser.feed(html)
    return parser.forms


# --- what a refused request must not change -----------------------------------------------------


def tracked_state() -> str:
    """A digest of every table a request could change: audited models by their history, the rest by content."""
    history = chained_history_models()
    parts = []
    with connection.cursor() as cursor:
        for model in history:
            table = model._meta.db_table
            cursor.execute(f'SELECT COUNT(*), MAX(history_id) FROM "{table}"')  # noqa: S608 - our own table names
            parts.append(f"{table}:{cursor.fetchone()}")
    audited = {m.instance_type for m in history if hasattr(m, "instance_type")}
    for model in apps.get_models():
        if model._meta.app_label not in {
            "cases",
            "reminders",
            "accounts",
            "auth",
            "otp_totp",
            "otp_static",
            "webhooks",
        }:
            continue
        if model in audited or model is SecurityEvent or model._meta.db_table.startswith("cases_historical"):
            continue  # security events are written for refused logins by design (lockout counting)
        rows = list(model._default_manager.order_by("pk").values_list())
        parts.append(f"{model._meta.db_table}:{sha256(repr(rows).encode()).hexdigest()}")
    return "\n".join(parts)


# --- sending ------------------------------------------------------------------------------------


@dataclass
class Tally:
    posts: int = 0
    gets: int = 0
    forms: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    partial_saves: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)


def _body(pairs: list[tuple[str, object]]) -> bytes:
    return "&".join(
        f"{quote(name)}={quote(value) if isinstance(value, str | bytes) else ''}" for name, value in pairs
    ).encode()


def _mutated(form: Form, target: Field, value: object) -> list[tuple[str, object]]:
    pairs = [(n, v) for n, v in form.baseline() if n != target.name]
    if value is MISSING:
        return pairs
    if value is REPEATED:
        first = target.values[0] if target.values else ""
        other = next((o for o in target.options if o != first), "autre")
        return [*pairs, (target.name, first), (target.name, other)]
    return [*pairs, (target.name, value)]


def _restore_cookies(client: Client, saved: dict[str, str]) -> None:
    for name in list(client.cookies):
        if name not in saved:
            del client.cookies[name]
    for name, value in saved.items():
        client.cookies[name] = value


def send(
    client: Client,
    method: str,
    url: str,
    before: str,
    *,
    body: bytes | None = None,
    files: dict | None = None,
    **extra,
):
    """One request in a savepoint rolled back afterwards; returns the response and whether it changed tracked rows.

    `before` is `tracked_state()` as every request finds it (each one is rolled back).
    """
    saved = {name: morsel.value for name, morsel in client.cookies.items()}
    with transaction.atomic():
        if method == "get":
            response = client.generic("GET", url, **extra)
        elif files is not None:
            response = client.post(url, files)
        else:
            response = client.generic("POST", url, body or b"", content_type="application/x-www-form-urlencoded")
        changed = tracked_state() != before
        transaction.set_rollback(True)
    _restore_cookies(client, saved)
    return response, changed


def judge(tally: Tally, label: str, response, changed: bool) -> None:
    status = response.status_code
    tally.statuses[status] = tally.statuses.get(status, 0) + 1
    if status >= 500:
        tally.server_errors.append(f"{label} -> {status}")
    if status >= 400 and changed:
        tally.partial_saves.append(f"{label} -> {status} but rows changed")


def fuzz_form(client: Client, form: Form, tally: Tally) -> None:
    before = tracked_state()
    for target in form.fields.values():
        if target.kind == "file":
            for case in FILES:
                tally.posts += 1
                label = f"POST {form.action} {target.name}={case}"
                data = dict(form.baseline())
                if case != "missing":
                    name = {"empty": "vide.pdf", "hostile name": f"{RTL}{HTML}.pdf", "long name": "n" * 400 + ".pdf"}[
                        case
                    ]
                    content = b"" if case == "empty" else b"%PDF-1.4\n%%EOF\n"
                    data[target.name] = SimpleUploadedFile(name, content)
                response, changed = send(client, "post", form.action, before, files=data)
                judge(tally, label, response, changed)
            continue
        for case, value in CORPUS[target.kind].items():
            pairs = _mutated(form, target, value)
            label = f"{form.method.upper()} {form.action} {target.name}={case}"
            if form.method == "get":
                tally.gets += 1
                path = urlsplit(form.action).path
                response, changed = send(client, "get", path, before, QUERY_STRING=_body(pairs).decode("ascii"))
            else:
                tally.posts += 1
                response, changed = send(client, "post", form.action, before, body=_body(pairs))
            judge(tally, label, response, changed)


def fuzz_url_parameters(client_for, resolver, params: dict, tally: Tally) -> None:
    before = tracked_state()
    for name, route, pattern in walk(resolver.url_patterns):
        if name is None or name.split(":")[0] == ADMIN_NAMESPACE or name.startswith("static"):
            continue
        names, positional = params_of(pattern)
        if not names or positional:
            continue
        converters = getattr(pattern.pattern, "converters", {})
        client = client_for(pattern)
        for param in names:
            kind = "int" if type(converters.get(param)).__name__ == "IntConverter" else "str"
            marker = "999424242" if kind == "int" else "FUZZMARKER"
            url = reverse(name, kwargs={p: (marker if p == param else params[p]) for p in names})
            for case, value in PATH_VALUES[kind].items():
                encoded = quote(value, safe="") if isinstance(value, str) else quote(value)
                for method in ("get", "post"):
                    tally.gets += method == "get"
                    tally.posts += method == "post"
                    response, changed = send(client, method, url.replace(marker, encoded), before)
                    judge(tally, f"{method.upper()} {route} {param}={case}", response, changed)


# --- the test -----------------------------------------------------------------------------------


@pytest.fixture
def visitors(world, login, make_user):
    """Every kind of visitor: each role (second factor verified), one between password and code, one enrolling."""
    users = world["users"]
    clients = {role: login(user, Client()) for role, user in users.items()}
    pending = get_user_model().objects.create_user("pending", password="x" * 16)
    from django_otp.plugins.otp_static.models import StaticDevice

    StaticDevice.objects.create(user=pending, name="backup codes", confirmed=True).token_set.create(token="12345678")
    clients["pending"] = Client()
    clients["pending"].force_login(pending)
    clients["enrolling"] = Client()
    clients["enrolling"].force_login(get_user_model().objects.create_user("enrolling", password="x" * 16))
    clients["anonymous"] = Client()
    # A lockout in the log, so the administrator's page shows its unlock form.
    SecurityEvent.objects.create(kind=SecurityEvent.Kind.LOCKED_OUT, username=users["dpo"].username)
    return clients


def test_every_form_and_url_parameter_survives_bad_input(world, visitors):
    started = time.perf_counter()
    resolver = get_resolver()
    params = world["params"]
    tally = Tally()
    found: dict[tuple, tuple[str, Form]] = {}

    for name, _route, pattern in walk(resolver.url_patterns):
        if name is None or name.split(":")[0] == ADMIN_NAMESPACE or name.startswith("static"):
            continue  # the Django admin is staff-only Django code
        names, positional = params_of(pattern)
        if (names and positional) or any(p not in params for p in names):
            continue  # positional groups: only the admin's; unknown parameters: the isolation walk reports them
        url = reverse(name, kwargs={p: params[p] for p in names})
        for who, client in visitors.items():
            response = client.get(url)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            for form in page_forms(url, response.content.decode()):
                if urlsplit(form.action).netloc:
                    continue
                found.setdefault(form.key(), (who, form))

    for who, form in found.values():
        tally.forms.append(f"{form.method.upper()} {urlsplit(form.action).path} as {who}: {', '.join(form.fields)}")
        fuzz_form(visitors[who], form, tally)

    def client_for(pattern):
        roles = getattr(pattern.callback, "case_roles", None)
        return visitors[next((r for r in ("dpo", "admin", "legal", "auditor") if not roles or r in roles), "dpo")]

    fuzz_url_parameters(client_for, resolver, params, tally)
    elapsed = time.perf_counter() - started

    report = [
        f"# Fuzz of every form and URL parameter ({connection.vendor})",
        "",
        f"{len(found)} forms, {tally.posts} posts, {tally.gets} GETs in {elapsed:.0f} s; "
        f"{len(tally.server_errors)} server errors (5xx), "
        f"{len(tally.partial_saves)} refused requests that changed rows.",
        "",
        "Statuses: " + ", ".join(f"{s}: {n}" for s, n in sorted(tally.statuses.items())),
        "",
        "## Forms found",
        *[f"- {line}" for line in sorted(tally.forms)],
        "",
        "## Problems",
        *[f"- {p}" for p in tally.server_errors + tally.partial_saves],
    ]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"fuzz-report-{connection.vendor}.md").write_text("\n".join(report) + "\n", encoding="utf-8")
    print("\n".join(report[:5]))

    actions = {urlsplit(form.action).path for _, form in found.values()}
    for expected in ("cases:case_open", "accounts:login", "accounts:verify", "reminders:preferences"):
        assert reverse(expected) in actions, f"the walk no longer finds the form of {expected}"
    assert any(path.endswith("/edit/") for path in actions) and len(found) >= 20
    assert not tally.server_errors, "\n".join(tally.server_errors[:50])
    assert not tally.partial_saves, "\n".join(tally.partial_saves[:50])


def test_the_form_reader_sees_what_a_browser_sends():
    html = """<form method="post" action="/x/" enctype="multipart/form-data">
      <input type="hidden" name="version" value="3"><input name="title" value="T">
      <textarea name="body">
ligne</textarea>
      <select name="kind"><option value="">—</option><option value="a" selected>A</option></select>
      <input type="checkbox" name="cats" value="c1" checked><input type="checkbox" name="cats" value="c2">
      <input type="radio" name="yn" value="yes"><input type="radio" name="yn" value="no" checked>
      <input type="file" name="proof"><input type="datetime-local" name="at" value="2024-02-01T09:00">
      <button type="submit" name="action" value="issue">Go</button></form>"""
    (form,) = page_forms("/page/", html)
    assert form.multipart and form.method == "post" and form.action == "/x/"
    assert dict((n, v) for n, v in form.baseline() if n != "cats") == {
        "version": "3",
        "title": "T",
        "body": "ligne",
        "kind": "a",
        "yn": "no",
        "at": "2024-02-01T09:00",
        "action": "issue",
    }
    assert [v for n, v in form.baseline() if n == "cats"] == ["c1"]
    assert {f.name: f.kind for f in form.fields.values()} == {
        "version": "hidden",
        "title": "text",
        "body": "text",
        "kind": "choice",
        "cats": "choice",
        "yn": "choice",
        "proof": "file",
        "at": "date",
        "action": "choice",
    }
