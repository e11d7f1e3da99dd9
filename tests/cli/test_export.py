"""`cchc-bot export` on the demo province: XLSX read back with openpyxl and compared cell by cell with
the core's results; PNGs decoded and checked for size and non-blank content."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
from openpyxl import load_workbook
from PIL import Image, ImageStat
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import make_engine, make_sessionmaker
from bot.db.models import AuditLog, ItemScore, Unit
from bot.reports.xlsx import SUMMARY_HEADER_ROW, UNIT_HEADER_ROW, summary_headers, unit_headers
from bot.scoring.sheet import Basis
from bot.services import leader as svc
from bot.services.actor import Actor
from tests.cli.conftest import Run
from tests.services.leader_demo import DEMO_YEAR, LEADER, demo_template, demo_url  # noqa: F401

T = TypeVar("T")
TWO = Decimal("0.01")


def query(url: str, fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def go() -> T:
        engine = make_engine(url)
        try:
            async with make_sessionmaker(engine)() as session:
                return await fn(session)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def idx(value: Decimal) -> float:
    return float(value.quantize(TWO, rounding=ROUND_HALF_UP))


def pts(value: Decimal) -> float:
    return float(value) if value.normalize().as_tuple().exponent >= -3 else idx(value)  # type: ignore[operator]


def check_png(path: Path, min_height: int = 400) -> None:
    with Image.open(path) as image:
        image.load()
        assert image.format == "PNG"
        assert image.width >= 800 and image.height >= min_height
        stat = ImageStat.Stat(image.convert("L"))
        assert stat.stddev[0] > 20  # not a blank or single-colour image
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
        assert colours is None or len(colours) > 50


def test_summary_xlsx_equals_the_core(demo_url: str, run: Run, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "tong-hop.xlsx"
    code, stdout, err = run("export", "--database-url", demo_url, "--kind", "summary", "--out", str(out))
    assert code == 0, err
    assert stdout.strip() == str(out)

    async def views(session: AsyncSession) -> list[svc.RankingView]:
        return [
            await svc.group_ranking(session, LEADER, g.id, with_points=True)
            for g in await svc.list_groups(session)
        ]

    expected = query(demo_url, views)
    wb = load_workbook(out)
    assert [ws.title for ws in wb] == [v.group.name for v in expected]
    for ws, view in zip(wb, expected, strict=True):
        assert ws.freeze_panes == f"A{SUMMARY_HEADER_ROW + 1}"
        assert "tạm thời" in str(ws.cell(3, 1).value).lower()
        headers = [c.value for c in ws[SUMMARY_HEADER_ROW]]
        assert headers == summary_headers(True)
        body = [
            r for r in ws.iter_rows(min_row=SUMMARY_HEADER_ROW + 1, values_only=True) if isinstance(r[0], int)
        ]
        assert len(body) == len(view.rows)
        for cells, row in zip(body, view.rows, strict=True):
            _stt, name, self_p, appraised, index, band, rank, change, note = cells
            assert name == row.name
            if not row.has_result:  # not submitted: no points, no index, no class (never 0.00 Yếu)
                assert (self_p, appraised, index, band, rank) == (None, None, None, None, None)
                assert note in ("Chưa gửi báo cáo tự đánh giá", "Chưa bắt đầu tự đánh giá"), note
                continue
            assert self_p == pts(view.self_points[row.unit_id])
            assert appraised == pts(view.basis_points[row.unit_id])
            assert row.published is not None and index == float(row.published)
            assert band == (row.band.name_vi if row.band else None)
            assert (band is None) == (not row.ranked)
            assert rank == (row.rank if row.ranked else "Không xếp hạng")
            delta = view.changes.get(row.unit_id)
            assert change == (idx(delta) if delta is not None else None)
            pending = f"chưa có kết quả điều tra XHH ({row.survey_pending_max.normalize():f} điểm)"
            assert bool(note and "không xếp hạng" in note.lower()) == (not row.ranked)
            assert bool(note and pending in note) == (row.survey_pending_max > 0)


def test_unit_xlsx_equals_the_core(demo_url: str, run: Run, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "snv.xlsx"
    code, _out, err = run(
        "export", "--database-url", demo_url, "--kind", "unit", "--unit", "SNV", "--out", str(out)
    )
    assert code == 0, err

    async def data(session: AsyncSession) -> tuple[Any, Any, dict[str, ItemScore]]:
        unit = await session.scalar(select(Unit).where(Unit.code == "SNV"))
        assert unit is not None and unit.group_id is not None
        period = await svc.resolve_period(session)
        sheets = await svc.load_group_sheets(session, period, unit.group_id, [unit.id])
        assessment = sheets.assessments[unit.id]
        items = {i.item_code: i for i in sheets.items[assessment.id]}
        return sheets.sheet(unit, Basis.APPRAISED), sheets.sheet(unit, Basis.SELF), items

    final, own, items = query(demo_url, data)
    ws = load_workbook(out).active
    assert ws is not None
    assert [c.value for c in ws[UNIT_HEADER_ROW]] == unit_headers()
    assert ws.freeze_panes == f"A{UNIT_HEADER_ROW + 1}"
    rows = {r[0]: r for r in ws.iter_rows(min_row=UNIT_HEADER_ROW + 1, values_only=True) if r[0]}
    for code, leaf in final.leaves.items():
        _code, name, max_p, self_p, a1, comment1, a2, comment2, fin, _ev, na = rows[code]
        assert (name, max_p) == (leaf.name, pts(leaf.max_points))
        assert na == ("x" if leaf.na else None)
        own_leaf = own.leaves[code]
        assert self_p == (pts(own_leaf.points) if own_leaf.answered and not own_leaf.na else None)
        item = items.get(code)
        assert a1 == (pts(item.appraisal1_points) if item and item.appraisal1_points is not None else None)
        assert a2 == (pts(item.final_points) if item and item.final_points is not None else None)
        assert fin == (pts(leaf.points) if leaf.answered else None)
        assert comment1 == ((item.appraisal1_comment or None) if item else None)
        pending = "chưa có kết quả điều tra XHH" if leaf.pending else None
        assert comment2 == ((item.final_comment or pending) if item else pending)
    for field in final.fields:
        assert rows[field.code][8] == pts(field.points)
        assert rows[field.code][3] == pts(own.field_by_code(field.code).points)
    tail = {r[1]: r for r in ws.iter_rows(min_row=UNIT_HEADER_ROW + 1, values_only=True) if not r[0] and r[1]}
    assert tail["Tổng cộng"][8] == pts(final.points) and tail["Tổng cộng"][3] == pts(own.points)
    assert tail["Điểm tối đa áp dụng (trừ nội dung không áp dụng)"][2] == pts(final.applicable_max)
    assert tail["Chỉ số CCHC"][8] == idx(final.index)


def test_log_xlsx_lists_appraisal_decisions(demo_url: str, run: Run, tmp_path: Path) -> None:  # noqa: F811
    async def add_entries(session: AsyncSession) -> tuple[str, Decimal, Decimal]:
        """Two decisions as the appraisal service writes them (bot/services/appraisal.py `_finish`)."""
        item = await session.scalar(
            select(ItemScore).where(ItemScore.appraisal1_status == "adjusted").order_by(ItemScore.id).limit(1)
        )
        assert item is not None and item.self_points is not None and item.appraisal1_points is not None
        before = {"appraisal1_points": None, "self_points": str(item.self_points)}
        after = {"appraisal1_points": str(item.appraisal1_points), "appraisal1_comment": "Thiếu văn bản"}
        entity = f"{item.assessment_id}:{item.item_code}"
        actor = Actor(person_id=None, label="Đỗ Minh Tuấn")
        session.add(
            AuditLog(
                actor_label=actor.label,
                action="appraisal.first.adjust",
                entity="item_score",
                entity_id=entity,
                before=before,
                after=after,
            )
        )
        session.add(AuditLog(actor_label="x", action="unit.update", entity="unit", entity_id="1"))
        await session.commit()
        return item.item_code, item.self_points, item.appraisal1_points

    code_of_item, self_points, a1_points = query(demo_url, add_entries)
    out = tmp_path / "log.xlsx"
    code, _out, err = run("export", "--database-url", demo_url, "--kind", "log", "--out", str(out))
    assert code == 0, err
    ws = load_workbook(out).active
    assert ws is not None
    rows = [r for r in ws.iter_rows(min_row=4, values_only=True) if r[0] is not None]
    assert len(rows) == 1
    _at, actor, _unit, item_code, action, before, after, reason = rows[0]
    assert (actor, item_code, reason) == ("Đỗ Minh Tuấn", code_of_item, "Thiếu văn bản")
    assert action == "Thẩm định lần 1: Điều chỉnh điểm"
    assert (before, after) == (pts(self_points), pts(a1_points))


def test_chart_exports_are_real_images(demo_url: str, run: Run, tmp_path: Path) -> None:  # noqa: F811
    chart = tmp_path / "xa.png"
    code, stdout, err = run(
        "export", "--database-url", demo_url, "--kind", "chart", "--group", "XA", "--out", str(chart)
    )
    assert code == 0, err
    pages = [Path(line) for line in stdout.split()]
    assert pages[0] == chart and len(pages) == 1  # 25 units drawn (5 not started are left out)
    check_png(chart, min_height=1500)
    for kind, extra in (("profile", ["--unit", "SNV"]), ("progress", [])):
        out = tmp_path / f"{kind}.png"
        code, _out, err = run("export", "--database-url", demo_url, "--kind", kind, *extra, "--out", str(out))
        assert code == 0, err
        check_png(out)


@pytest.mark.parametrize(
    ("kind", "name", "extra"),
    [("progress", "x.xlsx", []), ("summary", "x.png", []), ("chart", "x", ["--group", "SO"]),
     ("unit", "snv.PNG", ["--unit", "SNV"])],
)  # fmt: skip
def test_export_format_follows_the_kind(
    demo_url: str,  # noqa: F811
    run: Run,
    tmp_path: Path,
    kind: str,
    name: str,
    extra: list[str],
) -> None:
    """A PNG under an .xlsx name (or the reverse) is refused in one sentence; nothing is written."""
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    out = tmp_path / name
    code, stdout, err = run("export", "--database-url", demo_url, "--kind", kind, *extra, "--out", str(out))
    assert code == 1 and stdout == ""
    assert f"--kind {kind} writes" in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
    ok = tmp_path / ("ok.png" if kind in ("progress", "chart") else "ok.xlsx")
    code, _out, err = run("export", "--database-url", demo_url, "--kind", kind, *extra, "--out", str(ok))
    assert code == 0, err
    assert ok.read_bytes()[:4] == (b"\x89PNG" if ok.suffix == ".png" else b"PK\x03\x04")


def test_export_refuses_incomplete_arguments(demo_url: str, run: Run, tmp_path: Path) -> None:  # noqa: F811
    code, _out, err = run(
        "export", "--database-url", demo_url, "--kind", "unit", "--out", str(tmp_path / "x.xlsx")
    )
    assert code == 1 and "--unit" in err
    code, _out, err = run(
        "export",
        "--database-url",
        demo_url,
        "--kind",
        "summary",
        "--group",
        "NOPE",
        "--out",
        str(tmp_path / "y.xlsx"),
    )
    assert code == 1 and "NOPE" in err
    assert not (tmp_path / "y.xlsx").exists()


@pytest.mark.parametrize("year", [DEMO_YEAR])
def test_year_option(demo_url: str, run: Run, tmp_path: Path, year: int) -> None:  # noqa: F811
    code, _out, err = run(
        "export",
        "--database-url",
        demo_url,
        "--year",
        str(year - 5),
        "--kind",
        "summary",
        "--out",
        str(tmp_path / "z.xlsx"),
    )
    assert code == 1 and str(year - 5) in err
