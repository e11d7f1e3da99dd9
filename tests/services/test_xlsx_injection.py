"""Text people typed never becomes a live formula in an XLSX export (issue 13, defect 1).

A unit name from `units import`, an appraiser's Telegram name, a supplement note and an explanation
that start with "=" (or "+", "-", "@") are written as text: openpyxl reads them back as strings, the
cells carry Excel's quote prefix, and the text is exactly what was typed."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.criteria.xlsx import read_criteria_xlsx, write_criteria_xlsx
from bot.db.models import Period, PeriodStatus, Person
from bot.scoring.loader import parse_criteria_set
from bot.services import appraisal, explanation
from bot.services import leader_reports as reports
from bot.services.actor import load_actor
from bot.services.units import import_units
from tests.officer_seed import SMALL_SET
from tests.services.cycle_seed import SYSTEM, World, world

LINK = '=HYPERLINK("http://attacker.example/x","click")'
NAME = LINK
UNIT = '=HYPERLINK("http://attacker.example/u","Sở Nội vụ")'
NOTE = "=1+1 bổ sung văn bản"
EXPLANATION = "@SUM(A1:A9) giải trình"
OTHERS = ("+84 912 345 678", "-5 điểm do chậm")


def cells(data: bytes) -> list[tuple[Worksheet, object, str]]:
    """(sheet, value, data type) of every cell with a value."""
    book = load_workbook(BytesIO(data))
    return [(ws, c.value, c.data_type) for ws in book for row in ws.iter_rows() for c in row if c.value]


def assert_text_only(data: bytes, *expected: str) -> None:
    found = cells(data)
    formulas = [(ws.title, value) for ws, value, kind in found if kind == "f"]
    assert formulas == [], formulas
    texts = [str(value) for _, value, _ in found]
    for text in expected:
        assert any(text in t for t in texts), (text, texts)
    book = load_workbook(BytesIO(data))
    for ws in book:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
                    assert cell.quotePrefix, (ws.title, cell.coordinate, cell.value)


async def _hostile_world(session: AsyncSession, tmp_path: Path) -> World:
    w = await world(session)
    csv = tmp_path / "units.csv"
    csv.write_text(f'code,name,unit_type,group\nSNV,"{UNIT.replace(chr(34), chr(34) * 2)}",so,SO\n')
    await import_units(session, SYSTEM, csv)
    person = await session.scalar(select(Person).where(Person.telegram_id == 3001))
    assert person is not None
    person.full_name = NAME  # as Telegram gave it at registration
    await session.commit()
    period = await session.get(Period, w.base.period.id)
    assert period is not None
    period.status = PeriodStatus.APPRAISAL.value
    await session.commit()
    appraiser = await load_actor(session, 3001)
    assert appraiser is not None and appraiser.label == NAME
    await appraisal.request_supplement(session, appraiser, w.aid, "1.1.1", NOTE)
    await appraisal.adjust(session, appraiser, w.aid, "1.1.2", "50/50", OTHERS[1])
    await appraisal.accept(session, appraiser, w.aid, "1.2")
    return w


async def test_reports_write_typed_text_as_text(session: AsyncSession, tmp_path: Path) -> None:
    w = await _hostile_world(session, tmp_path)
    await explanation.save_reply(session, w.base.officer, w.aid, "1.1.1", EXPLANATION)  # the unit's answer
    # reaching the workbooks as a leader does
    log = await reports.appraisal_log_xlsx(session, w.leader)
    assert_text_only(log.data, NAME, UNIT, NOTE, OTHERS[1])
    unit = await reports.unit_xlsx(session, w.leader, w.snv_id)
    assert_text_only(unit.data, UNIT, NOTE, OTHERS[1])
    summary = await reports.summary_xlsx(session, w.leader)
    assert_text_only(summary.data, UNIT)


def test_criteria_template_writer_keeps_text(tmp_path: Path) -> None:
    data = {**SMALL_SET, "name": LINK, "notes": OTHERS[0]}
    fields = [dict(f) for f in data["fields"]]
    fields[0] = {**fields[0], "name": "=cmd|' /C calc'!A0"}
    data["fields"] = fields
    cs = parse_criteria_set(data, "hostile")
    out = tmp_path / "set.xlsx"
    write_criteria_xlsx(cs, out)
    assert_text_only(out.read_bytes(), LINK, "=cmd|' /C calc'!A0", OTHERS[0])
    again = parse_criteria_set(read_criteria_xlsx(out), str(out))  # and it reads back the same
    assert again.name == LINK and again.fields[0].name == "=cmd|' /C calc'!A0"
