"""The one-page information letter to the persons concerned (GDPR Art. 34(2)), ready for mail merge.

Plain French built from the case: what happened, what it may mean for the person, what the
organisation did, what the person can do, and whom to contact (the DPO). The «Champs» in
French quotation marks are mail-merge fields for the printer's address file. The letter is
always one page: each free text is cut to a sentence budget and the whole letter is shrunk
to the page should a very long organisation name or address still overflow it.
"""

from __future__ import annotations

from io import BytesIO

from django.utils import translation
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Frame, KeepInFrame, PageTemplate, Paragraph, Spacer, Table, TableStyle
from reportlab.platypus.doctemplate import BaseDocTemplate

from ..deadlines import PARIS
from ..languages import label
from ..models import BreachCase, DataCategory
from .fonts import BOLD, REGULAR, register_fonts
from .styles import PAGE_HEIGHT, PAGE_WIDTH
from .text import clean, esc

TEXT_BUDGET = 600
MERGE_FIELDS = ("«Civilité» «Prénom» «Nom»", "«Adresse»", "«Code postal» «Ville»")

BODY = ParagraphStyle("LetterBody", fontName=REGULAR, fontSize=9.5, leading=12.5, spaceAfter=5)
HEAD = ParagraphStyle("LetterHead", parent=BODY, fontName=BOLD, spaceBefore=3, spaceAfter=2)
SMALL = ParagraphStyle("LetterSmall", parent=BODY, fontSize=8, leading=10)

CIRCUMSTANCE = {
    "confidentiality": "consultées ou copiées par une personne non autorisée",
    "integrity": "modifiées sans autorisation",
    "availability": "rendues temporairement indisponibles",
}
ORIGIN_SENTENCE = {
    "credential_theft": "une personne malveillante s'est connectée à nos services avec des identifiants volés",
    "hacking": "nos systèmes ont fait l'objet d'une attaque informatique",
    "lost_device": "un équipement ou des documents contenant des données ont été perdus ou volés",
    "wrong_recipient": "des données ont été envoyées par erreur à un mauvais destinataire",
    "accidental_publication": "des données ont été publiées par erreur",
    "improper_disposal": "des documents ou équipements ont été jetés sans précaution suffisante",
}
ADVICE = {
    None: [
        "Méfiez-vous des courriels, SMS ou appels qui se réclameraient de nous ou de votre organisme "
        "d'assurance maladie : ils pourraient utiliser vos données pour paraître crédibles.",
        "Ne communiquez jamais vos mots de passe, codes reçus par SMS ou coordonnées bancaires en réponse "
        "à une sollicitation : nous ne vous les demanderons jamais.",
    ],
    "nir": [
        "Votre numéro de sécurité sociale ne permet pas, à lui seul, d'accéder à vos comptes ; il peut "
        "toutefois servir à rendre une escroquerie plus convaincante : restez vigilant."
    ],
    "credentials": ["Changez sans attendre le mot de passe de votre espace personnel et de tout compte qui l'utilise."],
    "financial": ["Surveillez vos relevés bancaires et signalez à votre banque toute opération inhabituelle."],
    "health": ["Signalez-nous tout message faisant état de vos soins que vous n'auriez pas sollicité."],
    "id_documents": [
        "En cas de doute sur une usurpation d'identité, vous pouvez porter plainte et prévenir votre banque."
    ],
}


def _budget(value: object, limit: int = TEXT_BUDGET) -> str:
    text = " ".join(clean(value).split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return f"{cut} […]"


def _nature(case: BreachCase) -> str:
    when = case.aware_at  # the letter dates the breach from its discovery (awareness), not its start
    origin = ORIGIN_SENTENCE.get(case.origin, "un incident de sécurité a touché des données que nous détenons")
    flags = [
        CIRCUMSTANCE[name]
        for name, on in (
            ("confidentiality", case.breach_confidentiality),
            ("integrity", case.breach_integrity),
            ("availability", case.breach_availability),
        )
        if on
    ] or [CIRCUMSTANCE["confidentiality"]]
    labels = [label(DataCategory, c) for c in case.data_categories or []]
    categories = ", ".join(text[:1].lower() + text[1:] for text in labels)
    sentence = (
        f"Le {when.astimezone(PARIS).strftime('%d/%m/%Y')}, nous avons constaté que {origin}. "
        f"Des données vous concernant ont pu être {' et '.join(flags)}"
    )
    return sentence + (f" : {categories}." if categories else ".")


def _advice(case: BreachCase) -> list[str]:
    tips = list(ADVICE[None])
    for category in case.data_categories or []:
        tips += ADVICE.get(category, [])
    return tips


def _paragraphs(case: BreachCase) -> list:
    org = case.organization
    consequences = _budget(case.likely_consequences) or (
        "Ces données pourraient être utilisées pour tenter de vous tromper (hameçonnage, faux appels) "
        "ou d'usurper votre identité."
    )
    measures = _budget(" ".join(p for p in (case.measures_immediate, case.measures_medium) if p)) or (
        "Nous avons mis fin à l'accès non autorisé et renforcé la sécurité de nos services."
    )
    dpo = [p for p in (org.dpo_name, org.dpo_email, org.dpo_phone) if p]
    dpo_line = ", ".join(clean(p) for p in dpo) or "notre délégué à la protection des données"
    signature = ", ".join(p for p in (org.legal_rep_name, org.legal_rep_title) if p) or org.name
    address = esc(org.address, empty="")
    header = Table(
        [
            [
                Paragraph(f"<b>{esc(org.name)}</b><br/>{address}", BODY),
                Paragraph("<br/>".join(MERGE_FIELDS), BODY),
            ]
        ],
        colWidths=[90 * mm, 70 * mm],
        style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]),
    )
    out = [
        header,
        Spacer(1, 8 * mm),
        Paragraph("Le «Date»", BODY),
        Paragraph(
            f"<b>Objet : information sur une violation de vos données personnelles</b> "
            f"(notre référence {esc(case.reference)})",
            BODY,
        ),
        Spacer(1, 3 * mm),
        Paragraph("«Civilité» «Nom»,", BODY),
        Paragraph(
            "Nous tenons à vous informer directement d'un incident qui concerne vos données personnelles, "
            "comme la loi nous y oblige, et à vous dire ce que vous pouvez faire.",
            BODY,
        ),
        Paragraph("Ce qui s'est passé", HEAD),
        Paragraph(esc(_nature(case)), BODY),
        Paragraph("Les conséquences possibles pour vous", HEAD),
        Paragraph(esc(consequences), BODY),
        Paragraph("Ce que nous avons fait", HEAD),
        Paragraph(esc(measures), BODY),
        Paragraph("Ce que nous vous conseillons", HEAD),
        *[Paragraph(f"• {esc(tip)}", BODY) for tip in _advice(case)],
        Paragraph("Pour toute question", HEAD),
        Paragraph(
            f"Notre délégué à la protection des données (DPO) se tient à votre disposition : {esc(dpo_line)}. "
            "Vous pouvez aussi adresser une réclamation à la CNIL (www.cnil.fr).",
            BODY,
        ),
        Paragraph("Nous vous prions de nous excuser pour cet incident.", BODY),
        Spacer(1, 4 * mm),
        Paragraph(esc(signature), BODY),
        Spacer(1, 4 * mm),
        Paragraph(
            "Information délivrée en application de l'article 34, paragraphe 2, du règlement général sur "
            "la protection des données (RGPD).",
            SMALL,
        ),
    ]
    return out


def build_member_letter(case: BreachCase) -> bytes:
    """The letter as a one-page PDF (reproducible: reportlab's invariant mode), in French whatever the request's
    language: the choice labels it prints are the domain's, read under `translation.override("fr")`."""
    with translation.override("fr"):
        return _build(case)


def _build(case: BreachCase) -> bytes:
    register_fonts()
    case = BreachCase.objects.select_related("organization").get(pk=case.pk)
    buffer = BytesIO()
    margin = 20 * mm
    doc = BaseDocTemplate(
        buffer,
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        invariant=1,
        title=f"Information sur une violation de données — {case.reference}",
        author=case.organization.name,
        subject="Communication aux personnes concernées (art. 34 RGPD)",
        lang="fr-FR",
        pageCompression=1,
    )
    frame = Frame(margin, margin, doc.width, doc.height, id="letter")
    doc.addPageTemplates([PageTemplate(id="letter", frames=[frame])])
    content = KeepInFrame(doc.width, doc.height - 12, _paragraphs(case), mode="shrink")
    doc.build([content])
    return buffer.getvalue()
