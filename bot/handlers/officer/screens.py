"""Rendering the officer's screens, and the one sentence for a refused action (with the current,
read-only screen again when the sheet is locked)."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handlers.screen import chat_of, edit_target, item_on_screen, show
from bot.handlers.screen import guarded as refusal_guard
from bot.services import assessment as svc
from bot.services.actor import Actor
from bot.text import N_
from bot.ui import officer_kb as kb
from bot.ui import officer_view as view
from bot.ui.errors import register_error_messages

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


async def _rerender(event: CallbackQuery | Message, kwargs: dict[str, Any]) -> None:
    session: AsyncSession = kwargs["session"]
    actor: Actor = kwargs["actor"]
    state: FSMContext = kwargs["state"]
    bot: Bot = kwargs["bot"]
    locale: str = kwargs["locale"]
    aid, code = await item_on_screen(kwargs)
    if aid is None:
        return
    sheet = await svc.load_sheet(session, actor, aid)
    if code and sheet.criteria.leaf(code) is not None:
        await render_item(bot, chat_of(event), sheet, code, locale, state, edit_target(event))
    else:
        await state.clear()
        await render_home(bot, chat_of(event), sheet, locale, edit_target(event))


#: Turn a refusal into one clear sentence; when the sheet is locked (a stale button after
#: submission, a value typed after the deadline) also show the current, read-only screen.
guarded = refusal_guard(_rerender, prefix="", rerender_on=LOCKS)


def no_prompt() -> str:
    return _("Send /score to open your sheet.")
