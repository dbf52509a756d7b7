"""The picture of the clocks: one bar per started obligation, on the case page (SVG) and in the dossier (vector)."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from cases.clock_chart import clock_chart
from cases.deadlines import Status
from cases.dossier.builder import render_dossier
from tests.conftest import paris
from tests.filing_helpers import complete_by_filing

NOW = paris(2024, 2, 6, 12)


def test_each_started_clock_is_a_bar_from_its_start_to_done_or_now(org, dpo, open_case):
    case = open_case()  # aware 1 Feb 18:00: CNIL due 4 Feb 18:00
    cnil = case.obligations.get(rule_code="GDPR_33_1")
    complete_by_filing(
        cnil, completed_at=paris(2024, 2, 5, 9), reference="CNIL-1", late_reason="Logs analysed first.", acting_user=dpo
    )
    chart = clock_chart(list(case.obligations.all()), now=NOW)
    bars = {bar.label: bar for bar in chart.bars}
    late = bars["GDPR_33_1"]
    assert late.status == Status.DONE_LATE and late.late
    assert late.start < late.due < late.done == late.end <= 1
    running = [bar for bar in chart.bars if bar.status in {Status.RUNNING, Status.OVERDUE, Status.DUE_SOON}]
    assert all(bar.end == chart.now for bar in running)  # a running clock runs to now
    assert all(0 <= bar.start <= 1 for bar in chart.bars)
    assert len(chart.bars) == sum(1 for ob in case.obligations.all() if ob.anchor_at and ob.state != "not_applicable")


def test_day_ticks_stay_at_midnight_paris_time_across_the_clock_change(org, dpo, open_case):
    case = open_case(first_signal_at=paris(2024, 3, 28, 9), aware_at=paris(2024, 3, 28, 10))
    chart = clock_chart(list(case.obligations.all()), now=paris(2024, 4, 3, 12))
    assert chart.ticks and all(re.fullmatch(r"\d\d/\d\d", tick.label) for tick in chart.ticks)
    labels = [tick.label for tick in chart.ticks]
    assert "31/03" in labels and "01/04" in labels  # 31 March is the DST change in Paris
    positions = [tick.at for tick in chart.ticks]
    assert positions == sorted(positions)


def test_the_case_page_draws_the_chart_as_svg_without_script(org, dpo, open_case, login):
    case = open_case()
    html = login(dpo).get(f"/cases/{case.reference}/").content.decode()
    (svg,) = re.findall(r'<svg class="clock-chart".*?</svg>', html, re.S)
    assert 'role="img"' in svg and "<title" in svg and "<script" not in svg
    started = sum(1 for ob in case.obligations.all() if ob.anchor_at)
    assert svg.count('<g class="bar ') == started
    assert "Notification de la violation à la CNIL" in svg


def test_a_title_with_markup_is_text_in_the_svg(org, dpo, open_case, login):
    case = open_case(title="<script>alert(1)</script>")
    html = login(dpo).get(f"/cases/{case.reference}/").content.decode()
    assert "<script>alert(1)" not in html


def test_the_dossier_draws_the_same_chart(org, dpo, open_case):
    case = open_case()
    reader = PdfReader(io.BytesIO(render_dossier(case, lang="fr").pdf))
    text = "".join(page.extract_text() or "" for page in reader.pages)
    assert "Les délais du dossier" in text
    assert "GDPR_33_1" in text and "Notification de la violation à la CNIL" in text
