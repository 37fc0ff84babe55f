"""CSV cells that a spreadsheet must not run as formulas (OWASP "CSV injection").

Why: report titles, agencies and raw cell texts come from public web pages; a title such as
``=HYPERLINK("http://…")`` or ``@SUM(…)`` in an exported CSV would be evaluated by Excel or
LibreOffice when a researcher opens the file.  OWASP's rule: a text cell starting with ``=``,
``+``, ``-``, ``@``, tab or carriage return gets a leading ``'``, so it is shown as text.

One deliberate exception: a text cell that is exactly a plain number (``-4``, ``+12``, ``3.5``
in the facts' ``raw`` column) is left alone.  A spreadsheet reads it as that number, which is
harmless and what the researcher wants to see; prefixing it would turn every signed raw value
into text.  Numeric columns are never touched (they are not text).  Only CSV output is
escaped: the warehouse and Parquet exports keep the raw text unchanged.

Done column-wise with pyarrow.compute: exports can hold millions of rows.
"""

from __future__ import annotations

from typing import TypeVar

import pyarrow as pa
import pyarrow.compute as pc

FORMULA_START = r"^[=+\-@\t\r]"
PLAIN_NUMBER = r"^[+-]?\d+(\.\d+)?$"

T = TypeVar("T", pa.RecordBatch, pa.Table)


def escape_formulas(data: T) -> T:
    """``data`` with every formula-like text cell prefixed by ``'`` (other cells unchanged)."""
    columns = [_escape(col) if _is_text(col.type) else col for col in data.columns]
    return type(data).from_arrays(columns, schema=data.schema)


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _escape(col: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    risky = pc.and_(
        pc.match_substring_regex(col, FORMULA_START),
        pc.invert(pc.match_substring_regex(col, PLAIN_NUMBER)),
    )
    if not pc.any(risky).as_py():  # the usual case: nothing to copy
        return col
    return pc.if_else(risky, pc.utf8_replace_slice(col, start=0, stop=0, replacement="'"), col)
