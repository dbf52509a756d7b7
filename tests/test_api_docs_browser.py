"""The API documentation page works in Chromium under the product's Content-Security-Policy.

Every request of the page (HTML, Swagger UI's files, the schema) is answered with what the Django
app answered in-process, with the app's own headers, CSP included (Playwright's request routing;
fetched beforehand, as the test database cannot be reached from Playwright's callbacks): the page
must render the operations with no CSP violation in the console.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

ORIGIN = "http://testserver"


def _fetch(client: Client, path: str) -> dict:
    response = client.get(path)
    body = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    return {"status": response.status_code, "headers": dict(response.items()), "body": body}


def test_the_docs_page_renders_the_operations_without_a_csp_violation(dpo, login):
    from playwright.sync_api import sync_playwright

    client: Client = login(dpo)
    docs = reverse("api:docs")
    answers = {docs: _fetch(client, docs)}
    for path in re.findall(rb'(?:src|href)="(/[^"]+)"', answers[docs]["body"]):
        answers[path.decode()] = _fetch(client, path.decode())
    schema = reverse("api:schema")
    answers[schema] = _fetch(client, schema)
    assert all(a["status"] == 200 for a in answers.values()), {p: a["status"] for p, a in answers.items()}

    def answer(route):
        path = route.request.url.removeprefix(ORIGIN)
        route.fulfill(**answers.get(path, {"status": 404, "body": b""}))

    messages: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda message: messages.append(message.text))
            page.on("pageerror", lambda error: messages.append(str(error)))
            page.route("**/*", answer)
            page.goto(ORIGIN + reverse("api:docs"))
            page.wait_for_selector(".opblock", timeout=15_000)
            operations = page.locator(".opblock").count()
        finally:
            browser.close()
    assert operations >= 8
    assert not [m for m in messages if "Content Security Policy" in m or "Refused" in m], messages
