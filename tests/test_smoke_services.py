from datetime import timedelta

from cases.models import Obligation
from tests.conftest import paris


def test_opening_a_case_generates_the_cnil_clock(open_case):
    case = open_case()
    ob = case.obligations.get(rule_code="GDPR_33_1")
    assert ob.due_at == paris(2024, 2, 1, 18, 0) + timedelta(hours=72)
    assert ob.state == Obligation.State.PENDING
    assert case.history.count() == 1
