#!/usr/bin/env python3
"""Check a breach register's history bundle without the application: standard library + `cryptography`.

An auditor, a regulator or a court runs this one file on the verification bundle of a case,
or directly on the PDF dossier that carries the bundle as an embedded file:

    pip install cryptography
    python3 verify_bundle.py dossier-2024-0001-fr.pdf --trust <key id>
    python3 verify_bundle.py history-bundle-2024-0001.json.gz --trust <key id> --trust <older key id>

`--trust` takes the signing key identifiers the organisation published (its application serves
them at /history/public/keys.json; the dossier prints the current one). Without `--trust` the
keys inside the bundle are used and the output says so: anyone can sign a bundle with a key of
their own, so compare the printed key identifiers with the published ones. `--tsa-cert SHA256`
likewise pins the time-stamping authority's certificate (SHA-256 of its DER).

What it checks, in this order, and it stops at and names the first broken item:
1. the signing keys: each identifier is the SHA-256 of its raw Ed25519 public key;
2. the checkpoints: each statement is signed (Ed25519) by a trusted key, numbered without gap,
   and holds the SHA-256 of the previous statement (a chain, like the rows);
3. the RFC 3161 time stamps: the token's message imprint is the SHA-256 of the checkpoint's
   statement, the signed attributes carry the digest of the token's content, and the time-stamp
   authority's certificate signature over those signed attributes verifies;
4. every history row: its canonical JSON belongs to the case's chain, sits at its position,
   links to the previous row's hash, and its hash is SHA-256(previous hash + "\\n" + canonical
   JSON, in UTF-8), the first row following 64 zeros;
5. the inclusion proofs (RFC 9162 section 2.1.3.2, leaves and nodes hashed with the 0x00/0x01
   prefixes of RFC 6962): the chain's head at each checkpoint is in that checkpoint's Merkle
   tree, and the bundle's row at that position has that hash (a chain recomputed after a
   checkpoint, even with every key of the operator, no longer matches the signed, time-stamped
   head), and the latest checkpoint covers every row;
6. when the bundle comes from a dossier, it carries with each row the lines the dossier prints
   for it: every row must be printed; the verifier prints the fingerprint of those lines (SHA-256
   of their JSON), which the dossier prints in its verification section, so the paper and the
   bundle can be matched (and --show-printed lists the lines for a side-by-side reading).

What it does not check: that the time-stamping authority's certificate chains to a trusted root
or was not revoked (pin it with --tsa-cert, or check it with your usual tools), the ESS
signing-certificate attribute, the PDF's own PAdES seal (check it in a PDF reader), and the text
drawn on the PDF's pages (compare the printed fingerprint and, with --show-printed, the lines).

Bundle format (JSON, UTF-8; gzip-compressed when downloaded on its own):
  format "breach-register/history-bundle", version 1, case {reference, title, organisation},
  chain {key, length, head}, rows [{canonical, hash, printed}] in chain order (printed: the lines
  the dossier prints for the row, each a list of cells; absent on its own), printed_columns (the
  dossier's column titles, or null), checkpoints [{statement, signature}] (statement: the exact
  signed UTF-8 text, canonical JSON with type, seq, created_at, tree_size, root, prev, key_id;
  signature: hex), timestamps [{checkpoint, token}] (token: base64 DER of the RFC 3161
  TimeStampToken), proofs [{checkpoint, leaf_index, tree_size, length, head, path}] (path: hex
  hashes), keys [{key_id, public_key}] (public_key: base64 of the raw 32-byte Ed25519 key).
  A leaf is "<chain key>\\n<length>\\n<head hash>" in UTF-8.

Exit status: 0 when everything verifies, 1 when something is broken, 2 when the file cannot be read.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as dt
import gzip
import hashlib
import json
import re
import sys
import zlib
from dataclasses import dataclass, field

FORMAT = "breach-register/history-bundle"
STATEMENT_TYPE = "breach-register/history-checkpoint/v1"
GENESIS = "0" * 64

OID_SHA256 = "2.16.840.1.101.3.4.2.1"
OID_SHA384 = "2.16.840.1.101.3.4.2.2"
OID_SHA512 = "2.16.840.1.101.3.4.2.3"
OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_TST_INFO = "1.2.840.113549.1.9.16.1.4"
OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
OID_TIME_STAMPING = "1.3.6.1.5.5.7.3.8"
DIGESTS = {OID_SHA256: "sha256", OID_SHA384: "sha384", OID_SHA512: "sha512"}


class Broken(Exception):
    """The first broken item, named."""


class Unreadable(Exception):
    """The input is not a bundle (or a PDF carrying one)."""


# --- Reading the input -------------------------------------------------------------------------


def extract_from_pdf(data: bytes) -> bytes:
    """The bundle embedded in a PDF dossier, found without a PDF library.

    Looks for each embedded-file stream (`/Type /EmbeddedFile`), reads its `/Length` bytes after
    `stream`, inflates them when the stream is `/FlateDecode`, and keeps the one that is a bundle.
    """
    for match in re.finditer(rb"/Type\s*/EmbeddedFile(?![A-Za-z])", data):
        start = data.rfind(b" obj", 0, match.start())
        keyword = data.find(b"stream", match.end())
        if start < 0 or keyword < 0:
            continue
        dictionary = data[start:keyword]
        length = re.search(rb"/Length\s+(\d+)(\s+(\d+)\s+\d+\s+R)?", dictionary)
        if length is None:
            continue
        size = int(length.group(1))
        if length.group(2):  # an indirect length: "<n> 0 obj <length> endobj"
            target = re.search(rb"(?<!\d)" + length.group(1) + rb"\s+0\s+obj\s*(\d+)\s*endobj", data)
            if target is None:
                continue
            size = int(target.group(1))
        begin = keyword + len(b"stream")
        begin += 2 if data[begin : begin + 2] == b"\r\n" else 1
        content = data[begin : begin + size]
        if b"/FlateDecode" in dictionary:
            try:
                content = zlib.decompress(content)
            except zlib.error:
                continue
        if content.lstrip().startswith(b"{") and FORMAT.encode() in content[:200]:
            return content
    raise Unreadable("no history bundle is embedded in this PDF")


def load(path: str) -> dict:
    with open(path, "rb") as handle:
        data = handle.read()
    if data.startswith(b"%PDF"):
        data = extract_from_pdf(data)
    elif data.startswith(b"\x1f\x8b"):
        data = gzip.decompress(data)
    try:
        bundle = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Unreadable(f"not a JSON bundle: {exc}") from exc
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT or bundle.get("version") != 1:
        raise Unreadable(f"not a {FORMAT} version 1 bundle")
    return bundle


# --- DER, just enough for RFC 3161 tokens ------------------------------------------------------


@dataclass
class Node:
    tag: int
    raw: bytes  # the whole TLV
    body: bytes  # the content octets

    @property
    def children(self) -> list[Node]:
        return _parse_all(self.body)


def _parse(data: bytes, pos: int = 0) -> tuple[Node, int]:
    if pos + 2 > len(data):
        raise Broken("truncated DER")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise Broken("multi-byte DER tags are not used in time-stamp tokens")
    length = data[pos + 1]
    head = 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4:
            raise Broken("unsupported DER length")
        length = int.from_bytes(data[pos + 2 : pos + 2 + count], "big")
        head += count
    end = pos + head + length
    if end > len(data):
        raise Broken("truncated DER")
    return Node(tag, data[pos:end], data[pos + head : end]), end


def _parse_all(data: bytes) -> list[Node]:
    nodes, pos = [], 0
    while pos < len(data):
        node, pos = _parse(data, pos)
        nodes.append(node)
    return nodes


def _oid(node: Node) -> str:
    body = node.body
    first = body[0]
    parts = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    value = 0
    for byte in body[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(map(str, parts))


def _generalized_time(node: Node) -> dt.datetime:
    text = node.body.decode("ascii")
    match = re.fullmatch(r"(\d{14})(?:\.(\d+))?Z", text)
    if match is None:
        raise Broken(f"unexpected GeneralizedTime {text!r}")
    moment = dt.datetime.strptime(match.group(1), "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)
    if match.group(2):
        moment += dt.timedelta(microseconds=round(float("0." + match.group(2)) * 1_000_000))
    return moment


@dataclass
class TimeStamp:
    gen_time: dt.datetime
    tsa: str
    tsa_fingerprint: str


def check_timestamp(token: bytes, digest: bytes) -> TimeStamp:
    """Check an RFC 3161 TimeStampToken over `digest` (SHA-256); raise Broken naming what fails."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    content_info, _ = _parse(token)
    content_type, explicit = content_info.children[:2]
    if _oid(content_type) != OID_SIGNED_DATA:
        raise Broken("the token is not CMS SignedData")
    signed_data = explicit.children[0].children
    encap = signed_data[2].children
    if _oid(encap[0]) != OID_TST_INFO:
        raise Broken("the token does not hold a TSTInfo")
    tst_der = encap[1].children[0].body
    tst = _parse(tst_der)[0].children
    imprint = tst[2].children
    algorithm = _oid(imprint[0].children[0])
    if algorithm != OID_SHA256:
        raise Broken(f"the token's message imprint uses {algorithm}, not SHA-256")
    if imprint[1].body != digest:
        raise Broken("the token's message imprint is not the hash of this checkpoint")
    gen_time = _generalized_time(tst[4])

    certificates = []
    signer_infos = None
    for node in signed_data[3:]:
        if node.tag == 0xA0:
            certificates = [x509.load_der_x509_certificate(c.raw) for c in node.children if c.tag == 0x30]
        elif node.tag == 0x31:
            signer_infos = node.children
    if not signer_infos:
        raise Broken("the token has no signer")
    info = signer_infos[0].children
    sid, digest_algorithm = info[1], DIGESTS.get(_oid(info[2].children[0]))
    if digest_algorithm is None:
        raise Broken("the token's signer uses an unknown digest algorithm")
    signed_attrs = info[3]
    if signed_attrs.tag != 0xA0:
        raise Broken("the token has no signed attributes")
    attributes = {_oid(a.children[0]): a.children[1].children[0] for a in signed_attrs.children}
    if OID_CONTENT_TYPE not in attributes or _oid(attributes[OID_CONTENT_TYPE]) != OID_TST_INFO:
        raise Broken("the token's signed content-type attribute is not TSTInfo")
    if OID_MESSAGE_DIGEST not in attributes:
        raise Broken("the token has no message-digest attribute")
    if attributes[OID_MESSAGE_DIGEST].body != hashlib.new(digest_algorithm, tst_der).digest():
        raise Broken("the token's TSTInfo does not match its signed message digest")

    signer = None
    for cert in certificates:
        if sid.tag == 0x30:
            issuer, serial = sid.children
            if cert.serial_number == int.from_bytes(serial.body, "big", signed=True) and (
                cert.issuer.public_bytes() == issuer.raw
            ):
                signer = cert
        elif sid.tag == 0x80:
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
            except x509.ExtensionNotFound:
                continue
            if ski == sid.body:
                signer = cert
    if signer is None:
        raise Broken("the token does not carry its signer's certificate")
    # The signature covers the signed attributes encoded as a SET (RFC 5652 section 5.4).
    to_verify = b"\x31" + signed_attrs.raw[1:]
    signature = info[5].body
    chosen = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[digest_algorithm]
    key = signer.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, to_verify, padding.PKCS1v15(), chosen)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, to_verify, ec.ECDSA(chosen))
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, to_verify)
        else:
            raise Broken("the time-stamping authority's key type is not supported")
    except InvalidSignature as exc:
        raise Broken("the time-stamping authority's signature does not verify") from exc
    try:
        usages = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usages = []
    if OID_TIME_STAMPING not in {u.dotted_string for u in usages}:
        raise Broken("the token's certificate is not a time-stamping certificate")
    fingerprint = signer.fingerprint(hashes.SHA256()).hex()
    return TimeStamp(gen_time, signer.subject.rfc4514_string(), fingerprint)


# --- Merkle tree (RFC 6962 hashing, RFC 9162 inclusion proofs) ---------------------------------


def leaf_hash(chain_key: str, length: int, head: str) -> bytes:
    return hashlib.sha256(b"\x00" + f"{chain_key}\n{length}\n{head}".encode()).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf: bytes, index: int, size: int, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


# --- The checks --------------------------------------------------------------------------------


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    fingerprint: str = ""

    def say(self, text: str) -> None:
        self.lines.append(text)


def _hex(value: object, what: str, size: int = 32) -> bytes:
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != size:
        raise Broken(f"{what} is not a {size}-byte hex value")
    return raw


def _check_keys(bundle: dict, trusted: set[str], report: Report) -> dict:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    keys = {}
    for entry in bundle.get("keys") or []:
        try:
            raw = base64.b64decode(entry["public_key"], validate=True)
        except (KeyError, TypeError, binascii.Error) as exc:
            raise Broken("a signing key of the bundle cannot be read") from exc
        key_id = hashlib.sha256(raw).hexdigest()
        if entry.get("key_id") != key_id:
            raise Broken(f"signing key {entry.get('key_id')}: its identifier is not the SHA-256 of its public key")
        keys[key_id] = Ed25519PublicKey.from_public_bytes(raw)
    if trusted:
        report.say(f"trusted signing keys (given): {', '.join(sorted(trusted))}")
    else:
        report.say(
            "NOTE: no --trust given; trusting the keys in the bundle: "
            f"{', '.join(sorted(keys)) or 'none'}. Compare them with the keys the organisation publishes."
        )
    return keys


def _check_checkpoints(bundle: dict, keys: dict, trusted: set[str]) -> dict[int, dict]:
    from cryptography.exceptions import InvalidSignature

    checkpoints: dict[int, dict] = {}
    previous: dict | None = None
    for entry in bundle.get("checkpoints") or []:
        text = entry.get("statement", "")
        try:
            statement = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise Broken("a checkpoint statement is not JSON") from exc
        seq = statement.get("seq")
        name = f"checkpoint #{seq}"
        if statement.get("type") != STATEMENT_TYPE:
            raise Broken(f"{name}: unknown statement type")
        key_id = statement.get("key_id")
        if key_id not in keys:
            raise Broken(f"{name}: its signing key {key_id} is not in the bundle")
        if trusted and key_id not in trusted:
            raise Broken(f"{name} is signed by key {key_id}, which is not a trusted key: refused")
        try:
            keys[key_id].verify(_hex(entry.get("signature"), f"{name}'s signature", 64), text.encode())
        except InvalidSignature as exc:
            raise Broken(f"{name}: its signature does not verify with key {key_id} (signed by another key?)") from exc
        digest = hashlib.sha256(text.encode()).hexdigest()
        if previous is not None:
            if seq != previous["seq"] + 1:
                raise Broken(f"{name} follows checkpoint #{previous['seq']}: a checkpoint is missing")
            if statement.get("prev") != previous["hash"]:
                raise Broken(f"{name} does not link to checkpoint #{previous['seq']}")
        elif seq == 1 and statement.get("prev") != GENESIS:
            raise Broken(f"{name} is the first checkpoint but links to another")
        checkpoints[seq] = {**statement, "hash": digest, "digest": bytes.fromhex(digest), "stamps": []}
        previous = checkpoints[seq]
    if not checkpoints:
        raise Broken("the bundle has no checkpoint: nothing anchors its rows")
    return checkpoints


def _check_timestamps(bundle: dict, checkpoints: dict, tsa_pins: set[str]) -> None:
    for entry in bundle.get("timestamps") or []:
        seq = entry.get("checkpoint")
        if seq not in checkpoints:
            raise Broken(f"a time stamp refers to checkpoint #{seq}, which is not in the bundle")
        try:
            token = base64.b64decode(entry.get("token", ""), validate=True)
        except binascii.Error as exc:
            raise Broken(f"the time stamp of checkpoint #{seq} cannot be read") from exc
        try:
            stamp = check_timestamp(token, checkpoints[seq]["digest"])
        except (Broken, IndexError, ValueError) as exc:
            raise Broken(f"the time stamp of checkpoint #{seq}: {exc or 'malformed token'}") from exc
        if tsa_pins and stamp.tsa_fingerprint not in tsa_pins:
            raise Broken(f"the time stamp of checkpoint #{seq} comes from an authority that is not pinned")
        created = dt.datetime.fromisoformat(checkpoints[seq]["created_at"])
        if stamp.gen_time < created - dt.timedelta(minutes=5):
            raise Broken(f"the time stamp of checkpoint #{seq} predates the checkpoint itself")
        checkpoints[seq]["stamps"].append(stamp)


def _check_rows(bundle: dict) -> list[str]:
    chain = bundle.get("chain") or {}
    key = chain.get("key")
    hashes: list[str] = []
    prev = GENESIS
    for index, entry in enumerate(bundle.get("rows") or [], start=1):
        canonical = entry.get("canonical", "")
        try:
            row = json.loads(canonical)
        except (TypeError, ValueError) as exc:
            raise Broken(f"row {index}: its canonical form is not JSON") from exc
        what = f"row {index} ({row.get('model')} id={row.get('id')}, {row.get('history_date')})"
        if row.get("chain_key") != key:
            raise Broken(f"{what} belongs to chain {row.get('chain_key')}, not {key}: added")
        seq = row.get("chain_seq")
        if seq != index:
            if isinstance(seq, int) and seq > index:
                if _position_later(bundle["rows"][index:], index):
                    raise Broken(f"{what} holds position {seq} but sits at position {index}: rows reordered")
                raise Broken(f"row at position {index} is missing (dropped): the next row is {what}, position {seq}")
            raise Broken(f"{what} holds position {seq} but sits at position {index}: added or reordered")
        if row.get("chain_prev") != prev:
            raise Broken(f"{what} does not link to row {index - 1}: reordered, or a row before it was altered")
        computed = hashlib.sha256(f"{prev}\n{canonical}".encode()).hexdigest()
        if computed != entry.get("hash"):
            raise Broken(f"{what} was altered: its content does not match its hash")
        hashes.append(computed)
        prev = computed
    return hashes


def _position_later(rows: list, position: int) -> bool:
    """Whether a row further on holds `position` (a row moved, not dropped)."""
    for entry in rows:
        try:
            if json.loads(entry.get("canonical", "")).get("chain_seq") == position:
                return True
        except (AttributeError, TypeError, ValueError):
            continue
    return False


def _when(checkpoint: dict, checkpoints: dict) -> str:
    """When rows under `checkpoint` are known to have existed: the earliest later time stamp (linked)."""
    stamps = [(s, seq) for seq, c in checkpoints.items() if seq >= checkpoint["seq"] for s in c["stamps"]]
    if not stamps:
        return f"signed at {checkpoint['created_at']} (no time stamp)"
    stamp, seq = min(stamps, key=lambda item: item[0].gen_time)
    via = "" if seq == checkpoint["seq"] else f", via checkpoint #{seq}"
    return f"time-stamped {stamp.gen_time.isoformat()} by {stamp.tsa}{via}"


def _check_proofs(bundle: dict, checkpoints: dict, hashes: list[str], report: Report) -> None:
    key = (bundle.get("chain") or {}).get("key")
    latest = max(checkpoints)
    covered = 0
    for proof in bundle.get("proofs") or []:
        seq = proof.get("checkpoint")
        if seq not in checkpoints:
            raise Broken(f"an inclusion proof refers to checkpoint #{seq}, which is not in the bundle")
        checkpoint = checkpoints[seq]
        length, head = proof.get("length"), proof.get("head")
        path = [_hex(p, f"checkpoint #{seq}'s proof") for p in proof.get("path") or []]
        if proof.get("tree_size") != checkpoint["tree_size"] or not verify_inclusion(
            leaf_hash(key, length, head),
            proof.get("leaf_index", -1),
            checkpoint["tree_size"],
            path,
            _hex(checkpoint["root"], f"checkpoint #{seq}'s root"),
        ):
            raise Broken(f"the chain's head is not in the Merkle tree of checkpoint #{seq}")
        when = _when(checkpoint, checkpoints)
        if not isinstance(length, int) or length > len(hashes):
            raise Broken(f"checkpoint #{seq} ({when}) signed {length} rows but the bundle has {len(hashes)}: dropped")
        if length and hashes[length - 1] != head:
            raise Broken(
                f"row {length} differs from the hash signed in checkpoint #{seq} ({when}): "
                "the history was rewritten after it"
            )
        report.say(f"rows 1-{length}: in checkpoint #{seq}, {when}")
        if seq == latest:
            covered = length
    if covered < len(hashes):
        raise Broken(
            f"rows {covered + 1}-{len(hashes)} are not covered by the latest checkpoint #{latest}: added after it"
        )


def _check_printed(bundle: dict, report: Report, show: bool) -> None:
    columns = bundle.get("printed_columns")
    if columns is None:
        report.say("the bundle carries no printed lines (downloaded on its own): nothing to match with a dossier")
        return
    printed = []
    for index, entry in enumerate(bundle.get("rows") or [], start=1):
        lines = entry.get("printed")
        if not isinstance(lines, list) or not lines:
            raise Broken(f"row {index} is not printed in the dossier")
        if any(not isinstance(line, list) or len(line) != len(columns) for line in lines):
            raise Broken(f"row {index}: a printed line does not have the dossier's {len(columns)} columns")
        printed.append(lines)
        if show:
            report.say("\n".join(f"  row {index}: " + " | ".join(map(str, line)) for line in lines))
    text = json.dumps(printed, ensure_ascii=False, separators=(",", ":"))
    report.fingerprint = hashlib.sha256(text.encode()).hexdigest()
    report.say(f"printed history: every row is printed ({sum(map(len, printed))} lines)")
    report.say(f"printed-history fingerprint: {report.fingerprint} (the dossier prints it in its verification section)")


def verify(
    bundle: dict,
    *,
    trusted: set[str] = frozenset(),
    tsa_pins: set[str] = frozenset(),
    show_printed: bool = False,
    report: Report | None = None,
) -> Report:
    """Check the bundle; return the report, or raise Broken naming the first broken item (the
    report passed in keeps what was checked before it)."""
    report = report if report is not None else Report()
    case, chain = bundle.get("case") or {}, bundle.get("chain") or {}
    report.say(
        f"case {case.get('reference')}: {case.get('title')} ({case.get('organisation')}), chain {chain.get('key')}"
    )
    keys = _check_keys(bundle, set(trusted), report)
    checkpoints = _check_checkpoints(bundle, keys, set(trusted))
    _check_timestamps(bundle, checkpoints, set(tsa_pins))
    hashes = _check_rows(bundle)
    report.say(f"{len(hashes)} rows: every hash and link recomputed")
    _check_proofs(bundle, checkpoints, hashes, report)
    latest = checkpoints[max(checkpoints)]
    report.say(f"latest checkpoint #{latest['seq']} signed by key {latest['key_id']}")
    _check_printed(bundle, report, show_printed)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", help="the bundle (.json or .json.gz) or the PDF dossier carrying it")
    parser.add_argument("--trust", action="append", default=[], metavar="KEY_ID", help="a published signing key id")
    parser.add_argument("--tsa-cert", action="append", default=[], metavar="SHA256", help="a pinned TSA certificate")
    parser.add_argument("--show-printed", action="store_true", help="list the printed lines with their rows")
    args = parser.parse_args(argv)
    try:
        bundle = load(args.file)
    except (OSError, Unreadable) as exc:
        print(f"cannot read {args.file}: {exc}")
        return 2
    report = Report()
    try:
        verify(
            bundle,
            trusted={t.lower() for t in args.trust},
            tsa_pins={p.lower().replace(":", "") for p in args.tsa_cert},
            show_printed=args.show_printed,
            report=report,
        )
    except Broken as exc:
        print("\n".join(report.lines))
        print(f"FAILED: {exc}")
        return 1
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
        print("\n".join(report.lines))
        print(f"FAILED: the bundle is malformed after the last line above ({type(exc).__name__}: {exc})")
        return 1
    print("\n".join(report.lines))
    print("VERIFIED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
