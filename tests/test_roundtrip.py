"""The five seed reports re-rendered in every text style and real-portal HTML markup extract to
exactly the facts and checks of the original text dump (nianbao.demo.synth renders them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import SEED_FILES, extract
from nianbao.demo.synth import (
    HTML_MARKUPS,
    RENDERINGS,
    TEXT_STYLES,
    SynthReport,
    render,
    render_text,
    report_from_text,
)
from nianbao.transform.result import ExtractResult

# The three markups the issue names explicitly come first.
assert HTML_MARKUPS[:3] == ("clean", "word", "gbk_print")


def facts(result: ExtractResult) -> list[tuple]:
    return sorted((f.table, f.item, f.column, f.value, f.unit, f.raw) for f in result.facts)


def checks(result: ExtractResult) -> list[tuple]:
    """Checks with their details, except copies_agree (its detail counts the page's copies)."""
    return sorted((c.name, c.ok, c.detail) for c in result.checks if c.name != "copies_agree")


@pytest.fixture(scope="module", params=SEED_FILES, ids=lambda p: p.name[:3])
def seed(request: pytest.FixtureRequest) -> tuple[Path, ExtractResult, SynthReport]:
    path: Path = request.param
    return path, extract(path.read_bytes(), str(path)), report_from_text(path)


def test_five_seeds() -> None:
    assert len(SEED_FILES) == 5


def test_model_keeps_every_cell(seed: tuple[Path, ExtractResult, SynthReport]) -> None:
    path, base, model = seed
    assert model.fmt == base.format == "2021"
    assert len(model.cells) == 200
    assert sorted(model.expected_facts()) == facts(base)


def filler_style(lines: list[str]) -> str:
    """The dump's filler convention: own lines of pipes, pipes after the cell, or none."""
    if any(set(ln) == {"|"} for ln in lines):
        return "cells"
    if any(re.search(r" \| \|+$", ln) for ln in lines):
        return "cells_inline"
    return "cells_bare"


def test_text_renderer_reproduces_the_dump(seed: tuple[Path, ExtractResult, SynthReport]) -> None:
    """Rendered in the seed's own style, the model prints the dump line for line."""
    path, _, model = seed
    original = [ln.strip() for ln in path.read_text("utf-8").splitlines() if ln.strip()]
    style = filler_style(original)
    rendered = [ln.strip() for ln in render_text(model, style, fold=False).splitlines()]
    assert [ln for ln in rendered if ln] == original


@pytest.mark.parametrize("rendering", RENDERINGS)
def test_rendering_extracts_like_the_text(
    seed: tuple[Path, ExtractResult, SynthReport], rendering: str
) -> None:
    path, base, model = seed
    got = extract(render(model, rendering), f"{path.name}:{rendering}")
    assert got.format == base.format
    assert facts(got) == facts(base)
    assert checks(got) == checks(base)
    for c in got.checks:
        if c.name == "copies_agree":
            assert c.ok is True, c.detail


def test_every_rendering_is_covered() -> None:
    assert set(RENDERINGS) == set(TEXT_STYLES) | set(HTML_MARKUPS)
    assert len(HTML_MARKUPS) >= 3
