"""Showing a screen and answering a refused action, for every feature's handlers.

A screen is edited in place when it came from a button (no chat flooding); a screen after typed
input is a new message. Texts over Telegram's limit are split, the keyboard on the last part.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.scoring.numbers import InputError
from bot.services.errors import ServiceError
from bot.ui.errors import error_text
from bot.ui.officer_view import input_error_text
from bot.ui.text import split_text

log = logging.getLogger("bot.screen")

Rerender = Callable[[CallbackQuery | Message, dict[str, Any]], Awaitable[None]]
Handler = Callable[..., Awaitable[Any]]


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


def edit_target(event: CallbackQuery | Message) -> Message | None:
    """The message a button belongs to (edited in place), None for typed input."""
    if isinstance(event, CallbackQuery) and isinstance(event.message, Message):
        return event.message
    return None


def chat_of(event: CallbackQuery | Message) -> int:
    return event.from_user.id if event.from_user else 0


async def item_on_screen(event_data: dict[str, Any]) -> tuple[int | None, str | None]:
    """(assessment id, item code) of the screen a refused action came from: the button's, else the
    ones kept in the chat state. `event_data` is what the handler received."""
    state: FSMContext = event_data["state"]
    stored = await state.get_data()
    button = event_data.get("callback_data")
    aid = getattr(button, "aid", None) or stored.get("aid")
    code = getattr(button, "c", None) or stored.get("code")
    return (None if aid is None else int(aid)), (str(code) if code else None)


def guarded(
    rerender: Rerender | None = None, *, prefix: str = "⚠️ ", rerender_on: Collection[str] | None = None
) -> Callable[[Handler], Handler]:
    """Refusals (a forged or stale button, a closed stage, a missing reason) become one sentence in
    the person's language (after `prefix`), then the current screen is shown again so they can go
    on: after every refusal, or only after those whose code is in `rerender_on` when given."""

    def decorate(fn: Handler) -> Handler:
        wanted = set(inspect.signature(fn).parameters)

        async def wrapper(event: CallbackQuery | Message, **kwargs: Any) -> Any:
            bot: Bot = kwargs["bot"]
            try:
                return await fn(event, **{k: v for k, v in kwargs.items() if k in wanted})
            except InputError as exc:
                await bot.send_message(chat_of(event), input_error_text(exc, kwargs["locale"]))
            except ServiceError as exc:
                log.info("%s refused: %s", fn.__name__, exc.code)
                await bot.send_message(chat_of(event), prefix + error_text(exc))
                if rerender is not None and (rerender_on is None or exc.code in rerender_on):
                    try:
                        await kwargs["session"].rollback()
                        await rerender(event, kwargs)
                    except ServiceError:
                        pass
            return None

        # No functools.wraps: aiogram unwraps __wrapped__ to decide which kwargs to pass, and the
        # wrapper needs all of them (bot, locale, state...) to answer a refusal.
        wrapper.__name__ = fn.__name__
        wrapper.__qualname__ = fn.__qualname__
        wrapper.__doc__ = fn.__doc__
        return wrapper

    return decorate
