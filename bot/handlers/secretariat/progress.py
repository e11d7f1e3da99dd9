"""/progress: per group, units not started / in progress / submitted / appraised; per agency, what
waits and since when."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handlers.screen import chat_of, edit_target, guarded, show
from bot.handlers.secretariat.common import IsSecretariat
from bot.services.actor import Actor
from bot.services.dashboard import dashboard
from bot.ui import secretariat_kb as kb
from bot.ui import secretariat_view as view

router = Router(name="secretariat.progress")
router.message.filter(IsSecretariat())
router.callback_query.filter(IsSecretariat())


async def render(bot: Bot, chat: int, session: AsyncSession, actor: Actor, edit: Any = None) -> None:
    board = await dashboard(session, actor)
    await show(bot, chat, view.progress_text(board), kb.progress_kb(), edit)


async def _rerender(event: CallbackQuery | Message, kwargs: dict[str, Any]) -> None:
    await render(kwargs["bot"], chat_of(event), kwargs["session"], kwargs["actor"], edit_target(event))


@router.message(Command("progress"))
@guarded(None)
async def cmd_progress(message: Message, session: AsyncSession, actor: Actor, bot: Bot) -> None:
    await render(bot, message.chat.id, session, actor)


@router.callback_query(kb.SProg.filter())
@guarded(_rerender)
async def on_refresh(callback: CallbackQuery, session: AsyncSession, actor: Actor, bot: Bot) -> None:
    await render(bot, callback.from_user.id, session, actor, edit_target(callback))
