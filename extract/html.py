"""HTML detail page → Document: find the article inside the site chrome, keep its text and tables.

Design, chosen for speed over thousands of pages:

* one libxml2 parse of the page re-encoded as UTF-8 (the charset is decided by ``charset.decode``,
  never by libxml2 sniffing a possibly wrong ``<meta>``); comments and PIs are dropped by the parser,
  ``<script>``/``<style>`` and friends by ``strip_elements`` (both in C);
* block boundaries (p, div, li, br, td, …) get a private-use separator character written into the
  source by one regex pass before parsing, so that every later text read is a C-level
  ``itertext()`` split on that character instead of a Python walk over every inline ``<span>``
  of Word-pasted markup;
* Python only recurses along the few elements that are ancestors of a ``<table>``.

Parsers do not interpret numbers or labels (see ``core/document.py``); this one only decides what
is article text, what is a table grid, and which page metadata to hand over as hints.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from html import escape as _html_escape

from lxml import etree
from nianbao.core.document import Block, Document, DocumentError, Paragraph, Table
from nianbao.core.vocabulary import LABEL_ALTERNATION, label_key, label_needs_colon

from .charset import decode

__all__ = ["parse_html"]

# Block-boundary marker written into the tree.  A private-use code point: it never occurs in real
# text (any occurrence in the input is removed before parsing) and libxml2 accepts it.
_SEP = "\ue000"

# Block boundaries.  A separator is written into the source right after these start tags and
# end tags (``<p>``→ text starts with it, ``</p>``→ the tail does), one C-level regex pass that
# replaces a Python walk over every element.  Cells only need their start tag marked.
_BLOCK_START = (
    "p|div|h[1-6]|li|dt|dd|td|th|caption|section|article|header|footer|main|nav|aside|"
    "blockquote|pre|center|address|figure|figcaption|form|fieldset|legend|details|summary|br|hr"
)
_BLOCK_END = (
    "p|div|h[1-6]|li|dt|dd|caption|section|article|header|footer|main|nav|aside|blockquote|"
    "pre|center|address|figure|figcaption|form|fieldset|legend|details|summary|table|ul|ol|dl"
)
_SEP_RE = re.compile(rf"<(?:{_BLOCK_START})(?=[\s/>])[^>]*>|</(?:{_BLOCK_END})\s*>", re.IGNORECASE)
# Elements whose content is never text of the page.
_DROP_TAGS = (
    "script", "style", "noscript", "template", "select", "iframe", "frame", "object", "embed",
    "svg", "math", "xml", "button", "textarea", "map", "audio", "video", "canvas", "head",
)  # fmt: skip

# Body containers (portals.md §5.1).  Tier 3: CMS article bodies; tier 2: print wrappers and
# generic-but-common names; tier 1: very generic names that often wrap chrome as well.
_CLASS_TIERS: dict[str, int] = {
    "trs_editor": 3, "trs_ueditor": 3, "trs_editor_view": 3, "article-content": 3,
    "v_news_content": 3, "pages_content": 3, "wzzw-article": 3, "news_cont_d_wrap": 3,
    "detail-news": 3, "tyxxy_main": 3, "heise": 3, "article_content": 3, "wp_articlecontent": 3,
    "overview": 2, "content": 1, "article": 1, "main-content": 1,
}  # fmt: skip
_ID_TIERS: dict[str, int] = {
    "zoom": 3, "ucap-content": 3, "vsb_content": 3, "ivs_content": 3, "zoomcon": 3,
    "printcontent": 2, "content": 1, "article": 1,
}  # fmt: skip

_MAX_COLSPAN = 50
_MAX_ROWSPAN = 200
_MAX_HEADING = 200
_MAX_HINT_VALUE = 120
_MAX_META_VALUE = 2000
_MIN_CONTAINER_CHARS = 80  # a candidate with less text (and no table) is chrome, not a body

_REMOVE_CHARS = (_SEP, "\x00", "\u200b", "\ufeff")
_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Info-box labels and their hint keys: the shared table in core/vocabulary.py.
_LABEL_RE = re.compile(r"(?P<label>" + LABEL_ALTERNATION + r")[ \t\u3000\xa0]*(?P<colon>[:：])?")
# A value ends where another "label：" token starts (e.g. 浏览次数： after a date).
_VALUE_END_RE = re.compile(
    r"\s+[^\s\d:：]{2,8}[:：]|[【\[]"
    r"|(?:点击数|点击量|点击率|浏览次数|浏览量|访问量|阅读次数|阅读量|作者|责任编辑|字体|字号)"
)
_TEMPLATE_JUNK = ("<$[", "$[", "{$", "${", "[$", "<%", "{{")
_JUNK_VALUES = {"", "null", "none", "undefined", "nan", "-", "无"}


_GK_FIELD = r'"{}"\s*:\s*"((?:[^"\\]|\\.)*)"'


def _gkmlpt_detail(text: str) -> tuple[str, dict[str, str]] | None:
    """Guangdong gkmlpt detail pages carry the body as a JSON string in ``window._CONFIG``
    (portals.md §3.4): unescape it into a page of its own, with its fields as hints."""
    i = text.find("DETAIL")
    if i < 0:
        return None
    fields: dict[str, str] = {}
    for name in ("content", "title", "publisher", "display_publish_time", "identifier"):
        m = re.search(_GK_FIELD.format(name), text[i:])
        if m:
            try:
                fields[name] = json.loads('"' + m.group(1) + '"')
            except ValueError:
                continue
    body = fields.get("content")
    if not body:
        return None
    title = fields.get("title", "")
    page = (
        f"<html><head><title>{_html_escape(title)}</title></head><body>"
        f"<h1>{_html_escape(title)}</h1><div class='article-content'>{body}</div></body></html>"
    )
    hints = {"container": "gkmlpt:_CONFIG.DETAIL.content"}
    if title:
        hints["title"] = title
    if fields.get("publisher"):
        hints["agency"] = fields["publisher"]
    if fields.get("display_publish_time"):
        hints["published"] = fields["display_publish_time"]
    if fields.get("identifier"):
        hints["index_no"] = fields["identifier"]
    return page, hints


def gkmlpt_body(text: str) -> str | None:
    """The report body HTML a gkmlpt detail page hides in ``window._CONFIG.DETAIL.content``."""
    if "_CONFIG" not in text or "DETAIL" not in text:
        return None
    gk = _gkmlpt_detail(text)
    return gk[0] if gk else None


def parse_html(data: bytes, source: str = "", declared_charset: str | None = None) -> Document:
    """Parse one HTML page into ordered Paragraph/Table blocks plus page hints.

    Raises DocumentError only for input with no readable content at all; anything else
    (garbage, truncated markup, injected spam) yields a Document, with warnings.
    """
    if not data or not data.strip():
        raise DocumentError("empty input")
    try:
        text, encoding = decode(data, declared_charset, html=True)
    except Exception as e:  # a decoder failure must not abort a batch
        raise DocumentError(f"cannot decode: {e}") from e
    for ch in _REMOVE_CHARS:
        if ch in text:
            text = text.replace(ch, "")
    text = _CONTROL.sub("", text)
    if not text.strip():
        raise DocumentError("empty input")
    gk_hints: dict[str, str] = {}
    if "_CONFIG" in text and "DETAIL" in text:
        gk = _gkmlpt_detail(text)
        if gk is not None:
            text, gk_hints = gk
    try:
        doc = _parse_text(text, drop_hidden=True)
        if not doc.blocks and doc.warnings and any(w.startswith("hidden") for w in doc.warnings):
            # The whole body was hidden (revealed by JS on the live page): keep it, say so.
            doc = _parse_text(text, drop_hidden=False)
            doc.warnings.append("content only in hidden elements")
    except DocumentError:
        raise
    except (RecursionError, MemoryError, ValueError, etree.LxmlError) as e:
        raise DocumentError(f"unparseable HTML: {e}") from e
    doc.source = source
    doc.hints["encoding"] = encoding
    for k, v in gk_hints.items():
        doc.hints.setdefault(k, v)
    if not doc.blocks and not doc.hints.get("title"):
        raise DocumentError("no text content")
    if not doc.blocks:
        doc.warnings.append("no body text")
    return doc


_LOCAL = threading.local()


def _parser() -> etree.HTMLParser:
    """One parser per thread: lxml parser objects must not be shared between threads."""
    parser = getattr(_LOCAL, "parser", None)
    if parser is None:
        parser = _LOCAL.parser = etree.HTMLParser(
            encoding="utf-8",
            remove_comments=True,
            remove_pis=True,
            no_network=True,
            recover=True,
            huge_tree=True,  # legacy pages nest unclosed <font>s past libxml2's depth limit 256
            compact=True,
            default_doctype=False,
        )
    return parser


_START_TAGS = frozenset(t for t in _BLOCK_START.replace("h[1-6]", "h1|h2|h3|h4|h5|h6").split("|"))
_END_TAGS = frozenset(t for t in _BLOCK_END.replace("h[1-6]", "h1|h2|h3|h4|h5|h6").split("|"))


def _mark_blocks(root: etree._Element) -> None:
    """Put the separator at every block boundary (after each block start tag and after each
    block element), so text joined across elements keeps its line structure.  Done on the
    tree, in C-speed iteration, rather than by a regex over the page source."""
    for el in root.iter(*(_START_TAGS | _END_TAGS)):
        tag = el.tag
        if tag in _START_TAGS:
            el.text = _SEP + el.text if el.text else _SEP
        if tag in _END_TAGS:
            el.tail = _SEP + el.tail if el.tail else _SEP


def _parse_text(text: str, drop_hidden: bool) -> Document:
    root = etree.fromstring(text.encode("utf-8", "replace"), _parser())
    if root is None:
        raise DocumentError("no HTML content")
    _mark_blocks(root)
    hints: dict[str, str] = {}
    warnings: list[str] = []
    _collect_head(root, hints)

    etree.strip_elements(root, *_DROP_TAGS, with_tail=False)
    if drop_hidden and _may_hide(text):
        _drop_hidden(root, warnings)
    body = root.find("body")
    if body is None:
        body = root

    table_anc = _table_ancestors(body)
    containers = _choose_containers(body, table_anc)
    ex = _Extractor(table_anc)
    if containers:
        heading = None
        for c in containers:
            # Each copy gets its own heading, so that duplicate copies stay identical.
            start = len(ex.blocks)
            ex.region(c)
            ex.flush()
            h = _heading_before(c)
            if h and (len(ex.blocks) == start or _text_of(ex.blocks[start]) != h):
                ex.blocks.insert(start, Paragraph(h))
            heading = heading or h
        hints["container"] = _describe(containers[0])
        if len(containers) > 1:
            warnings.append(f"{len(containers)} copies of the body kept")
    else:
        ex.region(body)
        ex.flush()
        heading = None
        hints["container"] = "body"

    _collect_info_box(body, hints)
    _finish_hints(hints, heading)
    return Document(blocks=ex.blocks, kind="html", hints=hints, warnings=warnings)


# --- tree clean-up ---------------------------------------------------------------------------


# Cheap substring test on the source (no lower-casing of 100 KB pages): most pages have no
# inline-hidden element, and then the per-element check is skipped.
_HIDDEN_HINTS = ("isplay", "ISPLAY", "isibility", "ISIBILITY", " hidden", " HIDDEN", " Hidden")


def _may_hide(text: str) -> bool:
    return any(h in text for h in _HIDDEN_HINTS)


def is_hidden(el: etree._Element) -> bool:
    """Hidden by a ``hidden`` attribute or an inline display:none / visibility:hidden style."""
    if el.get("hidden") is not None:
        return True
    style = el.get("style")
    if not style:
        return False
    st = style.lower().replace(" ", "")
    return "display:none" in st or "visibility:hidden" in st


def in_hidden(el: etree._Element | None) -> bool:
    """``el`` or one of its ancestors is hidden (暗链 link blocks, portals.md §7.9)."""
    while el is not None:
        if is_hidden(el):
            return True
        el = el.getparent()
    return False


def _drop_hidden(root: etree._Element, warnings: list[str]) -> None:
    """Remove inline-hidden elements: spam link blocks (暗链) live there (portals.md §7.9)."""
    dropped = 0
    hidden = [el for el in root.iter() if isinstance(el.tag, str) and is_hidden(el)]
    for el in hidden:
        parent = el.getparent()
        if parent is None or el.tag in ("html", "body"):
            continue
        txt = _collapse("".join(el.itertext()).replace(_SEP, " "))
        if txt:
            dropped += 1
            if dropped <= 3:
                warnings.append(f"hidden element dropped: {txt[:60]}")
        _remove_keep_tail(el, parent)
    if dropped > 3:
        warnings.append(f"hidden elements dropped: {dropped} in all")


def _remove_keep_tail(el: etree._Element, parent: etree._Element) -> None:
    tail = el.tail
    if tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def _table_ancestors(body: etree._Element) -> set[etree._Element]:
    """Every element that has a <table> below it: the only places Python must recurse into."""
    anc: set[etree._Element] = set()
    for t in body.iter("table"):
        p = t.getparent()
        while p is not None and p not in anc:
            anc.add(p)
            p = p.getparent()
    return anc


# --- container choice ------------------------------------------------------------------------


def container_tier(el: etree._Element) -> int:
    """How likely ``el`` is the article body by its class/id (3 = a CMS body container, 0 = no)."""
    tier = 0
    cls = el.get("class")
    if cls:
        for tok in cls.lower().split():
            tier = max(tier, _CLASS_TIERS.get(tok, 0))
    ident = el.get("id")
    if ident:
        tier = max(tier, _ID_TIERS.get(ident.strip().lower(), 0))
    if el.tag == "article":
        tier = max(tier, 1)
    if tier == 3 and el.tag in ("ul", "li", "a", "span", "ol", "img", "input"):
        tier = 1  # a class like "content" on a list item is not a body
    return tier


_BLANK_CHARS = (_SEP, " ", "\n", "\t", "\r", "\xa0", "\u3000")


def _char_count(el: etree._Element) -> int:
    """Non-blank characters of the text below ``el`` (the container-size measure)."""
    text = str(_STRING(el))  # libxml2 concatenates: much faster than joining itertext()
    return len(text) - sum(map(text.count, _BLANK_CHARS))


def _is_ancestor(a: etree._Element, b: etree._Element) -> bool:
    p = b.getparent()
    while p is not None:
        if p is a:
            return True
        p = p.getparent()
    return False


_CANDIDATES = etree.XPath(
    ".//*[(@class or @id) and not(self::p or self::span or self::font or self::a or self::b"
    " or self::strong or self::tr or self::li or self::img or self::input)] | .//article"
)


def _choose_containers(
    body: etree._Element, table_anc: set[etree._Element]
) -> list[etree._Element]:
    """The article body (or its duplicate copies), in document order; [] means use <body>.

    Highest-tier candidates with real text win; nested candidates resolve to the inner one when
    it holds most (≥80 %) of the outer one's text; disjoint candidates holding at least half the
    text of the largest are all kept (print copy + screen copy).  If that loses the report
    tables, the choice widens to include them.
    """
    tiers: dict[int, list[etree._Element]] = {}
    # Word paste puts a class on every <p>/<span>: those inline and paragraph elements are never
    # the article container, so they are not even scored.
    for el in _CANDIDATES(body):
        tier = container_tier(el)
        if tier:
            tiers.setdefault(tier, []).append(el)
    pool: list[tuple[etree._Element, int]] = []
    for tier in sorted(tiers, reverse=True):  # count text only down to the first useful tier
        for el in tiers[tier]:
            n = _char_count(el)
            if n >= _MIN_CONTAINER_CHARS or (el in table_anc and n > 0):
                pool.append((el, n))
        if pool:
            break
    if not pool:
        return []
    if len(pool) > 40:  # bound the pairwise checks below on pages full of ".content" items
        keep = {id(el) for el, _ in sorted(pool, key=lambda x: -x[1])[:40]}
        pool = [(el, n) for el, n in pool if id(el) in keep]
    size = {el: n for el, n in pool}
    chosen: list[etree._Element] = []
    for el, n in pool:  # document order: ancestors come before their descendants
        if any(_is_ancestor(w, el) for w in chosen):
            continue  # a piece of a body already chosen
        if any(e is not el and m >= 0.8 * n and _is_ancestor(el, e) for e, m in pool):
            continue  # an inner candidate holds most of the text: prefer it
        chosen.append(el)
    if not chosen:
        return []
    biggest = max(size[el] for el in chosen)
    chosen = [el for el in chosen if size[el] >= 0.5 * biggest]

    if any(c in table_anc for c in chosen):
        return chosen  # the body has tables: assume they are the report's
    wanted = _report_tables(body)
    if wanted:
        lca = _common_ancestor([chosen[0], *wanted])
        if lca is None or lca is body:
            return []
        return [lca]
    return chosen


_REPORT_WORDS = ("申请", "第二十条", "复议", "诉讼", "主动公开")


def _report_tables(body: etree._Element) -> list[etree._Element]:
    """Leaf tables that look like report statistics: the container choice must not lose them.

    ≥4 rows, a row of ≥4 cells and a report word; an info box (4×4 label/value) has none of
    the words.
    """
    out = []
    for t in body.iter("table"):
        if t.find(".//table") is not None:
            continue
        rows = [len(r) for r in t.iter("tr")]
        if len(rows) < 4 or max(rows) < 4:
            continue
        txt = "".join(t.itertext())
        if any(w in txt for w in _REPORT_WORDS):
            out.append(t)
    return out


def _common_ancestor(els: list[etree._Element]) -> etree._Element | None:
    path = list(els[0].iterancestors())
    path.insert(0, els[0])
    for cand in path:
        if all(e is cand or _is_ancestor(cand, e) for e in els[1:]):
            return cand
    return None


def _describe(el: etree._Element) -> str:
    ident = el.get("id")
    if ident:
        return f"{el.tag}#{ident.strip()}"
    cls = (el.get("class") or "").split()
    return el.tag + "".join("." + c for c in cls[:2])


def _heading_before(container: etree._Element) -> str | None:
    """The page heading when it sits just before the container (``#printContent > h1`` + body).

    Looks at a few preceding siblings of the container and of its two nearest ancestors; an
    ``<h1>`` wins over elements merely called ``title``.
    """
    found_title: str | None = None
    node: etree._Element | None = container
    for _level in range(3):
        if node is None or node.tag in ("body", "html"):
            break
        for i, sib in enumerate(node.itersiblings(preceding=True)):
            if i >= 6:
                break
            if not isinstance(sib.tag, str):
                continue
            h1 = sib if sib.tag == "h1" else sib.find(".//h1")
            if h1 is not None:
                txt = _heading_text(h1)
                if txt:
                    return txt
            if found_title is None:
                found_title = _titleish(sib)
        node = node.getparent()
    return found_title


def _titleish(el: etree._Element) -> str | None:
    """Text of an h2/h3 or of a ``*title*``-named block (its h2–h4 if it has one)."""
    if el.tag in ("h2", "h3"):
        return _heading_text(el)
    marker = ((el.get("class") or "") + " " + (el.get("id") or "")).lower()
    if "title" in marker or el.get("id") == "ti":
        for h in el.iter("h2", "h3", "h4"):
            return _heading_text(h)
        return _heading_text(el)
    return None


def _heading_text(el: etree._Element) -> str | None:
    txt = _collapse("".join(el.itertext()).replace(_SEP, " "))
    if 2 <= len(txt) <= _MAX_HEADING:
        return txt
    return None


# --- text and tables -------------------------------------------------------------------------


def _collapse(s: str) -> str:
    """Collapse all whitespace (incl. NBSP, U+3000, newlines) to single spaces and strip."""
    return " ".join(s.split())


def _text_of(b: Block) -> str:
    return b.text if isinstance(b, Paragraph) else ""


class _Extractor:
    """Turns a container subtree into blocks, recursing only along ancestors of tables."""

    __slots__ = ("blocks", "buf", "table_anc")

    def __init__(self, table_anc: set[etree._Element]) -> None:
        self.blocks: list[Block] = []
        self.buf: list[str] = []
        self.table_anc = table_anc

    def flush(self) -> None:
        if not self.buf:
            return
        text = "".join(self.buf)
        self.buf.clear()
        for piece in text.split(_SEP):
            t = " ".join(piece.split())
            if t:
                self.blocks.append(Paragraph(t))

    def region(self, el: etree._Element) -> None:
        """Append ``el``'s content (not its tail) to the output.

        Subtrees without tables are read in one ``itertext()``; the walk along table ancestors
        uses an explicit stack, so deep legacy nesting cannot hit Python's recursion limit.
        """
        buf = self.buf
        anc = self.table_anc
        todo: list[etree._Element | str] = [el]
        while todo:
            item = todo.pop()
            if isinstance(item, str):
                buf.append(item)
                continue
            if item not in anc:
                if item.tag != "table" or not self._table(item):
                    buf.extend(item.itertext())
                continue
            if item.text:
                buf.append(item.text)
            for child in reversed(item):
                if child.tail:
                    todo.append(child.tail)
                if isinstance(child.tag, str):
                    todo.append(child)

    def _table(self, el: etree._Element) -> bool:
        """Emit ``el`` as a Table; False when it is a layout table to be read as text."""
        grid = _build_grid(el)
        if grid is None:
            return False
        rows, span = grid
        self.flush()
        for cap in el.iterchildren("caption"):
            self.buf.extend(cap.itertext())
            self.buf.append(_SEP)
        self.flush()
        self.blocks.append(Table(rows=rows, span=span))
        return True


def _span_value(raw: str | None, limit: int) -> int:
    """A rowspan/colspan attribute as a sane int: junk → 1, "0" → 0, clamped to ``limit``.

    Browsers read the leading digits (``"2px"`` → 2) and ignore the rest; so do we.
    """
    if not raw:
        return 1
    n = -1
    for ch in raw.strip():
        if "0" <= ch <= "9":
            n = (0 if n < 0 else n * 10) + (ord(ch) - 48)
            if n > limit:
                return limit
        else:
            break
    return 1 if n < 0 else n


_STRING = etree.XPath("string()")
_CELL_WS = re.compile(r"[\s\ue000]+")


def _cell_text(cell: etree._Element) -> str:
    """All text of a cell, block boundaries (``<br>``, ``<p>``) as single spaces."""
    t = cell.text if len(cell) == 0 else _STRING(cell)
    if not t:
        return ""
    return _CELL_WS.sub(" ", t).strip()


def _row_cells(el: etree._Element) -> Iterable[list[etree._Element]]:
    """Rows of a table in source order: <tr> under table/thead/tbody/tfoot, stray cells as a row."""
    stray: list[etree._Element] = []
    for child in el:
        tag = child.tag
        if tag in ("thead", "tbody", "tfoot"):
            if stray:
                yield stray
                stray = []
            yield from _row_cells(child)
        elif tag == "tr":
            if stray:
                yield stray
                stray = []
            yield [c for c in child if c.tag in ("td", "th")]
        elif tag in ("td", "th"):
            stray.append(child)
    if stray:
        yield stray


def _build_grid(el: etree._Element) -> tuple[list[list[str]], list[list[bool]]] | None:
    """Expand a leaf table into a rectangular grid; None when it is layout (one cell/column)."""
    src_rows = [r for r in _row_cells(el) if r]
    if not src_rows:
        return None
    n_rows = len(src_rows)
    # Sparse rows: col -> (text, is_copy).  Pending rowspans: col -> (rows left, text).
    sparse: list[dict[int, tuple[str, bool]]] = []
    origin_cols: set[int] = set()
    pending: dict[int, tuple[int, str]] = {}
    any_text = False
    for r, cells in enumerate(src_rows):
        row: dict[int, tuple[str, bool]] = {}
        col = 0
        for cell in cells:
            while col in pending:
                col = _carry(pending, row, col)
            text = _cell_text(cell)
            if text:
                any_text = True
            cs = _span_value(cell.get("colspan"), _MAX_COLSPAN) or 1
            rs = _span_value(cell.get("rowspan"), _MAX_ROWSPAN)
            if rs == 0 or rs > n_rows - r:
                rs = n_rows - r
            origin_cols.add(col)
            for k in range(cs):
                c = col + k
                if c in pending:  # overlapping spans in bad markup: the earlier cell wins
                    continue
                row[c] = (text, k > 0)
                if rs > 1:
                    pending[c] = (rs - 1, text)
            col += cs
        for c in sorted(pending):
            if c not in row:
                _carry(pending, row, c)
        sparse.append(row)
    if not any_text:
        return None
    width = _grid_width(sparse, origin_cols)
    if width == 1:
        return None  # one-column table: layout (title row + body row), read as text
    rows: list[list[str]] = []
    span: list[list[bool]] = []
    for row in sparse:
        r_text = [""] * width
        # Positions no <td> reaches (a short row) are marked like span copies: they are not
        # source cells, so a missing cell is never read as a blank one.
        r_span = [True] * width
        for c, (t, copy) in row.items():
            if c < width:
                r_text[c] = t
                r_span[c] = copy
        rows.append(r_text)
        span.append(r_span)
    return rows, span


def _grid_width(sparse: list[dict[int, tuple[str, bool]]], origin_cols: set[int]) -> int:
    """Table width as a browser lays it out, minus phantom columns of an over-wide colspan.

    When the widest rows reach beyond every other row only with span copies (``colspan=100``
    on a caption, or a caption one column too wide), those columns carry no cell of their own
    and are dropped; otherwise the full width is kept, copy-only columns included.
    """
    extents = sorted((max(r) + 1 for r in sparse if r), reverse=True)
    width = extents[0]
    floor = max(extents[1] if len(extents) > 1 else 0, max(origin_cols) + 1)
    if floor < width:
        phantom = all(not (c in r and not r[c][1]) for r in sparse for c in range(floor, width))
        if phantom:
            width = floor
    return width


def _carry(pending: dict[int, tuple[int, str]], row: dict[int, tuple[str, bool]], col: int) -> int:
    left, text = pending[col]
    row[col] = (text, True)
    if left <= 1:
        del pending[col]
    else:
        pending[col] = (left - 1, text)
    return col + 1


# --- hints -----------------------------------------------------------------------------------


def _clean_hint(value: str | None, limit: int) -> str:
    if not value:
        return ""
    return " ".join(value.split())[:limit]


def _is_junk(value: str) -> bool:
    v = value.strip().lower()
    return v in _JUNK_VALUES or any(j in v for j in _TEMPLATE_JUNK)


def _collect_head(root: etree._Element, hints: dict[str, str]) -> None:
    """<title> and named <meta> tags (《政府网站发展指引》 set), before clean-up drops <head>."""
    for t in root.iter("title"):
        title = _clean_hint("".join(t.itertext()), _MAX_META_VALUE)
        if title:
            hints["page_title"] = title
            break
    for m in root.iter("meta"):
        name = m.get("name") or m.get("property")
        if not name:
            continue
        name = name.strip()
        key = f"meta:{name}"
        if name and key not in hints:
            value = _clean_hint(m.get("content"), _MAX_META_VALUE)
            if value:
                hints[key] = value


def _collect_info_box(body: etree._Element, hints: dict[str, str]) -> None:
    """Label/value pairs of the 信息公开 info box, wherever on the page they are.

    One regex pass over the page text finds label occurrences; only the short lines holding
    them are looked at.  A label counts at the start of a line (value after it or on the next
    line: ``<td>索引号</td><td>…</td>``) or anywhere when followed by a colon (gov.cn one-line
    boxes, "来源：… 发布时间：…").
    """
    text = str(_STRING(body))
    found: dict[str, str] = {}
    seen_lines: set[int] = set()
    for hit in _LABEL_RE.finditer(text):
        start = text.rfind(_SEP, 0, hit.start()) + 1
        if start in seen_lines:
            continue
        seen_lines.add(start)
        end = text.find(_SEP, hit.end())
        if end < 0:
            end = len(text)
        if end - start > 400:
            continue
        line = _collapse(text[start:end])
        if len(line) > 200:
            continue
        matches = [
            m
            for m in _LABEL_RE.finditer(line)
            if m.group("colon") or (m.start() == 0 and not _needs_colon(m))
        ]
        for j, m in enumerate(matches):
            key = _label_key(m)
            if key in found:
                continue
            stop = matches[j + 1].start() if j + 1 < len(matches) else len(line)
            value = line[m.end() : stop]
            if not value.strip() and j + 1 == len(matches):
                value = _next_line(text, end)
            cut = _VALUE_END_RE.search(value)
            if cut and cut.start() > 0:
                value = value[: cut.start()]
            value = value.strip(" :：|｜")
            if value and len(value) <= _MAX_HINT_VALUE and not _is_junk(value):
                found[key] = value
    for k, v in found.items():
        hints.setdefault(k, v)


def _next_line(text: str, pos: int) -> str:
    """The next non-blank line after ``pos`` if it is a plausible value (short, not a label)."""
    while pos < len(text):
        nxt = text.find(_SEP, pos + 1)
        if nxt < 0:
            nxt = len(text)
        line = _collapse(text[pos + 1 : nxt])
        if line:
            if len(line) <= _MAX_HINT_VALUE and not _is_label_line(line):
                return line
            return ""
        pos = nxt
    return ""


def _label_key(m: re.Match[str]) -> str:
    return label_key(m.group("label")) or ""


def _is_label_line(line: str) -> bool:
    m = _LABEL_RE.match(line)
    return m is not None and (bool(m.group("colon")) or m.end() == len(line))


def _needs_colon(m: re.Match[str]) -> bool:
    return label_needs_colon(m.group("label"))


def _finish_hints(hints: dict[str, str], heading: str | None) -> None:
    """Fill the normalised keys from the best available source."""

    def meta(name: str) -> str:
        for k, v in hints.items():
            if k.lower() == f"meta:{name.lower()}" and not _is_junk(v):
                return v
        return ""

    title = meta("ArticleTitle") or hints.get("info_title") or heading or hints.get("page_title")
    if title:
        hints["title"] = title
    if "published" not in hints:
        pub = meta("PubDate")
        if pub:
            hints["published"] = pub
    if "written" not in hints and "generated" in hints:
        hints["written"] = hints["generated"]
    if "content_source" not in hints:
        src = meta("ContentSource")
        if src:
            hints["content_source"] = src
