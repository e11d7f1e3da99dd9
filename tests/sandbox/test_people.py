"""People act through the control API; the bot sees real updates by long polling or webhook."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, html
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError, TelegramRetryAfter
from aiogram.filters import CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiohttp import web

from bot.sandbox.emulator import Emulator, EmulatorClient, EmulatorError


def menu() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Chấm điểm", callback_data="score:1")]]
    )


async def test_long_poll_wakes_on_text_and_confirms_offset(bot: Bot, people: EmulatorClient) -> None:
    user = await people.create_user("An", username="an_nguyen")
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.1)
    await people.send_text(user["id"], "Xin chào <bot>")
    updates = await poll
    assert loop.time() - started < 2
    assert updates[0].message is not None and updates[0].message.text == "Xin chào <bot>"
    assert updates[0].message.from_user is not None and updates[0].message.from_user.username == "an_nguyen"
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == []


async def test_press_button_and_answer(bot: Bot, people: EmulatorClient) -> None:
    user = await people.create_user("Bảo")
    sent = await bot.send_message(user["id"], "Menu", reply_markup=menu())
    with pytest.raises(EmulatorError, match="no button"):
        await people.press_button(user["id"], sent.message_id, "score:2")
    pressed = await people.press_button(user["id"], sent.message_id, "Chấm điểm")
    updates = await bot.get_updates(timeout=1)
    query = updates[-1].callback_query
    assert query is not None and query.data == "score:1" and query.id == pressed["id"]
    assert query.message is not None and query.message.message_id == sent.message_id
    await bot.answer_callback_query(query.id, text="Đã lưu", show_alert=True)
    answer = await people.callback(query.id)
    assert (answer["answered"], answer["text"], answer["show_alert"]) == (True, "Đã lưu", True)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query.id)
    await bot.edit_message_reply_markup(chat_id=user["id"], message_id=sent.message_id)
    with pytest.raises(EmulatorError, match="no button"):
        await people.press_button(user["id"], sent.message_id, "score:1")


async def test_edit_group_and_allowed_updates(bot: Bot, people: EmulatorClient) -> None:
    user = await people.create_user("Chi")
    group = await people.create_group("Sở Nội vụ", [user["id"]])
    assert group["type"] == "group" and group["id"] < 0
    mine = await people.send_text(user["id"], "/start")
    await people.edit_message(user["id"], mine["message_id"], "/start again")
    await people.send_text(user["id"], "/start@cchc_test_bot", chat_id=group["id"])
    updates = await bot.get_updates(timeout=1, allowed_updates=["message", "callback_query"])
    kinds = [(u.message.chat.type if u.message else None) for u in updates]
    assert kinds == ["private", "group"]  # edited_message was not asked for
    assert updates[0].message is not None and updates[0].message.entities is not None
    assert updates[0].message.entities[0].type == "bot_command"


async def test_dispatcher_polling_answers_start(bot: Bot, people: EmulatorClient) -> None:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        assert message.from_user is not None
        name = html.quote(message.from_user.first_name)
        await message.answer(f"Xin chào, <b>{name}</b>!", parse_mode="HTML", reply_markup=menu())

    @dp.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        await query.answer("OK")
        await query.message.edit_text("Đã chọn")  # type: ignore[union-attr]

    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    try:
        user = await people.create_user("<Đức>")
        await people.send_command(user["id"], "start")
        reply = await people.wait_for("Xin chào", timeout=5)
        assert reply["text"] == "Xin chào, <Đức>!"
        await people.press_button(user["id"], reply["message_id"], "score:1")
        edited = await people.wait_for("Đã chọn", timeout=5, include_edits=True)
        assert edited["message_id"] == reply["message_id"]
        stats = await people.stats()
        assert stats["callback_queries"] == stats["callback_queries_answered"] == 1
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, 5)


async def test_webhook_delivery_and_conflict(bot: Bot, people: EmulatorClient) -> None:
    received: list[tuple[str | None, dict[str, object]]] = []
    got = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        got.set()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()
        user = await people.create_user("Em")
        await people.send_text(user["id"], "qua webhook")
        await asyncio.wait_for(got.wait(), 5)
        secret, update = received[0]
        assert secret == "s3cret"
        assert update["message"]["text"] == "qua webhook"  # type: ignore[index]
        assert (await bot.get_webhook_info()).pending_update_count == 0
        await bot.delete_webhook()
        assert await bot.get_updates(timeout=0) == []
    finally:
        await runner.cleanup()


async def test_event_stream_and_polling_fallback(
    bot: Bot, people: EmulatorClient, emulator: Emulator
) -> None:
    user = await people.create_user("Giang")
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{emulator.url}/control/events", params={"user_id": user["id"]}) as stream,
    ):
        assert await stream.content.readline() == b": connected\n"
        sent = await bot.send_message(user["id"], "Thông báo")
        await bot.delete_message(user["id"], sent.message_id)
        frames: list[dict[str, object]] = []
        while len(frames) < 2:
            line = await asyncio.wait_for(stream.content.readline(), 5)
            if line.startswith(b"data: "):
                frames.append(json.loads(line[6:]))
    assert [f["kind"] for f in frames] == ["message", "deleted"]
    assert frames[0]["message"]["text"] == "Thông báo"  # type: ignore[index]
    await bot.send_message(user["id"], "Còn lại")
    later = await people.messages_after(user["id"], after=sent.message_id)
    assert [m["text"] for m in later] == ["Còn lại"]


async def test_user_edit_reaches_the_bot_as_edited_message(bot: Bot, people: EmulatorClient) -> None:
    user = await people.create_user("Hùng")
    mine = await people.send_text(user["id"], "Điểm: 7")
    await people.edit_message(user["id"], mine["message_id"], "Điểm: 8")
    updates = await bot.get_updates(timeout=1)
    edited = updates[-1].edited_message
    assert edited is not None and edited.text == "Điểm: 8" and edited.edit_date is not None
    bot_message = await bot.send_message(user["id"], "ok")
    with pytest.raises(EmulatorError, match="own messages"):
        await people.edit_message(user["id"], bot_message.message_id, "hacked")


async def test_second_bot_has_its_own_chats(emulator: Emulator, people: EmulatorClient) -> None:
    other_token = "555000111:AAOtherBotOtherBotOtherBotOther00"
    await people.create_bot(other_token, "other_bot", "Other")
    user = await people.create_user("Kim")
    async with EmulatorClient(emulator.url, bot="other_bot") as other_people:
        await other_people.send_text(user["id"], "hello other")
        assert [m["text"] for m in await other_people.transcript(user["id"])] == ["hello other"]
    assert await people.transcript(user["id"]) == []
    assert not emulator.bot.updates
    assert emulator.state.bots[other_token].updates[0]["message"]["text"] == "hello other"


async def test_global_flood_limit_then_retry(bot: Bot, people: EmulatorClient) -> None:
    users = [await people.create_user(f"Người {i}") for i in range(8)]
    await people.set_flood_limits(True, global_per_second=5)
    outcomes: list[int | None] = []
    for user in users:
        try:
            await bot.send_message(user["id"], "Thông báo chung")
            outcomes.append(None)
        except TelegramRetryAfter as err:
            outcomes.append(err.retry_after)
    assert outcomes[:5] == [None] * 5 and outcomes[5:] == [1, 1, 1]
    await asyncio.sleep(1.05)
    await bot.send_message(users[5]["id"], "Thông báo chung")
    assert (await people.stats())["too_many_requests"] == 3
