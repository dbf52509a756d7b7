"""ENISA (2013) personal-data-breach severity: SE = DPC x EI + CB, and its level.

Pure functions over the case's inputs. The score informs the human decisions (notify
the authority, inform the persons); it never takes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# Data-processing context base score per data category (highest one wins).
DPC_BASE = {
    "identity": 1,
    "contact": 1,
    "professional": 1,
    "insurance": 1,
    # The NIR is a national identifier whose use the French law restricts (CNIL framework decree):
    # its context raises it above simple identity data.
    "nir": 2,
    "id_documents": 1,
    "credentials": 2,
    "location": 2,
    "behavioural": 2,
    "financial": 3,
    "health": 4,
    "sensitive_other": 4,
}
EI_VALUES = (Decimal("0.25"), Decimal("0.5"), Decimal("0.75"), Decimal("1"))
CB_VALUES = (Decimal("0"), Decimal("0.25"), Decimal("0.5"))
MALICIOUS = Decimal("0.5")


@dataclass(frozen=True)
class SeverityInputs:
    data_categories: tuple[str, ...]
    dpc_adjustment: int = 0
    ease_of_identification: Decimal | None = None
    cb_confidentiality: Decimal = Decimal("0")
    cb_integrity: Decimal = Decimal("0")
    cb_availability: Decimal = Decimal("0")
    malicious: bool = False


@dataclass(frozen=True)
class Severity:
    dpc: int
    score: Decimal
    level: str  # low, medium, high, very_high


def data_processing_context(categories: tuple[str, ...] | list[str], adjustment: int = 0) -> int:
    """Highest base score of the categories, adjusted for context, kept within 1..4."""
    base = max((DPC_BASE.get(c, 1) for c in categories), default=1)
    return max(1, min(4, base + adjustment))


def level_for(score: Decimal) -> str:
    if score < 2:
        return "low"
    if score < 3:
        return "medium"
    if score < 4:
        return "high"
    return "very_high"


def assess(inputs: SeverityInputs) -> Severity | None:
    """The ENISA score and level, or None while the ease of identification is not assessed."""
    ei = inputs.ease_of_identification
    if ei is None:
        return None
    ei = Decimal(ei)
    if ei not in EI_VALUES:
        raise ValueError(f"Ease of identification must be one of {', '.join(map(str, EI_VALUES))}")
    for name in ("cb_confidentiality", "cb_integrity", "cb_availability"):
        if Decimal(getattr(inputs, name)) not in CB_VALUES:
            raise ValueError(f"{name} must be 0, 0.25 or 0.5")
    dpc = data_processing_context(inputs.data_categories, inputs.dpc_adjustment)
    cb = (
        Decimal(inputs.cb_confidentiality)
        + Decimal(inputs.cb_integrity)
        + Decimal(inputs.cb_availability)
        + (MALICIOUS if inputs.malicious else Decimal("0"))
    )
    score = (Decimal(dpc) * ei + cb).quantize(Decimal("0.01"))
    return Severity(dpc=dpc, score=score, level=level_for(score))
