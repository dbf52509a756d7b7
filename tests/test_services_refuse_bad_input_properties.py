"""Property-based: whatever text, instant, number or choice a caller gives a service, it either saves or
raises ValidationError, and a refusal writes nothing (the same classes of input as the fuzz test:
huge, control characters, direction overrides, any year, NaN and infinity, negative and huge counts,
unknown choices).

Services are called directly, as an API or an import would call them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import services
from cases.history import chained_history_models
from cases.models import BreachCase
from tests.conftest import paris
from tests.filing_helpers import complete_by_filing

PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Text of every kind: printable, controls and surrogates, direction overrides, and sometimes very long.
texts = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec=None, categories=("Cc", "Cf", "Cs", "Zs", "Lo")), max_size=30),
    st.builds(lambda c, n: c * n, st.sampled_from(["x", "\x00", "\u202e", "é"]), st.integers(19_990, 20_010)),
)
instants = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)),
    st.datetimes(min_value=datetime(2024, 2, 1, 10), max_value=datetime(2024, 2, 3)).map(
        lambda naive: naive.replace(tzinfo=UTC)
    ),
    st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 1, 1)),  # naive
)
decimals = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True), st.sampled_from([Decimal("0.25"), Decimal("0.5")])
)
counts = st.one_of(st.integers(), st.integers(min_value=0, max_value=10**6), st.none())
choices = st.one_of(st.text(max_size=20), st.sampled_from(["letter", "other", "detection", "34_3_a", ""]))


@pytest.fixture
def case(open_case):
    return open_case()


def history_rows(case: BreachCase) -> int:
    """Every history row of the case's chain: the case and everything under it."""
    return sum(model.objects.filter(chain_key=case.history_chain_key()).count() for model in chained_history_models())


def saves_or_refuses_cleanly(case: BreachCase, call) -> None:
    """`call()` saves, or raises ValidationError having written nothing; never another exception."""
    with transaction.atomic():
        before = history_rows(case)
        try:
            call()
        except ValidationError:
            assert history_rows(case) == before
        transaction.set_rollback(True)


@PROPERTY_SETTINGS
@given(title=texts, description=texts, occurred_at=instants, kind=choices)
def test_a_timeline_event_saves_or_is_refused_cleanly(case, dpo, title, description, occurred_at, kind):
    saves_or_refuses_cleanly(
        case,
        lambda: services.timeline_event_add(
            case, occurred_at=occurred_at, title=title, description=description, kind=kind, acting_user=dpo
        ),
    )


@PROPERTY_SETTINGS
@given(
    description=texts,
    aware_at=instants,
    persons=counts,
    integrity=decimals,
    ei=st.one_of(decimals, st.none()),
)
def test_case_facts_save_or_are_refused_cleanly(case, dpo, description, aware_at, persons, integrity, ei):
    saves_or_refuses_cleanly(
        case,
        lambda: services.case_update_facts(
            BreachCase.objects.get(pk=case.pk),
            description=description,
            aware_at=aware_at,
            persons_approx=persons,
            severity_cb_integrity=integrity,
            severity_ei=ei,
            change_reason="Propriété.",
            acting_user=dpo,
        ),
    )


@PROPERTY_SETTINGS
@given(channel=choices, text=texts, sent_at=st.one_of(instants, st.none()), recipients=counts, reason=texts)
def test_a_communication_saves_or_is_refused_cleanly(case, dpo, channel, text, sent_at, recipients, reason):
    saves_or_refuses_cleanly(
        case,
        lambda: services.member_communication_record(
            case,
            channel=channel,
            sent_at=sent_at,
            recipients_count=recipients,
            text=text,
            exemption="34_3_a" if channel == "none" else "",
            exemption_reason=reason,
            acting_user=dpo,
        ),
    )


@PROPERTY_SETTINGS
@given(reason=texts, completed_offset=st.integers(-(10**6), 10**6), reference=texts)
def test_an_obligation_completes_or_is_refused_cleanly(case, dpo, reason, completed_offset, reference):
    ob = case.obligations.get(rule_code="GDPR_33_1")

    completed_at = paris(2024, 2, 2, 9, 0) + timedelta(minutes=completed_offset)
    saves_or_refuses_cleanly(
        case,
        lambda: complete_by_filing(
            ob, completed_at=completed_at, reference=reference, late_reason=reason, acting_user=dpo
        ),
    )
