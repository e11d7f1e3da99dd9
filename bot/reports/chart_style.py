"""Fonts, colours, text fitting and PNG output shared by the charts.

Fonts are given by file, not by family name: matplotlib ships DejaVu Sans (which covers every
Vietnamese letter, precomposed and combining) inside its own package data, so a chart renders the
same on a fresh server without system fonts, and no system font with the same family name can
replace it. Every text element gets a `FontProperties` explicitly; no rcParams are touched, so
rendering charts in worker threads does not change anybody else's matplotlib state.
"""

from __future__ import annotations

import unicodedata
from io import BytesIO
from pathlib import Path

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import text_to_path

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
REGULAR_FONT = FONT_DIR / "DejaVuSans.ttf"
BOLD_FONT = FONT_DIR / "DejaVuSans-Bold.ttf"

#: Telegram shows a photo at the phone's width; 1080 px wide with ~20 pt text (≈ 28 px) reads like
#: body text on a phone. Telegram scales photos down to 2560 px on the long side, so tall charts
#: are split into pages rather than made taller.
WIDTH_PX = 1080
DPI = 100
MAX_HEIGHT_PX = 2560

#: Traffic-light order from best to worst; distinct in lightness too, so the order survives a
#: grey-scale print or colour-blind eyes.
BAND_COLOURS: dict[str, str] = {
    "xuat_sac": "#1a7f3c",
    "tot": "#2e86c1",
    "kha": "#f1c40f",
    "trung_binh": "#e67e22",
    "yeu": "#c0392b",
}
FALLBACK_COLOURS = ("#1a7f3c", "#2e86c1", "#f1c40f", "#e67e22", "#c0392b", "#7d3c98", "#566573")
NOT_RANKED_COLOUR = "#b0b0b0"
TEXT_COLOUR = "#212121"
MUTED_COLOUR = "#616161"
LINE_COLOUR = "#424242"


def font(size: float, bold: bool = False) -> FontProperties:
    return FontProperties(fname=str(BOLD_FONT if bold else REGULAR_FONT), size=size)


def clean(text: str) -> str:
    """NFC (names typed on some keyboards arrive decomposed) and single spaces."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def text_px(text: str, prop: FontProperties) -> float:
    """Rendered width of one line in pixels at the charts' resolution."""
    width_pt, _, _ = text_to_path.get_text_width_height_descent(text, prop, ismath=False)
    return float(width_pt) * DPI / 72


def fit(text: str, prop: FontProperties, max_px: float, max_lines: int) -> str:
    """Wrap `text` at word boundaries into at most `max_lines` lines no wider than `max_px` as
    rendered in `prop`; what does not fit is cut with "…". Measured, not counted in characters,
    because "VĂN PHÒNG UBND" is much wider than "Sở Tư pháp" of the same length."""
    words = clean(text).split(" ")
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if text_px(candidate, prop) <= max_px or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    lines.append(current)
    lines = [_cut(line, prop, max_px) for line in lines]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _cut(lines[-1] + "…", prop, max_px, force=True)
    return "\n".join(lines)


def _cut(line: str, prop: FontProperties, max_px: float, force: bool = False) -> str:
    """`line` shortened to `max_px` with a trailing "…" (kept when `force`, e.g. after a cut)."""
    if not force and text_px(line, prop) <= max_px:
        return line
    body = line.removesuffix("…")
    while body and text_px(body.rstrip() + "…", prop) > max_px:
        body = body[:-1]
    return body.rstrip(" ,.-–") + "…"


def text_colour_on(background: str) -> str:
    """Black or white, whichever reads better on the given fill colour."""
    r, g, b = (int(background[i : i + 2], 16) / 255 for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return TEXT_COLOUR if luminance > 0.55 else "white"


def new_figure(height_px: int) -> Figure:
    fig = Figure(figsize=(WIDTH_PX / DPI, height_px / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    return fig


def to_png(fig: Figure) -> bytes:
    buffer = BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()
