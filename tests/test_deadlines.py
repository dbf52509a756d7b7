"""The deadline engine's rules, one named test each: hours, months, DORA, ASAP targets, anchors, statuses."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from cases.deadlines import (
    DEFAULT_INTERNAL_TARGET_HOURS,
    PARIS,
    AnchorTimes,
    Due,
    DueBasis,
    Status,
    add_hours,
    add_months,
    apply_weekend_relief,
    compute_due,
    dora_initial_due,
    easter_sunday,
    french_public_holidays,
    is_late,
    is_working_day,
    localize,
    resolve_anchor,
    status,
)
from cases.regimes import get_rule


def paris(*fields: int) -> datetime:
    """An aware datetime from Europe/Paris wall-clock fields (first occurrence if ambiguous)."""
    return datetime(*fields, tzinfo=PARIS)


def wall(instant: datetime) -> tuple[int, ...]:
    """The Paris wall-clock fields of an instant, for readable assertions."""
    local = instant.astimezone(PARIS)
    return (local.year, local.month, local.day, local.hour, local.minute)


# --- Hour deadlines: continuous calendar hours ---


def test_72_hours_across_last_sunday_of_march_are_72_real_hours():
    aware = paris(2024, 3, 29, 18, 0)  # winter time, clocks go forward on Sunday 31 March

    due = add_hours(aware, 72)

    assert due - aware == timedelta(hours=72)
    assert wall(due) == (2024, 4, 1, 19, 0)  # one wall-clock hour "later"
    assert due == datetime(2024, 4, 1, 17, 0, tzinfo=UTC)


def test_72_hours_across_last_sunday_of_october_end_one_wall_hour_earlier():
    aware = paris(2024, 10, 25, 18, 0)  # summer time, clocks go back on Sunday 27 October

    due = add_hours(aware, 72)

    assert due - aware == timedelta(hours=72)
    assert wall(due) == (2024, 10, 28, 17, 0)
    assert due == datetime(2024, 10, 28, 16, 0, tzinfo=UTC)


def test_hour_deadlines_are_returned_in_utc_whatever_the_input_zone():
    due = add_hours(paris(2024, 2, 1, 18, 0), 72)

    assert due.utcoffset() == timedelta(0)
    assert due == datetime(2024, 2, 4, 17, 0, tzinfo=UTC)


def test_hour_deadlines_do_not_stop_for_weekends_or_public_holidays():
    aware = paris(2024, 12, 24, 10, 0)  # Christmas Eve, then Christmas Day and a weekend later

    due = compute_due(get_rule("GDPR_33_1"), AnchorTimes(aware_at=aware))

    assert due == Due(paris(2024, 12, 27, 10, 0), DueBasis.LEGAL)


# --- Month deadlines: calendar months in Europe/Paris ---


def test_31_january_plus_one_month_is_29_february_in_a_leap_year():
    assert wall(add_months(paris(2024, 1, 31, 15, 45), 1)) == (2024, 2, 29, 15, 45)


def test_31_january_plus_one_month_is_28_february_in_a_common_year():
    assert wall(add_months(paris(2025, 1, 31, 15, 45), 1)) == (2025, 2, 28, 15, 45)


def test_31_march_plus_one_month_is_30_april():
    assert wall(add_months(paris(2025, 3, 31, 9, 0), 1)) == (2025, 4, 30, 9, 0)


def test_month_deadlines_cross_the_year_end():
    assert wall(add_months(paris(2024, 12, 15, 9, 0), 1)) == (2025, 1, 15, 9, 0)


def test_month_rule_across_spring_dst_keeps_the_local_wall_clock_time():
    start = paris(2024, 3, 15, 10, 0)  # winter time

    due = add_months(start, 1)

    assert wall(due) == (2024, 4, 15, 10, 0)  # summer time
    assert due - start == timedelta(days=31, hours=-1)


def test_month_rule_across_autumn_dst_keeps_the_local_wall_clock_time():
    start = paris(2024, 10, 15, 10, 0)  # summer time

    due = add_months(start, 1)

    assert wall(due) == (2024, 11, 15, 10, 0)  # winter time
    assert due - start == timedelta(days=31, hours=1)


def test_month_deadline_in_the_spring_gap_is_the_end_of_the_gap():
    # 28 March 2027 is the last Sunday of March: 02:30 does not exist that day.
    due = add_months(paris(2027, 2, 28, 2, 30), 1)

    assert due == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)
    assert wall(due) == (2027, 3, 28, 3, 0)


def test_a_later_start_never_gets_an_earlier_month_deadline_in_the_spring_gap():
    # 26 March 2028 is the last Sunday of March.
    from_0230 = add_months(paris(2028, 2, 26, 2, 30), 1)
    from_0300 = add_months(paris(2028, 2, 26, 3, 0), 1)

    assert from_0230 <= from_0300


def test_ambiguous_autumn_time_takes_the_first_occurrence():
    # 27 October 2024: 02:30 happens at 00:30 UTC (summer time) and again at 01:30 UTC.
    due = add_months(paris(2024, 9, 27, 2, 30), 1)

    assert due == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)
    assert localize(datetime(2024, 10, 27, 2, 30)) == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)


def test_nis2_final_report_is_due_one_calendar_month_after_the_incident_notification():
    notified = paris(2025, 1, 31, 16, 0)

    due = compute_due(get_rule("NIS2_FINAL"), AnchorTimes(rule_done={"NIS2_72H": notified}))

    assert due == Due(paris(2025, 2, 28, 16, 0), DueBasis.LEGAL)


# --- DORA: initial notification and weekend relief ---


def test_dora_initial_is_4_hours_after_classification():
    aware = paris(2025, 3, 10, 9, 0)  # a Monday

    assert dora_initial_due(aware_at=aware, classified_at=paris(2025, 3, 10, 10, 0)) == paris(2025, 3, 10, 14, 0)


def test_dora_initial_is_capped_at_24_hours_after_awareness():
    aware = paris(2025, 3, 10, 9, 0)
    classified = paris(2025, 3, 11, 7, 0)  # 22 h after awareness: 4 h more would pass the cap

    assert dora_initial_due(aware_at=aware, classified_at=classified) == paris(2025, 3, 11, 9, 0)


def test_dora_initial_classified_after_24_hours_is_4_hours_after_classification():
    aware = paris(2025, 3, 10, 9, 0)
    classified = paris(2025, 3, 12, 10, 0)

    assert dora_initial_due(aware_at=aware, classified_at=classified) == paris(2025, 3, 12, 14, 0)


def test_dora_initial_classified_at_exactly_24_hours_is_within_the_cap():
    # RTS 2025/301: the 4 h-after-classification rule is for incidents not classified within the 24 hours.
    aware = paris(2025, 3, 10, 9, 0)
    classified = paris(2025, 3, 11, 9, 0)

    assert dora_initial_due(aware_at=aware, classified_at=classified) == classified


def test_dora_initial_not_yet_classified_is_due_24_hours_after_awareness():
    aware = paris(2025, 3, 10, 9, 0)

    assert dora_initial_due(aware_at=aware, classified_at=None) == paris(2025, 3, 11, 9, 0)


def test_dora_initial_through_compute_due_uses_the_classification():
    anchors = AnchorTimes(aware_at=paris(2025, 3, 10, 9, 0), dora_classified_at=paris(2025, 3, 10, 11, 30))

    assert compute_due(get_rule("DORA_INITIAL"), anchors) == Due(paris(2025, 3, 10, 15, 30), DueBasis.LEGAL)


def test_dora_initial_without_awareness_has_no_due_date():
    anchors = AnchorTimes(dora_classified_at=paris(2025, 3, 10, 11, 30))

    assert compute_due(get_rule("DORA_INITIAL"), anchors) == Due(None, DueBasis.NONE)


@pytest.mark.parametrize(
    ("due", "relieved"),
    [
        pytest.param(paris(2025, 3, 15, 9, 0), paris(2025, 3, 17, 12, 0), id="saturday"),
        pytest.param(paris(2025, 3, 16, 23, 30), paris(2025, 3, 17, 12, 0), id="sunday-late-evening"),
        pytest.param(paris(2026, 5, 1, 10, 0), paris(2026, 5, 4, 12, 0), id="friday-1-may-2026-then-weekend"),
        pytest.param(paris(2026, 5, 8, 18, 0), paris(2026, 5, 11, 12, 0), id="friday-8-may-2026-then-weekend"),
        pytest.param(paris(2024, 4, 1, 8, 0), paris(2024, 4, 2, 12, 0), id="easter-monday-2024"),
        pytest.param(paris(2024, 3, 30, 20, 0), paris(2024, 4, 2, 12, 0), id="easter-weekend-2024-across-dst"),
        pytest.param(paris(2024, 5, 9, 14, 0), paris(2024, 5, 10, 12, 0), id="ascension-2024"),
        pytest.param(paris(2024, 5, 18, 10, 0), paris(2024, 5, 21, 12, 0), id="whitsun-weekend-2024"),
        pytest.param(paris(2026, 12, 25, 8, 0), paris(2026, 12, 28, 12, 0), id="christmas-friday-2026"),
        pytest.param(paris(2027, 1, 1, 0, 0), paris(2027, 1, 4, 12, 0), id="new-year-friday-2027"),
        pytest.param(paris(2025, 11, 11, 11, 0), paris(2025, 11, 12, 12, 0), id="armistice-2025"),
    ],
)
def test_dora_weekend_relief_moves_to_noon_paris_next_working_day(due, relieved):
    assert apply_weekend_relief(due) == relieved


@pytest.mark.parametrize(
    "due",
    [
        pytest.param(paris(2026, 4, 30, 23, 59), id="thursday-before-1-may"),
        pytest.param(paris(2025, 3, 14, 15, 0), id="friday-afternoon"),
        pytest.param(paris(2025, 12, 24, 18, 0), id="christmas-eve-is-a-working-day"),
        pytest.param(paris(2025, 12, 26, 9, 0), id="26-december-is-not-a-public-holiday-in-france"),
    ],
)
def test_dora_weekend_relief_leaves_a_working_day_due_date_alone(due):
    assert apply_weekend_relief(due) == due


def test_dora_weekend_relief_reads_the_day_in_paris_time():
    friday_in_utc_saturday_in_paris = datetime(2025, 6, 13, 22, 30, tzinfo=UTC)

    assert apply_weekend_relief(friday_in_utc_saturday_in_paris) == paris(2025, 6, 16, 12, 0)


def test_dora_intermediate_report_gets_weekend_relief():
    initial_done = paris(2026, 4, 28, 10, 0)  # Tuesday: 72 h later is Friday 1 May, a public holiday

    due = compute_due(get_rule("DORA_INTERMEDIATE"), AnchorTimes(rule_done={"DORA_INITIAL": initial_done}))

    assert due == Due(paris(2026, 5, 4, 12, 0), DueBasis.LEGAL)


def test_dora_weekend_relief_not_applied_when_the_org_is_excluded():
    initial_done = paris(2026, 4, 28, 10, 0)

    due = compute_due(
        get_rule("DORA_INTERMEDIATE"),
        AnchorTimes(rule_done={"DORA_INITIAL": initial_done}),
        weekend_relief=False,
    )

    assert due == Due(paris(2026, 5, 1, 10, 0), DueBasis.LEGAL)


def test_dora_initial_due_on_a_sunday_moves_to_monday_noon():
    aware = paris(2025, 3, 15, 10, 0)  # Saturday: the 24 h cap falls on Sunday

    due = compute_due(get_rule("DORA_INITIAL"), AnchorTimes(aware_at=aware))

    assert due == Due(paris(2025, 3, 17, 12, 0), DueBasis.LEGAL)


def test_weekend_relief_is_dora_only():
    aware = paris(2025, 3, 12, 10, 0)  # 72 h later is Saturday

    due = compute_due(get_rule("GDPR_33_1"), AnchorTimes(aware_at=aware))

    assert due == Due(paris(2025, 3, 15, 10, 0), DueBasis.LEGAL)


# --- "Without undue delay", contracts and authority requests ---


def test_without_undue_delay_uses_the_organisation_internal_target():
    aware = paris(2024, 2, 1, 18, 0)

    due = compute_due(get_rule("GDPR_34"), AnchorTimes(aware_at=aware), internal_target_hours=12)

    assert due == Due(paris(2024, 2, 2, 6, 0), DueBasis.INTERNAL_TARGET)
    assert due.is_asap


def test_complementary_cnil_notification_defaults_to_the_cnil_72_hour_practice():
    initial = paris(2024, 2, 4, 10, 0)

    due = compute_due(get_rule("GDPR_33_4"), AnchorTimes(rule_done={"GDPR_33_1": initial}))

    assert due == Due(paris(2024, 2, 7, 10, 0), DueBasis.INTERNAL_TARGET)


def test_organisation_target_replaces_the_cnil_practice():
    initial = paris(2024, 2, 4, 10, 0)

    due = compute_due(get_rule("GDPR_33_4"), AnchorTimes(rule_done={"GDPR_33_1": initial}), internal_target_hours=24)

    assert due == Due(paris(2024, 2, 5, 10, 0), DueBasis.INTERNAL_TARGET)


def test_without_undue_delay_and_no_target_uses_the_default_24_hours():
    aware = paris(2024, 2, 1, 18, 0)

    due = compute_due(get_rule("GDPR_34"), AnchorTimes(aware_at=aware))

    assert DEFAULT_INTERNAL_TARGET_HOURS == 24
    assert due == Due(paris(2024, 2, 2, 18, 0), DueBasis.INTERNAL_TARGET)


def test_processor_notice_uses_the_contract_hours():
    aware = paris(2024, 2, 1, 18, 0)

    due = compute_due(get_rule("GDPR_33_2"), AnchorTimes(aware_at=aware), internal_target_hours=12, contract_hours=48)

    assert due == Due(paris(2024, 2, 3, 18, 0), DueBasis.CONTRACT)
    assert due.is_asap


def test_legal_deadlines_are_not_asap():
    due = compute_due(get_rule("GDPR_33_1"), AnchorTimes(aware_at=paris(2024, 2, 1, 18, 0)))

    assert not due.is_asap


def test_on_request_without_a_date_has_no_due_date():
    due = compute_due(get_rule("NIS2_INTERMEDIATE"), AnchorTimes(aware_at=paris(2024, 2, 1, 18, 0)))

    assert due == Due(None, DueBasis.NONE)


def test_on_request_uses_the_date_the_authority_asked_for():
    asked = paris(2024, 2, 20, 17, 0)

    due = compute_due(get_rule("NIS2_INTERMEDIATE"), AnchorTimes(), requested_due_at=asked)

    assert due == Due(asked, DueBasis.AUTHORITY)


def test_continuous_duty_has_no_due_date():
    due = compute_due(get_rule("GDPR_33_5"), AnchorTimes(aware_at=paris(2024, 2, 1, 18, 0)))

    assert due == Due(None, DueBasis.NONE)


# --- Anchors ---


def test_clock_does_not_start_before_awareness():
    assert compute_due(get_rule("GDPR_33_1"), AnchorTimes()) == Due(None, DueBasis.NONE)


def test_incident_rules_run_from_knowledge_of_the_incident():
    anchors = AnchorTimes(aware_at=paris(2024, 2, 2, 9, 0), incident_known_at=paris(2024, 2, 1, 9, 0))

    due = compute_due(get_rule("NIS2_24H"), anchors)

    assert due == Due(paris(2024, 2, 2, 9, 0), DueBasis.LEGAL)


def test_incident_rules_fall_back_to_awareness_when_knowledge_is_not_recorded():
    anchors = AnchorTimes(aware_at=paris(2024, 2, 2, 9, 0))

    assert resolve_anchor(get_rule("COMPLAINT_INSURANCE"), anchors) == paris(2024, 2, 2, 9, 0)
    assert compute_due(get_rule("COMPLAINT_INSURANCE"), anchors) == Due(paris(2024, 2, 5, 9, 0), DueBasis.LEGAL)


def test_complementary_notification_runs_from_the_initial_notification():
    anchors = AnchorTimes(aware_at=paris(2024, 2, 1, 18, 0), rule_done={"GDPR_33_1": paris(2024, 2, 3, 11, 0)})

    assert resolve_anchor(get_rule("GDPR_33_4"), anchors) == paris(2024, 2, 3, 11, 0)


def test_complementary_notification_waits_for_the_initial_notification():
    anchors = AnchorTimes(aware_at=paris(2024, 2, 1, 18, 0))

    assert compute_due(get_rule("GDPR_33_4"), anchors) == Due(None, DueBasis.NONE)


def test_nis2_final_report_waits_for_the_incident_notification():
    anchors = AnchorTimes(aware_at=paris(2024, 2, 1, 18, 0), rule_done={"NIS2_24H": paris(2024, 2, 2, 9, 0)})

    assert compute_due(get_rule("NIS2_FINAL"), anchors) == Due(None, DueBasis.NONE)


def test_nis2_final_report_of_an_ongoing_incident_runs_from_its_handling():
    anchors = AnchorTimes(aware_at=paris(2024, 2, 1, 18, 0), contained_at=paris(2024, 3, 12, 17, 0))

    due = compute_due(get_rule("NIS2_FINAL_AFTER_HANDLING"), anchors)

    assert due == Due(paris(2024, 4, 12, 17, 0), DueBasis.LEGAL)


def test_dora_chain_initial_then_intermediate_72_hours_then_final_one_month():
    anchors = AnchorTimes(
        aware_at=paris(2025, 3, 3, 8, 0),
        dora_classified_at=paris(2025, 3, 3, 9, 0),
        rule_done={"DORA_INITIAL": paris(2025, 3, 3, 12, 0), "DORA_INTERMEDIATE": paris(2025, 3, 5, 16, 0)},
    )

    assert compute_due(get_rule("DORA_INITIAL"), anchors).at == paris(2025, 3, 3, 13, 0)
    assert compute_due(get_rule("DORA_INTERMEDIATE"), anchors).at == paris(2025, 3, 6, 12, 0)
    assert compute_due(get_rule("DORA_FINAL"), anchors).at == paris(2025, 4, 7, 12, 0)  # 5 April is a Saturday


def test_dora_final_waits_for_the_intermediate_report():
    anchors = AnchorTimes(aware_at=paris(2025, 3, 3, 8, 0), rule_done={"DORA_INITIAL": paris(2025, 3, 3, 12, 0)})

    assert compute_due(get_rule("DORA_FINAL"), anchors) == Due(None, DueBasis.NONE)


# --- Statuses ---

DUE = paris(2024, 2, 4, 18, 0)


def test_status_running_more_than_24_hours_before_due():
    assert status(due_at=DUE, completed_at=None, not_applicable=False, now=DUE - timedelta(hours=25)) is Status.RUNNING


def test_status_due_soon_at_exactly_24_hours():
    assert status(due_at=DUE, completed_at=None, not_applicable=False, now=DUE - timedelta(hours=24)) is Status.DUE_SOON


def test_status_running_just_over_24_hours():
    now = DUE - timedelta(hours=24, seconds=1)

    assert status(due_at=DUE, completed_at=None, not_applicable=False, now=now) is Status.RUNNING


def test_status_due_soon_just_under_24_hours():
    now = DUE - timedelta(hours=23, minutes=59, seconds=59)

    assert status(due_at=DUE, completed_at=None, not_applicable=False, now=now) is Status.DUE_SOON


def test_status_due_soon_at_the_due_instant():
    assert status(due_at=DUE, completed_at=None, not_applicable=False, now=DUE) is Status.DUE_SOON


def test_status_overdue_one_second_after_due():
    now = DUE + timedelta(seconds=1)

    assert status(due_at=DUE, completed_at=None, not_applicable=False, now=now) is Status.OVERDUE


def test_status_done_on_time_when_completed_exactly_at_due():
    now = DUE + timedelta(days=3)

    assert status(due_at=DUE, completed_at=DUE, not_applicable=False, now=now) is Status.DONE_ON_TIME


def test_status_done_late_when_completed_one_second_after_due():
    completed = DUE + timedelta(seconds=1)

    assert status(due_at=DUE, completed_at=completed, not_applicable=False, now=completed) is Status.DONE_LATE


def test_status_not_applicable_wins_over_everything():
    now = DUE + timedelta(days=1)

    assert status(due_at=DUE, completed_at=None, not_applicable=True, now=now) is Status.NOT_APPLICABLE


def test_status_waiting_while_the_clock_has_not_started():
    now = DUE + timedelta(days=1)

    assert status(due_at=None, completed_at=None, not_applicable=False, now=now, started=False) is Status.WAITING


def test_status_running_for_a_started_obligation_without_due_date():
    assert status(due_at=None, completed_at=None, not_applicable=False, now=DUE) is Status.RUNNING


def test_completion_without_due_date_is_never_late():
    assert not is_late(due_at=None, completed_at=DUE)
    assert status(due_at=None, completed_at=DUE, not_applicable=False, now=DUE) is Status.DONE_ON_TIME


def test_lateness_is_frozen_at_the_due_date_completed_against():
    completed = DUE + timedelta(hours=2)
    recomputed_due = DUE + timedelta(hours=5)  # the anchor moved after completion

    assert status(due_at=DUE, completed_at=completed, not_applicable=False, now=recomputed_due) is Status.DONE_LATE
    assert status(due_at=recomputed_due, completed_at=completed, not_applicable=False, now=DUE) is Status.DONE_ON_TIME


def test_lateness_does_not_depend_on_now():
    early_completion = DUE - timedelta(hours=30)
    late_completion = DUE + timedelta(hours=1)

    for now in (DUE - timedelta(days=3), DUE, DUE + timedelta(days=30)):
        assert status(due_at=DUE, completed_at=early_completion, not_applicable=False, now=now) is Status.DONE_ON_TIME
        assert status(due_at=DUE, completed_at=late_completion, not_applicable=False, now=now) is Status.DONE_LATE


def test_status_counts_real_hours_when_due_and_now_are_paris_times_across_a_dst_change():
    now = paris(2024, 10, 26, 3, 0)  # summer time, 01:00 UTC
    due = paris(2024, 10, 27, 3, 0)  # winter time, 02:00 UTC: 25 real hours later

    assert status(due_at=due, completed_at=None, not_applicable=False, now=now) is Status.RUNNING


def test_lateness_in_the_repeated_autumn_hour_follows_real_time():
    due = paris(2024, 10, 27, 2, 30).replace(fold=1)  # second 02:30, 01:30 UTC
    completed = paris(2024, 10, 27, 2, 45)  # first 02:45, 00:45 UTC: 45 minutes before due

    assert not is_late(due_at=due, completed_at=completed)
    assert status(due_at=due, completed_at=completed, not_applicable=False, now=due) is Status.DONE_ON_TIME


def test_authority_request_date_is_stored_in_utc():
    due = compute_due(get_rule("NIS2_INTERMEDIATE"), AnchorTimes(), requested_due_at=paris(2024, 7, 1, 12, 0))

    assert due.at.utcoffset() == timedelta(0)
    assert due.at == datetime(2024, 7, 1, 10, 0, tzinfo=UTC)


# --- Aware datetimes only ---

NAIVE = datetime(2024, 2, 1, 18, 0)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: add_hours(NAIVE, 72), id="add_hours"),
        pytest.param(lambda: add_months(NAIVE, 1), id="add_months"),
        pytest.param(lambda: apply_weekend_relief(NAIVE), id="apply_weekend_relief"),
        pytest.param(lambda: dora_initial_due(aware_at=NAIVE, classified_at=None), id="dora_initial_due"),
        pytest.param(
            lambda: dora_initial_due(aware_at=DUE, classified_at=NAIVE), id="dora_initial_due-naive-classification"
        ),
        pytest.param(lambda: compute_due(get_rule("GDPR_33_1"), AnchorTimes(aware_at=NAIVE)), id="compute_due"),
        pytest.param(
            lambda: compute_due(get_rule("NIS2_FINAL"), AnchorTimes(rule_done={"NIS2_72H": NAIVE})),
            id="compute_due-rule-done",
        ),
        pytest.param(
            lambda: compute_due(get_rule("NIS2_INTERMEDIATE"), AnchorTimes(), requested_due_at=NAIVE),
            id="compute_due-requested",
        ),
        pytest.param(lambda: status(due_at=DUE, completed_at=None, not_applicable=False, now=NAIVE), id="status-now"),
        pytest.param(lambda: status(due_at=NAIVE, completed_at=None, not_applicable=False, now=DUE), id="status-due"),
        pytest.param(lambda: is_late(due_at=DUE, completed_at=NAIVE), id="is_late"),
    ],
)
def test_naive_datetimes_are_refused(call):
    with pytest.raises(ValueError, match="aware"):
        call()


# --- French public holidays ---


@pytest.mark.parametrize(
    ("year", "easter"),
    [(2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)), (2026, date(2026, 4, 5)), (2000, date(2000, 4, 23))],
)
def test_easter_sunday_of_known_years(year, easter):
    assert easter_sunday(year) == easter


def test_french_public_holidays_2025_are_the_eleven_national_ones():
    assert french_public_holidays(2025) == {
        date(2025, 1, 1),
        date(2025, 4, 21),  # lundi de Pâques
        date(2025, 5, 1),
        date(2025, 5, 8),
        date(2025, 5, 29),  # Ascension
        date(2025, 6, 9),  # lundi de Pentecôte
        date(2025, 7, 14),
        date(2025, 8, 15),
        date(2025, 11, 1),
        date(2025, 11, 11),
        date(2025, 12, 25),
    }


@pytest.mark.parametrize(
    ("year", "easter_monday", "ascension", "whit_monday"),
    [
        (2024, date(2024, 4, 1), date(2024, 5, 9), date(2024, 5, 20)),
        (2026, date(2026, 4, 6), date(2026, 5, 14), date(2026, 5, 25)),
    ],
)
def test_french_movable_holidays_follow_easter(year, easter_monday, ascension, whit_monday):
    holidays = french_public_holidays(year)

    assert {easter_monday, ascension, whit_monday} <= holidays
    assert len(holidays) == 11


def test_working_days_exclude_weekends_and_public_holidays():
    assert is_working_day(date(2026, 5, 4))  # Monday
    assert not is_working_day(date(2026, 5, 1))  # Friday, Fête du Travail
    assert not is_working_day(date(2026, 5, 2))  # Saturday
    assert not is_working_day(date(2026, 5, 3))  # Sunday


def test_a_month_rule_reads_a_non_existent_paris_wall_time_as_its_real_instant():
    """Found by hypothesis: 02:00 (fold=1) on the spring-forward Sunday is 00:00 UTC, i.e. 01:00 CET."""
    from zoneinfo import ZoneInfo

    nonexistent = datetime(2036, 3, 30, 2, 0, fold=1, tzinfo=ZoneInfo("Europe/Paris"))
    same_instant = datetime(2036, 3, 30, 0, 0, tzinfo=UTC)
    assert nonexistent.astimezone(UTC) == same_instant
    assert add_months(nonexistent, 1) == add_months(same_instant, 1)
