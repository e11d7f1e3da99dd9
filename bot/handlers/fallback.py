"""Last router: what no feature understood gets a short hint instead of silence."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

router = Router(name="fallback")


@router.callback_query()
async def stale_button(callback: CallbackQuery) -> None:
    """A button no handler accepts any more (an old screen): say so; the press is already answered."""
    if callback.message is not None:
        await callback.bot.send_message(  # type: ignore[union-attr]
            callback.from_user.id, _("This button is no longer valid. Send /help to start again.")
        )


@router.message()
async def not_understood(message: Message) -> None:
    await message.answer(_("I did not understand that. Send /help to see what you can do."))
