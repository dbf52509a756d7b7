"""The DORA facts of a case (`DoraFacts`): entered once, then kept up to date as the incident unfolds.

One record per case, created by its first edit. Only a DORA financial entity's case has them. The
reports drafted afterwards read them (`cases.filings.dora`); a report already drafted keeps its own
answers (edit the report, or start the next one, to carry a change into it).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from ..models import BreachCase, DoraFacts
from ..permissions import WRITE_ROLES, require_role
from .common import (
    check_aware,
    check_not_future,
    check_version,
    differs,
    lock_open_case,
    paris_time,
    raise_errors,
    save,
    service,
)

# Every fact a user enters (the case it belongs to and its version are not).
EDITABLE = tuple(
    f.name for f in DoraFacts._meta.concrete_fields if f.editable and f.name not in {"id", "case", "version"}
)
INSTANTS = tuple(f.name for f in DoraFacts._meta.concrete_fields if f.get_internal_type() == "DateTimeField")
# What happens to the incident itself, so never before it occurred (the recurring incidents' date is
# another incident's, possibly earlier).
AFTER_THE_INCIDENT = ("restored_at", "root_cause_addressed_at", "resolved_at")


@service
def dora_facts_update(case: BreachCase, *, acting_user, expected_version: int | None = None, **changes) -> DoraFacts:
    """Set DORA facts of the case (any subset of `EDITABLE`); `expected_version` is the facts' version
    as the user read them (None when they did not exist yet)."""
    require_role(acting_user, case.organization, WRITE_ROLES)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"Unknown DORA facts: {', '.join(sorted(unknown))}")
    case = lock_open_case(case)
    if not case.organization.is_dora_entity:
        raise ValidationError(_("Only a DORA financial entity's case has DORA facts."))
    facts = DoraFacts.objects.select_for_update().filter(case_id=case.pk).first()
    if facts is None:
        facts = DoraFacts(case=case)
    else:
        facts.case = case
        check_version(facts, expected_version)
    errors: dict = {}
    for name in INSTANTS:
        check_aware(errors, name, changes.get(name))
    raise_errors(errors)
    for name in INSTANTS:
        check_not_future(errors, name, changes.get(name))
    # The incident's occurrence (ITS field 3.2), or the first signal when it is not known.
    start = min(filter(None, (case.occurred_from, case.first_signal_at)))
    for name in AFTER_THE_INCIDENT:
        value = changes.get(name)
        if name not in errors and value is not None and value < start:
            errors[name] = [_("This cannot precede the incident (%(at)s).") % {"at": paris_time(start)}]
    raise_errors(errors)
    changed = {k: v for k, v in changes.items() if differs(getattr(facts, k), v)}
    if not changed and facts.pk is not None:
        return facts
    for name, value in changed.items():
        setattr(facts, name, value.strip() if isinstance(value, str) else value)
    save(
        facts,
        acting_user=acting_user,
        reason=_("DORA facts recorded.") if facts.pk is None else _("DORA facts updated."),
    )
    return facts
