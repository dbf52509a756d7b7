"""The Art. 33(2) notice a processor sends a controller: a French PDF and the same text, built from the case.

It carries what the controller needs for its own Art. 33(3) notification: the nature of the breach,
the categories and approximate numbers of persons and records, the likely consequences, the measures
taken or proposed, the processor's DPO or contact point, when the processor became aware, the
contract and its notice period, and what is still unknown and will follow (Art. 33(4)).

The text is French whatever the request's language (the choice labels are read under
`translation.override("fr")`), and the PDF is reproducible (reportlab's invariant mode): the bytes
stored on the notice are the bytes sent, identified by their SHA-256.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from django.utils import translation
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from ..deadlines import PARIS
from ..languages import label
from ..models import BreachCase, DataCategory, SubjectCategory
from .fonts import register_fonts
from .styles import BODY, LABEL, PAGE_HEIGHT, PAGE_WIDTH, SMALL, SUBTITLE, VALUE
from .text import clean, esc

TEXT_BUDGET = 2500
CONTENT_MAX = 19_000  # under the received notice's content limit (LONG_TEXT_MAX)
TITLE = "Notification d'une violation de données à caractère personnel (article 33, paragraphe 2, du RGPD)"
UNKNOWN = "Non déterminé à ce stade."


@dataclass(frozen=True)
class NoticeDocument:
    text: str
    pdf: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()


def _when(value: datetime | None) -> str:
    return value.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M") if value else ""


def _budget(value: object) -> str:
    text = clean(value).strip()
    return text if len(text) <= TEXT_BUDGET else text[:TEXT_BUDGET].rsplit(" ", 1)[0] + " […]"


def _approx(value: int | None, unit: str) -> str:
    if value is None:
        return f"Nombre de {unit} : non déterminé à ce stade."
    return f"Nombre approximatif de {unit} : {value:,}".replace(",", "\u202f") + "."


def _sections(case: BreachCase, *, recipient: dict, informed_at: datetime, due_at: datetime | None) -> list:
    """(heading, [lines]) in the notice's order; the PDF and the text are both made of them."""
    org = case.organization
    period = recipient["period_hours"]
    flags = [
        text
        for text, on in (
            ("perte de confidentialité", case.breach_confidentiality),
            ("perte d'intégrité", case.breach_integrity),
            ("perte de disponibilité", case.breach_availability),
        )
        if on
    ]
    window = []
    if case.occurred_from:
        window.append(f"Début de la violation : {_when(case.occurred_from)}.")
    if case.occurred_to:
        window.append(f"Fin de la violation : {_when(case.occurred_to)}.")
    if case.ongoing:
        window.append("La violation est toujours en cours.")
    subjects = ", ".join(label(SubjectCategory, c) for c in case.subject_categories or []) or UNKNOWN
    data = ", ".join(label(DataCategory, c) for c in case.data_categories or []) or UNKNOWN
    measures = [
        f"{name} : {_budget(text)}"
        for name, text in (
            ("Mesures immédiates", case.measures_immediate),
            ("Mesures à moyen terme", case.measures_medium),
            ("Mesures à long terme", case.measures_long),
        )
        if (text or "").strip()
    ] or ["Les mesures sont en cours de définition ; elles vous seront communiquées dès que possible."]
    dpo = ", ".join(clean(p) for p in (org.dpo_name, org.dpo_email, org.dpo_phone) if p)
    legal = ", ".join(clean(p) for p in (org.legal_rep_name, org.legal_rep_title, org.legal_rep_email) if p)
    contact = [f"Délégué à la protection des données : {dpo}."] if dpo else []
    if legal:
        contact.append(f"Représentant : {legal}.")
    unknown = [
        text
        for text, missing in (
            ("le nombre de personnes concernées", case.persons_approx is None),
            ("le nombre d'enregistrements concernés", case.records_approx is None),
            ("les catégories de données", not case.data_categories),
            ("les catégories de personnes", not case.subject_categories),
            ("l'origine de la violation", case.origin == BreachCase.Origin.UNKNOWN),
            ("sa cause", case.cause == BreachCase.Cause.UNKNOWN),
            ("ses conséquences probables", not (case.likely_consequences or "").strip()),
            ("la fin de la violation, toujours en cours", case.ongoing),
        )
        if missing
    ]
    recipients = [
        ", ".join(clean(c.get(k, "")) for k in ("name", "role", "email") if c.get(k)) for c in recipient["contacts"]
    ] or ["Les contacts désignés par le contrat."]
    return [
        (
            "Expéditeur (sous-traitant)",
            [f"{clean(org.name)}" + (f" (SIREN {org.siren})" if org.siren else ""), clean(org.address)],
        ),
        (
            "Destinataire (responsable du traitement)",
            [recipient["name"] + (f" (SIREN {recipient['siren']})" if recipient["siren"] else ""), *recipients],
        ),
        (
            "Envoi",
            [
                f"Date d'envoi : {_when(informed_at)}."
                + (f" Moyen : {recipient['channel']}." if recipient["channel"] else ""),
                f"Référence du dossier : {case.reference}.",
                f"Contrat : {recipient['contract'] or 'référence non renseignée'} ; délai de notification "
                + (f"contractuel : {period} heures" if period else ": dans les meilleurs délais")
                + (f", échéance le {_when(due_at)}." if due_at else "."),
            ],
        ),
        (
            "Prise de connaissance de la violation par le sous-traitant",
            [
                f"Nous avons pris connaissance de la violation le {_when(case.aware_at)}."
                + (f" Premier signalement le {_when(case.first_signal_at)}." if case.first_signal_at else "")
            ],
        ),
        (
            "Nature de la violation",
            [
                f"{label(BreachCase.Nature, case.nature)} ; "
                + (", ".join(flags) if flags else "type d'atteinte non déterminé à ce stade")
                + ".",
                f"Origine : {label(BreachCase.Origin, case.origin)}. Cause : {label(BreachCase.Cause, case.cause)}.",
                *window,
                _budget(case.title),
                _budget(case.description),
            ],
        ),
        (
            "Personnes et données concernées",
            [
                f"Catégories de personnes : {subjects}",
                _approx(case.persons_approx, "personnes concernées"),
                f"Catégories de données : {data}",
                _approx(case.records_approx, "enregistrements concernés"),
            ],
        ),
        ("Conséquences probables", [_budget(case.likely_consequences) or "En cours d'évaluation."]),
        ("Mesures prises ou proposées", measures),
        ("Point de contact", contact or [f"{clean(org.name)} (aucun délégué désigné dans le registre)."]),
        (
            "Ce qui reste à déterminer et suivra",
            [
                ("Restent à déterminer : " + ", ".join(unknown) + ".")
                if unknown
                else "Aucune information essentielle ne manque à ce stade."
            ]
            + [
                "Les informations complémentaires vous seront communiquées par étapes, "
                "dès qu'elles seront disponibles (article 33, paragraphe 4, du RGPD)."
            ],
        ),
    ]


FOOTER = (
    "Ces informations vous sont transmises pour vous permettre de notifier, le cas échéant, la violation "
    "à l'autorité de contrôle compétente (article 33, paragraphe 3, du RGPD) ; votre propre délai court "
    "à compter du moment où vous en avez connaissance."
)


def build_notice(
    case: BreachCase, *, recipient: dict, informed_at: datetime, due_at: datetime | None
) -> NoticeDocument:
    """The notice to one controller. `recipient`: name, siren, contacts, contract, period_hours, channel."""
    with translation.override("fr"):
        sections = _sections(case, recipient=recipient, informed_at=informed_at, due_at=due_at)
        lines = [TITLE, ""]
        for heading, body in sections:
            lines += [heading.upper(), *[line for line in body if line], ""]
        lines.append(FOOTER)
        text = "\n".join(lines)[:CONTENT_MAX]
        return NoticeDocument(text=text, pdf=_pdf(case, sections))


def _pdf(case: BreachCase, sections: list) -> bytes:
    register_fonts()
    buffer = BytesIO()
    margin = 18 * mm
    doc = SimpleDocTemplate(
        buffer,
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        invariant=1,
        title=f"Notification art. 33(2) — {case.reference}",
        author=case.organization.name,
        subject="Notification au responsable du traitement (art. 33(2) RGPD)",
        lang="fr-FR",
        pageCompression=1,
    )
    story: list = [Paragraph(esc(TITLE), SUBTITLE)]
    for heading, body in sections:
        story.append(Paragraph(esc(heading), LABEL))
        story += [Paragraph(esc(line), VALUE) for line in body if line]
    story += [Spacer(1, 4 * mm), Paragraph(esc(FOOTER), SMALL), Paragraph(esc(case.reference), BODY)]
    doc.build(story)
    return buffer.getvalue()
