"""Images (PNG/JPG screenshots, scanned PDF pages) → Document, by OCR.

Why this shape: the transform needs a *faithful cell grid*, not a bag of text boxes, so the
grid is rebuilt from the ruling lines (numpy/OpenCV morphology), merged cells are found from
missing line segments, and every cell's text lines are located by ink projection and read by
the PP-OCRv4 recogniser that ships inside the ``rapidocr_onnxruntime`` wheel.  Running its text
detector on a whole page and padding every tiny box to 320 px (what ``RapidOCR()`` does) costs
~13 s for the requests table on this 2-core machine and reads lone zeros as 'o'/'。'; locating
lines by projection, reading identical crops once and tiling lone glyphs reads it in ~0.7-1 s,
every cell right on the clean fixtures.

Confidence: every cell gets the lowest per-character probability of its reading.  A cell that
reads as a number but scores below :data:`MIN_CONFIDENCE` is *blanked* (the transform then sees
a null, never a wrong number) and listed in ``Document.warnings`` as
``ocr_low_confidence:<row>,<col>:<text>:<score>`` (row/col in that table's grid; each table is
announced by an ``ocr_table:<n>`` warning before its cells).  Cells with ink that read as
nothing are ``ocr_unread:<row>,<col>``.  Overall numbers go to ``Document.hints``.

Before the grid is looked for, each page is cleaned up by :mod:`.ocr_prep`: paper brightness
divided out (photographs), grain median-filtered, a sideways page turned upright, skew within
±6° levelled, a photograph's perspective undone from the largest table's outline, and an
upside-down page (told by the recogniser, :func:`_upside_down`) turned; each step taken is a
``ocr_page:<step>`` warning.  Lines outside ruled tables that split into several segments are an
unruled table: columns come from clustering the segments' x ranges, and a number is kept only
in a row that fills every column (else blanked, ``ocr_unruled_unplaced:<row>,<col>:<text>``).
Long body-text lines past the first 15 of a document are not read (the transform looks for
title, period and agency at the top; headings are short and always read): the count is the
``ocr_prose_lines_skipped`` hint.

Nothing is downloaded: the model files are read from the installed wheel (see
:func:`ocr_available`); tests run OCR with sockets blocked.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from nianbao.core.document import Block, Document, DocumentError, Paragraph, Table
from nianbao.core.values import parse_number

from .ocr_prep import prepare

ENGINE = "rapidocr_onnxruntime/PP-OCRv4-rec"
REC_MODEL = "ch_PP-OCRv4_rec_infer.onnx"
# Calibrated on the fixtures (tests/fixtures/ocr: 45 images, ~3,000 number cells): every wrong
# reading scored 0.00 (the copies of a tiled glyph disagreed), the lowest correct one ~0.65;
# 0.6 blanks no correct cell there and keeps a margin below the correct ones.
MIN_CONFIDENCE = 0.60
ORT_THREADS = 1  # ONNX Runtime threads per recogniser session (see _Recogniser.__init__)
MAX_PIXELS = 40_000_000  # decompression-bomb guard: ~ an A3 page at 600 dpi
_REC_H = 48  # the recogniser's input height
_PAD = 8  # white margin left and right of a crop, in model pixels
_MIN_W = 160  # narrower inputs make the model unsure of lone digits
_BATCH_COLS = 6000  # batch size x padded width per model call
_BATCH_MAX = 32
_STRIDE = 8  # model pixels per CTC time step
# Look-alikes that count towards a digit's confidence when a cell is read as a number.
# (this model reads a lone '0' as '。' or 'o' with p('0') ~ 0.01; a round glyph of digit
# height in a number cell is a zero, and 0-vs-8/6/9 confusions still score low.)
_LOOKALIKE = {"0": "oOｏＯ〇○。°", "1": "lIｌＩ|丨"}
_PROSE_LINES = 15  # long body-text lines read per document (title, period, agency: the top)
_SHORT_LINE = 24  # glyph heights: a line this wide or narrower (a heading) is always read
_WRAP_SLACK = 0.03  # a prose line ending this close to the right margin wraps into the next
_PROBE_LINES = 4  # text lines read both ways up to tell an upside-down page
_UPRIGHT = 0.8  # every probe line reads at least this well: the page is upright
_DIGITISH = set("0123456789.,，").union(*_LOOKALIKE.values())


# ---------------------------------------------------------------------------------------------
# Engine
# ---------------------------------------------------------------------------------------------


# First imports of the engine's modules happen under one lock.  OpenCV's ``cv2/__init__.py``
# swaps ``sys.modules["cv2"]`` for its native module while it bootstraps, so a second thread
# that imports cv2 (or asks ``importlib.util.find_spec("cv2")``) during that window gets a
# half-made module or ``ValueError: cv2.__spec__ is None`` — measured in the nightly flow, whose
# ThreadPoolTaskRunner reads several images at once in a fresh process.
_IMPORT_LOCK = threading.Lock()
_MODULES: dict[str, ModuleType] = {}


def _module(name: str) -> ModuleType:
    """``cv2``/``onnxruntime``, imported once per process, by one thread at a time."""
    mod = _MODULES.get(name)
    if mod is None:
        with _IMPORT_LOCK:
            mod = _MODULES.get(name) or importlib.import_module(name)
            _MODULES[name] = mod
    return mod


def _cv2() -> Any:
    return _module("cv2")


def _installed(name: str) -> bool:
    """Whether ``name`` can be imported, without importing it (and without racing an import
    under way in another thread: that one holds the lock, and is in ``sys.modules`` after)."""
    with _IMPORT_LOCK:
        return name in sys.modules or importlib.util.find_spec(name) is not None


def _model_dir() -> Path | None:
    with _IMPORT_LOCK:  # the wheel is never imported, only located
        spec = importlib.util.find_spec("rapidocr_onnxruntime")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def ocr_available() -> tuple[bool, str]:
    """(True, "") when OCR can run here, else (False, reason) for "OCR unavailable: <reason>"."""
    for mod in ("numpy", "cv2", "onnxruntime"):
        if not _installed(mod):
            return False, f"python package {mod!r} is not installed"
    models = _model_dir()
    if models is None:
        return False, "python package 'rapidocr_onnxruntime' is not installed"
    if not (models / REC_MODEL).is_file():
        return False, f"model file {REC_MODEL} missing from {models}"
    return True, ""


class _Recogniser:
    """The wheel's PP-OCRv4 recogniser, fed packed strips and decoded with positions."""

    def __init__(self) -> None:
        ok, why = ocr_available()
        if not ok:
            raise DocumentError(f"OCR unavailable: {why}")
        ort = _module("onnxruntime")
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        # One thread per session and no spin-waiting: pages are read in parallel by the
        # caller's workers (one per core), and on a busy 2-core machine spinning intra-op
        # threads of several sessions measured ~10x slower than plain single-threaded runs.
        opts.intra_op_num_threads = ORT_THREADS
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        path = str(_model_dir() / REC_MODEL)  # type: ignore[operator]
        self.session = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name
        chars = self.session.get_modelmeta().custom_metadata_map["character"].splitlines()
        self.chars = ["", *chars, " "]  # CTC blank first, space last (PaddleOCR convention)
        digits = [i for i, c in enumerate(self.chars) if c and c in "0123456789.,"]
        self.numeric = np.array([0, *digits])
        self.digits = np.array([i for i, c in enumerate(self.chars) if c and c in "0123456789"])
        self.numeric_ok = {
            i
            for i, c in enumerate(self.chars)
            if c and unicodedata.normalize("NFKC", c) in "0123456789.,"
        }
        # Half- and full-width forms of one character split the probability between them
        # ('1' 0.7 / '１' 0.3), and in a number a lone '0' is also read as 'o' (the glyphs are
        # the same oval in many fonts): a character's confidence sums its look-alike group.
        where = {c: i for i, c in enumerate(self.chars) if c}
        # Characters by NFKC form, once: comparing every pair cost ~6 s per engine (6,600²).
        twins: dict[str, set[str]] = {}
        for d in where:
            twins.setdefault(unicodedata.normalize("NFKC", d), set()).add(d)
        self.group: dict[int, list[int]] = {}
        for i, c in enumerate(self.chars):
            if not c:
                continue
            n = unicodedata.normalize("NFKC", c)
            alike = twins[n] - {c}
            if n != c and n in where:
                alike.add(n)
            alike |= {d for d in _LOOKALIKE.get(n, "") if d in where}
            alike.discard(c)
            if alike:
                self.group[i] = sorted(where[d] for d in alike)

    def read(self, crops: list[np.ndarray]) -> list[tuple[str, float, str, float]]:
        """Per crop: (text, min char prob, digits-only text, its min prob).

        Crops (grayscale, any size) are scaled to the model height, sorted by width and run in
        batches of similar width: a white margin, then PaddleOCR's grey padding (a white
        run-out makes the model invent glyphs), to 160 px rather than its 320.  Packing several
        crops into one wide strip is ~3x cheaper (the model costs ~15 ms per batch item) but
        was tried and lost lone zeros and label characters to the neighbours' context.
        """
        # Identical crops (every '0' of a screenshot) are read once.
        first: dict[bytes, int] = {}
        alias = [
            first.setdefault(c.tobytes() + bytes(str(c.shape), "ascii"), i)
            for i, c in enumerate(crops)
        ]
        if len(first) < len(crops):
            uniq = sorted(first.values())
            got = dict(zip(uniq, self.read([crops[i] for i in uniq]), strict=True))
            return [got[a] for a in alias]
        scaled = [_to_height(c) for c in crops]
        lone = [img.shape[1] <= 1.4 * _REC_H for img in scaled]
        scaled = [_tile(img) if one else img for img, one in zip(scaled, lone, strict=True)]
        order = sorted(range(len(scaled)), key=lambda i: scaled[i].shape[1])
        out: list[tuple[str, float, str, float]] = [("", 0.0, "", 0.0)] * len(crops)
        start = 0
        while start < len(order):
            end = start + 1
            while end < len(order):
                w = scaled[order[end]].shape[1] + 2 * _PAD
                # Similar widths only: the model's reading drifts with the grey padding.
                first = scaled[order[start]].shape[1] + 2 * _PAD
                if (end - start + 1) * w > _BATCH_COLS or end - start >= _BATCH_MAX:
                    break
                if w > 1.2 * first + _STRIDE:
                    break
                end += 1
            group = order[start:end]
            width = max(_MIN_W, scaled[group[-1]].shape[1] + 2 * _PAD)
            width = -(-width // _STRIDE) * _STRIDE
            x = np.zeros((len(group), 3, _REC_H, width), dtype=np.float32)  # grey pad, as trained
            for k, i in enumerate(group):
                img = scaled[i]
                x[k, :, :, : img.shape[1] + 2 * _PAD] = 1.0  # white margin around the crop
                x[k, :, :, _PAD : _PAD + img.shape[1]] = img[None] / 127.5 - 1.0
            probs = self.session.run(None, {self.input: x})[0]
            for k, i in enumerate(group):
                t1 = -(-(scaled[i].shape[1] + 2 * _PAD) // _STRIDE)
                p = probs[k, :t1]
                text, conf = self._decode(p, None)
                ntext, nconf = self._decode(p, self.numeric)
                if lone[i]:
                    text, conf = _untile(text, conf)
                    ntext, nconf = _untile(ntext, nconf)
                out[i] = (text, conf, ntext, nconf)
            start = end
        return out

    def _decode(self, p: np.ndarray, subset: np.ndarray | None) -> tuple[str, float]:
        """Greedy CTC over ``p`` (T×C); with ``subset``, each character outside it is replaced
        by the best class of the subset at the same time step (a digit reading of 'o', 'l').

        A character's confidence is its probability over *all* classes (plus its width twin),
        so a forced digit reading of an unclear glyph scores low.
        """
        if len(p) == 0:
            return "", 0.0
        idx = p.argmax(axis=1)
        keep = np.ones(len(idx), dtype=bool)
        keep[1:] = idx[1:] != idx[:-1]
        keep &= idx != 0
        sel = [int(t) for t in np.nonzero(keep)[0]]
        while sel and self.chars[idx[sel[0]]].isspace():  # edge spaces: padding artefacts
            sel.pop(0)
        while sel and self.chars[idx[sel[-1]]].isspace():
            sel.pop()
        if not sel:
            return "", 0.0
        chosen = [int(idx[t]) for t in sel]
        if subset is not None:
            allowed = self.numeric_ok
            digits = self.digits
            chosen = [
                j if j in allowed else int(digits[p[t, digits].argmax()])
                for t, j in zip(sel, chosen, strict=True)
            ]
        text = "".join(self.chars[j] for j in chosen)
        # Blank mass at the emitting step says nothing against the glyph: condition on a
        # character being emitted there.
        conf = min(
            float((p[t, j] + p[t, self.group.get(j, [])].sum()) / max(1e-6, 1.0 - p[t, 0]))
            for t, j in zip(sel, chosen, strict=True)
        )
        return text, conf


def _tile(img: np.ndarray) -> np.ndarray:
    """A lone glyph three times over: alone, this model calls a clear '0' '。' or '.'; in a run
    of its own copies it reads digits as digits.  The copies must then agree (:func:`_untile`)."""
    gap = np.full((_REC_H, 12), 255.0, dtype=np.float32)
    return np.concatenate([img, gap, img, gap, img], axis=1)


def _untile(text: str, conf: float) -> tuple[str, float]:
    """The one glyph a tiled crop shows; when its copies disagree, the reading scores 0."""
    norm = "".join(unicodedata.normalize("NFKC", text).split())
    if len(norm) == 3 and len(set(norm)) == 1:
        return norm[0], conf
    return text, 0.0


def _to_height(crop: np.ndarray) -> np.ndarray:
    cv2 = _cv2()

    h, w = crop.shape[:2]
    nw = max(8, int(round(w * _REC_H / max(h, 1))))
    interp = cv2.INTER_AREA if h > _REC_H else cv2.INTER_LINEAR
    return cv2.resize(crop, (nw, _REC_H), interpolation=interp).astype(np.float32)


_ENGINE: _Recogniser | None = None
_CELL_LOG: list[tuple[int, int, int, str, float]] | None = None  # calibration hook (tests)
_LOCK = threading.Lock()


def _engine() -> _Recogniser:
    """One recogniser per process (loading the model takes ~0.3 s), made by one thread while
    the others wait; ``InferenceSession.run`` may then be called from any number of threads."""
    global _ENGINE
    engine = _ENGINE
    if engine is None:
        with _LOCK:
            if _ENGINE is None:
                _ENGINE = _Recogniser()
            engine = _ENGINE
    return engine


# Sessions inherited through a fork: kept referenced, never destroyed (see below).
_INHERITED: list[_Recogniser] = []


def _after_fork_in_child() -> None:
    """A forked worker (a process pool) starts with fresh locks and makes its own session.

    A lock held by a parent thread at the fork would never be released in the child.  ONNX
    Runtime is not fork-safe: the inherited session's thread pool has no threads in the child,
    and destroying that session there hangs for good (measured: ``pthread_cond_destroy`` waits
    for the parent's workers), so it is parked in ``_INHERITED`` instead of being freed.
    """
    global _ENGINE, _LOCK, _IMPORT_LOCK
    if _ENGINE is not None:
        _INHERITED.append(_ENGINE)
    _ENGINE = None
    _LOCK = threading.Lock()
    _IMPORT_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


# ---------------------------------------------------------------------------------------------
# Page geometry
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Cell:
    r0: int
    r1: int  # exclusive
    c0: int
    c1: int
    box: tuple[int, int, int, int]  # y0, y1, x0, x1 interior pixels
    lines: list[tuple[int, int, int, int]]  # text line boxes inside


@dataclass(slots=True)
class _TableGeom:
    box: tuple[int, int, int, int]  # y0, y1, x0, x1
    n_rows: int
    n_cols: int
    cells: list[_Cell]


@dataclass(slots=True)
class _Line:
    y0: int
    y1: int
    segs: list[tuple[int, int]]  # x ranges


@dataclass(slots=True)
class _Page:
    gray: np.ndarray  # rulings whitened
    char_h: int
    tables: list[_TableGeom]
    lines: list[_Line]  # text lines outside tables


def _decode_image(data: bytes) -> np.ndarray:
    cv2 = _cv2()

    buf = np.frombuffer(data, dtype=np.uint8)
    img = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    if img is None or img.size == 0:
        raise DocumentError("not a readable PNG/JPEG image")
    if img.size > MAX_PIXELS:
        raise DocumentError(f"image too large: {img.shape[1]}x{img.shape[0]} pixels")
    return img


def _char_height(ink: np.ndarray) -> int:
    """Median height of glyph-sized components: the scale every threshold is relative to."""
    cv2 = _cv2()

    n, _, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    h = stats[1:, cv2.CC_STAT_HEIGHT]
    w = stats[1:, cv2.CC_STAT_WIDTH]
    ok = (h >= 6) & (h <= 120) & (w <= 150)
    if not ok.any():
        return 20
    return int(np.clip(np.percentile(h[ok], 75), 8, 120))


def _runs(flags: np.ndarray, max_gap: int = 0) -> list[tuple[int, int]]:
    """[start, end) runs of True in a 1-D array, bridging gaps of at most ``max_gap``."""
    idx = np.nonzero(flags)[0]
    if len(idx) == 0:
        return []
    out: list[tuple[int, int]] = []
    start = prev = int(idx[0])
    for i in idx[1:]:
        i = int(i)
        if i - prev > max_gap + 1:
            out.append((start, prev + 1))
            start = i
        prev = i
    out.append((start, prev + 1))
    return out


def _analyse(gray: np.ndarray) -> _Page:
    cv2 = _cv2()

    blur = cv2.GaussianBlur(gray, (3, 3), 0)
    _, binv = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ink = binv > 0
    ch = _char_height(ink)
    hk = cv2.getStructuringElement(cv2.MORPH_RECT, (max(3 * ch, 30), 1))
    vk = cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(int(1.7 * ch), 20)))
    hmask = cv2.morphologyEx(binv, cv2.MORPH_OPEN, hk) > 0
    vmask = cv2.morphologyEx(binv, cv2.MORPH_OPEN, vk) > 0
    rulings = (hmask | vmask).astype(np.uint8)
    wide = cv2.dilate(rulings, np.ones((5, 5), np.uint8)) > 0
    text_ink = _despeck(ink & ~wide)
    # The recogniser sees only the glyphs (and a pixel of their edge) on white: grain and
    # specks left on the paper of a scan were read as extra '.'/'0' beside lone digits.
    near = cv2.dilate(text_ink.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    clean = gray.copy()
    clean[~near] = 255

    tables: list[_TableGeom] = []
    n, labels, stats, _ = cv2.connectedComponentsWithStats(
        cv2.dilate(rulings, np.ones((3, 3), np.uint8)), connectivity=8
    )
    for k in range(1, n):
        x, y, w, h = (int(v) for v in stats[k, :4])
        if w < 4 * ch or h < 2 * ch:
            continue
        t = _table(hmask, vmask, text_ink, labels == k, (y, y + h, x, x + w), ch)
        if t is not None:
            tables.append(t)

    outside = text_ink.copy()
    for t in tables:
        y0, y1, x0, x1 = t.box
        outside[y0:y1, x0:x1] = False
    return _Page(clean, ch, tables, _text_lines(outside, ch, despeck=False))


def _positions(mask: np.ndarray, axis: int, min_len: int) -> list[int]:
    """Centres of ruling lines: rows (axis=1) or columns (axis=0) holding a long enough run."""
    counts = mask.sum(axis=axis)
    return [(a + b - 1) // 2 for a, b in _runs(counts >= min_len, max_gap=2)]


def _table(
    hmask: np.ndarray,
    vmask: np.ndarray,
    text_ink: np.ndarray,
    comp: np.ndarray,
    box: tuple[int, int, int, int],
    ch: int,
) -> _TableGeom | None:
    """Grid of one ruled table: line positions, then merged cells where segments are missing."""
    y0, y1, x0, x1 = box
    sub = comp[y0:y1, x0:x1]
    h = hmask[y0:y1, x0:x1] & sub
    v = vmask[y0:y1, x0:x1] & sub
    ys = _positions(h, 1, max(2 * ch, 20))
    xs = _positions(v, 0, max(ch, 12))
    if len(ys) < 2 or len(xs) < 2:
        return None
    nr, nc = len(ys) - 1, len(xs) - 1
    band = 3

    def v_sep(r: int, c: int) -> bool:  # line between (r, c) and (r, c + 1)
        x = xs[c + 1]
        a, b = ys[r], ys[r + 1]
        m = max(2, (b - a) // 5)
        seg = v[a + m : b - m, max(0, x - band) : x + band + 1]
        return seg.size > 0 and seg.any(axis=1).mean() >= 0.5

    def h_sep(r: int, c: int) -> bool:  # line between (r, c) and (r + 1, c)
        y = ys[r + 1]
        a, b = xs[c], xs[c + 1]
        m = max(2, (b - a) // 5)
        seg = h[max(0, y - band) : y + band + 1, a + m : b - m]
        return seg.size > 0 and seg.any(axis=0).mean() >= 0.5

    taken = np.zeros((nr, nc), dtype=bool)
    cells: list[_Cell] = []
    for members in _merged(nr, nc, v_sep, h_sep):
        rs = [i // nc for i in members]
        cs = [i % nc for i in members]
        r0, r1, c0, c1 = min(rs), max(rs) + 1, min(cs), max(cs) + 1
        if taken[r0:r1, c0:c1].any():  # non-rectangular merge (broken line): keep the rest
            r1, c1 = r0 + 1, c0 + 1
            if taken[r0, c0]:
                continue
        taken[r0:r1, c0:c1] = True
        iy0, iy1 = y0 + ys[r0] + band, y0 + ys[r1] - band
        ix0, ix1 = x0 + xs[c0] + band, x0 + xs[c1] - band
        lines = []
        for ln in _text_lines(text_ink[iy0:iy1, ix0:ix1], ch, split=False, despeck=False):
            for a, b in ln.segs:
                lines.append((iy0 + ln.y0, iy0 + ln.y1, ix0 + a, ix0 + b))
        cells.append(_Cell(r0, r1, c0, c1, (iy0, iy1, ix0, ix1), lines))
    return _TableGeom(box, nr, nc, cells)


def _merged(
    nr: int, nc: int, v_sep: Callable[[int, int], bool], h_sep: Callable[[int, int], bool]
) -> list[list[int]]:
    """Grid slots (r * nc + c) grouped into cells: neighbours with no ruling segment between
    them are one merged cell.  Groups in reading order of their first slot."""
    parent = list(range(nr * nc))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for r in range(nr):
        for c in range(nc):
            if c + 1 < nc and not v_sep(r, c):
                parent[find(r * nc + c + 1)] = find(r * nc + c)
            if r + 1 < nr and not h_sep(r, c):
                parent[find((r + 1) * nc + c)] = find(r * nc + c)
    groups: dict[int, list[int]] = {}
    for i in range(nr * nc):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values(), key=min)


def _despeck(ink: np.ndarray) -> np.ndarray:
    """``ink`` without components of one or two pixels (JPEG noise, grain)."""
    cv2 = _cv2()

    _, lab, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    small = stats[:, cv2.CC_STAT_AREA] <= 2
    small[0] = False
    return ink & ~small[lab] if small.any() else ink


def _text_lines(ink: np.ndarray, ch: int, split: bool = True, despeck: bool = True) -> list[_Line]:
    """Text lines by row projection; with ``split``, segments at wide horizontal gaps.
    Specks are dropped first unless the caller already did (``despeck=False``)."""

    if ink.size == 0 or not ink.any():
        return []
    if despeck:
        ink = _despeck(ink)
    out: list[_Line] = []
    for a, b in _runs(ink.sum(axis=1) > 0, max_gap=max(1, ch // 6)):
        band = ink[a:b]
        if b - a < max(3, ch // 4) and band.sum() < ch:  # a speck row, not a glyph
            continue
        cols = band.any(axis=0)
        segs = _runs(cols, max_gap=int(2.5 * ch) if split else cols.size)
        segs = [(s, e) for s, e in segs if band[:, s:e].sum() >= 3]
        if segs:
            out.append(_Line(a, b, segs))
    return out


def _crop(gray: np.ndarray, box: tuple[int, int, int, int], ch: int) -> np.ndarray:
    """A line crop with a margin, tight in height like a detector box.

    Tight matters: a lone '0' in a crop as tall as a Chinese character is, to the model, an
    'o' or a '。'; filling the height it is a digit.  Flat glyphs ('一', '—') keep a floor.
    """
    y0, y1, x0, x1 = box
    cy = (y0 + y1) / 2
    half = max(y1 - y0, 0.6 * ch) / 2 * 1.3 + 1
    mx = int(0.35 * ch) + 2
    h, w = gray.shape
    a, b = max(0, int(cy - half)), min(h, int(cy + half + 1))
    c, d = max(0, x0 - mx), min(w, x1 + mx)
    return gray[a:b, c:d]


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def _numberlike(text: str) -> bool:
    """A cell that is (or was probably meant to be) a number: gets the confidence gate."""
    s = unicodedata.normalize("NFKC", text).replace(" ", "")
    if not s or not any(c.isdigit() for c in s):
        return False
    if parse_number(s) is not None:
        return True
    return len(s) <= 12 and sum(c in _DIGITISH for c in s) * 2 >= len(s)


def _choose(text: str, conf: float, ntext: str, nconf: float) -> tuple[str, float, bool]:
    """Free reading, or the digits-only reading when the free one is a digit look-alike
    ('o', '。', '1O'); the flag says the latter happened without any real digit read."""
    text = (
        unicodedata.normalize("NFKC", text) if text.isascii() is False and len(text) <= 12 else text
    )
    if text and ntext and all(c in _DIGITISH for c in text):
        if any(not c.isdigit() and c not in ".,，" for c in text):
            return ntext, nconf, not any(c.isdigit() for c in text)
    return text, conf, False


@dataclass(slots=True)
class _Stats:
    scores: list[float]
    low: int = 0
    prose_left: int = 0  # long prose lines still to read (see _PROSE_LINES)
    prose_skipped: int = 0


def _upside_down(gray: np.ndarray) -> bool:
    """Whether the recogniser reads the page's widest text lines better turned by 180°.

    Up to :data:`_PROBE_LINES` of the widest flat segments (Chinese prose and labels, not
    lone digits, which read the same both ways up), cut to ~10 glyphs, are read as they are and, unless every one reads well, turned.
    """
    cv2 = _cv2()
    _, binv = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ink = binv > 0
    ch = _char_height(ink)
    hk = cv2.getStructuringElement(cv2.MORPH_RECT, (max(3 * ch, 30), 1))
    vk = cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(int(1.7 * ch), 20)))
    rulings = cv2.morphologyEx(binv, cv2.MORPH_OPEN, hk) | cv2.morphologyEx(
        binv, cv2.MORPH_OPEN, vk
    )
    ink &= ~(cv2.dilate(rulings, np.ones((5, 5), np.uint8)) > 0)
    boxes = [
        (ln.y0, ln.y1, a, min(b, a + 10 * ch))
        for ln in _text_lines(ink, ch)
        if 0.6 * ch <= ln.y1 - ln.y0 <= 1.6 * ch
        for a, b in ln.segs
        if b - a >= 3 * ch
    ]
    if not boxes:
        return False
    boxes = sorted(boxes, key=lambda b: b[3] - b[2], reverse=True)[:_PROBE_LINES]
    crops = [_crop(gray, b, ch) for b in boxes]
    up = [r[1] for r in _engine().read(crops)]
    if min(up) >= _UPRIGHT:  # the common case: read well as it is, no second reading
        return False
    flipped = [np.ascontiguousarray(c[::-1, ::-1]) for c in crops]
    down = [r[1] for r in _engine().read(flipped)]
    return sum(down) > sum(up) + 0.1 * len(crops)


def _read_with_retry(crops: list[np.ndarray]) -> list[tuple[str, float, str, float]]:
    """Every crop read; the ones read with no confidence at all (a tiled lone digit whose
    copies disagreed: grain on a scan made this model call a clear '0' '。o') are read again
    from a cleaned copy — binarised, then softened like printed glyphs — and the better
    reading is kept.  The second reading passes the same gates; nothing is assumed."""
    if not crops:
        return []
    reads = _engine().read(crops)
    again = [i for i, r in enumerate(reads) if max(r[1], r[3]) < MIN_CONFIDENCE]
    if again:
        second = _engine().read([_cleaned(crops[i]) for i in again])
        for i, r in zip(again, second, strict=True):
            if max(r[1], r[3]) > max(reads[i][1], reads[i][3]):
                reads[i] = r
    return reads


def _cleaned(crop: np.ndarray) -> np.ndarray:
    cv2 = _cv2()
    _, bw = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return cv2.GaussianBlur(bw, (3, 3), 0.8)


def _keep_line(line: _Line, ch: int, stats: _Stats) -> bool:
    """Whether to read a text line outside the tables.

    Recognition costs by line width, and a page of body text is ~2x a page of tables.  The
    transform needs the headings (short), lines split into cells (unruled tables) and the top
    of the report (title, period and agency are looked for in its first paragraphs); long
    one-segment prose lines past the first :data:`_PROSE_LINES` are counted, not read.
    """
    if len(line.segs) > 1 or line.segs[-1][1] - line.segs[0][0] <= _SHORT_LINE * ch:
        return True
    if stats.prose_left > 0:
        stats.prose_left -= 1
        return True
    stats.prose_skipped += 1
    return False


def _read_page(
    gray: np.ndarray, stats: _Stats, warnings: list[str], base: int
) -> list[tuple[int, Block]]:
    gray, notes = prepare(gray, _char_height, _upside_down)
    warnings.extend(f"ocr_page:{n}" for n in notes)
    page = _analyse(gray)
    jobs: list[tuple[int, int, int, int]] = []  # boxes to read
    for t in page.tables:
        for c in t.cells:
            jobs.extend(c.lines)
    page.lines = [ln for ln in page.lines if _keep_line(ln, page.char_h, stats)]
    for ln in page.lines:
        jobs.extend((ln.y0, ln.y1, a, b) for a, b in ln.segs)
    crops = [_crop(page.gray, b, page.char_h) for b in jobs]
    reads = iter(_read_with_retry(crops))

    blocks: list[tuple[int, Block]] = []
    for k, t in enumerate(page.tables):
        rows = [[""] * t.n_cols for _ in range(t.n_rows)]
        span = [[False] * t.n_cols for _ in range(t.n_rows)]
        warnings.append(f"ocr_table:{base + k}")
        for c in t.cells:
            parts = [_choose(*next(reads)) for _ in c.lines]
            text = "".join(p for p, _, _ in parts)
            conf = min((s for _, s, _ in parts), default=1.0)
            ink_h = max((b[1] - b[0] for b in c.lines), default=0)
            if any(guess for _, _, guess in parts) and ink_h < 0.45 * page.char_h:
                text = ""  # a speck or a full stop is not a zero
            if c.lines and not text:
                warnings.append(f"ocr_unread:{c.r0},{c.c0}")
            if _numberlike(text):
                text = unicodedata.normalize("NFKC", text).replace(" ", "")
                if _CELL_LOG is not None:
                    _CELL_LOG.append((base + k, c.r0, c.c0, text, conf))
                stats.scores.append(conf)
                if conf < MIN_CONFIDENCE:
                    stats.low += 1
                    warnings.append(f"ocr_low_confidence:{c.r0},{c.c0}:{text}:{conf:.2f}")
                    text = ""
            for r in range(c.r0, c.r1):
                for col in range(c.c0, c.c1):
                    rows[r][col] = text
                    span[r][col] = (r, col) != (c.r0, c.c0)
        blocks.append((t.box[0], Table(rows=rows, span=span)))
    unruled: list[_Unruled] = []
    for ln in page.lines:
        raw = [next(reads) for _ in ln.segs]
        chosen = [_choose(*r) for r in raw]
        unruled.append(
            _Unruled(
                ln.y0,
                ln.y1,
                [r[0] for r in raw],
                [c[0] for c in chosen],
                [c[1] for c in chosen],
                ln.segs,
            )
        )
    blocks.extend(_unruled_blocks(unruled, stats, warnings))
    blocks.sort(key=lambda b: b[0])
    return blocks


@dataclass(slots=True)
class _Unruled:
    y: int
    y1: int
    raw: list[str]  # free readings (paragraphs keep these)
    texts: list[str]  # digit look-alikes read as digits (table cells)
    confs: list[float]
    segs: list[tuple[int, int]]


def _unruled_blocks(
    lines: list[_Unruled], stats: _Stats, warnings: list[str]
) -> list[tuple[int, Block]]:
    """Lines outside ruled tables: runs of ≥2 multi-segment lines become a table, anything
    else a paragraph — the fallback for tables printed without rulings (or rulings too faint
    to find).  The table's columns come from clustering the segments' x ranges
    (:func:`_columns`), so a blank cell stays in its column instead of pulling the numbers to
    its right one column left; when no consistent columns exist the rows stay ragged."""
    out: list[tuple[int, Block]] = []
    right = max((ln.segs[-1][1] for ln in lines), default=0)
    carry: tuple[int, str] | None = None  # a paragraph whose last line ran to the margin
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and len([c for c in lines[j].texts if c]) >= 2:
            j += 1
        if j - i >= 2:
            if carry:
                out.append((carry[0], Paragraph(carry[1])))
                carry = None
            out.append((lines[i].y, _unruled_table(lines[i:j], stats, warnings)))
            i = j
            continue
        text = " ".join(c for c in lines[i].raw if c)
        if carry:  # a wrapped line goes on: the transform reads '统计期限为2024年' whole
            y, text = carry[0], carry[1] + text
        else:
            y = lines[i].y
        carry = None
        if text and _wraps(lines, i, right):
            carry = (y, text)
        elif text:
            out.append((y, Paragraph(text)))
        i += 1
    if carry:
        out.append((carry[0], Paragraph(carry[1])))
    return out


def _wraps(lines: list[_Unruled], i: int, right: int) -> bool:
    """Whether prose line ``i`` goes on in line ``i + 1``: it is wide, runs to the right
    margin, and the next line follows at once below it (not past a table or a blank)."""
    ln = lines[i]
    if i + 1 >= len(lines) or len(ln.segs) != 1:
        return False
    a, b = ln.segs[0]
    height = ln.y1 - ln.y
    nxt = lines[i + 1]
    return (
        b >= right - _WRAP_SLACK * right
        and b - a >= right / 2
        and 0 <= nxt.y - ln.y1 <= height
        and len(nxt.segs) == 1
    )


def _columns(lines: list[_Unruled]) -> list[tuple[int, int]] | None:
    """Column x ranges of an unruled table: those of its fullest rows (the most segments),
    widened over every such row; None when they overlap (no consistent columns)."""
    n = max(len(ln.segs) for ln in lines)
    full = [ln.segs for ln in lines if len(ln.segs) == n]
    cols = [(min(s[k][0] for s in full), max(s[k][1] for s in full)) for k in range(n)]
    if any(a[1] >= b[0] for a, b in zip(cols, cols[1:], strict=False)):
        return None
    return cols


def _unruled_table(lines: list[_Unruled], stats: _Stats, warnings: list[str]) -> Table:
    """One unruled table; number cells pass the same confidence gate as ruled ones (flagged
    as ``ocr_low_confidence_unruled:<row>,<col>:<text>:<score>``).

    Without rulings, a number's column is inferred, and a row with fewer segments than the
    table has columns (a blank, two cells read as one, a label wrapped across lines) may put
    it under the wrong header: numbers are kept only in rows that fill every column, the
    others are blanked and flagged ``ocr_unruled_unplaced:<row>,<col>:<text>``."""
    cols = _columns(lines)
    rows: list[list[str]] = []
    for r, ln in enumerate(lines):
        row = [""] * len(cols) if cols else []
        placed = cols is not None and len(ln.segs) == len(cols)
        for (a, b), text, conf in zip(ln.segs, ln.texts, ln.confs, strict=True):
            col = _column_of(a, b, cols) if cols else len(row)
            if _numberlike(text):
                text = unicodedata.normalize("NFKC", text).replace(" ", "")
                stats.scores.append(conf)
                if not placed:
                    warnings.append(f"ocr_unruled_unplaced:{r},{col}:{text}")
                    text = ""
                elif conf < MIN_CONFIDENCE:
                    warnings.append(f"ocr_low_confidence_unruled:{r},{col}:{text}:{conf:.2f}")
                    text = ""
            if not cols:
                row.append(text)
            elif text:
                row[col] = f"{row[col]} {text}".strip()
        rows.append(row if cols else [c for c in row if c])
    return Table(rows=rows)


def _column_of(a: int, b: int, cols: list[tuple[int, int]]) -> int:
    """The column a segment overlaps most (the nearest one when it overlaps none)."""
    overlap = [min(b, c1) - max(a, c0) for c0, c1 in cols]
    best = max(range(len(cols)), key=lambda k: overlap[k])
    if overlap[best] > 0:
        return best
    mid = (a + b) / 2
    return min(range(len(cols)), key=lambda k: abs(mid - (cols[k][0] + cols[k][1]) / 2))


def ocr_images(images: list[bytes], source: str = "", kind: str = "image") -> Document:
    """Several images of one report (pages or screenshots, in order) as one Document."""
    ok, why = ocr_available()
    if not ok:
        raise DocumentError(f"OCR unavailable: {why}")
    stats = _Stats([], prose_left=_PROSE_LINES)
    warnings: list[str] = []
    blocks: list[Block] = []
    n_tables = 0
    for data in images:
        got = _read_page(_decode_image(data), stats, warnings, n_tables)
        n_tables += sum(isinstance(b, Table) for _, b in got)
        blocks.extend(b for _, b in got)
    mean = sum(stats.scores) / len(stats.scores) if stats.scores else 0.0
    hints = {
        "ocr_engine": ENGINE,
        "ocr_mean_confidence": f"{mean:.3f}",
        "ocr_low_confidence_cells": str(stats.low),
        "ocr_number_cells": str(len(stats.scores)),
        "ocr_images": str(len(images)),
        "ocr_prose_lines_skipped": str(stats.prose_skipped),
    }
    return Document(blocks=blocks, source=source, kind=kind, hints=hints, warnings=warnings)


def ocr_image(data: bytes, source: str = "") -> Document:
    """One PNG/JPEG image (a screenshot of the tables, a scan) as a Document."""
    return ocr_images([data], source)


def ocr_page_image(png: bytes, source: str = "") -> Document:
    """One rendered PDF page (the PDF reader's fallback for pages without a usable text layer)."""
    return ocr_images([png], source, kind="pdf-ocr")


def _debug_grid(data: bytes) -> dict[str, Any]:
    """Geometry only (no recognition): for tests and troubleshooting."""
    page = _analyse(_decode_image(data))
    return {
        "char_h": page.char_h,
        "tables": [(t.n_rows, t.n_cols, len(t.cells)) for t in page.tables],
        "lines": len(page.lines),
    }


__all__ = [
    "MIN_CONFIDENCE",
    "ocr_available",
    "ocr_image",
    "ocr_images",
    "ocr_page_image",
]
