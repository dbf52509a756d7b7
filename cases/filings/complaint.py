"""The criminal complaint, as data: the letter to the public prosecutor, or the record of a complaint
lodged at a police or gendarmerie station.

Either fulfils the complaint obligation (COMPLAINT_INSURANCE, the 72 h the insurer's indemnity
depends on, Code des assurances art. L12-10-1; or COMPLAINT_GENERAL, no legal deadline). The
letter to the prosecutor ("plainte auprès du procureur de la République", CPP art. 40 and 85)
carries who complains and who represents them, the facts in chronological order, their dates,
the systems affected, the data and persons concerned, the losses, any suspects or indicators and
the list of evidence with each file's SHA-256; the record of a complaint at a station carries the
station, when it was lodged and the receipt's number (récépissé, CPP art. 15-3). The receipt file
itself is kept as the submission's `receipt` when it is recorded as sent. The complaint is not an
EDPB-template filing: its questions carry no EDPB section.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..deadlines import PARIS
from ..languages import label
from ..models import BreachCase, DataCategory, Evidence, SubjectCategory, TimelineEvent
from .base import FilingForm, FormField, FormSection

PROSECUTOR = "complaint_prosecutor"
STATION = "complaint_station"


@dataclass(frozen=True)
class Sources:
    kind: str
    case: BreachCase
    events: list[TimelineEvent]
    evidence: list[Evidence]


def sources_for(case: BreachCase, kind: str) -> Sources:
    """Three queries whatever the case: its organisation, its timeline, its evidence."""
    case = BreachCase.objects.select_related("organization").get(pk=case.pk)
    events = list(case.events.order_by("occurred_at", "pk"))
    evidence = list(case.evidence.order_by("uploaded_at", "pk"))
    return Sources(kind, case, events, evidence)


def _when(value: datetime | None) -> str:
    return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M") if value else ""


def _join(*parts: str, sep: str = ", ") -> str:
    return sep.join(p.strip() for p in parts if p and p.strip())


def _chronology(s: Sources) -> str:
    """The facts in chronological order: the case's key times and its timeline, one line each."""
    c = s.case
    lines: list[tuple[datetime, int, str]] = []
    if c.occurred_from:
        lines.append((c.occurred_from, 0, gettext("Start of the breach (as far as known)")))
    lines.append((c.first_signal_at, 1, _join(gettext("First signal"), c.first_signal_source, sep=": ")))
    lines.append((c.aware_at, 2, gettext("Awareness of the breach (Art. 33(1))")))
    if c.occurred_to:
        lines.append((c.occurred_to, 3, gettext("End of the breach")))
    if c.contained_at:
        lines.append((c.contained_at, 4, gettext("Breach contained")))
    for event in s.events:
        lines.append((event.occurred_at, 5, _join(event.title, event.description, sep=": ")))
    lines.sort(key=lambda line: (line[0], line[1]))
    return "\n".join(f"{_when(at)} — {text}" for at, _order, text in lines)


def _evidence(s: Sources) -> str:
    return "\n".join(
        _join(
            e.original_name,
            e.description,
            f"SHA-256 {e.sha256}",
            gettext("added on %(date)s") % {"date": _when(e.uploaded_at)},
            sep=" — ",
        )
        for e in s.evidence
    )


def _data(s: Sources) -> str:
    return "; ".join(label(DataCategory, c) for c in s.case.data_categories or [])


def _persons(s: Sources) -> str:
    c = s.case
    categories = "; ".join(label(SubjectCategory, x) for x in c.subject_categories or [])
    count = "" if c.persons_approx is None else gettext("about %(n)s persons") % {"n": f"{c.persons_approx:,}"}
    return _join(categories, count.replace(",", "\u00a0"), sep=" — ")


def _known(choices, value: str) -> str:
    return "" if value == "unknown" else label(choices, value)


def _f(key, label_, source, *, required=True, multiline=False, kinds=()) -> FormField:
    return FormField(
        key=key,
        label=label_,
        source=source,
        edpb="",
        required=required,
        multiline=multiline,
        kinds=frozenset(kinds),
    )


COMPLAINANT = FormSection(
    "complainant",
    _("Complainant"),
    (
        _f("organization", _("Organisation (victim)"), lambda s: s.case.organization.name),
        _f("siren", _("SIREN"), lambda s: s.case.organization.siren),
        _f("address", _("Registered address"), lambda s: s.case.organization.address, multiline=True),
        _f(
            "representative",
            _("Represented by"),
            lambda s: _join(s.case.organization.legal_rep_name, s.case.organization.legal_rep_title),
        ),
        _f(
            "contact",
            _("Contact for the investigators"),
            lambda s: _join(
                s.case.organization.legal_rep_email,
                s.case.organization.dpo_name,
                s.case.organization.dpo_email,
                s.case.organization.dpo_phone,
            ),
        ),
    ),
)

ADDRESSEE = FormSection(
    "addressee",
    _("Addressee"),
    (
        _f(
            "court",
            _("Public prosecutor at the judicial court of"),
            None,
        ),
    ),
)

STATION_SECTION = FormSection(
    "station",
    _("Complaint lodged at a station"),
    (
        _f("station", _("Police or gendarmerie station"), None),
        _f("station_address", _("Address of the station"), None, required=False, multiline=True),
        _f("lodged_at", _("Lodged on (date and time)"), None),
        _f("receipt_number", _("Receipt (récépissé) number"), None),
        _f("officer", _("Officer who took the complaint"), None, required=False),
    ),
)

FACTS = FormSection(
    "facts",
    _("The facts"),
    (
        _f("chronology", _("Facts in chronological order"), _chronology, multiline=True),
        _f("description", _("Description of the attack"), lambda s: s.case.description, multiline=True),
        _f("origin", _("Origin"), lambda s: _known(BreachCase.Origin, s.case.origin)),
        _f("first_signal_at", _("Discovery (first signal)"), lambda s: _when(s.case.first_signal_at)),
        _f("aware_at", _("Awareness"), lambda s: _when(s.case.aware_at)),
        _f("occurred_from", _("Start of the breach"), lambda s: _when(s.case.occurred_from), required=False),
        _f("occurred_to", _("End of the breach"), lambda s: _when(s.case.occurred_to), required=False),
    ),
)

IMPACT = FormSection(
    "impact",
    _("Systems, data and persons concerned"),
    (
        _f("systems", _("Systems affected"), None, multiline=True),
        _f("data", _("Data concerned"), _data),
        _f("persons", _("Persons concerned"), _persons),
    ),
)

PREJUDICE = FormSection(
    "prejudice",
    _("Losses and prejudice"),
    (
        _f("losses", _("Losses and prejudice suffered"), None, multiline=True),
        _f(
            "consequences",
            _("Likely consequences for the persons"),
            lambda s: s.case.likely_consequences,
            required=False,
            multiline=True,
        ),
    ),
)

SUSPECTS = FormSection(
    "suspects",
    _("Suspects and indicators"),
    (
        _f(
            "suspects",
            _("Suspects, indicators of compromise (addresses, accounts, ransom note...)"),
            None,
            required=False,
            multiline=True,
        ),
    ),
)

EVIDENCE = FormSection(
    "evidence",
    _("Evidence"),
    (
        _f(
            "evidence",
            _("Evidence enclosed (file, description, SHA-256)"),
            _evidence,
            multiline=True,
            kinds={PROSECUTOR},
        ),
        _f(
            "evidence",
            _("Evidence handed over (file, description, SHA-256)"),
            _evidence,
            required=False,
            multiline=True,
            kinds={STATION},
        ),
    ),
)

COMPLAINT_PROSECUTOR = FilingForm(
    PROSECUTOR,
    "COMPLAINT_INSURANCE",
    _("Complaint to the public prosecutor"),
    (COMPLAINANT, ADDRESSEE, FACTS, IMPACT, PREJUDICE, SUSPECTS, EVIDENCE),
    sources_for,
    other_rules=("COMPLAINT_GENERAL",),
    filing_kind="complaint",
)
COMPLAINT_STATION = FilingForm(
    STATION,
    "COMPLAINT_INSURANCE",
    _("Complaint lodged at a police or gendarmerie station"),
    (COMPLAINANT, STATION_SECTION, FACTS, IMPACT, PREJUDICE, SUSPECTS, EVIDENCE),
    sources_for,
    other_rules=("COMPLAINT_GENERAL",),
    filing_kind="complaint",
)
