"""Builders of realistic cases for the dossier and member-letter tests (through the services only)."""

from __future__ import annotations

from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from cases.models import BreachCase, Filing, MemberCommunication, Obligation

from .conftest import paris

LONG_PARAGRAPH = ("Paragraphe très long sur l'incident, répété pour tester la pagination. " * 150)[:10_000]
TRICKY_TITLES = [
    "<b>gras</b> & <font name='x'>",
    "balise <i>non fermée",
    "emoji 😀🔐 dans le titre",
    "مرحبا بالعالم",
    "שלום עולם",
]
EURO_LINE = "Préjudice estimé à 1 000 € — données de santé"


def rich_case(org, dpo, make_user) -> BreachCase:
    """A credential-theft case with clocks moved, events, evidence, filings, decisions and a letter."""
    org.siren = "123456789"
    org.dpo_name = "Hélène Dupré"
    org.dpo_email = "dpo@mutuelle-exemple.fr"
    org.dpo_phone = "01 23 45 67 89"
    org.legal_rep_name = "Jean Martin"
    org.legal_rep_title = "Directeur général"
    org._change_reason = "Fiche DPO complétée."
    from django.db import transaction

    with transaction.atomic():
        org.save()
    legal = make_user(org, "legal", "juriste")
    case = services.case_open(
        organization=org,
        title="Accès frauduleux au portail — <b>tiers payant</b> & co",
        first_signal_at=paris(2024, 2, 1, 9, 0),
        aware_at=paris(2024, 2, 1, 18, 0),
        aware_justification="Les journaux confirment la lecture de données à 17 h 40.",
        acting_user=dpo,
        first_signal_source="Courriel d'un professionnel de santé",
        description=LONG_PARAGRAPH,
        data_categories=["identity", "nir", "insurance"],
        subject_categories=["members"],
        persons_approx=33_000_000,
        records_approx=40_000_000,
        likely_consequences=EURO_LINE,
        measures_immediate="Désactivation des comptes compromis.",
        measures_medium="",
        origin=BreachCase.Origin.CREDENTIAL_THEFT,
        cause=BreachCase.Cause.EXTERNAL_MALICIOUS,
        breach_confidentiality=True,
        severity_ei=Decimal("1"),
        severity_cb_confidentiality=Decimal("0.5"),
        severity_cb_malicious=True,
    )
    case = services.case_update_facts(
        case,
        acting_user=dpo,
        change_reason="Heure corrigée après analyse des journaux.",
        aware_at=paris(2024, 2, 1, 17, 40),
    )
    for i, title in enumerate(TRICKY_TITLES):
        services.timeline_event_add(
            case,
            occurred_at=paris(2024, 2, 2, 8, i),
            title=title,
            description=f"Description {i} <unbalanced & &amp; </p>",
            acting_user=dpo,
        )
    services.timeline_event_add(
        case, occurred_at=paris(2024, 2, 2, 9, 0), title="Vide", description="", acting_user=dpo
    )
    receipt = services.evidence_add(
        case,
        uploaded_file=SimpleUploadedFile("Récépissé CNIL.txt", "Accusé de réception n° 2024-0042 €".encode()),
        description="Accusé de réception CNIL",
        acting_user=dpo,
    )
    cnil = case.obligations.get(rule_code="GDPR_33_1")
    services.filing_record(
        case,
        kind=Filing.Kind.CNIL_INITIAL,
        sent_at=paris(2024, 2, 3, 10, 0),
        obligation=cnil,
        reference="CNIL-2024-0042",
        channel="Téléservice CNIL",
        recipient="CNIL",
        content="Notification initiale.",
        evidence=receipt,
        late_reason="Analyse des journaux plus longue que prévu.",
        acting_user=dpo,
    )
    services.decision_notify_authority(case, notify=True, reason="Risque élevé pour les adhérents.", acting_user=legal)
    services.decision_inform_persons(case, inform=True, reason="NIR et garanties exposés.", acting_user=legal)
    services.member_communication_record(
        case,
        channel=MemberCommunication.Channel.LETTER,
        sent_at=paris(2024, 2, 20, 9, 0),
        recipients_count=120_000,
        text="Madame, Monsieur, vos données ont été consultées…",
        late_reason="Envoi groupé avec l'imprimeur.",
        acting_user=dpo,
    )
    pending = case.obligations.filter(state=Obligation.State.PENDING).exclude(rule_code="GDPR_33_5").first()
    if pending is not None:
        services.obligation_mark_not_applicable(
            pending, reason="Pas d'assurance cyber <i>souscrite</i>.", acting_user=legal
        )
    case.refresh_from_db()
    return case
