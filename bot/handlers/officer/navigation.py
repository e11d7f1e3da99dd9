"""/score and the screens: fields → criteria → items, review, submit and withdraw."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handlers.officer.screens import (
    guarded,
    render_criterion,
    render_field,
    render_home,
    render_item,
    render_review,
)
from bot.handlers.screen import edit_target, show
from bot.services import assessment as svc
from bot.services.actor import Actor
from bot.services.errors import ServiceError
from bot.ui import officer_kb as kb
from bot.ui.officer_view import header

router = Router(name="officer.navigation")


@router.message(Command("score"))
@guarded
async def score(
    message: Message, session: AsyncSession, actor: Actor, bot: Bot, locale: str, state: FSMContext
) -> None:
    """Open the sheet where the person left off (the last item), else the list of fields."""
    sheet = await svc.open_sheet(session, actor)
    last = sheet.assessment.last_item_code
    if last and last in svc.leaf_codes(sheet):
        await render_item(bot, message.chat.id, sheet, last, locale, state)
    else:
        await state.clear()
        await render_home(bot, message.chat.id, sheet, locale)


@router.message(Command("review"))
@guarded
async def review_command(
    message: Message, session: AsyncSession, actor: Actor, bot: Bot, locale: str
) -> None:
    sheet = await svc.open_sheet(session, actor)
    await render_review(bot, message.chat.id, sheet, locale)


@router.callback_query(kb.OField.filter())
@guarded
async def on_field(
    callback: CallbackQuery,
    callback_data: kb.OField,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    locale: str,
) -> None:
    sheet = await svc.load_sheet(session, actor, callback_data.aid)
    await render_field(bot, callback.from_user.id, sheet, callback_data.c, locale, edit_target(callback))


@router.callback_query(kb.OCrit.filter())
@guarded
async def on_criterion(
    callback: CallbackQuery,
    callback_data: kb.OCrit,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    locale: str,
) -> None:
    sheet = await svc.load_sheet(session, actor, callback_data.aid)
    await render_criterion(bot, callback.from_user.id, sheet, callback_data.c, locale, edit_target(callback))


@router.callback_query(kb.OItem.filter())
@guarded
async def on_item(
    callback: CallbackQuery,
    callback_data: kb.OItem,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    locale: str,
    state: FSMContext,
) -> None:
    await svc.remember_item(session, actor, callback_data.aid, callback_data.c)
    sheet = await svc.load_sheet(session, actor, callback_data.aid)
    await render_item(
        bot, callback.from_user.id, sheet, callback_data.c, locale, state, edit_target(callback)
    )


@router.callback_query(kb.OSheet.filter())
@guarded
async def on_sheet(
    callback: CallbackQuery,
    callback_data: kb.OSheet,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    locale: str,
    state: FSMContext,
) -> None:
    aid, action = callback_data.aid, callback_data.a
    chat_id = callback.from_user.id
    edit = edit_target(callback)
    sheet = await svc.load_sheet(session, actor, aid)
    if action == "home":
        await state.clear()
        await render_home(bot, chat_id, sheet, locale, edit)
    elif action == "review":
        await state.clear()
        await render_review(bot, chat_id, sheet, locale, edit)
    elif action == "submit":
        if sheet.lock:
            raise ServiceError(sheet.lock, year=sheet.period.year, status=sheet.period.status)
        if not sheet.is_head:
            raise ServiceError("head_only")
        text = (
            header(sheet)
            + "\n\n"
            + _("Submit the self-assessment now? After that it can no longer be changed.")
        )
        await show(bot, chat_id, text, kb.confirm_kb(aid, "submit_ok"), edit)
    elif action == "submit_ok":
        await svc.submit(session, actor, aid)
        sheet = await svc.load_sheet(session, actor, aid)
        await show(bot, chat_id, _("✅ The self-assessment has been submitted."), None, edit)
        await render_review(bot, chat_id, sheet, locale)
    elif action == "withdraw":
        if not svc.can_withdraw(sheet):
            raise ServiceError("head_only" if not sheet.is_head else "not_submitted")
        text = (
            header(sheet) + "\n\n" + _("Withdraw the submission to correct it? It must be submitted again.")
        )
        await show(bot, chat_id, text, kb.confirm_kb(aid, "withdraw_ok"), edit)
    elif action == "withdraw_ok":
        await svc.withdraw(session, actor, aid)
        sheet = await svc.load_sheet(session, actor, aid)
        await show(
            bot, chat_id, _("↩ The submission has been withdrawn; the sheet can be edited again."), None, edit
        )
        await render_home(bot, chat_id, sheet, locale)
