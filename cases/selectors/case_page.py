"""Everything the case page shows, loaded with a fixed number of queries, and what the CNIL form still lacks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext as _

from ..clock_chart import Chart, clock_chart
from ..deadlines import PARIS, Status
from ..filings import KIND_FOR_RULE
from ..languages import label
from ..models import (
    BreachCase,
    ControllerNotice,
    DataCategory,
    Evidence,
    Filing,
    MemberCommunication,
    Obligation,
    SubjectCategory,
    Submission,
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
    can_draft: bool = False  # a filing the register can draft (`cases.filings`), none open yet
    submissions: list = field(default_factory=list)  # the notifications drafted for it, oldest first


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
    clock_chart: Chart | None = None  # the picture of the clocks (cases.clock_chart)
    next_action: NextAction | None = None  # what to do first: the first running deadline's next step


@dataclass
class NextAction:
    """The sentence the case page leads with: "CNIL notification due in 1 d 17 h: draft it"."""

    obligation: Obligation
    text: str  # what is due and when ("… due in 1 d 17 h" or "… overdue by 2 d")
    action: str  # the step ("draft it", "review it", "record it as sent"...)
    url: str  # where the step is taken
    writers_only: bool  # the step is a form only writers may open (the others see the sentence only)
    overdue: bool


def notices_by_urgency(notices: list[ControllerNotice], *, now: datetime | None = None) -> list[ControllerNotice]:
    """The controllers to inform, overdue ones first (earliest due first), then the others not yet informed by
    due date, then those informed; each gets `overdue` (not informed, past its due date) for the page."""
    now = now or timezone.now()
    far = datetime.max.replace(tzinfo=UTC)

    def key(notice):
        ob = getattr(notice, "obligation", None)
        due = ob.due_at if ob is not None and ob.due_at is not None else None
        notice.overdue = notice.informed_at is None and due is not None and due < now
        return (notice.informed_at is not None, not notice.overdue, due or far, notice.controller_name, notice.pk)

    return sorted(notices, key=key)


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
    submissions: dict[int, list[Submission]] = {}
    for sub in case.submissions.order_by("created_at", "pk"):
        submissions.setdefault(sub.obligation_id, []).append(sub)
    evidence = list(case.evidence.select_related("uploaded_by").order_by("uploaded_at", "pk"))
    communications = list(case.communications.select_related("evidence", "created_by").order_by("sent_at", "pk"))
    notices = notices_by_urgency(
        list(
            case.controller_notices.select_related("informed_by", "obligation", "receipt").order_by(
                "controller_name", "pk"
            )
        ),
        now=now,
    )
    sections = fact_sections(case, lang, filings)
    return CasePage(
        case=case,
        lang=lang,
        sections=sections,
        missing=[f.label for s in sections for f in s.facts if f.missing],
        obligations=[_obligation_row(ob, now, submissions.get(ob.pk, [])) for ob in obligations],
        events=events,
        filings=filings,
        evidence=evidence,
        communications=communications,
        notices=notices,
        notices_informed=sum(1 for n in notices if n.informed_at),
        decisions=_decisions(case),
        severity_level=label(BreachCase.SeverityLevel, case.severity_level),
        drafts=draft_lines(case, obligations, notices),
        clock_chart=clock_chart(obligations, now=now, label=lambda ob: ob.title(lang)),
        next_action=None
        if case.status == BreachCase.Status.CLOSED
        else next_action(case, obligations, submissions, lang, now),
    )


def next_action(
    case: BreachCase, obligations: list[Obligation], submissions: dict[int, list[Submission]], lang: str, now: datetime
) -> NextAction | None:
    """The next step on the first running deadline (pending, with a due date, earliest first); reads no database."""
    from ..templatetags.deadline_tags import duration  # the page's own wording of a duration

    running = [
        ob
        for ob in obligations
        if ob.state == Obligation.State.PENDING and ob.due_at is not None and ob.rule_code != "GDPR_33_5"
    ]
    if not running:
        return None
    ob = min(running, key=lambda o: (o.due_at, o.pk))
    case_ref = case.reference
    seconds = (ob.due_at - now).total_seconds()
    title = ob.title(lang)
    if seconds >= 0:
        text = _("%(obligation)s due in %(duration)s") % {"obligation": title, "duration": duration(seconds)}
    else:
        text = _("%(obligation)s overdue by %(duration)s") % {"obligation": title, "duration": duration(-seconds)}
    open_sub = next((sub for sub in submissions.get(ob.pk, []) if sub.state != Submission.State.SENT), None)
    writers_only = True
    if open_sub is not None:
        action = {
            Submission.State.DRAFT: _("finish the draft and submit it for review"),
            Submission.State.IN_REVIEW: _("review it (another person than its author approves it)"),
            Submission.State.APPROVED: _("record it as sent"),
        }[Submission.State(open_sub.state)]
        url, writers_only = (
            reverse("cases:submission_detail", kwargs={"reference": case_ref, "submission_id": open_sub.pk}),
            False,
        )
    elif ob.rule_code in KIND_FOR_RULE and ob.controller_notice_id is None:
        action = _("draft it")
        url = reverse("cases:submission_start", kwargs={"reference": case_ref, "obligation_id": ob.pk})
    elif ob.rule_code == "GDPR_34":
        action = _("record the communication")
        url = reverse("cases:communication_record", kwargs={"reference": case_ref})
    elif ob.controller_notice_id is not None:
        action = _("record the notice")
        url = reverse("cases:controller_inform", kwargs={"reference": case_ref, "notice_id": ob.controller_notice_id})
    else:
        action = _("record the filing")
        url = reverse("cases:filing_record", kwargs={"reference": case_ref}) + f"?obligation={ob.pk}"
    return NextAction(obligation=ob, text=text, action=action, url=url, writers_only=writers_only, overdue=seconds < 0)


def _obligation_row(ob: Obligation, now: datetime, submissions: list[Submission]) -> ObligationRow:
    status = ob.status(now)
    rule = ob.rule
    pending = ob.state == Obligation.State.PENDING
    draftable = ob.rule_code in KIND_FOR_RULE and ob.controller_notice_id is None
    return ObligationRow(
        obligation=ob,
        status=status,
        status_class=STATUS_CLASSES[status],
        controller=ob.controller_notice.controller_name if ob.controller_notice_id else "",
        is_pending=pending,
        can_request_due=pending and rule.kind is DeadlineKind.ON_REQUEST,
        can_update=ob.state == Obligation.State.DONE and rule.accepts_updates,
        can_draft=pending and draftable and all(sub.state == Submission.State.SENT for sub in submissions),
        submissions=submissions,
    )


def _recorded(happened: datetime | None, recorded: datetime | None) -> str:
    """When a past fact was recorded, shown only when it differs from when it happened (to the minute)."""
    if happened is None or recorded is None or paris(happened) == paris(recorded):
        return ""
    return paris(recorded)


def _decisions(case: BreachCase) -> list[dict]:
    def user(u) -> str:
        return (u.get_full_name() or u.get_username()) if u else ""

    return [
        {
            "key": "authority",
            "label": gettext("Notify the supervisory authority (Art. 33)"),
            "value": case.notify_authority,
            "reason": case.notify_authority_reason,
            "by": user(case.notify_authority_decided_by),
            "at": paris(case.notify_authority_decided_at),
            "recorded_at": _recorded(case.notify_authority_decided_at, case.notify_authority_recorded_at),
            "exemption": "",
        },
        {
            "key": "persons",
            "label": gettext("Inform the persons concerned (Art. 34)"),
            "value": case.inform_persons,
            "reason": case.inform_persons_reason,
            "by": user(case.inform_persons_decided_by),
            "at": paris(case.inform_persons_decided_at),
            "recorded_at": _recorded(case.inform_persons_decided_at, case.inform_persons_recorded_at),
            "exemption": label(BreachCase.Art34Exemption, case.inform_persons_exemption),
        },
    ]


def fact_sections(case: BreachCase, lang: str, filings: list[Filing] | None = None) -> list[FactSection]:
    """The case's facts grouped and ordered as in the CNIL notification form; `missing` marks what it still lacks.

    Labels are the dossier's (French or English), so the page reads like the regulator-ready summary; they are
    read in `lang` whatever the active language.
    """
    with translation.override(lang):
        return _fact_sections(case, lang, filings)


def _fact_sections(case: BreachCase, lang: str, filings: list[Filing] | None) -> list[FactSection]:
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
            return gettext("Not decided yet")
        return gettext("Yes") if value else gettext("No")

    def fact(key: str, label: str, value: str, *, needed: bool = False) -> Fact:
        return Fact(key, label, value, missing=needed and not value)

    cnil_filings = [f for f in (filings or []) if f.kind in {Filing.Kind.CNIL_INITIAL, Filing.Kind.CNIL_COMPLEMENTARY}]
    if any(f.kind == Filing.Kind.CNIL_INITIAL for f in cnil_filings):
        filing_type = gettext("Complementary notification")
    else:
        filing_type = gettext("Initial notification")
    dpo = ", ".join(p for p in (org.dpo_name, org.dpo_email, org.dpo_phone) if p)
    legal_rep = ", ".join(p for p in (org.legal_rep_name, org.legal_rep_title) if p)
    circumstances = ", ".join(
        text
        for text, on in (
            (gettext("loss of confidentiality"), case.breach_confidentiality),
            (gettext("loss of integrity"), case.breach_integrity),
            (gettext("loss of availability"), case.breach_availability),
        )
        if on
    )
    processors = ", ".join(p for p in (case.processor.name if case.processor else "", case.processor_name) if p)
    origin = "" if case.origin == BreachCase.Origin.UNKNOWN else label(BreachCase.Origin, case.origin)
    cause = "" if case.cause == BreachCase.Cause.UNKNOWN else label(BreachCase.Cause, case.cause)
    if case.inform_persons is None:
        informed = ""
    elif case.inform_persons:
        informed = gettext("Yes")
    else:
        ground = label(BreachCase.Art34Exemption, case.inform_persons_exemption)
        informed = f"{gettext('No')}: " + " — ".join(p for p in (ground, case.inform_persons_reason) if p)
    end = paris(case.occurred_to) or (pgettext("dossier", "Still ongoing") if case.ongoing else "")
    return [
        FactSection(
            gettext("Type of filing and organisation"),
            [
                fact("filing_type", gettext("Type of filing"), filing_type),
                fact("organization", _("Organisation"), org.name),
                fact("siren", gettext("SIREN"), org.siren, needed=True),
                fact("dpo", gettext("Data protection officer (DPO)"), dpo, needed=True),
                fact("legal_rep", gettext("Legal representative"), legal_rep, needed=True),
            ],
        ),
        FactSection(
            gettext("Nature of the breach"),
            [
                fact("nature", gettext("Established or suspected"), label(BreachCase.Nature, case.nature)),
                fact("first_signal_at", gettext("Discovery (first signal)"), paris(case.first_signal_at)),
                fact(
                    "first_signal_source", gettext("How it was discovered"), text(case.first_signal_source), needed=True
                ),
                fact("aware_at", gettext("Awareness (Art. 33(1))"), paris(case.aware_at)),
                fact("aware_justification", gettext("Why awareness is dated so"), text(case.aware_justification)),
                fact("incident_known_at", gettext("Knowledge of the security incident"), paris(case.incident_known_at)),
                fact("occurred_from", gettext("Start of the breach"), paris(case.occurred_from), needed=True),
                fact("occurred_to", gettext("End of the breach"), end, needed=True),
                fact(
                    "processor_alerted_at",
                    gettext("Processor alerted us at"),
                    paris(case.processor_alerted_at),
                    needed=bool(processors),
                ),
                fact("ongoing", pgettext("dossier", "Still ongoing"), yes_no(case.ongoing)),
            ],
        ),
        FactSection(
            gettext("Origin, circumstances and cause"),
            [
                fact("origin", gettext("Origin"), origin, needed=True),
                fact("circumstances", gettext("Circumstances"), circumstances, needed=True),
                fact("cause", gettext("Cause"), cause, needed=True),
                fact("description", gettext("Description"), text(case.description), needed=True),
            ],
        ),
        FactSection(gettext("Processors involved"), [fact("processor", gettext("Processor"), processors)]),
        FactSection(
            gettext("Persons concerned"),
            [
                fact(
                    "subject_categories",
                    gettext("Categories of persons"),
                    "; ".join(label(SubjectCategory, c) for c in case.subject_categories or []),
                    needed=True,
                ),
                fact(
                    "persons_approx", gettext("Approximate number of persons"), number(case.persons_approx), needed=True
                ),
                fact(
                    "directly_identifiable",
                    gettext("Persons directly identifiable"),
                    yes_no(case.directly_identifiable),
                ),
            ],
        ),
        FactSection(
            gettext("Data concerned"),
            [
                fact(
                    "data_categories",
                    gettext("Categories of data"),
                    "; ".join(label(DataCategory, c) for c in case.data_categories or []),
                    needed=True,
                ),
                fact(
                    "records_approx",
                    pgettext("dossier", "Approximate number of records"),
                    number(case.records_approx),
                    needed=True,
                ),
            ],
        ),
        FactSection(
            gettext("Likely consequences and measures"),
            [
                fact(
                    "likely_consequences", gettext("Likely consequences"), text(case.likely_consequences), needed=True
                ),
                fact("measures_immediate", gettext("Immediate measures"), text(case.measures_immediate), needed=True),
                fact("measures_medium", gettext("Medium-term measures"), text(case.measures_medium), needed=True),
                fact("measures_long", gettext("Long-term measures"), text(case.measures_long), needed=True),
            ],
        ),
        FactSection(
            gettext("Information of the persons"),
            [fact("persons_informed", gettext("Persons informed"), informed, needed=True)],
        ),
    ]
