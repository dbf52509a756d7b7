"""Reads the views and exports need: access-scoped case lookup and the dossier's prefetched data.

Every query here has a fixed count whatever the number of events, filings, evidence or
history rows, so exporting a large case costs the same handful of queries as a small one.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import F
from django.http import Http404

from .history import chained_history_models
from .models import (
    BreachCase,
    ControllerNotice,
    Evidence,
    Filing,
    MemberCommunication,
    Obligation,
    TimelineEvent,
)

# Columns of a historical row that describe the version, not the object.
HISTORY_META_FIELDS = frozenset(
    {
        "history_id",
        "history_date",
        "history_change_reason",
        "history_type",
        "history_user",
        "history_user_id",
        "chain_key",
        "chain_seq",
        "chain_prev",
        "chain_hash",
    }
)


def case_for_user(user, reference: str) -> BreachCase:
    """The case `reference` if `user` has an active membership in its organisation; 404 otherwise.

    Another organisation's case is indistinguishable from a missing one (404, never 403).
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        raise Http404("No such case.")
    case = (
        BreachCase.objects.select_related("organization")
        .filter(
            reference=reference,
            organization__memberships__user=user,
            organization__memberships__is_active=True,
        )
        .first()
    )
    if case is None:
        raise Http404("No such case.")
    return case


@dataclass
class DossierData:
    """Everything the dossier prints about one case, loaded with a fixed number of queries."""

    case: BreachCase
    events: list[TimelineEvent]
    obligations: list[Obligation]
    filings: list[Filing]
    communications: list[MemberCommunication]
    notices: list[ControllerNotice]
    evidence: list[Evidence]
    usernames: dict[int, str] = field(default_factory=dict)

    @property
    def chain_key(self) -> str:
        return self.case.history_chain_key()

    def username(self, user_id: int | None) -> str:
        return self.usernames.get(user_id, "") if user_id is not None else ""


def dossier_data(case: BreachCase) -> DossierData:
    """The case and all its records, with the users they mention resolved in one query."""
    case = BreachCase.objects.select_related(
        "organization",
        "processor",
        "source_notice__case__organization",
        "notify_authority_decided_by",
        "inform_persons_decided_by",
        "created_by",
    ).get(pk=case.pk)
    data = DossierData(
        case=case,
        events=list(case.events.order_by("occurred_at", "pk")),
        obligations=list(
            case.obligations.select_related("controller_notice__controller").order_by(
                F("due_at").asc(nulls_last=True), "rule_code", "pk"
            )
        ),
        filings=list(case.filings.select_related("obligation", "evidence").order_by("sent_at", "pk")),
        communications=list(case.communications.select_related("evidence").order_by("sent_at", "pk")),
        notices=list(
            case.controller_notices.select_related("controller", "controller_case", "obligation").order_by(
                "controller__name", "pk"
            )
        ),
        evidence=list(case.evidence.order_by("uploaded_at", "pk")),
    )
    user_ids = {case.created_by_id, case.notify_authority_decided_by_id, case.inform_persons_decided_by_id}
    for ob in data.obligations:
        user_ids.update((ob.completed_by_id, ob.decided_by_id))
    for item in (*data.events, *data.filings, *data.communications):
        user_ids.add(item.created_by_id)
    user_ids.update(n.informed_by_id for n in data.notices)
    user_ids.update(e.uploaded_by_id for e in data.evidence)
    data.usernames = usernames(user_ids)
    return data


def usernames(user_ids) -> dict[int, str]:
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    user_model = get_user_model()
    return dict(user_model.objects.filter(pk__in=ids).values_list("pk", user_model.USERNAME_FIELD))


def history_fields(history_model: type[models.Model]) -> list[str]:
    """The object's own columns (attnames) of a historical model, in declaration order."""
    return [f.attname for f in history_model._meta.concrete_fields if f.attname not in HISTORY_META_FIELDS]


def chain_history_rows(chain_key: str, *, chunk_size: int = 5000) -> Iterator[tuple[type[models.Model], dict]]:
    """Every history row of a chain, in chain order, as (historical model, all its column values).

    One streaming query per historical model, merged on the chain position: memory stays
    flat and rows are plain dicts, not model instances.
    """
    streams = [_history_stream(model, chain_key, chunk_size) for model in chained_history_models()]
    for _, model, row in heapq.merge(*streams, key=lambda item: item[0]):
        yield model, row


def _history_stream(model: type[models.Model], chain_key: str, chunk_size: int) -> Iterator[tuple]:
    columns = [f.attname for f in model._meta.concrete_fields]
    rows = model.objects.filter(chain_key=chain_key).order_by("chain_seq").values(*columns)
    for row in rows.iterator(chunk_size=chunk_size):
        yield row["chain_seq"], model, row


def chain_user_ids(chain_key: str) -> set[int]:
    """The users who wrote any history row of a chain (one small query per historical model)."""
    ids: set[int] = set()
    for model in chained_history_models():
        ids.update(
            model.objects.filter(chain_key=chain_key, history_user_id__isnull=False)
            .values_list("history_user_id", flat=True)
            .distinct()
        )
    return ids
