"""PDF documents (print-ready tables, invite sheets) with Vietnamese text.

fpdf2 embeds TrueType fonts as subsets, so the same DejaVu Sans files the charts use (shipped inside
matplotlib's package data) render every Vietnamese letter on a fresh server without system fonts.
Text is NFC-normalised first: names typed on some keyboards arrive decomposed, and the font has
glyphs for the precomposed letters.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

from fpdf import FPDF

from bot.reports.chart_style import BOLD_FONT, FONT_DIR, REGULAR_FONT

FAMILY = "DejaVu"
ITALIC_FONT = FONT_DIR / "DejaVuSans-Oblique.ttf"

Orientation = Literal["portrait", "landscape"]


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def new_document(orientation: Orientation = "portrait", *, title: str = "", margin_mm: float = 12) -> FPDF:
    """An A4 document with the project's fonts registered and automatic page breaks."""
    pdf = FPDF(orientation="L" if orientation == "landscape" else "P", unit="mm", format="A4")
    pdf.add_font(FAMILY, "", str(REGULAR_FONT))
    pdf.add_font(FAMILY, "B", str(BOLD_FONT))
    pdf.add_font(FAMILY, "I", str(ITALIC_FONT))
    pdf.set_font(FAMILY, size=10)
    pdf.set_margins(margin_mm, margin_mm, margin_mm)
    pdf.set_auto_page_break(auto=True, margin=margin_mm)
    if title:
        pdf.set_title(nfc(title))
    pdf.set_creator("cchc-bot")
    return pdf


def to_bytes(pdf: FPDF) -> bytes:
    return bytes(pdf.output())
