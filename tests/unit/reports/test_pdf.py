"""The PDF base: A4 pages, Vietnamese text that a reader extracts letter for letter."""

from __future__ import annotations

import unicodedata

from bot.reports.pdf import FAMILY, new_document, to_bytes
from tests.pdfcheck import page_count, page_size_mm, pages_text, render_page

VIETNAMESE = "Ủy ban nhân dân tỉnh — Cộng hòa xã hội chủ nghĩa Việt Nam: Độc lập - Tự do - Hạnh phúc"


def test_landscape_a4_with_vietnamese_text_extracted_as_written() -> None:
    pdf = new_document("landscape", title="Bảng kết quả")
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 12)
    pdf.cell(text=VIETNAMESE)
    pdf.ln()
    pdf.set_font(FAMILY, "I", 10)
    # Decomposed input (some keyboards send combining marks) prints like the precomposed text.
    pdf.cell(text=unicodedata.normalize("NFD", "Sở Tư pháp"))
    data = to_bytes(pdf)
    assert page_count(data) == 1
    width, height = page_size_mm(data)
    assert (round(width), round(height)) == (297, 210)
    text = unicodedata.normalize("NFC", pages_text(data)[0])
    assert VIETNAMESE in text
    assert "Sở Tư pháp" in text


def test_page_renders_with_ink(tmp_path) -> None:
    pdf = new_document()
    pdf.add_page()
    pdf.cell(text=VIETNAMESE)
    image = render_page(to_bytes(pdf), out=tmp_path / "page.png").convert("L")
    assert (tmp_path / "page.png").stat().st_size > 0
    assert image.size[0] < image.size[1]  # portrait
    dark = sum(image.histogram()[:128])
    assert dark > 500  # the text was drawn, not a blank page
