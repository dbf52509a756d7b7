"""The outsider's verification bundle of a case: canonical rows, checkpoints, signatures, time stamps, proofs.

The format is documented in cases/verify_bundle.py, the standalone verifier an auditor runs on
it. Rows are streamed into a compressor as they are read (the dossier hands over the rows its
history section already reads, with the lines it prints for each), so memory stays flat: a
zlib stream for the PDF's embedded file, or gzip for the file downloaded on its own.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from .checkpoints import ChainProofs, bundle_keys, chain_proofs
from .history import GENESIS, ChainVerifier, chain_rows
from .models import BreachCase, Checkpoint
from .verify_bundle import FORMAT

FILENAME = "verification-bundle.json"


# json.dumps(value, ensure_ascii=False, separators=(",", ":")) without making an encoder per call
# (json.dumps makes one whenever an option differs from its defaults); a string is spelled directly.
_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_json_string = json.encoder.encode_basestring


class BundleWriter:
    """Writes one case's bundle as its rows come, in chain order."""

    def __init__(self, case: BreachCase, *, generated_at: datetime, gzip: bool) -> None:
        self.case = case
        self.chain_key = case.history_chain_key()
        self.rows = 0
        self.head = GENESIS
        self.printed_columns: list[str] | None = None
        self._compressor = zlib.compressobj(6, zlib.DEFLATED, 31 if gzip else 15)
        self._chunks: list[bytes] = []
        self._text: list[str] = []
        self._text_size = 0
        self._pending: tuple[str, str] | None = None
        self._lines: list[list[str]] = []
        self._printed = hashlib.sha256(b"[")
        self.proofs: ChainProofs | None = None
        self.data = b""
        header = {
            "format": FORMAT,
            "version": 1,
            "generated_at": generated_at.isoformat(),
            "case": {"reference": case.reference, "title": case.title, "organisation": case.organization.name},
        }
        self._write(_json(header)[:-1] + ',"rows":[')

    def _write(self, text: str) -> None:
        # Handed to zlib some 64 kB at a time (the same stream, fewer calls than one per row).
        self._text.append(text)
        self._text_size += len(text)
        if self._text_size >= 65536:
            self._compress()

    def _compress(self) -> None:
        self._chunks.append(self._compressor.compress("".join(self._text).encode()))
        self._text, self._text_size = [], 0

    def add_row(self, canonical: str, chained: str) -> None:
        """The next intact row of the chain (ChainVerifier's sink)."""
        self._flush_row()
        self._pending = (canonical, chained)
        self.head = chained

    def printed(self, columns: Iterable[str], lines: Iterable[Sequence[object]]) -> Iterator[Sequence[object]]:
        """The dossier's printed lines (under `columns`), passed through and recorded with the row just added."""
        self.printed_columns = [str(title) for title in columns]
        return self._record(lines)

    def _record(self, lines: Iterable[Sequence[object]]) -> Iterator[Sequence[object]]:
        for cells in lines:
            self._lines.append([str(cell) for cell in cells])
            yield cells

    def _flush_row(self) -> None:
        if self._pending is None:
            return
        canonical, chained = self._pending
        # The JSON of {"canonical": ..., "hash": ..., "printed": [...]}, the printed lines encoded once.
        entry = f'{{"canonical":{_json_string(canonical)},"hash":{_json_string(chained)}'
        if self.printed_columns is not None:
            lines = _json(self._lines)
            self._printed.update((b"," if self.rows else b"") + lines.encode())
            entry += f',"printed":{lines}'
        self._write(("," if self.rows else "") + entry + "}")
        self.rows += 1
        self._pending, self._lines = None, []

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the printed lines of every row (as the verifier recomputes it), once finished."""
        return self._fingerprint

    def finish(self, anchor: Checkpoint | None = None) -> bytes:
        """Close the rows, add the checkpoints and proofs (up to `anchor`, default the latest): the bytes."""
        self._flush_row()
        printed = self._printed.copy()
        printed.update(b"]")
        self._fingerprint = printed.hexdigest()
        self.proofs = proofs = chain_proofs(self.chain_key, anchor)
        tail = {
            "chain": {"key": self.chain_key, "length": self.rows, "head": self.head},
            "printed_columns": self.printed_columns,
            "checkpoints": [{"statement": c.statement, "signature": c.signature} for c in proofs.checkpoints],
            "timestamps": proofs.timestamps,
            "proofs": proofs.proofs,
            "keys": bundle_keys(proofs.key_ids),
        }
        self._write("]," + _json(tail)[1:])
        self._compress()
        self._chunks.append(self._compressor.flush())
        self.data = b"".join(self._chunks)
        self._chunks = []
        return self.data

    @property
    def covered(self) -> bool:
        """Whether the latest checkpoint in the bundle covers every row it carries."""
        if self.proofs is None or not self.proofs.proofs:
            return self.rows == 0
        return self.proofs.proofs[-1]["length"] == self.rows


def case_bundle(case: BreachCase, *, generated_at: datetime) -> BundleWriter:
    """The bundle of `case` on its own (gzip), its rows read and checked from the chain."""
    writer = BundleWriter(case, generated_at=generated_at, gzip=True)
    checker = ChainVerifier(writer.chain_key, sink=writer.add_row)
    for model, row in chain_rows(writer.chain_key):
        if not checker.feed(model, row):
            break
    writer.finish()
    return writer
