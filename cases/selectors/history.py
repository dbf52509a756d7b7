"""Reads of a case's change history: the rows of its hash chain, and their field-level differences.

The dossier streams a whole chain (`cases.history.chain_rows`); the History tab reads one page of
it by chain position (`history_page`), with a fixed number of queries whatever the size of
the chain. Both turn consecutive versions of an object into field-level changes with
`field_changes` and word them with `HistoryFormatter` (gettext and the domain's labels, in the active language).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache, reduce
from operator import itemgetter, or_

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q, Subquery
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext

from ..deadlines import PARIS
from ..history import FIELD_LABELS, OBJECT_LABELS, HistoryChainHead, chained_history_models
from ..languages import colon, label
from ..models import (
    BreachCase,
    CaseChild,
    ControllerNotice,
    DataCategory,
    Evidence,
    Filing,
    MemberCommunication,
    Obligation,
    Organization,
    SubjectCategory,
    Submission,
    TimelineEvent,
)
from ..regimes import AUTHORITY_LABELS

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
        "chain_mac",
    }
)

# Choice fields and the domain's labels for their values, per historical model.
CHOICE_GROUPS = {
    ("breachcase", "status"): BreachCase.Status,
    ("breachcase", "nature"): BreachCase.Nature,
    ("breachcase", "origin"): BreachCase.Origin,
    ("breachcase", "cause"): BreachCase.Cause,
    ("breachcase", "severity_level"): BreachCase.SeverityLevel,
    ("breachcase", "inform_persons_exemption"): BreachCase.Art34Exemption,
    ("obligation", "state"): Obligation.State,
    ("obligation", "authority"): AUTHORITY_LABELS,
    ("filing", "kind"): Filing.Kind,
    ("submission", "kind"): Submission.Kind,
    ("submission", "state"): Submission.State,
    ("timelineevent", "kind"): TimelineEvent.Kind,
    ("membercommunication", "channel"): MemberCommunication.Channel,
    ("membercommunication", "exemption"): BreachCase.Art34Exemption,
}
CATEGORY_GROUPS = {"data_categories": DataCategory, "subject_categories": SubjectCategory}


def usernames(user_ids) -> dict[int, str]:
    """The people who acted, by user id: their full name where the account has one, else the username
    (the same words on the page and in the dossier)."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    user_model = get_user_model()
    rows = user_model.objects.filter(pk__in=ids).values_list("pk", user_model.USERNAME_FIELD, "first_name", "last_name")
    return {pk: " ".join(p for p in (first, last) if p).strip() or username for pk, username, first, last in rows}


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


# --- field-level differences ------------------------------------------------------------------


def is_empty(value: object) -> bool:
    return value is None or value == "" or value == [] or value == {}


@cache
def own_columns(model: type[models.Model]) -> tuple[models.Field, ...]:
    """The object's own columns in a historical model (not the version's metadata, not its id)."""
    return tuple(
        f
        for f in model._meta.concrete_fields
        if f.attname not in HISTORY_META_FIELDS and not f.primary_key and f.attname != "id"
    )


def field_changes(
    model: type[models.Model], before: dict | None, row: dict
) -> list[tuple[models.Field, object, object]]:
    """(field, old value, new value) for each column that differs from the previous version.

    Without a previous version (a creation), the initial non-empty values, with None as old value.
    """
    fields, values = _own_values(model)
    if before is None:
        return [(f, None, new) for f, new in zip(fields, values(row), strict=True) if not is_empty(new)]
    return [(f, old, new) for f, old, new in zip(fields, values(before), values(row), strict=True) if old != new]


@cache
def _own_values(model: type[models.Model]) -> tuple[tuple[models.Field, ...], Callable[[dict], tuple]]:
    """own_columns(model) and a function reading their values from a row, as a tuple (in one call:
    a long history compares thousands of rows of dozens of columns)."""
    fields = own_columns(model)
    names = [f.attname for f in fields]
    if len(names) < 2:  # itemgetter of one name gives the value itself, not a tuple
        return fields, lambda row: tuple(row[name] for name in names)
    return fields, itemgetter(*names)


def object_name(model: type[models.Model]) -> str:
    """`obligation` for the historical model of Obligation."""
    return model._meta.model_name.removeprefix("historical")


class HistoryFormatter:
    """Turns raw column values of historical rows into the dossier's wording, in French or English.

    `orgs` and `related` name the objects that foreign keys point to (organisations, and
    obligations, evidence, controller notices, cases by model name); unknown ids show as #id.
    """

    def __init__(
        self,
        lang: str,
        *,
        user_names: dict[int, str],
        orgs: dict[int, str],
        related: dict[str, dict[int, str]],
    ) -> None:
        self.lang = lang
        self.user_names = user_names
        self.orgs = orgs
        self.related = related
        self._formats: dict[tuple[type[models.Model], str], Callable[[object], str]] = {}
        # Field labels and object kinds, translated once (a long history repeats them on every row).
        self._labels: dict[models.Field, str] = {}
        self._kinds: dict[str, str] = {}

    def choice(self, labels, value: object) -> str:
        return label(labels, value)

    def dt(self, value: datetime) -> str:
        return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M:%S")

    def who(self, user_id: int | None) -> str:
        return self.user_names.get(user_id, f"#{user_id}") if user_id is not None else gettext("system")

    def label(self, f: models.Field) -> str:
        text = self._labels.get(f)
        if text is None:
            name = f.name
            text = str(FIELD_LABELS[name]) if name in FIELD_LABELS else capfirst(str(f.verbose_name or name))
            self._labels[f] = text
        return text

    def value(self, model: type[models.Model], f: models.Field, value: object) -> str:
        key = (model, f.attname)
        fmt = self._formats.get(key)
        if fmt is None:
            fmt = self._formats[key] = self._format_for(model, f)
        return fmt(value)

    def _format_for(self, model: type[models.Model], f: models.Field) -> Callable[[object], str]:
        group = CHOICE_GROUPS.get((object_name(model), f.name))
        if group:
            return lambda v: self.choice(group, v)
        if f.name in CATEGORY_GROUPS:
            category = CATEGORY_GROUPS[f.name]
            return lambda v: "; ".join(self.choice(category, c) for c in v or [])
        if isinstance(f, models.ForeignKey):
            target = f.related_model
            if target._meta.label == settings.AUTH_USER_MODEL:
                return lambda v: self.user_names.get(v, f"#{v}") if v is not None else ""
            if target._meta.model_name == "organization":
                return lambda v: self.orgs.get(v, f"#{v}") if v is not None else ""
            names = self.related.get(target._meta.model_name, {})
            return lambda v: names.get(v, f"#{v}") if v is not None else ""
        if f.choices:
            display = {k: str(label) for k, label in f.flatchoices}
            return lambda v: display.get(v, "" if v is None else str(v))
        return self._plain

    def _plain(self, value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return gettext("Yes") if value else gettext("No")
        if isinstance(value, datetime):
            return self.dt(value)
        if isinstance(value, Decimal):
            text = f"{value.normalize():f}"
            return text.replace(".", ",") if self.lang == "fr" else text
        if isinstance(value, int):
            return str(value)
        if isinstance(value, list | dict):
            return json.dumps(value, ensure_ascii=False, sort_keys=True)
        return str(value)

    def object_label(self, model: type[models.Model], row: dict) -> str:
        name = object_name(model)
        kind = self._kinds.get(name)
        if kind is None:
            kind = self._kinds[name] = str(OBJECT_LABELS[name]) if name in OBJECT_LABELS else name
        if name == "breachcase":
            return f"{kind} {row.get('reference', '')}"
        if name == "obligation":
            return f"{kind} {row.get('rule_code', '')}"
        if name == "evidence":
            return f"{kind} #{row['id']} {row.get('original_name', '')}"
        if name == "controllernotice":
            return f"{kind} {row.get('controller_name') or self.orgs.get(row.get('controller_id'), '')}"
        return f"{kind} #{row['id']}"


# --- one page of a case's history (the History tab) ------------------------------------------


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass
class Version:
    """One history row of the page: who changed which object when and why, and what changed."""

    seq: int
    when: datetime
    when_text: str
    who: str
    object_label: str
    object_kind: str
    object_id: int
    history_type: str
    reason: str
    changes: list[Change] = field(default_factory=list)

    @property
    def created(self) -> bool:
        return self.history_type == "+"


# Rows written by one person within this time of each other are one action (one service call writes
# the record and what follows from it: a case and its obligations, a completion and the case's state).
SAME_ACTION = timedelta(seconds=2)


def starts_action(*, same_person: bool, gap: timedelta, is_change: bool, only_creations: bool) -> bool:
    """Whether a history row (read oldest first) starts a new action rather than continuing the last one.

    An action is a run of rows by one person at one moment: what was asked (its first row, whose reason
    is the action's) and what the service did because of it (a case opened creates its obligations; a
    completion updates the obligations it fulfils). A change after a run of creations starts a new
    action: creating never follows from a later change in the same moment.
    """
    return not same_person or gap > SAME_ACTION or (is_change and only_creations)


def kind_label(kind: str) -> str:
    return str(OBJECT_LABELS.get(kind, kind)).lower()


def summarise(created: dict[str, int], changed: dict[str, int]) -> str:
    """What an action did, counted by kind of record in the order written ("created: case, 6 × obligation")."""
    parts = []
    for verb, kinds in ((gettext("created"), created), (gettext("changed"), changed)):
        if kinds:
            counted = ", ".join(kind if n == 1 else f"{n} × {kind}" for kind, n in kinds.items())
            parts.append(f"{verb}{colon()} {counted}")
    return " · ".join(parts)


@dataclass
class Activity:
    """One action in words: who did what, when and why; the field-level changes beneath it."""

    when: datetime
    when_text: str
    who: str
    reason: str
    versions: list[Version]

    @property
    def created(self) -> list[Version]:
        return [v for v in self.versions if v.created]

    @property
    def changed(self) -> list[Version]:
        return [v for v in self.versions if not v.created]

    @property
    def summary(self) -> str:
        counts: dict[bool, dict[str, int]] = {True: {}, False: {}}
        for v in reversed(self.versions):  # in the order they were written
            bucket = counts[v.created]
            bucket[kind_label(v.object_kind)] = bucket.get(kind_label(v.object_kind), 0) + 1
        return summarise(counts[True], counts[False])


def activities(versions: list[Version]) -> list[Activity]:
    """Versions (newest first) grouped into actions (`starts_action`), newest first."""
    groups: list[list[Version]] = []
    for version in reversed(versions):
        group = groups[-1] if groups else None
        if group is None or starts_action(
            same_person=group[-1].who == version.who,
            gap=version.when - group[-1].when,
            is_change=not version.created,
            only_creations=all(v.created for v in group),
        ):
            groups.append([version])
        else:
            group.append(version)
    out = []
    for group in reversed(groups):
        first = group[0]
        out.append(Activity(first.when, first.when_text, first.who, first.reason, list(reversed(group))))
    return out


class ActivityLog:
    """The same actions as `activities`, fed one history row at a time in chain order (the dossier's
    single streaming pass): one entry per action, kept small (who, when, why, what by kind)."""

    def __init__(self) -> None:
        self.entries: list[dict] = []
        self._kinds: dict[str, str] = {}  # kind_label of each kind, translated once

    def add(self, *, who: str, when: datetime, when_text: str, created: bool, kind: str, reason: str) -> None:
        last = self.entries[-1] if self.entries else None
        if last is None or starts_action(
            same_person=last["who"] == who,
            gap=when - last["last_when"],
            is_change=not created,
            only_creations=not last["changed"],
        ):
            last = {"who": who, "when_text": when_text, "reason": reason, "created": {}, "changed": {}}
            self.entries.append(last)
        last["last_when"] = when
        bucket = last["created"] if created else last["changed"]
        label = self._kinds.get(kind)
        if label is None:
            label = self._kinds[kind] = kind_label(kind)
        bucket[label] = bucket.get(label, 0) + 1

    @staticmethod
    def summary(entry: dict) -> str:
        return summarise(entry["created"], entry["changed"])


@dataclass
class HistoryPage:
    number: int
    per_page: int
    total_rows: int
    versions: list[Version]
    activities: list[Activity] = field(default_factory=list)

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.total_rows // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def first_seq(self) -> int:
        return min((v.seq for v in self.versions), default=0)

    @property
    def last_seq(self) -> int:
        return max((v.seq for v in self.versions), default=0)


@cache
def case_history_models() -> tuple[type[models.Model], ...]:
    """The historical models whose rows can belong to a case's chain (the case and its records)."""
    return tuple(
        m for m in chained_history_models() if m.instance_type is BreachCase or issubclass(m.instance_type, CaseChild)
    )


def _columns(model: type[models.Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


def history_page(case: BreachCase, *, page: int, per_page: int = 50, lang: str = "fr") -> HistoryPage:
    """One page of the case's chain, newest first, as field-level changes.

    Pages are ranges of chain positions (page 1 holds the newest `per_page` rows), so a page
    costs the same queries whatever the chain's length: the head (1), the rows of the range
    (one per historical model), the previous version of each object whose earlier version
    lies on an older page (at most one per model), and the names the rows mention (at most
    one per kind: users, organisations, obligations, evidence, controller notices). Worded in `lang`
    whatever the active language.
    """
    with translation.override(lang):
        return _history_page(case, page=page, per_page=per_page, lang=lang)


def _history_page(case: BreachCase, *, page: int, per_page: int, lang: str) -> HistoryPage:
    key = case.history_chain_key()
    total = HistoryChainHead.objects.filter(chain_key=key).values_list("length", flat=True).first() or 0
    num_pages = max(1, -(-total // per_page))
    page = min(max(1, page), num_pages)
    high = total - (page - 1) * per_page
    low = max(1, high - per_page + 1)
    if total == 0:
        return HistoryPage(page, per_page, 0, [])

    rows: list[tuple[type[models.Model], dict]] = []
    for model in case_history_models():
        queryset = model.objects.filter(chain_key=key, chain_seq__gte=low, chain_seq__lte=high)
        rows.extend((model, row) for row in queryset.values(*_columns(model)))
    rows.sort(key=lambda item: item[1]["chain_seq"])

    # The previous version of each object whose first row on this page is not its creation.
    first_on_page: dict[tuple[type[models.Model], int], dict] = {}
    for model, row in rows:
        first_on_page.setdefault((model, row["id"]), row)
    wanted: dict[type[models.Model], set[int]] = {}
    for (model, object_id), row in first_on_page.items():
        if row["history_type"] != "+":
            wanted.setdefault(model, set()).add(object_id)
    previous: dict[tuple[type[models.Model], int], dict] = {}
    for model, ids in wanted.items():
        # Per object, its newest row below the page (a scalar subquery ORDER BY … DESC LIMIT 1 each, one query per
        # model): read from the object's own versions or the chain's index backwards from the page, never every
        # older row of the chain.
        latest = reduce(
            or_,
            (
                Q(
                    chain_seq=Subquery(
                        model.objects.filter(chain_key=key, id=object_id, chain_seq__lt=low)
                        .order_by("-chain_seq")
                        .values("chain_seq")[:1]
                    )
                )
                for object_id in sorted(ids)
            ),
        )
        for row in model.objects.filter(latest, chain_key=key).values(*_columns(model)):
            previous[(model, row["id"])] = row

    fmt = _page_formatter(lang, case, [row for _, row in rows] + list(previous.values()), rows, previous)
    versions: list[Version] = []
    for model, row in rows:
        before = previous.get((model, row["id"]))
        previous[(model, row["id"])] = row
        version = Version(
            seq=row["chain_seq"],
            when=row["history_date"],
            when_text=fmt.dt(row["history_date"]),
            who=fmt.who(row["history_user_id"]),
            object_label=fmt.object_label(model, row),
            object_kind=object_name(model),
            object_id=row["id"],
            history_type=row["history_type"],
            reason=row["history_change_reason"] or "",
        )
        if row["history_type"] != "-":
            version.changes = [
                Change(fmt.label(f), "" if before is None else fmt.value(model, f, old), fmt.value(model, f, new))
                for f, old, new in field_changes(model, before, row)
            ]
        versions.append(version)
    versions.reverse()
    return HistoryPage(page, per_page, total, versions, activities(versions))


def _page_formatter(lang: str, case: BreachCase, all_rows: Iterable[dict], rows, previous) -> HistoryFormatter:
    """A formatter knowing the names of everything the page's rows point to (one query per kind)."""
    user_ids: set[int] = set()
    org_ids: set[int] = {case.organization_id}
    ids: dict[str, set[int]] = {"obligation": set(), "evidence": set(), "controllernotice": set()}
    models_of = [model for model, _ in rows] + [model for model, _ in previous]
    for model in set(models_of):
        for f in own_columns(model):
            if not isinstance(f, models.ForeignKey):
                continue
            target = f.related_model
            if target._meta.label == settings.AUTH_USER_MODEL:
                bucket = user_ids
            elif target is Organization:
                bucket = org_ids
            else:
                bucket = ids.get(target._meta.model_name)
            if bucket is None:
                continue
            for row in all_rows:
                if f.attname in row and row[f.attname] is not None:
                    bucket.add(row[f.attname])
    for row in all_rows:
        user_ids.add(row["history_user_id"])
        if "controller_id" in row:
            org_ids.add(row["controller_id"])
    notices: dict[int, str] = {}
    if ids["controllernotice"]:
        notices = dict(
            ControllerNotice.objects.filter(pk__in=ids["controllernotice"]).values_list("pk", "controller_name")
        )
    related = {
        "breachcase": {case.pk: case.reference},
        "obligation": dict(Obligation.objects.filter(pk__in=ids["obligation"]).values_list("pk", "rule_code"))
        if ids["obligation"]
        else {},
        "evidence": dict(Evidence.objects.filter(pk__in=ids["evidence"]).values_list("pk", "original_name"))
        if ids["evidence"]
        else {},
        "controllernotice": notices,
    }
    orgs = dict(Organization.objects.filter(pk__in=org_ids).values_list("pk", "name"))
    return HistoryFormatter(lang, user_names=usernames(user_ids), orgs=orgs, related=related)
