"""The emulator answers a real aiogram Bot as Telegram would: shapes, limits, errors, files."""

from __future__ import annotations

import hashlib
import io

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
)
from PIL import Image

from bot.sandbox.emulator import Emulator, EmulatorClient


def png(color: str, size: tuple[int, int] = (64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in pairs]]
    )


async def test_get_me_and_wrong_token(bot: Bot, emulator: Emulator) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456789, "cchc_test_bot", True)
    session = AiohttpSession(api=TelegramAPIServer.from_base(emulator.url))
    stranger = Bot("987654321:AAWrongTokenWrongTokenWrongToken000", session=session)
    with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
        await stranger.get_me()
    await session.close()


async def test_html_message_is_stored_as_text_and_entities(bot: Bot, people: EmulatorClient) -> None:
    user = await people.create_user("Lan")
    sent = await bot.send_message(user["id"], "<b>Xin chào</b> &lt;Lan&gt;", parse_mode="HTML")
    assert sent.text == "Xin chào <Lan>"
    assert sent.entities is not None and sent.entities[0].type == "bold"
    assert (sent.message_id, sent.chat.type) == (1, "private")
    transcript = await people.transcript(user["id"])
    assert [m["text"] for m in transcript] == ["Xin chào <Lan>"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<b>unclosed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("a <foo>b</foo>", 'Unsupported start tag "foo" at byte offset 2'),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
        ("line<br>break", 'Unsupported start tag "br"'),
    ],
)
async def test_bad_html_is_rejected(bot: Bot, people: EmulatorClient, text: str, reason: str) -> None:
    user = await people.create_user("Minh")
    with pytest.raises(TelegramBadRequest, match="can't parse entities") as err:
        await bot.send_message(user["id"], text, parse_mode="HTML")
    assert reason in err.value.message


async def test_text_limits(bot: Bot, people: EmulatorClient) -> None:
    user = await people.create_user("Hà")
    await bot.send_message(user["id"], "ạ" * 4096)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(user["id"], "a" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(user["id"], "<b></b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(42, "hi")


async def test_callback_data_over_64_bytes_is_rejected(bot: Bot, people: EmulatorClient) -> None:
    user = await people.create_user("Tú")
    await bot.send_message(user["id"], "ok", reply_markup=keyboard(("x", "d" * 64)))
    too_long = "đ" * 33  # 66 bytes in UTF-8
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(user["id"], "no", reply_markup=keyboard(("x", too_long)))


async def test_edit_and_not_modified(bot: Bot, people: EmulatorClient) -> None:
    user = await people.create_user("Quang")
    sent = await bot.send_message(user["id"], "Bước 1", reply_markup=keyboard(("Tiếp", "next")))
    edited = await bot.edit_message_text(
        "Bước 2", chat_id=user["id"], message_id=sent.message_id, reply_markup=keyboard(("Tiếp", "next"))
    )
    assert not isinstance(edited, bool) and edited.edit_date is not None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "Bước 2", chat_id=user["id"], message_id=sent.message_id, reply_markup=keyboard(("Tiếp", "next"))
        )
    # Editing without reply_markup removes the keyboard, as on Telegram.
    await bot.edit_message_text("Bước 2", chat_id=user["id"], message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=user["id"], message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=user["id"], message_id=999)
    assert await bot.delete_message(user["id"], sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(user["id"], sent.message_id)
    assert await people.transcript(user["id"]) == []


async def test_document_upload_file_id_and_download(bot: Bot, people: EmulatorClient) -> None:
    user = await people.create_user("Vy")
    payload = b"%PDF-1.4 bao cao\n" * 1000
    first = await bot.send_document(user["id"], BufferedInputFile(payload, "bao-cao.pdf"), caption="Báo cáo")
    assert first.document is not None
    doc = first.document
    assert (doc.file_name, doc.mime_type, doc.file_size) == ("bao-cao.pdf", "application/pdf", len(payload))
    again = await bot.send_document(user["id"], doc.file_id)
    assert again.document is not None and again.document.file_id == doc.file_id
    reupload = await bot.send_document(user["id"], BufferedInputFile(payload, "copy.pdf"))
    assert reupload.document is not None
    assert reupload.document.file_id != doc.file_id
    assert reupload.document.file_unique_id == doc.file_unique_id
    file = await bot.get_file(doc.file_id)
    assert file.file_path is not None
    data = await bot.download_file(file.file_path)
    assert data is not None
    assert hashlib.sha256(data.read()).hexdigest() == hashlib.sha256(payload).hexdigest()
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_document(user["id"], "nonexistent-file-id")


async def test_vietnamese_file_name_arrives_decoded(bot: Bot, people: EmulatorClient) -> None:
    user = await people.create_user("Vy")
    sent = await bot.send_document(user["id"], BufferedInputFile(b"xlsx", "Báo cáo Sở Nội vụ.xlsx"))
    assert sent.document is not None and sent.document.file_name == "Báo cáo Sở Nội vụ.xlsx"


async def test_user_upload_download_and_20mb_limit(bot: Bot, people: EmulatorClient) -> None:
    user = await people.create_user("Khoa")
    content = bytes(range(256)) * 40
    sent = await people.send_document(user["id"], "minh-chung.xlsx", content, "application/vnd.ms-excel")
    file = await bot.get_file(sent["document"]["file_id"])
    assert file.file_path is not None
    data = await bot.download_file(file.file_path)
    assert data is not None and data.read() == content
    huge = await people.send_document(user["id"], "video.mp4", None, "video/mp4", declared_size=25 * 2**20)
    assert huge["document"]["file_size"] == 25 * 2**20
    with pytest.raises(TelegramBadRequest, match="file is too big"):
        await bot.get_file(huge["document"]["file_id"])


async def test_photo_and_media_group(bot: Bot, people: EmulatorClient) -> None:
    user = await people.create_user("Nga")
    photo = await bot.send_photo(
        user["id"], BufferedInputFile(png("red"), "a.png"), caption="<i>ảnh</i>", parse_mode="HTML"
    )
    assert photo.photo is not None and (photo.photo[-1].width, photo.photo[-1].height) == (64, 48)
    assert photo.caption == "ảnh"
    album = await bot.send_media_group(
        user["id"],
        [
            InputMediaPhoto(media=BufferedInputFile(png("blue"), "b.png"), caption="một"),
            InputMediaPhoto(media=photo.photo[-1].file_id),
        ],
    )
    assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id is not None
    assert album[0].caption == "một"
    assert album[1].photo is not None and album[1].photo[-1].file_id == photo.photo[-1].file_id
    docs = await bot.send_media_group(
        user["id"],
        [
            InputMediaDocument(media=BufferedInputFile(b"a", "a.txt")),
            InputMediaDocument(media=BufferedInputFile(b"b", "b.txt")),
        ],
    )
    assert [m.document.file_name for m in docs if m.document] == ["a.txt", "b.txt"]


async def test_blocked_user_is_forbidden(bot: Bot, people: EmulatorClient) -> None:
    user = await people.create_user("Bình")
    await people.block_bot(user["id"])
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(user["id"], "hello")
    stranger = await people.create_user("Chưa bấm Start", started=False)
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await bot.send_message(stranger["id"], "hello")
    assert (await people.stats())["forbidden"] == 2


async def test_flood_limits_return_retry_after(bot: Bot, people: EmulatorClient) -> None:
    user = await people.create_user("Dũng")
    for _ in range(5):
        await bot.send_message(user["id"], "off: no limits")
    await people.set_flood_limits(True)
    with pytest.raises(TelegramRetryAfter) as err:
        for _ in range(5):
            await bot.send_message(user["id"], "burst")
    assert err.value.retry_after >= 1
    assert "Too Many Requests: retry after" in err.value.message
    stats = await people.stats()
    assert stats["too_many_requests"] == 1
    assert stats["calls"]["sendMessage"] == 9


async def test_commands_per_scope_and_language(bot: Bot, people: EmulatorClient) -> None:
    user = await people.create_user("Admin")
    await bot.set_my_commands([BotCommand(command="start", description="Bắt đầu")])
    await bot.set_my_commands(
        [
            BotCommand(command="start", description="Start"),
            BotCommand(command="review", description="Review"),
        ],
        scope=BotCommandScopeChat(chat_id=user["id"]),
        language_code="en",
    )
    assert [c["command"] for c in await people.commands()] == ["start"]
    scoped = await people.commands({"type": "chat", "chat_id": user["id"]}, "en")
    assert [c["command"] for c in scoped] == ["start", "review"]
    assert await people.commands({"type": "chat", "chat_id": user["id"]}) == []
    assert await bot.send_chat_action(user["id"], "typing")
    assert [a["action"] for a in await people.chat_actions(user["id"])] == ["typing"]
