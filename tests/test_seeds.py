"""The five real seed reports: every number exactly as printed (expected values were read off
the seeds by an independent naive scan, tests/fixtures/seed_expected/*.csv)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import SEED_EXPECTED, SEED_FILES, SEEDS_DIR
from nianbao.extract.readers import read_path
from nianbao.transform.report import extract_document

SEEDS = SEEDS_DIR


def expected(seed: Path) -> dict[tuple[str, str, str], str]:
    with open(SEED_EXPECTED / (seed.stem + ".csv"), encoding="utf-8", newline="") as f:
        return {(r["table"], r["item"], r["column"]): r["raw"] for r in csv.DictReader(f)}


@pytest.fixture(scope="module", params=SEED_FILES, ids=lambda p: p.name[:3])
def seed(request):
    path = request.param
    return path, extract_document(read_path(path))


def test_five_seeds_present():
    assert len(SEED_FILES) == 5


def test_all_200_cells_equal_the_source(seed):
    path, result = seed
    want = expected(path)
    assert result.format == "2021"
    got = {(f.table, f.item, f.column): f for f in result.facts}
    assert len(result.facts) == 200 == len(got)
    assert set(got) == set(want)
    for key, raw in want.items():
        fact = got[key]
        assert fact.raw == raw, key
        assert fact.value == (float(raw) if "." in raw else int(raw)), key
    assert result.errors == []
    assert {c.name: c.ok for c in result.checks}["cells_found"] is True
    assert {c.name: c.ok for c in result.checks}["tables_found"] is True


def test_units(seed):
    _, result = seed
    units = {(f.table, f.item, f.column): f.unit for f in result.facts}
    assert units[("active", "fees", "amount")] == "万元"
    assert units[("requests", "new", "total")] == "件"


def test_only_seed_002_breaks_identities(seed):
    path, result = seed
    failed = sorted(c.name for c in result.failed_checks)
    if path.name.startswith("002"):
        # new.commercial = 1, but the 商业企业 column's result and total do not include it.
        assert failed == ["requests_balance.commercial", "requests_row_total.new"]
        detail = {c.name: c.detail for c in result.checks}["requests_balance.commercial"]
        assert "new.commercial=1" in detail and "difference 1" in detail
    else:
        assert failed == []
    skipped = [c.name for c in result.checks if c.ok is None]
    assert skipped == []  # every cell of the seeds holds a number
    names = [c.name for c in result.checks]
    assert len([n for n in names if n.startswith("requests_balance.")]) == 7
    assert len([n for n in names if n.startswith("requests_result_sum.")]) == 7
    assert len([n for n in names if n.startswith("requests_row_total.")]) == 25
    assert len([n for n in names if n.startswith("appeals_total.")]) == 3


def test_seed_003_duplicated_page_gives_one_set():
    result = extract_document(read_path(SEEDS / "003_206c6253126fb44e.txt"))
    assert len(result.facts) == 200
    copies = {c.name: c for c in result.checks}["copies_agree"]
    assert copies.ok is True and "2 copies" in copies.detail
    fees = [f for f in result.facts if f.item == "fees"]
    assert [(f.value, f.unit, f.raw) for f in fees] == [(1560, "万元", "1560")]


def test_seed_000_guifanxing_wenjian_maps_to_normative_doc():
    path = SEEDS / "000_80f05e0714564e77.txt"
    assert "\n规范性文件 |" in path.read_text(encoding="utf-8")
    result = extract_document(read_path(path))
    normative = [f for f in result.facts if f.item == "normative_doc"]
    assert [f.column for f in normative] == ["issued", "repealed", "in_force"]
    assert result.meta.agency == "精河工业园区"
    assert result.meta.year == 2024


def test_seed_004_info_box_lands_in_meta():
    result = extract_document(read_path(SEEDS / "004_40523efafb065443.txt"))
    assert result.meta.index_no == "hedongquhd0217/2025-0000003"
    assert result.meta.agency == "河东区中小企业发展服务中心"
    assert result.meta.published == "2025-01-24"
    assert result.meta.year == 2024


def test_seed_metadata():
    metas = {p.name[:3]: extract_document(read_path(p)).meta for p in SEED_FILES}
    assert metas["001"].title == "怀化市洪江区科技和工业信息化局2024年政府信息公开工作年度报告"
    assert metas["001"].agency == "怀化市洪江区科技和工业信息化局"
    assert metas["002"].agency == "赣州经开区党政办公室"
    assert metas["002"].year == 2021
    assert metas["003"].agency == "呼和浩特经济技术开发区"
    assert {m.year for m in metas.values()} == {2021, 2024}
