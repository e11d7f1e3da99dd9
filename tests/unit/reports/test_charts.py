"""Charts decoded as images: size, content, class colours, and Vietnamese text without missing glyphs.

Every chart is rendered with warnings turned into errors and with matplotlib's log captured, so a
"Glyph ... missing from font(s)" (the sign of a font without Vietnamese) fails the test; one test
shows that the check does catch a missing glyph.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import unicodedata
import warnings
from collections.abc import Callable
from decimal import Decimal
from io import BytesIO

import matplotlib
import pytest
from matplotlib.ft2font import FT2Font
from PIL import Image

from bot.reports.chart_style import (
    BAND_COLOURS,
    MAX_HEIGHT_PX,
    NOT_RANKED_COLOUR,
    REGULAR_FONT,
    WIDTH_PX,
    fit,
    font,
    text_px,
)
from bot.reports.chart_style import BOLD_FONT as BOLD_FONT_FILE
from bot.reports.charts import (
    PROGRESS_STATES,
    progress_chart,
    ranking_chart,
    ranking_chart_pages,
    unit_profile_chart,
)
from bot.reports.rows import ProgressCounts
from bot.scoring.gaps import FieldComparison
from bot.scoring.ranking import RankEntry, RankRow, rank_group

D = Decimal
VIETNAMESE_NAMES = ["Sở Nội vụ", "Xã Đắk Lắk", "Ủy ban nhân dân huyện Krông Búk", "Thừa Thiên Huế"]
ALPHABET = "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬĐÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ"


def render(caplog: pytest.LogCaptureFixture, build: Callable[[], bytes]) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with caplog.at_level(logging.WARNING, logger="matplotlib"):
            data = build()
    missing = [r.getMessage() for r in caplog.records if "missing" in r.getMessage().lower()]
    assert not missing, missing
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(BytesIO(data))
    image.load()
    return image.convert("RGB")


def colours(image: Image.Image) -> set[tuple[int, int, int]]:
    found = image.getcolors(maxcolors=1 << 22)
    assert found is not None
    # areas, not anti-aliasing fringes
    return {(c[0], c[1], c[2]) for count, c in found if count >= 200 and isinstance(c, tuple)}


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return (int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16))


def rows_for(indexes: list[str], names: list[str] | None = None) -> list[RankRow]:
    names = names or [f"{VIETNAMESE_NAMES[i % 4]} {i}" for i in range(len(indexes))]
    return rank_group(RankEntry(i, n, D(x)) for i, (n, x) in enumerate(zip(names, indexes, strict=True)))


def test_bundled_font_covers_every_vietnamese_letter() -> None:
    letters = ALPHABET + ALPHABET.lower() + "₫–…≥"
    for path in (REGULAR_FONT, BOLD_FONT_FILE):
        assert path.is_file() and path.is_relative_to(matplotlib.get_data_path())
        charmap = FT2Font(str(path)).get_charmap()
        assert [c for c in letters if ord(c) not in charmap] == []


def test_ranking_chart_colours_by_class_with_vietnamese_names(caplog: pytest.LogCaptureFixture) -> None:
    rows = rows_for(["95.5", "85", "70.25", "55", "30"], [*VIETNAMESE_NAMES, ALPHABET.lower()])
    image = render(caplog, lambda: ranking_chart("Xếp hạng Chỉ số CCHC năm 2025 — Khối sở", rows))
    assert image.width == WIDTH_PX
    assert 5 * 70 < image.height <= MAX_HEIGHT_PX
    present = colours(image)
    for code in ("xuat_sac", "tot", "kha", "trung_binh", "yeu"):
        assert rgb(BAND_COLOURS[code]) in present, code
    assert len(present) >= 8


def test_missing_glyphs_are_caught(caplog: pytest.LogCaptureFixture) -> None:
    """The guard used by every chart test fails on a name the font cannot draw."""
    rows = rows_for(["80"], ["Sở 漢字"])
    with pytest.raises(UserWarning, match="missing from font"):
        render(caplog, lambda: ranking_chart("x", rows))


def test_decomposed_names_render_like_composed_ones(caplog: pytest.LogCaptureFixture) -> None:
    names = [unicodedata.normalize("NFD", n) for n in VIETNAMESE_NAMES]
    composed = render(
        caplog, lambda: ranking_chart("t", rows_for(["91", "82", "70", "40"], VIETNAMESE_NAMES))
    )
    decomposed = render(caplog, lambda: ranking_chart("t", rows_for(["91", "82", "70", "40"], names)))
    assert composed.tobytes() == decomposed.tobytes()


def test_ranking_chart_grows_with_units_and_shows_unranked_apart(caplog: pytest.LogCaptureFixture) -> None:
    small = render(caplog, lambda: ranking_chart("t", rows_for(["91", "82"])))
    entries = [RankEntry(i, f"Sở {i}", D(60 + i)) for i in range(8)]
    entries.append(RankEntry(99, "Sở Y tế", D("71.4"), ranked=False, reason="Không trung thực"))
    larger = render(caplog, lambda: ranking_chart("t", rank_group(entries)))
    assert larger.height > small.height + 6 * 70
    assert rgb(NOT_RANKED_COLOUR) in colours(larger)
    assert rgb(NOT_RANKED_COLOUR) not in colours(small)


def test_large_group_is_split_into_balanced_pages(caplog: pytest.LogCaptureFixture) -> None:
    rows = rows_for([str(35 + (i * 7919 % 6400) / 100) for i in range(120)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pages = ranking_chart_pages("Khối xã, phường, thị trấn", rows)
    assert len(pages) == 5
    images = [Image.open(BytesIO(p)) for p in pages]
    assert {im.size for im in images} == {images[0].size}  # 24 units each
    assert all(im.width == WIDTH_PX and im.height <= MAX_HEIGHT_PX for im in images)
    one_page = ranking_chart_pages("t", rows[:10])
    assert len(one_page) == 1


def test_empty_ranking_still_renders(caplog: pytest.LogCaptureFixture) -> None:
    image = render(caplog, lambda: ranking_chart("Chưa có kết quả", []))
    assert image.width == WIDTH_PX


def test_unit_profile_chart(caplog: pytest.LogCaptureFixture) -> None:
    comparisons = [
        FieldComparison(
            "field", "1", "Chỉ đạo, điều hành cải cách hành chính", D("88.2"), D("84.1"), D(80), D("4.1")
        ),
        FieldComparison("field", "3", "Cải cách thủ tục hành chính", D("72.22"), D("81.7"), None, D("-9.48")),
        FieldComparison("field", "7", "Hiện đại hóa hành chính", D("61.1"), None, D(55), None),
    ]
    image = render(caplog, lambda: unit_profile_chart("Sở Nội vụ tỉnh Thừa Thiên Huế", comparisons))
    assert image.width == WIDTH_PX and 600 < image.height <= MAX_HEIGHT_PX
    present = colours(image)
    assert {rgb("#1f4e9c"), rgb("#9e9e9e"), rgb("#7fc8c0")} <= present
    without_history = [FieldComparison("field", "1", "Lĩnh vực", D(50), D(60), None, D(-10))]
    image = render(caplog, lambda: unit_profile_chart("Xã Đắk Lắk", without_history, locale="en"))
    assert rgb("#7fc8c0") not in colours(image)


def test_progress_chart(caplog: pytest.LogCaptureFixture) -> None:
    counts = [
        ProgressCounts("Khối sở, ban, ngành", 1, 4, 6, 9),
        ProgressCounts("Khối xã, phường, thị trấn", 37, 50, 21, 12),
        ProgressCounts("Khối chưa có đơn vị", 0, 0, 0, 0),
    ]
    image = render(caplog, lambda: progress_chart("Tiến độ đánh giá năm 2025", counts))
    assert image.width == WIDTH_PX
    present = colours(image)
    for _, colour in PROGRESS_STATES:
        assert rgb(colour) in present


def test_charts_leave_matplotlib_state_alone(caplog: pytest.LogCaptureFixture) -> None:
    before = dict(matplotlib.rcParams)
    render(caplog, lambda: ranking_chart("t", rows_for(["91"])))
    render(caplog, lambda: progress_chart("t", [ProgressCounts("a", 1, 1, 1, 1)]))
    assert dict(matplotlib.rcParams) == before


def test_charts_do_not_use_pyplot() -> None:
    """pyplot keeps global figures (a leak in a long-running bot) and picks a GUI backend."""
    code = (
        "import sys; from bot.reports.charts import ranking_chart; ranking_chart('t', []); "
        "print('matplotlib.pyplot' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_long_names_are_wrapped_then_cut_to_the_space_given() -> None:
    prop = font(19)
    assert fit("Sở Nội vụ", prop, 340, 2) == "Sở Nội vụ"
    long = "Ban Quản lý các khu công nghiệp và khu kinh tế tỉnh Thừa Thiên Huế"
    lines = fit(long, prop, 340, 2).split("\n")
    assert len(lines) == 2 and lines[1].endswith("…")
    assert all(text_px(line, prop) <= 340 for line in lines)
    assert lines[0].startswith("Ban Quản lý")
    word = fit("Xã" + "A" * 80, prop, 200, 2)
    assert word.endswith("…") and text_px(word, prop) <= 200
