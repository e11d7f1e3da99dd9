"""Who may talk to the bot: registered people, in private chats (SPEC §5).

Everyone else gets the same polite refusal, whatever they send; `/start <code>` is the one way in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject, Update
from aiogram.utils.i18n import gettext as _

from bot.text import N_

REFUSAL = N_(
    "You have not been invited to use this bot yet. "
    "Please open the invite link that the secretariat (Sở Nội vụ) sent you."
)
PRIVATE_ONLY = N_("Please talk to me in a private chat; I do not work in groups.")


def _is_start(message: Message | None) -> bool:
    text = (message.text or "") if message is not None else ""
    command = text.split(maxsplit=1)[0] if text.strip() else ""
    return command.split("@", 1)[0] == "/start"


class RegistrationGate(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        message = event.message or event.edited_message
        callback = event.callback_query
        if message is None and callback is None:
            return await handler(event, data)  # chat-member changes and the like: no one to answer
        chat: Chat | None = data.get("event_chat")
        if chat is not None and chat.type != "private":
            await self._refuse(message, callback, _(PRIVATE_ONLY))
            return None
        if data.get("actor") is None and not (event.message is not None and _is_start(event.message)):
            await self._refuse(message, callback, _(REFUSAL))
            return None
        return await handler(event, data)

    @staticmethod
    async def _refuse(message: Message | None, callback: CallbackQuery | None, text: str) -> None:
        if callback is not None:
            await callback.answer(text, show_alert=True)
        elif message is not None:
            await message.answer(text)
