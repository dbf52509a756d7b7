"""Section 8: the evidence index: each stored proof with its SHA-256."""

from __future__ import annotations

from django.utils.translation import gettext
from reportlab.platypus import Flowable

from ..context import Context
from ..document import Heading
from ..grid import Column, grids
from ..styles import FRAME_WIDTH, para

KEY = "s8"


def build(ctx: Context) -> list[Flowable]:
    w = FRAME_WIDTH
    columns = [
        Column(gettext("File"), w * 0.20),
        Column(gettext("Type"), w * 0.11),
        Column(gettext("Size (bytes)"), w * 0.08),
        Column(gettext("Uploaded by"), w * 0.09),
        Column(gettext("Uploaded at"), w * 0.11),
        Column(gettext("SHA-256"), w * 0.23),
        Column(gettext("Description"), w * 0.18 - 0.5),
    ]
    rows = [
        (
            e.original_name,
            e.content_type,
            ctx.number(e.size),
            ctx.data.username(e.uploaded_by_id),
            ctx.dt(e.uploaded_at),
            e.sha256,
            e.description,
        )
        for e in ctx.data.evidence
    ]
    out: list[Flowable] = [Heading(gettext("8. Evidence index"), KEY)]
    if not rows:
        return [*out, para(gettext("None."))]
    return [*out, *grids(columns, rows)]
