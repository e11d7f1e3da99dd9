"""/survey: survey results in chat — pick a unit, an item, type the points."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handlers.screen import chat_of, edit_target, guarded, show
from bot.handlers.secretariat.common import IsSecretariat
from bot.scoring.fmt import fmt_points
from bot.services import survey as svc
from bot.services.actor import Actor
from bot.services.errors import ServiceError
from bot.services.periods import active_period
from bot.text import esc
from bot.ui import secretariat_kb as kb
from bot.ui import secretariat_view as view
from bot.ui.paging import page_of, paginate

router = Router(name="secretariat.survey")
router.message.filter(IsSecretariat())
router.callback_query.filter(IsSecretariat())


class SurveyForm(StatesGroup):
    points = State()


async def _units(session: AsyncSession, actor: Actor) -> tuple[int, list[svc.SurveyUnit]]:
    period = await active_period(session)
    return period.year, await svc.survey_units(session, actor, period.year)


async def render_units(
    bot: Bot,
    chat: int,
    session: AsyncSession,
    actor: Actor,
    edit: Any = None,
    notice: str = "",
    page: int = 0,
) -> None:
    year, units = await _units(session, actor)
    shown = paginate(units, page)
    text = (notice + "\n\n" if notice else "") + view.survey_units_text(shown, year)
    await show(bot, chat, text, kb.survey_units_kb(shown), edit)


async def render_unit(
    bot: Bot,
    chat: int,
    session: AsyncSession,
    actor: Actor,
    unit_id: int,
    locale: str,
    edit: Any = None,
    notice: str = "",
    page: int = 0,
    at: str | None = None,
) -> None:
    """Page `page` of the unit's survey items, or the page holding item `at`."""
    _year, units = await _units(session, actor)
    su = next((u for u in units if u.unit.id == unit_id), None)
    if su is None:
        raise ServiceError("forbidden")
    if at is not None:
        page = page_of(su.items, lambda pair: pair[0].code == at, page)
    items = paginate(su.items, page)
    back = page_of(units, lambda u: u.unit.id == unit_id)
    text = (notice + "\n\n" if notice else "") + view.survey_unit_text(su, items, locale)
    await show(bot, chat, text, kb.survey_items_kb(su, items, back), edit)


async def _rerender(event: CallbackQuery | Message, kwargs: dict[str, Any]) -> None:
    await kwargs["state"].clear()
    await render_units(kwargs["bot"], chat_of(event), kwargs["session"], kwargs["actor"], edit_target(event))


screen = guarded(_rerender)


@router.message(Command("survey"))
@screen
async def cmd_survey(
    message: Message, session: AsyncSession, actor: Actor, bot: Bot, state: FSMContext
) -> None:
    await state.clear()
    await render_units(bot, message.chat.id, session, actor)


@router.callback_query(kb.SSurvey.filter())
@screen
async def on_survey(
    callback: CallbackQuery,
    callback_data: kb.SSurvey,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    state: FSMContext,
    locale: str,
) -> None:
    chat, edit = callback.from_user.id, edit_target(callback)
    if callback_data.a == "unit":
        await state.clear()
        await render_unit(bot, chat, session, actor, callback_data.u, locale, edit)
        return
    if callback_data.a == "item":
        _year, units = await _units(session, actor)
        su = next((u for u in units if u.unit.id == callback_data.u), None)
        leaf = next((leaf for leaf, _v in su.items if leaf.code == callback_data.c), None) if su else None
        if su is None or leaf is None:
            raise ServiceError("forbidden")
        await state.set_state(SurveyForm.points)
        await state.set_data({"u": su.unit.id, "c": leaf.code})
        await show(
            bot,
            chat,
            view.survey_prompt(su.unit.name, leaf.code, fmt_points(leaf.max_points, locale)),
            None,
            edit,
        )
        return
    await state.clear()
    await render_units(bot, chat, session, actor, edit)


@router.callback_query(kb.SPage.filter(F.v.in_({"su", "si"})))
@screen
async def on_page(
    callback: CallbackQuery,
    callback_data: kb.SPage,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    state: FSMContext,
    locale: str,
) -> None:
    """◀ ▶ through the units, or through one unit's survey items (k)."""
    await state.clear()
    chat, edit, page = callback.from_user.id, edit_target(callback), callback_data.p
    if callback_data.v == "si":
        await render_unit(bot, chat, session, actor, callback_data.k, locale, edit, page=page)
    else:
        await render_units(bot, chat, session, actor, edit, page=page)


@router.message(StateFilter(SurveyForm.points), F.text)
@screen
async def on_points(
    message: Message, session: AsyncSession, actor: Actor, bot: Bot, state: FSMContext, locale: str
) -> None:
    data = await state.get_data()
    period = await active_period(session)
    unit_id, code = int(data["u"]), str(data["c"])
    answer = await svc.set_survey_points(session, actor, period.year, unit_id, code, message.text or "")
    await state.clear()
    notice = _("✅ {code}: {points} points saved.").format(
        code=esc(code), points=fmt_points(answer.points, locale)
    )
    await render_unit(bot, message.chat.id, session, actor, unit_id, locale, None, notice, at=code)
