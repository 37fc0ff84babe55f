"""The documents log folded to its current state: per document, its latest fetch and its latest
fetch that stored a body.

Why: the crawler's memory (``documents_log.known_documents``) is that fold, and the log grows
by one row per document per night; folding every row ever written at each crawl start costs
time proportional to the history (a year of nightly crawls of 300 portals is millions of
rows).  The fold is therefore kept in a small Parquet file beside the log
(``<data>/warehouse/documents_current.parquet``), stamped with the log files it covers; a
reader folds only the files added since (the tail) onto it.

The file is a cache, never the truth: the log keeps every fetch (researchers' ``documents``
view and the portal-health history read it), and the state can always be rebuilt from it.
Folding is idempotent (the latest of a row and itself is that row), so a stale or partly
covered state — a crash between a log commit and the state's save, a compaction the state did
not see — only makes the next read fold more, never differently.  A state stamped with another
table's id (a log deleted and started again) is ignored.

Only the columns the crawler and ``current_documents`` read are kept (``COLUMNS``): the
request's status, attempts, error, adapter and run id stay in the log.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from nianbao.core.atomic import replacing

# What the crawler's memory and current_documents read of a fetch (see Known in documents_log).
COLUMNS = (
    "url",
    "final_url",
    "parent_url",
    "portal_id",
    "method",
    "post_data",
    "outcome",
    "content_type",
    "charset",
    "sha256",
    "bytes",
    "etag",
    "last_modified",
    "fetched_at",
    "kind",
    "title",
    "list_date",
    "year",
    "listing_url",
)
# What ``pick`` reads: the key, the order and whether a body was stored.
KEY_COLUMNS = ("url", "method", "post_data", "fetched_at", "sha256")
# Added by the fold: the document key, and which role(s) the row plays for it.
KEY, LATEST, BODY = "key", "is_latest", "is_body"
_META = b"nianbao.documents_state"


def schema(log_schema: pa.Schema) -> pa.Schema:
    """The state's columns: ``COLUMNS`` typed as in the log (nullable), then the fold's."""
    fields = [log_schema.field(c).with_nullable(True) for c in COLUMNS]
    return pa.schema([*fields, (KEY, pa.string()), (LATEST, pa.bool_()), (BODY, pa.bool_())])


def keys(rows: pa.Table) -> pa.Array:
    """``documents_log.doc_key`` of every row, vectorised: the URL for a GET (or no method),
    else ``"METHOD url post_data"``."""
    method = pc.utf8_upper(pc.fill_null(rows["method"], ""))
    is_get = pc.or_(pc.equal(method, ""), pc.equal(method, "GET"))
    post = pc.fill_null(rows["post_data"], "")
    other = pc.binary_join_element_wise(method, rows["url"], post, " ")
    return pc.if_else(is_get, rows["url"], other).combine_chunks()


@dataclass(frozen=True, slots=True)
class Picked:
    """The rows a fold keeps: positions in the folded rows (in fetch order), their keys and
    roles."""

    rows: pa.Array
    key: pa.Array
    latest: pa.Array
    body: pa.Array


def pick(rows: pa.Table) -> Picked:
    """Per key the latest row and the latest row with a body, in fetch order.

    "Latest" is what the crawler always meant: rows stably sorted by ``fetched_at``, the last
    one wins (rows of one batch keep their order).  A row playing both roles is picked once.
    ``rows`` may be a previous state's rows followed by newer log rows: the pick is the same
    as over every row they stand for.  Needs only the key columns, ``fetched_at`` and
    ``sha256`` (``KEY_COLUMNS``), so a long log is read narrow first."""
    order = pc.sort_indices(rows["fetched_at"])  # stable
    key = keys(rows).take(order)
    has_body = pc.fill_null(pc.not_equal(rows["sha256"].take(order), ""), False)
    index = pa.table({KEY: key, "pos": pa.array(np.arange(len(rows), dtype=np.int64))})
    latest = _last(index)
    body = _last(index.filter(has_body))
    chosen = pc.unique(pa.concat_arrays([latest, body]))
    chosen = chosen.take(pc.sort_indices(chosen))  # fetch order again
    return Picked(
        rows=order.take(chosen),
        key=key.take(chosen),
        latest=pc.is_in(chosen, value_set=latest),
        body=pc.is_in(chosen, value_set=body),
    )


def assemble(picked_rows: pa.Table, picked: Picked, state_schema: pa.Schema) -> pa.Table:
    """The state: ``picked_rows`` (the picked rows, in the pick's order) with key and roles."""
    out = picked_rows.select(list(COLUMNS)).append_column(KEY, picked.key)
    out = out.append_column(LATEST, picked.latest).append_column(BODY, picked.body)
    return out.cast(state_schema)


def fold(rows: pa.Table, state_schema: pa.Schema) -> pa.Table:
    """``pick`` then ``assemble``, for rows already read whole."""
    picked = pick(rows)
    return assemble(rows.take(picked.rows), picked, state_schema)


def _last(index: pa.Table) -> pa.Array:
    if len(index) == 0:
        return pa.array([], pa.int64())
    got = index.group_by(KEY).aggregate([("pos", "max")])
    return got["pos_max"].combine_chunks()


def load(path: Path, table_id: str, state_schema: pa.Schema) -> tuple[pa.Table, set[str]] | None:
    """The saved state and the log files it covers; None if there is none for this table
    (missing, unreadable, another table's, or another shape)."""
    try:
        saved = pq.read_table(path)
    except (OSError, pa.ArrowInvalid):
        return None
    meta = json.loads((saved.schema.metadata or {}).get(_META, b"{}"))
    if meta.get("table_id") != table_id or saved.schema.names != state_schema.names:
        return None
    return saved.replace_schema_metadata(None).cast(state_schema), set(meta.get("files", ()))


def save(path: Path, state: pa.Table, table_id: str, files: Iterable[str]) -> None:
    """Write the state atomically (a temporary file renamed over the old one): a reader or a
    crash sees the old state or the new, never half of one."""
    meta = {_META: json.dumps({"table_id": table_id, "files": sorted(files)}).encode()}
    with replacing(path) as tmp:
        pq.write_table(state.replace_schema_metadata(meta), tmp, compression="zstd")
