"""The DuckDB views over the warehouse: rendering sql/*.sql, applying them, connecting.

Why views are re-rendered rather than written once: a view in a .duckdb file stores its SQL
text, and DuckDB cannot read Delta logs here (no extensions), so each source is the explicit,
absolute file list of one Delta version (``DeltaTable.file_uris()``; a glob would also see
files of other versions and of a killed writer).  That list changes with every load and
whenever the data directory moves, so the SQL is rendered from the current warehouse version
and re-applied on every load and every ``connect()`` that finds it stale
(``warehouse_info.views_key`` says which rendering the file holds).  ``connect(as_of=…)``
renders an older version into a private snapshot instead.

Templates in sql/*.sql are plain SQL plus ``{{token}}`` placeholders filled from the warehouse
version and from the catalogue (labels and wide column lists are never copied into SQL by hand).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa
from nianbao.transform import catalogue

from .paths import data_dir, duckdb_path, warehouse_dir
from .warehouse_build import report_values_schema, value_codes, value_column
from .warehouse_records import CHECKS_SCHEMA, FACTS_SCHEMA, REPORTS_SCHEMA, VERSIONS_SCHEMA
from .warehouse_store import OPERATION, POINTER, Snapshot, Store, delta_table, file_list

MANAGED_SCHEMAS: dict[str, pa.Schema] = {
    "reports": REPORTS_SCHEMA,
    "facts": FACTS_SCHEMA,
    "checks": CHECKS_SCHEMA,
    "report_values": report_values_schema(),
}


# Logs other flows append to; their record schemas type the empty placeholder.
def _documents_schema() -> pa.Schema:
    from nianbao.extract.documents_log import SCHEMA

    return SCHEMA


def _runlog_schema(name: str) -> pa.Schema:
    from . import runlog

    return {
        "runs": runlog.RUNS_SCHEMA,
        "portal_runs": runlog.PORTAL_RUNS_SCHEMA,
        "extractions": runlog.EXTRACTIONS_SCHEMA,
        "registry_checks": runlog.REGISTRY_CHECKS_SCHEMA,
    }[name]


LOG_TABLES = {
    "documents": _documents_schema,
    "runs": lambda: _runlog_schema("runs"),
    "portal_runs": lambda: _runlog_schema("portal_runs"),
    "extractions": lambda: _runlog_schema("extractions"),
    "registry_checks": lambda: _runlog_schema("registry_checks"),
}

_TOKEN = re.compile(r"\{\{([a-z_]+)(?::([^}]*))?\}\}")


def sql_type(t: pa.DataType) -> str:
    """DuckDB type name of an Arrow type (the few the warehouse uses)."""
    if pa.types.is_dictionary(t):
        return sql_type(t.value_type)
    if pa.types.is_list(t):
        return sql_type(t.value_type) + "[]"
    if pa.types.is_struct(t):
        return "STRUCT(" + ", ".join(f"{ident(f.name)} {sql_type(f.type)}" for f in t) + ")"
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    simple = {
        pa.string(): "VARCHAR",
        pa.large_string(): "VARCHAR",
        pa.int16(): "SMALLINT",
        pa.int32(): "INTEGER",
        pa.int64(): "BIGINT",
        pa.float64(): "DOUBLE",
        pa.bool_(): "BOOLEAN",
        pa.date32(): "DATE",
    }
    return simple[t]


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _empty(schema: pa.Schema) -> str:
    cols = ", ".join(f"CAST(NULL AS {sql_type(f.type)}) AS {ident(f.name)}" for f in schema)
    return f"(SELECT {cols} LIMIT 0)"


def _parquet(dt, schema: pa.Schema) -> str:
    """The rows of one Delta version: its file list read by DuckDB, columns of ``schema``
    (NULL where older files lack one); ``year``, the partition, comes from the paths."""
    paths = ", ".join(lit(p) for p in file_list(dt))
    if not paths:
        return _empty(schema)
    present = {f.name for f in dt.schema().fields}
    cols = ", ".join(
        ident(f.name)
        if f.name in present
        else f"CAST(NULL AS {sql_type(f.type)}) AS {ident(f.name)}"
        for f in schema
    )
    hive = "hive_partitioning = true, hive_types = {'year': SMALLINT}"
    if "year" not in dt.metadata().partition_columns:
        hive = "hive_partitioning = false"
    src = f"read_parquet([{paths}], union_by_name = true, {hive})"
    return f"(SELECT {cols} FROM {src})"


def _managed_source(store: Store, snapshot: Snapshot, table: str) -> str:
    dt = store.table(table, snapshot) if snapshot.version is not None else None
    return _empty(MANAGED_SCHEMAS[table]) if dt is None else _parquet(dt, MANAGED_SCHEMAS[table])


def _log_source(store: Store, table: str) -> str:
    """A log other flows append to: its latest Delta version (logs are not time-travelled)."""
    dt = delta_table(store.path(table))
    schema = LOG_TABLES[table]()
    return _empty(schema) if dt is None else _parquet(dt, schema)


def _versions(store: Store) -> str:
    """``warehouse_versions``: one row per version of the reports table, newest first."""
    rows = []
    for h in store.history():
        v = h["version"]
        pointer = h.get(POINTER) or "{}"
        op = h.get(OPERATION) or h.get("operation", "").lower()
        added = (h.get("operationMetrics") or {}).get("num_added_rows")
        at = f"make_timestamptz({int(h['timestamp']) * 1000})"
        facts = json.loads(pointer).get("facts")
        rows.append(f"({v}, {at}, {lit(op)}, {lit(added)}, {lit(facts)})")
    if not rows:
        return _empty(VERSIONS_SCHEMA)
    names = ", ".join(ident(f.name) for f in VERSIONS_SCHEMA)
    casts = ", ".join(
        f"CAST({ident(f.name)} AS {sql_type(f.type)}) AS {ident(f.name)}" for f in VERSIONS_SCHEMA
    )
    return f"(SELECT {casts} FROM (VALUES {', '.join(rows)}) AS v({names}))"


def _values(name: str) -> str:
    """An inline VALUES relation of catalogue rows (kept in the .duckdb file: self-describing)."""
    if name == "codebook":
        rows = catalogue.codebook()
    elif name == "cell_labels":
        rows = []
        for fmt in catalogue.FORMATS:
            item_pos: dict[tuple[str, str], int] = {}
            for pos, c in enumerate(catalogue.cells(fmt), start=1):
                if (c.table, c.item) not in item_pos:  # printed order within its table
                    item_pos[(c.table, c.item)] = 1 + sum(t == c.table for t, _ in item_pos)
                rows.append(
                    {
                        "format": fmt,
                        "table": c.table,
                        "item": c.item,
                        "column": c.column,
                        "code": c.code,
                        "position": pos,
                        "item_position": item_pos[(c.table, c.item)],
                        "item_zh": c.item_zh,
                        "column_zh": c.column_zh,
                        "item_en": catalogue.ITEM_EN.get(c.item, c.item),
                        "column_en": catalogue.COLUMN_EN.get(c.column, c.column),
                        "parent": c.parent or None,
                        "unit": c.unit,
                    }
                )
    else:
        raise KeyError(f"unknown values relation {name!r}")
    names = list(rows[0])
    body = ",\n  ".join("(" + ", ".join(lit(r[n]) for n in names) + ")" for r in rows)
    return f"(VALUES\n  {body}\n) AS {name}({', '.join(ident(n) for n in names)})"


def _aliases(root: Path) -> str:
    """``agency_aliases`` rows (flows/agency_aliases.py) as an inline relation, typed even
    when there are none."""
    from . import agency_aliases

    rows = agency_aliases.load(root)
    names = agency_aliases.COLUMNS
    typed = ", ".join(f"CAST({ident(n)} AS VARCHAR) AS {ident(n)}" for n in names)
    if not rows:
        return (
            f"(SELECT {', '.join(f'CAST(NULL AS VARCHAR) AS {ident(n)}' for n in names)} LIMIT 0)"
        )
    body = ", ".join("(" + ", ".join(lit(r[n]) for n in names) + ")" for r in rows)
    return f"(SELECT {typed} FROM (VALUES {body}) AS a({', '.join(ident(n) for n in names)}))"


def _wide(table: str) -> str:
    """``v.<table>__<item>__<column> AS <item>_<column>`` for every catalogue code of a table."""
    out = []
    for code in value_codes():
        t, item, column = code.split(".")
        if t == table:
            out.append(f"v.{ident(value_column(code))} AS {ident(f'{item}_{column}')}")
    return ",\n       ".join(out)


def _pivot(table: str) -> str:
    """One ``max(value) FILTER`` per column code of a table (requests: the 7 applicant columns)."""
    if table != "requests":
        raise KeyError(table)
    return ",\n           ".join(
        f'max(value) FILTER (WHERE "column" = {lit(c)}) AS {ident(c)}'
        for c in catalogue.REQUEST_COLUMNS
    )


def template_names() -> list[str]:
    return sorted(
        p.name for p in resources.files("nianbao.sql").iterdir() if p.name.endswith(".sql")
    )


def render(root: Path, snapshot: Snapshot | None = None) -> tuple[str, str]:
    """(SQL creating every view, its key).  ``root`` is the data directory; ``snapshot``
    the warehouse version to show (default: the latest)."""
    store = Store(warehouse_dir(root))
    snapshot = snapshot if snapshot is not None else store.snapshot()
    pkg = resources.files("nianbao.sql")

    def fill(m: re.Match[str]) -> str:
        name, arg = m.group(1), m.group(2)
        if name == "source":
            if arg in MANAGED_SCHEMAS:
                return _managed_source(store, snapshot, arg)
            return _log_source(store, arg)
        if name == "versions":
            return _versions(store)
        if name == "aliases":
            return _aliases(root)
        if name == "values":
            return _values(arg)
        if name == "wide":
            return _wide(arg)
        if name == "pivot":
            return _pivot(arg)
        if name == "info":
            return "{{info}}"  # filled last: it carries the key of everything else
        raise KeyError(f"unknown template token {m.group(0)}")

    sql = "\n".join(_TOKEN.sub(fill, pkg.joinpath(n).read_text("utf-8")) for n in template_names())
    key = hashlib.sha256(sql.encode("utf-8")).hexdigest()[:16]
    at = snapshot.committed_at.isoformat(timespec="seconds") if snapshot.committed_at else None
    info = ", ".join(
        [
            f"CAST({lit(snapshot.version)} AS BIGINT) AS version",
            f"{lit(root.as_posix())} AS data_dir",
            f"CAST({lit(at)} AS TIMESTAMPTZ) AS committed_at",
            f"{lit(key)} AS views_key",
        ]
    )
    return sql.replace("{{info}}", info), key


def _stored_key(con: duckdb.DuckDBPyConnection) -> str | None:
    try:
        row = con.execute("SELECT views_key FROM warehouse_info").fetchall()
    except duckdb.Error:
        return None
    return row[0][0] if row else None


_CREATES = re.compile(r"^CREATE OR REPLACE (VIEW|TABLE) (\w+)", re.M)


def _drop_changed_kinds(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Drop what an older rendering made a view and this one a table (or the reverse):
    CREATE OR REPLACE cannot change an object's kind."""
    wanted = {name: kind for kind, name in _CREATES.findall(sql)}
    for name, kind in con.execute(
        "SELECT view_name, 'VIEW' FROM duckdb_views() WHERE NOT internal "
        "UNION ALL SELECT table_name, 'TABLE' FROM duckdb_tables() WHERE NOT internal"
    ).fetchall():
        if wanted.get(name, kind) != kind:
            con.execute(f"DROP {kind} {ident(name)}")


def apply_views(data: str | Path | None = None) -> bool:
    """Write the views into ``<data>/nianbao.duckdb``; False if another process holds the file.

    Failing is harmless: the file keeps the views of an older complete version (whose files
    only a vacuum past the retention removes), and ``connect()`` renders fresh ones itself.
    """
    root = data_dir(data)
    sql, key = render(root)
    root.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(duckdb_path(root)))
    except (duckdb.IOException, duckdb.ConnectionException):
        return False
    try:
        if _stored_key(con) == key:
            return True
        con.execute("BEGIN TRANSACTION")
        _drop_changed_kinds(con, sql)
        con.execute(sql)
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return True


def connect(
    data: str | Path | None = None,
    *,
    external_access: bool = True,
    as_of: int | str | datetime | None = None,
) -> duckdb.DuckDBPyConnection:
    """A read-only DuckDB connection on ``<data>/nianbao.duckdb`` with every view current.

    Read-only always: the views file is attached READ_ONLY, so CREATE, DROP, INSERT … fail
    (only session-local TEMP objects can be made).  Stale views are refreshed first when no
    loader holds the warehouse.  When the file cannot serve (another process holds it for
    writing, or it is stale and cannot be refreshed: a load mid-commit, a full disk, a
    read-only mount) the connection reads a private read-only snapshot instead: the same
    views, rendered from the current version into a temporary file.

    ``as_of``: answer as of that warehouse version (see ``warehouse_versions``): a version
    number, or a time (ISO text or datetime) meaning the last version committed by then.
    Always a private snapshot.  ValueError for a version that does not exist.

    ``external_access=False`` (what ``nianbao sql`` uses): files outside the data directory
    can be neither read, written nor attached, extensions are neither installed nor loaded,
    and the configuration is locked.  DuckDB still allows writes and ATTACH *inside* the data
    directory then (its ``allowed_directories`` does not tell reading from writing), so the
    command also refuses statements other than queries.
    """
    root = data_dir(data)
    if not root.is_dir():
        raise FileNotFoundError(f"no data directory at {root} (run `nianbao ingest` first)")
    spill = duckdb_path(root).with_name(duckdb_path(root).name + ".tmp")  # DuckDB's default
    if as_of is not None:
        snapshot = Store(warehouse_dir(root)).snapshot(parse_as_of(as_of))
        con = _snapshot(render(root, snapshot)[0], spill)
        if not external_access:
            _lock_down(con, root)
        return con
    sql, key = render(root)
    path = duckdb_path(root)
    if not path.exists() or _file_key(path) != key:
        _refresh(root)
    con = _stored(path, key, spill) or _snapshot(sql, spill)
    if not external_access:
        _lock_down(con, root)
    return con


def parse_as_of(value: int | str | datetime) -> int | datetime:
    """A version number, or a time: ISO text (a zone-less one is UTC) or a datetime."""
    if isinstance(value, int | datetime):
        return (
            value if not isinstance(value, datetime) or value.tzinfo else value.replace(tzinfo=UTC)
        )
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    try:
        return parse_as_of(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise ValueError(
            f"--as-of {text!r}: give a version number or an ISO time (2026-05-01T12:00)"
        ) from None


def _refresh(root: Path) -> None:
    """Re-apply stale views unless a loader is mid-commit; failing leaves them stale."""
    store = Store(warehouse_dir(root))
    try:
        if not store.root.is_dir():  # nothing loaded yet: views over empty tables
            apply_views(root)
            return
        with store.writer_lock(blocking=False) as locked:
            if locked:
                apply_views(root)
    except (OSError, duckdb.Error):  # full disk, read-only mount: readers use a snapshot
        pass


def _stored(path: Path, key: str, spill: Path) -> duckdb.DuckDBPyConnection | None:
    """The views file, if it can be read and holds the current views."""
    if not path.exists():
        return None
    try:
        con = _open(path, spill)
    except (OSError, duckdb.Error):  # a writer holds it (or it is damaged)
        return None
    if _stored_key(con) != key:
        con.close()
        return None
    return con


def _snapshot(sql: str, spill: Path) -> duckdb.DuckDBPyConnection:
    """The views rendered into a temporary file, attached read-only (the file is unlinked at
    once: the open handle keeps it readable and nothing is left behind)."""
    tmp = Path(tempfile.mkdtemp(prefix="nianbao-views-"))
    try:
        db = tmp / "nianbao.duckdb"
        build = duckdb.connect(str(db))
        try:
            build.execute(sql)
        finally:
            build.close()
        return _open(db, spill)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _open(db: Path, spill: Path) -> duckdb.DuckDBPyConnection:
    """A fresh DuckDB instance with ``db`` attached read-only as ``nianbao`` and nothing else.

    A fresh in-memory instance rather than ``duckdb.connect(db, read_only=True)``: DuckDB
    shares one instance per file within a process, and settings such as external access are
    per instance, so locking one connection down would lock down the caller's others.  The
    writable default ``memory`` catalog is detached.  Spills go to ``spill`` inside the data
    directory, never to a shared directory such as /tmp: DuckDB lets a locked-down
    connection read its temp directory.
    """
    con = duckdb.connect(":memory:", config={"temp_directory": spill.as_posix()})
    try:
        con.execute(f"ATTACH {lit(db.as_posix())} AS nianbao (READ_ONLY)")
        con.execute("USE nianbao")
        con.execute("DETACH memory")
    except BaseException:
        con.close()
        raise
    return con


def _lock_down(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    """No file access outside the data directory (the views read its Parquet files), no
    extensions, and no way to change that back."""
    con.execute(f"SET allowed_directories = [{lit(root.as_posix() + '/')}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def _file_key(path: Path) -> str | None:
    try:
        con = duckdb.connect(str(path), read_only=True)
    except (duckdb.IOException, duckdb.ConnectionException):
        return None
    try:
        return _stored_key(con)
    finally:
        con.close()
