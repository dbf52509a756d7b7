"""Section 8: the evidence index: each stored proof with its SHA-256."""

from __future__ import annotations

from reportlab.platypus import Flowable

from ..context import Context
from ..document import Heading
from ..grid import Column, grids
from ..styles import FRAME_WIDTH, para

KEY = "s8"


def build(ctx: Context) -> list[Flowable]:
    t = ctx.t
    w = FRAME_WIDTH
    columns = [
        Column(t("file_name"), w * 0.20),
        Column(t("file_type"), w * 0.11),
        Column(t("size"), w * 0.08),
        Column(t("uploader"), w * 0.09),
        Column(t("uploaded_at"), w * 0.11),
        Column(t("sha256"), w * 0.23),
        Column(t("description"), w * 0.18 - 0.5),
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
    out: list[Flowable] = [Heading(t("s8"), KEY)]
    if not rows:
        return [*out, para(t("none"))]
    return [*out, *grids(columns, rows)]
