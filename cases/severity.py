"""ENISA (2013) personal-data-breach severity: SE = DPC x EI + CB, and its level.

Pure functions over the case's inputs. The score informs the human decisions (notify
the authority, inform the persons); it never takes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

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


class SeverityInputError(ValueError):
    """An ENISA input outside its scale; `field` names the case field at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


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
    unknown = sorted(set(categories) - DPC_BASE.keys())
    if unknown:
        raise SeverityInputError("data_categories", f"Unknown data categories: {', '.join(unknown)}")
    base = max((DPC_BASE[c] for c in categories), default=1)
    return max(1, min(4, base + adjustment))


def level_for(score: Decimal) -> str:
    if score < 2:
        return "low"
    if score < 3:
        return "medium"
    if score < 4:
        return "high"
    return "very_high"


def _on_scale(value, allowed: tuple[Decimal, ...], field: str) -> Decimal:
    if isinstance(value, bool):
        value = None  # True/False are not points on the scale
    try:
        number = Decimal(str(value)) if value is not None else None
    except (InvalidOperation, ValueError, TypeError):
        number = None
    if number is None or not number.is_finite() or number not in allowed:
        raise SeverityInputError(field, f"{field} must be one of {', '.join(map(str, allowed))}, not {value!r}")
    return number


def assess(inputs: SeverityInputs) -> Severity | None:
    """The ENISA score and level, or None while the ease of identification is not assessed.

    Raises `SeverityInputError` (naming the input) for a value outside the method's scales.
    """
    if inputs.ease_of_identification is None:
        return None
    ei = _on_scale(inputs.ease_of_identification, EI_VALUES, "ease_of_identification")
    cb = sum(
        (
            _on_scale(getattr(inputs, name), CB_VALUES, name)
            for name in ("cb_confidentiality", "cb_integrity", "cb_availability")
        ),
        Decimal("0"),
    )
    cb += MALICIOUS if inputs.malicious else Decimal("0")
    dpc = data_processing_context(inputs.data_categories, inputs.dpc_adjustment)
    score = (Decimal(dpc) * ei + cb).quantize(Decimal("0.01"))
    return Severity(dpc=dpc, score=score, level=level_for(score))
