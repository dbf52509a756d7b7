"""The case itself: opening, facts, decisions, and its status (open, contained, closed)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from webhooks import events as webhook_events

from .. import deadlines, severity
from ..models import (
    BreachCase,
    DataCategory,
    Filing,
    MemberCommunication,
    Obligation,
    Organization,
    ProcessingRelationship,
    SubjectCategory,
)
from ..permissions import DECISION_ROLES, WRITE_ROLES, require_role
from . import common
from .common import (
    blank,
    check_aware,
    check_not_future,
    check_version,
    differs,
    lock_case,
    lock_open_case,
    raise_errors,
    save,
    service,
)
from .obligations import mark_not_applicable_locked, reactivate_locked, sync_obligations

UPDATABLE_FACTS = frozenset(
    {
        "title",
        "first_signal_at",
        "first_signal_source",
        "aware_at",
        "aware_justification",
        "incident_known_at",
        "occurred_from",
        "occurred_to",
        "ongoing",
        "nature",
        "breach_confidentiality",
        "breach_integrity",
        "breach_availability",
        "origin",
        "cause",
        "description",
        "data_categories",
        "subject_categories",
        "persons_approx",
        "records_approx",
        "directly_identifiable",
        "likely_consequences",
        "measures_immediate",
        "measures_medium",
        "measures_long",
        "severity_dpc_adjustment",
        "severity_ei",
        "severity_cb_confidentiality",
        "severity_cb_integrity",
        "severity_cb_availability",
        "severity_cb_malicious",
        "processor",
        "processor_name",
        "processor_alerted_at",
        "nis2_significant",
        "dora_major",
        "dora_classified_at",
    }
)


CLOCK_FACTS = frozenset({"first_signal_at", "aware_at", "incident_known_at", "dora_classified_at"})


INSTANT_FACTS = ("dora_classified_at", "processor_alerted_at", "occurred_from", "occurred_to")


SEVERITY_FIELDS = {
    "ease_of_identification": "severity_ei",
    "cb_confidentiality": "severity_cb_confidentiality",
    "cb_integrity": "severity_cb_integrity",
    "cb_availability": "severity_cb_availability",
    "data_categories": "data_categories",
}


def _validate_other_facts(errors: dict, facts: dict, *, current: BreachCase | None = None) -> None:
    """Instants other than the clocks, and the category lists (codes only: counts, never identities)."""
    for name in INSTANT_FACTS:
        if name in facts:
            check_aware(errors, name, facts[name])
            if not errors.get(name):
                check_not_future(errors, name, facts[name])
    start = facts.get("occurred_from", current.occurred_from if current else None)
    end = facts.get("occurred_to", current.occurred_to if current else None)
    if not (errors.get("occurred_from") or errors.get("occurred_to")) and start and end and end < start:
        errors.setdefault("occurred_to", []).append(_("The breach cannot end before it started."))
    for name, known in (("data_categories", DataCategory.values), ("subject_categories", SubjectCategory.values)):
        if name not in facts:
            continue
        value = facts[name]
        if not isinstance(value, list | tuple) or not all(isinstance(code, str) for code in value):
            errors.setdefault(name, []).append(_("Choose categories from the list."))
            continue
        unknown = sorted(set(value) - set(known))
        if unknown:
            errors.setdefault(name, []).append(
                _("Unknown categories: %(codes)s. Record categories from the list, never identities.")
                % {"codes": ", ".join(unknown)}
            )


def related_processors(organization_id: int):
    """The processors the organisation may name on its cases: those of its own accepted, not ended
    relationships on the platform. Never another tenant it has no relationship with (issue 9)."""
    return Organization.objects.filter(
        pk__in=ProcessingRelationship.objects.filter(
            ProcessingRelationship.ACTIVE, controller_id=organization_id, on_platform=True
        ).values("processor_id")
    )


def _validate_processor(errors: dict, facts: dict, *, organization_id: int) -> None:
    """A processor named on a case is one of the organisation's own processors."""
    processor = facts.get("processor")
    if processor is None:
        return
    processor_id = getattr(processor, "pk", processor)
    if not isinstance(processor_id, int) or not related_processors(organization_id).filter(pk=processor_id).exists():
        errors.setdefault("processor", []).append(
            _("Choose a processor your organisation has an accepted relationship with (Processors page).")
        )


def _next_reference(org: Organization, year: int) -> str:
    prefix = f"{org.code.upper()}-{year}-"
    taken = BreachCase.objects.filter(reference__startswith=prefix).count()
    return f"{prefix}{taken + 1:03d}"


def _validate_clocks(errors: dict, first_signal_at, aware_at, incident_known_at=None) -> None:
    for name, value in (("first_signal_at", first_signal_at), ("aware_at", aware_at)):
        if value is None:
            errors.setdefault(name, []).append(_("This field is required."))
    for name, value in (
        ("first_signal_at", first_signal_at),
        ("aware_at", aware_at),
        ("incident_known_at", incident_known_at),
    ):
        check_aware(errors, name, value)
    if errors:
        return
    check_not_future(errors, "first_signal_at", first_signal_at)
    check_not_future(errors, "aware_at", aware_at)
    check_not_future(errors, "incident_known_at", incident_known_at)
    if aware_at < first_signal_at:
        errors.setdefault("aware_at", []).append(_("Awareness cannot precede the first signal."))
    if incident_known_at is not None and incident_known_at < first_signal_at:
        errors.setdefault("incident_known_at", []).append(
            _("Knowledge of the incident cannot precede the first signal.")
        )


def _validate_order(errors: dict, values: dict, *, case: BreachCase | None = None, changed=None) -> None:
    """Orderings the facts cannot have, once each instant is valid on its own.

    Only orderings involving a `changed` fact are checked on an update (all on opening), so an
    unrelated edit is never refused for an older record. DORA: the classification as major
    comes after the financial entity became aware of the ICT-related incident (ITS 2025/302
    fields 2.2 and 2.3), and the initial notification cannot precede the classification it
    notifies (RTS 2025/301 art. 5(1)(a)).
    """
    if errors:
        return

    def involved(*names: str) -> bool:
        return changed is None or bool(set(names) & set(changed))

    aware, known = values.get("aware_at"), values.get("incident_known_at")
    if involved("incident_known_at", "aware_at") and known is not None and aware is not None and known > aware:
        # A personal-data breach is a security incident: knowing the breach is knowing the incident.
        errors.setdefault("incident_known_at", []).append(
            _("Knowledge of the incident cannot come after awareness of the breach, which is an incident itself.")
        )
    classified = values.get("dora_classified_at")
    incident_aware = known or aware
    if (
        involved("dora_classified_at", "incident_known_at", "aware_at")
        and classified is not None
        and incident_aware is not None
        and classified < incident_aware
    ):
        errors.setdefault("dora_classified_at", []).append(
            _("The classification as major (%(classified)s) cannot precede awareness of the incident (%(aware)s).")
            % {"classified": common.paris_time(classified), "aware": common.paris_time(incident_aware)}
        )
    if classified is not None and case is not None and involved("dora_classified_at"):
        initial = case.obligations.filter(
            rule_code="DORA_INITIAL", state=Obligation.State.DONE, completed_at__lt=classified
        ).first()
        if initial is not None:
            errors.setdefault("dora_classified_at", []).append(
                _("The initial notification was filed on %(filed)s: the classification cannot come after it.")
                % {"filed": common.paris_time(initial.completed_at)}
            )
    started = values.get("occurred_from")
    if (
        involved("occurred_from", "aware_at")
        and started is not None
        and values.get("aware_at") is not None
        and started > values["aware_at"]
    ):
        errors.setdefault("occurred_from", []).append(
            _("The breach cannot start after the organisation became aware of it.")
        )


def _apply_severity(case: BreachCase) -> None:
    result = severity.assess(
        severity.SeverityInputs(
            data_categories=tuple(case.data_categories or ()),
            dpc_adjustment=case.severity_dpc_adjustment,
            ease_of_identification=case.severity_ei,
            cb_confidentiality=Decimal(case.severity_cb_confidentiality),
            cb_integrity=Decimal(case.severity_cb_integrity),
            cb_availability=Decimal(case.severity_cb_availability),
            malicious=case.severity_cb_malicious,
        )
    )
    case.severity_score = result.score if result else None
    case.severity_level = result.level if result else ""


def _severity_errors(case: BreachCase) -> dict:
    try:
        _apply_severity(case)
    except severity.SeverityInputError as exc:
        field = SEVERITY_FIELDS.get(exc.field, "severity_ei")
        if field == "severity_ei":
            message = _("The ease of identification is 0.25, 0.5, 0.75 or 1 (ENISA method).")
        elif field == "data_categories":
            message = _("Choose categories from the list.")
        else:
            message = _("A circumstance of the breach scores 0, 0.25 or 0.5 (ENISA method).")
        return {field: [message]}
    return {}


@service
def case_open(
    *,
    organization: Organization,
    title: str,
    first_signal_at: datetime,
    aware_at: datetime,
    aware_justification: str,
    acting_user,
    **facts,
) -> BreachCase:
    """Open a case with the facts that start the clocks; the rest can follow."""
    require_role(acting_user, organization, WRITE_ROLES)
    errors: dict = {}
    unknown = set(facts) - UPDATABLE_FACTS
    if unknown:
        raise TypeError(f"Unknown case facts: {', '.join(sorted(unknown))}")
    if not (title or "").strip():
        errors["title"] = [_("Give the case a title.")]
    if not (aware_justification or "").strip():
        errors["aware_justification"] = [_("Explain why the organisation became aware at this time.")]
    _validate_clocks(errors, first_signal_at, aware_at, facts.get("incident_known_at"))
    _validate_other_facts(errors, facts)
    _validate_processor(errors, facts, organization_id=organization.pk)
    _validate_order(errors, {**facts, "aware_at": aware_at})
    raise_errors(errors)

    case = BreachCase(
        organization=organization,
        title=title.strip(),
        first_signal_at=first_signal_at,
        aware_at=aware_at,
        aware_justification=aware_justification.strip(),
        created_by=acting_user,
        **facts,
    )
    raise_errors(_severity_errors(case))
    save_new_case(case, acting_user=acting_user, reason=_("Case opened."))
    sync_obligations(case, acting_user=acting_user, reason=_("Case opened."))
    webhook_events.case_opened(case)
    return case


def save_new_case(case: BreachCase, *, acting_user, reason: str) -> None:
    """Give a new case the next free reference of its organisation and year, then save it."""
    year = case.aware_at.astimezone(deadlines.PARIS).year
    for attempt in range(5):
        case.reference = _next_reference(case.organization, year)
        if attempt:
            case.reference = f"{case.reference}-{attempt}"
        try:
            with transaction.atomic():
                save(case, acting_user=acting_user, reason=reason)
            return
        except IntegrityError:
            case.pk = None
    raise ValidationError(_("Could not allocate a case reference; try again."))  # pragma: no cover


@service
def case_update_facts(
    case: BreachCase, *, acting_user, change_reason: str = "", expected_version: int | None = None, **changes
) -> BreachCase:
    """Change case facts; moving a clock anchor needs a reason and recomputes running deadlines."""
    require_role(acting_user, case.organization, WRITE_ROLES)
    unknown = set(changes) - UPDATABLE_FACTS
    if unknown:
        raise TypeError(f"Unknown case facts: {', '.join(sorted(unknown))}")
    case = lock_open_case(case)
    check_version(case, expected_version)
    changed = {k: v for k, v in changes.items() if differs(getattr(case, k), v)}
    errors: dict = {}
    if changed.keys() & CLOCK_FACTS and blank(change_reason):
        errors["change_reason"] = [_("Changing a clock's start time requires a reason; it is kept in the history.")]
    merged = {k: changed.get(k, getattr(case, k)) for k in ("first_signal_at", "aware_at", "incident_known_at")}
    _validate_clocks(errors, **merged)
    _validate_other_facts(errors, changed, current=case)
    _validate_processor(errors, changed, organization_id=case.organization_id)
    ordered = ("aware_at", "incident_known_at", "dora_classified_at", "occurred_from")
    _validate_order(errors, {k: changed.get(k, getattr(case, k)) for k in ordered}, case=case, changed=changed)
    if "title" in changed and not (changed["title"] or "").strip():
        errors["title"] = [_("Give the case a title.")]
    if "aware_justification" in changed and not (changed["aware_justification"] or "").strip():
        errors["aware_justification"] = [_("Explain why the organisation became aware at this time.")]
    raise_errors(errors)
    if not changed:
        return case
    for key, value in changed.items():
        setattr(case, key, value)
    raise_errors(_severity_errors(case))
    reason = (change_reason or "").strip() or _("Case facts updated.")
    save(case, acting_user=acting_user, reason=reason)
    sync_obligations(case, acting_user=acting_user, reason=reason)
    return case


def _happened_at(case: BreachCase, field: str, value: datetime | None) -> datetime:
    """When a fact entered now happened: `value` (already checked aware), or now; never in the future
    nor before the case's first signal."""
    if value is None:
        return common.now()
    errors: dict = {}
    check_not_future(errors, field, value)
    if not errors and value < case.first_signal_at:
        errors[field] = [
            _("This cannot precede the case's first signal (%(at)s).") % {"at": common.paris_time(case.first_signal_at)}
        ]
    raise_errors(errors)
    return value


def _refuse_if_notified(case: BreachCase) -> None:
    """A decision not to notify the authority cannot stand beside a notification already made."""
    filing = case.filings.filter(kind__in=[Filing.Kind.CNIL_INITIAL, Filing.Kind.CNIL_COMPLEMENTARY]).first()
    done = case.obligations.filter(rule_code__in=["GDPR_33_1", "GDPR_33_4"], state=Obligation.State.DONE).first()
    at = filing.sent_at if filing is not None else done.completed_at if done is not None else None
    if at is not None:
        raise ValidationError(
            {
                "notify_authority": [
                    _(
                        "The authority was notified on %(at)s: a decision not to notify it would contradict the "
                        "register. Record a complementary notification instead if the assessment changed."
                    )
                    % {"at": common.paris_time(at)}
                ]
            }
        )


def _refuse_if_informed(case: BreachCase) -> None:
    """A decision not to inform the persons cannot stand beside a communication already sent to them."""
    sent = case.communications.exclude(channel=MemberCommunication.Channel.NONE).order_by("sent_at", "pk").first()
    done = case.obligations.filter(rule_code="GDPR_34", state=Obligation.State.DONE).first()
    at = sent.sent_at if sent is not None else done.completed_at if done is not None else None
    if at is not None:
        raise ValidationError(
            {
                "inform_persons": [
                    _(
                        "A communication to the persons was recorded (sent on %(at)s): a decision not to inform "
                        "them would contradict the register."
                    )
                    % {"at": common.paris_time(at)}
                ]
            }
        )


@service
def decision_notify_authority(
    case: BreachCase,
    *,
    notify: bool,
    reason: str,
    acting_user,
    decided_at: datetime | None = None,
    expected_version: int | None = None,
) -> BreachCase:
    """Record the decision to notify the supervisory authority, or not, with its reason.

    `decided_at` is when it was taken (default now; it may be in the past, never in the future);
    when it was recorded is kept apart (`notify_authority_recorded_at`).
    """
    require_role(acting_user, case.organization, DECISION_ROLES)
    errors: dict = {}
    check_aware(errors, "notify_authority_decided_at", decided_at)
    if not isinstance(notify, bool):
        errors["notify_authority"] = [_("Decide yes or no.")]
    if blank(reason):
        errors["notify_authority_reason"] = [_("A decision must state its reason.")]
    raise_errors(errors)
    case = lock_open_case(case)
    check_version(case, expected_version)
    decided_at = _happened_at(case, "notify_authority_decided_at", decided_at)
    if notify is False:
        _refuse_if_notified(case)
    reason = reason.strip()
    case.notify_authority = notify
    case.notify_authority_reason = reason
    case.notify_authority_decided_at = decided_at
    case.notify_authority_recorded_at = common.now()
    case.notify_authority_decided_by = acting_user
    save(case, acting_user=acting_user, reason=_("Decision on notifying the authority: %(r)s") % {"r": reason})
    rules = ["GDPR_33_1", "GDPR_33_4"]
    if notify:
        # A reversed decision brings back the notification it had set aside (Art. 33(1) still runs from aware_at).
        for ob in case.obligations.filter(rule_code__in=rules, state=Obligation.State.NOT_APPLICABLE):
            reactivate_locked(ob, reason=reason, acting_user=acting_user)
    sync_obligations(case, acting_user=acting_user, reason=_("Decision recorded."))
    if not notify:
        for ob in case.obligations.filter(rule_code__in=rules, state=Obligation.State.PENDING):
            mark_not_applicable_locked(ob, reason=reason, acting_user=acting_user, decided_at=decided_at)
    return case


@service
def decision_inform_persons(
    case: BreachCase,
    *,
    inform: bool,
    reason: str,
    acting_user,
    exemption: str = "",
    decided_at: datetime | None = None,
    expected_version: int | None = None,
) -> BreachCase:
    """Record the decision to inform the persons (Art. 34), or the ground for not doing so.

    `decided_at` is when it was taken (default now; never in the future), kept apart from when it
    was recorded (`inform_persons_recorded_at`).
    """
    require_role(acting_user, case.organization, DECISION_ROLES)
    errors: dict = {}
    check_aware(errors, "inform_persons_decided_at", decided_at)
    if not isinstance(inform, bool):
        errors["inform_persons"] = [_("Decide yes or no.")]
    if blank(reason):
        errors["inform_persons_reason"] = [_("A decision must state its reason.")]
    if exemption and exemption not in BreachCase.Art34Exemption.values:
        errors["inform_persons_exemption"] = [_("Choose an Art. 34(3) ground from the list.")]
    if inform and exemption:
        errors["inform_persons_exemption"] = [_("An Art. 34(3) ground only applies when persons are not informed.")]
    raise_errors(errors)
    case = lock_open_case(case)
    check_version(case, expected_version)
    decided_at = _happened_at(case, "inform_persons_decided_at", decided_at)
    if inform is False:
        _refuse_if_informed(case)
    reason = reason.strip()
    case.inform_persons = inform
    case.inform_persons_reason = reason
    case.inform_persons_exemption = exemption
    case.inform_persons_decided_at = decided_at
    case.inform_persons_recorded_at = common.now()
    case.inform_persons_decided_by = acting_user
    save(case, acting_user=acting_user, reason=_("Decision on informing the persons: %(r)s") % {"r": reason})
    if inform:
        # E.g. the authority orders the communication (Art. 34(4)) after an exemption was relied on.
        for ob in case.obligations.filter(rule_code="GDPR_34", state=Obligation.State.NOT_APPLICABLE):
            reactivate_locked(ob, reason=reason, acting_user=acting_user)
    sync_obligations(case, acting_user=acting_user, reason=_("Decision recorded."))
    if not inform and exemption:
        # Without an Art. 34(3) ground a high-risk case keeps its Art. 34 duty pending and is flagged
        # (BreachCase.decision_conflict); a case that is not high risk has the rule withdrawn by the sync.
        ground = BreachCase.Art34Exemption(exemption).label
        for ob in case.obligations.filter(rule_code="GDPR_34", state=Obligation.State.PENDING):
            mark_not_applicable_locked(ob, reason=f"{ground}: {reason}", acting_user=acting_user, decided_at=decided_at)
    return case


_TRANSITIONS = {
    BreachCase.Status.OPEN: {BreachCase.Status.CONTAINED, BreachCase.Status.CLOSED},
    BreachCase.Status.CONTAINED: {BreachCase.Status.OPEN, BreachCase.Status.CLOSED},
    BreachCase.Status.CLOSED: {BreachCase.Status.OPEN},
}


def _transition(case: BreachCase, to: str, *, acting_user, reason: str) -> None:
    if to not in _TRANSITIONS[BreachCase.Status(case.status)]:
        raise ValidationError(
            _("A case cannot go from %(a)s to %(b)s.")
            % {"a": case.get_status_display(), "b": BreachCase.Status(to).label}
        )
    case.status = to
    save(case, acting_user=acting_user, reason=reason)


@service
def case_contain(
    case: BreachCase, *, contained_at: datetime, acting_user, reason: str = "", expected_version: int | None = None
) -> BreachCase:
    """The incident is handled: no longer ongoing; starts the NIS2 after-handling clock."""
    require_role(acting_user, case.organization, WRITE_ROLES)
    errors: dict = {}
    check_aware(errors, "contained_at", contained_at)
    raise_errors(errors)
    case = lock_case(case)
    check_version(case, expected_version)
    check_not_future(errors, "contained_at", contained_at)
    if contained_at < case.first_signal_at:
        errors["contained_at"] = [_("Containment cannot precede the first signal.")]
    raise_errors(errors)
    case.contained_at = contained_at
    case.ongoing = False
    _transition(case, BreachCase.Status.CONTAINED, acting_user=acting_user, reason=reason or _("Incident contained."))
    sync_obligations(case, acting_user=acting_user, reason=_("Incident contained."))
    return case


@service
def case_close(
    case: BreachCase,
    *,
    reason: str,
    acting_user,
    closed_at: datetime | None = None,
    expected_version: int | None = None,
) -> BreachCase:
    """Close a case once every obligation is done or decided; completes the Art. 33(5) register entry.

    `closed_at` is when it was closed (default now; a past closure may be entered later, never a
    future one, nor one before the last completion); when it was recorded is `closed_recorded_at`.
    """
    require_role(acting_user, case.organization, WRITE_ROLES)
    errors: dict = {}
    if blank(reason):
        errors["reason"] = [_("Say why the case can be closed.")]
    check_aware(errors, "closed_at", closed_at)
    raise_errors(errors)
    case = lock_open_case(case)
    check_version(case, expected_version)
    closed_at = _happened_at(case, "closed_at", closed_at)
    last = case.obligations.filter(completed_at__isnull=False).order_by("-completed_at").first()
    if last is not None and closed_at < last.completed_at:
        raise ValidationError(
            {
                "closed_at": [
                    _("The case cannot be closed before its last completed obligation (%(at)s).")
                    % {"at": common.paris_time(last.completed_at)}
                ]
            }
        )
    open_obligations = [
        o
        for o in case.obligations.filter(state=Obligation.State.PENDING).select_related("controller_notice")
        if o.rule_code != "GDPR_33_5"
    ]
    if open_obligations:
        lang = "en" if (translation.get_language() or "").startswith("en") else "fr"
        listed = [
            f"{o.label(lang)} ({o.controller_notice.controller_name})" if o.controller_notice else o.label(lang)
            for o in open_obligations
        ]
        raise ValidationError(
            _("These obligations are still pending: %(list)s. Complete them or mark them not applicable first.")
            % {"list": "; ".join(listed)},
            code="obligations_pending",
        )
    for ob in case.obligations.filter(rule_code="GDPR_33_5", state=Obligation.State.PENDING):
        ob.state, ob.completed_at, ob.completed_by = Obligation.State.DONE, closed_at, acting_user
        ob.reference = case.reference
        save(ob, acting_user=acting_user, reason=_("Register entry completed at closure."))
    case.closed_at = closed_at
    case.closed_recorded_at = common.now()
    _transition(case, BreachCase.Status.CLOSED, acting_user=acting_user, reason=reason.strip())
    return case


@service
def case_reopen(case: BreachCase, *, reason: str, acting_user, expected_version: int | None = None) -> BreachCase:
    """Reopen a closed (or contained) case; the reason is kept in the history."""
    require_role(acting_user, case.organization, WRITE_ROLES)
    if blank(reason):
        raise ValidationError({"reason": [_("Say why the case is reopened.")]})
    case = lock_case(case)
    check_version(case, expected_version)
    case.closed_at = None
    case.closed_recorded_at = None
    _transition(case, BreachCase.Status.OPEN, acting_user=acting_user, reason=reason.strip())
    return case
