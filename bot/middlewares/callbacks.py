"""Every button press is answered at once, before its handler runs (the spinner stops right away).

Unlike aiogram's CallbackAnswerMiddleware, an answer Telegram refuses (a press made while the bot
was down is "too old" by the time it arrives) is only logged: the handler still runs, so the
person's press is not lost.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, TelegramObject
from aiogram.utils.callback_answer import CallbackAnswer

log = logging.getLogger("bot.callbacks")


class AnswerAtOnceMiddleware(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, CallbackQuery):
            try:
                await event.answer()
            except TelegramBadRequest as exc:
                log.info("callback %s not answered: %s", event.id, exc.message)
            data["callback_answer"] = CallbackAnswer(answered=True)
        return await handler(event, data)
