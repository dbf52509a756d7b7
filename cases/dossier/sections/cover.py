"""The cover page: the case, the organisation, who generated the dossier and when, and its fingerprints."""

from __future__ import annotations

from reportlab.platypus import Flowable

from ..context import Context
from ..styles import SMALL, SUBTITLE, TITLE, kv_table, para, spacer


def build(ctx: Context) -> list[Flowable]:
    case, org, t = ctx.case, ctx.case.organization, ctx.t
    dpo = "\n".join(p for p in (org.dpo_name, org.dpo_email, org.dpo_phone) if p)
    return [
        para(t("dossier"), TITLE),
        para(f"{case.reference} — {case.title}", SUBTITLE),
        *kv_table(
            [
                (t("reference"), case.reference),
                (t("case_title"), case.title),
                (t("case_status"), ctx.choice("status", case.status)),
                (t("organisation"), org.name),
                (t("siren"), org.siren),
                (t("dpo"), dpo),
                (t("generated_at"), ctx.dt(ctx.generated_at, seconds=True)),
                (t("generated_by"), ctx.generated_by),
                (t("data_hash"), ctx.data_hash),
                (t("chain_head"), t("chain_head_value", n=ctx.chain_length, hash=ctx.chain_head)),
            ],
            label_share=0.32,
        ),
        spacer(8),
        para(t("data_hash_note"), SMALL),
        para(t("sealed_note"), SMALL),
    ]
