"""Answering an item: choice buttons, typed values with a preview before saving, explanation,
page/section note, not applicable, clearing. Every answer is committed by the service before the
bot says it is saved."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handlers.officer.screens import OfficerForm, guarded, no_prompt, render_item
from bot.handlers.screen import edit_target, show
from bot.scoring.rules import expects_text
from bot.services import assessment as svc
from bot.services import evidence as ev
from bot.services.actor import Actor
from bot.text import N_, esc
from bot.ui import officer_kb as kb
from bot.ui import officer_view as view

router = Router(name="officer.answers")

PROMPTS = {
    "exp": (
        OfficerForm.explanation,
        N_("Send the explanation of how this item was scored (send - to delete it)."),
    ),
    "note": (
        OfficerForm.note,
        N_("Send the page or section of the evidence, e.g. “p. 3, section II” (- to delete)."),
    ),
    "na": (OfficerForm.na_reason, N_("Why does this item not apply to your unit? Send the reason.")),
}


@router.callback_query(kb.OAns.filter())
@guarded
async def on_choice(
    callback: CallbackQuery,
    callback_data: kb.OAns,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    locale: str,
    state: FSMContext,
) -> None:
    aid, code = callback_data.aid, callback_data.c
    answer, _state = await svc.save_answer(session, actor, aid, code, callback_data.v)
    sheet = await svc.load_sheet(session, actor, aid)
    notice = view.saved_notice(code, answer, locale)
    await render_item(bot, callback.from_user.id, sheet, code, locale, state, edit_target(callback), notice)


@router.callback_query(kb.OAct.filter())
@guarded
async def on_action(
    callback: CallbackQuery,
    callback_data: kb.OAct,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    locale: str,
    state: FSMContext,
) -> None:
    aid, code, action = callback_data.aid, callback_data.c, callback_data.a
    chat_id = callback.from_user.id
    edit = edit_target(callback)
    sheet = await svc.load_sheet(session, actor, aid)
    if action == "cancel":
        await render_item(bot, chat_id, sheet, code, locale, state, edit)
        return
    if action == "save":
        data = await state.get_data()
        pending = data.get("pending")
        if data.get("aid") != aid or data.get("code") != code or not pending:
            await render_item(bot, chat_id, sheet, code, locale, state, edit)
            return
        answer, _item = await svc.save_answer(session, actor, aid, code, str(pending))
        sheet = await svc.load_sheet(session, actor, aid)
        notice = view.saved_notice(code, answer, locale)
        await render_item(bot, chat_id, sheet, code, locale, state, edit, notice)
        return
    if action == "clr":
        await svc.clear_answer(session, actor, aid, code)
        sheet = await svc.load_sheet(session, actor, aid)
        await render_item(bot, chat_id, sheet, code, locale, state, edit, _("🗑 The answer was cleared."))
        return
    if action == "ev":
        rows = await ev.list_evidence(session, actor, aid, code)
        await state.set_state(OfficerForm.evidence if sheet.editable else OfficerForm.item)
        await state.set_data({"aid": aid, "code": code})
        names = [(row.id, row.file_name or row.kind) for row in rows]
        await show(
            bot,
            chat_id,
            view.evidence_text(code, rows, sheet.editable, locale),
            kb.evidence_kb(aid, code, names, sheet.editable),
            edit,
        )
        return
    # The remaining actions change the item: refuse them at once on a locked sheet.
    svc.ensure_editable(sheet)
    leaf = sheet.leaf(code)
    if action == "val" and expects_text(leaf):
        await state.set_state(OfficerForm.value)
        await state.set_data({"aid": aid, "code": code})
        text = _("<b>{code}</b>: send the value.").format(code=esc(code)) + "\n" + view.how_to_answer(leaf)
        await show(bot, chat_id, text, kb.back_to_item_kb(aid, code), edit)
        return
    if action in PROMPTS:
        form_state, prompt = PROMPTS[action]
        await state.set_state(form_state)
        await state.set_data({"aid": aid, "code": code})
        await show(bot, chat_id, f"<b>{esc(code)}</b>: " + _(prompt), kb.back_to_item_kb(aid, code), edit)
        return
    await render_item(bot, chat_id, sheet, code, locale, state, edit)


async def _context(state: FSMContext) -> tuple[int, str] | None:
    data = await state.get_data()
    if "aid" not in data or "code" not in data:
        return None
    return int(data["aid"]), str(data["code"])


# Commands (any text starting with "/") pass through to their own handlers, also mid-conversation.
TYPED = F.text & ~F.text.startswith("/")


@router.message(StateFilter(OfficerForm.value, OfficerForm.confirm, OfficerForm.item), TYPED)
@guarded
async def on_value(
    message: Message, session: AsyncSession, actor: Actor, bot: Bot, locale: str, state: FSMContext
) -> None:
    """A typed value: scored and shown with its points; saved only when the person presses Save."""
    context = await _context(state)
    text = message.text or ""
    if context is None:
        await message.answer(no_prompt())
        return
    aid, code = context
    sheet = await svc.load_sheet(session, actor, aid)
    if not expects_text(sheet.leaf(code)):
        await message.answer(_("Please use the buttons under the item to answer it."))
        return
    answer = await svc.preview_answer(session, actor, aid, code, text)
    await state.set_state(OfficerForm.confirm)
    await state.set_data({"aid": aid, "code": code, "pending": text})
    await show(bot, message.chat.id, view.preview_text(code, answer, locale), kb.confirm_value_kb(aid, code))


@router.message(StateFilter(OfficerForm.explanation, OfficerForm.note, OfficerForm.na_reason), TYPED)
@guarded
async def on_text(
    message: Message, session: AsyncSession, actor: Actor, bot: Bot, locale: str, state: FSMContext
) -> None:
    context = await _context(state)
    current = await state.get_state()
    text = (message.text or "").strip()
    if context is None:
        await message.answer(no_prompt())
        return
    aid, code = context
    value = None if text in ("-", "—") else text
    if current == OfficerForm.explanation.state:
        await svc.set_explanation(session, actor, aid, code, value)
        notice = _("✅ Explanation saved.") if value else _("🗑 Explanation deleted.")
    elif current == OfficerForm.note.state:
        await svc.set_evidence_note(session, actor, aid, code, value)
        notice = _("✅ Page/section saved.") if value else _("🗑 Page/section deleted.")
    else:
        await svc.claim_na(session, actor, aid, code, text)
        notice = _("✅ Marked as not applicable.")
    sheet = await svc.load_sheet(session, actor, aid)
    await render_item(bot, message.chat.id, sheet, code, locale, state, None, notice)


@router.message(StateFilter(OfficerForm.evidence), TYPED)
async def on_text_in_evidence(message: Message) -> None:
    await message.answer(
        _("Send documents or photos (an album is fine) to attach them to this item.")
        + "\n"
        + _("To write an explanation, go back to the item and press 📝.")
    )
