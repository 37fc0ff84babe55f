"""A seed report as one screenshot (its title, then its three tables): the demo portal's
image-only report (H3).

Why a committed image: drawing it needs a CJK font that CI and most machines lack.  It is
drawn by the OCR fixtures' renderer (``tests/fixtures/make_ocr.py``: the tables are its clean
PNGs of the seed, the title line is drawn the same way) and stacked into one tall page, the way
portals post a report as one long screenshot.  OCR reads it exactly — the seed's values, and
the title's agency and year — so the seed is its ground truth.  Rebuild from a checkout (needs
Pillow and Debian ``fonts-wqy-zenhei``):

    python -m nianbao.demo.portal.screenshots
"""

from __future__ import annotations

import importlib.util
import io
from importlib import resources
from pathlib import Path
from types import ModuleType

SEED = "003"  # the seed whose tables the image shows (its values are the ground truth)
TABLES = ("active", "requests", "appeals")  # report order: sections 二, 三, 四


def screenshot(sid: str = SEED) -> bytes:
    """The committed PNG of seed ``sid``'s tables."""
    return (resources.files("nianbao.demo") / "data" / "screenshots" / f"{sid}.png").read_bytes()


def stack(parts: list[bytes]) -> bytes:
    """Images one under the other, left-aligned on white, as one optimised grayscale PNG."""
    from PIL import Image

    images = [Image.open(io.BytesIO(p)).convert("L") for p in parts]
    page = Image.new("L", (max(i.width for i in images), sum(i.height for i in images)), 255)
    y = 0
    for img in images:
        page.paste(img, (0, y))
        y += img.height
    out = io.BytesIO()
    page.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _make_ocr(root: Path) -> ModuleType:
    """tests/fixtures/make_ocr.py (not part of the installed package)."""
    spec = importlib.util.spec_from_file_location("make_ocr", root / "tests/fixtures/make_ocr.py")
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def title_png(make_ocr: ModuleType, title: str, width: int) -> bytes:
    """The report title centred on a white band, in the fixtures' font, size and grey levels."""
    from PIL import Image, ImageDraw

    font = make_ocr._font()
    band = Image.new("L", (width, 2 * make_ocr.MARGIN + make_ocr.LINE_PX), 255)
    x = (width - font.getlength(title)) / 2
    ImageDraw.Draw(band).text((x, make_ocr.MARGIN), title, font=font, fill=0)
    band = band.point(lambda v: min(255, round(v / 17) * 17))
    out = io.BytesIO()
    band.save(out, format="PNG")
    return out.getvalue()


def main() -> None:
    from PIL import Image

    from .reports import load_seed_reports

    root = Path(__file__).resolve().parents[2]
    make_ocr = _make_ocr(root)
    tables = [(make_ocr.OUT / f"{SEED}_{t}_clean.png").read_bytes() for t in TABLES]
    width = max(Image.open(io.BytesIO(t)).width for t in tables)
    doc = next(d for d in load_seed_reports() if d.source == f"seed:{SEED}")
    png = stack([title_png(make_ocr, doc.title, width), *tables])
    out = root / "demo" / "data" / "screenshots" / f"{SEED}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(png)
    print(f"wrote {out} ({len(png):,} bytes)")


if __name__ == "__main__":
    main()
