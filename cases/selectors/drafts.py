"""What a proposal (a draft regime) would change on a case: computed for reading, never stored.

The sentences are built in the active language, for the case page and (under the dossier's
language) the PDF dossier. Nothing here creates an obligation, a reminder or a calendar entry:
those read only the obligations the law in force generated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import translation
from django.utils.translation import gettext as _

from .. import deadlines, regimes
from ..models import BreachCase, ControllerNotice, Obligation
from ..services.obligations import anchor_times, case_facts, internal_target


@dataclass(frozen=True)
class DraftLine:
    key: str  # "<regime code>-<rule code>", for element ids
    text: str  # "Under the Digital Omnibus proposal (...), the CNIL notification would be due at ... (not in force)."
    law: str  # the due date the law in force sets, for comparison ("" when it sets none)
    summary: str  # what the proposal changes
    note: str  # where the proposal stands


def _when(value: datetime) -> str:
    return value.astimezone(deadlines.PARIS).strftime("%d/%m/%Y %H:%M")


def draft_lines(case: BreachCase, obligations: list[Obligation], notices: list[ControllerNotice]) -> list[DraftLine]:
    """One line per variant of each draft regime that concerns the case, in the active language.

    A variant concerns the case when it would apply, or when the law's version of the rule
    does (so "would not be required" is said where it changes something). Reads no database.
    """
    org = case.organization
    facts = case_facts(case, has_controllers_to_inform=bool(notices), obligations=obligations)
    anchors = anchor_times(case, obligations)
    law = {o.rule_code: o for o in obligations if o.controller_notice_id is None}
    lang = "en" if (translation.get_language() or "").startswith("en") else "fr"
    lines = []
    for regime in regimes.DRAFT_REGIMES:
        outcomes = deadlines.compare_draft(
            regime,
            facts,
            anchors,
            internal_target_hours={rule.code: internal_target(org, rule) for rule in regime.rules},
            weekend_relief=not org.dora_relief_excluded,
        )
        for outcome in outcomes:
            current = law.get(outcome.rule.code)
            in_law = current is not None and current.state != Obligation.State.WITHDRAWN
            if not (outcome.applies or in_law):
                continue
            params = {
                "regime": str(regime.name),
                "reference": regime.reference,
                "subject": str(outcome.rule.short_label) or outcome.rule.label(lang),
            }
            if not outcome.applies:
                text = _("Under the %(regime)s (%(reference)s), %(subject)s would not be required (not in force).")
            elif outcome.due.at is None:
                text = _(
                    "Under the %(regime)s (%(reference)s), %(subject)s would be due once its clock starts "
                    "(not in force)."
                )
            else:
                params["due"] = _when(outcome.due.at)
                text = _("Under the %(regime)s (%(reference)s), %(subject)s would be due at %(due)s (not in force).")
            lines.append(
                DraftLine(
                    key=f"{regime.code}-{outcome.rule.code}",
                    text=text % params,
                    law=_("The law in force sets %(due)s.") % {"due": _when(current.due_at)}
                    if in_law and current.due_at
                    else "",
                    summary=str(outcome.rule.summary),
                    note=str(regime.note),
                )
            )
    return lines
