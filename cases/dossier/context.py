"""What every section module receives: the data, the language, and value formatting.

Sections are built under `translation.override(lang)` (see `builder.build`): their words are gettext
messages and their choice labels the domain's own, so `lang` here only drives number formatting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext

from ..bundle import BundleWriter
from ..deadlines import PARIS
from ..languages import label
from ..selectors.dossier import DossierData
from .grid import RowSpill


@dataclass
class Context:
    data: DossierData
    lang: str
    generated_at: datetime
    generated_by: str
    data_hash: str
    chain_length: int
    chain_head: str
    # The outsider's verification bundle, filled by the history section as it reads the chain.
    bundle: BundleWriter | None = None
    # The temporary files of the long tables (see grid.RowSpill), closed once the PDF is built.
    spills: list = field(default_factory=list)

    def spill(self, columns: Sequence) -> RowSpill:
        """A new spill for a long table's rows, closed with the others by `close`."""
        spill = RowSpill(columns)
        self.spills.append(spill)
        return spill

    def close(self) -> None:
        for spill in self.spills:
            spill.close()
        self.spills = []

    @property
    def case(self):
        return self.data.case

    def choice(self, labels, value: object) -> str:
        """The label of a choice value (`labels`: the domain's choices); the value itself if unknown."""
        return label(labels, value)

    def dt(self, value: datetime | None, *, seconds: bool = False, empty: str | None = None) -> str:
        """An instant in Paris time, e.g. 01/02/2024 18:00 (Europe/Paris)."""
        if value is None:
            return gettext("unknown") if empty is None else empty
        return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")

    def yes_no(self, value: bool | None) -> str:
        if value is None:
            return gettext("Not decided yet")
        return gettext("Yes") if value else gettext("No")

    def number(self, value: int | Decimal | None) -> str:
        if value is None:
            return gettext("not recorded")
        if isinstance(value, Decimal):
            text = f"{value.normalize():f}"
            return text.replace(".", ",") if self.lang == "fr" else text
        grouped = f"{value:,}"
        return grouped.replace(",", "\u00a0") if self.lang == "fr" else grouped

    def categories(self, labels, values) -> str:
        return "; ".join(self.choice(labels, v) for v in values or []) or gettext("not recorded")
