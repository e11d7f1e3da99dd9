"""The appraiser in chat (SPEC §5, issue 4 §2): /pending, items one by one, decisions.

Thin: parse, call `bot.services.appraisal`, render. A refused action (another agency's item, a
closed round, a missing reason) gets one sentence and the current screen again.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handlers.cycle_ui import send_evidence
from bot.handlers.screen import chat_of, edit_target, guarded, item_on_screen, show
from bot.scoring.fmt import fmt_points
from bot.scoring.rules import choices
from bot.services import appraisal as svc
from bot.services.actor import Actor
from bot.services.errors import ServiceError
from bot.text import N_, esc
from bot.ui import appraiser_kb as kb
from bot.ui import appraiser_view as view
from bot.ui.officer_view import how_to_answer
from bot.ui.paging import page_of, paginate

router = Router(name="appraiser")

COMMANDS: dict[str, list[tuple[str, str]]] = {
    "appraiser": [("pending", N_("Items waiting for your agency's appraisal"))],
}


class AppraiserForm(StatesGroup):
    value = State()  # typed new value for an adjustment
    reason = State()  # reason of the adjustment
    note = State()  # supplement request
    na_reason = State()  # refusal of an N/A claim


async def render_home(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    actor: Actor,
    edit: Message | None = None,
    page: int = 0,
    at: int | None = None,
) -> None:
    """Page `page` of the queue's units, or the page holding sheet `at` (back from its items)."""
    found = await svc.pending(session, actor)
    if at is not None:
        page = page_of(found.by_unit, lambda c: c.key == str(at), page)
    units = paginate(found.by_unit, page)
    await show(bot, chat_id, view.home_text(found, units), kb.home_kb(units), edit)


async def render_item(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    actor: Actor,
    aid: int,
    code: str,
    locale: str,
    state: FSMContext,
    edit: Message | None = None,
    *,
    notice: str = "",
    with_evidence: bool = False,
) -> None:
    ctx = await svc.open_item(session, actor, aid, code)
    await state.clear()
    if with_evidence and ctx.evidence:
        await send_evidence(bot, chat_id, ctx.evidence)
        edit = None  # the screen goes below the files
    await show(bot, chat_id, view.item_text(ctx, locale, notice), kb.item_kb(ctx), edit)


async def render_next(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    actor: Actor,
    aid: int,
    after: str | None,
    locale: str,
    state: FSMContext,
    edit: Message | None = None,
    notice: str = "",
) -> None:
    """The unit's next pending item after `after` (wrapping round), or the queue when none is left."""
    queue = await svc.unit_queue(session, actor, aid)
    codes = [q.item_code for q in queue if q.item_code != after]
    if not codes:
        await state.clear()
        done = _("No more items of this unit are waiting for you.")
        found = await svc.pending(session, actor)
        units = paginate(found.by_unit, 0)
        text = (notice + "\n\n" if notice else "") + done + "\n\n" + view.home_text(found, units)
        await show(bot, chat_id, text, kb.home_kb(units), edit)
        return
    later = [c for c in codes if after is not None and svc.code_key(c) > svc.code_key(after)]
    await render_item(
        bot,
        chat_id,
        session,
        actor,
        aid,
        (later or codes)[0],
        locale,
        state,
        edit,
        notice=notice,
        with_evidence=True,
    )


async def _rerender(event: CallbackQuery | Message, kwargs: dict[str, Any]) -> None:
    session: AsyncSession = kwargs["session"]
    state: FSMContext = kwargs["state"]
    aid, code = await item_on_screen(kwargs)
    args = (kwargs["bot"], chat_of(event), session, kwargs["actor"])
    if aid is not None and code:
        try:
            await render_item(*args, aid, code, kwargs["locale"], state, edit_target(event))
            return
        except Exception:
            await session.rollback()
    await state.clear()
    await render_home(*args, edit_target(event))


screen = guarded(_rerender)


@router.message(Command("pending"))
@screen
async def cmd_pending(
    message: Message, session: AsyncSession, actor: Actor, bot: Bot, state: FSMContext
) -> None:
    await state.clear()
    await render_home(bot, message.chat.id, session, actor)


@router.callback_query(kb.AHome.filter())
@screen
async def on_home(
    callback: CallbackQuery, session: AsyncSession, actor: Actor, bot: Bot, state: FSMContext
) -> None:
    await state.clear()
    await render_home(bot, callback.from_user.id, session, actor, edit_target(callback))


@router.callback_query(kb.APage.filter())
@screen
async def on_page(
    callback: CallbackQuery,
    callback_data: kb.APage,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    state: FSMContext,
) -> None:
    await state.clear()
    at = callback_data.u or None
    await render_home(bot, callback.from_user.id, session, actor, edit_target(callback), callback_data.p, at)


@router.callback_query(kb.AUnit.filter())
@screen
async def on_unit(
    callback: CallbackQuery,
    callback_data: kb.AUnit,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    locale: str,
    state: FSMContext,
) -> None:
    await render_next(
        bot,
        callback.from_user.id,
        session,
        actor,
        callback_data.aid,
        None,
        locale,
        state,
        edit_target(callback),
    )


@router.callback_query(kb.AItem.filter())
@screen
async def on_item(
    callback: CallbackQuery,
    callback_data: kb.AItem,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    locale: str,
    state: FSMContext,
) -> None:
    await render_item(
        bot,
        callback.from_user.id,
        session,
        actor,
        callback_data.aid,
        callback_data.c,
        locale,
        state,
        edit_target(callback),
    )


@router.callback_query(kb.AAct.filter())
@screen
async def on_action(
    callback: CallbackQuery,
    callback_data: kb.AAct,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    locale: str,
    state: FSMContext,
) -> None:
    aid, code, action = callback_data.aid, callback_data.c, callback_data.a
    chat = callback.from_user.id
    edit = edit_target(callback)
    if action == "next":
        await render_next(bot, chat, session, actor, aid, code, locale, state, edit)
        return
    if action == "ev":
        ctx = await svc.open_item(session, actor, aid, code)
        await send_evidence(bot, chat, ctx.evidence)
        await render_item(bot, chat, session, actor, aid, code, locale, state)
        return
    if action in ("ok", "keep"):
        if action == "ok":
            await svc.accept(session, actor, aid, code)
            notice = _("✅ {code} accepted.").format(code=esc(code))
        else:
            await svc.keep_first(session, actor, aid, code)
            notice = _("↩ {code}: appraisal 1 stands.").format(code=esc(code))
        await render_next(bot, chat, session, actor, aid, code, locale, state, edit, notice)
        return
    ctx = await svc.open_item(session, actor, aid, code)
    if ctx.round is None:
        raise ServiceError("stage_closed", year=ctx.period.year, status=ctx.period.status)
    await state.set_data({"aid": aid, "code": code})
    if action == "adj":
        if choices(ctx.leaf):
            await show(bot, chat, view.adjust_prompt(ctx, ""), kb.adjust_kb(ctx, locale), edit)
        else:
            await state.set_state(AppraiserForm.value)
            await show(
                bot, chat, view.adjust_prompt(ctx, how_to_answer(ctx.leaf)), kb.cancel_kb(aid, code), edit
            )
    elif action == "sup":
        await state.set_state(AppraiserForm.note)
        await show(bot, chat, view.note_prompt(ctx), kb.cancel_kb(aid, code), edit)
    elif action == "nar":
        await state.set_state(AppraiserForm.na_reason)
        await show(bot, chat, view.na_prompt(ctx), kb.cancel_kb(aid, code), edit)


async def _ask_reason(
    bot: Bot,
    chat: int,
    session: AsyncSession,
    actor: Actor,
    aid: int,
    code: str,
    value: str,
    locale: str,
    state: FSMContext,
    edit: Message | None,
) -> None:
    ctx = await svc.open_item(session, actor, aid, code)
    answer = svc.preview_adjust(ctx, value)
    await state.set_state(AppraiserForm.reason)
    await state.set_data({"aid": aid, "code": code, "value": answer.raw})
    await show(bot, chat, view.reason_prompt(ctx, answer, locale), kb.cancel_kb(aid, code), edit)


@router.callback_query(kb.AVal.filter())
@screen
async def on_value_button(
    callback: CallbackQuery,
    callback_data: kb.AVal,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    locale: str,
    state: FSMContext,
) -> None:
    await _ask_reason(
        bot,
        callback.from_user.id,
        session,
        actor,
        callback_data.aid,
        callback_data.c,
        callback_data.v,
        locale,
        state,
        edit_target(callback),
    )


@router.message(StateFilter(AppraiserForm.value), F.text)
@screen
async def on_value_text(
    message: Message, session: AsyncSession, actor: Actor, bot: Bot, locale: str, state: FSMContext
) -> None:
    data = await state.get_data()
    await _ask_reason(
        bot,
        message.chat.id,
        session,
        actor,
        int(data["aid"]),
        str(data["code"]),
        message.text or "",
        locale,
        state,
        None,
    )


@router.message(StateFilter(AppraiserForm.reason), F.text)
@screen
async def on_reason(
    message: Message, session: AsyncSession, actor: Actor, bot: Bot, locale: str, state: FSMContext
) -> None:
    data = await state.get_data()
    aid, code = int(data["aid"]), str(data["code"])
    _ctx, answer = await svc.adjust(session, actor, aid, code, str(data["value"]), message.text or "")
    notice = _("✏️ {code} adjusted to {points} points.").format(
        code=esc(code), points=fmt_points(answer.points, locale)
    )
    await render_next(bot, message.chat.id, session, actor, aid, code, locale, state, notice=notice)


@router.message(StateFilter(AppraiserForm.note, AppraiserForm.na_reason), F.text)
@screen
async def on_request(
    message: Message, session: AsyncSession, actor: Actor, bot: Bot, locale: str, state: FSMContext
) -> None:
    """What the unit is asked for: a supplement (note) or the reason an N/A claim is refused."""
    data = await state.get_data()
    aid, code = int(data["aid"]), str(data["code"])
    if await state.get_state() == AppraiserForm.note.state:
        await svc.request_supplement(session, actor, aid, code, message.text or "")
        notice = _("📎 Supplement requested for {code}; the unit has been notified.").format(code=esc(code))
    else:
        await svc.refuse_na(session, actor, aid, code, message.text or "")
        notice = _("🚫 N/A refused for {code}; the unit has been notified.").format(code=esc(code))
    await render_next(bot, message.chat.id, session, actor, aid, code, locale, state, notice=notice)


@router.callback_query(kb.AField.filter())
@screen
async def on_field(
    callback: CallbackQuery,
    callback_data: kb.AField,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    locale: str,
    state: FSMContext,
) -> None:
    aid, field_code = callback_data.aid, callback_data.f
    chat, edit = callback.from_user.id, edit_target(callback)
    stored = await state.get_data()
    if callback_data.a == "ask":
        queue = [q for q in await svc.unit_queue(session, actor, aid) if q.field_code == field_code]
        if not queue:
            await render_next(bot, chat, session, actor, aid, None, locale, state, edit)
            return
        text = view.field_confirm(queue[0].unit_name, field_code, len(queue))
        back = stored.get("code") or queue[0].item_code
        await show(bot, chat, text, kb.field_confirm_kb(aid, field_code, str(back)), edit)
        return
    codes = await svc.accept_field(session, actor, aid, field_code)
    notice = _("✅ {n} item(s) of field {field} accepted.").format(n=len(codes), field=esc(field_code))
    await render_next(bot, chat, session, actor, aid, None, locale, state, edit, notice)
