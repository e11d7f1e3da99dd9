"""Reading produced PDFs the way a person would: pages, their text, a page as an image.

pypdfium2 (PDFium, the engine of Chromium's viewer) renders and extracts text, so a test sees what
a reader sees: a glyph the font lacks or text drawn off the page shows up here.
"""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image


def page_count(data: bytes) -> int:
    return len(pdfium.PdfDocument(data))


def pages_text(data: bytes) -> list[str]:
    doc = pdfium.PdfDocument(data)
    return [page.get_textpage().get_text_range() for page in doc]


def page_size_mm(data: bytes, index: int = 0) -> tuple[float, float]:
    width, height = pdfium.PdfDocument(data)[index].get_size()
    return width * 25.4 / 72, height * 25.4 / 72


def render_page(data: bytes, index: int = 0, *, dpi: int = 100, out: Path | None = None) -> Image.Image:
    image = pdfium.PdfDocument(data)[index].render(scale=dpi / 72).to_pil()
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        image.save(out)
    return image
