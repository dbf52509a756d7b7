"""A checkpoint commits to the head of every history chain (RFC 6962 Merkle tree), chained to the
previous one, signed, optionally time-stamped; the checkpoint tables are append-only."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from cases import checkpoints, services, verify_bundle
from cases.history import HistoryChainHead, drop_trigger_statements, tables_with_append_only_triggers
from cases.models import Checkpoint, CheckpointLeaf, Membership
from tests.conftest import paris
from tests.tsa import local_tsa

pytestmark = pytest.mark.django_db


def rfc6962_root(leaves: list[bytes]) -> bytes:
    """MTH as RFC 6962 section 2.1 writes it: split at the largest power of two below n."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return verify_bundle.node_hash(rfc6962_root(leaves[:k]), rfc6962_root(leaves[k:]))


@pytest.mark.parametrize("size", range(1, 18))
def test_every_leaf_of_a_tree_of_any_size_has_a_proof_an_outsider_verifies(size):
    leaves = [verify_bundle.leaf_hash(f"case:{i}", i, "ab" * 32) for i in range(size)]
    root = checkpoints.merkle_root(leaves)
    assert root == rfc6962_root(leaves)
    for index in range(size):
        path, proof_root = checkpoints.inclusion_path(leaves, index)
        assert proof_root == root
        assert verify_bundle.verify_inclusion(leaves[index], index, size, path, root)
        assert not verify_bundle.verify_inclusion(leaves[index], (index + 1) % size, size, path, root) or size == 1
        other = verify_bundle.leaf_hash(f"case:{index}", index + 1, "ab" * 32)
        assert not verify_bundle.verify_inclusion(other, index, size, path, root)


def test_a_checkpoint_commits_to_every_chain_head_and_links_to_the_previous_one(open_case, dpo):
    open_case()
    first = services.checkpoint_create(reason="cron")
    heads = sorted(HistoryChainHead.objects.values_list("chain_key", "length", "head_hash"))
    assert first.tree_size == len(heads) == 2  # the organisation's chain (its memberships) and the case's
    assert first.root == checkpoints.merkle_root([verify_bundle.leaf_hash(*h) for h in heads]).hex()
    assert first.prev_hash == "0" * 64
    assert services.checkpoint_create(reason="cron") == first  # nothing changed: no new checkpoint
    assert services.checkpoint_create(reason="cron", force=True).seq == 2

    case = open_case(title="Second incident")
    third = services.checkpoint_create(reason="cron")
    assert third.seq == 3 and third.prev_hash == Checkpoint.objects.get(seq=2).statement_hash
    # Only the heads that changed are stored again; the full set is rebuilt from them.
    assert set(third.leaves.values_list("chain_key", flat=True)) >= {case.history_chain_key()}
    assert checkpoints.leaves_at(third) == sorted(
        HistoryChainHead.objects.values_list("chain_key", "length", "head_hash")
    )
    assert hashlib.sha256(third.statement.encode()).hexdigest() == third.statement_hash
    report = checkpoints.verify_checkpoints()
    assert report.checked == 3 and not report.errors


def test_the_cron_command_signs_time_stamps_and_fails_when_the_authority_does_not_answer(open_case, settings):
    open_case()
    with local_tsa() as url:
        settings.HISTORY_TSA_URL = url
        out = io.StringIO()
        call_command("checkpoint_history", stdout=out)
    assert "checkpoint #1" in out.getvalue() and f"by {url}" in out.getvalue()
    settings.HISTORY_TSA_URL = url  # the authority is gone now
    with pytest.raises(CommandError, match="has no time stamp"):
        call_command("checkpoint_history", "--force", stdout=io.StringIO())
    assert Checkpoint.objects.count() == 2  # signed all the same; a later token covers it through the links


def test_a_new_key_is_made_once_and_never_overwritten(tmp_path):
    path = tmp_path / "key.pem"
    out = io.StringIO()
    call_command("checkpoint_history", "--new-key", str(path), stdout=out)
    assert path.exists() and (tmp_path / "key.pub.pem").exists() and oct(path.stat().st_mode)[-3:] == "600"
    with pytest.raises(CommandError, match="never overwritten"):
        call_command("checkpoint_history", "--new-key", str(path), stdout=io.StringIO())


def test_checkpoint_tables_are_append_only(open_case):
    open_case()
    services.checkpoint_create(reason="cron")
    assert {"cases_checkpoint", "cases_checkpointleaf", "cases_checkpointtimestamp"} <= (
        tables_with_append_only_triggers()
    )
    for sql in ("UPDATE cases_checkpoint SET root = 'x'", "DELETE FROM cases_checkpointleaf"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)


def test_altered_checkpoint_leaves_are_caught_by_the_signed_root(open_case):
    open_case()
    services.checkpoint_create(reason="cron")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for statement in drop_trigger_statements(connection.vendor, "cases_checkpointleaf"):
            cursor.execute(statement)
    leaf = CheckpointLeaf.objects.first()
    CheckpointLeaf.objects.filter(pk=leaf.pk).update(length=leaf.length + 1)
    assert checkpoints.verify_checkpoints().errors == [
        "checkpoint #1: its stored chain heads do not match its signed root"
    ]


def test_only_a_reader_of_the_case_checkpoints_it_for_an_export(open_case, make_org, make_user, dpo, org):
    case = open_case()
    auditor = make_user(org, Membership.Role.AUDITOR)
    assert services.checkpoint_create(reason="export", case=case, acting_user=auditor).seq == 1
    outsider = make_user(make_org(name="Autre"), Membership.Role.ADMIN)
    with pytest.raises(PermissionDenied):
        services.checkpoint_create(reason="export", case=case, acting_user=outsider, force=True)
    with pytest.raises(PermissionDenied):
        services.checkpoint_create(reason="cron", acting_user=dpo, force=True)
    services.timeline_event_add(case, occurred_at=paris(2024, 2, 1, 20), title="Suite", acting_user=dpo)
    assert Checkpoint.objects.count() == 1
