"""ExtractResults → Arrow tables, column-wise (the warehouse's write path).

Why column-wise: a national load is ~20 M facts.  Per-row dicts cost microseconds each.  Here
one C-level pass (``map(attrgetter)`` into an interning dict) turns the facts into indices of
the few thousand distinct (cell, unit, raw, value) tuples; everything after that is numpy on
those indices, and the Parquet writer gets ready-made dictionary arrays.

Besides ``reports``, ``facts`` and ``checks`` this builds ``report_values``: one row per report,
one DOUBLE column per catalogue code.  It is a pure pivot of the facts, materialised so the
researcher views (rates, totals) read 100 k narrow rows instead of re-pivoting 20 M facts.

Every report also gets a ``digest`` of everything loaded about it except load-time stamps, so
loading the same input again can be recognised and skipped: the second load changes nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import chain
from operator import attrgetter

import numpy as np
import pyarrow as pa
from nianbao.core.regions import Region, infer_region, region
from nianbao.transform import catalogue
from nianbao.transform.result import ExtractResult

from .warehouse_records import CHECKS_SCHEMA, FACTS_SCHEMA, REPORTS_SCHEMA

# --- Schemas: reports, facts, checks from their records; report_values from the catalogue ---


def value_column(code: str) -> str:
    """Column name of a catalogue code in ``report_values``: requests.granted.total → requests__granted__total."""
    return code.replace(".", "__")


def value_codes() -> tuple[str, ...]:
    """Catalogue codes of both formats, codebook order: the columns of ``report_values``."""
    return tuple(row["code"] for row in catalogue.codebook())


def report_values_schema() -> pa.Schema:
    fields = [("report_id", pa.string()), ("year", pa.int16())]
    return pa.schema(fields + [(value_column(c), pa.float64()) for c in value_codes()])


# --- Identity --------------------------------------------------------------------------------


_URL = re.compile(r"^\s*(?:[A-Za-z][A-Za-z0-9+.-]*:)?//([^/?#]*)([^#]*)")


def canonical_url(url: str) -> str:
    """The form of a URL a report id is derived from.

    Scheme dropped (portals move between http and https), host lower-cased, default port and
    fragment removed; path and query kept as published.
    """
    m = _URL.match(url)
    if not m:
        return url.strip().split("#", 1)[0]
    host, rest = m.group(1).lower(), m.group(2).rstrip()
    host = host.removesuffix(":80").removesuffix(":443")
    if rest.endswith("?"):
        rest = rest[:-1]
    return host + (rest or "/")


def report_id_for(source_url: str | None = None, sha256: str | None = None) -> str:
    """Stable report id: from the canonical source URL, else from the content hash."""
    if source_url:
        return hashlib.sha256(canonical_url(source_url).encode("utf-8")).hexdigest()[:16]
    if sha256:
        return sha256.lower()[:16]
    raise ValueError("a report needs a source URL or the sha256 of its content")


@dataclass(slots=True)
class ReportInput:
    """One extracted report plus what only the caller knows (where and when it was fetched).

    ``level``/``region_code``/``portal_id`` come from the portal registry when crawled; for
    local files they are None unless the caller passes them.  ``agency`` overrides the agency
    the extraction found.  The region columns stored are ``region_fields(agency, region_code)``.
    """

    result: ExtractResult
    sha256: str | None = None
    source_url: str | None = None
    fetched_at: datetime | str | None = None
    level: str | None = None
    region_code: str | None = None
    portal_id: str | None = None
    agency: str | None = None

    @property
    def report_id(self) -> str:
        return report_id_for(self.source_url, self.sha256)


# --- Region -----------------------------------------------------------------------------------

INFER_AT_LEAST = 0.5  # an inferred region weaker than this (context-only, conflict …) is not taken
_NO_REGION = dict.fromkeys(
    ("province_code", "province", "city_code", "city", "county_code", "county", "region_source")
) | {"region_confidence": None}


def region_fields(agency: str | None, region_code: str | None) -> dict:
    """The region columns of a report: ``region_code`` (the best known code) and its province,
    city and county, where they came from and how sure that is.

    A county-level registry code is taken as it is (``registry``, 1.0).  A province or city
    code, or none, is the context for reading the agency's name (``core.regions.infer_region``):
    a region found there that lies inside the context and is more precise than it is taken
    (``inferred``, the inference's confidence); otherwise the registry's code stands.  Known codes
    are written as 6 digits; a code the package does not know is kept as given, the other
    columns empty.
    """
    known = region(region_code) if region_code else None
    if known is None or known.level in ("province", "city"):
        guess = infer_region(agency, known.code if known else None) if agency else None
        if guess and guess.code and guess.confidence >= INFER_AT_LEAST:
            found = region(guess.code)
            if found is not None and _finer(found, known):
                return _fields(found, "inferred", guess.confidence)
    if known is None:
        return {"region_code": region_code, **_NO_REGION}
    return _fields(known, "registry", 1.0)


def _finer(found: Region, context: Region | None) -> bool:
    """``found`` lies strictly inside ``context`` (anything is, when there is none)."""
    if context is None:
        return True
    if found.code == context.code:
        return False
    return context.code in (found.province_code, found.city_code)


def _fields(r: Region, source: str, confidence: float) -> dict:
    return {
        "region_code": r.code,
        "province_code": r.province_code or None,
        "province": r.province or None,
        "city_code": r.city_code or None,
        "city": r.city or None,
        "county_code": r.county_code or None,
        "county": r.county or None,
        "region_source": source,
        "region_confidence": confidence,
    }


# --- Building ---------------------------------------------------------------------------------


class _Interner(dict):
    """value → dense int; ``__missing__`` keeps lookups in C for the common (seen) case."""

    def __missing__(self, key: object) -> int:
        value = self[key] = len(self)
        return value


@dataclass(slots=True)
class _Coded:
    """A column as dictionary indices plus the distinct values (cheap to hash and to write)."""

    idx: np.ndarray
    values: list

    @classmethod
    def field(cls, row_idx: np.ndarray, rows: list[tuple], k: int) -> _Coded:
        """Field ``k`` of interned rows (see ``_intern_rows``) as a coded column of its own."""
        return cls.per_row(row_idx, [r[k] for r in rows])

    @classmethod
    def per_row(cls, row_idx: np.ndarray, values: list) -> _Coded:
        """A coded column from one value per interned row."""
        sub, distinct = _dense(values)
        return cls(sub[row_idx] if len(values) else np.zeros(len(row_idx), np.int32), distinct)

    def arrow(self, order: np.ndarray | None = None) -> pa.DictionaryArray:
        """Dictionary array (a None value becomes a null index, Arrow's convention)."""
        idx = self.idx if order is None else self.idx[order]
        values, mask = self.values, None
        if None in values:
            mask = idx == values.index(None)
            values = ["" if v is None else v for v in values]
        return pa.DictionaryArray.from_arrays(
            pa.array(idx, mask=mask), pa.array(values, pa.string())
        )

    def ranks(self) -> np.ndarray:
        """rank[i] = position of values[i] in sorted order (None last)."""
        vals = self.values
        order = sorted(
            range(len(vals)), key=lambda i: (True, 0) if vals[i] is None else (False, vals[i])
        )
        ranks = np.empty(len(vals), dtype=np.int64)
        ranks[order] = np.arange(len(vals))
        return ranks


def _intern_rows(objs: Sequence, attrs: tuple[str, ...]) -> tuple[np.ndarray, list[tuple]]:
    """(index per object, distinct attribute tuples).

    One pass of C-level iteration over the objects: reports repeat the same few thousand
    (cell, unit, raw, value) combinations, so everything after this works on the small list.
    """
    interner = _Interner()
    get = interner.__getitem__
    idx = np.fromiter(map(get, map(attrgetter(*attrs), objs)), dtype=np.int32, count=len(objs))
    return idx, list(interner)


def _dense(values: list) -> tuple[np.ndarray, list]:
    interner = _Interner()
    idx = np.fromiter(map(interner.__getitem__, values), dtype=np.int32, count=len(values))
    return idx, list(interner)


def _hashes(rows: list[tuple]) -> np.ndarray:
    """Stable 64-bit hash per distinct row, for change detection (Python's hash() is salted
    per process).  BLAKE2b cut to 8 bytes: a real 64-bit hash, and cheap here because it
    runs once per *distinct* row (a few thousand per batch), not once per fact."""
    digests = (hashlib.blake2b(repr(row).encode(), digest_size=8).digest() for row in rows)
    return np.frombuffer(b"".join(digests), dtype="<u8").astype(np.uint64)


def _segment_sums(h: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Sum (mod 2**64) of ``h`` per consecutive segment of the given lengths: order-free."""
    cs = np.concatenate([np.zeros(1, dtype=np.uint64), np.cumsum(h, dtype=np.uint64)])
    ends = np.cumsum(counts)
    return cs[ends] - cs[ends - counts]


def _timestamp(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


@dataclass(slots=True)
class Chunk:
    """Arrow tables for the reports of a batch that are to be written."""

    ids: list[str]
    reports: pa.Table
    facts: pa.Table
    checks: pa.Table
    values: pa.Table

    def tables(self) -> tuple[pa.Table, pa.Table, pa.Table]:
        """The data tables, in warehouse_store.DATA_TABLES order (reports are committed apart)."""
        return self.facts, self.checks, self.values


FACT_FIELDS = ("table", "item", "column", "unit", "raw", "value")
CHECK_FIELDS = ("name", "ok", "detail")


# load-time stamps (fetched_at too: the same bytes fetched again are the same input), and
# cells_digest, which is facts_hash again
_NOT_DIGESTED = ("extracted_at", "fetched_at", "cells_digest")


def _digest(row: dict, facts_hash: int, checks_hash: int) -> str:
    """A report's content digest: everything but load-time stamps (fetched_at too: the same
    bytes fetched again are the same input), and its facts' and checks' hashes.  repr of
    str/int/None/date/list is stable across processes."""
    ident = repr([v for key, v in row.items() if key not in _NOT_DIGESTED])
    blob = ident.encode() + facts_hash.to_bytes(8, "little") + checks_hash.to_bytes(8, "little")
    return hashlib.sha256(blob).hexdigest()[:32]


class Batch:
    """A batch of reports, read once: digests first, Arrow tables only for what is written.

    Loading the same input again then costs one pass over the facts (to hash them), not a
    full build.  ``ids`` must be distinct.
    """

    def __init__(self, inputs: Sequence[ReportInput], ids: Sequence[str], extracted_at: datetime):
        results = [i.result for i in inputs]
        self.ids = list(ids)
        self.years = [r.meta.year for r in results]
        self.formats = [r.format for r in results]
        n_facts, n_values, facts_hash = self._read_facts(results)
        n_checks, failed, skipped, checks_hash = self._read_checks(results)
        self.report_rows: list[dict] = []
        for k, inp in enumerate(inputs):
            counts = {
                "n_facts": int(n_facts[k]),
                "n_values": int(n_values[k]),
                "n_checks": int(n_checks[k]),
                "n_checks_failed": int(failed[k]),
                "n_checks_skipped": int(skipped[k]),
            }
            row = self._report_row(self.ids[k], inp, extracted_at, counts)
            row["cells_digest"] = f"{int(facts_hash[k]):016x}" if n_facts[k] else None
            row["digest"] = _digest(row, int(facts_hash[k]), int(checks_hash[k]))
            self.report_rows.append(row)
        self.digests: list[str] = [row["digest"] for row in self.report_rows]

    def _read_facts(self, results: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The facts interned once: per report its count, non-null values and content hash."""
        n = len(results)
        n_facts = np.fromiter((len(r.facts) for r in results), dtype=np.int64, count=n)
        self.rep = np.repeat(np.arange(n, dtype=np.int32), n_facts)
        self.row_idx, rows = _intern_rows(
            list(chain.from_iterable(r.facts for r in results)), FACT_FIELDS
        )
        # values as floats: 1 and 1.0 are one value; None → NaN, masked as null
        self.rows = [(*r[:5], None if r[5] is None else float(r[5])) for r in rows]
        facts_hash = _segment_sums(_gather(_hashes(self.rows), self.row_idx), n_facts)
        distinct = np.array([np.nan if r[5] is None else r[5] for r in self.rows], np.float64)
        null = np.isnan(_gather(distinct, self.row_idx))
        n_values = n_facts - np.bincount(self.rep[null], minlength=n)
        return n_facts, n_values, facts_hash

    def _read_checks(self, results: list) -> tuple[np.ndarray, ...]:
        """The checks interned once: per report its count, failed, skipped and content hash."""
        n = len(results)
        n_checks = np.fromiter((len(r.checks) for r in results), dtype=np.int64, count=n)
        self.crep = np.repeat(np.arange(n, dtype=np.int32), n_checks)
        self.crow_idx, crows = _intern_rows(
            list(chain.from_iterable(r.checks for r in results)), CHECK_FIELDS
        )
        self.crows = [(r[0], None if r[1] is None else bool(r[1]), r[2]) for r in crows]
        # state per check: 0 failed, 1 passed, 2 skipped
        state = np.array([2 if r[1] is None else int(r[1]) for r in self.crows], np.int64)
        self.state = _gather(state, self.crow_idx)
        checks_hash = _segment_sums(_gather(_hashes(self.crows), self.crow_idx), n_checks)
        failed = np.bincount(self.crep[self.state == 0], minlength=n)
        skipped = np.bincount(self.crep[self.state == 2], minlength=n)
        return n_checks, failed, skipped, checks_hash

    @staticmethod
    def _report_row(
        report_id: str, inp: ReportInput, extracted_at: datetime, counts: dict[str, int]
    ) -> dict:
        r = inp.result
        m = r.meta
        agency = inp.agency or m.agency
        return {
            "report_id": report_id,
            "title": m.title,
            "agency": agency,
            "level": inp.level,
            **region_fields(agency, inp.region_code),
            "year": m.year,
            "format": r.format,
            "published": _date(m.published),
            "index_no": m.index_no,
            "source_url": inp.source_url,
            "source": r.source or inp.source_url,
            "portal_id": inp.portal_id,
            "sha256": inp.sha256,
            "fetched_at": _timestamp(inp.fetched_at),
            "extracted_at": extracted_at,
            "parser_version": r.parser_version,
            **counts,
            "errors": list(r.errors),
            "flags": list(r.flags),
            "statements": [
                {"quantity": s.quantity, "value": s.value, "text": s.text} for s in r.statements
            ],
        }

    def chunk(self, keep: np.ndarray) -> Chunk:
        """Arrow tables for the reports where ``keep`` is True."""
        kept = np.flatnonzero(keep)
        renumber = np.cumsum(keep, dtype=np.int64) - 1
        ids = [self.ids[i] for i in kept]
        years = pa.array([self.years[i] for i in kept], pa.int16())

        fmask = keep[self.rep]
        rep = renumber[self.rep[fmask]].astype(np.int32)
        row_idx = self.row_idx[fmask]
        cols = {name: _Coded.field(row_idx, self.rows, k) for k, name in enumerate(FACT_FIELDS[:5])}
        cols["code"] = _Coded.per_row(row_idx, [f"{r[0]}.{r[1]}.{r[2]}" for r in self.rows])
        distinct = np.array([np.nan if r[5] is None else r[5] for r in self.rows], np.float64)
        value_np = _gather(distinct, row_idx)
        formats = [self.formats[i] for i in kept]
        facts = _facts_table(cols, rep, value_np, years, ids, formats)
        values = _values_table(cols, rep, value_np, ids, years)

        cmask = keep[self.crep]
        crep = renumber[self.crep[cmask]].astype(np.int32)
        crow_idx, state = self.crow_idx[cmask], self.state[cmask]
        checks = pa.table(
            [
                _Coded(crep, ids).arrow(),
                _take(years, crep),
                _Coded.field(crow_idx, self.crows, 0).arrow(),
                pa.array(state == 1, pa.bool_(), mask=state == 2),
                _Coded.field(crow_idx, self.crows, 2).arrow(),
            ],
            names=CHECKS_SCHEMA.names,
        )
        cols_r = {name: [self.report_rows[i][name] for i in kept] for name in REPORTS_SCHEMA.names}
        reports = pa.table(cols_r, schema=REPORTS_SCHEMA)
        return Chunk(ids, reports, facts, checks, values)


def _gather(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return values[idx] if len(values) else np.zeros(len(idx), values.dtype)


def _facts_table(
    cols: dict[str, _Coded],
    rep: np.ndarray,
    value_np: np.ndarray,
    years: pa.Array,
    ids: list[str],
    formats: list[str | None],
) -> pa.Table:
    """Facts sorted by (year, code), stably so reports keep input order: each cell's rows sit
    together, so row-group statistics skip what a filter on code, table or item leaves out."""
    y, code = _Coded(*_dense(years.to_pylist())), cols["code"]
    key = _gather(y.ranks(), y.idx)[rep] * len(code.values) + _gather(code.ranks(), code.idx)
    small = key.max(initial=0) < 2**16  # numpy's stable sort is a radix sort for 16-bit keys
    order = np.argsort(key.astype(np.uint16 if small else np.int64), kind="stable")
    f = _Coded(*_dense(formats))
    rep_o = rep[order]
    return pa.table(
        [
            _Coded(rep_o, ids).arrow(),
            _take(years, rep_o),
            _Coded(_gather(f.idx, rep_o), f.values).arrow(),
            cols["table"].arrow(order),
            cols["item"].arrow(order),
            cols["column"].arrow(order),
            code.arrow(order),
            pa.array(value_np[order], pa.float64(), mask=np.isnan(value_np[order])),
            cols["unit"].arrow(order),
            cols["raw"].arrow(order),
        ],
        names=FACTS_SCHEMA.names,
    )


def _take(years: pa.Array, rows: np.ndarray) -> pa.Array:
    """years[rows] through numpy (Arrow's take is several times slower for this)."""
    vals = years.fill_null(0).to_numpy()
    mask = np.asarray(years.is_null())[rows] if years.null_count else None
    return pa.array(_gather(vals, rows), pa.int16(), mask=mask)


def _values_table(
    cols: dict[str, _Coded], rep: np.ndarray, value_np: np.ndarray, ids: list[str], years: pa.Array
) -> pa.Table:
    """report_values: each catalogue cell scattered into one row per report."""
    codes = value_codes()
    slot_of = {tuple(code.split(".")): k for k, code in enumerate(codes)}
    t, i, c = cols["table"], cols["item"], cols["column"]
    lut = np.full((len(t.values), len(i.values), len(c.values)), -1, dtype=np.int32)
    for ti, tv in enumerate(t.values):
        for ii, iv in enumerate(i.values):
            for ci, cv in enumerate(c.values):
                lut[ti, ii, ci] = slot_of.get((tv, iv, cv), -1)
    slot = lut[t.idx, i.idx, c.idx] if len(rep) else np.zeros(0, np.int32)
    grid = np.full((len(codes), len(ids)), np.nan)
    hit = slot >= 0
    grid[slot[hit], rep[hit]] = value_np[hit]
    arrays = [pa.array(ids, pa.string()), years]
    arrays += [pa.array(grid[k], pa.float64(), mask=np.isnan(grid[k])) for k in range(len(codes))]
    return pa.table(arrays, schema=report_values_schema())
