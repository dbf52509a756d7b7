"""Everything the case page shows, loaded with a fixed number of queries, and what the CNIL form still lacks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from ..deadlines import PARIS, Status
from ..dossier import i18n
from ..models import (
    BreachCase,
    ControllerNotice,
    Evidence,
    Filing,
    MemberCommunication,
    Obligation,
    TimelineEvent,
)
from ..regimes import DeadlineKind
from .drafts import DraftLine, draft_lines

# CSS class of each obligation status (its words come from `deadline_tags.clock_label`).
STATUS_CLASSES = {
    Status.WAITING: "status-waiting",
    Status.RUNNING: "status-running",
    Status.DUE_SOON: "status-due-soon",
    Status.OVERDUE: "status-overdue",
    Status.DONE_ON_TIME: "status-done",
    Status.DONE_LATE: "status-late",
    Status.NOT_APPLICABLE: "status-na",
}


def lang_of(language_code: str | None) -> str:
    return "en" if (language_code or "").startswith("en") else "fr"


def paris(value: datetime | None) -> str:
    """An instant as Paris wall-clock time, e.g. 01/02/2024 18:00."""
    return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M") if value else ""


@dataclass
class Fact:
    key: str
    label: str
    value: str
    missing: bool = False


@dataclass
class FactSection:
    title: str
    facts: list[Fact]


@dataclass
class ObligationRow:
    """An obligation with its status at page time; wording comes from `cases.templatetags.deadline_tags`."""

    obligation: Obligation
    status: Status
    status_class: str
    controller: str
    is_pending: bool
    can_request_due: bool
    can_update: bool = False  # a filed report that takes updated versions (DORA intermediate report)


@dataclass
class CasePage:
    case: BreachCase
    lang: str
    sections: list[FactSection]
    missing: list[str]
    obligations: list[ObligationRow]
    events: list[TimelineEvent]
    filings: list[Filing]
    evidence: list[Evidence]
    communications: list[MemberCommunication]
    notices: list[ControllerNotice]
    notices_informed: int
    decisions: list[dict] = field(default_factory=list)
    severity_level: str = ""
    drafts: list[DraftLine] = field(default_factory=list)  # what proposals would change: never a deadline


def case_page(case: BreachCase, *, lang: str = "fr", now: datetime | None = None) -> CasePage:
    """The case and all its records, each list in one query, whatever their number."""
    now = now or timezone.now()
    case = BreachCase.objects.select_related(
        "organization",
        "processor",
        "source_notice__case__organization",
        "notify_authority_decided_by",
        "inform_persons_decided_by",
        "created_by",
    ).get(pk=case.pk)
    obligations = list(
        case.obligations.select_related("controller_notice", "completed_by", "decided_by").order_by(
            F("due_at").asc(nulls_last=True), "rule_code", "pk"
        )
    )
    events = list(case.events.select_related("created_by").order_by("occurred_at", "pk"))
    filings = list(case.filings.select_related("obligation", "evidence", "created_by").order_by("sent_at", "pk"))
    evidence = list(case.evidence.select_related("uploaded_by").order_by("uploaded_at", "pk"))
    communications = list(case.communications.select_related("evidence", "created_by").order_by("sent_at", "pk"))
    notices = list(
        case.controller_notices.select_related("informed_by", "obligation", "receipt").order_by("controller_name", "pk")
    )
    sections = fact_sections(case, lang, filings)
    return CasePage(
        case=case,
        lang=lang,
        sections=sections,
        missing=[f.label for s in sections for f in s.facts if f.missing],
        obligations=[_obligation_row(ob, now) for ob in obligations],
        events=events,
        filings=filings,
        evidence=evidence,
        communications=communications,
        notices=notices,
        notices_informed=sum(1 for n in notices if n.informed_at),
        decisions=_decisions(case, lang),
        severity_level=i18n.choice("severity_level", case.severity_level, lang),
        drafts=draft_lines(case, obligations, notices),
    )


def _obligation_row(ob: Obligation, now: datetime) -> ObligationRow:
    status = ob.status(now)
    rule = ob.rule
    pending = ob.state == Obligation.State.PENDING
    return ObligationRow(
        obligation=ob,
        status=status,
        status_class=STATUS_CLASSES[status],
        controller=ob.controller_notice.controller_name if ob.controller_notice_id else "",
        is_pending=pending,
        can_request_due=pending and rule.kind is DeadlineKind.ON_REQUEST,
        can_update=ob.state == Obligation.State.DONE and rule.accepts_updates,
    )


def _decisions(case: BreachCase, lang: str) -> list[dict]:
    def user(u) -> str:
        return (u.get_full_name() or u.get_username()) if u else ""

    return [
        {
            "key": "authority",
            "label": i18n.t("decision_authority", lang),
            "value": case.notify_authority,
            "reason": case.notify_authority_reason,
            "by": user(case.notify_authority_decided_by),
            "at": paris(case.notify_authority_decided_at),
            "exemption": "",
        },
        {
            "key": "persons",
            "label": i18n.t("decision_persons", lang),
            "value": case.inform_persons,
            "reason": case.inform_persons_reason,
            "by": user(case.inform_persons_decided_by),
            "at": paris(case.inform_persons_decided_at),
            "exemption": i18n.choice("exemption", case.inform_persons_exemption, lang),
        },
    ]


def fact_sections(case: BreachCase, lang: str, filings: list[Filing] | None = None) -> list[FactSection]:
    """The case's facts grouped and ordered as in the CNIL notification form; `missing` marks what it still lacks.

    Labels are the dossier's (French or English), so the page reads like the regulator-ready summary.
    """
    t = lambda key: i18n.t(key, lang)  # noqa: E731
    org = case.organization

    def text(value) -> str:
        return (value or "").strip() if isinstance(value, str) else ("" if value is None else str(value))

    def number(value) -> str:
        if value is None:
            return ""
        grouped = f"{value:,}"
        return grouped.replace(",", "\u00a0") if lang == "fr" else grouped

    def yes_no(value) -> str:
        if value is None:
            return t("undecided")
        return t("yes") if value else t("no")

    def fact(key: str, label: str, value: str, *, needed: bool = False) -> Fact:
        return Fact(key, label, value, missing=needed and not value)

    cnil_filings = [f for f in (filings or []) if f.kind in {Filing.Kind.CNIL_INITIAL, Filing.Kind.CNIL_COMPLEMENTARY}]
    if any(f.kind == Filing.Kind.CNIL_INITIAL for f in cnil_filings):
        filing_type = t("filing_complementary")
    else:
        filing_type = t("filing_initial")
    dpo = ", ".join(p for p in (org.dpo_name, org.dpo_email, org.dpo_phone) if p)
    legal_rep = ", ".join(p for p in (org.legal_rep_name, org.legal_rep_title) if p)
    circumstances = ", ".join(
        t(name)
        for name, on in (
            ("confidentiality", case.breach_confidentiality),
            ("integrity", case.breach_integrity),
            ("availability", case.breach_availability),
        )
        if on
    )
    processors = ", ".join(p for p in (case.processor.name if case.processor else "", case.processor_name) if p)
    origin = "" if case.origin == BreachCase.Origin.UNKNOWN else i18n.choice("origin", case.origin, lang)
    cause = "" if case.cause == BreachCase.Cause.UNKNOWN else i18n.choice("cause", case.cause, lang)
    if case.inform_persons is None:
        informed = ""
    elif case.inform_persons:
        informed = t("yes")
    else:
        ground = i18n.choice("exemption", case.inform_persons_exemption, lang)
        informed = f"{t('no')}: " + " — ".join(p for p in (ground, case.inform_persons_reason) if p)
    end = paris(case.occurred_to) or (t("ongoing") if case.ongoing else "")
    return [
        FactSection(
            t("s1_filing"),
            [
                fact("filing_type", t("filing_type"), filing_type),
                fact("organization", _("Organisation"), org.name),
                fact("siren", t("siren"), org.siren, needed=True),
                fact("dpo", t("dpo"), dpo, needed=True),
                fact("legal_rep", t("legal_rep"), legal_rep, needed=True),
            ],
        ),
        FactSection(
            t("s1_nature"),
            [
                fact("nature", t("nature"), i18n.choice("nature", case.nature, lang)),
                fact("first_signal_at", t("first_signal_at"), paris(case.first_signal_at)),
                fact("first_signal_source", t("first_signal_source"), text(case.first_signal_source), needed=True),
                fact("aware_at", t("aware_at"), paris(case.aware_at)),
                fact("aware_justification", t("aware_justification"), text(case.aware_justification)),
                fact("incident_known_at", t("incident_known_at"), paris(case.incident_known_at)),
                fact("occurred_from", t("occurred_from"), paris(case.occurred_from), needed=True),
                fact("occurred_to", t("occurred_to"), end, needed=True),
                fact(
                    "processor_alerted_at",
                    t("processor_alerted_at"),
                    paris(case.processor_alerted_at),
                    needed=bool(processors),
                ),
                fact("ongoing", t("ongoing"), yes_no(case.ongoing)),
            ],
        ),
        FactSection(
            t("s1_origin"),
            [
                fact("origin", t("origin"), origin, needed=True),
                fact("circumstances", t("circumstances"), circumstances, needed=True),
                fact("cause", t("cause"), cause, needed=True),
                fact("description", t("description"), text(case.description), needed=True),
            ],
        ),
        FactSection(t("s1_processors"), [fact("processor", t("processor"), processors)]),
        FactSection(
            t("s1_persons"),
            [
                fact(
                    "subject_categories",
                    t("subject_categories"),
                    "; ".join(i18n.choice("subject_category", c, lang) for c in case.subject_categories or []),
                    needed=True,
                ),
                fact("persons_approx", t("persons_approx"), number(case.persons_approx), needed=True),
                fact("directly_identifiable", t("directly_identifiable"), yes_no(case.directly_identifiable)),
            ],
        ),
        FactSection(
            t("s1_data"),
            [
                fact(
                    "data_categories",
                    t("data_categories"),
                    "; ".join(i18n.choice("data_category", c, lang) for c in case.data_categories or []),
                    needed=True,
                ),
                fact("records_approx", t("records_approx"), number(case.records_approx), needed=True),
            ],
        ),
        FactSection(
            t("s1_consequences"),
            [
                fact("likely_consequences", t("likely_consequences"), text(case.likely_consequences), needed=True),
                fact("measures_immediate", t("measures_immediate"), text(case.measures_immediate), needed=True),
                fact("measures_medium", t("measures_medium"), text(case.measures_medium), needed=True),
                fact("measures_long", t("measures_long"), text(case.measures_long), needed=True),
            ],
        ),
        FactSection(
            t("s1_informed"),
            [fact("persons_informed", t("persons_informed"), informed, needed=True)],
        ),
    ]
