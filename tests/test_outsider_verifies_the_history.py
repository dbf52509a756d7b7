"""An outsider verifies a case's history from its bundle alone: every row, the chain, the signed and
time-stamped checkpoints, and names the first broken item; the operator's own keys cannot rewrite
what a time-stamped checkpoint covers."""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection, transaction
from pypdf import PdfReader

from cases import checkpoints, services, verify_bundle
from cases.dossier.export import export_bundle, export_dossier
from cases.history import (
    GENESIS,
    HistoryChainHead,
    chain_rows,
    drop_trigger_statements,
    link_values,
    verify_chain,
)
from tests.conftest import paris
from tests.tsa import local_tsa

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(open_case, dpo):
    case = open_case()
    for hour in range(10, 14):
        services.timeline_event_add(case, occurred_at=paris(2024, 2, 1, hour), title=f"Étape {hour}", acting_user=dpo)
    return services.case_update_facts(case, acting_user=dpo, change_reason="Précision", description="Portail fermé.")


def bundle_of(case, user) -> dict:
    return json.loads(gzip.decompress(export_bundle(case, acting_user=user)))


def current_key() -> str:
    return checkpoints.key_id(checkpoints.signing_key().public_key())


def broken(bundle: dict, **options) -> str:
    with pytest.raises(verify_bundle.Broken) as failure:
        verify_bundle.verify(bundle, **options)
    return str(failure.value)


def edit(row: dict, **changes) -> None:
    """Change values in a bundle row's canonical JSON (keys stay sorted, as the application writes them)."""
    data = json.loads(row["canonical"])
    data.update(changes)
    row["canonical"] = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def rehash_from(bundle: dict, index: int) -> None:
    """What a forger does after touching row `index`: recompute that row's hash and every later link."""
    rows = bundle["rows"]
    prev = GENESIS if index == 0 else rows[index - 1]["hash"]
    for row in rows[index:]:
        data = json.loads(row["canonical"])
        data["chain_prev"] = prev
        row["canonical"] = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        row["hash"] = prev = hashlib.sha256(f"{prev}\n{row['canonical']}".encode()).hexdigest()


def test_a_genuine_bundle_verifies_on_its_own_and_from_the_pdf_with_the_standalone_file(case, dpo, tmp_path):
    pdf = export_dossier(case, acting_user=dpo, generated_by="DPO").pdf
    (tmp_path / "dossier.pdf").write_bytes(pdf)
    (tmp_path / "bundle.json.gz").write_bytes(export_bundle(case, acting_user=dpo))
    # The verifier runs alone: a copy of the file, Python's isolated mode, no access to the application.
    script = tmp_path / "verify_bundle.py"
    script.write_text(Path(verify_bundle.__file__).read_text())
    for target in ("dossier.pdf", "bundle.json.gz"):
        run = subprocess.run(
            [sys.executable, "-I", str(script), str(tmp_path / target), "--trust", current_key()],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            check=False,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        assert run.stdout.rstrip().endswith("VERIFIED")
    embedded = json.loads(verify_bundle.extract_from_pdf(pdf))
    report = verify_bundle.verify(embedded, trusted={current_key()})
    rows = HistoryChainHead.objects.get(chain_key=case.history_chain_key()).length
    assert len(embedded["rows"]) == rows and embedded["proofs"][-1]["length"] == rows
    # The dossier prints what the auditor compares: the key, and the fingerprint of the printed history.
    text = "".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
    assert report.fingerprint in text and current_key() in text
    assert "verify_bundle.py" in text


def test_an_altered_row_is_named(case, dpo):
    bundle = bundle_of(case, dpo)
    edit(bundle["rows"][2], history_change_reason="Rien à signaler")
    assert "row 3 (" in broken(bundle) and "was altered" in broken(bundle)


def test_an_altered_row_rehashed_by_a_forger_no_longer_matches_the_signed_checkpoint(case, dpo):
    bundle = bundle_of(case, dpo)
    edit(bundle["rows"][1], history_change_reason="Rien à signaler")
    rehash_from(bundle, 1)
    last = len(bundle["rows"])
    assert f"row {last} differs from the hash signed in checkpoint #1" in broken(bundle)


def test_a_dropped_row_is_named(case, dpo):
    bundle = bundle_of(case, dpo)
    del bundle["rows"][3]
    assert "row at position 4 is missing (dropped)" in broken(bundle)


def test_the_last_row_dropped_is_named(case, dpo):
    bundle = bundle_of(case, dpo)
    rows = len(bundle["rows"])
    bundle["rows"].pop()
    assert f"signed {rows} rows but the bundle has {rows - 1}: dropped" in broken(bundle)


def test_reordered_rows_are_named(case, dpo):
    bundle = bundle_of(case, dpo)
    rows = bundle["rows"]
    rows[2], rows[3] = rows[3], rows[2]
    assert "holds position 4 but sits at position 3: rows reordered" in broken(bundle)


def test_an_added_row_is_named_in_the_middle_and_at_the_end(case, dpo):
    bundle = bundle_of(case, dpo)
    middle = copy.deepcopy(bundle)
    middle["rows"].insert(2, copy.deepcopy(middle["rows"][1]))
    assert "holds position 2 but sits at position 3: added or reordered" in broken(middle)

    # At the end, chained perfectly by a forger: no checkpoint covers it.
    rows = bundle["rows"]
    extra = json.loads(rows[-1]["canonical"])
    extra.update(chain_seq=len(rows) + 1, chain_prev=rows[-1]["hash"], title="Ajout après coup")
    canonical = json.dumps(extra, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    rows.append(
        {"canonical": canonical, "hash": hashlib.sha256(f"{rows[-1]['hash']}\n{canonical}".encode()).hexdigest()}
    )
    assert f"rows {len(rows)}-{len(rows)} are not covered by the latest checkpoint #1: added after it" in broken(bundle)


def test_a_row_left_out_of_the_printed_dossier_is_named(case, dpo):
    embedded = json.loads(verify_bundle.extract_from_pdf(export_dossier(case, acting_user=dpo).pdf))
    embedded["rows"][4]["printed"] = []
    assert broken(embedded) == "row 5 is not printed in the dossier"


def _rewrite_chain_with_every_key_of_the_operator(case) -> None:
    """Someone holding the database and HISTORY_CHAIN_KEY alters a row and recomputes the whole chain."""
    key = case.history_chain_key()
    rows = list(chain_rows(key))
    rows[0][1]["title"] = "Rien à signaler"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for model in {model for model, _ in rows}:
            for statement in drop_trigger_statements(connection.vendor, model._meta.db_table):
                cursor.execute(statement)
        prev = GENESIS
        for model, values in rows:
            prev = link_values(model, values, key=key, seq=values["chain_seq"], prev=prev)
            table = model._meta.db_table
            cursor.execute(
                f'UPDATE "{table}" SET title = %s, chain_prev = %s, chain_hash = %s, chain_mac = %s '
                "WHERE history_id = %s"
                if "title" in values
                else f'UPDATE "{table}" SET chain_prev = %s, chain_hash = %s, chain_mac = %s WHERE history_id = %s',
                ([values["title"]] if "title" in values else [])
                + [values["chain_prev"], values["chain_hash"], values["chain_mac"], values["history_id"]],
            )
    HistoryChainHead.objects.filter(chain_key=key).update(head_hash=prev)


def test_a_chain_recomputed_with_the_database_and_the_hmac_key_after_a_time_stamped_checkpoint_is_detected(
    case, dpo, settings
):
    with local_tsa() as url:
        settings.HISTORY_TSA_URL = url
        stamped = services.checkpoint_create(reason="cron")
        assert stamped.timestamps.count() == 1
        _rewrite_chain_with_every_key_of_the_operator(case)
        # The chain alone is perfect again: hashes and keyed seals recomputed...
        assert verify_chain(case.history_chain_key()).ok
        # ...but the operator's verify_history compares it with the signed checkpoint,
        report = checkpoints.verify_checkpoints()
        anchor = report.anchors[case.history_chain_key()]
        result = verify_chain(case.history_chain_key(), anchor=anchor)
        assert "differs from the hash signed in checkpoint #1: rewritten after it" in result.error
        # and an outsider's bundle, even exported after a fresh checkpoint signed by the operator, shows it.
        bundle = bundle_of(case, dpo)
    assert [json.loads(c["statement"])["seq"] for c in bundle["checkpoints"]] == [1, 2]
    error = broken(bundle, trusted={current_key()})
    length = anchor[0]
    assert f"row {length} differs from the hash signed in checkpoint #1 (time-stamped " in error
    assert "the history was rewritten after it" in error


def test_a_time_stamp_is_checked_against_its_checkpoint(case, dpo, settings):
    with local_tsa("Autorité d'horodatage de test") as url:
        settings.HISTORY_TSA_URL = url
        bundle = bundle_of(case, dpo)
    report = verify_bundle.verify(bundle)
    assert any("time-stamped" in line and "Autorité d'horodatage de test" in line for line in report.lines)
    token = base64.b64decode(bundle["timestamps"][0]["token"])
    with pytest.raises(verify_bundle.Broken, match="message imprint is not the hash of this checkpoint"):
        verify_bundle.check_timestamp(token, hashlib.sha256(b"another statement").digest())
    forged = bytearray(token)
    forged[-10] ^= 0xFF  # inside the authority's signature, the last field of the token
    bundle["timestamps"][0]["token"] = base64.b64encode(bytes(forged)).decode()
    assert "signature does not verify" in broken(bundle)


def test_a_checkpoint_signed_by_another_key_is_refused(case, dpo):
    bundle = bundle_of(case, dpo)
    intruder = Ed25519PrivateKey.generate()
    raw = intruder.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    intruder_id = hashlib.sha256(raw).hexdigest()

    # Another key's signature under the genuine key's name.
    swapped = copy.deepcopy(bundle)
    swapped["checkpoints"][0]["signature"] = intruder.sign(swapped["checkpoints"][0]["statement"].encode()).hex()
    assert "checkpoint #1: its signature does not verify with key" in broken(swapped)

    # A checkpoint re-signed by the intruder's own key, shipped in the bundle: refused once keys are pinned.
    resigned = copy.deepcopy(bundle)
    statement = json.loads(resigned["checkpoints"][0]["statement"])
    statement["key_id"] = intruder_id
    text = json.dumps(statement, sort_keys=True, separators=(",", ":"))
    resigned["checkpoints"][0] = {"statement": text, "signature": intruder.sign(text.encode()).hex()}
    resigned["keys"].append({"key_id": intruder_id, "public_key": base64.b64encode(raw).decode()})
    assert f"checkpoint #1 is signed by key {intruder_id}, which is not a trusted key: refused" in broken(
        resigned, trusted={current_key()}
    )
    # The application refuses a stored checkpoint signed by a key it does not know.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for statement_sql in drop_trigger_statements(connection.vendor, "cases_checkpoint"):
            cursor.execute(statement_sql)
        cursor.execute(
            "UPDATE cases_checkpoint SET statement = %s, key_id = %s, signature = %s, statement_hash = %s",
            [text, intruder_id, intruder.sign(text.encode()).hex(), hashlib.sha256(text.encode()).hexdigest()],
        )
    assert "neither current nor retired" in " ".join(checkpoints.verify_checkpoints().errors)


def test_key_rotation_keeps_old_bundles_valid(case, dpo, settings, tmp_path):
    old_id = current_key()
    old_bundle = bundle_of(case, dpo)
    old_public = tmp_path / "old.pub.pem"
    old_public.write_bytes(
        checkpoints.signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    settings.HISTORY_CHECKPOINT_KEY_FILE = str(tmp_path / "new.pem")
    settings.HISTORY_CHECKPOINT_RETIRED_KEYS = [str(old_public)]
    new_id = current_key()
    assert new_id != old_id
    services.timeline_event_add(case, occurred_at=paris(2024, 2, 2, 9), title="Après la rotation", acting_user=dpo)
    new_bundle = bundle_of(case, dpo)

    assert {json.loads(c["statement"])["key_id"] for c in new_bundle["checkpoints"]} == {old_id, new_id}
    verify_bundle.verify(old_bundle, trusted={old_id})
    verify_bundle.verify(old_bundle, trusted={old_id, new_id})
    verify_bundle.verify(new_bundle, trusted={old_id, new_id})
    assert "is signed by key" in broken(new_bundle, trusted={new_id})  # the retired key must stay published
    assert {k["key_id"]: k["status"] for k in checkpoints.published_keys()} == {new_id: "current", old_id: "retired"}
    report = checkpoints.verify_checkpoints()
    assert report.checked == 2 and not report.errors


def test_verify_history_checks_the_checkpoints_and_names_a_rewritten_chain(case, dpo):
    from django.core.management import CommandError, call_command

    services.checkpoint_create(reason="cron")
    out = io.StringIO()
    # call_command, not run_from_argv: that one closes every connection at the end, the test's too.
    call_command("verify_history", stdout=out)
    assert "1 signed checkpoints checked." in out.getvalue()
    _rewrite_chain_with_every_key_of_the_operator(case)

    with pytest.raises(CommandError, match="rewritten after it"):
        call_command("verify_history", stdout=io.StringIO())
    with pytest.raises(CommandError, match="rewritten after it"):
        call_command("verify_history", "--case", case.reference, stdout=io.StringIO())


def test_an_export_is_anchored_even_when_a_row_lands_between_checkpoint_and_read(case, dpo, monkeypatch):
    """A row written after the export's checkpoint makes the export checkpoint and build again."""
    real = services.checkpoint_create
    calls = []

    def checkpoint_then_write(**kwargs):
        made = real(**kwargs)
        if not calls:
            with transaction.atomic():
                services.timeline_event_add(
                    case, occurred_at=paris(2024, 2, 3, 9), title="Entre-temps", acting_user=dpo
                )
        calls.append(made.seq)
        return made

    monkeypatch.setattr(services, "checkpoint_create", checkpoint_then_write)
    bundle = json.loads(gzip.decompress(export_bundle(case, acting_user=dpo)))
    assert calls == [1, 2]
    verify_bundle.verify(bundle, trusted={current_key()})
