"""Evidence files: documents, photos and albums attached to the current item.

Each file is downloaded into CCHC_EVIDENCE_DIR/<period>/<unit>/<item>/ and recorded with its name,
MIME type, size and sha256 next to the Telegram file_id. An album arrives as several messages; each
part is saved as it comes and one confirmation is sent when the album is complete. A confirmation
is the chat's new screen (with its way back to the item): the screen above the files loses its
buttons.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.handlers import uploads
from bot.handlers.officer.screens import OfficerForm, guarded, no_prompt
from bot.handlers.screen import edit_target, show
from bot.services import assessment as svc
from bot.services import evidence as ev
from bot.services.actor import Actor
from bot.text import esc, fmt_size
from bot.ui import officer_kb as kb
from bot.ui import officer_view as view

log = logging.getLogger("bot.officer.files")

router = Router(name="officer.files")

ALBUM_QUIET_SECONDS = 1.5
MB = 1024 * 1024


@dataclass
class _Album:
    chat_id: int
    aid: int
    code: str
    state: FSMContext
    added: int = 0
    task: asyncio.Task[None] | None = None
    names: list[str] = field(default_factory=list)


_albums: dict[str, _Album] = {}


@router.message(
    StateFilter(OfficerForm.item, OfficerForm.evidence, OfficerForm.confirm), F.document | F.photo
)
@guarded
async def on_file(
    message: Message,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    state: FSMContext,
    settings: Settings,
    locale: str,
) -> None:
    data = await state.get_data()
    incoming = uploads.incoming(message)
    if incoming is None or "aid" not in data:
        await message.answer(no_prompt())
        return
    aid, code = int(data["aid"]), str(data["code"])
    async with uploads.chat_lock(message.chat.id):
        await _attach(message, session, actor, bot, state, settings, aid, code, incoming, locale)


async def _attach(
    message: Message,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    state: FSMContext,
    settings: Settings,
    aid: int,
    code: str,
    incoming: uploads.Incoming,
    locale: str,
) -> None:
    sheet = await ev.evidence_target(session, actor, aid, code)
    album = message.media_group_id
    if incoming.too_big:
        await message.reply(uploads.too_big_text())
        return
    duplicate = await ev.find_duplicate(session, actor, aid, code, incoming.file_unique_id)
    if duplicate is not None:
        if album is None:
            await message.reply(_("This file is already attached to {code}.").format(code=esc(code)))
        return
    stored = await uploads.store(bot, incoming, ev.item_dir(settings.evidence_dir, sheet, code))
    if stored is None:
        await message.reply(uploads.too_big_text())
        return
    try:
        _row, created = await ev.add_evidence(
            session, actor, aid, code, **uploads.evidence_file(incoming, stored, album)
        )
    except Exception:
        with contextlib.suppress(OSError):
            stored.path.unlink()
        raise
    if album is None:
        text = _("📎 Attached to {code}: {name} ({size}).").format(
            code=esc(code), name=esc(incoming.file_name), size=fmt_size(stored.size, locale)
        )
        await show(bot, message.chat.id, text, kb.to_item_kb(aid, code, _("⬅ Back to the item")), state=state)
        return
    _note_album_part(bot, state, message.chat.id, album, aid, code, incoming.file_name if created else None)


def _note_album_part(
    bot: Bot, state: FSMContext, chat_id: int, album_id: str, aid: int, code: str, name: str | None
) -> None:
    """Count a saved part and (re)arm the single confirmation for the whole album."""
    album = _albums.setdefault(album_id, _Album(chat_id=chat_id, aid=aid, code=code, state=state))
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
    lines = [text.format(code=esc(album.code), n=album.added), *(f"• {esc(n)}" for n in album.names)]
    try:
        markup = kb.to_item_kb(album.aid, album.code, back)
        await show(bot, album.chat_id, "\n".join(lines), markup, state=album.state)
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
    state: FSMContext,
    locale: str,
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
