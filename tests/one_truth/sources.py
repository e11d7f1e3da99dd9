"""Every screen and export that shows a person a figure, read as the person reads it.

Each figure source is one function registered with `@figure_source`: it renders what a person gets
(chat texts, chart figures, XLSX cells, CLI output, notifications) for the world and returns, per unit
code, the figures it shows, by the names below. A figure shown in Vietnamese ("66,07") is compared
to the cent ("66.07"); a class by its Vietnamese name; "-" means "shown as absent" (no index, no
class, no rank).

Figure names (result basis unless prefixed "self."):
    index, class, rank, points, max, pending          the published index, its class, the rank, the
                                                      points, the applicable max, the survey points
                                                      pending ("0.00" when none)
    progress.points, progress.max                     the points so far of a sheet without a result
    self.index, self.points, self.max, self.pending   the same on the units' own scores
    field:C:index, field:C:avg, field:C:points, field:C:max, self.field:C:points, self.field:C:max
    gaps                                              the "fix first" item codes, in order
    award                                             proposed | council | -
    item:C:self, item:C:a1, item:C:a2                 an item's points per round

A new screen or export adds one function here; the test compares every figure it returns with the
rule (the oracle in world.py) and so with every other source. `REQUIRED` lists figures a source must
show for each unit it covers: a screen that leaves out a figure it should show fails too.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from openpyxl import load_workbook
from sqlalchemy import select

from bot.db.models import Outbox
from bot.i18n import get_i18n
from bot.services import appraisal, leader, leader_reports
from bot.services import assessment as officer
from bot.services.errors import ServiceError
from bot.ui import appraiser_view, leader_view, officer_view
from tests.one_truth.world import FIELDS, NONE, SELF_SCORED, YEAR, UnitState, World, cents

Figures = dict[str, dict[str, str]]  # unit code → figure name → value
SourceFn = Callable[[World], Awaitable[Figures]]


@dataclass(frozen=True)
class Source:
    name: str
    fn: SourceFn
    required: frozenset[str]  # figures it must show for every unit it reports


SOURCES: list[Source] = []


def figure_source(name: str, required: tuple[str, ...] = ()) -> Callable[[SourceFn], SourceFn]:
    def register(fn: SourceFn) -> SourceFn:
        SOURCES.append(Source(name, fn, frozenset(required)))
        return fn

    return register


@contextlib.contextmanager
def vietnamese() -> Iterator[None]:
    i18n = get_i18n()
    with i18n.context(), i18n.use_locale("vi"):
        yield


def number(text: str) -> str:
    """ "66,07" / "1,5" / "2" → "66.07" / "1.50" / "2.00"."""
    return cents(Decimal(text.strip().replace(",", ".")))


def cell(value: object) -> str:
    if value is None or value == "":
        return NONE
    if isinstance(value, int | float):
        return cents(Decimal(repr(value)))
    return str(value)


PENDING = re.compile(r"chưa có kết quả điều tra XHH\s+\(([\d,]+)\s+điểm\)")


def pending_in(text: str) -> str:
    found = PENDING.search(text)
    return number(found.group(1)) if found else "0.00"


def strip_tags(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


CLASSES = ("Xuất sắc", "Tốt", "Khá", "Trung bình", "Yếu")


def class_in(parts: list[str]) -> str:
    return next((p for p in parts if p in CLASSES), NONE)


def by_name(world: World) -> dict[str, UnitState]:
    return {u.name: u for u in world.units}


# ----------------------------------------------------------------------------- officer and unit head


def _review(text: str) -> dict[str, str]:
    text = strip_tags(text)
    found: dict[str, str] = {}
    total = re.search(r"Tổng điểm: ([\d,]+) / ([\d,]+) điểm", text)
    index = re.search(r"^Chỉ số: ([\d,]+)(.*)$", text, re.M)
    assert total and index, text
    found["self.points"], found["self.max"] = number(total.group(1)), number(total.group(2))
    found["self.index"], found["self.pending"] = number(index.group(1)), pending_in(index.group(2))
    for line in re.finditer(r"^(\d+)\. [^:\n]+: ([\d,]+)/([\d,]+)", text, re.M):
        found[f"self.field:{line.group(1)}:points"] = number(line.group(2))
        found[f"self.field:{line.group(1)}:max"] = number(line.group(3))
    return found


async def _reviews(world: World, head: bool) -> Figures:
    result: Figures = {}
    with vietnamese():
        for state in world.units:
            sheet = await officer.load_sheet(world.session, state.head if head else state.officer, state.aid)
            result[state.code] = _review(officer_view.review_text(sheet, officer.review(sheet), "vi"))
    return result


REVIEW = ("self.points", "self.max", "self.index", "self.pending")


@figure_source("officer /review", REVIEW)
async def officer_review(world: World) -> Figures:
    return await _reviews(world, head=False)


@figure_source("unit head /review", REVIEW)
async def head_review(world: World) -> Figures:
    return await _reviews(world, head=True)


# ----------------------------------------------------------------------------- appraiser


def _after(label: str, text: str) -> str | None:
    found = re.search(rf"{label}:? [^,\n]*, ([\d,—-]+) điểm", text)
    if found is None:
        return None
    return NONE if found.group(1) in ("—", "-") else number(found.group(1))


@figure_source("appraiser item screen")
async def appraiser_items(world: World) -> Figures:
    """The appraiser's queue lists items, not figures; each item's screen shows its points."""
    result: Figures = {}
    with vietnamese():
        for state in world.units:
            if not state.submitted:
                continue
            shown: dict[str, str] = {}
            for code in SELF_SCORED:
                ctx = await appraisal.open_item(world.session, world.appraiser, state.aid, code)
                text = strip_tags(appraiser_view.item_text(ctx, "vi"))
                own = re.search(r"Đơn vị tự chấm: ([\d,—-]+) điểm", text)
                if own:
                    shown[f"item:{code}:self"] = NONE if own.group(1) in ("—", "-") else number(own.group(1))
                if (first := _after("Thẩm định lần 1", text)) is not None:
                    shown[f"item:{code}:a1"] = first
                if (final := _after("Lần cuối", text)) is not None:
                    shown[f"item:{code}:a2"] = final
            result[state.code] = shown
    return result


# ----------------------------------------------------------------------------- leader /rank, /unit, /awards


def _rank_figures(world: World, pages: list[str]) -> Figures:
    names = by_name(world)
    result: Figures = {}
    for line in strip_tags("\n".join(pages)).splitlines():
        ranked = re.match(r"^(\d+)\. (.+?) — ([\d,]+)(.*)$", line)
        apart = re.match(r"^• (.+?) — (.*)$", line)
        if ranked and ranked.group(2) in names:
            parts = [p.strip() for p in ranked.group(4).split("·")]
            result[names[ranked.group(2)].code] = {
                "rank": ranked.group(1),
                "index": number(ranked.group(3)),
                "class": class_in(parts),
                "pending": pending_in(ranked.group(4)),
            }
        elif apart and apart.group(1) in names:
            rest = apart.group(2)
            head = re.match(r"^([\d,]+)(.*)$", rest)
            figures = {"rank": NONE, "index": NONE, "class": class_in([p.strip() for p in rest.split("·")])}
            if head:
                figures["index"], figures["pending"] = number(head.group(1)), pending_in(head.group(2))
            result[names[apart.group(1)].code] = figures
    return result


async def _rank(world: World, engine: leader.Engine) -> Figures:
    with vietnamese():
        view = await leader.group_ranking(world.session, world.leader, world.group.id, engine=engine)
        return _rank_figures(world, leader_view.rank_pages(view, "vi"))


RANK = ("rank", "index", "class")


@figure_source("leader /rank", RANK)
async def leader_rank(world: World) -> Figures:
    return await _rank(world, "core")


@figure_source("leader /rank (SQL path)", RANK)
async def leader_rank_sql(world: World) -> Figures:
    return await _rank(world, "sql")


def _unit_figures(text: str) -> dict[str, str]:
    text = strip_tags(text)
    found: dict[str, str] = {}
    head = re.search(r"^Chỉ số: ([\d,]+)(.*)$", text, re.M)
    none = re.search(r"^Chưa có chỉ số: (.*)$", text, re.M)
    points = re.search(
        r"^Điểm: ([\d,]+)/([\d,]+) điểm tối đa áp dụng(?: \(tự đánh giá: ([\d,]+)\))?", text, re.M
    )
    if head:
        parts = [p.strip() for p in head.group(2).split("·")]
        found["index"], found["class"] = number(head.group(1)), class_in(parts)
        rank = re.search(r"xếp hạng (\d+)/\d+", head.group(2))
        found["rank"] = rank.group(1) if rank else NONE
        found["pending"] = pending_in(head.group(2))
        key = ""
    else:
        assert none, text
        found["index"] = found["class"] = found["rank"] = NONE
        found["pending"] = pending_in(none.group(1))
        key = "progress."
    assert points, text
    found[f"{key}points"], found[f"{key}max"] = number(points.group(1)), number(points.group(2))
    if points.group(3):
        found["self.points"] = number(points.group(3))
    for line in re.finditer(r"^• (\d+)\. ([^\n]*)$", text, re.M):
        code, rest = line.group(1), line.group(2)
        parts = [p.strip() for p in rest.split("·")]
        pts = re.match(r"([\d,]+)/([\d,]+) điểm", parts[1])
        assert pts, line.group(0)
        found[f"field:{code}:points"], found[f"field:{code}:max"] = number(pts.group(1)), number(pts.group(2))
        index = next((p for p in parts[2:] if re.fullmatch(r"[\d,]+", p)), None)
        found[f"field:{code}:index"] = number(index) if index else NONE
        average = next((re.match(r"TB khối ([\d,]+)", p) for p in parts if p.startswith("TB khối")), None)
        found[f"field:{code}:avg"] = number(average.group(1)) if average else NONE
    gaps = text.partition("cần khắc phục trước")[2]
    found["gaps"] = ",".join(re.findall(r"^• ([\w.]+) ", gaps, re.M))
    return found


async def _units(world: World, engine: leader.Engine) -> Figures:
    with vietnamese():
        return {
            state.code: _unit_figures(
                leader_view.unit_text(
                    await leader.unit_detail(world.session, world.leader, state.unit_id, engine=engine), "vi"
                )
            )
            for state in world.units
        }


UNIT = ("index", "class", "rank", "pending", "gaps")


@figure_source("leader /unit", UNIT)
async def leader_unit(world: World) -> Figures:
    return await _units(world, "core")


@figure_source("leader /unit (SQL path)", UNIT)
async def leader_unit_sql(world: World) -> Figures:
    return await _units(world, "sql")


@figure_source("officer /unit (own unit)", ("index", "class", "pending"))
async def own_unit(world: World) -> Figures:
    """A unit's own people: their sheet without the group's rank and averages before publication."""
    result: Figures = {}
    with vietnamese():
        for state in world.units:
            detail = await leader.unit_detail(world.session, state.officer, state.unit_id)
            figures = _unit_figures(leader_view.unit_text(detail, "vi"))
            if not detail.shows_group:  # rank and averages are not shown to them yet
                figures = {k: v for k, v in figures.items() if k != "rank" and not k.endswith(":avg")}
            result[state.code] = figures
    return result


@figure_source("leader /awards")
async def leader_awards(world: World) -> Figures:
    with vietnamese():
        groups = await leader.group_awards(world.session, world.leader, YEAR)
        text = strip_tags(leader_view.awards_text(YEAR, groups, "vi"))
    names = by_name(world)
    result: Figures = {state.code: {"award": NONE} for state in world.units}
    council = False
    for line in text.splitlines():
        council = council or "Hội đồng xem xét quyết định" in line
        found = re.match(r"^\d+\. (.+?) — [\d,]+$", line)
        if found and found.group(1) in names:
            result[names[found.group(1)].code]["award"] = "council" if council else "proposed"
    return result


# ----------------------------------------------------------------------------- charts


@contextlib.contextmanager
def captured_figures() -> Iterator[list[Figure]]:
    """The matplotlib figures the chart builders draw (instead of their PNG bytes)."""
    import bot.reports.charts as charts

    figures: list[Figure] = []
    original = charts.to_png

    def keep(fig: Figure) -> bytes:
        figures.append(fig)
        return b""

    charts.to_png = keep  # type: ignore[assignment]
    try:
        yield figures
    finally:
        charts.to_png = original  # type: ignore[assignment]


def _texts(fig: Figure) -> list[tuple[float, float, str]]:
    ax = fig.axes[0]
    return [(t.get_position()[0], t.get_position()[1], t.get_text()) for t in ax.texts]


@figure_source("ranking chart", ("index", "class", "rank"))
async def ranking_chart(world: World) -> Figures:
    from matplotlib.colors import to_hex

    from bot.reports.chart_style import BAND_COLOURS

    colours = {to_hex(c): code for code, c in BAND_COLOURS.items()}
    names = {"xuat_sac": "Xuất sắc", "tot": "Tốt", "kha": "Khá", "trung_binh": "Trung bình", "yeu": "Yếu"}
    view = await leader.group_ranking(world.session, world.leader, world.group.id)
    with captured_figures() as figures:
        leader_reports.ranking_pngs_of(view, "vi")
    by = by_name(world)
    result: Figures = {state.code: {"index": NONE, "class": NONE, "rank": NONE} for state in world.units}
    for fig in figures:
        texts = _texts(fig)
        subtitle = " ".join(" ".join(t.get_text() for t in fig.texts).split())
        marks = {
            m: number(p)
            for m, p in re.findall(r"(\*+) chưa có kết quả điều tra XHH\s+\(([\d,]+)\s+điểm\)", subtitle)
        }
        for bar in fig.axes[0].patches:
            if not isinstance(bar, Rectangle):
                continue
            centre = bar.get_y() + bar.get_height() / 2
            row = [text for _x, y, text in texts if abs(y - centre) < 1e-6]
            name = next((t.replace("\n", " ") for t in row if t.replace("\n", " ") in by), None)
            if name is None:
                continue
            value = next(t for t in row if re.fullmatch(r"\d+,\d\d\**", t))
            rank = next((t for t in row if re.fullmatch(r"\d+|–", t)), "–")
            mark = value[len(value.rstrip("*")) :]
            result[by[name].code] = {
                "index": number(value.rstrip("*")),
                "class": names.get(colours.get(to_hex(bar.get_facecolor()), ""), NONE),
                "rank": NONE if rank == "–" else rank,
                "pending": marks.get(mark, "?") if mark else "0.00",
            }
    return result


@figure_source("unit profile chart")
async def profile_chart(world: World) -> Figures:
    """Per field: the unit's index and the group average drawn as bars with their labels."""
    result: Figures = {}
    for state in world.units:
        detail = await leader.unit_detail(world.session, world.leader, state.unit_id)
        with captured_figures() as figures:
            try:
                leader_reports.profile_png_of(detail, "vi")
            except ServiceError:  # no result: nothing is drawn
                result[state.code] = {f"field:{f}:index": NONE for f in FIELDS}
                continue
        texts = sorted(_texts(figures[0]), key=lambda t: t[1])
        shown: dict[str, str] = {}
        field: str | None = None
        values: list[str] = []
        for _x, _y, text in [*texts, (0.0, 1e9, "0. end")]:
            heading = re.match(r"^(\d+)\. ", text)
            if heading:
                if field is not None and len(values) >= 2:
                    shown[f"field:{field}:index"] = NONE if values[0] == "–" else number(values[0])
                    shown[f"field:{field}:avg"] = NONE if values[1] == "–" else number(values[1])
                field, values = heading.group(1), []
            elif re.fullmatch(r"[\d,]+|–", text):
                values.append(text)
        result[state.code] = shown
    return result


# ----------------------------------------------------------------------------- XLSX


def _header(ws: Any, row: int) -> dict[str, int]:
    return {str(c.value): c.column - 1 for c in ws[row] if c.value}


@figure_source("XLSX summary", ("index", "class", "rank"))
async def xlsx_summary(world: World) -> Figures:
    out = await leader_reports.summary_xlsx(world.session, world.leader, YEAR, [world.group.id])
    ws = load_workbook(io.BytesIO(out.data)).worksheets[0]
    col = _header(ws, 4)
    names = by_name(world)
    result: Figures = {}
    for row in ws.iter_rows(min_row=5, values_only=True):
        name = row[col["Đơn vị"]]
        if name not in names:
            continue
        index = cell(row[col["Chỉ số CCHC"]])
        rank = row[col["Xếp hạng"]]
        figures = {
            "index": index,
            "class": cell(row[col["Xếp loại"]]),
            "rank": str(rank) if isinstance(rank, int) else NONE,
        }
        if index != NONE:
            figures["points"] = cell(row[col["Điểm thẩm định"]])
            figures["self.points"] = cell(row[col["Điểm tự đánh giá"]])
            figures["pending"] = pending_in(str(row[col["Ghi chú"]] or ""))
        elif row[col["Điểm thẩm định"]] is not None:
            figures["points"] = cell(row[col["Điểm thẩm định"]])  # points shown without an index
        result[names[str(name)].code] = figures
    return result


@figure_source("XLSX unit", ("index", "class", "pending", "rounds"))
async def xlsx_unit(world: World) -> Figures:
    result: Figures = {}
    for state in world.units:
        out = await leader_reports.unit_xlsx(world.session, world.leader, state.unit_id, YEAR)
        ws = load_workbook(io.BytesIO(out.data)).active
        col = _header(ws, 4)
        counted = col["Điểm cuối cùng"]
        figures: dict[str, str] = {"pending": "0.00"}
        rounds = {"self": "Tự đánh giá", "a1": "Thẩm định lần 1", "a2": "Thẩm định lần 2"}
        shown_rounds = {key: col[label] for key, label in rounds.items() if label in col}
        for row in ws.iter_rows(min_row=5, values_only=True):
            code, label = row[0], str(row[1] or "")
            if code in SELF_SCORED:
                for key, c in shown_rounds.items():
                    figures[f"item:{code}:{key}"] = cell(row[c])
                figures["rounds"] = ",".join(shown_rounds)
            elif code is None and label == "Tổng cộng":
                totals = (cell(row[counted]), cell(row[col["Tự đánh giá"]]))
            elif code is None and label.startswith("Điểm tối đa áp dụng"):
                maximum = cell(row[col["Điểm tối đa"]])
            elif code is None and label.startswith("Điểm điều tra XHH chưa có kết quả"):
                figures["pending"] = cell(row[col["Điểm tối đa"]])
            elif code is None and label == "Chỉ số CCHC":
                value = row[counted]
                figures["index"] = cell(value) if isinstance(value, int | float) else NONE
                notes = " ".join(str(v) for v in row if isinstance(v, str))
                if figures["pending"] == "0.00":
                    figures["pending"] = pending_in(notes)
            elif code is None and label == "Xếp loại":
                figures["class"] = cell(row[counted])
        key = "" if figures.get("index", NONE) != NONE else "progress."
        figures[f"{key}points"], figures["self.points"] = totals
        figures[f"{key}max"] = maximum
        result[state.code] = figures
    return result


@figure_source("XLSX appraisal log")
async def xlsx_log(world: World) -> Figures:
    out = await leader_reports.appraisal_log_xlsx(world.session, world.leader, YEAR, world.group.id)
    ws = load_workbook(io.BytesIO(out.data)).active
    col = _header(ws, 3)
    names = by_name(world)
    result: Figures = {state.code: {} for state in world.units}
    for row in ws.iter_rows(min_row=4, values_only=True):
        unit, code, action = row[col["Đơn vị"]], row[col["Mã tiêu chí"]], str(row[col["Thao tác"]] or "")
        if unit not in names:
            continue
        key = "a2" if action.startswith("Thẩm định lần 2") else "a1"
        after = row[col["Sau"]]
        result[names[str(unit)].code][f"item:{code}:{key}"] = (
            cell(after) if not isinstance(after, str) else NONE
        )
    return result


# ----------------------------------------------------------------------------- CLI, notifications


@figure_source("cchc-bot rank --json", ("index", "class", "rank"))
async def cli_rank(world: World) -> Figures:
    from bot.cli import main

    def run() -> str:
        buffer = io.StringIO()
        argv = ["rank", "--year", str(YEAR), "--group", "G", "--json", "--database-url", world.db_url]
        with contextlib.redirect_stdout(buffer):
            assert main(argv) == 0
        return buffer.getvalue()

    rows = json.loads(await asyncio.to_thread(run))
    result: Figures = {}
    for row in rows:
        pending = row.get("survey_pending")  # absent: the JSON does not say an index is provisional
        result[row["code"]] = {
            "index": number(row["index"]) if row["index"] is not None else NONE,
            "class": row["class"] or NONE,
            "rank": str(row["rank"]) if row["rank"] is not None else NONE,
        }
        if row["index"] is not None:
            result[row["code"]]["pending"] = number(pending) if pending else "0.00"
    return result


@figure_source("published notification")
async def published_notice(world: World) -> Figures:
    rows = await world.session.scalars(select(Outbox).where(Outbox.kind == "published"))
    by_chat = {u.officer.telegram_id: u for u in world.units}
    result: Figures = {}
    for row in rows:
        state = by_chat.get(row.chat_id)
        if state is None:
            continue
        text = strip_tags(row.text)
        found = re.search(r": ([\d,]+) \((.+?)\), xếp hạng (\d+)/", text)
        flagged = re.search(r": ([\d,]+), không xếp hạng", text)
        if found:
            result[state.code] = {
                "index": number(found.group(1)),
                "class": found.group(2),
                "rank": found.group(3),
            }
        elif flagged:
            result[state.code] = {"index": number(flagged.group(1)), "class": NONE, "rank": NONE}
    return result
