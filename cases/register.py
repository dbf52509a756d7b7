"""The Art. 33(5) breach register as rows: its columns, their values, and the CSV a CNIL inspection receives.

One row per case, in French (default) or English. The file is a document produced in the
language asked for, whatever the request's: headers and labels are gettext messages and the
domain's choice labels, read under `translation.override(lang)`. Every cell is neutralised against spreadsheet
formula injection (OWASP "CSV Injection"): a cell starting with = + - @, a tab or a
carriage return is prefixed with a single quote.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from .deadlines import PARIS
from .languages import LANGS, label
from .models import BreachCase, DataCategory, MemberCommunication, Obligation, Organization, SubjectCategory

# ';' because French Excel (the register's readers) splits on the list separator of its
# locale, which is ';' wherever ',' is the decimal mark; a ','-separated file opens as one column.
DELIMITER = ";"
# Excel reads a UTF-8 file as UTF-8 only with a byte-order mark.
BOM = "\ufeff"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_TRIGGER_CHARS = frozenset("".join(FORMULA_TRIGGERS))
CNIL_RULE = "GDPR_33_1"
LIST_SEPARATOR = "; "


def neutralise(cell: str) -> str:
    """The cell, prefixed with a single quote when a spreadsheet could read it as a formula."""
    # Most cells are empty or start with a letter or a digit: nothing to strip, nothing to test further.
    if not cell or (cell[0] not in _TRIGGER_CHARS and not cell[0].isspace()):
        return cell
    if cell.startswith(FORMULA_TRIGGERS) or cell.lstrip().startswith(FORMULA_TRIGGERS):
        return "'" + cell
    return cell


def paris_time(value: datetime | None) -> str:
    """'2024-02-01 18:00', Europe/Paris wall clock; empty when unknown."""
    return value.astimezone(PARIS).strftime("%Y-%m-%d %H:%M") if value else ""


def _yes_no(value: bool | None, lang: str) -> str:
    """'Yes' or 'No' in `lang`."""
    if value is None:
        return ""
    yes, no = _yes_no_words(lang)
    return yes if value else no


@functools.lru_cache(maxsize=len(LANGS))
def _yes_no_words(lang: str) -> tuple[str, str]:
    # Translated once per language, not once per cell of a register thousands of rows long.
    with translation.override(lang):
        return gettext("Yes"), gettext("No")


def _number(value: int | Decimal | None, lang: str) -> str:
    if value is None:
        return ""
    text = str(value)
    return text if lang == "en" else text.replace(".", ",")


def _username(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _choices(labels, values, lang: str) -> str:
    return LIST_SEPARATOR.join(label(labels, v) for v in (values or []))


def _processor(case: BreachCase) -> str:
    return case.processor.name if case.processor_id else case.processor_name


@dataclass(frozen=True)
class Column:
    key: str
    title: Promise  # a lazy gettext message, read in the active language
    value: Callable[[BreachCase, str], str]


def _text(attr: str) -> Callable[[BreachCase, str], str]:
    return lambda case, lang: str(getattr(case, attr) or "")


def _time(attr: str) -> Callable[[BreachCase, str], str]:
    return lambda case, lang: paris_time(getattr(case, attr))


def _flag(attr: str) -> Callable[[BreachCase, str], str]:
    return lambda case, lang: _yes_no(getattr(case, attr), lang)


def _choice(labels, attr: str) -> Callable[[BreachCase, str], str]:
    return lambda case, lang: label(labels, getattr(case, attr), lang)


def _num(attr: str) -> Callable[[BreachCase, str], str]:
    return lambda case, lang: _number(getattr(case, attr), lang)


# In the order of the CNIL notification form, then the decisions and what followed.
COLUMNS: tuple[Column, ...] = (
    Column("reference", _("Reference"), _text("reference")),
    Column("organisation", _("Organisation"), lambda c, lang: c.organization.name),
    Column("siren", _("SIREN"), lambda c, lang: c.organization.siren),
    Column("title", _("Title"), _text("title")),
    Column("status", _("Status"), _choice(BreachCase.Status, "status")),
    Column("first_signal_at", _("First signal"), _time("first_signal_at")),
    Column("first_signal_source", pgettext_lazy("register", "How it was discovered"), _text("first_signal_source")),
    Column("aware_at", _("Awareness (Art. 33(1))"), _time("aware_at")),
    Column(
        "aware_justification",
        _("Justification of the awareness time"),
        _text("aware_justification"),
    ),
    Column("occurred_from", _("Breach started"), _time("occurred_from")),
    Column("occurred_to", _("Breach ended"), _time("occurred_to")),
    Column("ongoing", _("Still ongoing"), _flag("ongoing")),
    Column("nature", _("Established or suspected"), _choice(BreachCase.Nature, "nature")),
    Column("confidentiality", _("Loss of confidentiality"), _flag("breach_confidentiality")),
    Column("integrity", _("Loss of integrity"), _flag("breach_integrity")),
    Column("availability", _("Loss of availability"), _flag("breach_availability")),
    Column("origin", _("Origin"), _choice(BreachCase.Origin, "origin")),
    Column("cause", _("Cause"), _choice(BreachCase.Cause, "cause")),
    Column("description", _("Facts (description)"), _text("description")),
    Column("processor", _("Processor involved"), lambda c, lang: _processor(c)),
    Column(
        "data_categories",
        _("Categories of data"),
        lambda c, lang: _choices(DataCategory, c.data_categories, lang),
    ),
    Column(
        "subject_categories",
        _("Categories of persons"),
        lambda c, lang: _choices(SubjectCategory, c.subject_categories, lang),
    ),
    Column("persons_approx", _("Approximate number of persons"), _num("persons_approx")),
    Column(
        "records_approx",
        _("Approximate number of records"),
        _num("records_approx"),
    ),
    Column(
        "directly_identifiable",
        _("Persons directly identifiable"),
        _flag("directly_identifiable"),
    ),
    Column(
        "likely_consequences",
        _("Likely consequences (effects)"),
        _text("likely_consequences"),
    ),
    Column("measures_immediate", _("Immediate measures"), _text("measures_immediate")),
    Column("measures_medium", _("Medium-term measures"), _text("measures_medium")),
    Column("measures_long", _("Long-term measures"), _text("measures_long")),
    Column("severity_score", _("Severity score (ENISA)"), _num("severity_score")),
    Column("severity_level", _("Severity level"), _choice(BreachCase.SeverityLevel, "severity_level")),
    Column(
        "notify_authority",
        _("Decision: notify the CNIL"),
        _flag("notify_authority"),
    ),
    Column(
        "notify_authority_reason",
        _("Reason for the decision (CNIL)"),
        _text("notify_authority_reason"),
    ),
    Column(
        "notify_authority_decided_by",
        _("Decided by (CNIL)"),
        lambda c, lang: _username(c.notify_authority_decided_by),
    ),
    Column("notify_authority_decided_at", _("Decided at (CNIL)"), _time("notify_authority_decided_at")),
    Column("cnil_due_at", _("CNIL deadline (72 h)"), _time("cnil_due_at")),
    Column("cnil_notified_at", _("Notified to the CNIL at"), _time("cnil_completed_at")),
    Column("cnil_reference", _("CNIL notification reference"), _text("cnil_reference")),
    Column("cnil_late_reason", _("Reasons for the delay"), _text("cnil_late_reason")),
    Column(
        "inform_persons",
        _("Decision: inform the persons"),
        _flag("inform_persons"),
    ),
    Column(
        "inform_persons_exemption",
        _("Exemption (Art. 34(3))"),
        _choice(BreachCase.Art34Exemption, "inform_persons_exemption"),
    ),
    Column(
        "inform_persons_reason",
        _("Reason for the decision (persons)"),
        _text("inform_persons_reason"),
    ),
    Column(
        "inform_persons_decided_by",
        _("Decided by (persons)"),
        lambda c, lang: _username(c.inform_persons_decided_by),
    ),
    Column(
        "inform_persons_decided_at",
        _("Decided at (persons)"),
        _time("inform_persons_decided_at"),
    ),
    Column(
        "communications_sent",
        _("Communications sent to the persons"),
        lambda c, lang: str(c.communications_sent),
    ),
    Column("contained_at", _("Contained at"), _time("contained_at")),
    Column("closed_at", _("Closed at"), _time("closed_at")),
)


def headers(lang: str) -> list[str]:
    with translation.override(lang):
        return [str(column.title) for column in COLUMNS]


def row(case: BreachCase, lang: str) -> list[str]:
    """The register line of one case from `register_cases`, every cell neutralised."""
    with translation.override(lang):
        return _cells(case, lang)


def _cells(case: BreachCase, lang: str) -> list[str]:
    """`row` under a `translation.override(lang)` already entered (`iter_csv` enters it once per chunk)."""
    return [neutralise(column.value(case, lang)) for column in COLUMNS]


def register_cases(organizations: Iterable[Organization]) -> QuerySet[BreachCase]:
    """The cases of `organizations` with everything the register prints, in one query."""
    sent = (
        MemberCommunication.objects.filter(case=OuterRef("pk"), sent_at__isnull=False)
        .order_by()
        .values("case")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        _in_register_order(organizations)
        .select_related("organization", "processor", "notify_authority_decided_by", "inform_persons_decided_by")
        # The case's CNIL notification (at most one: obligation_unique_rule_per_case), joined once rather than
        # read by a subquery per column and per case (four index lookups per case, and a plan costly enough that
        # PostgreSQL compiled it before running it).
        .alias(
            cnil=FilteredRelation(
                "obligations",
                condition=Q(obligations__rule_code=CNIL_RULE, obligations__controller_notice__isnull=True),
            )
        )
        .annotate(
            cnil_due_at=F("cnil__due_at"),
            cnil_completed_at=Case(When(cnil__state=Obligation.State.DONE, then=F("cnil__completed_at"))),
            cnil_reference=F("cnil__reference"),
            cnil_late_reason=F("cnil__late_reason"),
            communications_sent=Coalesce(Subquery(sent, output_field=IntegerField()), Value(0)),
        )
    )


def _in_register_order(organizations: Iterable[Organization]) -> QuerySet[BreachCase]:
    return BreachCase.objects.filter(organization__in=list(organizations)).order_by(
        "organization__name", "aware_at", "reference"
    )


def register_case_ids(organizations: Iterable[Organization]) -> QuerySet:
    """The ids of `register_cases`, in its order, without its joins (a page of the API picks them first)."""
    return _in_register_order(organizations).values_list("pk", flat=True)


CHUNK_ROWS = 500  # rows per chunk written to the client, and per batch fetched from the database


def write_csv(cases: Iterable[BreachCase], lang: str) -> bytes:
    """The register as UTF-8 CSV with a byte-order mark, ';'-separated, every field quoted, in `lang`."""
    return b"".join(iter_csv(cases, lang))


def iter_csv(cases: Iterable[BreachCase], lang: str, *, chunk_rows: int = CHUNK_ROWS) -> Iterator[bytes]:
    """The bytes of `write_csv`, a chunk of `chunk_rows` rows at a time, so memory stays flat however many cases.

    Each chunk is written under `translation.override(lang)`, entered and left around the chunk
    only: a streaming response is consumed between chunks by the server, in whatever language.
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=DELIMITER, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    out.write(BOM)
    writer.writerow(headers(lang))
    rows = iter(cases)
    while True:
        with translation.override(lang):
            for _n, case in zip(range(chunk_rows), rows, strict=False):
                writer.writerow(_cells(case, lang))
        chunk = out.getvalue()
        if not chunk:
            return
        yield chunk.encode("utf-8")
        out.seek(0)
        out.truncate()
