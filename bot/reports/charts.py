"""PNG charts for leaders, sent as Telegram photos: ranking, a unit's field profile, progress.

Laid out in pixels for a 1080 px wide image read on a phone: the figure height grows with the
content, each chart is one axes whose y data unit is one pixel, so rows keep their size whatever
their number. Ranking charts of large groups (120 communes) are split into pages by
`ranking_chart_pages`, because Telegram shrinks photos taller than 2560 px to illegibility.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory

from bot.reports.chart_style import (
    BAND_COLOURS,
    DPI,
    FALLBACK_COLOURS,
    LINE_COLOUR,
    MAX_HEIGHT_PX,
    MUTED_COLOUR,
    NOT_RANKED_COLOUR,
    TEXT_COLOUR,
    WIDTH_PX,
    clean,
    fit,
    font,
    new_figure,
    text_colour_on,
    to_png,
)
from bot.reports.labels import band_name, label, survey_pending
from bot.reports.rows import ProgressCounts
from bot.scoring.bands import DEFAULT_BANDS, ClassBand
from bot.scoring.fmt import fmt_index
from bot.scoring.gaps import FieldComparison
from bot.scoring.ranking import RankRow

TITLE_SIZE = 26
TEXT_SIZE = 19
SMALL_SIZE = 17
MARGIN_PX = 24


def band_colour(band: ClassBand, bands: Sequence[ClassBand]) -> str:
    """The band's colour: the standard one for the default codes, else by position in `bands`."""
    if band.code in BAND_COLOURS:
        return BAND_COLOURS[band.code]
    position = next((i for i, b in enumerate(bands) if b.code == band.code), len(bands))
    return FALLBACK_COLOURS[position % len(FALLBACK_COLOURS)]


def _band_legend_label(band: ClassBand, bands: Sequence[ClassBand], locale: str) -> str:
    position = next(i for i, b in enumerate(bands) if b.code == band.code)
    low = _number(band.min)
    if position == 0:
        return f"{band_name(band, locale)} (≥ {low})"
    high = _number(bands[position - 1].min)
    if band.min <= 0:
        return f"{band_name(band, locale)} (< {high})"
    return f"{band_name(band, locale)} ({low}–{high})"


def _number(value: Decimal) -> str:
    return str(int(value)) if value == value.to_integral_value() else str(value.normalize())


class _Canvas:
    """A figure built top-down in pixels: header texts, a legend, then one pixel-unit axes."""

    def __init__(self, header_px: int, plot_px: int, footer_px: int, left_px: int, right_px: int) -> None:
        self.height = header_px + plot_px + footer_px
        self.fig: Figure = new_figure(self.height)
        self.header_px = header_px
        self.plot_px = plot_px
        width = WIDTH_PX - left_px - right_px
        self.ax: Axes = self.fig.add_axes(
            (left_px / WIDTH_PX, footer_px / self.height, width / WIDTH_PX, plot_px / self.height)
        )
        self.ax.set_ylim(plot_px, 0)
        for side in ("top", "right", "left"):
            self.ax.spines[side].set_visible(False)
        self.ax.set_yticks([])

    def y(self, px_from_top: float) -> float:
        """Figure fraction of a height given in pixels from the top of the image."""
        return 1 - px_from_top / self.height

    def header_text(
        self, px_from_top: float, text: str, size: float, bold: bool = False, colour: str = TEXT_COLOUR
    ) -> None:
        self.fig.text(
            MARGIN_PX / WIDTH_PX,
            self.y(px_from_top),
            text,
            fontproperties=font(size, bold),
            color=colour,
            va="top",
            ha="left",
            parse_math=False,
            linespacing=1.15,
        )

    def legend(self, px_from_top: float, handles: list[Patch], ncol: int) -> None:
        self.fig.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(MARGIN_PX / WIDTH_PX - 0.01, self.y(px_from_top)),
            ncol=ncol,
            prop=font(SMALL_SIZE),
            frameon=False,
            handlelength=1.4,
            handleheight=1.1,
            columnspacing=1.2,
            borderaxespad=0,
        )

    def x_axis(
        self, ticks: Sequence[float], labels: Sequence[str], xlim: tuple[float, float], title: str
    ) -> None:
        self.ax.set_xlim(*xlim)
        self.ax.set_xticks(list(ticks), labels=list(labels), fontproperties=font(SMALL_SIZE))
        self.ax.tick_params(axis="x", colors=MUTED_COLOUR, length=6)
        self.ax.spines["bottom"].set_color(MUTED_COLOUR)
        self.ax.set_xlabel(title, fontproperties=font(SMALL_SIZE), color=MUTED_COLOUR, labelpad=8)


def _title_block(title: str, subtitle: str) -> tuple[str, str, int]:
    """Wrapped title and subtitle and the pixels they take."""
    title_text = fit(title, font(TITLE_SIZE, bold=True), WIDTH_PX - 2 * MARGIN_PX, 3)
    sub_text = fit(subtitle, font(SMALL_SIZE), WIDTH_PX - 2 * MARGIN_PX, 3) if subtitle else ""
    px = MARGIN_PX + 40 * (title_text.count("\n") + 1) + 10
    if sub_text:
        px += 32 * (sub_text.count("\n") + 1) + 6
    return title_text, sub_text, px


def _draw_titles(canvas: _Canvas, title_text: str, sub_text: str) -> None:
    canvas.header_text(MARGIN_PX, title_text, TITLE_SIZE, bold=True)
    if sub_text:
        canvas.header_text(
            MARGIN_PX + 40 * (title_text.count("\n") + 1) + 10, sub_text, SMALL_SIZE, colour=MUTED_COLOUR
        )


# --- ranking ---------------------------------------------------------------------------------------

RANK_ROW_PX = 78
RANK_BAR_PX = 50
RANK_LEFT_PX = 440
RANK_PER_PAGE = 25


def _pending_marks(rows: Sequence[RankRow]) -> dict[Decimal, str]:
    """A mark per amount of survey points pending ("*", "**", … largest first), for the bars."""
    amounts = sorted({r.survey_pending_max for r in rows if r.survey_pending_max > 0}, reverse=True)
    return {amount: "*" * (n + 1) for n, amount in enumerate(amounts)}


def _pending_footnote(marks: dict[Decimal, str], locale: str) -> str:
    """ "* chưa có kết quả điều tra XHH (20 điểm) · ** … (10 điểm)", "" when nothing is pending."""
    return " · ".join(f"{mark} {survey_pending(amount, locale)}" for amount, mark in marks.items())


def ranking_chart(
    title: str,
    rows: Sequence[RankRow],
    bands: Sequence[ClassBand] = DEFAULT_BANDS,
    locale: str = "vi",
    subtitle: str = "",
) -> bytes:
    """Horizontal bars, one per unit with a result in rank order (units not ranked last, grey,
    rank "–"), coloured by class, dashed lines at the band limits, the published index on each bar
    (marked * with a footnote while survey points are pending). All rows go on one image; use
    `ranking_chart_pages` for groups too large for one photo."""
    ordered = [r for r in rows if r.ranked and r.has_result] + [
        r for r in rows if not r.ranked and r.has_result
    ]
    marks = _pending_marks(ordered)
    subtitle = " · ".join(t for t in (subtitle, _pending_footnote(marks, locale)) if t)
    title_text, sub_text, title_px = _title_block(title, subtitle)
    legend_bands = list(bands)
    handles = [
        Patch(facecolor=band_colour(b, bands), label=_band_legend_label(b, bands, locale))
        for b in legend_bands
    ]
    if any(not r.ranked for r in ordered):
        handles.append(
            Patch(
                facecolor=NOT_RANKED_COLOUR, hatch="//", edgecolor="white", label=label("not_ranked", locale)
            )
        )
    legend_rows = math.ceil(len(handles) / 3)
    band_strip_px = 40
    header_px = title_px + legend_rows * 38 + 18 + band_strip_px
    plot_px = max(1, len(ordered)) * RANK_ROW_PX
    canvas = _Canvas(header_px, plot_px, footer_px=96, left_px=RANK_LEFT_PX, right_px=36)
    _draw_titles(canvas, title_text, sub_text)
    canvas.legend(title_px + 4, handles, ncol=3)

    ax = canvas.ax
    label_x = blended_transform_factory(canvas.fig.transFigure, ax.transData)
    for position, row in enumerate(ordered):
        centre = position * RANK_ROW_PX + RANK_ROW_PX / 2
        colour = band_colour(row.band, bands) if row.band is not None else NOT_RANKED_COLOUR
        value = float(row.published or 0)
        ax.barh(
            centre,
            value,
            height=RANK_BAR_PX,
            color=colour,
            edgecolor="white" if not row.ranked else colour,
            hatch=None if row.ranked else "//",
            zorder=2,
        )
        rank_text = str(row.rank) if row.ranked and row.rank is not None else "–"
        ax.text(
            70 / WIDTH_PX,
            centre,
            rank_text,
            transform=label_x,
            ha="right",
            va="center",
            fontproperties=font(TEXT_SIZE, bold=True),
            color=TEXT_COLOUR,
        )
        ax.text(
            82 / WIDTH_PX,
            centre,
            fit(row.name, font(TEXT_SIZE), RANK_LEFT_PX - 82 - 16, 2),
            transform=label_x,
            ha="left",
            va="center",
            fontproperties=font(TEXT_SIZE),
            color=TEXT_COLOUR,
            parse_math=False,
            linespacing=1.18,
        )
        assert row.published is not None
        shown = fmt_index(row.published, locale) + marks.get(row.survey_pending_max, "")
        if value >= 17:
            ax.text(
                value - 1,
                centre,
                shown,
                ha="right",
                va="center",
                zorder=4,
                fontproperties=font(SMALL_SIZE, bold=True),
                color=text_colour_on(colour),
            )
        else:
            ax.text(
                value + 1,
                centre,
                shown,
                ha="left",
                va="center",
                zorder=4,
                fontproperties=font(SMALL_SIZE, bold=True),
                color=TEXT_COLOUR,
            )
        if position:
            ax.axhline(position * RANK_ROW_PX, color="#eeeeee", linewidth=1, zorder=0)

    top = blended_transform_factory(ax.transData, ax.transAxes)
    for band in bands:
        if 0 < band.min <= 100:
            x = float(band.min)
            ax.axvline(x, color=LINE_COLOUR, linewidth=1.4, linestyle=(0, (5, 4)), alpha=0.8, zorder=1)
            ax.text(
                x,
                1.0,
                _number(band.min),
                transform=top,
                ha="center",
                va="bottom",
                fontproperties=font(SMALL_SIZE, bold=True),
                color=LINE_COLOUR,
            )
    ticks = [0, 20, 40, 60, 80, 100]
    canvas.x_axis(ticks, [str(t) for t in ticks], (0, 100), label("index_axis", locale))
    if not ordered:
        ax.set_ylim(RANK_ROW_PX, 0)
    return to_png(canvas.fig)


def ranking_chart_pages(
    title: str,
    rows: Sequence[RankRow],
    bands: Sequence[ClassBand] = DEFAULT_BANDS,
    locale: str = "vi",
    subtitle: str = "",
    per_page: int = RANK_PER_PAGE,
) -> list[bytes]:
    """The ranking as one or more photos of at most `per_page` units (balanced: 120 communes make
    five pages of 24, not four of 25 and one of 20), titled "… (trang 2/5)"."""
    ordered = [r for r in rows if r.ranked and r.has_result] + [
        r for r in rows if not r.ranked and r.has_result
    ]
    pages = max(1, math.ceil(len(ordered) / max(1, per_page)))
    size = math.ceil(len(ordered) / pages) if ordered else 0
    images: list[bytes] = []
    for page in range(pages):
        chunk = ordered[page * size : (page + 1) * size]
        page_title = title if pages == 1 else f"{title} ({label('page_of', locale)} {page + 1}/{pages})"
        images.append(ranking_chart(page_title, chunk, bands, locale, subtitle))
    return images


# --- a unit's fields against the group ------------------------------------------------------------

PROFILE_BAR_PX = 34
PROFILE_GAP_PX = 26
PROFILE_LINE_PX = 30
UNIT_COLOUR = "#1f4e9c"
AVERAGE_COLOUR = "#9e9e9e"
PREVIOUS_COLOUR = "#7fc8c0"
WORSE_COLOUR = "#c0392b"
BETTER_COLOUR = "#1a7f3c"


def _block_heading(ax: Axes, y: float, text: str) -> None:
    """The bold name over a block of bars (a field of the profile, a group of the progress chart)."""
    ax.text(
        0,
        y,
        text,
        ha="left",
        va="top",
        fontproperties=font(SMALL_SIZE, bold=True),
        color=TEXT_COLOUR,
        parse_math=False,
        linespacing=1.1,
    )


def _no_value(ax: Axes, centre: float) -> None:
    """A dash where a bar has no value."""
    ax.text(1, centre, "–", ha="left", va="center", fontproperties=font(SMALL_SIZE), color=MUTED_COLOUR)


def unit_profile_chart(
    unit_name: str,
    comparisons: Sequence[FieldComparison],
    locale: str = "vi",
    subtitle: str = "",
) -> bytes:
    """Per field: the field's name, its difference to the group average (red when below), and bars
    for the unit's index, the group average and last year's index when known."""
    with_previous = any(c.previous_index is not None for c in comparisons)
    series: list[tuple[str, str]] = [("unit", UNIT_COLOUR), ("average", AVERAGE_COLOUR)]
    if with_previous:
        series.append(("previous", PREVIOUS_COLOUR))
    names = {
        "unit": clean(unit_name),
        "average": label("group_average", locale),
        "previous": label("previous", locale),
    }
    handles = [
        Patch(facecolor=colour, label=fit(names[key], font(SMALL_SIZE), 400, 1)) for key, colour in series
    ]
    title = f"{label('field_index', locale)}: {unit_name}"
    title_text, sub_text, title_px = _title_block(title, subtitle)
    header_px = title_px + 38 + 30

    blocks: list[tuple[str, int]] = []
    for c in comparisons:
        name = fit(f"{c.code}. {c.name}" if c.code else c.name, font(SMALL_SIZE, bold=True), 640, 2)
        blocks.append((name, name.count("\n") + 1))
    plot_px = (
        sum(
            PROFILE_GAP_PX + lines * PROFILE_LINE_PX + 6 + len(series) * PROFILE_BAR_PX for _, lines in blocks
        )
        + 10
    )
    canvas = _Canvas(header_px, max(plot_px, 60), footer_px=96, left_px=MARGIN_PX + 6, right_px=40)
    _draw_titles(canvas, title_text, sub_text)
    canvas.legend(title_px + 4, handles, ncol=len(handles))
    ax = canvas.ax
    y = 0.0
    for comparison, (name, lines) in zip(comparisons, blocks, strict=True):
        y += PROFILE_GAP_PX
        _block_heading(ax, y, name)
        delta = comparison.delta_vs_group
        if delta is not None:
            sign = "+" if delta > 0 else "−" if delta < 0 else "±"
            colour = WORSE_COLOUR if delta < 0 else BETTER_COLOUR if delta > 0 else MUTED_COLOUR
            shown = f"{sign}{fmt_index(abs(delta), locale)} {label('vs_group', locale)}"
            ax.text(
                118,
                y + (lines - 1) * PROFILE_LINE_PX,
                shown,
                ha="right",
                va="top",
                fontproperties=font(SMALL_SIZE, bold=True),
                color=colour,
            )
        y += lines * PROFILE_LINE_PX + 6
        values = {
            "unit": comparison.index,
            "average": comparison.group_average,
            "previous": comparison.previous_index,
        }
        for key, colour in series:
            value = values[key]
            centre = y + PROFILE_BAR_PX / 2
            if value is not None:
                ax.barh(centre, float(value), height=PROFILE_BAR_PX - 6, color=colour, zorder=2)
                ax.text(
                    float(value) + 1,
                    centre,
                    fmt_index(value, locale),
                    ha="left",
                    va="center",
                    fontproperties=font(SMALL_SIZE, bold=key == "unit"),
                    color=TEXT_COLOUR,
                )
            else:
                _no_value(ax, centre)
            y += PROFILE_BAR_PX
    ax.set_ylim(max(plot_px, 60), 0)
    for x in (20, 40, 60, 80, 100):
        ax.axvline(x, color="#e0e0e0", linewidth=1, zorder=0)
    ticks = [0, 20, 40, 60, 80, 100]
    canvas.x_axis(ticks, [str(t) for t in ticks], (0, 118), label("index_axis", locale))
    canvas.ax.spines["bottom"].set_bounds(0, 100)
    return to_png(canvas.fig)


# --- progress of the cycle -------------------------------------------------------------------------

PROGRESS_STATES: tuple[tuple[str, str], ...] = (
    ("not_started", "#c9ccd1"),
    ("in_progress", "#f1c40f"),
    ("submitted", "#2e86c1"),
    ("appraised", "#1a7f3c"),
)
PROGRESS_BAR_PX = 56
PROGRESS_PLOT_PX = WIDTH_PX - MARGIN_PX - 6 - 40


def progress_chart(
    title: str,
    counts: Sequence[ProgressCounts],
    locale: str = "vi",
    subtitle: str = "",
) -> bytes:
    """One 100 % stacked bar per group (not started / in progress / submitted / appraised), the
    number of units written in each part wide enough to hold it, the group's size in its label."""
    title_text, sub_text, title_px = _title_block(title, subtitle)
    handles = [Patch(facecolor=colour, label=label(key, locale)) for key, colour in PROGRESS_STATES]
    header_px = title_px + 2 * 38 + 20
    blocks = [
        fit(
            f"{c.group_name} ({c.total} {label('units_count', locale)})",
            font(SMALL_SIZE, bold=True),
            PROGRESS_PLOT_PX,
            2,
        )
        for c in counts
    ]
    plot_px = (
        sum(PROFILE_GAP_PX + (b.count("\n") + 1) * PROFILE_LINE_PX + 4 + PROGRESS_BAR_PX for b in blocks) + 10
    )
    canvas = _Canvas(
        header_px,
        max(plot_px, 60),
        footer_px=96,
        left_px=MARGIN_PX + 6,
        right_px=WIDTH_PX - MARGIN_PX - 6 - PROGRESS_PLOT_PX,
    )
    _draw_titles(canvas, title_text, sub_text)
    canvas.legend(title_px + 4, handles, ncol=2)
    ax = canvas.ax
    y = 0.0
    for group, text in zip(counts, blocks, strict=True):
        y += PROFILE_GAP_PX
        _block_heading(ax, y, text)
        y += (text.count("\n") + 1) * PROFILE_LINE_PX + 4
        centre = y + PROGRESS_BAR_PX / 2
        left = 0.0
        total = group.total
        for key, colour in PROGRESS_STATES:
            count = int(getattr(group, key))
            if total <= 0 or count <= 0:
                continue
            share = 100 * count / total
            ax.barh(
                centre,
                share,
                left=left,
                height=PROGRESS_BAR_PX - 6,
                color=colour,
                edgecolor="white",
                linewidth=1.5,
                zorder=2,
            )
            if share * PROGRESS_PLOT_PX / 100 >= 16 * len(str(count)) + 14:
                ax.text(
                    left + share / 2,
                    centre,
                    str(count),
                    ha="center",
                    va="center",
                    zorder=3,
                    fontproperties=font(SMALL_SIZE, bold=True),
                    color=text_colour_on(colour),
                )
            left += share
        if total <= 0:
            _no_value(ax, centre)
        y += PROGRESS_BAR_PX
    ax.set_ylim(max(plot_px, 60), 0)
    ticks = [0, 25, 50, 75, 100]
    canvas.x_axis(ticks, [f"{t}%" for t in ticks], (0, 100), label("share_axis", locale))
    return to_png(canvas.fig)


__all__ = [
    "DPI",
    "MAX_HEIGHT_PX",
    "band_colour",
    "progress_chart",
    "ranking_chart",
    "ranking_chart_pages",
    "unit_profile_chart",
]
