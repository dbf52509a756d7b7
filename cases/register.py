"""The Art. 33(5) breach register as rows: its columns, their values, and the CSV a CNIL inspection receives.

One row per case, in French (default) or English. The wording is a table keyed by
language, like the dossier's (`cases.dossier.i18n`), because the file is a document
produced in the language asked for. Every cell is neutralised against spreadsheet
formula injection (OWASP "CSV Injection"): a cell starting with = + - @, a tab or a
carriage return is prefixed with a single quote.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from .deadlines import PARIS
from .dossier.i18n import choice
from .models import BreachCase, MemberCommunication, Obligation, Organization

# ';' because French Excel (the register's readers) splits on the list separator of its
# locale, which is ';' wherever ',' is the decimal mark; a ','-separated file opens as one column.
DELIMITER = ";"
# Excel reads a UTF-8 file as UTF-8 only with a byte-order mark.
BOM = "\ufeff"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CNIL_RULE = "GDPR_33_1"
LIST_SEPARATOR = "; "


def neutralise(cell: str) -> str:
    """The cell, prefixed with a single quote when a spreadsheet could read it as a formula."""
    if cell.startswith(FORMULA_TRIGGERS) or cell.lstrip().startswith(FORMULA_TRIGGERS):
        return "'" + cell
    return cell


def paris_time(value: datetime | None) -> str:
    """'2024-02-01 18:00', Europe/Paris wall clock; empty when unknown."""
    return value.astimezone(PARIS).strftime("%Y-%m-%d %H:%M") if value else ""


def _yes_no(value: bool | None, lang: str) -> str:
    if value is None:
        return ""
    if lang == "en":
        return "Yes" if value else "No"
    return "Oui" if value else "Non"


def _number(value: int | Decimal | None, lang: str) -> str:
    if value is None:
        return ""
    text = str(value)
    return text if lang == "en" else text.replace(".", ",")


def _username(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _choices(group: str, values, lang: str) -> str:
    return LIST_SEPARATOR.join(choice(group, v, lang) for v in (values or []))


def _processor(case: BreachCase) -> str:
    return case.processor.name if case.processor_id else case.processor_name


@dataclass(frozen=True)
class Column:
    key: str
    fr: str
    en: str
    value: Callable[[BreachCase, str], str]

    def header(self, lang: str) -> str:
        return self.en if lang == "en" else self.fr


def _text(attr: str) -> Callable[[BreachCase, str], str]:
    return lambda case, lang: str(getattr(case, attr) or "")


def _time(attr: str) -> Callable[[BreachCase, str], str]:
    return lambda case, lang: paris_time(getattr(case, attr))


def _flag(attr: str) -> Callable[[BreachCase, str], str]:
    return lambda case, lang: _yes_no(getattr(case, attr), lang)


def _choice(group: str, attr: str) -> Callable[[BreachCase, str], str]:
    return lambda case, lang: choice(group, getattr(case, attr), lang)


def _num(attr: str) -> Callable[[BreachCase, str], str]:
    return lambda case, lang: _number(getattr(case, attr), lang)


# In the order of the CNIL notification form, then the decisions and what followed.
COLUMNS: tuple[Column, ...] = (
    Column("reference", "Référence", "Reference", _text("reference")),
    Column("organisation", "Organisme", "Organisation", lambda c, lang: c.organization.name),
    Column("siren", "SIREN", "SIREN", lambda c, lang: c.organization.siren),
    Column("title", "Intitulé", "Title", _text("title")),
    Column("status", "Statut", "Status", _choice("status", "status")),
    Column("first_signal_at", "Premier signalement", "First signal", _time("first_signal_at")),
    Column("first_signal_source", "Mode de découverte", "How it was discovered", _text("first_signal_source")),
    Column("aware_at", "Prise de connaissance (art. 33(1))", "Awareness (Art. 33(1))", _time("aware_at")),
    Column(
        "aware_justification",
        "Justification de l'heure de prise de connaissance",
        "Justification of the awareness time",
        _text("aware_justification"),
    ),
    Column("occurred_from", "Début de la violation", "Breach started", _time("occurred_from")),
    Column("occurred_to", "Fin de la violation", "Breach ended", _time("occurred_to")),
    Column("ongoing", "Toujours en cours", "Still ongoing", _flag("ongoing")),
    Column("nature", "Violation avérée ou suspectée", "Established or suspected", _choice("nature", "nature")),
    Column("confidentiality", "Perte de confidentialité", "Loss of confidentiality", _flag("breach_confidentiality")),
    Column("integrity", "Perte d'intégrité", "Loss of integrity", _flag("breach_integrity")),
    Column("availability", "Perte de disponibilité", "Loss of availability", _flag("breach_availability")),
    Column("origin", "Origine", "Origin", _choice("origin", "origin")),
    Column("cause", "Cause", "Cause", _choice("cause", "cause")),
    Column("description", "Faits (description)", "Facts (description)", _text("description")),
    Column("processor", "Sous-traitant impliqué", "Processor involved", lambda c, lang: _processor(c)),
    Column(
        "data_categories",
        "Catégories de données",
        "Categories of data",
        lambda c, lang: _choices("data_category", c.data_categories, lang),
    ),
    Column(
        "subject_categories",
        "Catégories de personnes",
        "Categories of persons",
        lambda c, lang: _choices("subject_category", c.subject_categories, lang),
    ),
    Column(
        "persons_approx", "Nombre approximatif de personnes", "Approximate number of persons", _num("persons_approx")
    ),
    Column(
        "records_approx",
        "Nombre approximatif d'enregistrements",
        "Approximate number of records",
        _num("records_approx"),
    ),
    Column(
        "directly_identifiable",
        "Personnes directement identifiables",
        "Persons directly identifiable",
        _flag("directly_identifiable"),
    ),
    Column(
        "likely_consequences",
        "Conséquences probables (effets)",
        "Likely consequences (effects)",
        _text("likely_consequences"),
    ),
    Column("measures_immediate", "Mesures immédiates", "Immediate measures", _text("measures_immediate")),
    Column("measures_medium", "Mesures à moyen terme", "Medium-term measures", _text("measures_medium")),
    Column("measures_long", "Mesures à long terme", "Long-term measures", _text("measures_long")),
    Column("severity_score", "Score de gravité (ENISA)", "Severity score (ENISA)", _num("severity_score")),
    Column("severity_level", "Niveau de gravité", "Severity level", _choice("severity_level", "severity_level")),
    Column(
        "notify_authority",
        "Décision : notifier la CNIL",
        "Decision: notify the CNIL",
        _flag("notify_authority"),
    ),
    Column(
        "notify_authority_reason",
        "Motif de la décision (CNIL)",
        "Reason for the decision (CNIL)",
        _text("notify_authority_reason"),
    ),
    Column(
        "notify_authority_decided_by",
        "Décidé par (CNIL)",
        "Decided by (CNIL)",
        lambda c, lang: _username(c.notify_authority_decided_by),
    ),
    Column(
        "notify_authority_decided_at", "Décidé le (CNIL)", "Decided at (CNIL)", _time("notify_authority_decided_at")
    ),
    Column("cnil_due_at", "Échéance CNIL (72 h)", "CNIL deadline (72 h)", _time("cnil_due_at")),
    Column("cnil_notified_at", "Notifiée à la CNIL le", "Notified to the CNIL at", _time("cnil_completed_at")),
    Column(
        "cnil_reference", "Référence de la notification CNIL", "CNIL notification reference", _text("cnil_reference")
    ),
    Column("cnil_late_reason", "Motifs du retard", "Reasons for the delay", _text("cnil_late_reason")),
    Column(
        "inform_persons",
        "Décision : informer les personnes",
        "Decision: inform the persons",
        _flag("inform_persons"),
    ),
    Column(
        "inform_persons_exemption",
        "Exemption (art. 34(3))",
        "Exemption (Art. 34(3))",
        _choice("exemption", "inform_persons_exemption"),
    ),
    Column(
        "inform_persons_reason",
        "Motif de la décision (personnes)",
        "Reason for the decision (persons)",
        _text("inform_persons_reason"),
    ),
    Column(
        "inform_persons_decided_by",
        "Décidé par (personnes)",
        "Decided by (persons)",
        lambda c, lang: _username(c.inform_persons_decided_by),
    ),
    Column(
        "inform_persons_decided_at",
        "Décidé le (personnes)",
        "Decided at (persons)",
        _time("inform_persons_decided_at"),
    ),
    Column(
        "communications_sent",
        "Communications envoyées aux personnes",
        "Communications sent to the persons",
        lambda c, lang: str(c.communications_sent),
    ),
    Column("contained_at", "Maîtrisée le", "Contained at", _time("contained_at")),
    Column("closed_at", "Clos le", "Closed at", _time("closed_at")),
)


def headers(lang: str) -> list[str]:
    return [column.header(lang) for column in COLUMNS]


def row(case: BreachCase, lang: str) -> list[str]:
    """The register line of one case from `register_cases`, every cell neutralised."""
    return [neutralise(column.value(case, lang)) for column in COLUMNS]


def register_cases(organizations: Iterable[Organization]) -> QuerySet[BreachCase]:
    """The cases of `organizations` with everything the register prints, in one query."""
    cnil = Obligation.objects.filter(case=OuterRef("pk"), rule_code=CNIL_RULE, controller_notice__isnull=True)
    sent = (
        MemberCommunication.objects.filter(case=OuterRef("pk"), sent_at__isnull=False)
        .order_by()
        .values("case")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        BreachCase.objects.filter(organization__in=list(organizations))
        .select_related("organization", "processor", "notify_authority_decided_by", "inform_persons_decided_by")
        .annotate(
            cnil_due_at=Subquery(cnil.values("due_at")[:1]),
            cnil_completed_at=Subquery(cnil.filter(state=Obligation.State.DONE).values("completed_at")[:1]),
            cnil_reference=Subquery(cnil.values("reference")[:1]),
            cnil_late_reason=Subquery(cnil.values("late_reason")[:1]),
            communications_sent=Coalesce(Subquery(sent, output_field=IntegerField()), Value(0)),
        )
        .order_by("organization__name", "aware_at", "reference")
    )


def write_csv(cases: Iterable[BreachCase], lang: str) -> bytes:
    """The register as UTF-8 CSV with a byte-order mark, ';'-separated, every field quoted."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=DELIMITER, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(headers(lang))
    for case in cases:
        writer.writerow(row(case, lang))
    return out.getvalue().encode("utf-8")
