"""CSV import of a processor's controllers: a preview line by line, then one atomic import; nothing half-done."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cases import services
from cases.models import Membership, Organization, ProcessingRelationship

HEADER = "Nom;SIREN;E-mails;Délai (heures);Référence contrat\n"


@pytest.fixture
def operator(make_org):
    return make_org(name="Opérateur TP", code="optp", kind=Organization.Kind.PROCESSOR)


@pytest.fixture
def admin(operator, make_user):
    return make_user(operator, Membership.Role.ADMIN, "op-admin")


def lines(n: int, start: int = 0) -> str:
    return "".join(
        f"Assureur {i};{100000000 + i};dpo@as{i}.example, rssi@as{i}.example;{24 if i % 2 else ''};C-{i}\n"
        for i in range(start, start + n)
    )


def test_a_good_file_is_previewed_then_imported(operator, admin):
    text = HEADER + lines(3)
    preview = services.relationships_import_preview(processor=operator, text=text, acting_user=admin)
    assert [line.action for line in preview] == ["create"] * 3
    assert not ProcessingRelationship.objects.exists()  # a preview saves nothing
    counts = services.relationships_import(processor=operator, text=text, acting_user=admin)
    assert counts == {"created": 3, "updated": 0, "unchanged": 0, "rejected": 0}
    rel = ProcessingRelationship.objects.get(controller_siren="100000001")
    assert rel.is_active and not rel.on_platform and rel.notice_period_hours == 24
    assert [c["email"] for c in rel.contacts] == ["dpo@as1.example", "rssi@as1.example"]
    assert rel.contract_reference == "C-1" and rel.processor_accepted_by == admin


def test_a_second_import_updates_by_siren_and_reports_unchanged_lines(operator, admin):
    services.relationships_import(processor=operator, text=HEADER + lines(2), acting_user=admin)
    text = HEADER + lines(1) + "Assureur 1 renommé;100000001;dpo@as1.example;48;C-1\n"
    preview = services.relationships_import_preview(processor=operator, text=text, acting_user=admin)
    assert [line.action for line in preview] == ["unchanged", "update"]
    counts = services.relationships_import(processor=operator, text=text, acting_user=admin)
    assert counts["updated"] == 1 and counts["unchanged"] == 1
    rel = ProcessingRelationship.objects.get(controller_siren="100000001")
    assert rel.controller_name == "Assureur 1 renommé" and rel.notice_period_hours == 48 and rel.version == 2


def test_bad_lines_are_shown_with_their_reasons_and_nothing_is_imported_unless_chosen(operator, admin):
    text = (
        HEADER
        + lines(2)
        + ";100000009;;;\n"  # no name
        + "Mauvais SIREN;12345;;;\n"
        + "Doublon;100000000;;;\n"  # same SIREN as line 2
        + "Mauvais e-mail;100000010;pas-un-email;;\n"
        + "Mauvais délai;100000011;;0;\n"
        + "Caractère\u202eretourné;100000012;;;\n"
    )
    preview = services.relationships_import_preview(processor=operator, text=text, acting_user=admin)
    rejected = {line.number: line.reasons for line in preview if line.action == "reject"}
    assert set(rejected) == {4, 5, 6, 7, 8, 9}
    assert all(reasons for reasons in rejected.values())
    assert "line 2" in rejected[6][0] or "ligne 2" in rejected[6][0]
    with pytest.raises(ValidationError) as exc:
        services.relationships_import(processor=operator, text=text, acting_user=admin)
    assert "file" in exc.value.message_dict
    assert not ProcessingRelationship.objects.exists()
    counts = services.relationships_import(processor=operator, text=text, acting_user=admin, skip_rejected=True)
    assert counts == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 6}
    assert ProcessingRelationship.objects.count() == 2


@pytest.mark.parametrize("text", ["", "   ", "Nom;Contact\nA;b@c.fr\n", HEADER, "x" * 2_000_001, None, 42])
def test_unusable_files_are_refused_with_a_message(operator, admin, text):
    with pytest.raises(ValidationError) as exc:
        services.relationships_import_preview(processor=operator, text=text, acting_user=admin)
    assert "file" in exc.value.message_dict


def test_an_import_never_touches_an_on_platform_relationship(operator, admin, make_org, make_relationship):
    insurer = make_org(name="Assureur plateforme", code="asp")
    linked = make_relationship(operator, insurer, controller_siren="100000000")
    preview = services.relationships_import_preview(processor=operator, text=HEADER + lines(1), acting_user=admin)
    assert preview[0].action == "reject"
    linked.refresh_from_db()
    assert linked.version == 2  # created, accepted: nothing else


def test_only_the_processors_admin_imports(operator, admin, make_user, make_org):
    dpo = make_user(operator, Membership.Role.DPO)
    other = make_org(name="Autre", code="autre", kind=Organization.Kind.PROCESSOR)
    other_admin = make_user(other, Membership.Role.ADMIN)
    for user in (dpo, other_admin):
        with pytest.raises(PermissionDenied):
            services.relationships_import(processor=operator, text=HEADER + lines(1), acting_user=user)
    assert not ProcessingRelationship.objects.exists()


def test_a_hundred_lines_in_a_bounded_number_of_queries(operator, admin, django_assert_max_num_queries):
    text = HEADER + lines(100)
    with django_assert_max_num_queries(5):
        preview = services.relationships_import_preview(processor=operator, text=text, acting_user=admin)
    assert len(preview) == 100
    # Each audited record costs its own validation, insert, history row and chain head (no bulk write
    # skips the history): about ten queries per line, a constant that does not grow with the register.
    with django_assert_max_num_queries(10 + 11 * 100):
        services.relationships_import(processor=operator, text=text, acting_user=admin)
    assert ProcessingRelationship.objects.count() == 100
