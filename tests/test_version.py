"""The extractor version is derived from what decides the output, so it cannot go stale."""

from __future__ import annotations

import shutil
from pathlib import Path

from nianbao.core import version
from nianbao.flows.warehouse import connect, ingest


def _copy_sources(tmp: Path) -> dict[str, Path]:
    """A private copy of the installed core/extract/transform folders to edit."""
    roots = {}
    for name, root in version.package_roots().items():
        roots[name] = tmp / name
        shutil.copytree(root, roots[name], ignore=shutil.ignore_patterns("__pycache__"))
    return roots


def test_changing_a_transform_rule_changes_the_version(tmp_path):
    roots = _copy_sources(tmp_path)
    before = version.content_hash(roots)
    assert before == version.content_hash(version.package_roots())  # a copy hashes the same
    mapping = roots["transform"] / "mapping.py"
    rule = mapping.read_text(encoding="utf-8")
    assert "0.8" in rule  # the misprint similarity threshold: a transform rule
    mapping.write_text(rule.replace("0.8", "0.85", 1), encoding="utf-8")
    assert version.content_hash(roots) != before


def test_a_catalogue_change_changes_the_version(tmp_path):
    roots = _copy_sources(tmp_path)
    before = version.content_hash(roots)
    cells = roots["transform"] / "data" / "cells-2021.csv"
    cells.write_text(cells.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert version.content_hash(roots) != before


def test_a_reader_change_changes_it_but_crawling_code_does_not(tmp_path):
    roots = _copy_sources(tmp_path)
    before = version.content_hash(roots)
    crawler = roots["extract"] / "crawler.py"
    crawler.write_text(crawler.read_text(encoding="utf-8") + "\n# politeness tweak\n")
    (roots["extract"] / "http" / "config.py").write_text("# a new default delay\n")
    assert version.content_hash(roots) == before  # fetching decides which bytes, not numbers
    html = roots["extract"] / "html.py"
    html.write_text(html.read_text(encoding="utf-8") + "\n# a new table rule\n")
    assert version.content_hash(roots) != before


def test_a_new_reading_library_release_changes_the_version(tmp_path):
    roots = version.package_roots()
    libraries = version.library_versions()
    assert "pdfplumber==" in libraries and "rapidocr_onnxruntime==" in libraries
    bumped = libraries.replace("pdfplumber==", "pdfplumber==9", 1)
    assert version.content_hash(roots, extra=bumped) != version.content_hash(roots, extra=libraries)


def test_the_version_names_the_package_and_is_recorded_with_every_report(tmp_path):
    v = version.extractor_version()
    package, digest = v.split("+")
    assert package == version.package_version() and len(digest) == 12
    assert int(digest, 16) >= 0
    from conftest import SEED_FILES

    ingest(SEED_FILES[:2], tmp_path)
    con = connect(tmp_path)
    try:
        found = con.execute("SELECT DISTINCT parser_version FROM reports").fetchall()
    finally:
        con.close()
    assert found == [(v,)]
