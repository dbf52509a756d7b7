"""Signed, time-stamped checkpoints of every history chain, and the inclusion proofs outsiders check.

A checkpoint commits to the head (length, last hash) of every history chain, like Certificate
Transparency's signed tree heads (RFC 6962 / RFC 9162): the heads, sorted by chain key, are the
leaves of a Merkle tree ("<chain key>\\n<length>\\n<head>", leaves and nodes hashed with the
0x00/0x01 prefixes of RFC 6962); its root goes into a statement (canonical JSON: type, seq,
created_at, tree_size, root, prev, key_id) that holds the SHA-256 of the previous statement
(checkpoints form a chain of their own) and is signed with Ed25519. The signing key is a PEM file
outside the database (HISTORY_CHECKPOINT_KEY_FILE); its identifier is the SHA-256 of its raw
public key. Rotating it means pointing the setting at a new key and listing the old public key
in HISTORY_CHECKPOINT_RETIRED_KEYS, so old checkpoints still verify.

When HISTORY_TSA_URL is set, each checkpoint is time-stamped by that RFC 3161 authority over
the SHA-256 of its statement, and the token is stored with it: once a checkpoint is time-stamped,
even whoever holds the database, HISTORY_CHAIN_KEY and the signing key cannot rewrite what it
covers without the difference showing.

Checkpoints are made by `manage.py checkpoint_history` (cron) and before every export of a
dossier or bundle (cases.services.checkpoint_create). Only the heads that changed since the
previous checkpoint are stored (CheckpointLeaf); a checkpoint's full leaf set is the latest
stored head of each chain up to it.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import hashlib
import json
import logging
import os
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from asgiref.sync import async_to_sync
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from . import verify_bundle
from .history import GENESIS, HistoryChainHead
from .models import Checkpoint, CheckpointLeaf, CheckpointTimestamp

logger = logging.getLogger(__name__)

STATEMENT_TYPE = verify_bundle.STATEMENT_TYPE


class CheckpointError(RuntimeError):
    """A checkpoint could not be made, or a stored one does not verify."""


class TimestampError(RuntimeError):
    """The time-stamping authority did not return a valid token."""


# --- Merkle tree -------------------------------------------------------------------------------


def merkle_levels(leaves: list[bytes]) -> Iterator[list[bytes]]:
    """The levels of the RFC 6962 tree, from the leaves up: nodes paired left to right, an odd last
    node carried up unchanged (the same tree as RFC 6962's split at the largest power of two)."""
    level = leaves
    yield level
    while len(level) > 1:
        level = [
            verify_bundle.node_hash(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
            for i in range(0, len(level), 2)
        ]
        yield level


def merkle_root(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    *_, top = merkle_levels(leaves)
    return top[0]


def inclusion_path(leaves: list[bytes], index: int) -> tuple[list[bytes], bytes]:
    """(audit path of leaf `index`, root), as RFC 6962's PATH and MTH."""
    path: list[bytes] = []
    top: list[bytes] = leaves
    for level in merkle_levels(leaves):
        sibling = index ^ 1
        if sibling < len(level):
            path.append(level[sibling])
        index >>= 1
        top = level
    return path, top[0]


# --- Keys --------------------------------------------------------------------------------------


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    """The key's identifier: SHA-256 (hex) of its raw 32-byte public key."""
    return hashlib.sha256(_raw(public)).hexdigest()


def signing_key() -> Ed25519PrivateKey:
    """The current signing key, from HISTORY_CHECKPOINT_KEY_FILE (created there on first use when
    HISTORY_CHECKPOINT_KEY_CREATE is on, the local-development default)."""
    path = Path(settings.HISTORY_CHECKPOINT_KEY_FILE or "")
    if not settings.HISTORY_CHECKPOINT_KEY_FILE:
        raise ImproperlyConfigured("HISTORY_CHECKPOINT_KEY_FILE must name the Ed25519 signing key (PEM).")
    if not path.exists() and settings.HISTORY_CHECKPOINT_KEY_CREATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"HISTORY_CHECKPOINT_KEY_FILE could not be loaded: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured("HISTORY_CHECKPOINT_KEY_FILE must hold an Ed25519 private key.")
    return key


def _retired_keys() -> Iterator[Ed25519PublicKey]:
    for name in settings.HISTORY_CHECKPOINT_RETIRED_KEYS:
        try:
            key = serialization.load_pem_public_key(Path(name).read_bytes())
        except (OSError, ValueError) as exc:
            raise ImproperlyConfigured(f"HISTORY_CHECKPOINT_RETIRED_KEYS: {name} could not be loaded: {exc}") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise ImproperlyConfigured(f"HISTORY_CHECKPOINT_RETIRED_KEYS: {name} is not an Ed25519 public key.")
        yield key


def verification_keys() -> dict[str, Ed25519PublicKey]:
    """Every key checkpoints may be signed with: the current one and the retired ones."""
    current = signing_key().public_key()
    keys = {key_id(k): k for k in _retired_keys()}
    keys[key_id(current)] = current
    return keys


def published_keys() -> list[dict]:
    """The public keys as served at /history/public/keys.json and printed in dossiers."""
    current = key_id(signing_key().public_key())
    return [
        {
            "key_id": kid,
            "public_key": base64.b64encode(_raw(key)).decode(),
            "status": "current" if kid == current else "retired",
        }
        for kid, key in sorted(verification_keys().items(), key=lambda item: item[0] != current)
    ]


def public_key_pem(kid: str) -> str:
    key = verification_keys()[kid]
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


# --- Making checkpoints ------------------------------------------------------------------------


def leaves_at(checkpoint: Checkpoint) -> list[tuple[str, int, str]]:
    """Every chain's (key, length, head) as `checkpoint` saw it, sorted by key."""
    latest = (
        CheckpointLeaf.objects.filter(chain_key=OuterRef("chain_key"), checkpoint_id__lte=checkpoint.pk)
        .order_by("-checkpoint_id")
        .values("checkpoint_id")[:1]
    )
    rows = CheckpointLeaf.objects.filter(checkpoint_id__lte=checkpoint.pk, checkpoint_id=Subquery(latest))
    return sorted(rows.values_list("chain_key", "length", "head_hash"))


def _statement(**fields) -> str:
    return json.dumps({"type": STATEMENT_TYPE, **fields}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def create_checkpoint(*, reason: str, force: bool = False) -> tuple[Checkpoint, bool]:
    """(checkpoint, made): a new signed checkpoint of every chain head, or the latest one when no
    head changed since (unless `force`). Time-stamps a new one when HISTORY_TSA_URL is set (a
    failure is logged and leaves it without a token: a later checkpoint's token covers it too)."""
    key = signing_key()
    kid = key_id(key.public_key())
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # One checkpoint at a time, the first one included (there is no row to lock yet).
            with connection.cursor() as cursor:
                cursor.execute(f'LOCK TABLE "{Checkpoint._meta.db_table}" IN SHARE ROW EXCLUSIVE MODE')
        last = Checkpoint.objects.order_by("-seq").first()
        heads = sorted(HistoryChainHead.objects.values_list("chain_key", "length", "head_hash"))
        seen = {k: (n, h) for k, n, h in leaves_at(last)} if last else {}
        changed = [(k, n, h) for k, n, h in heads if seen.get(k) != (n, h)]
        if last is not None and not changed and not force:
            return last, False
        now = timezone.now().astimezone(UTC).replace(microsecond=0)
        fields = {
            "seq": (last.seq if last else 0) + 1,
            "created_at": now.isoformat(),
            "tree_size": len(heads),
            "root": merkle_root([verify_bundle.leaf_hash(*h) for h in heads]).hex(),
            "prev": last.statement_hash if last else GENESIS,
            "key_id": kid,
        }
        statement = _statement(**fields)
        checkpoint = Checkpoint.objects.create(
            seq=fields["seq"],
            created_at=now,
            reason=reason[:200],
            tree_size=fields["tree_size"],
            root=fields["root"],
            prev_hash=fields["prev"],
            key_id=kid,
            statement=statement,
            statement_hash=hashlib.sha256(statement.encode()).hexdigest(),
            signature=key.sign(statement.encode()).hex(),
        )
        CheckpointLeaf.objects.bulk_create(
            [CheckpointLeaf(checkpoint=checkpoint, chain_key=k, length=n, head_hash=h) for k, n, h in changed],
            batch_size=2000,
        )
    if settings.HISTORY_TSA_URL:
        try:
            timestamp_checkpoint(checkpoint)
        except TimestampError as exc:
            logger.warning("checkpoint #%s was not time-stamped: %s", checkpoint.seq, exc)
    return checkpoint, True


# --- Time-stamping (RFC 3161) ------------------------------------------------------------------


def _stamper(url: str, timeout: float):
    """pyHanko's RFC 3161 client (request, nonce, response status) over the standard library's HTTP."""
    from asn1crypto import tsp
    from pyhanko.sign.timestamps.api import TimeStamper

    class UrllibTimeStamper(TimeStamper):
        async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
            return await asyncio.to_thread(self._post, req.dump())

        @staticmethod
        def _post(body: bytes) -> tsp.TimeStampResp:
            request = urllib.request.Request(  # noqa: S310 - the scheme is checked below
                url, data=body, headers={"Content-Type": "application/timestamp-query"}, method="POST"
            )
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                if response.headers.get_content_type() != "application/timestamp-reply":
                    raise TimestampError("the time-stamping authority's answer is not a time-stamp reply")
                return tsp.TimeStampResp.load(response.read())

    if not url.startswith(("http://", "https://")):
        raise TimestampError("HISTORY_TSA_URL must be an http:// or https:// URL")
    return UrllibTimeStamper()


def timestamp_checkpoint(checkpoint: Checkpoint) -> CheckpointTimestamp:
    """Ask HISTORY_TSA_URL for a token over the checkpoint's statement hash, check it, store it."""
    url = settings.HISTORY_TSA_URL
    digest = bytes.fromhex(checkpoint.statement_hash)
    try:
        token = async_to_sync(_stamper(url, settings.HISTORY_TSA_TIMEOUT).async_timestamp)(digest, "sha256").dump()
    except TimestampError:
        raise
    except Exception as exc:  # pyHanko, asn1crypto and the network each raise their own errors
        raise TimestampError(f"{url}: {exc}") from exc
    try:
        stamp = verify_bundle.check_timestamp(token, digest)
    except (verify_bundle.Broken, IndexError, ValueError) as exc:
        raise TimestampError(f"{url} returned a token that does not verify: {exc}") from exc
    return CheckpointTimestamp.objects.create(checkpoint=checkpoint, tsa_url=url, token=token, gen_time=stamp.gen_time)


# --- Checking stored checkpoints (verify_history) ----------------------------------------------


@dataclass(frozen=True)
class CheckpointReport:
    checked: int
    errors: list[str]
    # chain key -> (length, head, name) as the latest checkpoint signed it, for verify_history's pass.
    anchors: dict[str, tuple[int, str, str]]


def verify_checkpoints() -> CheckpointReport:
    """Every checkpoint: its statement, signature (current or retired key), link, time stamps;
    and the latest one's leaves against its signed root."""
    if not Checkpoint.objects.exists():
        return CheckpointReport(0, [], {})
    keys = verification_keys()
    errors: list[str] = []
    prev, last = GENESIS, None
    tokens: dict[int, list[bytes]] = {}
    for checkpoint_id, token in CheckpointTimestamp.objects.values_list("checkpoint_id", "token"):
        tokens.setdefault(checkpoint_id, []).append(bytes(token))
    count = 0
    for count, checkpoint in enumerate(Checkpoint.objects.order_by("seq").iterator(), start=1):
        name = f"checkpoint #{checkpoint.seq}"
        problem = _statement_problem(checkpoint, count, prev, keys)
        for token in tokens.get(checkpoint.pk, []):
            try:
                verify_bundle.check_timestamp(token, bytes.fromhex(checkpoint.statement_hash))
            except (verify_bundle.Broken, IndexError, ValueError) as exc:
                problem = problem or f"its time stamp does not verify: {exc}"
        if problem:
            errors.append(f"{name}: {problem}")
        prev, last = checkpoint.statement_hash, checkpoint
    anchors: dict[str, tuple[int, str, str]] = {}
    if last is not None:
        leaves = leaves_at(last)
        if merkle_root([verify_bundle.leaf_hash(*leaf) for leaf in leaves]).hex() != last.root:
            errors.append(f"checkpoint #{last.seq}: its stored chain heads do not match its signed root")
        else:
            anchors = {k: (n, h, f"checkpoint #{last.seq}") for k, n, h in leaves}
    return CheckpointReport(count, errors, anchors)


def _statement_problem(checkpoint: Checkpoint, position: int, prev: str, keys: dict) -> str:
    try:
        statement = json.loads(checkpoint.statement)
    except ValueError:
        return "its statement is not JSON"
    expected = {
        "type": STATEMENT_TYPE,
        "seq": checkpoint.seq,
        "created_at": checkpoint.created_at.astimezone(UTC).isoformat(),
        "tree_size": checkpoint.tree_size,
        "root": checkpoint.root,
        "prev": checkpoint.prev_hash,
        "key_id": checkpoint.key_id,
    }
    if statement != expected or checkpoint.seq != position:
        return "its statement does not match its recorded fields (or a checkpoint is missing before it)"
    if checkpoint.prev_hash != prev:
        return "it does not link to the previous checkpoint"
    if hashlib.sha256(checkpoint.statement.encode()).hexdigest() != checkpoint.statement_hash:
        return "its statement hash is wrong"
    key = keys.get(checkpoint.key_id)
    if key is None:
        return f"it is signed by key {checkpoint.key_id}, neither current nor retired"
    try:
        key.verify(bytes.fromhex(checkpoint.signature), checkpoint.statement.encode())
    except (InvalidSignature, ValueError):
        return f"its signature does not verify with key {checkpoint.key_id}"
    return ""


# --- Proofs for a bundle -----------------------------------------------------------------------


@dataclass(frozen=True)
class ChainProofs:
    checkpoints: list[Checkpoint]
    proofs: list[dict]
    timestamps: list[dict]
    key_ids: set[str]


def chain_proofs(chain_key: str, anchor: Checkpoint | None = None) -> ChainProofs:
    """What an outsider needs to anchor one chain: the checkpoints from the first one that saw the
    chain up to `anchor` (default the latest), an inclusion proof at each checkpoint where the
    chain changed and at the anchor, and the time stamps that date them."""
    anchor = anchor or Checkpoint.objects.order_by("-seq").first()
    if anchor is None:
        return ChainProofs([], [], [], set())
    needed = set(
        CheckpointLeaf.objects.filter(chain_key=chain_key, checkpoint__seq__lte=anchor.seq).values_list(
            "checkpoint__seq", flat=True
        )
    )
    if not needed:
        return ChainProofs([], [], [], set())
    needed.add(anchor.seq)
    first = min(needed)
    checkpoints = list(Checkpoint.objects.filter(seq__gte=first, seq__lte=anchor.seq).order_by("seq"))
    by_seq = {c.seq: c for c in checkpoints}
    proofs = [_proof(by_seq[seq], chain_key, leaves) for seq, leaves in _leaf_sets(needed, anchor.seq)]
    stamped: dict[int, list[CheckpointTimestamp]] = {}
    for stamp in CheckpointTimestamp.objects.filter(checkpoint__in=checkpoints).select_related("checkpoint"):
        stamped.setdefault(stamp.checkpoint.seq, []).append(stamp)
    # Each proof is dated by its own token, or by the next token after it (the checkpoints are linked).
    dated: set[int] = set()
    for seq in sorted(needed):
        later = [s for s in sorted(stamped) if s >= seq]
        if later:
            dated.add(later[0])
    timestamps = [
        {"checkpoint": seq, "token": base64.b64encode(bytes(s.token)).decode()}
        for seq in sorted(dated)
        for s in stamped[seq]
    ]
    return ChainProofs(checkpoints, proofs, timestamps, {c.key_id for c in checkpoints})


def _leaf_sets(needed: set[int], last: int) -> Iterator[tuple[int, dict[str, tuple[int, str]]]]:
    """(seq, every chain's (length, head) at seq) for each needed checkpoint, in one ordered read."""
    heads: dict[str, tuple[int, str]] = {}
    rows = (
        CheckpointLeaf.objects.filter(checkpoint__seq__lte=last)
        .order_by("checkpoint__seq")
        .values_list("checkpoint__seq", "chain_key", "length", "head_hash")
    )
    pending = sorted(needed)
    for seq, key, length, head in rows.iterator(chunk_size=2000):
        while pending and pending[0] < seq:
            yield pending.pop(0), heads
        heads[key] = (length, head)
    for seq in pending:
        yield seq, heads


def _proof(checkpoint: Checkpoint, chain_key: str, heads: dict[str, tuple[int, str]]) -> dict:
    keys = sorted(heads)
    leaves = [verify_bundle.leaf_hash(k, *heads[k]) for k in keys]
    index = bisect.bisect_left(keys, chain_key)
    if index == len(keys) or keys[index] != chain_key:
        raise CheckpointError(f"checkpoint #{checkpoint.seq} has no head for chain {chain_key}")
    path, root = inclusion_path(leaves, index)
    if root.hex() != checkpoint.root or len(leaves) != checkpoint.tree_size:
        raise CheckpointError(f"checkpoint #{checkpoint.seq}: its stored chain heads do not match its signed root")
    length, head = heads[chain_key]
    return {
        "checkpoint": checkpoint.seq,
        "leaf_index": index,
        "tree_size": len(leaves),
        "length": length,
        "head": head,
        "path": [p.hex() for p in path],
    }


def bundle_keys(key_ids: Iterable[str]) -> list[dict]:
    """The public keys a bundle's checkpoints need (raw, base64), from the current and retired keys."""
    known = verification_keys()
    return [
        {"key_id": kid, "public_key": base64.b64encode(_raw(known[kid])).decode()}
        for kid in sorted(key_ids)
        if kid in known
    ]
