"""The documents a drafted filing is produced as, built from its answers (what is reviewed is what is printed).

- The complaint to the public prosecutor: a letter in French, as a PDF (reportlab).
- The Art. 34 letter: a DOCX template for the mailing chain's mail merge (python-docx), whose
  addressee block is made of Word MERGEFIELDs («civilite», «nom»...), plus the list of those
  fields as CSV, and the same letter as plain text (kept as the text of the communication sent).

Both are built from `submission.content` only, and carry no build time, so a sent submission's document
is byte for byte the one downloaded when it was approved and sent.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass

from django.utils import translation

from ..filings.art34 import MERGE_FIELDS
from ..models import Submission


@dataclass(frozen=True)
class Merge:
    """A mail-merge field in a line of the template."""

    name: str


@dataclass(frozen=True)
class Block:
    style: str  # "p", "h" (heading), "bullet", "small"
    parts: tuple  # str (literal text) or Merge


def _a(content: dict, section: str, key: str) -> str:
    value = (content or {}).get(section, {})
    value = value.get(key, "") if isinstance(value, dict) else ""
    return value.strip() if isinstance(value, str) else ""


# --- the Art. 34 letter -----------------------------------------------------------------------------


def art34_blocks(content: dict) -> list[Block]:
    """The letter, block by block, in French: the answers of the submission and the merge fields."""
    a = lambda section, key: _a(content, section, key)  # noqa: E731
    org, reference = a("sender", "organization"), a("sender", "reference")
    blocks = [Block("h", (org,))]
    blocks += [Block("p", (line,)) for line in a("sender", "address").splitlines() if line.strip()]
    blocks += [
        Block("p", (Merge("civilite"), " ", Merge("prenom"), " ", Merge("nom"))),
        Block("p", (Merge("adresse"),)),
        Block("p", (Merge("complement_adresse"),)),
        Block("p", (Merge("code_postal"), " ", Merge("ville"))),
        Block("p", ("Le ", Merge("date_courrier"))),
        Block("p", ("Numéro d'adhérent\u00a0: ", Merge("numero_adherent"))),
        Block(
            "p",
            (
                "Objet\u00a0: information sur une violation de vos données personnelles"
                + (f" (notre référence {reference})" if reference else ""),
            ),
        ),
        Block("p", (Merge("civilite"), " ", Merge("nom"), ",")),
        Block(
            "p",
            (
                "Nous tenons à vous informer directement d'un incident qui concerne vos données personnelles, "
                "comme la loi nous y oblige, et à vous dire ce que vous pouvez faire.",
            ),
        ),
        Block("h", ("Ce qui s'est passé",)),
        Block("p", (f"Le {a('nature', 'discovered_on')}, nous avons découvert l'incident suivant\u00a0: ",)),
        Block("p", (a("nature", "nature"),)),
        Block("p", (f"Les données concernées sont\u00a0: {a('nature', 'data')}.",)),
        Block("h", ("Les conséquences possibles pour vous",)),
        Block("p", (a("consequences", "consequences"),)),
        Block("h", ("Ce que nous avons fait",)),
        Block("p", (a("measures", "taken"),)),
    ]
    if a("measures", "proposed"):
        blocks += [Block("h", ("Ce que nous allons faire",)), Block("p", (a("measures", "proposed"),))]
    blocks.append(Block("h", ("Ce que nous vous conseillons",)))
    blocks += [Block("bullet", (tip.strip(),)) for tip in a("advice", "advice").splitlines() if tip.strip()]
    blocks += [
        Block("h", ("Pour toute question",)),
        Block(
            "p",
            (
                "Notre délégué à la protection des données (DPO) se tient à votre disposition\u00a0: "
                f"{a('contact', 'dpo')}. Vous pouvez aussi adresser une réclamation à la CNIL (www.cnil.fr).",
            ),
        ),
        Block("p", ("Nous vous prions de nous excuser pour cet incident.",)),
        Block("p", (a("sender", "signatory") or org,)),
        Block(
            "small",
            (
                "Information délivrée en application de l'article 34, paragraphe 2, du règlement général sur "
                "la protection des données (RGPD).",
            ),
        ),
    ]
    return blocks


def _plain(parts: tuple) -> str:
    return "".join(f"«{p.name}»" if isinstance(p, Merge) else p for p in parts)


def art34_text(content: dict) -> str:
    """The letter as plain text, merge fields shown as «name»: kept as the text of the communication sent."""
    return "\n".join(("• " if b.style == "bullet" else "") + _plain(b.parts) for b in art34_blocks(content))


def _merge_field(paragraph, name: str) -> None:
    """A Word MERGEFIELD showing «name» until merged (w:fldSimple)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), f" MERGEFIELD {name} \\* MERGEFORMAT ")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = f"«{name}»"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def build_art34_docx(submission: Submission) -> bytes:
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(10.5)
    props = doc.core_properties
    props.title = "Information sur une violation de données personnelles"
    props.subject = "Communication aux personnes concernées (art. 34 RGPD)"
    props.author = _a(submission.content, "sender", "organization")[:255]
    props.language = "fr-FR"
    for block in art34_blocks(submission.content):
        if block.style == "h":
            paragraph = doc.add_paragraph()
            paragraph.add_run(_plain(block.parts)).bold = True
            continue
        paragraph = doc.add_paragraph(style="List Bullet" if block.style == "bullet" else None)
        for part in block.parts:
            if isinstance(part, Merge):
                _merge_field(paragraph, part.name)
            else:
                run = paragraph.add_run(part)
                if block.style == "small":
                    run.font.size = Pt(8)
    buffer = io.BytesIO()
    doc.save(buffer)
    return _without_build_time(buffer.getvalue())


def _without_build_time(package: bytes) -> bytes:
    """The package with every part dated 1980-01-01 (the zip's own epoch) instead of when it was built, so
    the same answers always give the same bytes: the template handed to the mailing chain is the one
    downloaded from the register after it was sent."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w") as target:
        for part in source.infolist():
            fixed = zipfile.ZipInfo(part.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = part.external_attr
            target.writestr(fixed, source.read(part))
    return out.getvalue()


def merge_fields_csv() -> bytes:
    """The merge fields, one a line (name, description, example), for the mailing chain (UTF-8 with BOM)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    with translation.override("fr"):
        writer.writerow(["champ", "description", "exemple"])
        for f in MERGE_FIELDS:
            writer.writerow([f.name, str(f.description), f.example])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# --- the complaint to the public prosecutor --------------------------------------------------------------


def build_complaint_pdf(submission: Submission) -> bytes:
    """The letter to the public prosecutor, in French, from the submission's answers (reportlab)."""
    with translation.override("fr"):
        return _complaint_pdf(submission)


def _complaint_pdf(submission: Submission) -> bytes:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    from .fonts import BOLD, REGULAR, register_fonts
    from .styles import PAGE_HEIGHT, PAGE_WIDTH
    from .text import esc

    register_fonts()
    body = ParagraphStyle("ComplaintBody", fontName=REGULAR, fontSize=10, leading=13.5, spaceAfter=5)
    head = ParagraphStyle("ComplaintHead", parent=body, fontName=BOLD, spaceBefore=6, spaceAfter=3)
    small = ParagraphStyle("ComplaintSmall", parent=body, fontSize=8, leading=10)
    a = lambda section, key: _a(submission.content, section, key)  # noqa: E731

    def lines(text: str) -> str:
        return "<br/>".join(esc(line, empty="") for line in text.splitlines())

    def missing(text: str) -> str:
        return lines(text) if text else "<i>[à compléter]</i>"

    org = a("complainant", "organization")
    out = [
        Paragraph(f"<b>{esc(org, empty='')}</b>", body),
        Paragraph(lines(a("complainant", "address")), body),
        Paragraph(f"SIREN\u00a0: {esc(a('complainant', 'siren'), empty='—')}", body),
        Spacer(1, 6 * mm),
        Paragraph(
            "Monsieur ou Madame le Procureur de la République<br/>près le tribunal judiciaire de "
            f"{missing(a('addressee', 'court'))}",
            body,
        ),
        Spacer(1, 6 * mm),
        Paragraph(
            "<b>Objet\u00a0: plainte contre X pour atteinte à un système de traitement automatisé "
            "de données (articles 323-1 et suivants du code pénal)</b>",
            body,
        ),
        Paragraph("Envoi en lettre recommandée avec demande d'avis de réception", small),
        Spacer(1, 4 * mm),
        Paragraph("Monsieur ou Madame le Procureur de la République,", body),
        Paragraph(
            f"{esc(org, empty='La société soussignée')}, représentée par "
            f"{missing(a('complainant', 'representative'))}, a l'honneur de porter plainte contre X "
            "pour les faits exposés ci-dessous, et de vous en transmettre les éléments de preuve.",
            body,
        ),
        Paragraph("1. Les faits, dans l'ordre chronologique", head),
        Paragraph(missing(a("facts", "chronology")), body),
        Paragraph(missing(a("facts", "description")), body),
        Paragraph(
            f"Origine\u00a0: {missing(a('facts', 'origin'))}. "
            f"Premier signal\u00a0: {missing(a('facts', 'first_signal_at'))}. "
            f"Prise de connaissance\u00a0: {missing(a('facts', 'aware_at'))}."
            + (f" Début des faits\u00a0: {esc(a('facts', 'occurred_from'))}." if a("facts", "occurred_from") else "")
            + (f" Fin des faits\u00a0: {esc(a('facts', 'occurred_to'))}." if a("facts", "occurred_to") else ""),
            body,
        ),
        Paragraph("2. Systèmes atteints", head),
        Paragraph(missing(a("impact", "systems")), body),
        Paragraph("3. Données et personnes concernées", head),
        Paragraph(f"Données\u00a0: {missing(a('impact', 'data'))}", body),
        Paragraph(f"Personnes\u00a0: {missing(a('impact', 'persons'))}", body),
        Paragraph("4. Préjudice subi", head),
        Paragraph(missing(a("prejudice", "losses")), body),
    ]
    if a("prejudice", "consequences"):
        out.append(
            Paragraph(f"Conséquences probables pour les personnes\u00a0: {lines(a('prejudice', 'consequences'))}", body)
        )
    out += [
        Paragraph("5. Auteurs présumés et indicateurs", head),
        Paragraph(lines(a("suspects", "suspects")) or "Aucun auteur identifié à ce jour (plainte contre X).", body),
        Paragraph("6. Pièces jointes (empreinte SHA-256 de chaque fichier)", head),
        Paragraph(missing(a("evidence", "evidence")), body),
        Spacer(1, 4 * mm),
        Paragraph(
            "Nous nous tenons à la disposition des enquêteurs pour tout renseignement\u00a0: "
            f"{missing(a('complainant', 'contact'))}. Nous vous prions de bien vouloir nous délivrer "
            "un récépissé de la présente plainte (article 15-3 du code de procédure pénale).",
            body,
        ),
        Paragraph(
            "Nous vous prions d'agréer, Monsieur ou Madame le Procureur de la République, "
            "l'expression de notre haute considération.",
            body,
        ),
        Spacer(1, 6 * mm),
        Paragraph(missing(a("complainant", "representative")), body),
    ]
    buffer = io.BytesIO()
    margin = 20 * mm
    doc = SimpleDocTemplate(
        buffer,
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        invariant=1,
        title="Plainte auprès du procureur de la République",
        author=org,
        lang="fr-FR",
    )
    doc.build(out)
    return buffer.getvalue()


# The document each kind of submission is produced as: (builder, content type, file extension).
DOCUMENTS = {
    Submission.Kind.COMPLAINT_PROSECUTOR: (build_complaint_pdf, "application/pdf", "pdf"),
    Submission.Kind.ART34_LETTER: (
        build_art34_docx,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
    ),
}
