"""Browser tests: a DPO works a breach in Debian's Chromium, through the real login and second factor.

The application runs in a subprocess (`manage.py runserver` on a free port, its own temporary
SQLite file, migrated and loaded with `seed_demo`), not pytest-django's `live_server`: that one
flushes its database at teardown, and the append-only triggers of the history tables refuse the
DELETE. One server per pytest process (each xdist worker builds its own), stopped at the end.
With `BROWSER_SERVER=gunicorn` (.ci/run's PostgreSQL pass) it runs as in production instead: the
production command (`bin/serve`: deploy checks, `collectstatic`, gunicorn) with debug off, on a
PostgreSQL database of its own when the suite runs on PostgreSQL, and the browser sends what the
TLS-terminating proxy would add (`X-Forwarded-Proto: https`).

Chromium is Debian's `/usr/bin/chromium`, driven by pytest-playwright (`playwright install` is
never run: the machine's network is closed). Without it the module is skipped, unless
`REQUIRE_BROWSER=1` (set by `.ci/run`), which turns the skip into a failure.

Pages are read in English (the browser asks for `en-GB`): the template strings are the English
message ids, so the assertions do not depend on the state of the French catalogue.
Screenshots go to `test-artifacts/` (git-ignored): dashboard.png, dashboard-phone.png, case-page.png.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.processes import checkpoint_key

CHROMIUM = "/usr/bin/chromium"
# How the machine's notes say Chromium runs here (as root, closed network).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REQUIRED = os.environ.get("REQUIRE_BROWSER", "") == "1"
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
PARIS = ZoneInfo("Europe/Paris")

# Every browser test runs on one xdist worker (`--dist loadgroup`): one server, one Chromium.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"{reason}; REQUIRE_BROWSER=1 forbids skipping the browser tests.", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    _unavailable("playwright is not installed (pip install -r requirements-browser.txt)")
if not os.access(CHROMIUM, os.X_OK):  # pragma: no cover - depends on the machine
    _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")


# --- the application under test ----------------------------------------------------------------


PRODUCTION = os.environ.get("BROWSER_SERVER", "runserver") == "gunicorn"
# What the TLS-terminating reverse proxy adds to every request (docs/deployment.md).
PROXY_HEADERS = {"X-Forwarded-Proto": "https"} if PRODUCTION else {}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(*args: str, env: dict, log) -> None:
    subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=True
    )


def _answers(url: str) -> bool:
    request = urllib.request.Request(url, headers=PROXY_HEADERS)  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 - loopback
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@contextlib.contextmanager
def _production_database(env: dict) -> Iterator[None]:
    """On PostgreSQL (the suite's DATABASE_URL), a database of the browser server's own; else its SQLite file."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield
        return
    import psycopg

    base, _, name = url.rpartition("/")
    name = f"test_{name.split('?')[0]}_browser"
    admin_url = base.replace("postgres://", "postgresql://", 1) + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    env["DATABASE_URL"] = f"{base}/{name}"
    try:
        yield
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _server_command(port: int, env: dict) -> list[str]:
    if not PRODUCTION:
        return [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    env.update(GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2", VENV=str(Path(sys.executable).parent.parent))
    # The browser's origin is plain HTTP here (no proxy in front): trusted, as a real https:// one would be.
    env["DJANGO_CSRF_TRUSTED_ORIGINS"] = f"http://127.0.0.1:{port}"
    return ["bash", "bin/serve"]


@pytest.fixture(scope="session")
def app_url(tmp_path_factory) -> Iterator[str]:
    """The real application, migrated and seeded, served on a free loopback port."""
    work = tmp_path_factory.mktemp("browser-app")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "TEST_DATABASE_NAME"}}
    env.update(
        SQLITE_PATH=str(work / "app.sqlite3"),
        EVIDENCE_ROOT=str(work / "evidence"),
        DJANGO_DEBUG="1",  # runserver serves the static files
        PYTHONUNBUFFERED="1",
    )
    if PRODUCTION:
        env.update(
            DJANGO_DEBUG="0",
            DJANGO_SECRET_KEY="browser-test-secret-" + "b" * 40,
            HISTORY_CHAIN_KEY="browser-test-chain-" + "c" * 40,
            HISTORY_CHECKPOINT_KEY_FILE=checkpoint_key(work),
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            DJANGO_SECURE_PROXY_SSL_HEADER="1",
            DJANGO_STATIC_ROOT=str(work / "static"),
        )
    with contextlib.ExitStack() as stack:
        if PRODUCTION:
            stack.enter_context(_production_database(env))
        yield from _serve(work, env)


def _serve(work: Path, env: dict) -> Iterator[str]:
    log_path = work / "server.log"
    with log_path.open("w") as log:
        _manage("migrate", "--noinput", env=env, log=log)
        _manage("seed_demo", env=env, log=log)
    for _attempt in range(3):  # another process may take the port between probe and bind
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log = log_path.open("a")
        server = subprocess.Popen(  # noqa: S603
            _server_command(port, env),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # gunicorn's workers are stopped with it
        )
        deadline = time.monotonic() + 90
        while server.poll() is None and time.monotonic() < deadline and not _answers(f"{url}/accounts/login/"):
            time.sleep(0.2)
        if server.poll() is None and _answers(f"{url}/accounts/login/"):
            break
        _stop(server)
        log.close()
    else:
        pytest.fail(f"the application did not start:\n{log_path.read_text()[-4000:]}", pytrace=False)
    try:
        yield url
    finally:
        _stop(server)
        log.close()


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


# --- pytest-playwright, pointed at Debian's Chromium ----------------------------------------------
# `playwright` and the fixtures built on it are module-scoped here (session-scoped in the plugin):
# while a Playwright connection is open, its event loop counts as running in this thread, and
# Django would refuse ORM calls ("SynchronousOnlyOperation") in the tests that follow on the
# same worker. Closing it when this module ends keeps the rest of the suite unaffected.


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    return {"executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="module")
def playwright():
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser_type(playwright, browser_name):
    return getattr(playwright, browser_name or "chromium")


@pytest.fixture(scope="module")
def launch_browser(browser_type_launch_args, browser_type):
    def launch(**kwargs):
        return browser_type.launch(**{**browser_type_launch_args, **kwargs})

    return launch


@pytest.fixture(scope="module")
def browser(launch_browser):
    browser = launch_browser()
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def browser_context_args(app_url) -> dict:
    return {
        "base_url": app_url,
        "locale": "en-GB",
        "timezone_id": "Europe/Paris",
        "viewport": {"width": 1280, "height": 900},
        "extra_http_headers": PROXY_HEADERS,
    }


@pytest.fixture(autouse=True)
def _timeouts(page: Page) -> None:
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)


# --- logging in through the real pages -------------------------------------------------------------

# Demo users (cases/demo.py); each test logs in as its own user: a TOTP code is accepted once.
PASSWORDS = {
    "crc.dpo": "CRC-Reunion-DPO-2024",
    "lmg.dpo": "LMG-DPO-Demo-2024",
    "almerys.dpo": "Almerys-DPO-2024",
}


def current_code(username: str) -> str:
    """The code the demo authenticator app shows now (RFC 6238, the demo account's published secret)."""
    from django_otp.oath import totp

    from accounts.mfa import demo_secret_base32

    secret = demo_secret_base32(username)
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{totp(key, step=30, t0=0, digits=6):06d}"


def enter_password(page: Page, username: str) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORDS[username])
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/verify/"))


def enter_code(page: Page, code: str) -> None:
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_role("button", name="Verify").click()


def log_in(page: Page, username: str) -> None:
    enter_password(page, username)
    enter_code(page, current_code(username))
    expect(page).not_to_have_url(re.compile(r"/accounts/"))
    expect(page.locator(".who")).to_have_text(username)


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    # From the top: a sticky sidebar is drawn where the scroll position puts it (e.g. after #filings).
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0
    return path


# --- tests -------------------------------------------------------------------------------------------


def test_the_second_factor_is_required_after_the_password(page: Page):
    enter_password(page, "lmg.dpo")
    expect(page.get_by_role("heading", name="Second factor")).to_be_visible()

    # The password alone opens nothing: the dashboard and the admin both send back to the code.
    for path in ("/", "/admin/"):
        page.goto(path)
        expect(page).to_have_url(re.compile(r"/accounts/two-factor/verify/$"))
        expect(page.get_by_role("heading", name="Second factor")).to_be_visible()

    # A wrong code is refused, the right one opens the workspace.
    code = current_code("lmg.dpo")
    enter_code(page, "000000" if code != "000000" else "111111")
    expect(page.get_by_text("This code is not valid.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/verify/"))
    # django-otp throttles the device after a failure (1 s after the first): a code sent sooner is refused too.
    page.wait_for_timeout(1_500)
    enter_code(page, code)
    expect(page).to_have_url(re.compile(r"^http://[^/]+/$"))  # back to the page first asked for
    expect(page.locator(".who")).to_have_text("lmg.dpo")


RECEIPT_PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)
CNIL_RULE = "Breach notification to the CNIL (GDPR Art. 33(1))"
PHONE = {"width": 375, "height": 812}


def paris_minutes(instant: datetime) -> datetime:
    return instant.astimezone(PARIS).replace(second=0, microsecond=0)


def as_input(instant: datetime) -> str:
    """What a DPO types in a datetime-local field: Paris wall-clock time."""
    return instant.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")


def as_shown(instant: datetime) -> str:
    return instant.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


def test_a_dpo_notifies_the_cnil_on_time_and_finds_it_in_the_history(
    page: Page, browser, browser_context_args, tmp_path
):
    # Logged in through both factors, the DPO lands on the deadlines dashboard.
    log_in(page, "crc.dpo")
    expect(page.get_by_role("heading", name="Deadlines", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^Running clocks"))).to_be_visible()
    screenshot(page, "dashboard.png")

    # The same session on a phone: the dashboard fits the screen width (tables scroll inside their frame).
    phone = browser.new_context(
        **{**browser_context_args, "viewport": PHONE}, storage_state=page.context.storage_state(), is_mobile=True
    )
    try:
        phone_page = phone.new_page()
        phone_page.goto("/")
        expect(phone_page.get_by_role("heading", name="Deadlines", exact=True)).to_be_visible()
        screenshot(phone_page, "dashboard-phone.png")
        assert phone_page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        phone.close()

    # Opening a case takes the facts that start the clocks.
    aware_at = paris_minutes(datetime.now(PARIS) - timedelta(hours=2))
    title = "Credential stuffing on the member portal (browser test)"
    page.get_by_role("link", name="New case").click()
    expect(page.get_by_role("heading", name="Open a case")).to_be_visible()
    page.get_by_label("Organisation").select_option(label="Groupe CRC (La Réunion)")
    page.get_by_label(re.compile(r"^Title")).fill(title)
    page.get_by_label("First signal (Paris time)").fill(as_input(aware_at - timedelta(hours=1)))
    page.get_by_label("How it was discovered").fill("SOC alert: credential stuffing on the member portal.")
    page.get_by_label("Aware at (Paris time)").fill(as_input(aware_at))
    page.get_by_label("Why awareness is dated so").fill("Application logs confirm member data were displayed.")
    page.get_by_role("button", name="Open the case").click()

    expect(page).to_have_url(re.compile(r"/cases/[^/]+/$"))
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    reference = page.url.rstrip("/").rsplit("/", 1)[-1]
    expect(page.get_by_text(f"Case {reference} opened")).to_be_visible()

    # The CNIL clock runs: due 72 hours after awareness, continuously, shown in Paris time.
    cnil = page.get_by_role("row").filter(has_text=CNIL_RULE)
    expect(cnil).to_have_count(1)
    expect(cnil.get_by_text("Running", exact=True)).to_be_visible()
    due = aware_at.astimezone(ZoneInfo("UTC")) + timedelta(hours=72)
    expect(cnil.locator("time")).to_have_text(as_shown(due))
    expect(cnil.locator("time")).to_have_attribute(
        "datetime", re.compile(re.escape(due.astimezone(PARIS).isoformat()[:16]))
    )
    expect(cnil.get_by_text(re.compile(r"^in \d+ d \d+ h$"))).to_be_visible()
    obligation_id = cnil.get_attribute("id")
    assert obligation_id and re.fullmatch(r"obligation-\d+", obligation_id)

    # The dashboard lists the new clock, with a direct link to its row on the case page.
    page.get_by_role("link", name="Deadlines", exact=True).click()
    on_board = page.get_by_role("row").filter(has_text=reference).filter(has_text=CNIL_RULE)
    expect(on_board.get_by_text("Running", exact=True)).to_be_visible()
    expect(on_board.locator("time")).to_have_text(as_shown(due))
    on_board.get_by_role("link", name=re.compile(r"^Complete")).click()
    expect(page).to_have_url(re.compile(rf"/cases/{re.escape(reference)}/#{obligation_id}$"))
    cnil = page.locator(f"#{obligation_id}")

    # Recording the initial notification, with the CNIL's receipt, from the obligation's row.
    receipt = tmp_path / "cnil-receipt.pdf"
    receipt.write_bytes(RECEIPT_PDF)
    sent_at = paris_minutes(datetime.now(PARIS) - timedelta(minutes=5))
    cnil.get_by_role("link", name="Record the filing").click()
    expect(page.get_by_role("heading", name="Record a filing")).to_be_visible()
    expect(page.get_by_label("Obligation it satisfies")).to_have_value(obligation_id.removeprefix("obligation-"))
    expect(page.get_by_label("Kind of filing")).to_have_value("cnil_initial")
    page.get_by_label("Sent at (Paris time)").fill(as_input(sent_at))
    page.get_by_label("Reference (e.g. CNIL number)").fill("CNIL-NOTIF-2026-0042")
    page.get_by_label("Channel").fill("CNIL online notification service")
    page.get_by_label("Recipient").fill("CNIL")
    page.get_by_label("Content sent").fill("Initial notification: credential stuffing, members' identity and NIR.")
    page.get_by_label("Receipt or proof (file)").set_input_files(receipt)
    page.get_by_role("button", name="Save").click()

    # Back on the case page: the obligation is done on time, by this DPO, with the CNIL's number.
    expect(page).to_have_url(re.compile(rf"/cases/{re.escape(reference)}/#filings$"))
    expect(page.get_by_text("Filing recorded.")).to_be_visible()
    cnil = page.locator(f"#{obligation_id}")
    expect(cnil.get_by_text("Done on time", exact=True)).to_be_visible()
    expect(cnil).to_contain_text(f"Done at {as_shown(sent_at)} · crc.dpo")
    expect(cnil).to_contain_text("CNIL-NOTIF-2026-0042")
    expect(cnil.get_by_role("link", name="Record the filing")).to_have_count(0)
    filing = page.locator("#filings").get_by_role("row").filter(has_text="CNIL-NOTIF-2026-0042")
    expect(filing).to_contain_text("CNIL initial notification")
    # The receipt downloads unchanged.
    with page.expect_download() as download:
        filing.get_by_role("link", name="cnil-receipt.pdf").click()
    assert Path(download.value.path()).read_bytes() == RECEIPT_PDF
    screenshot(page, "case-page.png")

    # The History tab names who changed the obligation, and from what to what.
    page.get_by_role("link", name="History", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/cases/{re.escape(reference)}/history/$"))
    expect(page.get_by_role("heading", name="Change history")).to_be_visible()
    state_field = page.locator("td.field-name", has_text=re.compile(r"^State$"))
    was_pending = page.locator("td.before", has_text=re.compile(r"^Pending$"))
    # One version of the obligation (its row number on the page) changed its state from "Pending"...
    change = page.locator("tbody.version").filter(has_text="GDPR_33_1").filter(has=state_field).filter(has=was_pending)
    expect(change).to_have_count(1)
    # ... to "Done", by the DPO, with the other fields of the completion.
    expect(change.locator("td.who")).to_have_text("Maëlle Payet")  # people by their full name in the history
    expect(change.get_by_role("row").filter(has=state_field).locator("td.after")).to_have_text("Done")
    expect(change.get_by_role("row").filter(has_text="Completed by")).to_contain_text("Maëlle Payet")
    expect(change.get_by_role("row").filter(has_text="Completed at")).to_contain_text(as_shown(sent_at))


def test_pages_are_styled_and_errors_have_their_page_under_the_server_in_use(page: Page):
    """With BROWSER_SERVER=gunicorn (debug off): hashed, compressed static files cached for a year, custom 404."""
    stylesheets = []
    page.on("response", lambda response: stylesheets.append(response) if "/static/css/" in response.url else None)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    # Styled: the page background is app.css's, not the browser's white.
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(246, 247, 249)"
    app_css = next(response for response in stylesheets if "/static/css/app" in response.url)
    assert app_css.status == 200
    if PRODUCTION:
        assert re.search(r"/static/css/app\.[0-9a-f]{12}\.css$", app_css.url)
        assert app_css.headers["cache-control"] == "max-age=315360000, public, immutable"
        assert app_css.headers["content-encoding"] == "gzip"

    missing = page.goto("/static/no-such-page.css")
    assert missing.status == 404
    if PRODUCTION:
        expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(246, 247, 249)"
        expect(page.get_by_text("Traceback")).to_have_count(0)
    screenshot(page, "not-found.png")


# --- every page on a phone and on a desktop ------------------------------------------------------------

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# A member of each role in the demo (each test logs in as its own users: a TOTP code is accepted once).
LAYOUT_USERS = {"dpo": "viamedis.dpo", "legal": "crc.juriste", "admin": "viamedis.admin"}
PASSWORDS.update({"viamedis.dpo": "Viamedis-DPO-2024", "crc.juriste": "CRC-Reunion-Legal-2024"})
PASSWORDS.update({"viamedis.admin": "Viamedis-Admin-2024"})
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll("body *")]
    .filter((el) => el.getBoundingClientRect().right > width + 1 && getComputedStyle(el).position !== "fixed")
    .filter((el) => !el.closest(".table-wrap, .scroll-x"))
    .map((el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className ? "." + el.className : ""));
  return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 8)};
}"""


def _pages_of(page: Page) -> list[str]:
    """The pages a member reaches: every menu entry, a case page, its history, its forms and its exports."""
    page.goto("/")
    paths = page.eval_on_selector_all(".mainnav a", "links => links.map((a) => a.getAttribute('href'))")
    page.goto("/cases/")
    case = page.eval_on_selector("table a[href^='/cases/']", "a => a.getAttribute('href')")
    page.goto(case)
    extra = page.eval_on_selector_all(
        "main a[href^='/cases/']", "links => [...new Set(links.map((a) => a.getAttribute('href').split('#')[0]))]"
    )
    forms = [p for p in extra if p.startswith(case) and not p.endswith((".pdf", ".gz", ".json", ".csv"))]
    return list(dict.fromkeys([*paths, case, *forms[:12]]))


@pytest.mark.parametrize("role", list(LAYOUT_USERS))
def test_every_page_fits_a_phone_and_a_desktop_for_every_role(page: Page, role: str):
    """No horizontal scrolling at 390 px (tables scroll inside their own frame); screenshots of each size."""
    log_in(page, LAYOUT_USERS[role])
    problems = []
    for path in _pages_of(page):
        for name, size in (("phone", PHONE), ("desktop", DESKTOP)):
            page.set_viewport_size(size)
            response = page.goto(path)
            assert response is not None and response.status == 200, path
            layout = page.evaluate(OVERFLOW)
            if path == "/" and name == "phone":  # the first running deadline shows without scrolling
                first = page.locator("table.board tbody tr").first
                box = first.bounding_box() if first.count() else None
                if box is None or box["y"] + 40 > PHONE["height"]:
                    problems.append(f"/ at 390 px: the first deadline is below the fold ({box})")
            if layout["scroll"] > layout["width"] or layout["wide"]:
                problems.append(f"{path} at {size['width']} px: {layout}")
            if path.rstrip("/").count("/") <= 2 or path.endswith("/history/"):
                slug = path.strip("/").replace("/", "-") or "dashboard"
                screenshot(page, f"layout-{role}-{slug}-{name}.png")
    assert not problems, "\n".join(problems)
