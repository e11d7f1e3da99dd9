"""Commands every person has: /start <code> (registration), /help, /whoami, /cancel, /lang.

This router comes first, so /cancel and the other commands work from any conversation state.
"""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Agency, Unit
from bot.services.actor import Actor
from bot.services.errors import ServiceError
from bot.services.invites import redeem_invite
from bot.services.profile import Profile, get_profile, set_language
from bot.text import N_, esc
from bot.ui.common_kb import LangCb, language_keyboard
from bot.ui.errors import error_text
from bot.ui.menus import MenuRegistry, set_person_menu
from bot.ui.roles import role_help, role_label, role_rank, sort_roles

router = Router(name="common")

COMMANDS: dict[str, list[tuple[str, str]]] = {
    "*": [
        ("help", N_("What I can do for you")),
        ("whoami", N_("Your name, roles and unit")),
        ("lang", N_("Change the language")),
        ("cancel", N_("Stop what you are doing")),
    ],
}


def _place(unit_name: str | None, agency_name: str | None) -> str:
    return esc(unit_name or agency_name or "")


@router.message(CommandStart())
async def start(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    actor: Actor | None,
    bot: Bot,
    menus: MenuRegistry,
    state: FSMContext,
) -> None:
    code = (command.args or "").strip()
    if not code:
        if actor is None:
            await message.answer(error_text(ServiceError("invite_missing")))
        else:
            await message.answer(_("Hello again, {name}!").format(name=esc(actor.label)))
            await send_help(message, session, menus)
        return
    user = message.from_user
    assert user is not None  # private chats only (the gate)
    result = await redeem_invite(session, user.id, code, full_name=user.full_name, username=user.username)
    await state.clear()
    unit = await session.get(Unit, result.unit_id) if result.unit_id else None
    agency = await session.get(Agency, result.agency_id) if result.agency_id else None
    place = _place(unit.name if unit else None, agency.name if agency else None)
    if not result.new_role:
        text = _("You are already registered as <b>{role}</b> of <b>{place}</b>.")
    elif place:
        text = _("Welcome, {name}! You are now registered as <b>{role}</b> of <b>{place}</b>.")
    else:
        text = _("Welcome, {name}! You are now registered as <b>{role}</b>.")
    await message.answer(text.format(name=esc(user.full_name), role=role_label(result.role), place=place))
    await set_person_menu(bot, menus, user.id, result.actor.role_names(), result.actor.language)
    await send_help(message, session, menus)


async def send_help(message: Message, session: AsyncSession, menus: MenuRegistry) -> None:
    user = message.from_user
    profile = await get_profile(session, user.id) if user else None
    roles = sort_roles(profile.role_names()) if profile else []
    lines = [_("<b>What you can do</b>")]
    for role in roles:
        lines.append("")
        lines.append(f"<b>{role_label(role)}</b>")
        lines.append(role_help(role))
        lines.extend(f"/{cmd} — {_(desc)}" for cmd, desc in menus.for_role(role))
    lines.append("")
    lines.extend(f"/{cmd} — {_(desc)}" for cmd, desc in menus.for_role("*"))
    await message.answer("\n".join(lines))


@router.message(Command("help"))
async def help_command(message: Message, session: AsyncSession, menus: MenuRegistry) -> None:
    await send_help(message, session, menus)


def render_profile(profile: Profile) -> str:
    lines = [_("<b>{name}</b>").format(name=esc(profile.full_name))]
    if profile.username:
        lines.append(f"@{esc(profile.username)}")
    lines.append("")
    lines.append(_("Your roles:"))
    for info in sorted(profile.roles, key=lambda r: role_rank(r.role)):
        place = _place(info.unit_name, info.agency_name)
        lines.append(f"• {role_label(info.role)}" + (f" — {place}" if place else ""))
    return "\n".join(lines)


@router.message(Command("whoami"))
async def whoami(message: Message, session: AsyncSession) -> None:
    user = message.from_user
    profile = await get_profile(session, user.id) if user else None
    if profile is None:  # the gate lets only registered people through; be safe anyway
        await message.answer(error_text(ServiceError("not_registered")))
        return
    await message.answer(render_profile(profile))


@router.message(Command("cancel"))
async def cancel(message: Message, state: FSMContext) -> None:
    had_state = await state.get_state() is not None
    await state.clear()
    if had_state:
        await message.answer(_("Cancelled. Send /help to see what you can do."))
    else:
        await message.answer(_("There is nothing to cancel. Send /help to see what you can do."))


@router.message(Command("lang"))
async def lang(message: Message, locale: str) -> None:
    await message.answer(_("Choose your language:"), reply_markup=language_keyboard(locale))


@router.callback_query(LangCb.filter())
async def lang_chosen(
    callback: CallbackQuery,
    callback_data: LangCb,
    session: AsyncSession,
    i18n: I18n,
    actor: Actor,
    bot: Bot,
    menus: MenuRegistry,
) -> None:
    await set_language(session, callback.from_user.id, callback_data.code)
    await session.commit()
    i18n.ctx_locale.set(callback_data.code)
    text = _("Language changed.")
    if callback.message is not None and isinstance(callback.message, Message):
        await callback.message.edit_text(text, reply_markup=language_keyboard(callback_data.code))
    await set_person_menu(bot, menus, callback.from_user.id, actor.role_names(), callback_data.code)


@router.edited_message()
async def edited(message: Message) -> None:
    await message.reply(_("Edited messages are not read. Please send the new text as a new message."))
