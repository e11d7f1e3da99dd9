"""/broadcast: audience → message → preview → confirm → delivery report (sent, blocked, failed).
Delivery is the notify package's (`bot.notify.broadcast`); the report refreshes itself for a while."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.handlers.screen import chat_of, current_screen_id, edit_target, guarded, show
from bot.handlers.secretariat.common import IsSecretariat
from bot.notify.broadcast import (
    broadcast_report,
    enqueue_broadcast,
    new_broadcast_key,
    render_broadcast,
    select_audience,
)
from bot.services.actor import Actor
from bot.services.periods import active_period
from bot.services.units import list_groups
from bot.ui import secretariat_kb as kb
from bot.ui import secretariat_view as view

log = logging.getLogger("bot.secretariat.broadcast")
router = Router(name="secretariat.broadcast")
router.message.filter(IsSecretariat())
router.callback_query.filter(IsSecretariat())

REPORT_REFRESH_SECONDS = 3.0
REPORT_REFRESH_FOR = 180.0
#: How the report's follower waits between refreshes (a test swaps it to tick when it wants).
pause: Callable[[float], Awaitable[None]] = asyncio.sleep
_followers: set[asyncio.Task[None]] = set()


class BroadcastForm(StatesGroup):
    text = State()
    confirm = State()


async def render_audiences(bot: Bot, chat: int, session: AsyncSession, edit: Any = None) -> None:
    groups = await list_groups(session)
    await show(
        bot, chat, _("📢 <b>Broadcast</b>: who should receive the message?"), kb.audience_kb(groups), edit
    )


async def _rerender(event: CallbackQuery | Message, kwargs: dict[str, Any]) -> None:
    await kwargs["state"].clear()
    await render_audiences(kwargs["bot"], chat_of(event), kwargs["session"], edit_target(event))


screen = guarded(_rerender)


@router.message(Command("broadcast"))
@screen
async def cmd_broadcast(message: Message, session: AsyncSession, bot: Bot, state: FSMContext) -> None:
    await state.clear()
    await render_audiences(bot, message.chat.id, session)


async def _group_name(session: AsyncSession, audience: str) -> str | None:
    if not audience.startswith("group:"):
        return None
    code = audience.removeprefix("group:")
    return next((g.name for g in await list_groups(session) if g.code == code), code)


@router.callback_query(kb.SBcast.filter())
@screen
async def on_broadcast(
    callback: CallbackQuery,
    callback_data: kb.SBcast,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    state: FSMContext,
    locale: str,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    chat, edit = callback.from_user.id, edit_target(callback)
    action = callback_data.a
    if action == "cancel":
        await state.clear()
        await show(bot, chat, _("Broadcast cancelled."), None, edit)
    elif action == "aud":
        period = await active_period(session)
        audience = "group:" + callback_data.v[2:] if callback_data.v.startswith("g.") else callback_data.v
        people = await select_audience(session, period, audience)
        await state.set_state(BroadcastForm.text)
        await state.set_data({"audience": audience, "n": len(people)})
        label = view.audience_label(audience, await _group_name(session, audience))
        prompt = _("To {audience} ({n} people). Write the message now.").format(audience=label, n=len(people))
        await show(bot, chat, prompt, None, edit)
    elif action == "send":
        data = await state.get_data()
        if "key" not in data or "text" not in data:
            await render_audiences(bot, chat, session, edit)
            return
        await state.clear()
        period = await active_period(session)
        result = await enqueue_broadcast(
            session, actor, str(data["audience"]), str(data["text"]), period=period, key=str(data["key"])
        )
        report = await broadcast_report(session, result.key)
        sent = await show(bot, chat, view.report_text(report), kb.report_kb(result.key), edit)
        if sent is not None and not report.done:
            task = asyncio.create_task(_follow(sessionmaker, sent, result.key, locale, state))
            _followers.add(task)
            task.add_done_callback(_followers.discard)
    elif action == "rep":
        key = "bc:" + callback_data.v
        report = await broadcast_report(session, key)
        await show(bot, chat, view.report_text(report), kb.report_kb(key), edit)


@router.message(StateFilter(BroadcastForm.text), F.text)
@screen
async def on_text(message: Message, session: AsyncSession, bot: Bot, state: FSMContext, locale: str) -> None:
    data = await state.get_data()
    audience = str(data.get("audience", ""))
    text = message.text or ""
    key = new_broadcast_key()
    await state.set_state(BroadcastForm.confirm)
    await state.update_data(text=text, key=key)
    label = view.audience_label(audience, await _group_name(session, audience))
    preview = view.broadcast_preview(label, int(data.get("n", 0)), render_broadcast(locale, text))
    await show(bot, message.chat.id, preview, kb.broadcast_confirm_kb())


async def _follow(
    sessionmaker: async_sessionmaker[AsyncSession],
    message: Message,
    key: str,
    locale: str,
    state: FSMContext,
) -> None:
    """Keep the report message current until every message is delivered (or a few minutes pass).
    Once another screen has taken its place (the chat's `state` keeps the live one), the report
    still counts on but without its button: one live screen per chat."""
    from bot.i18n import get_i18n

    last = ""
    loop = asyncio.get_running_loop()
    end = loop.time() + REPORT_REFRESH_FOR
    try:
        while loop.time() < end:
            await pause(REPORT_REFRESH_SECONDS)
            async with sessionmaker() as session:
                report = await broadcast_report(session, key)
            with get_i18n().use_locale(locale):
                text = view.report_text(report)
                markup = kb.report_kb(key)
            if text != last:
                # another screen shown meanwhile took the buttons off: they stay off
                live = await current_screen_id(state) == message.message_id
                with contextlib.suppress(TelegramBadRequest):
                    await message.edit_text(text, reply_markup=markup if live else None)
                last = text
            if report.done:
                return
    except Exception:
        log.exception("broadcast report refresh stopped")
