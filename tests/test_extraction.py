"""The one extraction entry: per-document worker processes with limits, reasons for refusals."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import SEED_FILES
from nianbao.flows.extraction import Job, Limits, extract_all, extract_job, job_for_path
from nianbao.flows.warehouse import connect, ingest

FIXTURES = Path(__file__).parent / "fixtures"
OCR_IMAGE = FIXTURES / "ocr" / "000_requests_clean.png"
SEED_PDF = FIXTURES / "formats" / "seed_001.pdf"


def _by_name(outcomes) -> dict[str, object]:
    return {Path(o.job.path).name: o for o in outcomes}


def test_seed_extracted_in_a_worker_equals_in_process() -> None:
    job = job_for_path(SEED_FILES[0])
    [worker] = list(extract_all([job], Limits(workers=1)))
    local = extract_job(job)
    assert worker.ok and worker.reason is None
    assert len(worker.result.facts) == 200
    assert worker.result.facts == local.result.facts
    assert worker.sha256 == local.sha256 and len(worker.sha256) == 64


def test_wall_time_limit_kills_only_the_slow_document(tmp_path: Path) -> None:
    # OCR of a table image takes seconds (model start-up included); text dumps take ms.
    jobs = [job_for_path(OCR_IMAGE), *map(job_for_path, SEED_FILES)]
    outcomes = _by_name(extract_all(jobs, Limits(seconds=1.0, workers=2)))
    slow = outcomes[OCR_IMAGE.name]
    assert slow.reason == "limit:time" and slow.result is None
    assert "over 1 s" in slow.error
    for seed in SEED_FILES:
        assert outcomes[seed.name].ok, outcomes[seed.name].error
        assert len(outcomes[seed.name].result.facts) == 200


def test_memory_limit_stops_the_worker_and_the_pool_goes_on() -> None:
    # The OCR engine alone needs far more than 150 MB resident; a text dump needs ~60 MB.
    jobs = [job_for_path(OCR_IMAGE), job_for_path(SEED_FILES[1])]
    outcomes = _by_name(extract_all(jobs, Limits(memory_mb=150, workers=1)))
    assert outcomes[OCR_IMAGE.name].reason == "limit:memory"
    assert "150 MB" in outcomes[OCR_IMAGE.name].error
    assert outcomes[SEED_FILES[1].name].ok


def test_output_limit() -> None:
    [o] = extract_all([job_for_path(SEED_FILES[0])], Limits(output_mb=0, workers=1))
    assert o.reason == "limit:output" and o.result is None


def test_reasons_for_what_is_not_a_report(tmp_path: Path) -> None:
    noise = tmp_path / "noise.bin"
    noise.write_bytes(bytes(range(256)) * 4000)
    ofd = tmp_path / "report.ofd"
    ofd.write_bytes(b"PK\x03\x04" + b"\x00" * 26)  # not a whole zip: unreadable, not a crash
    fifo = tmp_path / "pipe.txt"
    import os

    os.mkfifo(fifo)
    jobs = [job_for_path(p) for p in (noise, ofd, fifo, tmp_path / "missing.txt")]
    outcomes = _by_name(extract_all(jobs, Limits(seconds=20)))
    assert outcomes["noise.bin"].reason == "not_a_report"
    assert outcomes["pipe.txt"].reason == "unreadable"
    assert "FIFO" in outcomes["pipe.txt"].error
    assert outcomes["missing.txt"].reason == "unreadable"
    assert outcomes["report.ofd"].reason in ("unreadable", "unsupported:zip", "unsupported:ofd")


def test_no_jobs_starts_no_pool() -> None:
    assert list(extract_all([], Limits())) == []


def test_ingest_dir_reads_every_supported_format_and_loads_only_reports(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for f in (FIXTURES / "formats" / "seed_000.xlsx", SEED_PDF, SEED_FILES[2]):
        shutil.copy(f, src / f.name)
    (src / "notice.txt").write_text(
        "关于开展政府信息公开工作的通知\n特此通知。\n", encoding="utf-8"
    )
    (src / "random.jsp").write_bytes(bytes(range(256)) * 4000)
    res = ingest([src], tmp_path / "data")
    assert sorted(p.name for p in res.loaded) == sorted(
        ["seed_000.xlsx", "seed_001.pdf", SEED_FILES[2].name]
    )
    failed = {p.name: why for p, why in res.failed}
    assert set(failed) == {"notice.txt", "random.jsp"}
    assert all(why.startswith("not_a_report: ") for why in failed.values())
    con = connect(tmp_path / "data")
    try:
        n_reports, n_facts = con.execute("SELECT count(*), sum(n_facts) FROM reports").fetchone()
    finally:
        con.close()
    assert (n_reports, n_facts) == (3, 600)


@pytest.mark.parametrize("workers", [1, 2])
def test_pool_sizes_give_identical_results(workers: int) -> None:
    jobs = [Job(str(p), f"https://example.gov.cn/{p.name}") for p in SEED_FILES]
    outcomes = sorted(extract_all(jobs, Limits(workers=workers)), key=lambda o: o.job.path)
    assert [o.job.source for o in outcomes] == sorted(j.source for j in jobs)
    assert all(o.ok and o.result.source == o.job.source for o in outcomes)
    assert sum(len(o.result.facts) for o in outcomes) == 200 * len(SEED_FILES)


def test_extractions_log_explains_documents_and_settles_them(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from nianbao.extract.documents_log import DocumentsLog
    from nianbao.flows import runlog
    from nianbao.flows.warehouse_views import apply_views

    url, sha = "https://www.example.gov.cn/nb/2024.pdf", "ab" * 32
    with DocumentsLog(tmp_path) as log:
        log.append({"url": url, "kind": "attachment", "outcome": "new", "sha256": sha})
    rows = [
        {
            "run_id": f"r{i}",
            "url": url,
            "sha256": sha,
            "parser_version": "v1",
            "extracted_at": datetime(2026, 1, i + 1, tzinfo=UTC),
            "outcome": "limit:time",
            "error": "over 60 s",
        }
        for i in range(2)
    ]
    runlog.write_extractions(tmp_path, rows)
    assert runlog.settled_extractions(tmp_path) == set()  # a time-out is tried again…
    runlog.write_extractions(tmp_path, [{**rows[0], "run_id": "r3", "extracted_at": None}])
    assert runlog.settled_extractions(tmp_path) == {(url, sha, "v1")}  # …three times in all
    runlog.write_extractions(
        tmp_path,
        [{**rows[0], "url": url + "x", "outcome": "not_a_report", "error": "no tables"}],
    )
    assert (url + "x", sha, "v1") in runlog.settled_extractions(tmp_path)

    apply_views(tmp_path)
    con = connect(tmp_path)
    try:
        got = con.execute("SELECT url, extraction, extraction_error FROM documents").fetchall()
        n = con.execute("SELECT count(*) FROM extractions").fetchone()[0]
    finally:
        con.close()
    assert n == 4
    assert got == [(url, "limit:time", "over 60 s")]
