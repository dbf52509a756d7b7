"""History chained before a column was added still verifies: late columns are hashed only once they differ.

`rule_version` and `latest_update_at` (obligations) and `dora_authority` (organisations) were
added after rows had been chained. A row holding the value every older row got from the
migration hashes exactly as it did before the column existed; any other value is hashed, so a
change to it is still detected.
"""

from __future__ import annotations

import json

import pytest

from cases import services
from cases.history import canonical_content, verify_chain
from cases.models import Membership, Obligation
from tests.conftest import paris

pytestmark = pytest.mark.django_db


def test_a_late_column_at_its_migration_value_is_left_out_of_the_hash(open_case):
    case = open_case()
    row = Obligation.history.model.objects.filter(id=case.obligations.get(rule_code="GDPR_33_1").pk).first()
    row.rule_version = ""

    content = json.loads(canonical_content(row))

    assert "rule_version" not in content and "latest_update_at" not in content
    assert "due_at" in content  # the columns chained from the start are all hashed


def test_a_late_column_with_another_value_is_hashed(open_case):
    case = open_case()
    row = Obligation.history.model.objects.filter(id=case.obligations.get(rule_code="GDPR_33_1").pk).first()
    before = canonical_content(row)

    row.latest_update_at = paris(2024, 2, 3, 10, 0)
    row.rule_version = "2018-05-25"

    content = json.loads(canonical_content(row))
    assert content["rule_version"] == "2018-05-25" and content["latest_update_at"].startswith("2024-02-03T09:00")
    assert canonical_content(row) != before


def test_an_organisation_s_authority_is_hashed_only_when_it_is_not_the_acpr(org):
    row = org.history.first()
    assert "dora_authority" not in json.loads(canonical_content(row))

    row.dora_authority = "amf"

    assert json.loads(canonical_content(row))["dora_authority"] == "amf"


def test_chains_holding_the_new_columns_verify(make_org, make_user):
    org = make_org(is_dora_entity=True, dora_authority="amf")
    dpo = make_user(org, Membership.Role.DPO)
    case = services.case_open(
        organization=org,
        title="Outage",
        first_signal_at=paris(2025, 2, 6, 8, 0),
        aware_at=paris(2025, 2, 6, 9, 0),
        aware_justification="Seen.",
        dora_major=True,
        dora_classified_at=paris(2025, 2, 6, 10, 0),
        acting_user=dpo,
    )
    for code, at in (("DORA_INITIAL", paris(2025, 2, 6, 12)), ("DORA_INTERMEDIATE", paris(2025, 2, 7, 12))):
        services.filing_record(
            case, kind="dora", sent_at=at, obligation=case.obligations.get(rule_code=code), acting_user=dpo
        )
    intermediate = case.obligations.get(rule_code="DORA_INTERMEDIATE")
    services.filing_record(case, kind="dora", sent_at=paris(2025, 2, 8, 12), obligation=intermediate, acting_user=dpo)

    assert case.obligations.get(rule_code="DORA_INTERMEDIATE").latest_update_at == paris(2025, 2, 8, 12)
    assert verify_chain(case.history_chain_key()).ok
    assert verify_chain(org.history_chain_key()).ok
