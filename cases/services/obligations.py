"""The obligations of a case: generated from the rule catalogue, completed, decided not applicable."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from webhooks import events as webhook_events

from .. import deadlines, regimes
from ..models import (
    BreachCase,
    ControllerNotice,
    Obligation,
    Organization,
)
from ..permissions import DECISION_ROLES, WRITE_ROLES, require_role
from . import common
from .common import (
    check_aware,
    check_not_future,
    check_version,
    lock_case,
    lock_child,
    lock_open_case,
    raise_errors,
    require_not_closed,
    save,
    service,
)


def was_ongoing_at_final_report(case: BreachCase, obligations: list[Obligation] | None = None) -> bool:
    """NIS2 Art. 23(4)(e): whether the incident was still ongoing when its final report fell due.

    Such an incident keeps its path once handled: the progress report (due when the final report
    would have been) and the final report one month after the handling. Only an incident handled
    before that date goes back to the ordinary final report. Read from the progress report's
    obligation: filed, or still owed and due before the handling.
    """
    if case.ongoing:
        return True
    if case.contained_at is None or not case.organization.is_nis2_entity:
        return False
    if obligations is None:
        obligations = list(case.obligations.filter(rule_code="NIS2_PROGRESS", controller_notice__isnull=True))
    for ob in obligations:
        if ob.rule_code != "NIS2_PROGRESS" or ob.controller_notice_id is not None:
            continue
        if ob.state == Obligation.State.DONE:
            return True
        if ob.state == Obligation.State.PENDING and ob.due_at is not None and case.contained_at > ob.due_at:
            return True
    return False


def case_facts(
    case: BreachCase, *, has_controllers_to_inform: bool | None = None, obligations: list[Obligation] | None = None
) -> regimes.CaseFacts:
    """The facts the rules read; pass `has_controllers_to_inform` and `obligations` when already loaded."""
    org = case.organization
    if has_controllers_to_inform is None:
        has_controllers_to_inform = case.controller_notices.exists()
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
        ongoing=was_ongoing_at_final_report(case, obligations),
        has_controllers_to_inform=has_controllers_to_inform,
    )


def anchor_times(case: BreachCase, obligations: list[Obligation]) -> deadlines.AnchorTimes:
    """The instants a case knows: its clocks, and when each of its filings was done (and last updated)."""
    done = [
        o for o in obligations if o.state == Obligation.State.DONE and o.completed_at and o.controller_notice_id is None
    ]
    return deadlines.AnchorTimes(
        aware_at=case.aware_at,
        incident_known_at=case.incident_known_at,
        contained_at=case.contained_at,
        dora_classified_at=case.dora_classified_at,
        rule_done={o.rule_code: o.completed_at for o in done},
        rule_updated={o.rule_code: o.latest_update_at for o in done if o.latest_update_at},
    )


def internal_target(org: Organization, rule: regimes.Rule) -> int | None:
    """The organisation's target for a rule without a legal hour count (None: the rule's practice)."""
    target = org.internal_target_for(rule.code)
    if target is None and rule.practice_hours is None:
        target = org.undue_delay_target_hours
    return target


def authority_for(org: Organization, rule: regimes.Rule) -> str:
    """The authority an obligation is owed to: the rule's, or the organisation's own choice (DORA)."""
    return getattr(org, rule.authority_setting) if rule.authority_setting else rule.authority.value


def _due_for(case: BreachCase, rule: regimes.Rule, anchors, notice: ControllerNotice | None, requested):
    return deadlines.compute_due(
        rule,
        anchors,
        internal_target_hours=internal_target(case.organization, rule),
        contract_hours=notice.notice_period_hours if notice else None,
        requested_due_at=requested,
        weekend_relief=not case.organization.dora_relief_excluded,
    )


def sync_obligations(case: BreachCase, *, acting_user, reason: str) -> list[Obligation]:
    """Bring the case's obligations in line with the catalogue and the current facts.

    Each rule is taken in the version in force at the instant that starts its clock
    (`deadlines.applicable_version`). New applicable rules get an obligation (wording copied
    from that version); pending ones get their due date (and their authority) recomputed;
    pending ones whose rule no longer applies, or was not in force at their clock's start, are
    withdrawn (kept, never deleted); done and not-applicable ones are left as they are, so
    lateness stays frozen at completion. An obligation keeps the version it was generated from
    while that version is in force at its anchor, even if the catalogue's wording is edited;
    only when its anchor moves across the end of that period (the case facts changed) does a
    pending obligation not yet acted upon take the version in force at its new anchor.
    """
    obligations = list(case.obligations.all())
    facts = case_facts(case, obligations=obligations)
    anchors = anchor_times(case, obligations)
    existing = {(o.rule_code, o.controller_notice_id): o for o in obligations}
    notices = list(case.controller_notices.all())

    binding: dict[str, tuple[list[regimes.Rule], regimes.Rule | None, bool]] = {}
    for code in regimes.rule_codes():
        candidates = regimes.versions(code)
        current = deadlines.applicable_version(candidates, anchors)
        binding[code] = (candidates, current, current is not None and current.applies(facts))
    for code, (candidates, current, applies) in binding.items():
        if applies and current.replaced_by and binding.get(current.replaced_by, ((), None, False))[2]:
            applies = False  # the rule that replaces it binds the case (in force at its own anchor)
        targets: list[ControllerNotice | None] = notices if candidates[-1].per_controller else [None]
        for notice in targets:
            ob = existing.get((code, notice.pk if notice else None))
            if not applies:
                if ob is not None and ob.state == Obligation.State.PENDING and not ob.is_acted_upon:
                    ob.state = Obligation.State.WITHDRAWN
                    ob.not_applicable_reason = (
                        _("The rule no longer applies to the case facts.")
                        if current is not None
                        else _("The rule was not in force when this clock started.")
                    )
                    save(ob, acting_user=acting_user, reason=reason)
                continue
            if ob is None:
                ob = _new_obligation(case, current, notice)
                _set_due(ob, case, current, anchors, notice)
                save(ob, acting_user=acting_user, reason=_("Generated from rule %(code)s.") % {"code": code})
                obligations.append(ob)
                continue
            reactivated = ob.state == Obligation.State.WITHDRAWN
            if reactivated:
                ob.state, ob.not_applicable_reason = Obligation.State.PENDING, ""
            elif ob.state != Obligation.State.PENDING:
                continue
            rule = current
            if ob.rule.version != current.version:
                if ob.is_acted_upon:
                    rule = ob.rule  # a reference was already recorded under its version: never rewritten
                else:
                    _copy_wording(ob, current)  # its anchor moved into another version's period
            before = (ob.anchor_at, ob.due_at, ob.due_basis, ob.authority, ob.rule_version)
            _set_due(ob, case, rule, anchors, notice)
            if reactivated or before != (ob.anchor_at, ob.due_at, ob.due_basis, ob.authority, ob.rule_version):
                save(ob, acting_user=acting_user, reason=reason)
    return obligations


def _set_due(ob: Obligation, case: BreachCase, rule: regimes.Rule, anchors, notice: ControllerNotice | None) -> None:
    due = _due_for(case, rule, anchors, notice, ob.requested_due_at)
    ob.anchor_at, ob.due_at, ob.due_basis = deadlines.resolve_anchor(rule, anchors), due.at, due.basis.value
    ob.authority = authority_for(case.organization, rule)


def _new_obligation(case: BreachCase, rule: regimes.Rule, notice: ControllerNotice | None) -> Obligation:
    ob = Obligation(case=case, controller_notice=notice, rule_code=rule.code)
    _copy_wording(ob, rule)
    return ob


def _copy_wording(ob: Obligation, rule: regimes.Rule) -> None:
    """Copy a rule version's wording onto its obligation: later catalogue edits never rewrite it."""
    ob.rule_version = rule.version
    ob.label_fr, ob.label_en = rule.label_fr, rule.label_en
    ob.legal_source = rule.source
    ob.legal_text_fr, ob.legal_text_en = rule.legal_text_fr, rule.legal_text_en
    ob.deadline_label_fr, ob.deadline_label_en = rule.deadline_label("fr"), rule.deadline_label("en")


def complete_locked(
    ob: Obligation, *, completed_at: datetime, reference: str, late_reason: str, acting_user, source: str
) -> Obligation:
    """Complete a locked obligation by the record `source` names (refused unless that record fulfils it)."""
    check_completion_source(ob, source)
    errors: dict = {}
    check_aware(errors, "completed_at", completed_at)
    raise_errors(errors)
    if ob.state == Obligation.State.DONE:
        if ob.rule.accepts_updates:
            raise ValidationError(_("This report is already filed; record the updated report as a filing on it."))
        raise ValidationError(_("This obligation is already completed."))
    if ob.state in {Obligation.State.NOT_APPLICABLE, Obligation.State.WITHDRAWN}:
        raise ValidationError(_("This obligation is not applicable; it cannot be completed."))
    require_not_closed(ob.case)
    check_not_future(errors, "completed_at", completed_at)
    classified = ob.case.dora_classified_at
    if completed_at < ob.case.first_signal_at:
        errors["completed_at"] = [_("A completion cannot precede the case's first signal.")]
    elif ob.rule.anchor is regimes.Anchor.DORA_CLASSIFICATION and classified and completed_at < classified:
        errors["completed_at"] = [
            _("The initial notification of a major incident cannot precede its classification as major (%(at)s).")
            % {"at": common.paris_time(classified)}
        ]
    elif ob.rule.anchor is regimes.Anchor.RULE_DONE and (ob.anchor_at is None or completed_at < ob.anchor_at):
        errors["completed_at"] = [_("This follow-up cannot be completed before the filing it follows.")]
    if deadlines.is_late(due_at=ob.due_at, completed_at=completed_at) and not (late_reason or "").strip():
        errors["late_reason"] = [
            _("Completed after the due date (%(due)s): the reasons for the delay are required.")
            % {"due": timezone.localtime(ob.due_at, deadlines.PARIS).strftime("%d/%m/%Y %H:%M")}
        ]
    raise_errors(errors)
    ob.state = Obligation.State.DONE
    ob.completed_at = completed_at
    ob.completed_by = acting_user
    ob.reference = (reference or "").strip()
    ob.late_reason = (late_reason or "").strip()
    # due_at is deliberately left as it is: lateness is frozen at completion.
    save(ob, acting_user=acting_user, reason=_("Obligation completed."))
    sync_obligations(ob.case, acting_user=acting_user, reason=_("Preceding filing completed."))
    webhook_events.obligation_completed(ob)
    return ob


class Source:
    """What completes an obligation (issue 12, item 3): the register never says "done" with nothing behind it."""

    FILING = "filing"  # a Filing recorded through `filing_record` (a sent Submission records one)
    COMMUNICATION = "communication"  # a MemberCommunication recorded through `member_communication_record`
    CONTROLLER_NOTICE = "controller_notice"  # a processor's notice to a controller (`controller_inform`)
    CLOSURE = "closure"  # the Art. 33(5) register entry, completed when the case is closed
    BARE = "bare"  # "mark done" with only a date and a reference (`obligation_complete`)


# Rules a bare "mark done" may still complete: the Art. 33(5) documentation, which is the register itself.
BARE_COMPLETION_RULES = frozenset({"GDPR_33_5"})

_FILING_ONLY = _lazy(
    "A filing obligation is completed only by the filing that fulfils it (record what was sent, when and its "
    "reference, or send the notification drafted in the register), or set aside by a recorded decision not to "
    "file, with its reason (mark it not applicable): it cannot simply be marked done."
)
_COMMUNICATION_ONLY = _lazy(
    "The Art. 34 obligation is completed only by the communication to the persons (record it, with the "
    "text sent) or set aside by an Art. 34(3) exemption: it cannot simply be marked done."
)


def completion_sources(ob: Obligation) -> frozenset[str]:
    """The records that may complete `ob`."""
    if ob.controller_notice_id is not None:
        return frozenset({Source.CONTROLLER_NOTICE})
    if ob.rule_code == "GDPR_34":
        return frozenset({Source.COMMUNICATION})
    if ob.rule_code in BARE_COMPLETION_RULES:
        return frozenset({Source.CLOSURE, Source.BARE})
    return frozenset({Source.FILING})


def completed_only_by_message(ob: Obligation) -> str:
    return str(_COMMUNICATION_ONLY if ob.rule_code == "GDPR_34" else _FILING_ONLY)


def check_completion_source(ob: Obligation, source: str = Source.BARE) -> None:
    """Refuse completing `ob` other than by the record that fulfils it (every write path goes through here)."""
    if source not in completion_sources(ob):
        raise ValidationError({"obligation": [completed_only_by_message(ob)]})


@service
def obligation_complete(
    obligation: Obligation,
    *,
    completed_at: datetime,
    acting_user,
    reference: str = "",
    late_reason: str = "",
    expected_version: int | None = None,
) -> Obligation:
    """Mark done an obligation no filing fulfils (the Art. 33(5) register entry); a filing obligation is
    refused (completed only by its filing, `filing_record`); after its due date a reason for the delay is required."""
    require_role(acting_user, obligation.case.organization, WRITE_ROLES)
    ob = lock_child(Obligation, lock_case(obligation.case_id), obligation.pk)
    check_version(ob, expected_version)
    return complete_locked(
        ob,
        completed_at=completed_at,
        reference=reference,
        late_reason=late_reason,
        acting_user=acting_user,
        source=Source.BARE,
    )


def record_update_locked(ob: Obligation, *, sent_at: datetime, acting_user) -> Obligation:
    """Record an updated version of a filed report (DORA updated intermediate report, RTS 2025/301 art. 5(1)(b)).

    The report keeps its first filing (and the due date it was judged against); the rules that
    run from its latest update (the DORA final report, art. 5(1)(c)) are recomputed from this one.
    """
    errors: dict = {}
    check_aware(errors, "sent_at", sent_at)
    raise_errors(errors)
    if not ob.rule.accepts_updates:
        raise ValidationError(_("This obligation is already completed."))
    require_not_closed(ob.case)
    check_not_future(errors, "sent_at", sent_at)
    if not errors and sent_at < ob.completed_at:
        errors["sent_at"] = [
            _("An updated report cannot precede the report it updates (filed on %(at)s).")
            % {"at": common.paris_time(ob.completed_at)}
        ]
    followers = [
        o
        for o in ob.case.obligations.filter(state=Obligation.State.DONE, controller_notice__isnull=True)
        if o.rule.after_rule == ob.rule_code and o.rule.from_latest_update and o.completed_at < sent_at
    ]
    if not errors and followers:
        errors["sent_at"] = [
            _("The final report was filed on %(at)s: an updated intermediate report cannot follow it.")
            % {"at": common.paris_time(followers[0].completed_at)}
        ]
    raise_errors(errors)
    if ob.latest_update_at is None or sent_at > ob.latest_update_at:
        ob.latest_update_at = sent_at
        save(ob, acting_user=acting_user, reason=_("Updated report recorded."))
        sync_obligations(ob.case, acting_user=acting_user, reason=_("Updated report recorded."))
    return ob


def reactivate_locked(ob: Obligation, *, reason: str, acting_user) -> None:
    """Back to pending after a reversed decision; the sync then recomputes its due date."""
    ob.state = Obligation.State.PENDING
    ob.not_applicable_reason = ""
    ob.decided_by, ob.decided_at = None, None
    save(ob, acting_user=acting_user, reason=_("Applies again after a new decision: %(r)s") % {"r": reason})


def mark_not_applicable_locked(
    ob: Obligation, *, reason: str, acting_user, decided_at: datetime | None = None
) -> Obligation:
    """Record the decision not to file (or that the rule does not apply): who, when it was taken
    (`decided_at`, default now) and when it was recorded."""
    if ob.state == Obligation.State.DONE:
        raise ValidationError(_("A completed obligation cannot be marked not applicable."))
    if ob.state == Obligation.State.NOT_APPLICABLE:
        raise ValidationError(_("This obligation is already marked not applicable."))
    ob.state = Obligation.State.NOT_APPLICABLE
    ob.not_applicable_reason = reason
    ob.decided_by = acting_user
    ob.decided_recorded_at = common.now()
    ob.decided_at = decided_at or ob.decided_recorded_at
    save(ob, acting_user=acting_user, reason=_("Marked not applicable: %(r)s") % {"r": reason})
    return ob


@service
def obligation_mark_not_applicable(
    obligation: Obligation,
    *,
    reason: str,
    acting_user,
    decided_at: datetime | None = None,
    expected_version: int | None = None,
) -> Obligation:
    """Record the decision that an obligation does not apply (for a filing: the decision not to file):
    who, when it was taken (default now, never in the future) and why."""
    require_role(acting_user, obligation.case.organization, DECISION_ROLES)
    errors: dict = {}
    if not (reason or "").strip():
        errors["not_applicable_reason"] = [_("Say why this obligation does not apply.")]
    check_aware(errors, "decided_at", decided_at)
    raise_errors(errors)
    ob = lock_child(Obligation, lock_open_case(obligation.case_id), obligation.pk)
    check_version(ob, expected_version)
    if decided_at is not None:
        check_not_future(errors, "decided_at", decided_at)
        if not errors and decided_at < ob.case.first_signal_at:
            errors["decided_at"] = [_("A decision cannot precede the case's first signal.")]
        raise_errors(errors)
    return mark_not_applicable_locked(ob, reason=reason.strip(), acting_user=acting_user, decided_at=decided_at)


@service
def obligation_set_requested_due(
    obligation: Obligation, *, due_at: datetime, reason: str, acting_user, expected_version: int | None = None
) -> Obligation:
    """Record the due date an authority asked for (e.g. a NIS2 intermediate report)."""
    require_role(acting_user, obligation.case.organization, WRITE_ROLES)
    errors: dict = {}
    check_aware(errors, "requested_due_at", due_at)
    if not (reason or "").strip():
        errors["reason"] = [_("Say which request set this date.")]
    raise_errors(errors)
    ob = lock_child(Obligation, lock_open_case(obligation.case_id), obligation.pk)
    check_version(ob, expected_version)
    if ob.rule.kind is not regimes.DeadlineKind.ON_REQUEST:
        raise ValidationError(_("Only obligations due on an authority's request take a requested date."))
    if ob.state != Obligation.State.PENDING:
        raise ValidationError(_("Only a pending obligation can be given a new due date."))
    ob.requested_due_at = due_at
    ob.due_at = due_at
    ob.due_basis = deadlines.DueBasis.AUTHORITY.value
    save(ob, acting_user=acting_user, reason=reason.strip())
    return ob
