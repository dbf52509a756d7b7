"""The demo data set: the February 2024 Viamedis / Almerys tiers-payant breach.

Built from the press articles in `reference/seeds/` (dates, facts, data categories, the
CNIL communiqué of 7 February, the reopening of 12 February, the insurers' letters to
their members). Names the articles give are used as they are (Viamedis, Almerys, the
insurers they name); every other organisation, person, SIREN, address, e-mail and
reference number is fictional, and e-mail addresses use the reserved `.example` domain.

The data are plain structures; `seed()` builds them through `cases.services` only (so
every row has its chained history) and is idempotent: organisations are found by code,
users by username, memberships by (user, organisation), and the case scenarios by the
title of their lead case. Call it inside `transaction.atomic()`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from accounts import mfa

from . import deadlines, services
from .models import (
    BreachCase,
    ControllerNotice,
    Filing,
    MemberCommunication,
    Membership,
    Obligation,
    Organization,
    ProcessingRelationship,
)
from .models import DataCategory as D
from .models import SubjectCategory as S

PARIS = deadlines.PARIS
ADMIN_URL = "http://127.0.0.1:8000/admin/"
APP_URL = "http://127.0.0.1:8000/"
ORG_REASON = "Données de démonstration (seed_demo)."


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware instant from a Europe/Paris wall-clock time."""
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


# --- organisations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgSpec:
    code: str
    name: str
    siren: str
    kind: str = Organization.Kind.CONTROLLER
    dpo_name: str = ""
    dpo_email: str = ""
    dpo_phone: str = ""
    legal_rep_name: str = ""
    legal_rep_title: str = ""
    legal_rep_email: str = ""
    address: str = ""
    flags: dict = field(default_factory=dict)


VIAMEDIS = OrgSpec(
    code="viamedis",
    name="Viamedis",
    siren="999100001",
    kind=Organization.Kind.BOTH,
    dpo_name="Claire Fontanel (DPO, fictif)",
    dpo_email="dpo@viamedis.example",
    dpo_phone="+33 1 00 00 10 01",
    legal_rep_name="Marc Delorme (fictif)",
    legal_rep_title="Directeur général",
    legal_rep_email="direction@viamedis.example",
    address="Adresse de démonstration, 75000 Paris",
    # Cyber-insured (72 h complaint, L12-10-1) and declared an operator of essential services for the demo:
    # in February 2024 NIS2 was not in force (and France has not transposed it), NIS1 applied.
    flags={"has_cyber_insurance": True, "is_ose": True, "undue_delay_target_hours": 24},
)
ALMERYS = OrgSpec(
    code="almerys",
    name="Almerys",
    siren="999100002",
    kind=Organization.Kind.BOTH,
    dpo_name="Julien Martel (DPO, fictif)",
    dpo_email="dpo@almerys.example",
    dpo_phone="+33 4 00 00 10 02",
    legal_rep_name="Laurent Caredda",
    legal_rep_title="Directeur général",
    legal_rep_email="direction@almerys.example",
    address="Adresse de démonstration, 63000 Clermont-Ferrand",
    # Declared an operator of essential services for the demo: the NIS1 declaration to ANSSI applies.
    flags={"is_ose": True, "undue_delay_target_hours": 24},
)
CRC = OrgSpec(
    code="crc",
    name="Groupe CRC (La Réunion)",
    siren="999200001",
    dpo_name="Service DPO du Groupe CRC (fictif)",
    dpo_email="dpo@groupe-crc.example",
    dpo_phone="+262 2 62 00 01 00",
    legal_rep_name="Pascal Bertrand",
    legal_rep_title="Directeur général délégué",
    legal_rep_email="direction@groupe-crc.example",
    address="2 bis ruelle Pavée, BP 31071, 97482 Saint-Denis Cedex",
    # A mutual insurer: cyber-insured, and a DORA financial entity since 17 January 2025.
    flags={"has_cyber_insurance": True, "is_dora_entity": True, "undue_delay_target_hours": 24},
)
LMG = OrgSpec(
    code="lmg",
    name="La Mutuelle Générale",
    siren="999200002",
    dpo_name="Sophie Garnier (DPO, fictif)",
    dpo_email="dpo@mutuelle-generale.example",
    dpo_phone="+33 1 00 00 20 02",
    legal_rep_name="Direction générale (fictif)",
    legal_rep_title="Directeur général",
    address="Adresse de démonstration, 75013 Paris",
    flags={"is_dora_entity": True},
)
VYV = OrgSpec(code="vyv", name="Groupe VYV", siren="999200003", dpo_email="dpo@groupe-vyv.example")
MALAKOFF = OrgSpec(code="malakoff", name="Malakoff Humanis", siren="999200004", dpo_email="dpo@malakoffhumanis.example")
AG2R = OrgSpec(code="ag2r", name="AG2R La Mondiale", siren="999200005", dpo_email="dpo@ag2r.example")
AESIO = OrgSpec(code="aesio", name="Aésio", siren="999200006", dpo_email="dpo@aesio.example")
MACIF = OrgSpec(code="macif", name="Macif", siren="999200007", dpo_email="dpo@macif.example")
INTERIALE = OrgSpec(code="interiale", name="Intériale", siren="999200008", dpo_email="dpo@interiale.example")

# Plausible but invented mutuals (the articles name only the large groups).
_FICTIONAL_VIAMEDIS_CLIENTS = [
    ("mvorb", "Mutuelle du Val d'Orbière"),
    ("msdr", "Mutuelle Santé des Deux-Rives"),
    ("pmkerl", "Prévoyance Mutualiste de Kerlaouen"),
    ("matsorb", "Mutuelle des Agents Territoriaux de Sorbiac"),
    ("umaver", "Union Mutualiste Alpes-Verdaine"),
    ("mimontr", "Mutuelle Interprofessionnelle de Montrevel-sur-Aube"),
    ("cmbranc", "Caisse Mutuelle du Pays de Brancourt"),
    ("mhas", "Mutuelle Horizon Atlantique Santé"),
    ("mcvr", "Mutuelle des Cheminots de Val-Roussel"),
    ("smcast", "Solidarité Mutualiste de Castelmaure"),
    ("mpaygul", "Mutuelle Provençale de Saint-Aygulf-les-Pins"),
    ("meha", "Mutuelle des Enseignants de la Haute-Ardière"),
    ("psrsl", "Prévoyance Santé Rhône-Saône-Lignon"),
    ("mmbv", "Mutuelle des Métiers du Bâtiment de Vaudrecourt"),
    ("msan", "Mutuelle Santé Adour-Nivelle"),
    ("msems", "Mutuelle Solidaire de l'Est Mosellan"),
    ("macs", "Mutuelle Auvergne-Combrailles Santé"),
    ("umpt", "Union Mutuelle Picardie-Ternois"),
    ("mplbl", "Mutuelle des Professions Libérales de Bellegarde-en-Loire"),
    ("msccb", "Mutuelle Santé Cap Corse-Balagne"),
    ("mtulv", "Mutuelle des Transports Urbains de Lunéville-Vezouze"),
    ("mabd", "Mutuelle Agricole de Beauce-Dunois"),
    ("cphpb", "Caisse de Prévoyance des Hospitaliers de Ploërmel"),
    ("mjss", "Mutuelle Jura-Saugeais Santé"),
    ("msca", "Mutuelle Santé Caraïbes-Amazonie"),
    ("medf", "Mutuelle des Employés de la Distribution Francilienne"),
    ("mcvp", "Mutuelle Champagne-Vallage Prévoyance"),
    ("msbs", "Mutuelle Savoie-Beaufortain Santé"),
    ("mlmil", "Mutuelle Limousin-Millevaches"),
    ("mmpi", "Mutuelle des Marins et Portuaires de l'Iroise"),
    ("amas", "Assurance Mutualiste d'Alsace-Sundgau"),
    ("mvmp", "Mutuelle Vendée-Marais Poitevin"),
]
_FICTIONAL_ALMERYS_CLIENTS = [
    ("mgerv", "Mutuelle Générale de l'Ervy"),
    ("mfcs", "Mutuelle de la Fonction Communale de Sarlande"),
    ("msvv", "Mutuelle Santé Vallée de la Vézère"),
    ("upmb", "Union Prévoyance Mont-Beuvray"),
    ("mipm", "Mutuelle Interprofessionnelle du Pays Minier"),
    ("mslan", "Mutuelle Solidaire des Landes de Gascogne"),
    ("maqp", "Mutuelle Aquitaine-Pyrénées Prévoyance"),
    ("mcbl", "Mutuelle des Cadres de Bretagne-Loire"),
    ("msrhl", "Mutuelle Santé Rhin-Lauter"),
    ("mpvg", "Mutuelle Populaire du Val de Garonne"),
]


def _fictional(code: str, name: str, n: int) -> OrgSpec:
    return OrgSpec(code=code, name=name, siren=f"999{300000 + n:06d}", dpo_email=f"dpo@{code}.example")


FICTIONAL_VIAMEDIS = [_fictional(c, n, i) for i, (c, n) in enumerate(_FICTIONAL_VIAMEDIS_CLIENTS, 1)]
FICTIONAL_ALMERYS = [_fictional(c, n, 100 + i) for i, (c, n) in enumerate(_FICTIONAL_ALMERYS_CLIENTS, 1)]

ORGANIZATIONS: list[OrgSpec] = [
    VIAMEDIS,
    ALMERYS,
    CRC,
    LMG,
    VYV,
    MALAKOFF,
    AG2R,
    AESIO,
    MACIF,
    INTERIALE,
    *FICTIONAL_VIAMEDIS,
    *FICTIONAL_ALMERYS,
]
ORG_CODES = [spec.code for spec in ORGANIZATIONS]


# --- users ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserSpec:
    username: str
    password: str
    first_name: str
    last_name: str
    memberships: tuple[tuple[str, str], ...]  # (organisation code, role)
    superuser: bool = False

    @property
    def email(self) -> str:
        return f"{self.username}@demo.example"


R = Membership.Role
USERS: list[UserSpec] = [
    UserSpec("admin", "Demo-Admin-2024!", "Admin", "Démo", (("viamedis", R.ADMIN),), superuser=True),
    UserSpec("viamedis.dpo", "Viamedis-DPO-2024", "Claire", "Fontanel", (("viamedis", R.DPO),)),
    UserSpec("viamedis.juriste", "Viamedis-Legal-2024", "Hugo", "Besson", (("viamedis", R.LEGAL),)),
    UserSpec("viamedis.admin", "Viamedis-Admin-2024", "Nadia", "Roche", (("viamedis", R.ADMIN),)),
    UserSpec("almerys.dpo", "Almerys-DPO-2024", "Julien", "Martel", (("almerys", R.DPO),)),
    UserSpec("almerys.admin", "Almerys-Admin-2024", "Louise", "Perrin", (("almerys", R.ADMIN),)),
    UserSpec("crc.dpo", "CRC-Reunion-DPO-2024", "Maëlle", "Payet", (("crc", R.DPO),)),
    UserSpec("crc.juriste", "CRC-Reunion-Legal-2024", "Thierry", "Hoarau", (("crc", R.LEGAL),)),
    UserSpec("crc.admin", "CRC-Reunion-Admin-2024", "Sandrine", "Grondin", (("crc", R.ADMIN),)),
    UserSpec("lmg.dpo", "LMG-DPO-Demo-2024", "Sophie", "Garnier", (("lmg", R.DPO),)),
    UserSpec("lmg.juriste", "LMG-Legal-Demo-2024", "Antoine", "Lefort", (("lmg", R.LEGAL),)),
    UserSpec("lmg.admin", "LMG-Admin-Demo-2024", "Paul", "Vasseur", (("lmg", R.ADMIN),)),
    UserSpec("vyv.dpo", "VYV-DPO-Demo-2024", "Camille", "Marchand", (("vyv", R.DPO),)),
    UserSpec("vyv.admin", "VYV-Admin-Demo-2024", "Yann", "Le Goff", (("vyv", R.ADMIN),)),
    UserSpec(
        "auditeur",
        "Auditeur-Demo-2024",
        "Inès",
        "Carpentier",
        (("viamedis", R.AUDITOR), ("almerys", R.AUDITOR), ("crc", R.AUDITOR), ("lmg", R.AUDITOR)),
    ),
]


# --- processors' client lists (Art. 33(2)) ---------------------------------------------------

# Clients on the platform whose administrator accepted the operator's invitation: the operator's notice
# lands in their inbox. Every other client is an external relationship (name, SIREN, contact e-mail):
# nothing is written outside the operator's register for them.
ON_PLATFORM_CLIENTS = {"crc": "crc.admin", "lmg": "lmg.admin", "vyv": "vyv.admin"}
PROCESSOR_ADMINS = {"viamedis": "viamedis.admin", "almerys": "almerys.admin"}


@dataclass(frozen=True)
class ClientSpec:
    code: str
    notice_hours: int | None  # contractual notice period; None = without undue delay (internal target)
    informed_at: datetime | None  # None: not informed yet
    channel: str = "E-mail au DPO + appel de la cellule de crise"
    late_reason: str = ""


_V_AWARE = paris(2024, 2, 1, 10, 30)
_A_AWARE = paris(2024, 2, 4, 18, 0)
_PERIODS = (None, 24, 48)

_V_LATE = {
    "mcvr": (
        paris(2024, 2, 5, 11, 0),
        "L'adresse du DPO figurant au contrat n'était plus valide (retour en erreur du 1er février) ; "
        "le contact a été retrouvé le 5 février et l'organisme informé par lettre recommandée doublée d'un e-mail.",
    ),
    "mtulv": (
        paris(2024, 2, 5, 15, 30),
        "Organisme absent de la liste de diffusion de crise (contrat signé en janvier 2024, fiche contact "
        "non encore créée) ; omission détectée lors du rapprochement contrats / liste le 5 février.",
    ),
    "mmpi": (
        paris(2024, 2, 6, 9, 0),
        "Le DPO mutualisé de l'organisme était injoignable (fermeture annuelle) ; information transmise au "
        "directeur général le 6 février après deux relances téléphoniques.",
    ),
}
_V_NOT_INFORMED = {"msca", "mabd", "amas"}

VIAMEDIS_CLIENTS: list[ClientSpec] = [
    ClientSpec("vyv", 24, paris(2024, 2, 1, 11, 15)),
    ClientSpec("malakoff", 24, paris(2024, 2, 1, 11, 20)),
    ClientSpec("crc", 24, paris(2024, 2, 1, 16, 0), channel="E-mail au DPO (dpo@groupe-crc.example)"),
    ClientSpec(
        "lmg",
        None,
        paris(2024, 2, 2, 14, 0),
        channel="Lettre du directeur général + e-mail au DPO",
        late_reason=(
            "Ancien client (contrat de tiers payant terminé le 31 décembre 2023) absent de la liste de diffusion "
            "de crise ; identifié le 2 février lors de la revue des données d'anciens clients encore hébergées."
        ),
    ),
]
for _i, _spec in enumerate(FICTIONAL_VIAMEDIS):
    if _spec.code in _V_NOT_INFORMED:
        VIAMEDIS_CLIENTS.append(ClientSpec(_spec.code, _PERIODS[_i % 3], None))
    elif _spec.code in _V_LATE:
        _at, _why = _V_LATE[_spec.code]
        VIAMEDIS_CLIENTS.append(ClientSpec(_spec.code, 24, _at, late_reason=_why))
    else:
        # Sent in batches of ten (one action each, `services.controllers_inform_many`), never later than one by one.
        VIAMEDIS_CLIENTS.append(
            ClientSpec(_spec.code, _PERIODS[_i % 3], paris(2024, 2, 1, 12, 0) + timedelta(minutes=10 * (_i - _i % 10)))
        )

ALMERYS_CLIENTS: list[ClientSpec] = [
    ClientSpec("ag2r", 24, paris(2024, 2, 5, 8, 30)),
    ClientSpec("aesio", 24, paris(2024, 2, 5, 8, 40)),
    ClientSpec("lmg", 48, paris(2024, 2, 5, 9, 0), channel="E-mail au DPO + visioconférence de crise"),
    ClientSpec("macif", 48, paris(2024, 2, 5, 9, 10)),
    ClientSpec("interiale", None, paris(2024, 2, 5, 9, 20)),
]
for _i, _spec in enumerate(FICTIONAL_ALMERYS):
    if _spec.code == "mpvg":
        ALMERYS_CLIENTS.append(
            ClientSpec(
                _spec.code,
                24,
                paris(2024, 2, 6, 10, 0),
                late_reason=(
                    "Le message du 5 février a été bloqué par la passerelle anti-spam de l'organisme ; "
                    "information renouvelée par téléphone et lettre recommandée le 6 février."
                ),
            )
        )
    else:
        ALMERYS_CLIENTS.append(
            ClientSpec(_spec.code, _PERIODS[_i % 3], paris(2024, 2, 5, 9, 30) + timedelta(minutes=10 * _i))
        )


# --- texts adapted from the articles ---------------------------------------------------------

DATA_EXPOSED = (
    "état civil, date de naissance, rang de naissance, numéro de sécurité sociale (NIR), nom de l'assureur "
    "santé et garanties du contrat souscrit, pour les assurés et leurs ayants droit"
)
DATA_NOT_EXPOSED = (
    "ni informations bancaires, ni données médicales, ni remboursements santé, ni coordonnées postales, "
    "ni numéros de téléphone, ni e-mails"
)
LIKELY_CONSEQUENCES = (
    "Hameçonnage ciblé (faux messages « Ameli », « mutuelle », « remboursement ») et usurpation d'identité : "
    "les données ne contiennent pas de coordonnées mais peuvent être couplées à des fuites antérieures "
    "(communiqué CNIL du 7 février 2024). Le NIR seul ne permet pas d'accéder aux comptes Ameli ou "
    "FranceConnect sans mot de passe. Pas d'impact sur les remboursements."
)

CRC_MEMBER_MESSAGE = """\
Madame, Monsieur,

Nous vous informons que Viamedis, l'organisme auquel nous sous-traitons la gestion du tiers payant de votre \
complémentaire santé, vient de subir une cyberattaque, via l'usurpation d'identité d'un compte d'un \
professionnel de santé. Ce compte compromis a permis l'accès à des données personnelles consultables depuis \
ce compte.

Les données personnelles exposées pour vous-même et vos ayants droit sont les suivantes : nom, prénom, date \
de naissance, rang de naissance, numéro de sécurité sociale (NIR), nom de l'assureur santé, garanties du \
contrat et numéro d'adhérent.

Le NIR ne permet pas à lui seul (sans mot de passe associé) d'accéder à votre espace Ameli, au portail \
FranceConnect ou à tout autre portail des services publics. Ni information bancaire, ni donnée médicale, ni \
remboursement santé, ni coordonnée postale, ni numéro de téléphone, ni e-mail ne sont stockés sur cette \
plateforme. Au regard des données concernées, un risque d'usurpation ne peut être exclu.

Dès que Viamedis a pris connaissance de cet acte, la plateforme a été déconnectée ; une plainte a été déposée \
auprès du Procureur de la République et une notification a été effectuée auprès de la CNIL et de l'ANSSI.

Nos conseils : Viamedis ne vous contactera jamais par téléphone ou par e-mail pour obtenir vos coordonnées \
bancaires ou personnelles ; ne communiquez jamais vos identifiants et mots de passe ; changez les mots de \
passe des comptes dont l'identifiant est le NIR ; restez vigilant à toute sollicitation vous demandant une \
mise à jour de vos données. En cas de suspicion d'usurpation d'identité, vous pouvez déposer plainte auprès \
du commissariat, de la gendarmerie ou du Procureur de la République.

Votre numéro de sécurité sociale ne vous sera jamais demandé pour vous identifier.

Contact : dpo@groupe-crc.example ou par courrier : Groupe CRC, DPO, 2 bis ruelle Pavée, BP 31071, \
97482 Saint-Denis Cedex. Service relation client : 02 62 900 100.
"""

LMG_PORTAL_BANNER = """\
Bonjour,

Nous vous informons que Viamedis, notre ancien opérateur de tiers payant jusqu'au 31 décembre 2023, ainsi \
qu'Almerys, notre opérateur actuel, nous ont signalé avoir été la cible d'une cyberattaque.

Les deux opérateurs ont en conséquence déconnecté leur plateforme, ont déposé une plainte auprès du Procureur \
de la République et notifié une déclaration auprès de la CNIL.

Les données personnelles exposées vous concernant ou concernant vos ayants droit sont limitées et sont les \
suivantes : état civil, rang de naissance, date de naissance, numéro de sécurité sociale, nom de l'assureur \
santé, les garanties de votre contrat et une référence interne.

Ni information bancaire, ni données médicales, ni remboursements santé, ni coordonnées postales, ni numéro \
de téléphone, ni e-mail ne sont stockés sur cette plateforme. Ces informations ne sont donc pas concernées \
par cet acte malveillant.

Ces incidents n'ont pas de répercussion sur vos remboursements de soins : votre espace personnel et vos \
demandes de remboursement restent accessibles. Vous pouvez continuer à utiliser votre carte Vitale et votre \
carte de tiers payant.

Nous vous informons avoir notifié ces incidents à la CNIL. À ce stade vous n'avez aucune démarche à \
entreprendre. Nous vous invitons à redoubler de vigilance pour toute sollicitation douteuse, notamment par \
e-mail, que vous recevrez dans les prochaines semaines.

Contact de notre délégué à la protection des données : dpo@mutuelle-generale.example
"""

VIAMEDIS_PRACTITIONER_LETTER = """\
Docteur,

Vos identifiants de connexion au portail Viamedis.net ont été utilisés par un tiers, entre le 29 et le \
31 janvier 2024, pour consulter des droits de tiers payant d'assurés (état civil, date de naissance, NIR, \
organisme complémentaire et garanties). Votre compte a été bloqué le 31 janvier au soir et la plateforme \
déconnectée. Une plainte a été déposée auprès du Procureur de la République ; la CNIL et l'ANSSI ont été \
notifiées.

Nous vous demandons de modifier sans délai le mot de passe de tout service où vous utilisiez le même, et de \
vous méfier de toute sollicitation se réclamant de Viamedis. Un nouvel accès, protégé par une authentification \
renforcée, vous sera remis à la réouverture de la plateforme. Numéro vert : 0805 62 00 10. \
Contact DPO : dpo@viamedis.example
"""

VIAMEDIS_DG_LETTER_8_FEB = """\
Courrier du directeur général de Viamedis aux organismes complémentaires clients, 8 février 2024
(texte de démonstration reprenant les éléments publiés)

Actions menées en urgence :
- déconnexion de la plateforme Viamedis.net dès que Viamedis a pris connaissance de l'acte de violation ;
- dépôt d'une plainte auprès du Procureur de la République ; notification et déclaration auprès des autorités
  compétentes (CNIL, ANSSI) ;
- investigations avec des experts de la cybersécurité (CSIRT) et surveillance renforcée des requêtes atypiques
  sur la plateforme.
"""

VIAMEDIS_DG_LETTER_12_FEB = """\
Courrier du directeur général de Viamedis, lundi 12 février 2024 (texte de démonstration)

Après une analyse approfondie réalisée par des experts de la cybersécurité (CSIRT) en lien avec les autorités
compétentes, nous pouvons rouvrir progressivement notre plateforme de gestion du tiers payant Viamedis.net dans
des conditions de sécurité renforcées. À compter du 12 février, les professionnels de santé peuvent accéder à la
plateforme et seront remboursés dans les délais habituels. Le numéro vert 0805 62 00 10 reste ouvert ; une FAQ est
disponible sur le site.
"""


def _cnil_summary(org: str, persons: str, extra: str = "") -> str:
    return (
        f"Notification à la CNIL ({org}).\n"
        "Nature : violation de confidentialité établie, consultation frauduleuse de données via l'usurpation "
        "d'identifiants de professionnels de santé sur le portail de tiers payant.\n"
        f"Personnes concernées : {persons}.\n"
        f"Données : {DATA_EXPOSED} ; non concernées : {DATA_NOT_EXPOSED}.\n"
        f"Conséquences probables : {LIKELY_CONSEQUENCES}\n"
        "Mesures : déconnexion du portail, blocage des comptes usurpés, plainte, investigations CSIRT.\n" + extra
    )


# --- small proof files -------------------------------------------------------------------------


def tiny_pdf(title: str, lines: list[str]) -> bytes:
    """A minimal, valid one-page PDF 1.4 (Helvetica, WinAnsi text): enough for a demo proof."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    wrapped = [part for line in lines for part in (textwrap.wrap(line, 95) or [""])]
    ops = ["BT", "/F1 14 Tf", "50 790 Td", f"({escape(title)}) Tj", "/F1 10 Tf", "0 -26 Td"]
    for line in wrapped:
        ops += [f"({escape(line)}) Tj", "0 -14 Td"]
    ops.append("ET")
    stream = "\n".join(ops).encode("cp1252", errors="replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    return bytes(out)


def pdf_file(name: str, title: str, lines: list[str]) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, tiny_pdf(title, lines), content_type="application/pdf")


def text_file(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/plain")


# --- builder -------------------------------------------------------------------------------------


@dataclass
class SeedReport:
    organizations_created: int = 0
    users_created: int = 0
    memberships_created: int = 0
    relationships_created: int = 0
    scenarios_created: list[str] = field(default_factory=list)
    scenarios_skipped: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.organizations_created
            or self.users_created
            or self.memberships_created
            or self.relationships_created
            or self.scenarios_created
        )


VIAMEDIS_TITLE = "Viamedis.net : consultation frauduleuse de données d'assurés via des comptes de praticiens usurpés"
ALMERYS_TITLE = "Portail professionnels de santé Almerys : accès non autorisé via des comptes de praticiens usurpés"
RECENT_TITLE = "Espace adhérent CRC : connexions frauduleuses suspectées (réutilisation de mots de passe)"


class DemoBuilder:
    """Builds the demo through the services. Use `seed()`."""

    def __init__(self, *, now: datetime):
        self.now = now
        self.report = SeedReport()
        self.orgs: dict[str, Organization] = {}
        self.users: dict[str, object] = {}

    # -- helpers --

    @staticmethod
    def late(ob: Obligation, at: datetime, reason: str) -> str:
        """The late reason to pass for completing `ob` at `at`: required if late, dropped if on time."""
        if deadlines.is_late(due_at=ob.due_at, completed_at=at):
            if not reason:
                raise RuntimeError(f"Demo data: {ob} completed late at {at} without a reason (due {ob.due_at}).")
            return reason
        return ""

    @staticmethod
    def ob(case: BreachCase, rule_code: str) -> Obligation:
        return case.obligations.select_related("case__organization").get(
            rule_code=rule_code, controller_notice__isnull=True
        )

    def file(self, case, rule_code, *, kind, at, user, reference, late_reason="", **kwargs) -> Filing:
        ob = self.ob(case, rule_code)
        return services.filing_record(
            case,
            kind=kind,
            sent_at=at,
            acting_user=user,
            obligation=ob,
            reference=reference,
            late_reason=self.late(ob, at, late_reason),
            **kwargs,
        )

    def notify(self, case, rule_code, *, at, author, reviewer, reference, channel, receipt, comment, late_reason=""):
        """A notification drafted from the case, approved by another person, then recorded as sent at `at`."""
        ob = self.ob(case, rule_code)
        with translation.override("fr"):  # the CNIL form is in French
            sub = services.submission_draft(case, obligation=ob, acting_user=author)
        sub = services.submission_submit_for_review(sub, acting_user=author)
        sub = services.submission_approve(sub, comment=comment, acting_user=reviewer)
        return services.submission_mark_sent(
            sub,
            sent_at=at,
            channel=channel,
            recipient="CNIL",
            authority_reference=reference,
            receipt=receipt,
            late_reason=self.late(ob, at, late_reason),
            acting_user=author,
        )

    def communicate(self, case, *, user, at, late_reason="", **kwargs) -> MemberCommunication:
        ob = case.obligations.filter(rule_code="GDPR_34", state=Obligation.State.PENDING).first()
        reason = self.late(ob, at, late_reason) if ob is not None else ""
        return services.member_communication_record(case, acting_user=user, sent_at=at, late_reason=reason, **kwargs)

    def events(self, case, user, items) -> None:
        for at, kind, title, description in items:
            services.timeline_event_add(
                case, occurred_at=at, kind=kind, title=title, description=description, acting_user=user
            )

    # -- organisations, users, memberships --

    def ensure_users_and_orgs(self) -> None:
        User = get_user_model()
        for spec in USERS:
            user = User.objects.filter(username=spec.username).first()
            if user is None:
                make = User.objects.create_superuser if spec.superuser else User.objects.create_user
                user = make(
                    spec.username,
                    email=spec.email,
                    password=spec.password,
                    first_name=spec.first_name,
                    last_name=spec.last_name,
                )
                self.report.users_created += 1
            mfa.ensure_demo_device(user)
            self.users[spec.username] = user
        history_user = self.users["admin"]
        existing = {o.code: o for o in Organization.objects.filter(code__in=ORG_CODES)}
        for spec in ORGANIZATIONS:
            org = existing.get(spec.code)
            if org is None:
                org = Organization(
                    code=spec.code,
                    name=spec.name,
                    kind=spec.kind,
                    siren=spec.siren,
                    address=spec.address,
                    dpo_name=spec.dpo_name,
                    dpo_email=spec.dpo_email,
                    dpo_phone=spec.dpo_phone,
                    legal_rep_name=spec.legal_rep_name,
                    legal_rep_title=spec.legal_rep_title,
                    legal_rep_email=spec.legal_rep_email,
                    **spec.flags,
                )
                org._history_user = history_user
                org._change_reason = ORG_REASON
                org.full_clean()
                org.save()
                self.report.organizations_created += 1
            self.orgs[spec.code] = org
        for spec in USERS:
            user = self.users[spec.username]
            for code, role in spec.memberships:
                org = self.orgs[code]
                if not Membership.objects.filter(user=user, organization=org).exists():
                    services.membership_grant(user=user, organization=org, role=role, acting_user=history_user)
                    self.report.memberships_created += 1

    def _scenario(self, key: str, org_code: str, title: str, build: Callable[[], None]) -> None:
        if BreachCase.objects.filter(organization=self.orgs[org_code], title=title).exists():
            self.report.scenarios_skipped.append(key)
            return
        build()
        self.report.scenarios_created.append(key)

    def seed(self) -> SeedReport:
        self.ensure_users_and_orgs()
        self._scenario("incident-2024", "viamedis", VIAMEDIS_TITLE, self.build_incident_2024)
        self._scenario("recent-crc", "crc", RECENT_TITLE, self.build_recent_case)
        return self.report

    # -- the February 2024 incident --

    def build_incident_2024(self) -> None:
        viamedis_case = self.build_viamedis()
        almerys_case = self.build_almerys()
        self.build_crc_case(viamedis_case)
        self.build_lmg_cases(viamedis_case, almerys_case)

    def _relationship(self, processor_code: str, client: ClientSpec) -> ProcessingRelationship:
        """The operator's contract with a client: on the platform (invited, accepted) or external."""
        processor, org = self.orgs[processor_code], self.orgs[client.code]
        existing = ProcessingRelationship.objects.filter(processor=processor, controller_siren=org.siren).first()
        if existing is not None:
            return existing
        on_platform = client.code in ON_PLATFORM_CLIENTS
        relationship = services.relationship_create(
            processor=processor,
            controller_name=org.name,
            controller_siren=org.siren,
            on_platform=on_platform,
            contacts=[{"name": org.dpo_name or "DPO", "email": org.dpo_email, "role": "DPO"}] if org.dpo_email else [],
            notice_period_hours=client.notice_hours,
            contract_reference=f"TP-{processor_code.upper()}-{client.code.upper()}",
            acting_user=self.users[PROCESSOR_ADMINS[processor_code]],
        )
        if on_platform:
            relationship = services.relationship_accept(
                organization=org,
                code=relationship.invitation_code,
                acting_user=self.users[ON_PLATFORM_CLIENTS[client.code]],
            )
        self.report.relationships_created += 1
        return relationship

    def _list_and_inform(self, case: BreachCase, clients: list[ClientSpec], user) -> None:
        notices: dict[str, ControllerNotice] = {}
        for client in clients:
            notices[client.code] = services.controller_add(
                case,
                relationship=self._relationship(case.organization.code, client),
                acting_user=user,
                notice_period_hours=client.notice_hours,
            )
        # Clients informed at the same time by the same channel were sent in one action (one batch of
        # notices, one reference); the others one by one.
        batches: dict[tuple, list[ClientSpec]] = {}
        for client in sorted((c for c in clients if c.informed_at), key=lambda c: c.informed_at):
            batches.setdefault((client.informed_at, client.channel), []).append(client)
        for (informed_at, channel), batch in batches.items():
            if len(batch) > 1:
                services.controllers_inform_many(
                    case,
                    notice_ids=[notices[c.code].pk for c in batch],
                    informed_at=informed_at,
                    acting_user=user,
                    channel=channel,
                    reference=f"{case.reference}/INFO-LOT-{informed_at.astimezone(PARIS):%d%H%M}",
                )
                continue
            [client] = batch
            notice = notices[client.code]
            ob = Obligation.objects.get(controller_notice=notice)
            services.controller_inform(
                notice,
                informed_at=client.informed_at,
                acting_user=user,
                channel=client.channel,
                reference=f"{case.reference}/INFO-{client.code.upper()}",
                late_reason=self.late(ob, client.informed_at, client.late_reason),
            )

    def build_viamedis(self) -> BreachCase:
        org, dpo, legal = self.orgs["viamedis"], self.users["viamedis.dpo"], self.users["viamedis.juriste"]
        case = services.case_open(
            organization=org,
            title=VIAMEDIS_TITLE,
            first_signal_at=paris(2024, 1, 31, 17, 40),
            first_signal_source=(
                "Alerte de la supervision sécurité (SOC) : volume anormal de requêtes de droits de tiers payant "
                "depuis des comptes de professionnels de santé sur Viamedis.net."
            ),
            incident_known_at=paris(2024, 1, 31, 20, 15),
            aware_at=_V_AWARE,
            aware_justification=(
                "Le 1er février 2024 à 10 h 30, l'analyse des journaux par l'équipe sécurité et le CSIRT a établi "
                "que des données d'assurés (état civil, date de naissance, NIR, organisme complémentaire, garanties) "
                "avaient été consultées depuis cinq comptes de professionnels de santé usurpés : certitude "
                "raisonnable d'une violation de données personnelles (lignes directrices EDPB 9/2022). "
                "L'investigation a commencé dès l'alerte du 31 janvier à 17 h 40 ; l'incident de sécurité était "
                "établi à 20 h 15 (déconnexion)."
            ),
            acting_user=dpo,
            occurred_from=paris(2024, 1, 29, 8, 0),
            occurred_to=paris(2024, 1, 31, 20, 15),
            ongoing=False,
            nature=BreachCase.Nature.ESTABLISHED,
            breach_confidentiality=True,
            origin=BreachCase.Origin.CREDENTIAL_THEFT,
            cause=BreachCase.Cause.EXTERNAL_MALICIOUS,
            description=(
                "Des attaquants ont utilisé les identifiants et mots de passe de cinq professionnels de santé pour "
                "consulter, depuis le portail Viamedis.net, les droits de tiers payant d'assurés des organismes "
                "complémentaires clients. Le système d'information central n'a pas été atteint. La CNIL évoque "
                "33 millions d'assurés pour les deux opérateurs (Viamedis et Almerys) ; l'ordre de grandeur retenu "
                f"ici pour Viamedis est de 20 millions. Données : {DATA_EXPOSED}. Non concernées : {DATA_NOT_EXPOSED}."
            ),
            data_categories=[D.IDENTITY, D.NIR, D.INSURANCE],
            subject_categories=[S.MEMBERS, S.MINORS, S.PRACTITIONERS],
            persons_approx=20_000_000,
            records_approx=20_000_000,
            directly_identifiable=True,
            likely_consequences=LIKELY_CONSEQUENCES,
            measures_immediate=(
                "Déconnexion de la plateforme Viamedis.net ; blocage des cinq comptes usurpés et partage de leur "
                "identité avec les autres opérateurs de tiers payant ; plainte ; notifications CNIL et ANSSI."
            ),
            measures_medium=(
                "Investigations avec un CSIRT ; surveillance renforcée des requêtes atypiques ; numéro vert "
                "0805 62 00 10 pour les professionnels de santé ; FAQ sur le site."
            ),
            measures_long=(
                "Authentification renforcée des professionnels de santé ; limitation des données consultables par "
                "requête ; plafonds et détection de volumétrie par compte."
            ),
            severity_ei=Decimal("1"),
            severity_cb_confidentiality=Decimal("0.5"),
            severity_cb_malicious=True,
            nis2_significant=True,
        )
        self.events(
            case,
            dpo,
            [
                (
                    paris(2024, 1, 31, 17, 40),
                    "detection",
                    "Alerte SOC : requêtes atypiques sur Viamedis.net",
                    "Pics de consultations de droits depuis cinq comptes de professionnels de santé.",
                ),
                (
                    paris(2024, 1, 31, 20, 15),
                    "containment",
                    "Déconnexion de la plateforme Viamedis.net",
                    "Portail des professionnels de santé coupé ; le tiers payant côté assurés reste assuré.",
                ),
                (
                    paris(2024, 1, 31, 21, 0),
                    "containment",
                    "Blocage des cinq comptes de professionnels de santé usurpés",
                    "",
                ),
                (
                    paris(2024, 2, 1, 8, 0),
                    "investigation",
                    "CSIRT mandaté : investigations forensiques",
                    "Analyse des journaux d'accès et des requêtes sur la période du 29 au 31 janvier.",
                ),
                (
                    paris(2024, 2, 1, 10, 30),
                    "decision",
                    "Cellule de crise : violation de données personnelles établie",
                    "Point de départ du délai de 72 heures (art. 33(1) RGPD).",
                ),
                (
                    paris(2024, 2, 1, 14, 0),
                    "communication",
                    "Réunion de l'association des opérateurs de tiers payant",
                    "Partage des identités des professionnels usurpés ; comptes bloqués chez les autres opérateurs.",
                ),
                (
                    paris(2024, 2, 7, 12, 0),
                    "other",
                    "Communiqué de la CNIL (33 millions d'assurés concernés)",
                    "La CNIL rappelle que les personnes doivent être informées individuellement dans les "
                    "meilleurs délais.",
                ),
                (
                    paris(2024, 2, 8, 9, 0),
                    "communication",
                    "Courrier du directeur général aux organismes clients",
                    "Actions menées en urgence : déconnexion, plainte, notifications CNIL et ANSSI, CSIRT.",
                ),
                (
                    paris(2024, 2, 12, 8, 0),
                    "recovery",
                    "Réouverture progressive de Viamedis.net dans des conditions de sécurité renforcées",
                    "Numéro vert 0805 62 00 10 maintenu ; FAQ en ligne.",
                ),
            ],
        )

        # Decisions (legal team), with their reasons.
        services.decision_notify_authority(
            case,
            notify=True,
            reason=(
                "Cellule de crise du 1er février : risque élevé (score ENISA 3, NIR et identité de millions "
                "d'assurés consultés par un tiers malveillant) ; notification CNIL en tant que responsable des "
                "comptes des professionnels de santé et par transparence vis-à-vis des clients."
            ),
            acting_user=legal,
        )
        services.decision_inform_persons(
            case,
            inform=True,
            reason=(
                "Les assurés sont informés par leurs organismes complémentaires (responsables de traitement), que "
                "Viamedis alimente en éléments de langage ; Viamedis informe directement les cinq professionnels "
                "de santé dont les identifiants ont été usurpés."
            ),
            acting_user=legal,
        )

        # ANSSI (NIS1 declaration of an operator of essential services), complaint, CNIL.
        self.file(
            case,
            "NIS1_OSE",
            kind=Filing.Kind.ANSSI,
            at=paris(2024, 2, 1, 11, 45),
            user=dpo,
            reference="CERT-FR-2024-INC-0417 (fictif)",
            channel="Déclaration d'incident CERT-FR",
            recipient="ANSSI / CERT-FR",
            content=(
                "Déclaration d'incident : intrusion par identifiants usurpés sur le portail des professionnels "
                "de santé."
            ),
        )
        receipt = services.evidence_add(
            case,
            uploaded_file=pdf_file(
                "recepisse-plainte-viamedis.pdf",
                "Recepisse de plainte (document de demonstration)",
                [
                    "Plainte deposee le 2 fevrier 2024 a 15 h 00 aupres du Procureur de la Republique",
                    "pres le tribunal judiciaire de Paris (section cybercriminalite).",
                    "Victime : Viamedis. Faits : acces frauduleux a un systeme de traitement automatise de donnees,",
                    "collecte frauduleuse de donnees a caractere personnel (art. 323-1 et 226-18 du code penal).",
                    "Reference : PV n° 2024/017342 (fictif).",
                ],
            ),
            acting_user=dpo,
            description="Récépissé de la plainte (CPP art. 15-3)",
        )
        self.file(
            case,
            "COMPLAINT_INSURANCE",
            kind=Filing.Kind.COMPLAINT,
            at=paris(2024, 2, 2, 15, 0),
            user=dpo,
            reference="PV n° 2024/017342 (fictif)",
            channel="Courrier déposé au parquet",
            recipient="Procureur de la République près le tribunal judiciaire de Paris",
            content="Plainte contre X : accès frauduleux à Viamedis.net au moyen d'identifiants usurpés.",
            evidence=receipt,
        )
        cnil_ack = services.evidence_add(
            case,
            uploaded_file=pdf_file(
                "accuse-cnil-notification-initiale.pdf",
                "CNIL - accuse de reception (document de demonstration)",
                [
                    "Notification initiale de violation de donnees n° 2024-0202-V0173 (fictif)",
                    "Organisme : Viamedis - SIREN 999100001 (fictif)",
                    "Recue le 2 fevrier 2024 a 18 h 00.",
                ],
            ),
            acting_user=dpo,
            description="Accusé de réception de la notification initiale CNIL",
        )
        # Drafted in the register in the CNIL form's structure, approved by the legal member, then sent.
        self.notify(
            case,
            "GDPR_33_1",
            at=paris(2024, 2, 2, 18, 0),
            author=dpo,
            reviewer=legal,
            reference="CNIL 2024-0202-V0173 (fictif)",
            channel="Téléservice CNIL « notifier une violation »",
            receipt=cnil_ack,
            comment="Relu : nature, DPO, conséquences et mesures conformes à l'art. 33(3) (démonstration).",
        )
        self.communicate(
            case,
            user=dpo,
            at=paris(2024, 2, 2, 9, 30),
            channel=MemberCommunication.Channel.LETTER,
            recipients_count=5,
            text=VIAMEDIS_PRACTITIONER_LETTER,
        )
        self.file(
            case,
            "GDPR_33_4",
            kind=Filing.Kind.CNIL_COMPLEMENTARY,
            at=paris(2024, 2, 9, 16, 0),
            user=dpo,
            reference="CNIL 2024-0202-V0173-C1 (fictif)",
            channel="Téléservice CNIL « notifier une violation »",
            recipient="CNIL",
            content=_cnil_summary(
                "Viamedis",
                "environ 20 millions d'assurés et ayants droit",
                "Compléments : période exacte (29-31 janvier), cinq comptes usurpés, volumétrie confirmée par le "
                "CSIRT, liste des organismes clients informés.",
            ),
            late_reason=(
                "Attente du rapport intermédiaire du CSIRT (remis le 8 février) pour confirmer la période, le "
                "nombre de comptes usurpés et la volumétrie ; la CNIL en a été prévenue lors de l'échange du 5 février."
            ),
        )
        for name, text, description in (
            ("courrier-dg-2024-02-08.txt", VIAMEDIS_DG_LETTER_8_FEB, "Courrier du DG aux clients, 8 février 2024"),
            ("courrier-dg-2024-02-12.txt", VIAMEDIS_DG_LETTER_12_FEB, "Courrier de réouverture, 12 février 2024"),
        ):
            services.evidence_add(case, uploaded_file=text_file(name, text), acting_user=dpo, description=description)

        # Art. 33(2): the client insurers (controllers), most informed on time.
        self._list_and_inform(case, VIAMEDIS_CLIENTS, dpo)
        return services.case_contain(
            case,
            contained_at=paris(2024, 2, 12, 8, 0),
            acting_user=dpo,
            reason="Réouverture progressive de Viamedis.net le 12 février 2024 après analyse du CSIRT.",
        )

    def build_almerys(self) -> BreachCase:
        org, dpo = self.orgs["almerys"], self.users["almerys.dpo"]
        case = services.case_open(
            organization=org,
            title=ALMERYS_TITLE,
            first_signal_at=paris(2024, 2, 2, 9, 30),
            first_signal_source=(
                "Alerte de l'association des opérateurs de tiers payant : Viamedis partage l'identité des "
                "professionnels de santé dont les comptes ont été usurpés ; vérification des mêmes comptes "
                "chez Almerys."
            ),
            incident_known_at=paris(2024, 2, 3, 14, 0),
            aware_at=_A_AWARE,
            aware_justification=(
                "Le 4 février 2024 à 18 h 00, l'analyse des journaux a confirmé que des données de bénéficiaires "
                "avaient été consultées depuis des comptes de professionnels de santé usurpés. L'intrusion (incident "
                "de sécurité) était établie depuis le 3 février à 14 h 00 ; la consultation de données personnelles "
                "restait alors à vérifier."
            ),
            acting_user=dpo,
            occurred_from=paris(2024, 1, 30, 0, 0),
            occurred_to=paris(2024, 2, 3, 14, 30),
            ongoing=False,
            breach_confidentiality=True,
            origin=BreachCase.Origin.CREDENTIAL_THEFT,
            cause=BreachCase.Cause.EXTERNAL_MALICIOUS,
            description=(
                "Intrusion ayant entraîné l'accès non autorisé à des données via l'usurpation d'identité de comptes "
                "de professionnels de santé. Données : nom, prénom, date de naissance, rang de naissance, NIR, nom de "
                "l'assureur santé, numéro de contrat et référence interne. Non concernées : "
                f"{DATA_NOT_EXPOSED}. Ordre de grandeur retenu : 13 millions de bénéficiaires."
            ),
            data_categories=[D.IDENTITY, D.NIR, D.INSURANCE],
            subject_categories=[S.MEMBERS, S.MINORS],
            persons_approx=13_000_000,
            records_approx=13_000_000,
            likely_consequences=LIKELY_CONSEQUENCES,
            measures_immediate=(
                "Fermeture du portail des professionnels de santé (« temporairement hors service pour une mise à "
                "jour de sécurité essentielle ») ; blocage des comptes signalés ; diagnostic en cours."
            ),
            measures_medium="Analyse des systèmes d'information ; contrôle des accès de tous les comptes praticiens.",
            measures_long="Authentification forte des professionnels de santé.",
            severity_ei=Decimal("1"),
            severity_cb_confidentiality=Decimal("0.5"),
            severity_cb_malicious=True,
        )
        self.events(
            case,
            dpo,
            [
                (
                    paris(2024, 2, 2, 9, 30),
                    "detection",
                    "Alerte de l'association des opérateurs de tiers payant",
                    "Identités des praticiens usurpés chez Viamedis transmises ; recherche dans nos journaux.",
                ),
                (
                    paris(2024, 2, 3, 14, 0),
                    "containment",
                    "Fermeture du portail des professionnels de santé",
                    "Message affiché : « cet espace est temporairement hors service pour une mise à jour de sécurité "
                    "essentielle ».",
                ),
                (
                    paris(2024, 2, 4, 18, 0),
                    "decision",
                    "Consultation de données de bénéficiaires confirmée",
                    "Point de départ du délai de 72 heures.",
                ),
                (
                    paris(2024, 2, 5, 11, 0),
                    "communication",
                    "Confirmation de la cyberattaque à la presse spécialisée",
                    "",
                ),
                (
                    paris(2024, 2, 9, 8, 0),
                    "recovery",
                    "Réouverture du portail des professionnels de santé avec authentification renforcée",
                    "Date de démonstration (non précisée par les articles).",
                ),
            ],
        )
        decider = dpo  # Almerys has no legal user in the demo; the DPO role may record decisions too.
        services.decision_notify_authority(
            case,
            notify=True,
            reason=(
                "Risque élevé (score ENISA 3) : NIR et identité de bénéficiaires consultés par un tiers malveillant."
            ),
            acting_user=decider,
        )
        services.decision_inform_persons(
            case,
            inform=True,
            reason=(
                "La CNIL a demandé une information individuelle des personnes ; courrier coordonné avec les "
                "organismes clients, qui détiennent les adresses."
            ),
            acting_user=decider,
        )
        self.file(
            case,
            "NIS1_OSE",
            kind=Filing.Kind.ANSSI,
            at=paris(2024, 2, 3, 16, 30),
            user=dpo,
            reference="CERT-FR-2024-INC-0431 (fictif)",
            channel="Déclaration d'incident ANSSI (OSE)",
            recipient="ANSSI / CERT-FR",
            content="Déclaration d'incident affectant le portail des professionnels de santé.",
        )
        self.file(
            case,
            "COMPLAINT_GENERAL",
            kind=Filing.Kind.COMPLAINT,
            at=paris(2024, 2, 5, 10, 0),
            user=dpo,
            reference="PV n° 2024/018105 (fictif)",
            channel="Dépôt au parquet",
            recipient="Procureur de la République près le tribunal judiciaire de Paris",
            content="Plainte contre X : accès frauduleux et collecte frauduleuse de données personnelles.",
            late_reason=(
                "Constat de l'intrusion un samedi (3 février) : la plainte, accompagnée du premier rapport de "
                "diagnostic, a été déposée le lundi 5 février au matin (le délai interne de 24 h courait aussi le "
                "week-end)."
            ),
        )
        cnil_ack = services.evidence_add(
            case,
            uploaded_file=pdf_file(
                "accuse-cnil-almerys.pdf",
                "CNIL - accuse de reception (document de demonstration)",
                [
                    "Notification initiale de violation de donnees n° 2024-0206-A0288 (fictif)",
                    "Organisme : Almerys - SIREN 999100002 (fictif). Recue le 6 fevrier 2024 a 16 h 00.",
                ],
            ),
            acting_user=dpo,
            description="Accusé de réception de la notification initiale CNIL",
        )
        self.file(
            case,
            "GDPR_33_1",
            kind=Filing.Kind.CNIL_INITIAL,
            at=paris(2024, 2, 6, 16, 0),
            user=dpo,
            reference="CNIL 2024-0206-A0288 (fictif)",
            channel="Téléservice CNIL « notifier une violation »",
            recipient="CNIL",
            content=_cnil_summary("Almerys", "environ 13 millions de bénéficiaires (estimation initiale)"),
            evidence=cnil_ack,
        )
        self.file(
            case,
            "GDPR_33_4",
            kind=Filing.Kind.CNIL_COMPLEMENTARY,
            at=paris(2024, 2, 9, 11, 0),
            user=dpo,
            reference="CNIL 2024-0206-A0288-C1 (fictif)",
            channel="Téléservice CNIL « notifier une violation »",
            recipient="CNIL",
            content="Compléments : périmètre confirmé, liste des organismes clients concernés, mesures de réouverture.",
        )
        self._list_and_inform(case, ALMERYS_CLIENTS, dpo)
        self.communicate(
            case,
            user=dpo,
            at=paris(2024, 2, 14, 10, 0),
            channel=MemberCommunication.Channel.LETTER,
            recipients_count=13_000_000,
            text=(
                "Courrier d'information individuelle (art. 34 RGPD), adressé via les organismes complémentaires : "
                f"nature de l'incident, données exposées ({DATA_EXPOSED}), données non concernées "
                f"({DATA_NOT_EXPOSED}), conséquences possibles (hameçonnage, usurpation d'identité), mesures prises "
                "et conseils de vigilance, contact du DPO : dpo@almerys.example."
            ),
            late_reason=(
                "Information individuelle demandée par la CNIL le 7 février ; les adresses étant détenues par les "
                "organismes clients, l'envoi a dû être coordonné avec eux (fichiers reçus entre le 9 et le 13 février)."
            ),
        )
        return services.case_contain(
            case, contained_at=paris(2024, 2, 9, 8, 0), acting_user=dpo, reason="Portail rouvert avec MFA."
        )

    def _controller_case(self, processor_case: BreachCase, code: str) -> BreachCase:
        """The client opens its own case from the notice in its inbox, aware when the operator informed it
        (the e-mail came before the notice was recorded on the platform)."""
        notice = processor_case.controller_notices.get(controller=self.orgs[code])
        case = services.received_open_case(
            notice.receipt,
            aware_at=notice.informed_at,
            aware_justification=(
                f"Information reçue de {processor_case.organization.name} par e-mail le "
                f"{timezone.localtime(notice.informed_at, PARIS):%d/%m/%Y à %H:%M} ; "
                "la notification a été enregistrée sur la plateforme ensuite."
            ),
            acting_user=self.users[f"{code}.dpo"],
        )
        return BreachCase.objects.select_related("organization").get(pk=case.pk)

    def build_crc_case(self, viamedis_case: BreachCase) -> None:
        case = self._controller_case(viamedis_case, "crc")
        dpo, legal = self.users["crc.dpo"], self.users["crc.juriste"]
        case = services.case_update_facts(
            case,
            acting_user=dpo,
            change_reason="Évaluation du DPO après le message de Viamedis.",
            persons_approx=85_000,
            records_approx=85_000,
            subject_categories=[S.MEMBERS, S.MINORS],
            likely_consequences=LIKELY_CONSEQUENCES
            + " Tentatives de smishing observées à La Réunion (faux SMS Ameli).",
            measures_immediate=(
                "Plateforme téléphonique sensibilisée à la vérification d'identité ; le NIR n'est jamais demandé "
                "pour identifier un adhérent."
            ),
            measures_medium="Suivi des prises en charge optique, dentaire et hospitalisation ralenties.",
            severity_ei=Decimal("1"),
            severity_cb_confidentiality=Decimal("0.5"),
            severity_cb_malicious=True,
        )
        self.events(
            case,
            dpo,
            [
                (
                    paris(2024, 2, 1, 16, 0),
                    "detection",
                    "Message de Viamedis : cyberattaque de la plateforme de tiers payant",
                    "",
                ),
                (
                    paris(2024, 2, 2, 10, 0),
                    "decision",
                    "Cellule de crise CRC",
                    "Décision de notifier la CNIL et d'informer les adhérents.",
                ),
                (
                    paris(2024, 2, 6, 10, 0),
                    "communication",
                    "Message préventif aux adhérents",
                    "Envoyé par e-mail et courrier, signé par le directeur général délégué.",
                ),
            ],
        )
        services.decision_notify_authority(
            case,
            notify=True,
            reason="Risque élevé (NIR, identité, garanties de 85 000 adhérents et ayants droit) : notification CNIL.",
            acting_user=legal,
        )
        services.decision_inform_persons(
            case,
            inform=True,
            reason="Risque élevé d'usurpation et de hameçonnage : information individuelle des adhérents (art. 34).",
            acting_user=legal,
        )
        ack = services.evidence_add(
            case,
            uploaded_file=pdf_file(
                "accuse-cnil-crc.pdf",
                "CNIL - accuse de reception (document de demonstration)",
                ["Notification n° 2024-0203-R0051 (fictif) - Groupe CRC - recue le 3 fevrier 2024 a 11 h 00."],
            ),
            acting_user=dpo,
            description="Accusé de réception CNIL",
        )
        self.file(
            case,
            "GDPR_33_1",
            kind=Filing.Kind.CNIL_INITIAL,
            at=paris(2024, 2, 3, 11, 0),
            user=dpo,
            reference="CNIL 2024-0203-R0051 (fictif)",
            channel="Téléservice CNIL « notifier une violation »",
            recipient="CNIL",
            content=_cnil_summary("Groupe CRC", "environ 85 000 adhérents et ayants droit"),
            evidence=ack,
        )
        self.file(
            case,
            "GDPR_33_4",
            kind=Filing.Kind.CNIL_COMPLEMENTARY,
            at=paris(2024, 2, 5, 15, 0),
            user=dpo,
            reference="CNIL 2024-0203-R0051-C1 (fictif)",
            channel="Téléservice CNIL « notifier une violation »",
            recipient="CNIL",
            content="Compléments : nombre d'adhérents confirmé par Viamedis, texte du message aux adhérents.",
        )
        self.file(
            case,
            "COMPLAINT_INSURANCE",
            kind=Filing.Kind.COMPLAINT,
            at=paris(2024, 2, 5, 9, 0),
            user=dpo,
            reference="Récépissé n° 2024/00231/974 (fictif)",
            channel="Dépôt de plainte en brigade",
            recipient="Brigade de gendarmerie de Saint-Denis (La Réunion)",
            content="Plainte pour collecte frauduleuse de données personnelles des adhérents (incident chez Viamedis).",
            late_reason=(
                "L'atteinte visait le système du sous-traitant : la CRC pensait la plainte de Viamedis suffisante ; "
                "l'assureur cyber a indiqué le 5 février qu'une plainte propre à la CRC était requise."
            ),
        )
        letter = services.evidence_add(
            case,
            uploaded_file=text_file("message-adherents-crc.txt", CRC_MEMBER_MESSAGE),
            acting_user=dpo,
            description="Message préventif aux adhérents (texte envoyé)",
        )
        self.communicate(
            case,
            user=dpo,
            at=paris(2024, 2, 6, 10, 0),
            channel=MemberCommunication.Channel.EMAIL,
            recipients_count=85_000,
            text=CRC_MEMBER_MESSAGE,
            evidence=letter,
            late_reason=(
                "Liste des adhérents concernés et catégories de données confirmées par Viamedis le 5 février au soir ; "
                "texte validé par la direction le 6 février au matin."
            ),
        )
        services.member_communication_record(
            case,
            channel=MemberCommunication.Channel.LETTER,
            sent_at=paris(2024, 2, 7, 9, 0),
            recipients_count=6_200,
            text=CRC_MEMBER_MESSAGE,
            acting_user=dpo,
        )
        services.case_close(
            case,
            reason="Notifications, plainte et information des adhérents accomplies ; suivi du smishing en veille.",
            acting_user=dpo,
        )

    def build_lmg_cases(self, viamedis_case: BreachCase, almerys_case: BreachCase) -> None:
        dpo, legal = self.users["lmg.dpo"], self.users["lmg.juriste"]
        facts = {
            "subject_categories": [S.MEMBERS, S.MINORS],
            "likely_consequences": LIKELY_CONSEQUENCES,
            "measures_immediate": (
                "Vérification de l'absence d'intrusion dans le SI de La Mutuelle Générale ; double authentification "
                "de l'espace adhérent (code à usage unique par SMS) rappelée."
            ),
            "severity_ei": Decimal("1"),
            "severity_cb_confidentiality": Decimal("0.5"),
            "severity_cb_malicious": True,
        }
        no_complaint = (
            "Le système d'information de La Mutuelle Générale n'a pas subi d'intrusion ; seules les plateformes des "
            "opérateurs ont été attaquées et les opérateurs victimes (Viamedis, Almerys) ont porté plainte."
        )
        specs = (
            # (processor case, persons, CNIL reference, CNIL late reason)
            (
                viamedis_case,
                350_000,
                "CNIL 2024-0207-M0120",
                "Information reçue de Viamedis le 2 février seulement (ancien opérateur) ; une notification unique "
                "couvrant les deux opérateurs a été préparée une fois les catégories de données confirmées "
                "par Almerys.",
            ),
            (almerys_case, 1_400_000, "CNIL 2024-0207-M0121", ""),
        )
        for processor_case, persons, cnil_ref, cnil_late in specs:
            case = self._controller_case(processor_case, "lmg")
            case = services.case_update_facts(
                case,
                acting_user=dpo,
                change_reason="Évaluation du DPO après l'information de l'opérateur.",
                persons_approx=persons,
                records_approx=persons,
                **facts,
            )
            services.decision_notify_authority(
                case, notify=True, reason="Risque élevé : NIR et identité d'adhérents consultés.", acting_user=legal
            )
            services.decision_inform_persons(
                case,
                inform=True,
                reason="Information des adhérents par un message dans l'espace adhérent, comme demandé par la CNIL.",
                acting_user=legal,
            )
            self.events(
                case,
                dpo,
                [
                    (
                        case.aware_at,
                        "detection",
                        f"Information reçue de l'opérateur {processor_case.organization.name}",
                        "",
                    ),
                    (
                        paris(2024, 2, 7, 9, 0),
                        "communication",
                        "Information de la direction d'Orange (contrat collectif) et des représentants du personnel",
                        "",
                    ),
                ],
            )
            self.file(
                case,
                "GDPR_33_1",
                kind=Filing.Kind.CNIL_INITIAL,
                at=paris(2024, 2, 7, 17, 0),
                user=dpo,
                reference=f"{cnil_ref} (fictif)",
                channel="Téléservice CNIL « notifier une violation »",
                recipient="CNIL",
                content=_cnil_summary("La Mutuelle Générale", f"environ {persons:,} adhérents".replace(",", " ")),
                late_reason=cnil_late,
            )
            services.obligation_mark_not_applicable(
                self.ob(case, "COMPLAINT_GENERAL"), reason=no_complaint, acting_user=legal
            )
            if processor_case is viamedis_case:
                services.obligation_mark_not_applicable(
                    self.ob(case, "GDPR_33_4"),
                    reason=(
                        "La notification du 7 février contenait toutes les informations de l'art. 33(3) ; aucun "
                        "élément nouveau depuis (ancien opérateur, périmètre figé au 31 décembre 2023)."
                    ),
                    acting_user=legal,
                )
            else:
                self.file(
                    case,
                    "GDPR_33_4",
                    kind=Filing.Kind.CNIL_COMPLEMENTARY,
                    at=paris(2024, 2, 9, 12, 0),
                    user=dpo,
                    reference=f"{cnil_ref}-C1 (fictif)",
                    channel="Téléservice CNIL « notifier une violation »",
                    recipient="CNIL",
                    content="Compléments : nombre d'adhérents concernés confirmé par Almerys.",
                )
            banner = services.evidence_add(
                case,
                uploaded_file=text_file("bandeau-espace-adherent-lmg.txt", LMG_PORTAL_BANNER),
                acting_user=dpo,
                description="Message affiché dans l'espace adhérent (texte publié)",
            )
            self.communicate(
                case,
                user=dpo,
                at=paris(2024, 2, 8, 10, 0),
                channel=MemberCommunication.Channel.PORTAL,
                recipients_count=persons,
                text=LMG_PORTAL_BANNER,
                evidence=banner,
                late_reason=(
                    "Texte commun aux deux incidents validé avec les deux opérateurs après le communiqué de la CNIL du "
                    "7 février ; publication le 8 février au matin."
                ),
            )

    # -- a case whose clocks are running now --

    def build_recent_case(self) -> None:
        now = self.now
        org, dpo, legal = self.orgs["crc"], self.users["crc.dpo"], self.users["crc.juriste"]
        case = services.case_open(
            organization=org,
            title=RECENT_TITLE,
            first_signal_at=now - timedelta(hours=52),
            first_signal_source=(
                "Alerte SOC : pic d'échecs de connexion puis connexions réussies depuis des IP étrangères."
            ),
            incident_known_at=now - timedelta(hours=50),
            aware_at=now - timedelta(hours=30),
            aware_justification=(
                "L'attaque par réutilisation de mots de passe était établie 50 h avant l'ouverture de la démo ; "
                "l'affichage de données d'adhérents (NIR, garanties) dans les sessions frauduleuses a été confirmé "
                "30 h avant (journaux applicatifs)."
            ),
            acting_user=dpo,
            occurred_from=now - timedelta(hours=60),
            ongoing=True,
            nature=BreachCase.Nature.SUSPECTED,
            breach_confidentiality=True,
            origin=BreachCase.Origin.CREDENTIAL_THEFT,
            cause=BreachCase.Cause.EXTERNAL_MALICIOUS,
            description=(
                "Connexions à l'espace adhérent avec des identifiants issus de fuites antérieures (credential "
                "stuffing), après la vague de smishing consécutive à l'incident Viamedis / Almerys."
            ),
            data_categories=[D.IDENTITY, D.NIR, D.INSURANCE, D.CONTACT],
            subject_categories=[S.MEMBERS],
            persons_approx=1_200,
            records_approx=1_200,
            likely_consequences="Usurpation d'identité, modification de RIB, hameçonnage ciblé.",
            measures_immediate="Comptes concernés verrouillés ; réinitialisation forcée des mots de passe.",
            severity_ei=Decimal("1"),
            severity_cb_confidentiality=Decimal("0.5"),
            severity_cb_malicious=True,
            dora_major=True,
            dora_classified_at=now - timedelta(hours=27),
        )
        self.events(
            case,
            dpo,
            [
                (now - timedelta(hours=52), "detection", "Alerte SOC sur l'espace adhérent", ""),
                (now - timedelta(hours=49), "containment", "Verrouillage de 1 200 comptes adhérents", ""),
                (now - timedelta(hours=30), "decision", "Consultation de données d'adhérents confirmée", ""),
                (now - timedelta(hours=27), "decision", "Incident classé majeur (DORA)", ""),
            ],
        )
        services.decision_notify_authority(
            case,
            notify=True,
            reason="Données d'identité et NIR affichés dans des sessions frauduleuses : risque élevé probable.",
            acting_user=legal,
        )
        services.evidence_add(
            case,
            uploaded_file=text_file(
                "extrait-soc.txt",
                "Extrait SOC (démonstration)\n"
                "- pic de 48 000 échecs de connexion en 2 h\n"
                "- 1 200 connexions réussies depuis 37 adresses IP\n",
            ),
            acting_user=dpo,
            description="Extrait des alertes SOC",
        )
        self.file(
            case,
            "DORA_INITIAL",
            kind=Filing.Kind.DORA,
            at=now - timedelta(hours=20),
            user=dpo,
            reference="ACPR-DORA-INIT (démonstration)",
            channel="Portail ACPR",
            recipient="ACPR",
            content="Notification initiale d'incident majeur lié aux TIC : espace adhérent, accès frauduleux.",
            late_reason=(
                "Classification confirmée la veille ; l'accès au portail de déclaration était détenu par le RSSI "
                "absent, la déclaration a été faite par son suppléant après obtention des droits."
            ),
        )
        # Left running on purpose: CNIL (72 h, due in about 42 h), complaint for the cyber insurance
        # (due in about 22 h), Art. 34 communication (internal target passed), DORA intermediate report.


def seed(*, now: datetime | None = None) -> SeedReport:
    """Create whatever part of the demo is missing; call inside `transaction.atomic()`."""
    return DemoBuilder(now=now or timezone.now()).seed()


def logins() -> list[tuple[str, str, str, str]]:
    """(username, password, TOTP secret, roles) of the demo users, as printed by `seed_demo`."""
    names = {spec.code: spec.name for spec in ORGANIZATIONS}
    rows = []
    for spec in USERS:
        roles = ", ".join(f"{Membership.Role(role).value} @ {names[code]}" for code, role in spec.memberships)
        if spec.superuser:
            roles = f"superuser (Django admin); {roles}"
        rows.append((spec.username, spec.password, mfa.demo_secret_base32(spec.username), roles))
    return rows
