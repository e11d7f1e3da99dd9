"""The leader's /progress: the cycle at a glance (per group not started / in progress / submitted /
appraised) and the progress chart.

The secretariat has its own, more detailed /progress (per-agency pending counts) in
bot/handlers/secretariat. This router is listed before it in bot.handlers.FEATURE_MODULES and its
filter takes only leaders who are not also secretariat, so each role gets its own screen.
"""

from __future__ import annotations

import asyncio

from aiogram import Bot, Router
from aiogram.enums import ChatAction
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import RoleName
from bot.services import leader as svc
from bot.services import leader_reports as reports
from bot.services.actor import Actor
from bot.text import N_
from bot.ui import leader_kb as kb
from bot.ui import leader_view as view

router = Router(name="leader.progress")

COMMANDS: dict[str, list[tuple[str, str]]] = {
    "leader": [("progress", N_("Progress of the assessment cycle"))],
}


def leader_only(_event: object, actor: Actor | None = None) -> bool:
    """A provincial leader without the secretariat role (the secretariat's /progress is richer)."""
    return (
        actor is not None and actor.has(RoleName.LEADER.value) and not actor.has(RoleName.SECRETARIAT.value)
    )


@router.message(Command("progress"), leader_only)
async def progress(message: Message, session: AsyncSession, actor: Actor) -> None:
    cycle = await svc.cycle_progress(session, actor)
    await message.answer(view.progress_text(cycle), reply_markup=kb.progress_kb(cycle.year))


@router.callback_query(kb.LProgress.filter())
async def progress_chart(
    callback: CallbackQuery,
    callback_data: kb.LProgress,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    locale: str,
) -> None:
    cycle = await svc.cycle_progress(session, actor, callback_data.y)
    await bot.send_chat_action(callback.from_user.id, ChatAction.UPLOAD_PHOTO)
    image = await asyncio.to_thread(reports.progress_png_of, cycle, locale)
    await bot.send_photo(callback.from_user.id, BufferedInputFile(image, f"tien-do-{callback_data.y}.png"))
