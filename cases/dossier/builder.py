"""Builds the regulator-ready dossier of one case: data in, PDF bytes out.

Same data and same generation time give byte-identical output (reportlab's invariant
mode, dates pinned to the generation time); a configured certificate seals the result.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.fields.files import FieldFile
from django.utils import timezone, translation
from django.utils.translation import gettext
from reportlab.platypus import Flowable, NextPageTemplate, PageBreak

from ..bundle import BundleWriter
from ..history import chain_head
from ..languages import LANG_TAGS, LANGS
from ..models import BreachCase
from ..selectors.dossier import DossierData, dossier_data
from . import sealing
from .context import Context
from .document import DossierDocTemplate, Heading, PageCounter, PageSpool, canvas_factory, contents
from .fonts import register_fonts
from .sections import (
    chronology,
    communications,
    controllers,
    cover,
    evidence,
    filings,
    history,
    obligations,
    severity,
    summary,
    verification,
)
from .styles import H1, para


@dataclass(frozen=True)
class RenderedDossier:
    pdf: bytes
    pages: int
    data_hash: str
    signed: bool
    # Whether the latest checkpoint covers every history row the dossier prints (see cases.bundle).
    bundle_covered: bool = False


def _canonical(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or ""
    return value


def _row(obj: models.Model) -> dict:
    return {f.attname: _canonical(getattr(obj, f.attname)) for f in obj._meta.concrete_fields}


def data_hash(data: DossierData, *, chain_length: int, chain_head_hash: str) -> str:
    """SHA-256 of a canonical JSON of the case, its records and its history chain head."""

    def rows(items) -> list[dict]:
        return [_row(i) for i in sorted(items, key=lambda i: i.pk)]

    payload = {
        "case": _row(data.case),
        "organization": _row(data.case.organization),
        "events": rows(data.events),
        "obligations": rows(data.obligations),
        "filings": rows(data.filings),
        "communications": rows(data.communications),
        "controller_notices": rows(data.notices),
        "evidence": rows(data.evidence),
        "history_chain": {"key": data.chain_key, "length": chain_length, "head": chain_head_hash},
    }
    if data.submissions or data.letters:  # only when there are some: the hash of a case without any is unchanged
        payload["submissions"] = rows([*data.submissions.values(), *data.letters.values()])
    if data.received:  # likewise: only a controller's case opened from (or attached to) a processor's notice
        payload["received_notices"] = rows(data.received)
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def current_data_hash(case: BreachCase) -> str:
    """The data hash the dossier of `case` would carry if built now (its records and history chain head)."""
    data = dossier_data(case)
    length, head = chain_head(data.chain_key)
    return data_hash(data, chain_length=length, chain_head_hash=head)


class _LayoutProgress:
    """Turns reportlab's progress callbacks (pass number, flowables laid out) into a fraction of the layout."""

    PASSES = 2  # multiBuild usually settles in two passes (document.py); a third one reports 99 %

    def __init__(self, report: Callable[[float], None]) -> None:
        self.report = report
        self.passes = 1
        self.size = 1

    def __call__(self, kind: str, value: int) -> None:
        if kind == "PASS":
            self.passes = value
        elif kind == "SIZE_EST":
            self.size = max(1, value)
        elif kind == "PROGRESS":
            done = (self.passes - 1 + min(value, self.size) / self.size) / self.PASSES
            self.report(min(done, 0.99))


class _PdfBytes:
    """Where reportlab writes the finished file (in one write): the bytes are kept as they are, not
    copied into a buffer and out of it again (a long history makes a PDF of hundreds of megabytes)."""

    data = b""

    def write(self, data: bytes) -> int:
        self.data = self.data + data if self.data else data
        return len(data)


def render_dossier(
    case: BreachCase,
    *,
    lang: str = "fr",
    generated_at: datetime | None = None,
    generated_by: str = "",
    sign: bool | None = None,
    progress: Callable[[float], None] | None = None,
) -> RenderedDossier:
    """The dossier of `case` and facts about it; `sign=None` seals when a certificate is configured.

    `progress`, if given, is called now and then with the fraction of the layout done (0 to 1).
    The dossier is in `lang` whatever the active language: it is laid out under `translation.override`.
    """
    if lang not in LANGS:
        raise ValueError(f"Unsupported dossier language {lang!r}; use one of {', '.join(LANGS)}.")
    generated_at = generated_at or timezone.now()
    if timezone.is_naive(generated_at):
        raise ValueError("generated_at must be an aware datetime.")
    with translation.override(lang):
        return _render(
            case, lang=lang, generated_at=generated_at, generated_by=generated_by, sign=sign, progress=progress
        )


def _render(
    case: BreachCase,
    *,
    lang: str,
    generated_at: datetime,
    generated_by: str,
    sign: bool | None,
    progress: Callable[[float], None] | None,
) -> RenderedDossier:
    register_fonts()
    data = dossier_data(case)
    length, head = chain_head(data.chain_key)
    ctx = Context(
        data=data,
        lang=lang,
        generated_at=generated_at,
        generated_by=generated_by,
        data_hash=data_hash(data, chain_length=length, chain_head_hash=head),
        chain_length=length,
        chain_head=head,
        bundle=BundleWriter(case, generated_at=generated_at, gzip=False),
    )
    try:
        return _layout(case, ctx, progress=progress, sign=sign)
    finally:
        ctx.close()


def _layout(
    case: BreachCase, ctx: Context, *, progress: Callable[[float], None] | None, sign: bool | None
) -> RenderedDossier:
    generated_at = ctx.generated_at
    counter = PageCounter()
    sections: list[list[Flowable]] = [
        summary.build(ctx),
        chronology.build(ctx),
        obligations.build(ctx),
        filings.build(ctx),
        severity.build(ctx),
        communications.build(ctx),
        controllers.build(ctx),
        evidence.build(ctx),
        history.build(ctx),
        verification.build(ctx),
    ]
    toc_entries = [(f.level, f.plain_text, f.key) for section in sections for f in section if isinstance(f, Heading)]
    story: list[Flowable] = [
        counter,
        *cover.build(ctx),
        NextPageTemplate("body"),
        PageBreak(),
        para(gettext("Contents"), H1),
        contents(toc_entries),
    ]
    for section in sections:
        story += [PageBreak(), *section]

    buffer = _PdfBytes()
    doc = DossierDocTemplate(
        buffer,
        footer_left=f"{case.reference} — {gettext('Personal-data breach dossier')}",
        page_label=lambda x, y: gettext("Page %(x)s of %(y)s") % {"x": x, "y": y},
        counter=counter,
        title=f"{gettext('Personal-data breach dossier')} {case.reference}",
        author=case.organization.name,
        subject=f"{case.reference} — {case.title}",
        creator=settings.PRODUCT_NAME,
        keywords=["RGPD", "GDPR", "art. 33", case.reference],
        lang=LANG_TAGS[ctx.lang],
        pageCompression=1,
    )
    if progress is not None:
        doc.setProgressCallBack(_LayoutProgress(progress))
    finished_pages = PageSpool()
    try:
        doc.multiBuild(story, canvasmaker=canvas_factory(generated_at, finished_pages))
    finally:
        finished_pages.close()
    pdf = buffer.data
    pages = doc.page
    signed = sealing.signing_configured() if sign is None else sign
    if signed:
        pdf = sealing.seal(
            pdf, reason=f"{gettext('Personal-data breach dossier')} {case.reference}", location=case.organization.name
        )
    return RenderedDossier(
        pdf=pdf, pages=pages, data_hash=ctx.data_hash, signed=signed, bundle_covered=ctx.bundle.covered
    )


def build_dossier(
    case: BreachCase, *, lang: str = "fr", generated_at: datetime | None = None, generated_by: str = ""
) -> bytes:
    """The dossier of `case` as PDF bytes (sealed when a certificate is configured)."""
    return render_dossier(case, lang=lang, generated_at=generated_at, generated_by=generated_by).pdf
