"""Finding cases by what their text says, not only by reference and title.

A search looks through the case's free-text fields (what a DPO wrote: title, description,
consequences, measures, reasons...). On PostgreSQL it is full-text search with the French
dictionary (stems and stop words: "numéros de sécurité sociale" finds "numéro"), written like a
web search (`"exact phrase"`, `-word`, `or`), combined with a plain substring match so that codes
and references ("NIR", "VIAMEDIS-2024") are found as typed. Elsewhere (SQLite, the local
install) every word of the query must start a word of one of the fields, case-insensitively.

On PostgreSQL both halves are indexed (migration 0013, GIN): the weighted vector of the fields, and
their text joined by spaces (`joined_text`, trigrams), so a selective search reads only the cases it
finds. The substring half is tested first: a case it finds is kept without computing its vector,
the costly part when a search finds most cases. The index expressions are those written here (a
test checks the plans use them).
"""

from __future__ import annotations

import re
from functools import reduce
from operator import and_, or_

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import F, Func, Q, QuerySet, TextField

# The case's own free text, most telling first (the vector gives them weights A to D).
SEARCHED_FIELDS = (
    "reference",
    "title",
    "description",
    "first_signal_source",
    "likely_consequences",
    "measures_immediate",
    "measures_medium",
    "measures_long",
    "aware_justification",
    "notify_authority_reason",
    "inform_persons_reason",
    "processor_name",
)
WEIGHTS = {"reference": "A", "title": "A", "description": "B"}
MAX_WORDS = 12  # a longer query adds nothing but cost


def words(query: str) -> list[str]:
    return re.findall(r"[\w@.'’-]+", query or "")[:MAX_WORDS]


def _word_start(term: str) -> str:
    """`term` at the start of a word: "1" finds "Fuite 1", not "2024-001"; "numéro" finds "numéros"."""
    return r"(^|[^\w])" + re.escape(term)


def _substring(query: str) -> Q:
    """Every word of the query starts a word in one of the fields (any case)."""
    terms = words(query)
    if not terms:
        return Q()
    return reduce(
        and_,
        (reduce(or_, (Q(**{f"{field}__iregex": _word_start(term)}) for field in SEARCHED_FIELDS)) for term in terms),
    )


class JoinedText(Func):
    """The searched fields joined by spaces (none is NULL): a word starts a word of a field exactly when it starts
    a word of this text, which one trigram index holds (PostgreSQL)."""

    arg_joiner = " || ' ' || "
    template = "(%(expressions)s)"
    output_field = TextField()

    def __init__(self) -> None:
        super().__init__(*(F(field) for field in SEARCHED_FIELDS))


def search_vector() -> SearchVector:
    """The fields' weighted French vector, as its GIN index holds it (PostgreSQL)."""
    return reduce(
        lambda a, b: a + b,
        (SearchVector(field, config="french", weight=WEIGHTS.get(field, "D")) for field in SEARCHED_FIELDS),
    )


def matching(cases: QuerySet, query: str) -> QuerySet:
    """The cases whose text matches `query` (all of them for an empty query)."""
    query = (query or "").strip()
    terms = words(query)
    if not terms:
        return cases
    if connection.vendor != "postgresql":
        return cases.filter(_substring(query))
    substring = reduce(and_, (Q(search_text__iregex=_word_start(term)) for term in terms))
    return cases.alias(search_text=JoinedText(), search=search_vector()).filter(
        substring | Q(search=SearchQuery(query, config="french", search_type="websearch"))
    )
