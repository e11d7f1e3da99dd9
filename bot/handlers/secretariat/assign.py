"""/assign: pick an appraising agency, then toggle the fields it appraises in the current period."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Agency
from bot.handlers.screen import chat_of, edit_target, guarded, show
from bot.handlers.secretariat.common import IsSecretariat
from bot.services.actor import Actor
from bot.services.agencies import list_agencies
from bot.services.assignment_board import field_slots, toggle_field
from bot.services.errors import ServiceError
from bot.services.periods import active_period
from bot.ui import secretariat_kb as kb
from bot.ui import secretariat_view as view
from bot.ui.paging import page_of, paginate

router = Router(name="secretariat.assign")
router.message.filter(IsSecretariat())
router.callback_query.filter(IsSecretariat())


async def _agencies(session: AsyncSession) -> list[Agency]:
    return [a for a in await list_agencies(session) if a.active]


async def render_agencies(
    bot: Bot, chat: int, session: AsyncSession, edit: Any = None, page: int = 0
) -> None:
    shown = paginate(await _agencies(session), page)
    await show(bot, chat, view.agencies_text(shown), kb.agencies_kb(shown), edit)


async def render_board(
    bot: Bot,
    chat: int,
    session: AsyncSession,
    actor: Actor,
    agency_id: int,
    edit: Any = None,
    page: int = 0,
    at: str | None = None,
) -> None:
    """Page `page` of the fields (or the page holding field `at`) as seen from one agency."""
    agency = await session.get(Agency, agency_id)
    if agency is None:
        raise ServiceError("forbidden")
    period = await active_period(session)
    slots = await field_slots(session, actor, period)
    if at is not None:
        page = page_of(slots, lambda slot: slot.scope == at, page)
    shown = paginate(slots, page)
    back = page_of(await _agencies(session), lambda a: a.id == agency.id)
    text = view.assign_text(agency.name, period.year, shown)
    await show(bot, chat, text, kb.assign_kb(agency.id, shown, back), edit)


async def _rerender(event: CallbackQuery | Message, kwargs: dict[str, Any]) -> None:
    await render_agencies(kwargs["bot"], chat_of(event), kwargs["session"], edit_target(event))


screen = guarded(_rerender)


@router.message(Command("assign"))
@screen
async def cmd_assign(message: Message, session: AsyncSession, bot: Bot) -> None:
    await render_agencies(bot, message.chat.id, session)


@router.callback_query(kb.SAssign.filter())
@screen
async def on_assign(
    callback: CallbackQuery, callback_data: kb.SAssign, session: AsyncSession, actor: Actor, bot: Bot
) -> None:
    chat, edit = callback.from_user.id, edit_target(callback)
    if not callback_data.ag:
        await render_agencies(bot, chat, session, edit)
        return
    if callback_data.f:
        period = await active_period(session)
        await toggle_field(session, actor, period, callback_data.ag, callback_data.f)
    at = callback_data.f or None
    await render_board(bot, chat, session, actor, callback_data.ag, edit, at=at)


@router.callback_query(kb.SPage.filter(F.v.in_({"ag", "af"})))
@screen
async def on_page(
    callback: CallbackQuery, callback_data: kb.SPage, session: AsyncSession, actor: Actor, bot: Bot
) -> None:
    """◀ ▶ through the agencies, or through the fields seen from agency k."""
    chat, edit, page = callback.from_user.id, edit_target(callback), callback_data.p
    if callback_data.v == "af":
        await render_board(bot, chat, session, actor, callback_data.k, edit, page)
    else:
        await render_agencies(bot, chat, session, edit, page)
