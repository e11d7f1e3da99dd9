"""/notranked: list the units marked "not ranked"; `/notranked CODE reason` marks one (after a
confirmation); a button ranks a unit again (seed 003)."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handlers.screen import chat_of, edit_target, guarded, show
from bot.handlers.secretariat.common import IsSecretariat
from bot.services import cycle
from bot.services.actor import Actor
from bot.services.periods import active_period
from bot.services.units import get_unit
from bot.text import esc
from bot.ui import secretariat_kb as kb
from bot.ui import secretariat_view as view
from bot.ui.paging import page_of, paginate

router = Router(name="secretariat.not_ranked")
router.message.filter(IsSecretariat())
router.callback_query.filter(IsSecretariat())


async def render(
    bot: Bot,
    chat: int,
    session: AsyncSession,
    edit: Any = None,
    notice: str = "",
    page: int = 0,
    at: str | None = None,
) -> None:
    """Page `page` of the units not ranked, or the page where unit `at` is (or was)."""
    period = await active_period(session)
    units = [(u.code, u.name, r) for u, r in await cycle.not_ranked_units(session, period.year)]
    if at is not None:
        codes = [code for code, _name, _reason in units]
        codes = codes if at in codes else sorted([*codes, at])  # cleared: where it was
        page = page_of(codes, lambda code: code == at, page, view.NOT_RANKED_PAGE)
    shown = paginate(units, page, view.NOT_RANKED_PAGE)
    text = (notice + "\n\n" if notice else "") + view.not_ranked_text(shown)
    pickers = paginate([(code, name) for code, name, _r in units], shown.number, view.NOT_RANKED_PAGE)
    await show(bot, chat, text, kb.not_ranked_kb(pickers), edit)


async def _rerender(event: CallbackQuery | Message, kwargs: dict[str, Any]) -> None:
    await kwargs["state"].clear()
    await render(kwargs["bot"], chat_of(event), kwargs["session"], edit_target(event))


screen = guarded(_rerender)


@router.message(Command("notranked"))
@screen
async def cmd_not_ranked(
    message: Message, command: CommandObject, session: AsyncSession, bot: Bot, state: FSMContext
) -> None:
    code, _sep, reason = (command.args or "").strip().partition(" ")
    if not code:
        await state.clear()
        await render(bot, message.chat.id, session)
        return
    unit = await get_unit(session, code)
    if not reason.strip():
        await message.answer(_("Please give a reason: /notranked {code} reason").format(code=esc(unit.code)))
        return
    await state.set_data({"not_ranked": unit.code, "reason": reason.strip()})
    text = _("Mark <b>{unit}</b> as not ranked?\nReason: {reason}").format(
        unit=esc(unit.name), reason=esc(reason.strip())
    )
    await show(bot, message.chat.id, text, kb.confirm_kb(kb.SRank(a="ok", u=unit.code), kb.SRank(a="cancel")))


@router.callback_query(kb.SRank.filter())
@screen
async def on_rank(
    callback: CallbackQuery,
    callback_data: kb.SRank,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    state: FSMContext,
) -> None:
    chat, edit = callback.from_user.id, edit_target(callback)
    period = await active_period(session)
    data = await state.get_data()
    if callback_data.a == "ok" and data.get("not_ranked") == callback_data.u:
        await state.clear()
        await cycle.set_not_ranked(session, actor, period.year, callback_data.u, str(data["reason"]))
        notice = _("✅ {code} is marked not ranked.").format(code=esc(callback_data.u))
        await render(bot, chat, session, edit, notice, at=callback_data.u)
    elif callback_data.a == "clear":
        await cycle.set_not_ranked(session, actor, period.year, callback_data.u, None)
        notice = _("✅ {code} is ranked again.").format(code=esc(callback_data.u))
        await render(bot, chat, session, edit, notice, at=callback_data.u)
    else:
        await state.clear()
        await render(bot, chat, session, edit)


@router.callback_query(kb.SPage.filter(F.v == "nr"))
@screen
async def on_page(callback: CallbackQuery, callback_data: kb.SPage, session: AsyncSession, bot: Bot) -> None:
    await render(bot, callback.from_user.id, session, edit_target(callback), page=callback_data.p)
