"""Command-line manners: JSON output shape, clear one-line errors (no tracebacks) for user
mistakes, exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import SEED_FILES
from nianbao.flows.cli import main

SEEDS = SEED_FILES


def test_extract_json_one_line_per_input(capsys, tmp_path):
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    assert main(["extract", "--json", str(SEEDS[2]), str(bad)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(x) for x in lines)
    assert set(first) >= {"source", "format", "meta", "facts", "checks", "errors"}
    assert set(first["meta"]) == {"title", "agency", "year", "published", "index_no"}
    assert set(first["facts"][0]) == {"table", "item", "column", "value", "unit", "raw"}
    assert set(first["checks"][0]) == {"name", "ok", "detail"}
    assert len(first["facts"]) == 200
    # the error carries its reason class (as in `ingest` and the run summary)
    assert second["errors"] == ["unreadable: empty input"] and second["facts"] == []


def test_extract_fails_only_when_every_input_fails(capsys, tmp_path):
    assert main(["extract", "--json", str(tmp_path / "missing.txt")]) == 1
    err = json.loads(capsys.readouterr().out)["errors"][0]
    assert err.startswith("unreadable: cannot read")


def test_bad_registry_is_one_clear_line(capsys, tmp_path):
    reg = tmp_path / "portals.csv"
    reg.write_text("portal_id,agency\nx,y\n", encoding="utf-8")
    assert main(["run", "--registry", str(reg), "--data", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nianbao: error:") and "Traceback" not in err
    assert main(["crawl", "--registry", str(tmp_path / "nope.csv")]) == 2
    assert "nope.csv" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_data_dir(capsys, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    reg = Path(__file__).parents[1] / "data" / "portals.csv"
    assert main(["run", "--registry", str(reg), "--data", str(ro / "data")]) == 2
    assert "not writable" in capsys.readouterr().err


def test_data_dir_that_is_a_file(capsys, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    reg = Path(__file__).parents[1] / "data" / "portals.csv"
    assert main(["run", "--registry", str(reg), "--data", str(f)]) == 2
    err = capsys.readouterr().err
    assert "not writable" in err and "Traceback" not in err


def test_sql_on_the_seeds(capsys, tmp_path):
    data = tmp_path / "data"
    assert main(["ingest", *map(str, SEEDS), "--data", str(data)]) == 0
    capsys.readouterr()
    assert main(["sql", "SELECT count(*) AS n FROM facts", "--data", str(data), "--csv"]) == 0
    assert capsys.readouterr().out.split() == ["n", "1000"]
