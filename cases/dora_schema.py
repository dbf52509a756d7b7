"""The ESAs' JSON schema for major ICT-related incident reports, and its value lists.

(The schema is vendored: filings/schemas/README.md says where it comes from.)
The value lists of the report (entity types, classification criteria, root causes...) are read from the
schema itself, so the facts the register keeps can only take values the schema accepts.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

SCHEMA_PATH = Path(__file__).parent / "filings" / "schemas" / "dora_ir_v1.2.1.json"
SCHEMA_ID = "IR-1.2.1"


@cache
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def enum(*path: str) -> tuple[str, ...]:
    """The values the schema allows at `path` (a list's values are those of its items)."""
    node = schema()
    for key in path:
        node = node[key]
    if node.get("type") == "array":
        node = node["items"]
    return tuple(node["enum"])


def _d(*path: str) -> tuple[str, ...]:
    return enum("$defs", *path)


ENTITY_TYPES = _d("Entity", "properties", "affectedEntityType")
CURRENCIES = enum("properties", "reportCurrency")
CRITERIA = _d("ClassificationType", "properties", "classificationCriterion")
COUNTRIES = _d("ClassificationType", "properties", "countryCodeMaterialityThresholds")
MEMBER_STATE_IMPACTS = _d("ClassificationType", "properties", "memberStatesImpactType")
DATA_LOSSES = _d("ClassificationType", "properties", "dataLosseMaterialityThresholds")
REPUTATIONAL_IMPACTS = _d("ClassificationType", "properties", "reputationalImpactType")
DISCOVERY = _d("Incident", "properties", "incidentDiscovery")
INCIDENT_TYPES = _d("IncidentType", "properties", "incidentClassification")
THREAT_TECHNIQUES = _d("IncidentType", "properties", "threatTechniques")
ROOT_CAUSES = _d("Incident", "properties", "rootCauseHLClassification")
ROOT_CAUSE_DETAILS = _d("Incident", "properties", "rootCausesDetailedClassification")
ROOT_CAUSE_ADDITIONAL = _d("Incident", "properties", "rootCausesAdditionalClassification")
YES_NO_NOT_AVAILABLE = _d("ImpactAssessment", "properties", "isAffectedInfrastructureComponents")
FIGURES = _d("AffectedAssets", "properties", "numbersActualEstimate")
DOWNTIME_INFORMATION = enum("properties", "informationDurationServiceDowntimeActualOrEstimate")
OTHER_AUTHORITIES = enum("properties", "reportingToOtherAuthorities")
SUBMISSION_TYPES = enum("properties", "incidentSubmission")


def readable(code: str) -> str:
    """A schema value as words ("malicious_actions" -> "malicious actions"): the ESAs' own English terms."""
    return code.replace("_", " ")


def choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(v, readable(v)) for v in values]
