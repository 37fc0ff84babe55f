"""A load's rows as streams for delta-rs: built on a thread while the writer encodes.

Why: a national load is ~20 M facts.  Building them (numpy) and encoding them (Rust, GIL
released) each take one core; streaming the facts through a ``RecordBatchReader`` fed by a
builder thread keeps both busy and never holds all facts in memory at once.  The small
tables (reports, checks, report_values) are kept as they are built: they are committed after
the facts, when the stream is exhausted and they are complete.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from queue import Queue

import pyarrow as pa

from .warehouse_build import Chunk

_DONE = object()


class ChunkStream:
    """``{table: data}`` for ``Store.commit``: facts streamed, the other tables collected."""

    def __init__(self, chunks: Iterator[Chunk]) -> None:
        self._chunks = chunks
        self._queue: Queue = Queue(maxsize=1)  # one chunk ahead of the writer
        self._kept: dict[str, list[pa.Table]] = {"checks": [], "report_values": [], "reports": []}
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._build, name="nianbao-build", daemon=True)

    def __enter__(self) -> ChunkStream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        while self._thread.is_alive():  # a failed write: let the builder finish and go
            if self._queue.get() is _DONE:
                break
        self._thread.join()
        if self._error is not None and exc[0] is not None:
            raise self._error  # the builder's error, not the writer's report of it

    def _build(self) -> None:
        try:
            for chunk in self._chunks:
                self._kept["checks"].append(chunk.checks)
                self._kept["report_values"].append(chunk.values)
                self._kept["reports"].append(chunk.reports)
                self._queue.put(chunk.facts)
        except BaseException as e:  # re-raised by __exit__
            self._error = e
        finally:
            self._queue.put(_DONE)

    def __getitem__(self, table: str) -> pa.Table | pa.RecordBatchReader:
        if table == "facts":
            return self._facts()
        return pa.concat_tables(self._kept[table])

    def _facts(self) -> pa.RecordBatchReader:
        first = self._queue.get()
        if first is _DONE:
            raise self._error or RuntimeError("no facts were built")
        return pa.RecordBatchReader.from_batches(first.schema, self._batches(first))

    def _batches(self, first: pa.Table) -> Iterator[pa.RecordBatch]:
        table = first
        while table is not _DONE:
            yield from table.cast(first.schema).to_batches()
            table = self._queue.get()
        if self._error is not None:
            raise self._error
