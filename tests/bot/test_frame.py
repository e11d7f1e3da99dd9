"""The frame around every feature: menus, language, /cancel, edits, errors, duplicates, buttons."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import Chat, Message, Update, User
from sqlalchemy import delete, func, select

from bot.app import App
from bot.config import Settings
from bot.db.models import Person, ProcessedUpdate, Role
from bot.services.errors import ServiceError
from tests.bot.harness import BotClient, InProcessBot, Seeder, new_user, register

JSON = dict[str, Any]


def chat_scope(user: JSON) -> JSON:
    return {"type": "chat", "chat_id": user["id"]}


async def test_menus_per_role_in_vietnamese_and_english(bot: App, client: BotClient, seed: Seeder) -> None:
    await seed.unit("SNV", "Sở Nội vụ")
    default_vi = await client.commands()
    default_en = await client.commands(language_code="en")
    assert [c["command"] for c in default_vi] == ["start"]
    assert default_vi[0]["description"] == "Đăng ký bằng mã mời"
    assert default_en[0]["description"] == "Register with an invite code"

    officer = await register(client, "SNV", "officer")
    leader = await register(client, None, "leader")
    vi = await client.commands(chat_scope(officer))
    en = await client.commands(chat_scope(officer), "en")
    assert {"help", "whoami", "lang", "cancel"} <= {c["command"] for c in vi}
    assert [c["command"] for c in vi] == [c["command"] for c in en]
    assert any(c["description"] == "Đổi ngôn ngữ" for c in vi)
    assert any(c["description"] == "Change the language" for c in en)
    assert [c["command"] for c in vi] == [c for c, _ in bot.menus.for_roles({"officer"})]
    leader_menu = [c["command"] for c in await client.commands(chat_scope(leader))]
    assert leader_menu == [c for c, _ in bot.menus.for_roles({"leader"})]


async def test_menus_set_at_start_up_for_people_registered_meanwhile(
    settings: Settings, client: BotClient, seed: Seeder
) -> None:
    """People registered while the bot was down (e.g. by the CLI) get their menu at start-up."""
    from bot.services.invites import redeem_invite

    await seed.unit("SNV", "Sở Nội vụ")
    code = await seed.invite("unit_head", "SNV")
    person = await new_user(client)
    async with seed.session() as s:
        await redeem_invite(s, person["id"], code, full_name="Trần Thị Bình")
    runner = InProcessBot(settings)
    app = await runner.start()
    try:
        expected = [c for c, _ in app.menus.for_roles({"unit_head"})]
        for _attempt in range(100):  # set by a background task right after start-up
            menu = await client.commands(chat_scope(person))
            if menu:
                break
            await asyncio.sleep(0.05)
        assert [c["command"] for c in menu] == expected
    finally:
        await runner.stop()


async def test_lang_switches_to_english_and_back(bot: App, client: BotClient, seed: Seeder) -> None:
    await seed.unit("SNV", "Sở Nội vụ")
    user = await register(client, "SNV", "officer")
    prompt = await client.say(user, "/lang", expect="Chọn ngôn ngữ")
    press = await client.press_button(user["id"], prompt["message_id"], "🇬🇧 English")
    edited = await client.wait_for("Language changed.", chat_id=user["id"], include_edits=True)
    assert edited["message_id"] == prompt["message_id"]  # edited in place
    record = await client.answered(press["id"])
    assert record["answer_delay"] is not None and record["answer_delay"] < 2
    # The same button again: the screen is unchanged ("message is not modified"), no error shown.
    again = await client.press_button(user["id"], prompt["message_id"], "✓ 🇬🇧 English")
    await client.answered(again["id"])
    whoami = await client.say(user, "/whoami")
    assert "PAR focal officer — Sở Nội vụ" in whoami["text"]
    assert not [t for t in await client.texts(user) if "went wrong" in t or "Đã có lỗi" in t]
    menu = await client.commands(chat_scope(user))  # the app is Vietnamese; the person chose English
    assert any(c["description"] == "Change the language" for c in menu)
    async with seed.session() as s:
        assert await s.scalar(select(Person.language).where(Person.telegram_id == user["id"])) == "en"

    prompt = await client.say(user, "/lang", expect="Choose your language")
    await client.press_button(user["id"], prompt["message_id"], "🇻🇳 Tiếng Việt")
    await client.wait_for("Đã đổi ngôn ngữ.", chat_id=user["id"], include_edits=True)
    assert "Cán bộ đầu mối CCHC" in (await client.say(user, "/whoami"))["text"]


async def test_english_telegram_app_gets_english(bot: App, client: BotClient, seed: Seeder) -> None:
    await seed.unit("SNV", "Sở Nội vụ")
    stranger = await new_user(client, language_code="en")
    reply = await client.say(stranger, "/help")
    assert reply["text"].startswith("You have not been invited")
    user = await register(client, "SNV", "officer", language_code="en-US")
    assert "PAR focal officer" in (await client.say(user, "/whoami"))["text"]


async def test_cancel_clears_the_conversation_state(bot: App, client: BotClient, seed: Seeder) -> None:
    await seed.unit("SNV", "Sở Nội vụ")
    user = await register(client, "SNV", "officer")
    assert bot.me is not None
    key = StorageKey(bot_id=bot.me.id, chat_id=user["id"], user_id=user["id"])
    await bot.storage.set_state(key, "Scoring:value")
    await bot.storage.set_data(key, {"item": "1.1.1"})
    reply = await client.say(user, "/cancel")
    assert reply["text"].startswith("Đã hủy")
    assert await bot.storage.get_state(key) is None
    assert await bot.storage.get_data(key) == {}
    reply = await client.say(user, "/cancel")
    assert reply["text"].startswith("Không có thao tác nào để hủy")


async def test_edited_message_is_answered(bot: App, client: BotClient, seed: Seeder) -> None:
    await seed.unit("SNV", "Sở Nội vụ")
    user = await register(client, "SNV", "officer")
    sent = await client.send_text(user["id"], "/whoami")
    await client.wait_for("Vai trò", chat_id=user["id"])
    await client.edit_message(user["id"], sent["message_id"], "/lang")
    reply = await client.wait_for(chat_id=user["id"])
    assert "Tin nhắn đã sửa không được xử lý" in reply["text"]


async def test_unknown_text_gets_a_hint(bot: App, client: BotClient, seed: Seeder) -> None:
    await seed.unit("SNV", "Sở Nội vụ")
    user = await register(client, "SNV", "officer")
    reply = await client.say(user, "xin chào bot")
    assert "/help" in reply["text"]


boom = Router(name="test-boom")


@boom.message(Command("boom"))
async def _boom(message: Message) -> None:
    raise RuntimeError("a bug in a handler")


@boom.message(Command("refuse"))
async def _refuse(message: Message) -> None:
    raise ServiceError("forbidden")


@boom.message(Command("halfway"))
async def _halfway(message: Message, session: Any) -> None:
    person = await session.scalar(select(Person).where(Person.telegram_id == message.chat.id))
    person.full_name = "CHANGED"
    await session.flush()
    raise RuntimeError("after a change")


@boom.message(Command("oldscreen"))
async def _old_screen(message: Message) -> None:
    from aiogram.utils.keyboard import InlineKeyboardBuilder

    keyboard = InlineKeyboardBuilder().button(text="Cũ", callback_data="gone:1").as_markup()
    await message.answer("Màn hình cũ", reply_markup=keyboard)


@pytest.fixture
async def boom_bot(settings: Settings) -> AsyncIterator[App]:
    runner = InProcessBot(settings, extra_routers=[boom])
    app = await runner.start()
    yield app
    await runner.stop()


async def test_handler_errors_give_one_sentence_and_the_bot_goes_on(
    boom_bot: App, client: BotClient, seed: Seeder, caplog: pytest.LogCaptureFixture
) -> None:
    await seed.unit("SNV", "Sở Nội vụ")
    user = await register(client, "SNV", "officer", first_name="Lê Văn Cường")
    reply = await client.say(user, "/boom")
    assert reply["text"] == "Đã có lỗi, vui lòng thử lại."
    assert "a bug in a handler" in caplog.text  # the details go to the log
    reply = await client.say(user, "/refuse")
    assert reply["text"] == "Bạn không có quyền thực hiện thao tác này."
    reply = await client.say(user, "/halfway")
    assert reply["text"] == "Đã có lỗi, vui lòng thử lại."
    async with seed.session() as s:  # rolled back
        assert (
            await s.scalar(select(Person.full_name).where(Person.telegram_id == user["id"])) == "Lê Văn Cường"
        )
    assert "Lê Văn Cường" in (await client.say(user, "/whoami"))["text"]


async def test_button_nobody_handles_gets_a_hint(boom_bot: App, client: BotClient, seed: Seeder) -> None:
    await seed.unit("SNV", "Sở Nội vụ")
    user = await register(client, "SNV", "officer")
    screen = await client.say(user, "/oldscreen", expect="Màn hình cũ")
    press = await client.press_button(user["id"], screen["message_id"], "Cũ")
    reply = await client.wait_for(chat_id=user["id"])
    assert reply["text"] == "Nút này không còn hiệu lực. Gửi /help để bắt đầu lại."
    assert (await client.answered(press["id"]))["show_alert"] is False


async def test_button_press_after_roles_withdrawn_is_refused(
    bot: App, client: BotClient, seed: Seeder
) -> None:
    await seed.unit("SNV", "Sở Nội vụ")
    user = await register(client, "SNV", "officer")
    prompt = await client.say(user, "/lang", expect="Chọn ngôn ngữ")
    async with seed.session() as s:
        person_id = await s.scalar(select(Person.id).where(Person.telegram_id == user["id"]))
        await s.execute(delete(Role).where(Role.person_id == person_id))
        await s.commit()
    press = await client.press_button(user["id"], prompt["message_id"], "🇬🇧 English")
    record = await client.answered(press["id"])
    assert record["show_alert"] and record["text"].startswith("Bạn chưa được mời tham gia")
    async with seed.session() as s:
        assert await s.scalar(select(Person.language).where(Person.id == person_id)) is None


def _update(update_id: int, user: JSON, text: str) -> Update:
    tg_user = User(id=user["id"], is_bot=False, first_name=user["first_name"], language_code="vi")
    message = Message(
        message_id=900_000 + update_id % 1000,
        date=datetime.now(UTC),
        chat=Chat(id=user["id"], type="private"),
        from_user=tg_user,
        text=text,
    )
    return Update(update_id=update_id, message=message)


async def seed_person(seed: Seeder, user: JSON, code: str) -> None:
    from bot.services.invites import redeem_invite

    async with seed.session() as s:
        await redeem_invite(s, user["id"], code, full_name=user["first_name"])


async def test_duplicate_update_is_applied_once(client: BotClient, seed: Seeder, settings: Settings) -> None:
    """A webhook retry or a re-delivery after a crash carries the same update_id: handled once,
    also by the next process (the mark is in the database, not only in memory)."""
    await seed.unit("SNV", "Sở Nội vụ")
    code = await seed.invite("officer", "SNV")
    user = await new_user(client)
    await seed_person(seed, user, code)
    update = _update(555_001, user, "/whoami")
    for _process in range(2):
        runner = InProcessBot(settings)
        app = await runner.start()
        try:
            await app.dp.feed_update(app.bot, update)
            await app.dp.feed_update(app.bot, update)
        finally:
            await runner.stop()
    texts = await client.texts(user)
    assert sum("Vai trò của bạn" in t for t in texts) == 1, texts
    async with seed.session() as s:
        count = select(func.count()).select_from(ProcessedUpdate).where(ProcessedUpdate.update_id == 555_001)
        assert await s.scalar(count) == 1


@pytest.mark.redis
async def test_bot_keeps_conversation_state_in_redis_when_configured(
    settings: Settings, client: BotClient, seed: Seeder
) -> None:
    from aiogram.fsm.storage.redis import RedisStorage

    from tests.bot.test_storage import REDIS_URL, _redis_reachable

    reason = await asyncio.to_thread(_redis_reachable)
    if reason:
        pytest.skip(reason)
    runner = InProcessBot(settings.model_copy(update={"redis_url": REDIS_URL}))
    app = await runner.start()
    try:
        assert isinstance(app.storage, RedisStorage)
        await seed.unit("SNV", "Sở Nội vụ")
        user = await register(client, "SNV", "officer")
        assert app.me is not None
        key = StorageKey(bot_id=app.me.id, chat_id=user["id"], user_id=user["id"])
        await app.storage.set_state(key, "Scoring:value")
        reply = await client.say(user, "/cancel")
        assert reply["text"].startswith("Đã hủy")
        assert await app.storage.get_state(key) is None
    finally:
        await runner.stop()


async def test_a_blocked_person_who_writes_again_is_reachable_again(
    bot: App, client: BotClient, seed: Seeder
) -> None:
    await seed.unit("SNV", "Sở Nội vụ")
    officer = await register(client, "SNV", "officer")
    async with seed.session() as s:
        person = (await s.execute(select(Person).where(Person.telegram_id == officer["id"]))).scalar_one()
        person.unreachable, person.unreachable_at = True, datetime.now(UTC)
        await s.commit()
    await client.say(officer, "/whoami", expect="Sở Nội vụ")
    # The reply goes out before the update's commit: poll briefly for the saved flag.
    for _ in range(50):
        async with seed.session() as s:
            person = (await s.execute(select(Person).where(Person.telegram_id == officer["id"]))).scalar_one()
        if not person.unreachable:
            break
        await asyncio.sleep(0.05)
    assert person.unreachable is False and person.unreachable_at is None
