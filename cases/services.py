"""Every write on a breach case: one transactional, keyword-only function per business action.

Each function takes the acting user, checks their role, validates the input (raising
`ValidationError` with per-field messages and saving nothing), writes through model
saves so every change leaves a chained history row with the user and reason, and
regenerates the case's obligations from the rule catalogue when facts change.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import deadlines, regimes, severity
from .models import (
    BreachCase,
    ControllerNotice,
    DataCategory,
    Evidence,
    Filing,
    MemberCommunication,
    Membership,
    Obligation,
    Organization,
    SubjectCategory,
    TimelineEvent,
)
from .permissions import ADMIN_ROLES, DECISION_ROLES, WRITE_ROLES, require_role
from .uploads import OFFICE_TYPES, is_office_container, sniff_content_type

# Clock skew tolerated for instants entered "now" from a browser.
FUTURE_TOLERANCE = timedelta(minutes=5)

# Facts a DPO may change after opening; clock anchors among them need a change reason.
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
# Other instants among the facts: aware, not in the future.
INSTANT_FACTS = ("dora_classified_at", "processor_alerted_at", "occurred_from", "occurred_to")
# Severity inputs as named by `cases.severity`, mapped to the case fields a form shows.
SEVERITY_FIELDS = {
    "ease_of_identification": "severity_ei",
    "cb_confidentiality": "severity_cb_confidentiality",
    "cb_integrity": "severity_cb_integrity",
    "cb_availability": "severity_cb_availability",
    "data_categories": "data_categories",
}
EVIDENCE_EXTENSIONS = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "text/plain": "txt",
    "message/rfc822": "eml",
    "text/csv": "csv",
    **{content_type: ext.lstrip(".") for ext, content_type in OFFICE_TYPES.items()},
}


# --- helpers -------------------------------------------------------------------------------


def _now() -> datetime:
    return timezone.now()


def _save(obj, *, acting_user, reason: str = "") -> None:
    obj._history_user = acting_user
    obj._change_reason = reason
    obj.full_clean(validate_unique=False, validate_constraints=False)
    obj.save()


def _check_not_future(errors: dict, field: str, value: datetime | None) -> None:
    if value is not None and value > _now() + FUTURE_TOLERANCE:
        errors.setdefault(field, []).append(_("This date is in the future."))


def _check_aware(errors: dict, field: str, value) -> None:
    if value is not None and (not isinstance(value, datetime) or timezone.is_naive(value)):
        errors.setdefault(field, []).append(_("Enter a date and time with its time zone."))


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _blank(text) -> bool:
    return not (text or "").strip()


def _require_not_closed(case: BreachCase) -> None:
    if case.status == BreachCase.Status.CLOSED:
        raise ValidationError(_("This case is closed; reopen it (with a reason) before changing it."))


def _lock_open(case: BreachCase) -> BreachCase:
    """The case as stored, locked for this transaction; refused if closed (the caller's copy may be stale)."""
    case = BreachCase.objects.select_for_update().select_related("organization").get(pk=case.pk)
    _require_not_closed(case)
    return case


def _validate_other_facts(errors: dict, facts: dict, *, current: BreachCase | None = None) -> None:
    """Instants other than the clocks, and the category lists (codes only: counts, never identities)."""
    for name in INSTANT_FACTS:
        if name in facts:
            _check_aware(errors, name, facts[name])
            if not errors.get(name):
                _check_not_future(errors, name, facts[name])
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


def case_facts(case: BreachCase) -> regimes.CaseFacts:
    org = case.organization
    return regimes.CaseFacts(
        is_controller=org.is_controller,
        is_processor=org.is_processor,
        is_nis2_entity=org.is_nis2_entity,
        is_ose=org.is_ose,
        is_oiv=org.is_oiv,
        is_health_establishment=org.is_health_establishment,
        is_dora_entity=org.is_dora_entity,
        has_cyber_insurance=org.has_cyber_insurance,
        high_risk=case.severity_level in {BreachCase.SeverityLevel.HIGH, BreachCase.SeverityLevel.VERY_HIGH},
        inform_persons_decided=case.inform_persons is True,
        nis2_significant=case.nis2_significant,
        dora_major=case.dora_major,
        ongoing=case.ongoing,
        has_controllers_to_inform=case.controller_notices.exists(),
    )


def _anchor_times(case: BreachCase, obligations: list[Obligation]) -> deadlines.AnchorTimes:
    done = {
        o.rule_code: o.completed_at
        for o in obligations
        if o.state == Obligation.State.DONE and o.completed_at and o.controller_notice_id is None
    }
    return deadlines.AnchorTimes(
        aware_at=case.aware_at,
        incident_known_at=case.incident_known_at,
        contained_at=case.contained_at,
        dora_classified_at=case.dora_classified_at,
        rule_done=done,
    )


def _internal_target(org: Organization, rule: regimes.Rule) -> int | None:
    target = org.internal_target_for(rule.code)
    if target is None and rule.practice_hours is None:
        target = org.undue_delay_target_hours
    return target


def _due_for(case: BreachCase, rule: regimes.Rule, anchors, notice: ControllerNotice | None, requested):
    return deadlines.compute_due(
        rule,
        anchors,
        internal_target_hours=_internal_target(case.organization, rule),
        contract_hours=notice.notice_period_hours if notice else None,
        requested_due_at=requested,
        weekend_relief=not case.organization.dora_relief_excluded,
    )


def sync_obligations(case: BreachCase, *, acting_user, reason: str) -> list[Obligation]:
    """Bring the case's obligations in line with the catalogue and the current facts.

    New applicable rules get an obligation (wording copied from the rule); pending ones
    get their due date recomputed; pending ones whose rule no longer applies are
    withdrawn (kept, never deleted); done and not-applicable ones are left as they
    are, so lateness stays frozen at completion.
    """
    facts = case_facts(case)
    obligations = list(case.obligations.all())
    anchors = _anchor_times(case, obligations)
    existing = {(o.rule_code, o.controller_notice_id): o for o in obligations}
    notices = list(case.controller_notices.all())

    for rule in regimes.RULES:
        applies = rule.applies(facts)
        targets: list[ControllerNotice | None] = notices if rule.per_controller else [None]
        for notice in targets:
            ob = existing.get((rule.code, notice.pk if notice else None))
            if not applies:
                if ob is not None and ob.state == Obligation.State.PENDING and not ob.is_acted_upon:
                    ob.state = Obligation.State.WITHDRAWN
                    ob.not_applicable_reason = _("The rule no longer applies to the case facts.")
                    _save(ob, acting_user=acting_user, reason=reason)
                continue
            requested = ob.requested_due_at if ob else None
            due = _due_for(case, rule, anchors, notice, requested)
            anchor_at = deadlines.resolve_anchor(rule, anchors)
            if ob is None:
                ob = _new_obligation(case, rule, notice)
                ob.anchor_at, ob.due_at, ob.due_basis = anchor_at, due.at, due.basis.value
                _save(ob, acting_user=acting_user, reason=_("Generated from rule %(code)s.") % {"code": rule.code})
                obligations.append(ob)
                continue
            reactivated = ob.state == Obligation.State.WITHDRAWN
            if reactivated:
                ob.state, ob.not_applicable_reason = Obligation.State.PENDING, ""
            elif ob.state != Obligation.State.PENDING:
                continue
            changed = (ob.anchor_at, ob.due_at, ob.due_basis) != (anchor_at, due.at, due.basis.value)
            if changed or reactivated:
                ob.anchor_at, ob.due_at, ob.due_basis = anchor_at, due.at, due.basis.value
                _save(ob, acting_user=acting_user, reason=reason)
    return obligations


def _new_obligation(case: BreachCase, rule: regimes.Rule, notice: ControllerNotice | None) -> Obligation:
    return Obligation(
        case=case,
        controller_notice=notice,
        rule_code=rule.code,
        label_fr=rule.label_fr,
        label_en=rule.label_en,
        authority=rule.authority.value,
        legal_source=rule.source,
        legal_text_fr=rule.legal_text_fr,
        legal_text_en=rule.legal_text_en,
        deadline_label_fr=rule.deadline_label("fr"),
        deadline_label_en=rule.deadline_label("en"),
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
        _check_aware(errors, name, value)
    if errors:
        return
    _check_not_future(errors, "first_signal_at", first_signal_at)
    _check_not_future(errors, "aware_at", aware_at)
    _check_not_future(errors, "incident_known_at", incident_known_at)
    if aware_at < first_signal_at:
        errors.setdefault("aware_at", []).append(_("Awareness cannot precede the first signal."))
    if incident_known_at is not None and incident_known_at < first_signal_at:
        errors.setdefault("incident_known_at", []).append(
            _("Knowledge of the incident cannot precede the first signal.")
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


# --- cases -----------------------------------------------------------------------------------


@transaction.atomic
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
    _raise(errors)

    case = BreachCase(
        organization=organization,
        title=title.strip(),
        first_signal_at=first_signal_at,
        aware_at=aware_at,
        aware_justification=aware_justification.strip(),
        created_by=acting_user,
        **facts,
    )
    _raise(_severity_errors(case))
    _save_new_case(case, acting_user=acting_user, reason=_("Case opened."))
    sync_obligations(case, acting_user=acting_user, reason=_("Case opened."))
    return case


def _save_new_case(case: BreachCase, *, acting_user, reason: str) -> None:
    """Give a new case the next free reference of its organisation and year, then save it."""
    year = case.aware_at.astimezone(deadlines.PARIS).year
    for attempt in range(5):
        case.reference = _next_reference(case.organization, year)
        if attempt:
            case.reference = f"{case.reference}-{attempt}"
        try:
            with transaction.atomic():
                _save(case, acting_user=acting_user, reason=reason)
            return
        except IntegrityError:
            case.pk = None
    raise ValidationError(_("Could not allocate a case reference; try again."))  # pragma: no cover


@transaction.atomic
def case_update_facts(case: BreachCase, *, acting_user, change_reason: str = "", **changes) -> BreachCase:
    """Change case facts; moving a clock anchor needs a reason and recomputes running deadlines."""
    require_role(acting_user, case.organization, WRITE_ROLES)
    unknown = set(changes) - UPDATABLE_FACTS
    if unknown:
        raise TypeError(f"Unknown case facts: {', '.join(sorted(unknown))}")
    case = BreachCase.objects.select_for_update().get(pk=case.pk)
    _require_not_closed(case)
    changed = {k: v for k, v in changes.items() if getattr(case, k) != v}
    errors: dict = {}
    if changed.keys() & CLOCK_FACTS and _blank(change_reason):
        errors["change_reason"] = [_("Changing a clock's start time requires a reason; it is kept in the history.")]
    merged = {k: changed.get(k, getattr(case, k)) for k in ("first_signal_at", "aware_at", "incident_known_at")}
    _validate_clocks(errors, **merged)
    _validate_other_facts(errors, changed, current=case)
    if "title" in changed and not (changed["title"] or "").strip():
        errors["title"] = [_("Give the case a title.")]
    if "aware_justification" in changed and not (changed["aware_justification"] or "").strip():
        errors["aware_justification"] = [_("Explain why the organisation became aware at this time.")]
    _raise(errors)
    if not changed:
        return case
    for key, value in changed.items():
        setattr(case, key, value)
    _raise(_severity_errors(case))
    reason = (change_reason or "").strip() or _("Case facts updated.")
    _save(case, acting_user=acting_user, reason=reason)
    sync_obligations(case, acting_user=acting_user, reason=reason)
    return case


@transaction.atomic
def decision_notify_authority(case: BreachCase, *, notify: bool, reason: str, acting_user) -> BreachCase:
    """Record the decision to notify the supervisory authority, or not, with its reason."""
    require_role(acting_user, case.organization, DECISION_ROLES)
    errors: dict = {}
    if not isinstance(notify, bool):
        errors["notify_authority"] = [_("Decide yes or no.")]
    if _blank(reason):
        errors["notify_authority_reason"] = [_("A decision must state its reason.")]
    _raise(errors)
    case = BreachCase.objects.select_for_update().get(pk=case.pk)
    _require_not_closed(case)
    reason = reason.strip()
    case.notify_authority = notify
    case.notify_authority_reason = reason
    case.notify_authority_decided_at = _now()
    case.notify_authority_decided_by = acting_user
    _save(case, acting_user=acting_user, reason=_("Decision on notifying the authority: %(r)s") % {"r": reason})
    rules = ["GDPR_33_1", "GDPR_33_4"]
    if notify:
        # A reversed decision brings back the notification it had set aside (Art. 33(1) still runs from aware_at).
        for ob in case.obligations.filter(rule_code__in=rules, state=Obligation.State.NOT_APPLICABLE):
            _reactivate(ob, reason=reason, acting_user=acting_user)
    sync_obligations(case, acting_user=acting_user, reason=_("Decision recorded."))
    if not notify:
        for ob in case.obligations.filter(rule_code__in=rules, state=Obligation.State.PENDING):
            _mark_not_applicable(ob, reason=reason, acting_user=acting_user)
    return case


@transaction.atomic
def decision_inform_persons(
    case: BreachCase, *, inform: bool, reason: str, acting_user, exemption: str = ""
) -> BreachCase:
    """Record the decision to inform the persons (Art. 34), or the ground for not doing so."""
    require_role(acting_user, case.organization, DECISION_ROLES)
    errors: dict = {}
    if not isinstance(inform, bool):
        errors["inform_persons"] = [_("Decide yes or no.")]
    if _blank(reason):
        errors["inform_persons_reason"] = [_("A decision must state its reason.")]
    if exemption and exemption not in BreachCase.Art34Exemption.values:
        errors["inform_persons_exemption"] = [_("Choose an Art. 34(3) ground from the list.")]
    if inform and exemption:
        errors["inform_persons_exemption"] = [_("An Art. 34(3) ground only applies when persons are not informed.")]
    _raise(errors)
    case = BreachCase.objects.select_for_update().get(pk=case.pk)
    _require_not_closed(case)
    reason = reason.strip()
    case.inform_persons = inform
    case.inform_persons_reason = reason
    case.inform_persons_exemption = exemption
    case.inform_persons_decided_at = _now()
    case.inform_persons_decided_by = acting_user
    _save(case, acting_user=acting_user, reason=_("Decision on informing the persons: %(r)s") % {"r": reason})
    if inform:
        # E.g. the authority orders the communication (Art. 34(4)) after an exemption was relied on.
        for ob in case.obligations.filter(rule_code="GDPR_34", state=Obligation.State.NOT_APPLICABLE):
            _reactivate(ob, reason=reason, acting_user=acting_user)
    sync_obligations(case, acting_user=acting_user, reason=_("Decision recorded."))
    if not inform and exemption:
        # Without an Art. 34(3) ground a high-risk case keeps its Art. 34 duty pending and is flagged
        # (BreachCase.decision_conflict); a case that is not high risk has the rule withdrawn by the sync.
        ground = BreachCase.Art34Exemption(exemption).label
        for ob in case.obligations.filter(rule_code="GDPR_34", state=Obligation.State.PENDING):
            _mark_not_applicable(ob, reason=f"{ground}: {reason}", acting_user=acting_user)
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
    _save(case, acting_user=acting_user, reason=reason)


@transaction.atomic
def case_contain(case: BreachCase, *, contained_at: datetime, acting_user, reason: str = "") -> BreachCase:
    """The incident is handled: no longer ongoing; starts the NIS2 after-handling clock."""
    require_role(acting_user, case.organization, WRITE_ROLES)
    errors: dict = {}
    _check_aware(errors, "contained_at", contained_at)
    _raise(errors)
    _check_not_future(errors, "contained_at", contained_at)
    if contained_at < case.first_signal_at:
        errors["contained_at"] = [_("Containment cannot precede the first signal.")]
    _raise(errors)
    case = BreachCase.objects.select_for_update().get(pk=case.pk)
    case.contained_at = contained_at
    case.ongoing = False
    _transition(case, BreachCase.Status.CONTAINED, acting_user=acting_user, reason=reason or _("Incident contained."))
    sync_obligations(case, acting_user=acting_user, reason=_("Incident contained."))
    return case


@transaction.atomic
def case_close(case: BreachCase, *, reason: str, acting_user) -> BreachCase:
    """Close a case once every obligation is done or decided; completes the Art. 33(5) register entry."""
    require_role(acting_user, case.organization, WRITE_ROLES)
    if _blank(reason):
        raise ValidationError({"reason": [_("Say why the case can be closed.")]})
    case = BreachCase.objects.select_for_update().get(pk=case.pk)
    _require_not_closed(case)
    open_obligations = [
        o
        for o in case.obligations.filter(state=Obligation.State.PENDING).select_related("controller_notice__controller")
        if o.rule_code != "GDPR_33_5"
    ]
    if open_obligations:
        lang = "en" if (translation.get_language() or "").startswith("en") else "fr"
        listed = [
            f"{o.label(lang)} ({o.controller_notice.controller})" if o.controller_notice else o.label(lang)
            for o in open_obligations
        ]
        raise ValidationError(
            _("These obligations are still pending: %(list)s. Complete them or mark them not applicable first.")
            % {"list": "; ".join(listed)},
            code="obligations_pending",
        )
    now = _now()
    for ob in case.obligations.filter(rule_code="GDPR_33_5", state=Obligation.State.PENDING):
        ob.state, ob.completed_at, ob.completed_by = Obligation.State.DONE, now, acting_user
        ob.reference = case.reference
        _save(ob, acting_user=acting_user, reason=_("Register entry completed at closure."))
    case.closed_at = now
    _transition(case, BreachCase.Status.CLOSED, acting_user=acting_user, reason=reason.strip())
    return case


@transaction.atomic
def case_reopen(case: BreachCase, *, reason: str, acting_user) -> BreachCase:
    """Reopen a closed (or contained) case; the reason is kept in the history."""
    require_role(acting_user, case.organization, WRITE_ROLES)
    if _blank(reason):
        raise ValidationError({"reason": [_("Say why the case is reopened.")]})
    case = BreachCase.objects.select_for_update().get(pk=case.pk)
    case.closed_at = None
    _transition(case, BreachCase.Status.OPEN, acting_user=acting_user, reason=reason.strip())
    return case


# --- obligations -----------------------------------------------------------------------------


def _complete(ob: Obligation, *, completed_at: datetime, reference: str, late_reason: str, acting_user) -> Obligation:
    errors: dict = {}
    _check_aware(errors, "completed_at", completed_at)
    _raise(errors)
    if ob.state == Obligation.State.DONE:
        raise ValidationError(_("This obligation is already completed."))
    if ob.state in {Obligation.State.NOT_APPLICABLE, Obligation.State.WITHDRAWN}:
        raise ValidationError(_("This obligation is not applicable; it cannot be completed."))
    _require_not_closed(ob.case)
    _check_not_future(errors, "completed_at", completed_at)
    if completed_at < ob.case.first_signal_at:
        errors["completed_at"] = [_("A completion cannot precede the case's first signal.")]
    elif getattr(regimes.RULES_BY_CODE.get(ob.rule_code), "anchor", None) is regimes.Anchor.RULE_DONE and (
        ob.anchor_at is None or completed_at < ob.anchor_at
    ):
        errors["completed_at"] = [_("This follow-up cannot be completed before the filing it follows.")]
    if deadlines.is_late(due_at=ob.due_at, completed_at=completed_at) and not (late_reason or "").strip():
        errors["late_reason"] = [
            _("Completed after the due date (%(due)s): the reasons for the delay are required.")
            % {"due": timezone.localtime(ob.due_at, deadlines.PARIS).strftime("%d/%m/%Y %H:%M")}
        ]
    _raise(errors)
    ob.state = Obligation.State.DONE
    ob.completed_at = completed_at
    ob.completed_by = acting_user
    ob.reference = (reference or "").strip()
    ob.late_reason = (late_reason or "").strip()
    # due_at is deliberately left as it is: lateness is frozen at completion.
    _save(ob, acting_user=acting_user, reason=_("Obligation completed."))
    sync_obligations(ob.case, acting_user=acting_user, reason=_("Preceding filing completed."))
    return ob


@transaction.atomic
def obligation_complete(
    obligation: Obligation, *, completed_at: datetime, acting_user, reference: str = "", late_reason: str = ""
) -> Obligation:
    """Complete an obligation; after its due date a written reason for the delay is required."""
    require_role(acting_user, obligation.case.organization, WRITE_ROLES)
    ob = Obligation.objects.select_for_update().select_related("case__organization").get(pk=obligation.pk)
    return _complete(
        ob, completed_at=completed_at, reference=reference, late_reason=late_reason, acting_user=acting_user
    )


def _reactivate(ob: Obligation, *, reason: str, acting_user) -> None:
    """Back to pending after a reversed decision; the sync then recomputes its due date."""
    ob.state = Obligation.State.PENDING
    ob.not_applicable_reason = ""
    ob.decided_by, ob.decided_at = None, None
    _save(ob, acting_user=acting_user, reason=_("Applies again after a new decision: %(r)s") % {"r": reason})


def _mark_not_applicable(ob: Obligation, *, reason: str, acting_user) -> Obligation:
    if ob.state == Obligation.State.DONE:
        raise ValidationError(_("A completed obligation cannot be marked not applicable."))
    if ob.state == Obligation.State.NOT_APPLICABLE:
        raise ValidationError(_("This obligation is already marked not applicable."))
    ob.state = Obligation.State.NOT_APPLICABLE
    ob.not_applicable_reason = reason
    ob.decided_by = acting_user
    ob.decided_at = _now()
    _save(ob, acting_user=acting_user, reason=_("Marked not applicable: %(r)s") % {"r": reason})
    return ob


@transaction.atomic
def obligation_mark_not_applicable(obligation: Obligation, *, reason: str, acting_user) -> Obligation:
    """Record the decision that an obligation does not apply: who, when and why."""
    require_role(acting_user, obligation.case.organization, DECISION_ROLES)
    if not (reason or "").strip():
        raise ValidationError({"not_applicable_reason": [_("Say why this obligation does not apply.")]})
    ob = Obligation.objects.select_for_update().select_related("case__organization").get(pk=obligation.pk)
    _require_not_closed(ob.case)
    return _mark_not_applicable(ob, reason=reason.strip(), acting_user=acting_user)


@transaction.atomic
def obligation_set_requested_due(obligation: Obligation, *, due_at: datetime, reason: str, acting_user) -> Obligation:
    """Record the due date an authority asked for (e.g. a NIS2 intermediate report)."""
    require_role(acting_user, obligation.case.organization, WRITE_ROLES)
    errors: dict = {}
    _check_aware(errors, "requested_due_at", due_at)
    if not (reason or "").strip():
        errors["reason"] = [_("Say which request set this date.")]
    _raise(errors)
    ob = Obligation.objects.select_for_update().select_related("case__organization").get(pk=obligation.pk)
    if regimes.get_rule(ob.rule_code).kind is not regimes.DeadlineKind.ON_REQUEST:
        raise ValidationError(_("Only obligations due on an authority's request take a requested date."))
    if ob.state != Obligation.State.PENDING:
        raise ValidationError(_("Only a pending obligation can be given a new due date."))
    _require_not_closed(ob.case)
    ob.requested_due_at = due_at
    ob.due_at = due_at
    ob.due_basis = deadlines.DueBasis.AUTHORITY.value
    _save(ob, acting_user=acting_user, reason=reason.strip())
    return ob


# --- filings, timeline, evidence, communications --------------------------------------------


@transaction.atomic
def filing_record(
    case: BreachCase,
    *,
    kind: str,
    sent_at: datetime,
    acting_user,
    obligation: Obligation | None = None,
    reference: str = "",
    channel: str = "",
    recipient: str = "",
    content: str = "",
    evidence: Evidence | None = None,
    late_reason: str = "",
) -> Filing:
    """Record what was sent; naming the obligation it satisfies completes that obligation."""
    require_role(acting_user, case.organization, WRITE_ROLES)
    case = _lock_open(case)
    errors: dict = {}
    if kind not in Filing.Kind.values:
        errors["kind"] = [_("Choose a kind of filing from the list.")]
    _check_aware(errors, "sent_at", sent_at)
    _raise(errors)
    _check_not_future(errors, "sent_at", sent_at)
    if sent_at < case.first_signal_at:
        errors["sent_at"] = [_("A filing cannot precede the case's first signal.")]
    if obligation is not None and obligation.case_id != case.pk:
        errors["obligation"] = [_("This obligation belongs to another case.")]
    elif obligation is not None and obligation.controller_notice_id is not None:
        # Informing a controller also starts its own clocks: only controller_inform does both.
        errors["obligation"] = [_("Record the notice to a controller from the list of controllers to inform.")]
    if evidence is not None and evidence.case_id != case.pk:
        errors["evidence"] = [_("This evidence belongs to another case.")]
    _raise(errors)
    filing = Filing(
        case=case,
        obligation=obligation,
        kind=kind,
        sent_at=sent_at,
        reference=reference.strip(),
        channel=channel.strip(),
        recipient=recipient.strip(),
        content=content,
        evidence=evidence,
        created_by=acting_user,
    )
    if obligation is not None:
        ob = Obligation.objects.select_for_update().select_related("case__organization").get(pk=obligation.pk)
        _complete(ob, completed_at=sent_at, reference=reference, late_reason=late_reason, acting_user=acting_user)
    _save(filing, acting_user=acting_user, reason=_("Filing recorded."))
    return filing


@transaction.atomic
def timeline_event_add(
    case: BreachCase, *, occurred_at: datetime, title: str, acting_user, kind: str = "other", description: str = ""
) -> TimelineEvent:
    """Add a dated step of the response (detection, disconnection, reopening of a platform...)."""
    require_role(acting_user, case.organization, WRITE_ROLES)
    case = _lock_open(case)
    errors: dict = {}
    _check_aware(errors, "occurred_at", occurred_at)
    if not (title or "").strip():
        errors["title"] = [_("Give the event a title.")]
    if kind not in TimelineEvent.Kind.values:
        errors["kind"] = [_("Choose a kind of event from the list.")]
    _raise(errors)
    _check_not_future(errors, "occurred_at", occurred_at)
    _raise(errors)
    event = TimelineEvent(
        case=case,
        occurred_at=occurred_at,
        kind=kind,
        title=title.strip(),
        description=description,
        created_by=acting_user,
    )
    _save(event, acting_user=acting_user, reason=_("Timeline event added."))
    return event


@transaction.atomic
def evidence_add(case: BreachCase, *, uploaded_file: UploadedFile, acting_user, description: str = "") -> Evidence:
    """Store a proof file under a generated name with its SHA-256; its type is checked by content."""
    require_role(acting_user, case.organization, WRITE_ROLES)
    case = _lock_open(case)
    limit = settings.EVIDENCE_MAX_BYTES
    too_large = ValidationError(
        {"file": [_("The file is larger than %(mb)d MB.") % {"mb": limit // (1024 * 1024)}]}, code="too_large"
    )
    if (uploaded_file.size or 0) > limit:
        raise too_large
    digest = hashlib.sha256()
    head = b""
    size = 0
    for chunk in uploaded_file.chunks():
        if len(head) < 8192:
            head += chunk[: 8192 - len(head)]
        digest.update(chunk)
        size += len(chunk)
        if size > limit:  # the declared size is the client's word; the bytes read are not
            raise too_large
    if size == 0:
        raise ValidationError({"file": [_("The file is empty.")]}, code="empty")
    original_name = (uploaded_file.name or "upload")[:255]
    content_type = sniff_content_type(head, original_name)
    if content_type in OFFICE_TYPES.values() and not is_office_container(uploaded_file, original_name):
        content_type = None
    if content_type is None:
        raise ValidationError(
            {"file": [_("This type of file is not accepted, or its content does not match its name.")]},
            code="file_type",
        )
    uploaded_file.seek(0)
    sha = digest.hexdigest()
    # The stored name is ours: the user's file name is kept as data, never used as a path.
    uploaded_file.name = f"{sha[:16]}-{_now():%Y%m%d%H%M%S%f}.{EVIDENCE_EXTENSIONS[content_type]}"
    evidence = Evidence(
        case=case,
        file=uploaded_file,
        original_name=original_name,
        description=description.strip(),
        sha256=sha,
        size=size,
        content_type=content_type,
        uploaded_by=acting_user,
    )
    _save(evidence, acting_user=acting_user, reason=_("Evidence added."))
    return evidence


@transaction.atomic
def member_communication_record(
    case: BreachCase,
    *,
    channel: str,
    acting_user,
    sent_at: datetime | None = None,
    recipients_count: int = 0,
    text: str = "",
    exemption: str = "",
    exemption_reason: str = "",
    evidence: Evidence | None = None,
    late_reason: str = "",
) -> MemberCommunication:
    """Record a communication to the persons (Art. 34(2) text) or the exemption relied on.

    A communication sent completes the case's pending Art. 34 obligation; an exemption
    relied on instead marks it not applicable, with the ground and its reasoning.
    """
    require_role(acting_user, case.organization, WRITE_ROLES)
    case = _lock_open(case)
    errors: dict = {}
    if channel not in MemberCommunication.Channel.values:
        errors["channel"] = [_("Choose a channel from the list.")]
    if exemption and exemption not in BreachCase.Art34Exemption.values:
        errors["exemption"] = [_("Choose an Art. 34(3) ground from the list.")]
    if channel == MemberCommunication.Channel.NONE:
        if not exemption:
            errors["exemption"] = [_("Without a communication, name the Art. 34(3) ground relied on.")]
        if _blank(exemption_reason):
            errors["exemption_reason"] = [_("Explain why the exemption applies.")]
        if sent_at is not None:
            errors["sent_at"] = [_("Nothing was sent: leave the date empty.")]
    else:
        if sent_at is None:
            errors["sent_at"] = [_("When was it sent?")]
        if _blank(text):
            errors["text"] = [_("Keep the text sent: Art. 34(2) requires its content to be shown.")]
        if not isinstance(recipients_count, int) or isinstance(recipients_count, bool) or recipients_count < 0:
            errors["recipients_count"] = [_("Enter the number of recipients.")]
    if evidence is not None and evidence.case_id != case.pk:
        errors["evidence"] = [_("This evidence belongs to another case.")]
    _check_aware(errors, "sent_at", sent_at)
    _raise(errors)
    _check_not_future(errors, "sent_at", sent_at)
    if sent_at is not None and sent_at < case.first_signal_at:
        errors["sent_at"] = [_("A communication cannot precede the case's first signal.")]
    _raise(errors)
    communication = MemberCommunication(
        case=case,
        channel=channel,
        sent_at=sent_at,
        recipients_count=recipients_count or 0,
        text=text,
        exemption=exemption,
        exemption_reason=(exemption_reason or "").strip(),
        evidence=evidence,
        created_by=acting_user,
    )
    ob = (
        Obligation.objects.select_for_update()
        .select_related("case__organization")
        .filter(case=case, rule_code="GDPR_34", state=Obligation.State.PENDING)
        .first()
    )
    if ob is not None and channel == MemberCommunication.Channel.NONE:
        ground = BreachCase.Art34Exemption(exemption).label
        _mark_not_applicable(ob, reason=f"{ground}: {communication.exemption_reason}", acting_user=acting_user)
    elif ob is not None:
        _complete(ob, completed_at=sent_at, reference="", late_reason=late_reason, acting_user=acting_user)
    _save(communication, acting_user=acting_user, reason=_("Communication to persons recorded."))
    return communication


# --- processor to controllers (Art. 33(2)) ----------------------------------------------------


@transaction.atomic
def controller_add(
    case: BreachCase, *, controller: Organization, acting_user, notice_period_hours: int | None = None
) -> ControllerNotice:
    """List a controller the processor must inform; its notice clock runs from the processor's awareness."""
    require_role(acting_user, case.organization, WRITE_ROLES)
    case = _lock_open(case)
    errors: dict = {}
    if not case.organization.is_processor:
        errors["controller"] = [_("Only a processor's case lists controllers to inform.")]
    if controller.pk == case.organization_id:
        errors["controller"] = [_("An organisation does not inform itself.")]
    elif case.controller_notices.filter(controller=controller).exists():
        errors["controller"] = [_("This controller is already listed.")]
    if notice_period_hours is not None and (
        not isinstance(notice_period_hours, int) or isinstance(notice_period_hours, bool) or notice_period_hours <= 0
    ):
        errors["notice_period_hours"] = [_("The notice period is a positive number of hours.")]
    _raise(errors)
    notice = ControllerNotice(case=case, controller=controller, notice_period_hours=notice_period_hours)
    _save(notice, acting_user=acting_user, reason=_("Controller to inform listed."))
    sync_obligations(case, acting_user=acting_user, reason=_("Controller to inform listed."))
    return notice


@transaction.atomic
def controller_inform(
    notice: ControllerNotice,
    *,
    informed_at: datetime,
    acting_user,
    channel: str = "",
    reference: str = "",
    late_reason: str = "",
) -> ControllerNotice:
    """Record that the processor informed a controller; this opens the controller's own case and clocks."""
    require_role(acting_user, notice.case.organization, WRITE_ROLES)
    notice = (
        ControllerNotice.objects.select_for_update()
        .select_related("controller", "case__organization")
        .get(pk=notice.pk)
    )
    case = notice.case
    _require_not_closed(case)
    errors: dict = {}
    _check_aware(errors, "informed_at", informed_at)
    _raise(errors)
    if notice.informed_at is not None:
        errors["informed_at"] = [_("This controller was already informed.")]
    _check_not_future(errors, "informed_at", informed_at)
    if informed_at < case.first_signal_at:
        errors["informed_at"] = [_("The notice cannot precede the case's first signal.")]
    _raise(errors)
    notice.informed_at = informed_at
    notice.channel = (channel or "").strip()
    notice.reference = (reference or "").strip()
    notice.informed_by = acting_user
    _save(notice, acting_user=acting_user, reason=_("Controller informed."))
    ob = Obligation.objects.select_for_update().select_related("case").filter(controller_notice=notice).first()
    if ob is not None and ob.state == Obligation.State.PENDING:
        _complete(ob, completed_at=informed_at, reference=reference, late_reason=late_reason, acting_user=acting_user)
    _open_controller_case(notice, acting_user=acting_user)
    return notice


def _open_controller_case(notice: ControllerNotice, *, acting_user) -> BreachCase:
    """The controller becomes aware when its processor informs it (EDPB Guidelines 9/2022)."""
    processor_case = notice.case
    controller = notice.controller
    justification = _(
        "Informed by our processor %(processor)s on %(when)s of a personal-data breach in its services "
        "(Art. 33(2) GDPR): the controller is aware from this notice."
    ) % {
        "processor": processor_case.organization.name,
        "when": timezone.localtime(notice.informed_at, deadlines.PARIS).strftime("%d/%m/%Y %H:%M"),
    }
    case = BreachCase(
        organization=controller,
        title=_("Breach at processor %(processor)s: %(title)s")
        % {"processor": processor_case.organization.name, "title": processor_case.title},
        first_signal_at=notice.informed_at,
        first_signal_source=_("Notice from the processor (Art. 33(2))."),
        aware_at=notice.informed_at,
        aware_justification=justification,
        processor=processor_case.organization,
        processor_alerted_at=notice.informed_at,
        source_notice=notice,
        nature=processor_case.nature,
        origin=processor_case.origin,
        cause=processor_case.cause,
        breach_confidentiality=processor_case.breach_confidentiality,
        breach_integrity=processor_case.breach_integrity,
        breach_availability=processor_case.breach_availability,
        data_categories=list(processor_case.data_categories or []),
        subject_categories=list(processor_case.subject_categories or []),
        description=processor_case.description,
        created_by=acting_user,
    )
    _save_new_case(case, acting_user=acting_user, reason=_("Opened by the processor's notice."))
    sync_obligations(case, acting_user=acting_user, reason=_("Opened by the processor's notice."))
    return case


# --- organisations and memberships -----------------------------------------------------------


@transaction.atomic
def membership_grant(*, user, organization: Organization, role: str, acting_user) -> Membership:
    """Give a user a role in an organisation (or change it); kept in the organisation's history.

    Only an administrator of the organisation may do it. `acting_user=None` is the system itself
    (management commands such as the demo seed), never a web request.
    """
    if acting_user is not None and not getattr(acting_user, "is_superuser", False):
        require_role(acting_user, organization, ADMIN_ROLES)
    if role not in Membership.Role.values:
        raise ValidationError({"role": [_("Choose a role from the list.")]})
    membership = Membership.objects.filter(user=user, organization=organization).first()
    if membership is None:
        membership = Membership(user=user, organization=organization, role=role)
    else:
        membership.role, membership.is_active = role, True
    _save(membership, acting_user=acting_user, reason=_("Role granted."))
    return membership
