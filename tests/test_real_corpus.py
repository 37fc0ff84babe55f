"""Real reports, read by the production readers and transform, scored against hand-typed truth.

The corpus (tests/fixtures/real/, README.md there) names each document's repository, commit
and sha256; its files are brought by `get.py` and never committed, so a report whose file is
absent is skipped with the command that brings it.  A wrong number fails its report; missing
cells are counted and printed, not failed (the closing notes track them).

    python tests/test_real_corpus.py       # the per-report and per-format tables
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "real"))

from nianbao.extract.readers import read_bytes  # noqa: E402
from nianbao.transform.report import extract_document  # noqa: E402
from real_corpus import Cell, Report, Score, load_all, score  # noqa: E402

REPORTS = load_all()


def extracted_cells(report: Report) -> tuple[dict[Cell, float | None], list[str]]:
    doc = read_bytes(report.path.read_bytes(), source=report.file)
    result = extract_document(doc)
    return {(f.table, f.item, f.column): f.value for f in result.facts}, result.errors


def _line(report: Report, s: Score) -> str:
    pct = 100 * s.exact / s.cells if s.cells else 0.0
    return (
        f"{report.id:34} {report.file_format:9} {report.catalogue} {report.year} "
        f"{report.level:10} cells {s.cells:4} exact {pct:5.1f}% missing {len(s.missing):3} "
        f"wrong {len(s.wrong)}"
    )


def test_corpus_is_well_formed() -> None:
    """Every TOML parses against the catalogue (load_all raised otherwise); ids and files unique."""
    assert len({r.id for r in REPORTS}) == len(REPORTS)
    assert len({r.sha256 for r in REPORTS}) == len(REPORTS), "the same document twice"
    for r in REPORTS:
        assert len(r.sha256) == 64 and r.source.repository.count("/") == 1, r.id
        assert len(r.source.commit) == 40 and r.source.path, r.id


@pytest.mark.parametrize("report", REPORTS, ids=[r.id for r in REPORTS])
def test_real_report(report: Report) -> None:
    if not report.present():
        pytest.skip(
            f"files/{report.file} absent: clone {report.source.repository} and run "
            "tests/fixtures/real/get.py --from <folder of clones>"
        )
    cells, errors = extracted_cells(report)
    s = score(report, cells)
    print("\n" + _line(report, s))
    if s.missing:
        print(
            "  missing:",
            ", ".join(".".join(c) for c in s.missing[:12]),
            "…" if len(s.missing) > 12 else "",
            "| errors:",
            "; ".join(errors)[:300],
        )
    assert not s.wrong, "wrong numbers (cell, typed, extracted): " + repr(s.wrong[:20])


def main() -> int:
    per_format: dict[str, list[Score]] = defaultdict(list)
    absent = []
    for report in REPORTS:
        if not report.present():
            absent.append(report.id)
            continue
        s = score(report, extracted_cells(report)[0])
        per_format[report.file_format].append(s)
        print(_line(report, s))
        for cell, typed, got in s.wrong:
            print(f"    WRONG {'.'.join(cell)}: typed {typed}, extracted {got}")
    print("\n| format | reports | cells | exact % | missing | wrong |\n|---|---|---|---|---|---|")
    for fmt, scores in sorted(per_format.items()):
        cells = sum(s.cells for s in scores)
        exact = sum(s.exact for s in scores)
        print(
            f"| {fmt} | {len(scores)} | {cells} | {100 * exact / cells:.1f} | "
            f"{sum(len(s.missing) for s in scores)} | {sum(len(s.wrong) for s in scores)} |"
        )
    if absent:
        print(f"\nabsent ({len(absent)}): {', '.join(absent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
