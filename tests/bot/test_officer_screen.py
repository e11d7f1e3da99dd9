"""One live screen per chat: typed input and files bring a new screen message below the person's
own, and the screen above it loses its buttons, also across a SIGKILL restart of the bot."""

from __future__ import annotations

from typing import Any

import pytest

from bot.app import App
from bot.sandbox.emulator import Emulator
from tests.bot.harness import BotClient, BotProcess, Seeder, register
from tests.bot.officer_driver import (
    Officer,
    assessment_of,
    buttons,
    evidence_rows,
    restore_buttons,
    sheet_rows,
    text_of,
)

JSON = dict[str, Any]


async def _setup(seed: Seeder) -> None:
    await seed.unit("SNV", "Sở Nội vụ")
    await seed.period(criteria={"so": await seed.criteria("2018-so.yaml")})


async def live_screens(client: BotClient, person: Officer) -> list[JSON]:
    """The bot's messages in the person's chat that still carry inline buttons, oldest first."""
    return [m for m in await client.transcript(person.uid) if m.get("from", {}).get("is_bot") and buttons(m)]


async def assert_one_live(client: BotClient, person: Officer) -> JSON:
    """Exactly one message has buttons, and it is the screen the person sees last."""
    live = await live_screens(client, person)
    assert [m["message_id"] for m in live] == [(person.screen or {}).get("message_id")], [
        text_of(m)[:60] for m in live
    ]
    return live[0]


async def test_typed_input_and_files_leave_one_live_screen(
    bot: App, client: BotClient, seed: Seeder, emulator: Emulator
) -> None:
    await _setup(seed)
    o = Officer(client, await register(client, "SNV", "officer"), "officer")
    await o.say("/score", expect="Chọn lĩnh vực")
    aid = (await assessment_of(seed, "SNV")).id
    await o.press(f"of:{aid}:1", expect="1.1")
    await o.press(f"oc:{aid}:1.1", expect="1.1.2")
    await o.press(f"oi:{aid}:1.1.2", expect="Cách chấm")
    first = await assert_one_live(client, o)  # buttons edit the one screen in place

    # A typed value: the preview is a new screen; the prompt above the person's message is inert.
    await o.press(f"ox:{aid}:1.1.2:val", expect="gửi giá trị")
    await o.say("45/50", expect="Lưu câu trả lời này?")
    preview = await assert_one_live(client, o)
    assert preview["message_id"] > first["message_id"]
    await o.press(f"ox:{aid}:1.1.2:save", expect="Đã lưu")
    assert (await sheet_rows(seed, "SNV"))["1.1.2"].self_raw == "45/50"
    await assert_one_live(client, o)

    # An explanation, then a page note: each typed text brings the item screen below it.
    await o.press(f"ox:{aid}:1.1.2:exp", expect="giải trình")
    await o.say("Báo cáo năm 2018", expect="Đã lưu giải trình")
    item_after_text = await assert_one_live(client, o)
    await o.press(f"ox:{aid}:1.1.2:note", expect="trang hoặc mục")
    await o.say("Trang 3", expect="Đã lưu trang/mục")
    await assert_one_live(client, o)

    # A file: its confirmation is the live screen, with the way back to the item.
    await o.send_document("Kế hoạch.pdf", b"%PDF-1.4 plan", expect="📎")
    assert len(await evidence_rows(seed)) == 1
    await assert_one_live(client, o)
    await o.press(f"oi:{aid}:1.1.2", expect="Số tệp kiểm chứng: 1")
    await assert_one_live(client, o)

    row = (await sheet_rows(seed, "SNV"))["1.1.2"]
    assert (row.explanation, row.evidence_note) == ("Báo cáo năm 2018", "Trang 3")
    bot_messages = [m for m in await client.transcript(o.uid) if m.get("from", {}).get("is_bot")]
    assert len(await live_screens(client, o)) == 1 and len(bot_messages) > 5

    # A stale button on an older screen (buttons left from before) still shows the current screen,
    # there, and the other screen loses its buttons: still one live screen.
    restore_buttons(emulator, o, item_after_text)
    await o.press("▶", expect="1.1.3", on=item_after_text)
    assert o.screen is not None and o.screen["message_id"] == item_after_text["message_id"]
    await assert_one_live(client, o)


@pytest.mark.slow
async def test_the_previous_screen_is_stripped_after_a_restart(
    bot_process: BotProcess, client: BotClient, seed: Seeder
) -> None:
    await _setup(seed)
    o = Officer(client, await register(client, "SNV", "officer"), "officer")
    await o.say("/score", expect="Chọn lĩnh vực")
    aid = (await assessment_of(seed, "SNV")).id
    await o.press(f"of:{aid}:1", expect="1.1")
    await o.press(f"oc:{aid}:1.1", expect="1.1.2")
    await o.press(f"oi:{aid}:1.1.2", expect="Cách chấm")
    await o.press(f"ox:{aid}:1.1.2:val", expect="gửi giá trị")
    before = await assert_one_live(client, o)

    bot_process.kill()  # nothing of the bot's memory survives
    await bot_process.start()
    await o.say("7/8", expect="Lưu câu trả lời này?")
    live = await assert_one_live(client, o)
    assert live["message_id"] != before["message_id"]
    await o.press(f"ox:{aid}:1.1.2:save", expect="Đã lưu")
    assert (await sheet_rows(seed, "SNV"))["1.1.2"].self_raw == "7/8"

    bot_process.kill()
    await bot_process.start()
    await o.say("/score", expect="Cách chấm")  # resumes at the item, as a new screen
    await assert_one_live(client, o)
