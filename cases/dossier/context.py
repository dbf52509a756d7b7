"""What every section module receives: the data, the language, and value formatting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ..bundle import BundleWriter
from ..deadlines import PARIS
from ..selectors.dossier import DossierData
from . import i18n


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

    @property
    def case(self):
        return self.data.case

    def t(self, key: str, **params: object) -> str:
        return i18n.t(key, self.lang, **params)

    def choice(self, group: str, value: object) -> str:
        return i18n.choice(group, value, self.lang)

    def dt(self, value: datetime | None, *, seconds: bool = False, empty: str | None = None) -> str:
        """An instant in Paris time, e.g. 01/02/2024 18:00 (Europe/Paris)."""
        if value is None:
            return self.t("unknown") if empty is None else empty
        return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")

    def yes_no(self, value: bool | None) -> str:
        if value is None:
            return self.t("undecided")
        return self.t("yes") if value else self.t("no")

    def number(self, value: int | Decimal | None) -> str:
        if value is None:
            return self.t("not_set")
        if isinstance(value, Decimal):
            text = f"{value.normalize():f}"
            return text.replace(".", ",") if self.lang == "fr" else text
        grouped = f"{value:,}"
        return grouped.replace(",", "\u00a0") if self.lang == "fr" else grouped

    def categories(self, group: str, values) -> str:
        return "; ".join(self.choice(group, v) for v in values or []) or self.t("not_set")
