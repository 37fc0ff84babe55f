"""Record dataclasses generate their Arrow schemas (nianbao.core.records)."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated

import pyarrow as pa
import pytest
from nianbao.core import records


@dataclass(frozen=True)
class Visit:
    url: str
    status: int | None
    year: Annotated[int, pa.int16()] | None
    fetched_at: datetime
    on: date | None = None
    note: object = field(default=None, metadata={"column": False})


def test_schema_follows_annotations_and_field_order():
    s = records.schema(Visit)
    assert s.names == ["url", "status", "year", "fetched_at", "on"]
    assert s.field("url").type == pa.string() and not s.field("url").nullable
    assert s.field("status").type == pa.int64() and s.field("status").nullable
    assert s.field("year").type == pa.int16()
    assert s.field("fetched_at").type == pa.timestamp("us", tz="UTC")
    assert s.field("on").type == pa.date32()


def test_table_from_records_and_mappings():
    t = records.table(
        Visit,
        [
            Visit("https://a.gov.cn/1", 200, 2023, datetime(2024, 3, 1, tzinfo=UTC)),
            {
                "url": "https://a.gov.cn/2",
                "status": None,
                "year": None,
                "fetched_at": datetime(2024, 3, 2, tzinfo=UTC),
                "on": date(2024, 3, 2),
            },
        ],
    )
    assert t.schema == records.schema(Visit)
    assert t.column("status").to_pylist() == [200, None]
    assert t.column("on").to_pylist() == [None, date(2024, 3, 2)]


def test_missing_required_value_fails_loudly():
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError, ValueError)):
        records.table(
            Visit, [{"url": None, "status": 1, "year": 1, "fetched_at": None, "on": None}]
        )


def test_unsupported_annotation_is_an_error():
    @dataclass
    class Bad:
        x: list[int]

    with pytest.raises(TypeError, match="no Arrow column type"):
        records.schema(Bad)
