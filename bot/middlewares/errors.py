"""Any failure of one update: the person gets one sentence in their language, the log the details.
When the database cannot be reached the sentence says so and asks to try again in a moment.

Outermost of our middlewares, so the session middleware inside it has already rolled back when the
sentence is sent; the bot goes on with the next update.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import Chat, TelegramObject, Update

from bot.db.engine import database_unavailable
from bot.i18n import translate
from bot.ui.errors import DATABASE_UNAVAILABLE, GENERIC_ERROR, error_text, is_service_error

log = logging.getLogger("bot.errors")


class ErrorReplyMiddleware(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        try:
            return await handler(event, data)
        except TelegramBadRequest as exc:
            if "message is not modified" not in exc.message:
                log.exception("update %s failed", getattr(event, "update_id", "?"))
                await self._tell(data, translate(data.get("locale"), GENERIC_ERROR))
            # else: a second press re-rendered the same screen; nothing to tell
            return None
        except Exception as exc:
            locale = data.get("locale")
            if is_service_error(exc):
                log.info("update %s: %r", getattr(event, "update_id", "?"), exc)
                text = error_text(exc, locale)
            elif database_unavailable(exc):
                log.warning(
                    "update %s: the database is unreachable: %r", getattr(event, "update_id", "?"), exc
                )
                text = translate(locale, DATABASE_UNAVAILABLE)
            else:
                log.exception("update %s failed", getattr(event, "update_id", "?"))
                text = translate(locale, GENERIC_ERROR)
            await self._tell(data, text)
            return None

    @staticmethod
    async def _tell(data: dict[str, Any], text: str) -> None:
        bot: Bot | None = data.get("bot")
        chat: Chat | None = data.get("event_chat")
        update: Update | None = data.get("event_update")
        if bot is None or chat is None:
            return
        try:
            if update is not None and update.callback_query is not None and chat.type != "private":
                await bot.answer_callback_query(update.callback_query.id, text=text, show_alert=True)
            else:
                await bot.send_message(chat.id, text)
        except TelegramAPIError:
            log.warning("could not tell chat %s about the error", chat.id, exc_info=True)
