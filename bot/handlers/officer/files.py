"""Evidence files: documents, photos and albums attached to the current item.

Each file is downloaded into CCHC_EVIDENCE_DIR/<period>/<unit>/<item>/ and recorded with its name,
MIME type, size and sha256 next to the Telegram file_id. An album arrives as several messages; each
part is saved as it comes and one confirmation is sent when the album is complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from io import BytesIO

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.db.models import EvidenceKind
from bot.handlers.officer.screens import OfficerForm, edit_target, guarded, no_prompt, show
from bot.services import assessment as svc
from bot.services import evidence as ev
from bot.services.actor import Actor
from bot.ui import officer_kb as kb
from bot.ui import officer_view as view
from bot.ui.text import esc

log = logging.getLogger("bot.officer.files")

router = Router(name="officer.files")

ALBUM_QUIET_SECONDS = 1.5
MB = 1024 * 1024


@dataclass
class _Album:
    chat_id: int
    aid: int
    code: str
    added: int = 0
    task: asyncio.Task[None] | None = None
    names: list[str] = field(default_factory=list)


_albums: dict[str, _Album] = {}
_locks: dict[int, asyncio.Lock] = {}


@dataclass(frozen=True)
class _Incoming:
    file_id: str
    file_unique_id: str
    file_name: str
    mime_type: str | None
    size: int | None
    kind: str


def _incoming(message: Message) -> _Incoming | None:
    if message.document is not None:
        d = message.document
        return _Incoming(
            d.file_id,
            d.file_unique_id,
            d.file_name or f"document_{d.file_unique_id}",
            d.mime_type,
            d.file_size,
            EvidenceKind.DOCUMENT.value,
        )
    if message.photo:
        p = max(message.photo, key=lambda s: (s.file_size or 0, s.width * s.height))
        return _Incoming(
            p.file_id, p.file_unique_id, f"photo_{p.file_unique_id}.jpg", "image/jpeg", p.file_size, "photo"
        )
    return None


def too_big_text() -> str:
    return _(
        "⚠️ This file is larger than 20 MB, which Telegram does not let bots download. "
        "Please compress it or split it into parts and send them again, or put a link to the file "
        "in the explanation. Nothing was recorded."
    )


async def _download(bot: Bot, file_id: str) -> bytes | None:
    """The file's bytes, or None when Telegram refuses because the file is too big."""
    try:
        file = await bot.get_file(file_id)
    except TelegramBadRequest as exc:
        if "too big" in str(exc).lower():
            return None
        raise
    if file.file_size is not None and file.file_size > ev.DOWNLOAD_LIMIT:
        return None
    assert file.file_path is not None
    buffer = BytesIO()
    await bot.download_file(file.file_path, destination=buffer)
    return buffer.getvalue()


@router.message(
    StateFilter(OfficerForm.item, OfficerForm.evidence, OfficerForm.confirm), F.document | F.photo
)
@guarded
async def on_file(
    message: Message,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    locale: str,
    state: FSMContext,
    settings: Settings,
) -> None:
    data = await state.get_data()
    incoming = _incoming(message)
    if incoming is None or "aid" not in data:
        await message.answer(no_prompt())
        return
    aid, code = int(data["aid"]), str(data["code"])
    lock = _locks.setdefault(message.chat.id, asyncio.Lock())
    async with lock:
        await _attach(message, session, actor, bot, settings, aid, code, incoming)


async def _attach(
    message: Message,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    settings: Settings,
    aid: int,
    code: str,
    incoming: _Incoming,
) -> None:
    sheet = await ev.evidence_target(session, actor, aid, code)
    album = message.media_group_id
    if incoming.size is not None and incoming.size > ev.DOWNLOAD_LIMIT:
        await message.reply(too_big_text())
        return
    duplicate = await ev.find_duplicate(session, actor, aid, code, incoming.file_unique_id)
    if duplicate is not None:
        if album is None:
            await message.reply(_("This file is already attached to {code}.").format(code=esc(code)))
        return
    data = await _download(bot, incoming.file_id)
    if data is None:
        await message.reply(too_big_text())
        return
    directory = ev.item_dir(settings.evidence_dir, sheet, code)
    stored = ev.store_bytes(directory, incoming.file_unique_id, incoming.file_name, data)
    try:
        _row, created = await ev.add_evidence(
            session,
            actor,
            aid,
            code,
            file_id=incoming.file_id,
            file_unique_id=incoming.file_unique_id,
            file_name=incoming.file_name,
            mime_type=incoming.mime_type,
            size=stored.size,
            sha256=stored.sha256,
            stored_path=str(stored.path),
            kind=incoming.kind,
            media_group_id=album,
        )
    except Exception:
        with contextlib.suppress(OSError):
            stored.path.unlink()
        raise
    if album is None:
        text = _("📎 Attached to {code}: {name} ({size} KB).").format(
            code=esc(code), name=esc(incoming.file_name), size=max(1, stored.size // 1024)
        )
        await message.reply(text, reply_markup=_back(aid, code))
        return
    _note_album_part(bot, message.chat.id, album, aid, code, incoming.file_name if created else None)


def _back(aid: int, code: str) -> InlineKeyboardMarkup:
    button = InlineKeyboardButton(
        text=_("⬅ Back to the item"), callback_data=kb.OItem(aid=aid, c=code).pack()
    )
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


def _note_album_part(bot: Bot, chat_id: int, album_id: str, aid: int, code: str, name: str | None) -> None:
    """Count a saved part and (re)arm the single confirmation for the whole album."""
    album = _albums.setdefault(album_id, _Album(chat_id=chat_id, aid=aid, code=code))
    if name is not None:
        album.added += 1
        album.names.append(name)
    if album.task is not None:
        album.task.cancel()
    text = _("📎 Album attached to {code}: {n} file(s).")
    back = _("⬅ Back to the item")
    album.task = asyncio.create_task(_confirm_album(bot, album_id, text, back))


async def _confirm_album(bot: Bot, album_id: str, text: str, back: str) -> None:
    await asyncio.sleep(ALBUM_QUIET_SECONDS)
    album = _albums.pop(album_id, None)
    if album is None:
        return
    button = InlineKeyboardButton(text=back, callback_data=kb.OItem(aid=album.aid, c=album.code).pack())
    lines = [text.format(code=esc(album.code), n=album.added), *(f"• {esc(n)}" for n in album.names)]
    try:
        await bot.send_message(
            album.chat_id, "\n".join(lines), reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]])
        )
    except Exception:
        log.exception("album confirmation failed")


@router.callback_query(kb.OEvDel.filter())
@guarded
async def on_remove(
    callback: CallbackQuery,
    callback_data: kb.OEvDel,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    locale: str,
    state: FSMContext,
) -> None:
    code, _row = await ev.remove_evidence(session, actor, callback_data.aid, callback_data.e)
    sheet = await svc.load_sheet(session, actor, callback_data.aid)
    rows = await ev.list_evidence(session, actor, callback_data.aid, code)
    names = [(row.id, row.file_name or row.kind) for row in rows]
    await state.set_state(OfficerForm.evidence)
    await state.set_data({"aid": callback_data.aid, "code": code})
    text = _("🗑 File removed.") + "\n\n" + view.evidence_text(code, rows, sheet.editable, locale)
    await show(
        bot,
        callback.from_user.id,
        text,
        kb.evidence_kb(callback_data.aid, code, names, True),
        edit_target(callback),
    )
