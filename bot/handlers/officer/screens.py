"""Rendering the officer's screens in place, and the one sentence for a refused action.

A screen is edited in place when it came from a button (no chat flooding); a screen after typed
input is a new message. Texts over Telegram's limit are split, the keyboard on the last part.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.scoring.numbers import InputError
from bot.services import assessment as svc
from bot.services.actor import Actor
from bot.services.errors import ServiceError
from bot.ui import officer_kb as kb
from bot.ui import officer_view as view
from bot.ui.errors import error_text, register_error_messages
from bot.ui.text import N_, split_text

log = logging.getLogger("bot.officer")

register_error_messages(
    {
        "submitted": N_("This sheet has been submitted; it can no longer be changed."),
        "period_locked": N_("The self-assessment stage is closed; the sheet can no longer be changed."),
        "head_only": N_("Only the unit head can do this."),
        "incomplete": N_("The sheet cannot be submitted yet: some items are missing (see the review)."),
        "na_not_allowed": N_("This item cannot be marked as not applicable."),
        "reason_required": N_("Please give a reason."),
        "not_self_scored": N_("This item is scored by the survey, not by the unit."),
        "too_long": N_("The text is too long (at most {max} characters)."),
        "not_submitted": N_("The sheet has not been submitted."),
        "already_appraised": N_("Appraisal has started; the submission can no longer be withdrawn."),
    }
)

LOCKS = frozenset({"submitted", "period_locked"})


class OfficerForm(StatesGroup):
    item = State()  # on an item screen: typed numbers are values, files are evidence
    value = State()  # waiting for a typed value
    confirm = State()  # a previewed value waits for Save
    explanation = State()
    note = State()
    na_reason = State()
    evidence = State()  # the evidence list is open: files are attached


async def show(
    bot: Bot,
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None,
    edit: Message | None = None,
) -> Message | None:
    parts = split_text(text)
    if edit is not None and len(parts) == 1:
        try:
            result = await edit.edit_text(parts[0], reply_markup=markup)
            return result if isinstance(result, Message) else edit
        except TelegramBadRequest as exc:
            if "not modified" in str(exc):
                return edit
            log.info("edit failed (%s); sending a new screen", exc)
    message: Message | None = None
    for i, part in enumerate(parts):
        message = await bot.send_message(chat_id, part, reply_markup=markup if i == len(parts) - 1 else None)
    return message


def _edit_target(event: CallbackQuery | Message) -> Message | None:
    if isinstance(event, CallbackQuery) and isinstance(event.message, Message):
        return event.message
    return None


async def render_home(
    bot: Bot, chat_id: int, sheet: svc.Sheet, locale: str, edit: Message | None = None
) -> None:
    fields = svc.field_progress(sheet)
    await show(bot, chat_id, view.home_text(sheet, fields, locale), kb.home_kb(sheet, fields), edit)


async def render_field(
    bot: Bot, chat_id: int, sheet: svc.Sheet, code: str, locale: str, edit: Message | None = None
) -> None:
    area = svc.find_field(sheet, code)
    progress = svc.criterion_progress(sheet, code)
    has_subs = {c.code: bool(c.sub_criteria) for c in area.criteria}
    text = view.field_text(sheet, area.code, area.name, progress, locale)
    await show(bot, chat_id, text, kb.field_kb(sheet, progress, has_subs), edit)


async def render_criterion(
    bot: Bot, chat_id: int, sheet: svc.Sheet, code: str, locale: str, edit: Message | None = None
) -> None:
    area, criterion = svc.find_criterion(sheet, code)
    states = [svc.item_state(sheet, leaf.code) for leaf in criterion.leaves()]
    text = view.criterion_text(sheet, criterion.code, criterion.name, states, locale)
    await show(bot, chat_id, text, kb.criterion_kb(sheet, area.code, states), edit)


async def render_item(
    bot: Bot,
    chat_id: int,
    sheet: svc.Sheet,
    code: str,
    locale: str,
    state: FSMContext,
    edit: Message | None = None,
    notice: str = "",
) -> None:
    item = svc.item_state(sheet, code)
    await state.set_state(OfficerForm.item)
    await state.set_data({"aid": sheet.assessment.id, "code": code})
    await show(
        bot, chat_id, view.item_text(sheet, item, locale, notice), kb.item_kb(sheet, item, locale), edit
    )


async def render_review(
    bot: Bot, chat_id: int, sheet: svc.Sheet, locale: str, edit: Message | None = None
) -> None:
    review = svc.review(sheet)
    await show(
        bot, chat_id, view.review_text(sheet, review, locale), kb.review_kb(sheet, review.complete), edit
    )


Handler = Callable[..., Awaitable[Any]]


def guarded(fn: Handler) -> Handler:
    """Turn a refusal into one clear sentence; when the sheet is locked (a stale button after
    submission, a value typed after the deadline) also show the current, read-only screen."""
    wanted = set(inspect.signature(fn).parameters)

    async def wrapper(event: CallbackQuery | Message, **kwargs: Any) -> Any:
        try:
            return await fn(event, **{k: v for k, v in kwargs.items() if k in wanted})
        except InputError as exc:
            await _say(kwargs["bot"], event, view.input_error_text(exc, kwargs["locale"]))
        except ServiceError as exc:
            log.info("officer: refused %s", exc.code)
            await _say(kwargs["bot"], event, error_text(exc))
            if exc.code in LOCKS:
                await _rerender(event, kwargs)
        return None

    # No functools.wraps: aiogram unwraps __wrapped__ to decide which kwargs to pass, and the
    # wrapper needs all of them (bot, locale, state...) to answer a refusal.
    wrapper.__name__ = fn.__name__
    wrapper.__qualname__ = fn.__qualname__
    wrapper.__doc__ = fn.__doc__
    return wrapper


async def _say(bot: Bot, event: CallbackQuery | Message, text: str) -> None:
    await bot.send_message(event.from_user.id if event.from_user else 0, text)


async def _rerender(event: CallbackQuery | Message, kwargs: dict[str, Any]) -> None:
    session: AsyncSession = kwargs["session"]
    actor: Actor = kwargs["actor"]
    state: FSMContext = kwargs["state"]
    bot: Bot = kwargs["bot"]
    locale: str = kwargs["locale"]
    data = await state.get_data()
    callback_data = kwargs.get("callback_data")
    aid = getattr(callback_data, "aid", None) or data.get("aid")
    code = getattr(callback_data, "c", None) or data.get("code")
    if aid is None:
        return
    chat_id = event.from_user.id if event.from_user else 0
    try:
        await session.rollback()
        sheet = await svc.load_sheet(session, actor, int(aid))
        if code and sheet.criteria.leaf(str(code)) is not None:
            await render_item(bot, chat_id, sheet, str(code), locale, state, _edit_target(event))
        else:
            await state.clear()
            await render_home(bot, chat_id, sheet, locale, _edit_target(event))
    except ServiceError:
        return


def edit_target(event: CallbackQuery) -> Message | None:
    return _edit_target(event)


def no_prompt() -> str:
    return _("Send /score to open your sheet.")
