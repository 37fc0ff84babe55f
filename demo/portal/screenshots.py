"""A seed report's three tables as one screenshot: the demo portal's image-only report (H3).

Why a committed image: drawing the tables needs a CJK font that CI and most machines lack.
The OCR test fixtures (``tests/fixtures/make_ocr.py`` renders them from the seeds, one clean
grayscale PNG per table) are stacked into one tall page, the way portals post a report as one
long screenshot; OCR reads it exactly, so the seed's values are its ground truth.  Rebuild
from a checkout (needs Pillow):

    python -m nianbao.demo.portal.screenshots
"""

from __future__ import annotations

import io
from importlib import resources
from pathlib import Path

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


def main() -> None:
    root = Path(__file__).resolve().parents[2]
    fixtures = root / "tests" / "fixtures" / "ocr"
    png = stack([(fixtures / f"{SEED}_{t}_clean.png").read_bytes() for t in TABLES])
    out = root / "demo" / "data" / "screenshots" / f"{SEED}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(png)
    print(f"wrote {out} ({len(png):,} bytes)")


if __name__ == "__main__":
    main()
