"""The Art. 34 letter to the persons concerned, as data, produced for mail merge.

The register stores no identities: the letter is a template whose addressee is a set of merge
fields («civilite», «nom»...) that the insurer's usual mailing chain fills from its own files.
Its questions are the content Art. 34(2) requires, in clear and plain language: the nature of
the breach, the name and contact details of the DPO or another contact point (Art. 33(3)(b)),
the likely consequences (33(3)(c)), the measures taken or proposed (33(3)(d)) and what the persons
can do to protect themselves (EDPB guidelines 9/2022 and WP250: the communication "should"
give specific advice). Every one of them is required: a letter lacking any is refused at
approval and at sending with the list of what is missing. The letter dates the breach from its
discovery (the awareness time), never from its start, which the persons cannot act upon.

The letter is written in French (the persons' language) whatever the language of the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from ..deadlines import PARIS
from ..languages import label
from ..models import BreachCase, DataCategory
from .base import FilingForm, FormField, FormSection

KIND = "art34_letter"


@dataclass(frozen=True)
class MergeField:
    name: str  # the field name in the mailing chain's file, as in the template: «name»
    description: object  # a lazy translation
    example: str


# The identities the mailing chain merges into each letter (the register holds none of them).
MERGE_FIELDS: tuple[MergeField, ...] = (
    MergeField("civilite", _("Title (Madame, Monsieur)"), "Madame"),
    MergeField("prenom", _("First name"), "Camille"),
    MergeField("nom", _("Last name"), "Martin"),
    MergeField("adresse", _("Address (number and street)"), "12 rue des Lilas"),
    MergeField("complement_adresse", _("Address, second line (may be empty)"), "Bâtiment B"),
    MergeField("code_postal", _("Postcode"), "75011"),
    MergeField("ville", _("Town"), "Paris"),
    MergeField("numero_adherent", _("Member number"), "A-0012345"),
    MergeField("date_courrier", _("Date of the letter"), "15/02/2024"),
)
MERGE_FIELD_NAMES = tuple(f.name for f in MERGE_FIELDS)

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


@dataclass(frozen=True)
class Sources:
    kind: str
    case: BreachCase


def sources_for(case: BreachCase, kind: str) -> Sources:
    """One query whatever the case: the case with its organisation."""
    return Sources(kind, BreachCase.objects.select_related("organization").get(pk=case.pk))


def _french(read: Callable[[Sources], str]) -> Callable[[Sources], str]:
    def in_french(s: Sources) -> str:
        with translation.override("fr"):
            return read(s)

    return in_french


def _join(*parts: str, sep: str = ", ") -> str:
    return sep.join(p.strip() for p in parts if p and p.strip())


def _discovered_on(s: Sources) -> str:
    return s.case.aware_at.astimezone(PARIS).strftime("%d/%m/%Y")


def _nature(s: Sources) -> str:
    c = s.case
    origin = ORIGIN_SENTENCE.get(c.origin, "un incident de sécurité a touché des données que nous détenons")
    flags = [
        CIRCUMSTANCE[name]
        for name, on in (
            ("confidentiality", c.breach_confidentiality),
            ("integrity", c.breach_integrity),
            ("availability", c.breach_availability),
        )
        if on
    ]
    if not flags:
        return origin[:1].upper() + origin[1:] + "."
    return f"{origin[:1].upper()}{origin[1:]}. Des données vous concernant ont pu être {' et '.join(flags)}."


def _data(s: Sources) -> str:
    labels = [label(DataCategory, c) for c in s.case.data_categories or []]
    return ", ".join(text[:1].lower() + text[1:] for text in labels)


def _dpo(s: Sources) -> str:
    org = s.case.organization
    return _join(org.dpo_name, org.dpo_email, org.dpo_phone)


ADVICE = {
    None: [
        "Méfiez-vous des courriels, SMS ou appels qui se réclameraient de nous ou de votre organisme "
        "d'assurance maladie\u00a0: ils pourraient utiliser vos données pour paraître crédibles.",
        "Ne communiquez jamais vos mots de passe, codes reçus par SMS ou coordonnées bancaires en réponse "
        "à une sollicitation\u00a0: nous ne vous les demanderons jamais.",
    ],
    "nir": [
        "Votre numéro de sécurité sociale ne permet pas, à lui seul, d'accéder à vos comptes\u00a0; il peut "
        "toutefois servir à rendre une escroquerie plus convaincante\u00a0: restez vigilant."
    ],
    "credentials": ["Changez sans attendre le mot de passe de votre espace personnel et de tout compte qui l'utilise."],
    "financial": ["Surveillez vos relevés bancaires et signalez à votre banque toute opération inhabituelle."],
    "health": ["Signalez-nous tout message faisant état de vos soins que vous n'auriez pas sollicité."],
    "id_documents": [
        "En cas de doute sur une usurpation d'identité, vous pouvez porter plainte et prévenir votre banque."
    ],
}


def _advice(s: Sources) -> str:
    tips = list(ADVICE[None])
    for category in s.case.data_categories or []:
        tips += ADVICE.get(category, [])
    return "\n".join(tips)


def _f(key, label_, source, *, required=True, multiline=False) -> FormField:
    return FormField(
        key=key,
        label=label_,
        source=_french(source) if source else None,
        edpb="communication",
        required=required,
        multiline=multiline,
    )


SECTIONS = (
    FormSection(
        "sender",
        _("Sender"),
        (
            _f("organization", _("Organisation"), lambda s: s.case.organization.name),
            _f("address", _("Address"), lambda s: s.case.organization.address, required=False, multiline=True),
            _f(
                "signatory",
                _("Signed by"),
                lambda s: _join(s.case.organization.legal_rep_name, s.case.organization.legal_rep_title),
                required=False,
            ),
            _f("reference", _("Our reference"), lambda s: s.case.reference, required=False),
        ),
    ),
    FormSection(
        "nature",
        _("Nature of the breach, in clear language (Art. 34(2))"),
        (
            _f("discovered_on", _("Discovered on (awareness, not the start)"), _discovered_on),
            _f("nature", _("What happened"), _nature, multiline=True),
            _f("data", _("Data concerned"), _data),
        ),
    ),
    FormSection(
        "contact",
        _("Contact point (Art. 33(3)(b))"),
        (_f("dpo", _("Data protection officer or other contact point"), _dpo),),
    ),
    FormSection(
        "consequences",
        _("Likely consequences (Art. 33(3)(c))"),
        (
            _f(
                "consequences",
                _("Likely consequences for the person"),
                lambda s: s.case.likely_consequences,
                multiline=True,
            ),
        ),
    ),
    FormSection(
        "measures",
        _("Measures taken or proposed (Art. 33(3)(d))"),
        (
            _f("taken", _("Measures taken"), lambda s: s.case.measures_immediate, multiline=True),
            _f(
                "proposed",
                _("Measures proposed"),
                lambda s: _join(s.case.measures_medium, s.case.measures_long, sep="\n"),
                required=False,
                multiline=True,
            ),
        ),
    ),
    FormSection(
        "advice",
        _("What the persons should do"),
        (_f("advice", _("Recommendations to the persons (one per line)"), _advice, multiline=True),),
    ),
)

ART34_LETTER = FilingForm(
    KIND,
    "GDPR_34",
    _("Art. 34 letter to the persons (mail merge)"),
    SECTIONS,
    sources_for,
    filing_kind="members",
    blocks_when_missing=True,
)
