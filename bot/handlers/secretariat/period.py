"""/period: the stages and dates; change a deadline (with a confirmation) or move the period on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.handlers.screen import chat_of, edit_target, guarded, show
from bot.handlers.secretariat.common import IsSecretariat
from bot.services import cycle
from bot.services.actor import Actor
from bot.services.errors import ServiceError
from bot.services.periods import STAGE_COLUMNS, active_period, parse_stage_time, period_info, set_deadline
from bot.ui import secretariat_kb as kb
from bot.ui import secretariat_view as view

router = Router(name="secretariat.period")
router.message.filter(IsSecretariat())
router.callback_query.filter(IsSecretariat())


class PeriodForm(StatesGroup):
    deadline = State()


async def render(bot: Bot, chat: int, session: AsyncSession, edit: Any = None, notice: str = "") -> None:
    period = await active_period(session)
    info = await period_info(session, period)
    await show(bot, chat, view.period_text(info, notice), kb.period_kb(cycle.next_status(info.status)), edit)


async def _rerender(event: CallbackQuery | Message, kwargs: dict[str, Any]) -> None:
    await kwargs["state"].clear()
    await render(kwargs["bot"], chat_of(event), kwargs["session"], edit_target(event))


screen = guarded(_rerender)


def reschedule(notify: Any) -> None:
    """Reminders follow the period: the notify package derives its jobs from the period's dates and
    re-derives them when told (`Notifications.changed`, in the dispatcher's data as `notify`)."""
    changed = getattr(notify, "changed", None)
    if callable(changed):
        changed()


@router.message(Command("period"))
@screen
async def cmd_period(message: Message, session: AsyncSession, bot: Bot, state: FSMContext) -> None:
    await state.clear()
    await render(bot, message.chat.id, session)


@router.callback_query(kb.SPeriod.filter())
@screen
async def on_period(
    callback: CallbackQuery,
    callback_data: kb.SPeriod,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    state: FSMContext,
    notify: Any = None,
) -> None:
    chat, edit = callback.from_user.id, edit_target(callback)
    period = await active_period(session)
    action, stage = callback_data.a, callback_data.s
    if action == "home":
        await state.clear()
        await render(bot, chat, session, edit)
    elif action == "dl" and stage in STAGE_COLUMNS:
        await state.set_state(PeriodForm.deadline)
        await state.set_data({"stage": stage, "year": period.year})
        current = getattr(period, STAGE_COLUMNS[stage])
        await show(bot, chat, view.deadline_prompt(stage, current), None, edit)
    elif action == "dlok":
        data = await state.get_data()
        if data.get("stage") != stage or "when" not in data or data.get("year") != period.year:
            await render(bot, chat, session, edit)
            return
        await state.clear()
        await set_deadline(session, actor, period.year, stage, datetime.fromisoformat(str(data["when"])))
        reschedule(notify)
        await render(bot, chat, session, edit, _("✅ Deadline changed."))
    elif action == "adv":
        if cycle.next_status(period.status) != stage:
            raise ServiceError("wrong_stage", year=period.year, status=period.status, target=stage)
        await show(
            bot,
            chat,
            view.advance_confirm(period.year, stage),
            kb.confirm_kb(kb.SPeriod(a="advok", s=stage), kb.SPeriod(a="home")),
            edit,
        )
    elif action == "advok":
        await cycle.advance(session, actor, period.year, stage)
        reschedule(notify)
        notice = _("✅ The period is now at: {status}.").format(status=view.status_label(stage))
        await render(bot, chat, session, edit, notice)
    else:
        await render(bot, chat, session, edit)


@router.message(StateFilter(PeriodForm.deadline), F.text)
@screen
async def on_deadline_text(
    message: Message, session: AsyncSession, bot: Bot, state: FSMContext, settings: Settings
) -> None:
    data = await state.get_data()
    stage = str(data.get("stage"))
    period = await active_period(session)
    when = parse_stage_time(message.text or "", settings.tz)
    await state.update_data(when=when.isoformat())
    current = getattr(period, STAGE_COLUMNS[stage])
    await show(
        bot,
        message.chat.id,
        view.deadline_confirm(stage, current, when),
        kb.confirm_kb(kb.SPeriod(a="dlok", s=stage), kb.SPeriod(a="home")),
    )
