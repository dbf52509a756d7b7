"""Deadline wording: time left or overdue, French by default, English on request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.utils import translation

from cases.deadlines import Status
from cases.templatetags.deadline_tags import (
    authority_label,
    clock_label,
    due_basis_label,
    duration,
    time_left,
)
from tests.conftest import paris

NOW = paris(2024, 2, 5, 10, 0)


@pytest.mark.parametrize(
    ("delta", "french", "english"),
    [
        (timedelta(seconds=30), "dans moins d'une minute", "in less than a minute"),
        (timedelta(minutes=12, seconds=59), "dans 12 min", "in 12 min"),
        (timedelta(hours=5, minutes=12, seconds=40), "dans 5 h 12", "in 5 h 12"),
        (timedelta(hours=5, minutes=5), "dans 5 h 05", "in 5 h 05"),
        (timedelta(hours=23, minutes=59), "dans 23 h 59", "in 23 h 59"),
        (timedelta(days=1, hours=23), "dans 1 j 23 h", "in 1 d 23 h"),
        (timedelta(days=2), "dans 2 j", "in 2 d"),
        (timedelta(days=10, hours=5), "dans 10 j", "in 10 d"),
        (timedelta(0), "dans moins d'une minute", "in less than a minute"),
        (-timedelta(minutes=7), "en retard de 7 min", "7 min overdue"),
        (-timedelta(hours=3, minutes=20), "en retard de 3 h 20", "3 h 20 overdue"),
        (-timedelta(days=2), "en retard de 2 j", "2 d overdue"),
        (-timedelta(days=2, hours=3), "en retard de 2 j 3 h", "2 d 3 h overdue"),
        (-timedelta(days=40), "en retard de 40 j", "40 d overdue"),
    ],
)
def test_time_left_in_french_and_english(delta, french, english):
    with translation.override("fr"):
        assert time_left(NOW + delta, NOW) == french
    with translation.override("en"):
        assert time_left(NOW + delta, NOW) == english


def test_the_time_left_is_truncated_never_overstated():
    with translation.override("fr"):
        assert time_left(NOW + timedelta(hours=1, seconds=-1), NOW) == "dans 59 min"
        assert duration(3599) == "59 min"


def test_time_left_counts_real_hours_across_a_dst_change():
    # Paris springs forward on 31 March 2024: noon to noon is 23 hours.
    with translation.override("fr"):
        assert time_left(paris(2024, 3, 31, 12, 0), paris(2024, 3, 30, 12, 0)) == "dans 23 h 00"


def test_no_due_date_reads_as_nothing():
    assert time_left(None, NOW) == ""


def test_the_filter_in_a_template_follows_the_active_language():
    template = Template("{% load deadline_tags %}{{ due|time_left:now }}")
    context = Context({"due": NOW - timedelta(days=2), "now": NOW})
    with translation.override("fr"):
        assert template.render(context) == "en retard de 2 j"
    with translation.override("en"):
        assert template.render(context) == "2 d overdue"


def test_labels_of_authorities_bases_and_statuses():
    with translation.override("fr"):
        assert authority_label("data_subjects") == "Personnes concernées"
        assert authority_label("cnil") == "CNIL"
        assert authority_label("unknown") == "unknown"
        assert due_basis_label("internal_target") == "Objectif interne (sans délai injustifié)"
        assert due_basis_label("legal") == "Délai légal"
        assert clock_label(Status.OVERDUE) == "En retard"
    with translation.override("en"):
        assert authority_label("data_subjects") == "Affected persons"
        assert due_basis_label("contract") == "Contractual notice period"
        assert clock_label("due_soon") == "Due within 24 h"
