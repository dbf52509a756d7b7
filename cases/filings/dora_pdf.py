"""A readable PDF of a DORA report: each ITS field, numbered as in the annex, with its answer, in the
language of the page (French or English); coded answers in the ESAs' own words; the review and, once
sent, when, to whom and the SHA-256 of the content sent."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .. import dora_schema as ds
from ..deadlines import PARIS
from ..dossier.fonts import BOLD, REGULAR, register_fonts
from ..models import Submission
from . import FORMS
from .dora import BY_KEY, text_of

_STYLE = ParagraphStyle("dora", fontName=REGULAR, fontSize=8.5, leading=11)
_LABEL = ParagraphStyle("dora-label", parent=_STYLE, fontName=BOLD)
_TITLE = ParagraphStyle("dora-title", parent=_STYLE, fontName=BOLD, fontSize=14, leading=18, spaceAfter=4)
_HEADING = ParagraphStyle("dora-heading", parent=_STYLE, fontName=BOLD, fontSize=11, leading=14, spaceBefore=8)


def _p(text: str, style=_STYLE) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _readable(key: str, text: str) -> str:
    if BY_KEY[key].type in {"code", "codes"}:
        return "\n".join(ds.readable(part.strip()) for part in text.split(",") if part.strip())
    return text


def _when(value) -> str:
    return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M") if value else ""


def render(sub: Submission) -> bytes:
    """The report as a PDF (A4), from the submission as it stands (as sent, once sent: then without the
    time it was printed, so that the same sent report always gives the same bytes in a language)."""
    register_fonts()
    form = FORMS[sub.kind]
    case = sub.case
    story: list = [
        _p(str(form.title), _TITLE),
        _p(f"{case.organization.name} · {case.reference} · {case.title}"),
        _p(
            _(
                "Commission Implementing Regulation (EU) 2025/302, annex II; fields numbered as there. "
                "Times in Paris time or as written (ISO 8601)."
            )
        ),
        Spacer(1, 3 * mm),
    ]
    review = [
        (_("State"), sub.get_state_display()),
        (_("Drafted by"), f"{sub.author.get_username()}, {_when(sub.created_at)}"),
    ]
    if sub.approved_by_id:
        review.append(
            (_("Approved by"), f"{sub.approved_by.get_username()}, {_when(sub.approved_at)} {sub.approval_comment}")
        )
    if sub.is_sent:
        review += [
            (_("Sent at"), _when(sub.sent_at)),
            (_("Recipient"), " · ".join(p for p in (sub.recipient, sub.channel) if p)),
            (_("Reference given by the authority"), sub.authority_reference),
            (_("SHA-256 of the content sent"), sub.content_sha256),
        ]
    story.append(_table([(label, value) for label, value in review]))
    for section in form.sections:
        fields = form.fields_of(section)
        if not fields:
            continue
        story.append(_p(str(section.title), _HEADING))
        rows = []
        for f in fields:
            text = text_of(sub.content, f.key)
            shown = _readable(f.key, text) if text else ("— " + _("Missing") if f.required else "—")
            rows.append((str(f.label), shown))
        story.append(_table(rows))
    if not sub.is_sent:  # a sent report is a record: the same file whenever it is downloaded
        story.append(Spacer(1, 4 * mm))
        story.append(_p(_("Printed on %(when)s (Paris time).") % {"when": _when(timezone.now())}))
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"{form.title} — {case.reference}",
        author=case.organization.name,
        invariant=True,
    )
    doc.build(story)
    return out.getvalue()


def _table(rows: list[tuple[str, str]]) -> Table:
    table = Table([[_p(label, _LABEL), _p(value)] for label, value in rows], colWidths=[70 * mm, 110 * mm])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
            ]
        )
    )
    return table
