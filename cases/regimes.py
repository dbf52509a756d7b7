"""The regulatory rule catalogue of docs/regulations.md, as data, and the law over time.

One `Rule` per obligation a breach case can trigger: who it binds (an applicability
predicate over the case facts), what starts its clock (the anchor), how long it runs
(hours, calendar months, "without undue delay", on request or continuous), the
authority, and the legal source. Obligations copy the rule's wording when they are
generated, so editing a rule later never rewrites a past obligation.

Law changes, so a rule carries the period it is in force (`in_force_from` included,
`in_force_to` excluded, both days in Europe/Paris) and its legal stage (adopted, or a
proposal). When a rule changes, the catalogue keeps every version under the same code,
each with its own period: a case takes the version in force at the instant that starts
the rule's clock, so a case keeps the rules in force when it happened and a new case
gets the new rules the day they apply. A proposal is a draft `Regime`: a set of rule
variants shown next to the law for comparison, never used for a real deadline.

Nothing here touches the ORM: predicates read a `CaseFacts` snapshot built by the
services, so the catalogue can be tested as plain data.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from django.utils import translation
from django.utils.translation import gettext_lazy as _

# Laws apply from a calendar day; in France that day starts at midnight, Paris time.
PARIS = ZoneInfo("Europe/Paris")


class Authority(enum.StrEnum):
    CNIL = "cnil"
    ANSSI = "anssi"
    ARS_CERT_SANTE = "ars_cert_sante"
    ACPR = "acpr"
    AMF = "amf"
    PROSECUTOR = "prosecutor"
    CONTROLLER = "controller"
    DATA_SUBJECTS = "data_subjects"
    INTERNAL = "internal"

    @property
    def label(self) -> str:
        return str(AUTHORITY_LABELS[self])


AUTHORITY_LABELS = {
    Authority.CNIL: _("CNIL"),
    Authority.ANSSI: _("ANSSI / CERT-FR"),
    Authority.ARS_CERT_SANTE: _("ARS and CERT Santé (ANS)"),
    Authority.ACPR: _("ACPR (DORA competent authority)"),
    Authority.AMF: _("AMF (DORA competent authority)"),
    Authority.PROSECUTOR: _("Public prosecutor, police or gendarmerie"),
    Authority.CONTROLLER: _("Controller (client of the processor)"),
    Authority.DATA_SUBJECTS: _("Affected persons"),
    Authority.INTERNAL: _("Internal register"),
}


@functools.lru_cache(maxsize=256)
def authority_name(value: str, lang: str | None) -> str:
    """An authority's name in `lang`, looked up once per language (lists, feeds and registers print it on
    every row); the stored value if unknown. `lang` None is the source (English) wording."""
    try:
        label = AUTHORITY_LABELS[Authority(value)]
    except ValueError:
        return value
    with translation.override(lang):
        return str(label)


class Anchor(enum.StrEnum):
    """What starts a rule's clock."""

    AWARE_AT = "aware_at"  # GDPR awareness of a personal-data breach
    INCIDENT_KNOWN = "incident_known_at"  # knowledge of the security incident (falls back to aware_at)
    DORA_CLASSIFICATION = "dora_classification"  # classification as major, capped by awareness + 24 h
    CONTAINED = "contained_at"  # incident handled (NIS2 final report of a long incident)
    RULE_DONE = "rule_done"  # completion of another obligation of the same case
    AUTHORITY_REQUEST = "authority_request"  # due date set when the authority asks


ANCHOR_LABELS = {
    Anchor.AWARE_AT: _("awareness of the personal-data breach"),
    Anchor.INCIDENT_KNOWN: _("knowledge of the incident"),
    Anchor.DORA_CLASSIFICATION: _("classification of the ICT incident as major"),
    Anchor.CONTAINED: _("end of incident handling"),
    Anchor.RULE_DONE: _("completion of the preceding filing"),
    Anchor.AUTHORITY_REQUEST: _("the authority's request"),
}


class DeadlineKind(enum.StrEnum):
    HOURS = "hours"  # continuous calendar hours
    MONTHS = "months"  # calendar months in Europe/Paris
    UNDUE_DELAY = "undue_delay"  # no legal hour count: ASAP, internal target shown
    ON_REQUEST = "on_request"  # due date given by the authority
    CONTINUOUS = "continuous"  # kept up to date for as long as the case is open
    DORA_INITIAL = "dora_initial"  # 4 h after classification, at most 24 h after awareness


class Stage(enum.StrEnum):
    """How far a text has gone: adopted (law, possibly not yet applicable) or only proposed."""

    ADOPTED = "adopted"
    PROPOSAL = "proposal"


class RuleStatus(enum.StrEnum):
    """A rule's status at an instant, derived from its stage and its period in force."""

    IN_FORCE = "in_force"
    NOT_YET_APPLICABLE = "not_yet_applicable"  # adopted, applies from a later day
    NO_LONGER_IN_FORCE = "no_longer_in_force"  # its period has ended (repealed or replaced)
    PROPOSAL = "proposal"  # never in force: shown for comparison only


def day_start(day: date) -> datetime:
    """The instant a law applying from `day` starts to apply: midnight in Paris, in UTC."""
    return datetime.combine(day, time(0, 0), tzinfo=PARIS).astimezone(UTC)


@dataclass(frozen=True)
class CaseFacts:
    """The facts the applicability predicates read; built from a case by the services."""

    is_controller: bool
    is_processor: bool
    is_nis2_entity: bool = False
    is_ose: bool = False
    is_oiv: bool = False
    is_health_establishment: bool = False
    is_dora_entity: bool = False
    has_cyber_insurance: bool = False
    high_risk: bool = False
    inform_persons_decided: bool = False
    nis2_significant: bool | None = None
    dora_major: bool | None = None
    ongoing: bool = False  # still ongoing, or was when its NIS2 final report fell due (services.obligations)
    has_controllers_to_inform: bool = False


Predicate = Callable[[CaseFacts], bool]


@dataclass(frozen=True)
class Rule:
    code: str
    label_fr: str
    label_en: str
    authority: Authority
    anchor: Anchor
    kind: DeadlineKind
    applies: Predicate
    source: str
    legal_text_fr: str
    legal_text_en: str
    hours: int = 0
    months: int = 0
    after_rule: str = ""  # for Anchor.RULE_DONE: the rule whose completion starts this one
    practice_hours: int | None = None  # default internal target for "without undue delay"
    weekend_relief: bool = False  # DORA: may file by 12:00 the next working day
    per_controller: bool = False  # one obligation per controller the processor must inform
    status_note: str = ""  # e.g. transposition not yet in force
    notes: str = ""
    tags: tuple[str, ...] = field(default=())
    # The period in force: from `in_force_from` (included) to `in_force_to` (excluded), Paris days;
    # `in_force_to` is set when the rule is repealed or replaced by a newer version of the same code.
    in_force_from: date | None = None
    in_force_to: date | None = None
    stage: Stage = Stage.ADOPTED
    # DORA, RTS 2025/301 art. 5(5)-(6): entities that may not use the weekend relief lose it for
    # this report (the initial notification and the intermediate report, not the final report).
    relief_excludable: bool = False
    # DORA, RTS 2025/301 art. 5(1)(b): the report is updated later (updated intermediate report).
    accepts_updates: bool = False
    # DORA, RTS 2025/301 art. 5(1)(c): this rule runs from the latest update of `after_rule`.
    from_latest_update: bool = False
    # The organisation setting naming the authority (e.g. the DORA competent authority), if any.
    authority_setting: str = ""
    # A short name for sentences ("the CNIL notification") and, for a variant, what it changes.
    short_label: str = ""
    summary: str = ""
    # The rule that takes this one's place on a case where it binds (in force at its anchor and applying):
    # the general complaint gives way to the cyber-insurance complaint, but only from the day that law applies.
    replaced_by: str = ""

    @property
    def version(self) -> str:
        """Identifies this version among the rules sharing its code: the day it applies from."""
        return self.in_force_from.isoformat() if self.in_force_from else ""

    def status_at(self, instant: datetime) -> RuleStatus:
        if self.stage is Stage.PROPOSAL:
            return RuleStatus.PROPOSAL
        if self.in_force_from is not None and instant < day_start(self.in_force_from):
            return RuleStatus.NOT_YET_APPLICABLE
        if self.in_force_to is not None and instant >= day_start(self.in_force_to):
            return RuleStatus.NO_LONGER_IN_FORCE
        return RuleStatus.IN_FORCE

    def in_force_at(self, instant: datetime) -> bool:
        return self.status_at(instant) is RuleStatus.IN_FORCE

    def label(self, lang: str = "fr") -> str:
        return self.label_en if lang == "en" else self.label_fr

    def legal_text(self, lang: str = "fr") -> str:
        return self.legal_text_en if lang == "en" else self.legal_text_fr

    def deadline_label(self, lang: str = "fr") -> str:
        fr = lang != "en"
        if self.kind is DeadlineKind.HOURS:
            return f"{self.hours} h"
        if self.kind is DeadlineKind.MONTHS:
            return (f"{self.months} mois") if fr else (f"{self.months} month" + ("s" if self.months > 1 else ""))
        if self.kind is DeadlineKind.UNDUE_DELAY:
            return "sans délai (au plus tôt)" if fr else "without undue delay (ASAP)"
        if self.kind is DeadlineKind.ON_REQUEST:
            return "à la demande de l'autorité" if fr else "on the authority's request"
        if self.kind is DeadlineKind.CONTINUOUS:
            return "en continu" if fr else "continuous"
        return "4 h après classification, au plus 24 h" if fr else "4 h after classification, at most 24 h"


def _controller(f: CaseFacts) -> bool:
    return f.is_controller


def _nis2(f: CaseFacts) -> bool:
    return f.is_nis2_entity and f.nis2_significant is not False


def _dora(f: CaseFacts) -> bool:
    return f.is_dora_entity and f.dora_major is True


# The days each text applies from (see each rule's source; what was checked, and against what, is noted).
# Regulation (EU) 2016/679, art. 99(2): applies from 25 May 2018.
GDPR_APPLIES = date(2018, 5, 25)
# Décret n° 2018-384 (NIS1 operators of essential services): JORF of 25 May 2018, in force on 26 May 2018.
NIS1_DECREE_APPLIES = date(2018, 5, 26)
# Code de la défense, art. L1332-6-2, created by loi n° 2013-1168 (LPM): consolidated code of 20 December 2013.
OIV_LAW_APPLIES = date(2013, 12, 20)
# Directive (EU) 2022/2555, art. 41(1): Member States apply their transposing measures from 18 October 2024.
# France had not transposed it at the last check (bill "résilience" still before the Assemblée nationale in
# autumn 2026): the NIS2 rules bind no French entity by law yet, so they apply only to an organisation that
# declares itself a NIS2 entity (`is_nis2_entity`), and carry that status note. When the French law is adopted,
# these versions get `in_force_to` and the French rules are added as new versions from the law's dates.
NIS2_APPLIES = date(2024, 10, 18)
# Décret n° 2016-1214 (serious IS incidents of health establishments, CSP D1111-16-2): in force 1 October 2017.
HEALTH_DECREE_APPLIES = date(2017, 10, 1)
# Regulation (EU) 2022/2554 (DORA), art. 64: applies from 17 January 2025. The time limits are those of
# Delegated Regulation (EU) 2025/301, published on 20 February 2025 and in force twenty days later.
DORA_APPLIES = date(2025, 1, 17)
# Code des assurances, art. L12-10-1 (loi n° 2023-22, LOPMI): in force on 24 April 2023.
LOPMI_APPLIES = date(2023, 4, 24)

# DORA art. 46: the competent authority follows the entity's sectoral supervision. In France, the ACPR for
# credit institutions, insurance undertakings (insurers, mutuelles), payment and e-money institutions; the
# AMF for the entities it supervises (portfolio management companies, crypto-asset service providers...).
DORA_AUTHORITIES = (Authority.ACPR, Authority.AMF)


RULES: tuple[Rule, ...] = (
    # --- GDPR (Regulation 2016/679) ---
    Rule(
        code="GDPR_33_1",
        label_fr="Notification de la violation à la CNIL (art. 33(1) RGPD)",
        label_en="Breach notification to the CNIL (GDPR Art. 33(1))",
        authority=Authority.CNIL,
        anchor=Anchor.AWARE_AT,
        kind=DeadlineKind.HOURS,
        hours=72,
        applies=_controller,
        source="Règlement (UE) 2016/679, art. 33(1) et 33(3)",
        legal_text_fr=(
            "En cas de violation de données à caractère personnel, le responsable du traitement en notifie "
            "la violation en question à l'autorité de contrôle compétente dans les meilleurs délais et, si "
            "possible, 72 heures au plus tard après en avoir pris connaissance, à moins qu'il soit peu "
            "probable que la violation en question engendre un risque pour les droits et libertés des "
            "personnes physiques. Lorsque la notification n'a pas lieu dans les 72 heures, elle est "
            "accompagnée des motifs du retard."
        ),
        legal_text_en=(
            "In the case of a personal data breach, the controller shall without undue delay and, where "
            "feasible, not later than 72 hours after having become aware of it, notify the personal data "
            "breach to the supervisory authority, unless the breach is unlikely to result in a risk to the "
            "rights and freedoms of natural persons. Where the notification is not made within 72 hours, it "
            "shall be accompanied by reasons for the delay."
        ),
        notes="Content, Art. 33(3): nature, categories and numbers; DPO contact; consequences; measures.",
        in_force_from=GDPR_APPLIES,
        short_label=_("the CNIL notification"),
    ),
    Rule(
        code="GDPR_33_4",
        label_fr="Notification complémentaire à la CNIL (art. 33(4) RGPD)",
        label_en="Complementary notification to the CNIL (GDPR Art. 33(4))",
        authority=Authority.CNIL,
        anchor=Anchor.RULE_DONE,
        after_rule="GDPR_33_1",
        kind=DeadlineKind.UNDUE_DELAY,
        practice_hours=72,
        applies=_controller,
        source="Règlement (UE) 2016/679, art. 33(4) ; pratique CNIL (notification complémentaire)",
        legal_text_fr=(
            "Si, et dans la mesure où, il n'est pas possible de fournir toutes les informations en même "
            "temps, les informations peuvent être communiquées de manière échelonnée sans autre retard "
            "indu."
        ),
        legal_text_en=(
            "Where, and in so far as, it is not possible to provide the information at the same time, the "
            "information may be provided in phases without undue further delay."
        ),
        notes="The CNIL asks for the complementary notification within 72 h of the initial one where possible.",
        in_force_from=GDPR_APPLIES,
    ),
    Rule(
        code="GDPR_33_2",
        label_fr="Information du responsable du traitement par le sous-traitant (art. 33(2) RGPD)",
        label_en="Processor informs the controller (GDPR Art. 33(2))",
        authority=Authority.CONTROLLER,
        anchor=Anchor.AWARE_AT,
        kind=DeadlineKind.UNDUE_DELAY,
        applies=lambda f: f.is_processor and f.has_controllers_to_inform,
        per_controller=True,
        source="Règlement (UE) 2016/679, art. 33(2) ; délai contractuel le cas échéant (art. 28)",
        legal_text_fr=(
            "Le sous-traitant notifie au responsable du traitement toute violation de données à caractère "
            "personnel dans les meilleurs délais après en avoir pris connaissance."
        ),
        legal_text_en=(
            "The processor shall notify the controller without undue delay after becoming aware of a "
            "personal data breach."
        ),
        notes="One obligation per controller; the contract's notice period replaces the internal target.",
        in_force_from=GDPR_APPLIES,
    ),
    Rule(
        code="GDPR_33_5",
        label_fr="Documentation de la violation au registre interne (art. 33(5) RGPD)",
        label_en="Breach documented in the internal register (GDPR Art. 33(5))",
        authority=Authority.INTERNAL,
        anchor=Anchor.AWARE_AT,
        kind=DeadlineKind.CONTINUOUS,
        applies=_controller,
        source="Règlement (UE) 2016/679, art. 33(5)",
        legal_text_fr=(
            "Le responsable du traitement documente toute violation de données à caractère personnel, en "
            "indiquant les faits concernant la violation des données à caractère personnel, ses effets et "
            "les mesures prises pour y remédier."
        ),
        legal_text_en=(
            "The controller shall document any personal data breaches, comprising the facts relating to the "
            "personal data breach, its effects and the remedial action taken."
        ),
        notes="Completed when the case is closed: the case record is the register entry.",
        in_force_from=GDPR_APPLIES,
    ),
    Rule(
        code="GDPR_34",
        label_fr="Communication de la violation aux personnes concernées (art. 34 RGPD)",
        label_en="Communication of the breach to data subjects (GDPR Art. 34)",
        authority=Authority.DATA_SUBJECTS,
        anchor=Anchor.AWARE_AT,
        kind=DeadlineKind.UNDUE_DELAY,
        applies=lambda f: f.is_controller and (f.high_risk or f.inform_persons_decided),
        source="Règlement (UE) 2016/679, art. 34(1) à 34(4)",
        legal_text_fr=(
            "Lorsqu'une violation de données à caractère personnel est susceptible d'engendrer un risque "
            "élevé pour les droits et libertés d'une personne physique, le responsable du traitement "
            "communique la violation de données à caractère personnel à la personne concernée dans les "
            "meilleurs délais."
        ),
        legal_text_en=(
            "When the personal data breach is likely to result in a high risk to the rights and freedoms of "
            "natural persons, the controller shall communicate the personal data breach to the data subject "
            "without undue delay."
        ),
        notes="Art. 34(2) content; exemptions Art. 34(3)(a)-(c); the authority may order it, Art. 34(4).",
        in_force_from=GDPR_APPLIES,
    ),
    # --- Cybersecurity agency and sector regimes ---
    Rule(
        code="NIS1_OSE",
        label_fr="Déclaration d'incident à l'ANSSI (opérateur de services essentiels)",
        label_en="Incident declaration to ANSSI (operator of essential services)",
        authority=Authority.ANSSI,
        anchor=Anchor.INCIDENT_KNOWN,
        kind=DeadlineKind.UNDUE_DELAY,
        applies=lambda f: f.is_ose,
        source="Décret n° 2018-384, art. 11 ; loi n° 2018-133",
        legal_text_fr=(
            "Les opérateurs de services essentiels déclarent à l'autorité nationale de sécurité des systèmes "
            "d'information, dès qu'ils en ont connaissance, les incidents affectant les réseaux et systèmes "
            "d'information nécessaires à la fourniture de services essentiels."
        ),
        legal_text_en=(
            "Operators of essential services declare to the national information systems security authority, "
            "as soon as they become aware of them, incidents affecting the network and information systems "
            "needed to provide essential services."
        ),
        in_force_from=NIS1_DECREE_APPLIES,
    ),
    Rule(
        code="OIV",
        label_fr="Déclaration d'incident à l'ANSSI (opérateur d'importance vitale)",
        label_en="Incident declaration to ANSSI (operator of vital importance)",
        authority=Authority.ANSSI,
        anchor=Anchor.INCIDENT_KNOWN,
        kind=DeadlineKind.UNDUE_DELAY,
        applies=lambda f: f.is_oiv,
        source="Code de la défense, art. L1332-6-2",
        legal_text_fr=(
            "Les opérateurs informent sans délai le Premier ministre des incidents affectant le "
            "fonctionnement ou la sécurité des systèmes d'information de leurs systèmes d'importance vitale."
        ),
        legal_text_en=(
            "Operators inform the Prime Minister without delay of incidents affecting the operation or "
            "security of the information systems of their vital-importance systems."
        ),
        in_force_from=OIV_LAW_APPLIES,
    ),
    Rule(
        code="NIS2_24H",
        label_fr="NIS2 : alerte précoce au CSIRT / ANSSI (24 h)",
        label_en="NIS2 early warning to the CSIRT / ANSSI (24 h)",
        authority=Authority.ANSSI,
        anchor=Anchor.INCIDENT_KNOWN,
        kind=DeadlineKind.HOURS,
        hours=24,
        applies=_nis2,
        source="Directive (UE) 2022/2555, art. 23(4)(a)",
        status_note="Transposition française en cours d'adoption : règle activable par organisation.",
        legal_text_fr=(
            "Sans retard injustifié et en tout état de cause dans les 24 heures après avoir eu connaissance "
            "de l'incident important, une alerte précoce."
        ),
        legal_text_en=(
            "Without undue delay and in any event within 24 hours of becoming aware of the significant "
            "incident, an early warning."
        ),
        in_force_from=NIS2_APPLIES,
    ),
    Rule(
        code="NIS2_72H",
        label_fr="NIS2 : notification d'incident (72 h)",
        label_en="NIS2 incident notification (72 h)",
        authority=Authority.ANSSI,
        anchor=Anchor.INCIDENT_KNOWN,
        kind=DeadlineKind.HOURS,
        hours=72,
        applies=_nis2,
        source="Directive (UE) 2022/2555, art. 23(4)(b)",
        status_note="Transposition française en cours d'adoption : règle activable par organisation.",
        legal_text_fr=(
            "Sans retard injustifié et en tout état de cause dans les 72 heures après avoir eu connaissance "
            "de l'incident important, une notification d'incident."
        ),
        legal_text_en=(
            "Without undue delay and in any event within 72 hours of becoming aware of the significant "
            "incident, an incident notification."
        ),
        in_force_from=NIS2_APPLIES,
    ),
    Rule(
        code="NIS2_INTERMEDIATE",
        label_fr="NIS2 : rapport intermédiaire (sur demande)",
        label_en="NIS2 intermediate report (on request)",
        authority=Authority.ANSSI,
        anchor=Anchor.AUTHORITY_REQUEST,
        kind=DeadlineKind.ON_REQUEST,
        applies=_nis2,
        source="Directive (UE) 2022/2555, art. 23(4)(c)",
        status_note="Transposition française en cours d'adoption : règle activable par organisation.",
        legal_text_fr="À la demande du CSIRT ou de l'autorité compétente, un rapport intermédiaire.",
        legal_text_en="Upon the request of a CSIRT or the competent authority, an intermediate report.",
        in_force_from=NIS2_APPLIES,
    ),
    Rule(
        code="NIS2_FINAL",
        label_fr="NIS2 : rapport final (1 mois)",
        label_en="NIS2 final report (1 month)",
        authority=Authority.ANSSI,
        anchor=Anchor.RULE_DONE,
        after_rule="NIS2_72H",
        kind=DeadlineKind.MONTHS,
        months=1,
        applies=lambda f: _nis2(f) and not f.ongoing,
        source="Directive (UE) 2022/2555, art. 23(4)(d)",
        status_note="Transposition française en cours d'adoption : règle activable par organisation.",
        legal_text_fr=("Un rapport final au plus tard un mois après la présentation de la notification d'incident."),
        legal_text_en="A final report not later than one month after the submission of the incident notification.",
        in_force_from=NIS2_APPLIES,
    ),
    Rule(
        code="NIS2_PROGRESS",
        label_fr="NIS2 : rapport d'avancement (incident en cours, 1 mois)",
        label_en="NIS2 progress report (incident ongoing, 1 month)",
        authority=Authority.ANSSI,
        anchor=Anchor.RULE_DONE,
        after_rule="NIS2_72H",
        kind=DeadlineKind.MONTHS,
        months=1,
        applies=lambda f: _nis2(f) and f.ongoing,
        source="Directive (UE) 2022/2555, art. 23(4)(e)",
        status_note="Transposition française en cours d'adoption : règle activable par organisation.",
        legal_text_fr=(
            "Si l'incident est en cours au moment de la présentation du rapport final, un rapport "
            "d'avancement est présenté à ce moment-là, puis un rapport final dans un délai d'un mois à "
            "compter du traitement de l'incident."
        ),
        legal_text_en=(
            "In the event of an ongoing incident at the time of the submission of the final report, a "
            "progress report at that time and a final report within one month of their handling of the "
            "incident."
        ),
        in_force_from=NIS2_APPLIES,
    ),
    Rule(
        code="NIS2_FINAL_AFTER_HANDLING",
        label_fr="NIS2 : rapport final après traitement de l'incident (1 mois)",
        label_en="NIS2 final report after handling of the incident (1 month)",
        authority=Authority.ANSSI,
        anchor=Anchor.CONTAINED,
        kind=DeadlineKind.MONTHS,
        months=1,
        applies=lambda f: _nis2(f) and f.ongoing,
        source="Directive (UE) 2022/2555, art. 23(4)(e)",
        status_note="Transposition française en cours d'adoption : règle activable par organisation.",
        legal_text_fr="Un rapport final dans un délai d'un mois à compter du traitement de l'incident.",
        legal_text_en="A final report within one month of their handling of the incident.",
        in_force_from=NIS2_APPLIES,
    ),
    Rule(
        code="HEALTH_L1111_8_2",
        label_fr="Signalement d'incident grave de sécurité des SI à l'ARS et au CERT Santé",
        label_en="Serious information-system incident report to the ARS and CERT Santé",
        authority=Authority.ARS_CERT_SANTE,
        anchor=Anchor.INCIDENT_KNOWN,
        kind=DeadlineKind.UNDUE_DELAY,
        applies=lambda f: f.is_health_establishment,
        source="Code de la santé publique, art. L1111-8-2 et D1111-16-2",
        legal_text_fr=(
            "Les établissements de santé et les organismes et services exerçant des activités de prévention, "
            "de diagnostic ou de soins signalent sans délai les incidents graves de sécurité des systèmes "
            "d'information à l'agence régionale de santé."
        ),
        legal_text_en=(
            "Health establishments and bodies providing prevention, diagnosis or care report serious "
            "information-system security incidents without delay to the regional health agency."
        ),
        in_force_from=HEALTH_DECREE_APPLIES,
    ),
    # --- DORA (Regulation 2022/2554), RTS 2025/301 ---
    Rule(
        code="DORA_INITIAL",
        label_fr="DORA : notification initiale d'incident majeur lié aux TIC",
        label_en="DORA initial notification of a major ICT-related incident",
        authority=Authority.ACPR,
        anchor=Anchor.DORA_CLASSIFICATION,
        kind=DeadlineKind.DORA_INITIAL,
        hours=4,
        weekend_relief=True,
        applies=_dora,
        source=(
            "Règlement (UE) 2022/2554, art. 19(4)(a) ; règlement délégué (UE) 2025/301, art. 5(1)(a), 5(2) "
            "et 5(4) à 5(6)"
        ),
        legal_text_fr=(
            "La notification initiale est présentée dans les 4 heures suivant la classification de "
            "l'incident comme majeur, et au plus tard 24 heures après que l'entité financière a eu "
            "connaissance de l'incident."
        ),
        legal_text_en=(
            "The initial notification is submitted within 4 hours from the classification of the incident "
            "as major, and no later than 24 hours from the moment the financial entity became aware of it."
        ),
        notes="If classified more than 24 h after awareness: 4 h after classification.",
        in_force_from=DORA_APPLIES,
        relief_excludable=True,
        authority_setting="dora_authority",
    ),
    Rule(
        code="DORA_INTERMEDIATE",
        label_fr="DORA : rapport intermédiaire (72 h)",
        label_en="DORA intermediate report (72 h)",
        authority=Authority.ACPR,
        anchor=Anchor.RULE_DONE,
        after_rule="DORA_INITIAL",
        kind=DeadlineKind.HOURS,
        hours=72,
        weekend_relief=True,
        applies=_dora,
        source=(
            "Règlement (UE) 2022/2554, art. 19(4)(b) ; règlement délégué (UE) 2025/301, art. 5(1)(b) et 5(4) à 5(6)"
        ),
        legal_text_fr=(
            "Le rapport intermédiaire est présenté dans les 72 heures suivant la notification initiale, et "
            "mis à jour lorsque l'activité normale a été rétablie."
        ),
        legal_text_en=(
            "The intermediate report is submitted within 72 hours from the initial notification, and updated "
            "when regular activities have been recovered."
        ),
        in_force_from=DORA_APPLIES,
        relief_excludable=True,
        accepts_updates=True,
        authority_setting="dora_authority",
    ),
    Rule(
        code="DORA_FINAL",
        label_fr="DORA : rapport final (1 mois)",
        label_en="DORA final report (1 month)",
        authority=Authority.ACPR,
        anchor=Anchor.RULE_DONE,
        after_rule="DORA_INTERMEDIATE",
        kind=DeadlineKind.MONTHS,
        months=1,
        weekend_relief=True,
        applies=_dora,
        source="Règlement (UE) 2022/2554, art. 19(4)(c) ; règlement délégué (UE) 2025/301, art. 5(1)(c) et 5(4)",
        legal_text_fr="Le rapport final est présenté au plus tard un mois après le dernier rapport intermédiaire.",
        legal_text_en="The final report is submitted no later than one month after the latest intermediate report.",
        in_force_from=DORA_APPLIES,
        from_latest_update=True,
        authority_setting="dora_authority",
    ),
    # --- Criminal complaint ---
    Rule(
        code="COMPLAINT_INSURANCE",
        label_fr="Dépôt de plainte pour l'indemnisation cyber-assurance (72 h)",
        label_en="Criminal complaint for the cyber-insurance indemnity (72 h)",
        authority=Authority.PROSECUTOR,
        anchor=Anchor.INCIDENT_KNOWN,
        kind=DeadlineKind.HOURS,
        hours=72,
        applies=lambda f: f.has_cyber_insurance,
        source="Code des assurances, art. L12-10-1 (loi n° 2023-22 LOPMI, en vigueur le 24 avril 2023)",
        legal_text_fr=(
            "Le versement d'une somme en application de la clause d'un contrat d'assurance visant à "
            "indemniser un assuré des pertes et dommages causés par une atteinte à un système de traitement "
            "automatisé de données est subordonné au dépôt d'une plainte de la victime auprès des autorités "
            "compétentes au plus tard soixante-douze heures après la connaissance de l'atteinte par la "
            "victime."
        ),
        legal_text_en=(
            "Payment under an insurance clause covering losses caused by an attack on an automated data "
            "processing system is conditional on the victim filing a complaint with the competent authorities "
            "no later than seventy-two hours after becoming aware of the attack."
        ),
        notes="Proof: the récépissé (CPP art. 15-3).",
        in_force_from=LOPMI_APPLIES,
    ),
    Rule(
        code="COMPLAINT_GENERAL",
        label_fr="Dépôt de plainte (recommandé sans délai)",
        label_en="Criminal complaint (recommended at once)",
        authority=Authority.PROSECUTOR,
        anchor=Anchor.INCIDENT_KNOWN,
        kind=DeadlineKind.UNDUE_DELAY,
        applies=lambda f: True,  # every victim organisation, unless the insurance complaint binds it
        replaced_by="COMPLAINT_INSURANCE",
        source="Code de procédure pénale, art. 15-3 et 40 ; pas de délai légal",
        legal_text_fr=(
            "Aucun délai légal : la plainte est recommandée sans délai auprès du procureur de la République, "
            "de la police ou de la gendarmerie, qui sont tenus de la recevoir et d'en délivrer récépissé."
        ),
        legal_text_en=(
            "No legal deadline: a complaint is recommended at once, to the public prosecutor, police or "
            "gendarmerie, who must take it and give a receipt."
        ),
    ),
)


def versions(code: str) -> list[Rule]:
    """Every version of a rule, oldest first (the catalogue keeps ended versions for past cases)."""
    found = [rule for rule in RULES if rule.code == code]
    if not found:
        raise KeyError(f"Unknown rule code {code!r}")
    return found


def rule_codes() -> list[str]:
    """The rule codes in catalogue order, each once."""
    return list(dict.fromkeys(rule.code for rule in RULES))


def rule_version(code: str, version: str) -> Rule:
    """The exact version an obligation was generated from; the oldest when it recorded none."""
    found = versions(code)
    return next((rule for rule in found if rule.version == version), found[0])


def rules_in_force(at: datetime) -> list[Rule]:
    """One version per rule code, those in force at `at`, in catalogue order."""
    return [rule for rule in RULES if rule.in_force_at(at)]


# The newest version of each rule: what a rule is called and how it runs when no instant is at stake.
RULES_BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}


def get_rule(code: str) -> Rule:
    try:
        return RULES_BY_CODE[code]
    except KeyError:
        raise KeyError(f"Unknown rule code {code!r}") from None


def without_replaced(rules: list[Rule]) -> list[Rule]:
    """`rules` (each in force and applying) less those another of them replaces (`Rule.replaced_by`)."""
    codes = {rule.code for rule in rules}
    return [rule for rule in rules if not (rule.replaced_by and rule.replaced_by in codes)]


def applicable_rules(facts: CaseFacts, *, at: datetime | None = None) -> list[Rule]:
    """The rules in force at `at` (now by default) that bind an organisation given the case facts."""
    return without_replaced([rule for rule in rules_in_force(at or datetime.now(UTC)) if rule.applies(facts)])


RULE_CHOICES = list(dict.fromkeys((rule.code, rule.label_en) for rule in RULES))


def anchor_label(rule: Rule) -> str:
    return str(ANCHOR_LABELS[rule.anchor])


@dataclass(frozen=True)
class Regime:
    """A set of rule versions with a legal stage: the law, or a proposal loaded as a draft.

    A draft's rules are variants of catalogue rules (same code, the changes it proposes); they
    are compared with the law on a case and never generate an obligation, a reminder or a
    calendar entry. The next proposal is one more `Regime` here.
    """

    code: str
    name: str
    stage: Stage
    reference: str
    note: str
    rules: tuple[Rule, ...]


def proposed_variant(code: str, **changes) -> Rule:
    """A proposal's version of a catalogue rule: its changes, never in force, wording not copied anywhere."""
    # The law's wording is blanked: a variant says what it changes in `summary`, nothing else is quoted.
    base = replace(get_rule(code), legal_text_fr="", legal_text_en="", notes="")
    return replace(base, stage=Stage.PROPOSAL, in_force_from=None, in_force_to=None, **changes)


def _controller_high_risk(f: CaseFacts) -> bool:
    return f.is_controller and f.high_risk


# Commission proposal COM(2025) 837 final of 19 November 2025, procedure 2025/0360(COD) ("Digital Omnibus"):
# GDPR art. 33(1) would require a notification only for breaches likely to result in a high risk, not later
# than 96 hours after awareness, through the single entry point run by ENISA. Checked against the proposal's
# title page and the summaries of the EDPB-EDPS joint opinion; its amended wording was not read in full.
DIGITAL_OMNIBUS = Regime(
    code="digital_omnibus",
    name=_("Digital Omnibus proposal"),
    stage=Stage.PROPOSAL,
    reference="COM(2025) 837 final, 2025/0360(COD)",
    note=_(
        "Commission proposal of 19 November 2025 amending the GDPR, still before the European Parliament "
        "and the Council: not law."
    ),
    rules=(
        proposed_variant(
            "GDPR_33_1",
            hours=96,
            applies=_controller_high_risk,
            source="COM(2025) 837 final: règlement (UE) 2016/679, art. 33(1) modifié (proposition)",
            summary=_(
                "Notification not later than 96 hours after awareness, only for a breach likely to result in "
                "a high risk, through the single EU entry point run by ENISA."
            ),
        ),
    ),
)

# Proposals shown for comparison on a case, in this order.
DRAFT_REGIMES: tuple[Regime, ...] = (DIGITAL_OMNIBUS,)
