"""The unit's side of the explanation round (/explain): each appraised item with the appraiser's
comment; answer with an explanation or more evidence until the deadline (services refuse after)."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.handlers import uploads
from bot.handlers.screen import chat_of, edit_target, guarded, item_on_screen, show
from bot.services import evidence as ev
from bot.services import explanation as svc
from bot.services.actor import Actor
from bot.text import N_, esc
from bot.ui import unit_reply_view as view

router = Router(name="unit_reply")

_EXPLAIN = [("explain", N_("Appraisal results: explain or add evidence"))]
COMMANDS: dict[str, list[tuple[str, str]]] = {"officer": _EXPLAIN, "unit_head": _EXPLAIN}

_albums_seen: set[str] = set()


class ReplyForm(StatesGroup):
    item = State()  # on an item: files are supplements
    text = State()  # typing the explanation


async def render_sheet(
    bot: Bot,
    chat: int,
    session: AsyncSession,
    actor: Actor,
    locale: str,
    state: FSMContext,
    edit: Message | None = None,
) -> None:
    await state.clear()
    sheet = await svc.reply_sheet(session, actor)
    await show(bot, chat, view.sheet_text(sheet, locale), view.sheet_kb(sheet), edit)


async def render_item(
    bot: Bot,
    chat: int,
    session: AsyncSession,
    actor: Actor,
    aid: int,
    code: str,
    locale: str,
    state: FSMContext,
    edit: Message | None = None,
    notice: str = "",
) -> None:
    target = await svc.reply_target(session, actor, aid, code)
    item = target.view(await svc.supplement_count(session, target.item.id))
    await state.set_state(ReplyForm.item)
    await state.set_data({"aid": aid, "code": code})
    await show(bot, chat, view.item_text(item, locale, notice), view.item_kb(aid, item), edit)


async def _rerender(event: CallbackQuery | Message, kwargs: dict[str, Any]) -> None:
    state: FSMContext = kwargs["state"]
    aid, code = await item_on_screen(kwargs)
    args = (kwargs["bot"], chat_of(event), kwargs["session"], kwargs["actor"])
    if aid is not None and code:
        try:
            await render_item(*args, aid, code, kwargs["locale"], state, edit_target(event))
            return
        except Exception:
            await kwargs["session"].rollback()
    await render_sheet(*args, kwargs["locale"], state, edit_target(event))


screen = guarded(_rerender)


@router.message(Command("explain"))
@guarded()
async def cmd_explain(
    message: Message, session: AsyncSession, actor: Actor, bot: Bot, locale: str, state: FSMContext
) -> None:
    await render_sheet(bot, message.chat.id, session, actor, locale, state)


@router.callback_query(view.RItem.filter())
@screen
async def on_item(
    callback: CallbackQuery,
    callback_data: view.RItem,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    locale: str,
    state: FSMContext,
) -> None:
    await render_item(
        bot,
        callback.from_user.id,
        session,
        actor,
        callback_data.aid,
        callback_data.c,
        locale,
        state,
        edit_target(callback),
    )


@router.callback_query(view.RAct.filter())
@screen
async def on_action(
    callback: CallbackQuery,
    callback_data: view.RAct,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    locale: str,
    state: FSMContext,
) -> None:
    chat, edit = callback.from_user.id, edit_target(callback)
    if callback_data.a == "list":
        await render_sheet(bot, chat, session, actor, locale, state, edit)
        return
    await svc.writable_target(session, actor, callback_data.aid, callback_data.c)
    await state.set_state(ReplyForm.text)
    await state.set_data({"aid": callback_data.aid, "code": callback_data.c})
    await show(bot, chat, view.text_prompt(callback_data.c), None, edit)


@router.message(StateFilter(ReplyForm.text), F.text)
@screen
async def on_text(
    message: Message, session: AsyncSession, actor: Actor, bot: Bot, locale: str, state: FSMContext
) -> None:
    data = await state.get_data()
    aid, code = int(data["aid"]), str(data["code"])
    await svc.save_reply(session, actor, aid, code, message.text or "")
    notice = _("✅ Explanation saved for {code}; the appraisers have been told.").format(code=esc(code))
    await render_item(bot, message.chat.id, session, actor, aid, code, locale, state, notice=notice)


@router.message(StateFilter(ReplyForm.item, ReplyForm.text), F.document | F.photo)
@screen
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
    incoming = uploads.incoming(message)
    if incoming is None or "aid" not in data:
        return
    aid, code = int(data["aid"]), str(data["code"])
    async with uploads.chat_lock(message.chat.id):
        target = await svc.writable_target(session, actor, aid, code)
        if incoming.too_big:
            await message.reply(uploads.too_big_text())
            return
        directory = ev.item_dir(settings.evidence_dir, target, code) / "supplement"
        stored = await uploads.store(bot, incoming, directory)
        if stored is None:
            await message.reply(uploads.too_big_text())
            return
        _row, created = await svc.add_supplement(
            session, actor, aid, code, **uploads.evidence_file(incoming, stored, message.media_group_id)
        )
    album = message.media_group_id
    if album is not None:
        if album in _albums_seen:
            return
        _albums_seen.add(album)
    text = (
        _("📎 Added to {code}: {name}.").format(code=esc(code), name=esc(incoming.file_name))
        if created
        else _("This file is already attached to {code}.").format(code=esc(code))
    )
    await render_item(bot, message.chat.id, session, actor, aid, code, locale, state, notice=text)
