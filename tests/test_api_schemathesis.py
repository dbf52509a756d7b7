"""Schemathesis against the app's own OpenAPI schema, in-process (WSGI): no server error, and every
answer matches the schema (status code documented, content type, body), for every operation."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api_support import issue_token

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 20


@pytest.fixture
def keep_the_test_connection():
    """The WSGI handler closes old connections around each request; Django's test client does not.
    Inside the test's transaction (PostgreSQL) the connection must stay open, as with the test client."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_headers(dpo, open_case, settings, keep_the_test_connection):
    settings.API_THROTTLE_RATE = "100000/minute"
    cache.clear()
    open_case()  # something to list, read and complete
    return {"Authorization": f"Bearer {issue_token(dpo)[1]}"}


def test_every_operation_answers_within_its_schema_and_never_500(api_headers):
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application(), headers=api_headers)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            case.call_and_validate(headers=api_headers, checks=CHECKS)

        check()
