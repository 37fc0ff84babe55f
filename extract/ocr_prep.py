"""Page clean-up before OCR: even lighting, denoising, quarter-turns and skew undone.

Why: the grid finder (extract/ocr.py) looks for axis-aligned ruling lines with a global Otsu
threshold, and the recogniser reads horizontal lines of text.  A photographed page has light
falling off across it (one threshold blackens one corner and loses the other), a scanner's
grain makes thousands of specks, a page fed in sideways has vertical text, and a page a few
degrees off makes every ruling a staircase that morphology no longer sees as a line.

* Lighting: the paper's brightness is estimated by a grey closing (max then min filter, wider
  than any stroke) on a quarter-size copy and divided out, so paper becomes 255 everywhere.
* Noise: the grain is measured on the paper (median absolute deviation of image minus its
  median filter); above :data:`NOISY` the page is median-filtered.
* Quarter turns: text lines are wide and flat.  Ink dilated along the lines' direction joins
  the glyphs of a line into long flat runs, dilated across it does not; the direction whose
  runs are longer is "horizontal".  Upright versus upside-down is decided by the recogniser
  itself (:func:`upright_votes` is given by the caller): an upside-down line reads with low
  confidence.
* Skew: the angle in ±:data:`MAX_SKEW` degrees that makes the row profile of the ink sharpest
  (largest sum of squares), coarse then fine, on ink pixel coordinates only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

MAX_SKEW = 6.0  # degrees searched either side
MIN_SKEW = 0.2  # degrees; below this a page is left as it is (0.2° drifts 5 px over A4 width)
_SKEW_POINTS = 60_000
NOISY = 4.0  # grain (grey levels, robust sigma) above which the page is median-filtered


def _cv2():  # noqa: ANN202 - the module, imported through the OCR module's lock
    from .ocr import _cv2 as get

    return get()


def even_lighting(gray: np.ndarray) -> np.ndarray:
    """``gray`` divided by its paper brightness: uneven light and grey paper become white."""
    cv2 = _cv2()
    h, w = gray.shape
    small = cv2.resize(gray, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
    k = cv2.getStructuringElement(cv2.MORPH_RECT, (15, 15))
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE, k)
    paper = cv2.blur(paper, (9, 9))
    paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.divide(gray, np.maximum(paper, 32), scale=255)


def grain(gray: np.ndarray) -> float:
    """Robust sigma of the noise on the paper (grey levels)."""
    cv2 = _cv2()
    step = gray[::2, ::2]
    diff = step.astype(np.int16) - cv2.medianBlur(step, 3).astype(np.int16)
    paper = step > 160
    if paper.sum() < 100:
        return 0.0
    return float(1.4826 * np.median(np.abs(diff[paper])))


def ink_mask(gray: np.ndarray) -> np.ndarray:
    cv2 = _cv2()
    _, binv = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return binv


def is_sideways(binv: np.ndarray, char_h: int) -> bool:
    """Whether text runs top-to-bottom: ink joined along columns makes longer flat runs than
    along rows.  Long rulings are removed first (a table's grid runs both ways)."""
    glyphs = _without_rulings(binv, char_h)
    return _run_score(glyphs.T, char_h) > 1.3 * _run_score(glyphs, char_h)


def _without_rulings(binv: np.ndarray, char_h: int) -> np.ndarray:
    cv2 = _cv2()
    long = max(4 * char_h, 40)
    h = cv2.morphologyEx(binv, cv2.MORPH_OPEN, np.ones((1, long), np.uint8))
    v = cv2.morphologyEx(binv, cv2.MORPH_OPEN, np.ones((long, 1), np.uint8))
    lines = cv2.dilate(h | v, np.ones((5, 5), np.uint8))
    return binv & ~lines


def _run_score(binv: np.ndarray, char_h: int) -> float:
    """Ink in flat runs: components of ink dilated along rows that are ≥ 3x wider than tall
    and no taller than 1.6 glyphs, weighted by width."""
    cv2 = _cv2()
    k = max(3, char_h // 3)
    joined = cv2.dilate(np.ascontiguousarray(binv), np.ones((1, k), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    w = stats[1:, cv2.CC_STAT_WIDTH].astype(np.float64)
    h = stats[1:, cv2.CC_STAT_HEIGHT].astype(np.float64)
    flat = (w >= 3 * h) & (h >= 0.4 * char_h) & (h <= 1.6 * char_h)
    return float(w[flat].sum())


def skew_angle(binv: np.ndarray) -> float:
    """Degrees to turn the page by (counter-clockwise, OpenCV's sign) to level its lines."""
    ys, xs = np.nonzero(binv[::2, ::2])
    if len(ys) < 200:
        return 0.0
    if len(ys) > _SKEW_POINTS:  # a sample levels as well and ~60 angles are tried
        pick = np.random.default_rng(0).choice(len(ys), _SKEW_POINTS, replace=False)
        ys, xs = ys[pick], xs[pick]
    ys = ys.astype(np.float64)
    xs = xs.astype(np.float64) - xs.mean()

    def sharpness(deg: float) -> float:
        t = np.deg2rad(deg)
        rows = np.round(ys * np.cos(t) - xs * np.sin(t)).astype(np.int64)
        counts = np.bincount(rows - rows.min())
        return float((counts.astype(np.float64) ** 2).sum())

    best = max(np.arange(-MAX_SKEW, MAX_SKEW + 1e-9, 0.25), key=sharpness)
    fine = float(max(np.arange(best - 0.25, best + 0.25 + 1e-9, 0.03), key=sharpness))
    # A level page gives a flat optimum: turning it by a tenth of a degree gains nothing and
    # costs an interpolation of every glyph.
    if abs(fine) < MIN_SKEW or sharpness(fine) < 1.03 * sharpness(0.0):
        return 0.0
    return fine


def rotate(gray: np.ndarray, degrees: float) -> np.ndarray:
    """``gray`` turned by ``degrees`` counter-clockwise about its centre, canvas grown to fit,
    new corners white."""
    cv2 = _cv2()
    h, w = gray.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos + 0.5), int(h * cos + w * sin + 0.5)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(
        gray, m, (nw, nh), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT, borderValue=255
    )


def quarter(gray: np.ndarray, turns: int) -> np.ndarray:
    """``gray`` turned by ``turns`` × 90° clockwise."""
    cv2 = _cv2()
    codes = {1: cv2.ROTATE_90_CLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_COUNTERCLOCKWISE}
    return gray if turns % 4 == 0 else cv2.rotate(gray, codes[turns % 4])


def prepare(
    gray: np.ndarray,
    char_height: Callable[[np.ndarray], int],
    upside_down: Callable[[np.ndarray], bool],
) -> tuple[np.ndarray, list[str]]:
    """The page levelled and upright, with notes of what was done (for Document.hints).

    ``char_height(ink)`` gives the glyph scale; ``upside_down(gray)`` asks the recogniser.
    """
    notes: list[str] = []
    gray = even_lighting(gray)
    noise = grain(gray)
    if noise > NOISY:
        gray = _cv2().medianBlur(gray, 3)
        notes.append(f"denoised:{noise:.1f}")
    binv = ink_mask(gray)
    ch = char_height(binv > 0)
    if is_sideways(binv, ch):
        gray, binv = quarter(gray, 1), quarter(binv, 1)
        notes.append("turned:90")
    angle = skew_angle(_without_text_noise(binv))
    if angle:
        gray = rotate(gray, angle)
        notes.append(f"deskewed:{angle:.2f}")
    gray, fixed = rectify(gray, ch)
    if fixed:
        notes.append(f"rectified:{fixed:.1f}")
    if upside_down(gray):
        gray = quarter(gray, 2)
        notes.append("turned:180")
    return gray, notes


def _corners(quad: np.ndarray) -> np.ndarray:
    """Four points ordered top-left, top-right, bottom-right, bottom-left."""
    pts = quad.reshape(4, 2).astype(np.float32)
    s, d = pts.sum(axis=1), pts[:, 0] - pts[:, 1]
    return np.float32([pts[s.argmin()], pts[d.argmax()], pts[s.argmax()], pts[d.argmin()]])


def table_quad(gray: np.ndarray, char_h: int) -> np.ndarray | None:
    """The outline of the largest ruled table as four ordered corners, or None."""
    cv2 = _cv2()
    binv = ink_mask(gray)
    long = max(3 * char_h, 30)
    h = cv2.morphologyEx(binv, cv2.MORPH_OPEN, np.ones((1, long), np.uint8))
    v = cv2.morphologyEx(binv, cv2.MORPH_OPEN, np.ones((long, 1), np.uint8))
    lines = cv2.dilate(h | v, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(lines, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    big = max(contours, key=cv2.contourArea)
    if cv2.contourArea(big) < 0.05 * gray.size:
        return None
    hull = cv2.convexHull(big)
    quad = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
    return _corners(quad) if len(quad) == 4 else None


def rectify(gray: np.ndarray, char_h: int) -> tuple[np.ndarray, float]:
    """The page with the perspective of a photograph undone, and how far (pixels) a corner
    of the largest table moved; (page, 0.0) when it is already square.

    A flat page photographed at a slant is one homography: the one that makes the largest
    ruled table a rectangle straightens the whole page."""
    cv2 = _cv2()
    quad = table_quad(gray, char_h)
    if quad is None:
        return gray, 0.0
    tl, tr, br, bl = quad
    w = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    h = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    x0, y0 = (tl + bl)[0] / 2, (tl + tr)[1] / 2
    target = np.float32([[x0, y0], [x0 + w, y0], [x0 + w, y0 + h], [x0, y0 + h]])
    moved = float(np.abs(target - quad).max())
    if moved < 1.5:
        return gray, 0.0
    m = cv2.getPerspectiveTransform(quad, target)
    out = cv2.warpPerspective(
        gray, m, (gray.shape[1], gray.shape[0]), flags=cv2.INTER_CUBIC, borderValue=255
    )
    return out, moved


def _without_text_noise(binv: np.ndarray) -> np.ndarray:
    """Ink without single-pixel specks (they flatten the profile's peaks)."""
    cv2 = _cv2()
    return cv2.morphologyEx(binv, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
