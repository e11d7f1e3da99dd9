"""The appraiser's and the secretariat's screens at a real province's scale, in-process: 65 units on
the shipped 2025 sets (25 departments, 40 communes, every sheet submitted), 40 appraising agencies.

Every list pages with ◀ ▶ edited in place, every page is one message under 4096 characters, and
every button's callback data fits Telegram's 64 bytes (the emulator refuses a longer one with
BUTTON_DATA_INVALID, so pressing through the pages also proves it)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from bot.app import App
from bot.db.models import Assessment, Unit
from bot.services import cycle
from bot.ui.paging import PAGE_SIZE
from bot.ui.text import TELEGRAM_TEXT_LIMIT
from tests.bot.harness import BotClient, Seeder, register
from tests.bot.officer_driver import Officer, buttons, text_of
from tests.services.cycle_seed import SYSTEM, province

DEPARTMENTS, COMMUNES = 25, 40
UNITS = DEPARTMENTS + COMMUNES
PAGES = -(-UNITS // PAGE_SIZE)  # 4
JSON = dict[str, Any]


async def _province(seed: Seeder, extra_agencies: int = 0) -> dict[str, int]:
    """Seeds the province; returns unit code → assessment id."""
    async with seed.session() as s:
        await province(s, departments=DEPARTMENTS, communes=COMMUNES, people=False, submitted=True)
    for i in range(1, extra_agencies + 1):
        await seed.agency(f"TD{i:02d}", f"Sở Thử nghiệm Thẩm định Chuyên ngành số {i:02d}")
    async with seed.session() as s:
        rows = await s.execute(
            select(Unit.code, Assessment.id).join(Assessment, Assessment.unit_id == Unit.id)
        )
        return {code: aid for code, aid in rows}


def check(message: JSON) -> JSON:
    """One screen: one message under the text limit, every button's data within 64 bytes."""
    assert len(text_of(message)) < TELEGRAM_TEXT_LIMIT
    for b in buttons(message):
        assert len(str(b["callback_data"]).encode()) <= 64, b
    return message


def page_label(message: JSON) -> str | None:
    """ "2/4" from the ◀ n/N ▶ row, None when the list fits one page."""
    labels = [str(b["text"]) for b in buttons(message) if re.fullmatch(r"\d+/\d+", str(b["text"]))]
    return labels[0] if labels else None


def showing(label: str) -> Callable[[JSON], bool]:
    """A wait predicate: the screen shows page `label` ("2/4")."""
    return lambda message: page_label(message) == label


async def page_through(person: Officer, first: JSON, prefix: str) -> list[str]:
    """Press ▶ until the last page; every page is checked and edited in place. Returns the
    callback data starting with `prefix` seen on all pages, in order."""
    seen: list[str] = []
    screen = check(first)
    message_id = screen["message_id"]
    pages = int((page_label(screen) or "1/1").split("/")[1])
    for number in range(1, pages + 1):
        assert page_label(screen) in (f"{number}/{pages}", None)
        seen += [
            str(b["callback_data"]) for b in buttons(screen) if str(b["callback_data"]).startswith(prefix)
        ]
        if number < pages:
            screen = check(await person.press("▶", expect=showing(f"{number + 1}/{pages}")))
            assert screen["message_id"] == message_id  # edited in place, not a new message
    assert not any(b["text"] == "▶" for b in buttons(screen))
    return seen


async def test_pending_pages_through_every_unit(bot: App, client: BotClient, seed: Seeder) -> None:
    aids = await _province(seed)
    nv = Officer(client, await register(client, None, "appraiser", agency_code="SNV"), "SNV")
    home = await nv.say("/pending", expect="Danh sách chờ thẩm định")
    assert page_label(home) == f"1/{PAGES}" and "Trang 1/4 (1–20 trên tổng số 65)" in text_of(home)
    units = await page_through(nv, home, "au:")
    assert sorted(units) == sorted(f"au:{aid}" for aid in aids.values())  # each unit once
    # back: ◀ to the third page, open a unit there, go through its items, and back to that page
    await nv.press("◀", expect=showing(f"3/{PAGES}"))
    on_page_3 = [
        str(b["callback_data"]) for b in buttons(nv.screen or {}) if str(b["callback_data"]).startswith("au:")
    ]
    aid = int(on_page_3[0].split(":")[1])
    item = check(await nv.press(on_page_3[0], expect="Điểm tối đa"))
    for _ in range(3):
        item = check(await nv.press("✅ Công nhận", expect=lambda m: "Đã công nhận" in text_of(m)))
    assert all(len(str(b["callback_data"]).encode()) <= 64 for b in buttons(item))
    back = check(await nv.press(f"ap:0:{aid}", expect=lambda m: page_label(m) is not None))
    assert page_label(back) == f"3/{PAGES}"
    assert f"au:{aid}" in {str(b["callback_data"]) for b in buttons(back)}


async def test_survey_pages_through_every_unit(bot: App, client: BotClient, seed: Seeder) -> None:
    await _province(seed)
    sec = Officer(client, await register(client, None, "secretariat"), "secretariat")
    home = await sec.say("/survey", expect="Kết quả điều tra")
    units = await page_through(sec, home, "ss:unit:")
    assert len(units) == len(set(units)) == UNITS
    last = units[-1]
    screen = check(await sec.press(last, expect="các tiêu chí điều tra"))
    items = [
        str(b["callback_data"]) for b in buttons(screen) if str(b["callback_data"]).startswith("ss:item:")
    ]
    assert len(items) == 6
    await sec.press(items[-1], expect="Gửi điểm điều tra")
    check(await sec.say("1", expect="đã lưu"))
    back = check(await sec.press("sq:su:3:0", expect=showing(f"{PAGES}/{PAGES}")))
    assert last in {str(b["callback_data"]) for b in buttons(back)}


async def test_assign_pages_through_forty_agencies(bot: App, client: BotClient, seed: Seeder) -> None:
    await _province(seed, extra_agencies=35)
    sec = Officer(client, await register(client, None, "secretariat"), "secretariat")
    home = await sec.say("/assign", expect="Cơ quan thẩm định")
    agencies = await page_through(sec, home, "sa:")
    assert len(agencies) == len(set(agencies)) == 40
    # the last agency (page 2): give it a field, then back to its page of agencies
    board = check(await sec.press(agencies[-1], expect="bấm vào một lĩnh vực"))
    fields = [str(b["callback_data"]) for b in buttons(board) if str(b["callback_data"]).startswith("sa:")]
    assert len(fields) == 5 and page_label(board) is None
    board = check(await sec.press(fields[0], expect=lambda m: "✅" in str(buttons(m))))
    back = check(await sec.press("⬅ Danh sách cơ quan", expect=showing("2/2")))
    assert agencies[-1] in {str(b["callback_data"]) for b in buttons(back)}


async def test_not_ranked_pages(bot: App, client: BotClient, seed: Seeder) -> None:
    await _province(seed)
    async with seed.session() as s:
        codes = list(await s.scalars(select(Unit.code).order_by(Unit.code)))
    for code in codes[:30]:
        async with seed.session() as s:
            await cycle.set_not_ranked(
                s, SYSTEM, 2025, code, "Thiếu trung thực trong tài liệu kiểm chứng " * 3
            )
    sec = Officer(client, await register(client, None, "secretariat"), "secretariat")
    home = await sec.say("/notranked", expect="Đơn vị không xếp hạng")
    picks = await page_through(sec, home, "sn:clear:")
    assert picks == [f"sn:clear:{code}" for code in codes[:30]]
    # rank the last one again: the list stays on its page
    screen = check(await sec.press(picks[-1], expect="được xếp hạng trở lại"))
    assert page_label(screen) == "3/3" and len([b for b in buttons(screen) if b["text"].startswith("↩")]) == 9
