"""Reading a processor's list of controllers from a CSV file, line by line, before anything is saved.

Columns (a header row names them, in any order, French or English): name, SIREN, contact e-mails
(separated by spaces, commas or "|"), notice hours (empty: without undue delay) and contract
reference. The SIREN identifies the controller: a line whose SIREN matches one of the processor's
external relationships updates it, another creates an external relationship, and a line that
cannot be used is rejected with its reasons. Reading the file costs one query, whatever its size.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from .inputs import NAME_MAX, NOTICE_PERIOD_MAX_HOURS, text_errors
from .models import ProcessingRelationship

MAX_LINES = 2_000
MAX_BYTES = 1_000_000

COLUMNS = {
    "name": {"name", "nom", "raison_sociale", "controller", "responsable"},
    "siren": {"siren"},
    "emails": {"contact_emails", "emails", "e_mails", "contacts", "courriels", "email", "e_mail"},
    "hours": {"notice_hours", "delai_heures", "delai", "heures", "notice_period_hours"},
    "reference": {"contract_reference", "reference_contrat", "reference", "contrat", "reference_du_contrat"},
}


class Action:
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    REJECT = "reject"
    ALL = (CREATE, UPDATE, UNCHANGED, REJECT)


@dataclass
class ImportLine:
    number: int
    name: str = ""
    siren: str = ""
    emails: list[str] = field(default_factory=list)
    hours: int | None = None
    reference: str = ""
    action: str = Action.REJECT
    reasons: list[str] = field(default_factory=list)
    relationship: ProcessingRelationship | None = None

    @property
    def contacts(self) -> list[dict]:
        return [{"name": "", "email": email, "role": ""} for email in self.emails]


def _key(header: str) -> str:
    text = unicodedata.normalize("NFKD", header or "").encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _rows(text: str) -> list[list[str]]:
    if not isinstance(text, str) or not text.strip():
        raise ValidationError({"file": [_("The file is empty.")]})
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise ValidationError({"file": [_("The file is too large (1 MB at most).")]})
    text = text.lstrip("\ufeff")
    first = text.splitlines()[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as error:
        raise ValidationError({"file": [_("The file is not a readable CSV file.")]}) from error
    if len(rows) > MAX_LINES + 1:
        raise ValidationError({"file": [_("At most %(n)s lines per file.") % {"n": MAX_LINES}]})
    return rows


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        key = _key(name)
        for column, names in COLUMNS.items():
            if key in names and column not in found:
                found[column] = index
    missing = [c for c in ("name", "siren") if c not in found]
    if missing:
        raise ValidationError({"file": [_("The first line must name the columns; name and SIREN are required.")]})
    return found


def _cell(row: list[str], columns: dict[str, int], column: str) -> str:
    index = columns.get(column)
    return row[index].strip() if index is not None and index < len(row) else ""


def read_lines(processor, text: str) -> list[ImportLine]:
    """Every line of the file with what importing it would do, or why it is rejected; saves nothing."""
    rows = _rows(text)
    columns = _columns(rows[0])
    existing = {
        r.controller_siren: r
        for r in ProcessingRelationship.objects.filter(processor=processor, ended_at__isnull=True).exclude(
            controller_siren=""
        )
    }
    seen: dict[str, int] = {}
    lines: list[ImportLine] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        line = ImportLine(number=number)
        reasons = line.reasons
        line.name = _cell(row, columns, "name")
        line.siren = _cell(row, columns, "siren").replace(" ", "")
        line.reference = _cell(row, columns, "reference")
        if not line.name:
            reasons.append(_("The name is missing."))
        for label, value in ((_("Name"), line.name), (_("Contract reference"), line.reference)):
            for problem in text_errors(value, max_length=NAME_MAX, multiline=False):
                reasons.append(_("%(label)s: %(problem)s") % {"label": label, "problem": problem})
        if not re.fullmatch(r"\d{9}", line.siren):
            reasons.append(_("A SIREN number has exactly 9 digits."))
        elif line.siren in seen:
            reasons.append(_("This SIREN is already on line %(n)s.") % {"n": seen[line.siren]})
        else:
            seen[line.siren] = number
        for email in filter(None, re.split(r"[\s,|]+", _cell(row, columns, "emails"))):
            try:
                validate_email(email)
            except ValidationError:
                reasons.append(_("%(email)s is not a valid e-mail address.") % {"email": email[:100]})
            else:
                line.emails.append(email)
        if len(line.emails) > 20:
            reasons.append(_("At most %(n)s contacts.") % {"n": 20})
        hours = _cell(row, columns, "hours")
        if hours:
            # isascii: "²" and other Unicode digits pass isdigit() but not int(); the length bounds int().
            if not (hours.isascii() and hours.isdigit() and len(hours) < 10) or not (
                1 <= int(hours) <= NOTICE_PERIOD_MAX_HOURS
            ):
                reasons.append(
                    _("The notice period is a whole number of hours from 1 to %(max)s.")
                    % {"max": NOTICE_PERIOD_MAX_HOURS}
                )
            else:
                line.hours = int(hours)
        current = existing.get(line.siren)
        if not reasons:
            if current is None:
                line.action = Action.CREATE
            elif current.on_platform:
                reasons.append(_("This SIREN belongs to a controller on the platform: an import does not change it."))
            else:
                line.relationship = current
                same = (
                    current.controller_name == line.name
                    and current.contacts == line.contacts
                    and current.notice_period_hours == line.hours
                    and current.contract_reference == line.reference
                )
                line.action = Action.UNCHANGED if same else Action.UPDATE
        lines.append(line)
    if not lines:
        raise ValidationError({"file": [_("The file has no line after its header.")]})
    return lines
