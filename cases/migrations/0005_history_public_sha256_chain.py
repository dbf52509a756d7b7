"""History rows get a public SHA-256 chain (chain_hash) and a keyed seal (chain_mac).

Until now `chain_hash` was an HMAC keyed with HISTORY_CHAIN_KEY, which nobody outside can
check. Existing rows are re-chained here rather than left under a second scheme: a verifier
then needs one rule for every row, and an outsider's bundle can cover a case's whole history.

The old chain is verified first, every chain from its first row, with the key it was made
with; if any row is broken the migration stops, changes nothing, and names the row (find out
what happened before re-hashing over it). Only then are `chain_prev`, `chain_hash` and
`chain_mac` rewritten, in one streaming pass, with the append-only triggers dropped inside
this migration's transaction and installed again before it ends. HISTORY_CHAIN_KEY must be the
key the rows were written with. Reversible: backwards verifies the new chain the same way and
restores the HMAC chain.
"""

import hashlib
import hmac

from django.conf import settings
from django.db import migrations, models

from cases.history import (
    GENESIS,
    all_rows,
    drop_trigger_statements,
    install_append_only_triggers,
    ordered_chain_keys,
)

HISTORY_TABLES = [
    "cases_historicalbreachcase",
    "cases_historicalcontrollernotice",
    "cases_historicalevidence",
    "cases_historicalfiling",
    "cases_historicalmembercommunication",
    "cases_historicalmembership",
    "cases_historicalobligation",
    "cases_historicalorganization",
    "cases_historicaltimelineevent",
]
BATCH = 2000


def _key() -> bytes:
    return settings.HISTORY_CHAIN_KEY.encode()


def hmac_chain(prev: str, canonical: str) -> tuple[str, str]:
    """The scheme before this migration: chain_hash = HMAC(key, prev + newline + canonical), no seal."""
    return hmac.new(_key(), f"{prev}\n{canonical}".encode(), hashlib.sha256).hexdigest(), ""


def public_chain(prev: str, canonical: str) -> tuple[str, str]:
    """From this migration on: chain_hash = SHA-256(prev + newline + canonical), chain_mac = HMAC(key, hash)."""
    chained = hashlib.sha256(f"{prev}\n{canonical}".encode()).hexdigest()
    return chained, hmac.digest(_key(), chained.encode(), "sha256").hex()


class BrokenHistoryError(RuntimeError):
    """The chain to convert is already broken: nothing is rewritten."""


def _rows(apps):
    history_models = [apps.get_model("cases", table.removeprefix("cases_")) for table in HISTORY_TABLES]
    head_model = apps.get_model("cases", "HistoryChainHead")
    rank = ordered_chain_keys(history_models, head_model)
    keys = list(rank)
    return head_model, keys, all_rows(rank, chunk_size=BATCH, history_models=history_models)


def _check(apps, scheme) -> None:
    """Verify every chain under `scheme` (and against its recorded head) before anything is rewritten."""
    head_model, keys, rows = _rows(apps)
    heads = dict(head_model._default_manager.values_list("chain_key", "head_hash"))
    current, prev, count = None, GENESIS, 0

    def check_head(key, prev, count):
        if key is not None and count and heads.get(key) != prev:
            raise BrokenHistoryError(f"chain {key}: its recorded head does not match its last row; nothing was changed")

    for rank, seq, _, layout, values in rows:
        key = keys[rank]
        if key != current:
            check_head(current, prev, count)
            current, prev, count = key, GENESIS, 0
        count += 1
        where = f"{layout.model._meta.label} history_id={values[layout.history_id]} (chain {key}, position {seq})"
        chained, mac = scheme(prev, layout.canonical(values))
        if seq != count or values[layout.chain_prev] != prev or values[layout.chain_hash] != chained:
            raise BrokenHistoryError(f"{where} is broken before re-hashing; nothing was changed")
        if mac and values[layout.chain_mac] != mac:
            raise BrokenHistoryError(f"{where} has a wrong keyed seal before re-hashing; nothing was changed")
        prev = chained
    check_head(current, prev, count)


def _rechain(apps, schema_editor, old, new) -> None:
    _check(apps, old)
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # PostgreSQL will not alter a table with deferred trigger events pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in HISTORY_TABLES:
            for statement in drop_trigger_statements(connection.vendor, table):
                cursor.execute(statement)
    head_model, keys, rows = _rows(apps)
    pending: dict[str, list[tuple]] = {}
    heads: list[tuple[str, str]] = []
    current, prev = None, GENESIS

    def flush(table: str) -> None:
        sql = f"UPDATE {quote(table)} SET chain_prev = %s, chain_hash = %s, chain_mac = %s WHERE history_id = %s"  # noqa: S608 - constant names
        with connection.cursor() as cursor:
            cursor.executemany(sql, pending.pop(table))

    for rank, _, _, layout, values in rows:
        key = keys[rank]
        if key != current:
            if current is not None:
                heads.append((prev, current))
            current, prev = key, GENESIS
        # The canonical form holds chain_prev: each row is hashed with its new predecessor.
        relinked = list(values)
        relinked[layout.chain_prev] = prev
        chained, mac = new(prev, layout.canonical(tuple(relinked)))
        table = layout.model._meta.db_table
        # Rows already read are updated: the ordered read is on (chain_key, chain_seq), which never changes.
        pending.setdefault(table, []).append((prev, chained, mac, values[layout.history_id]))
        if len(pending[table]) >= BATCH:
            flush(table)
        prev = chained
    if current is not None:
        heads.append((prev, current))
    for table in list(pending):
        flush(table)
    with connection.cursor() as cursor:
        head_table = quote(head_model._meta.db_table)
        cursor.executemany(f"UPDATE {head_table} SET head_hash = %s WHERE chain_key = %s", heads)  # noqa: S608
    install_append_only_triggers(schema_editor, HISTORY_TABLES)
    _check(apps, new)


def forwards(apps, schema_editor):
    _rechain(apps, schema_editor, hmac_chain, public_chain)


def backwards(apps, schema_editor):
    _rechain(apps, schema_editor, public_chain, hmac_chain)


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_history_chain_position_index")]

    operations = [
        *[
            migrations.AddField(
                model_name=table.removeprefix("cases_"),
                name="chain_mac",
                field=models.CharField(default="", editable=False, max_length=64),
                preserve_default=False,
            )
            for table in HISTORY_TABLES
        ],
        migrations.RunPython(forwards, backwards),
    ]
