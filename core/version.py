"""The extractor version: what decides extracted numbers, as a hash of its content.

A hand-kept version string went stale (``0.1.0`` through dozens of extraction changes), and a
stale version is worse than none: the nightly flow skips a snapshot already loaded with "this"
version, so an improved extractor never reached the warehouse.  So the version is computed from
what decides the output:

- the source of the readers and the transform (``core``, ``extract`` minus the crawl machinery,
  ``transform`` with its catalogue CSVs): any edit to a rule or a catalogue changes it;
- the versions of the libraries that read the bytes (pdfplumber, lxml, the OCR engine …): a
  new pdfminer can move a cell, so it is a new extractor too.

It reads ``<package version>+<12 hex>``, e.g. ``0.1.0+3f9c0a1b2d4e``.  Files are found through
the import system without importing them (so ``core`` still imports nothing of ours).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

# The packages whose content decides the output, and what inside them does not: fetching,
# discovery and storage change which bytes arrive, never what a given snapshot yields.
PACKAGES = ("nianbao.core", "nianbao.extract", "nianbao.transform")
NOT_EXTRACTION = frozenset(
    {
        "core/atomic.py",
        "core/delta_log.py",
        "core/records.py",
        "core/regions.py",
        "core/version.py",
        "extract/columns.py",
        "extract/crawler.py",
        "extract/documents_log.py",
        "extract/documents_state.py",
        "extract/expansion.py",
        "extract/probe.py",
        "extract/rawstore.py",
        "extract/registry.py",
        "extract/registry_check.py",
        "extract/site_discovery.py",
        "extract/discovery",
        "extract/http",
    }
)
SUFFIXES = (".py", ".csv")
# Distributions whose code reads the bytes or shapes the numbers.
LIBRARIES = (
    "charset-normalizer",
    "lxml",
    "pdfplumber",
    "pdfminer.six",
    "pypdfium2",
    "python-docx",
    "openpyxl",
    "xlrd",
    "pillow",
    "opencv-python",
    "rapidocr_onnxruntime",
    "onnxruntime",
    "numpy",
)


def content_hash(
    roots: Mapping[str, Path], exclude: Iterable[str] = NOT_EXTRACTION, extra: str = ""
) -> str:
    """sha256 over every source file under ``roots`` (name → folder), in a stable order.

    A file is addressed as ``<name>/<relative path>``; a path in ``exclude`` (a file or a
    folder) is left out.  ``extra`` (the library versions) is hashed last.
    """
    skip = tuple(exclude)
    digest = hashlib.sha256()
    for name, root in sorted(roots.items()):
        for path in sorted(p for p in Path(root).rglob("*") if p.suffix in SUFFIXES):
            rel = f"{name}/{path.relative_to(root).as_posix()}"
            if "__pycache__" in rel or any(rel == s or rel.startswith(s + "/") for s in skip):
                continue
            digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(extra.encode())
    return digest.hexdigest()


def package_roots() -> dict[str, Path]:
    """``core``/``extract``/``transform`` → the folder each is installed in."""
    out: dict[str, Path] = {}
    for package in PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError(f"cannot locate {package}")
        out[package.rsplit(".", 1)[1]] = Path(next(iter(spec.submodule_search_locations)))
    return out


def library_versions() -> str:
    """``name==version`` of each reading library, one per line (absent: ``name==-``)."""
    lines = []
    for name in LIBRARIES:
        try:
            lines.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            lines.append(f"{name}==-")
    return "\n".join(lines)


def package_version() -> str:
    try:
        return importlib.metadata.version("nianbao")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree, not installed
        return "0"


@cache
def extractor_version() -> str:
    """``<package version>+<12 hex of the content hash>``, computed once per process."""
    digest = content_hash(package_roots(), extra=library_versions())
    return f"{package_version()}+{digest[:12]}"
