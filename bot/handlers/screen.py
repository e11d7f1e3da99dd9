"""Showing a screen and answering a refused action, for every feature's handlers.

A screen is edited in place when it came from a button (no chat flooding); a screen after typed
input is a new message. Texts over Telegram's limit are split, the keyboard on the last part.

One live screen per chat: the id of the message that carries the current screen's buttons is kept
in the chat's FSM storage under its own destiny (so `state.clear()`/`set_data` never drop it, and it
survives a restart). When a screen goes into another message, the previous one loses its buttons.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Collection
from contextvars import ContextVar
from dataclasses import replace
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.scoring.numbers import InputError
from bot.services.errors import ServiceError
from bot.ui.errors import error_text
from bot.ui.officer_view import input_error_text
from bot.ui.text import split_text

log = logging.getLogger("bot.screen")

Rerender = Callable[[CallbackQuery | Message, dict[str, Any]], Awaitable[None]]
Handler = Callable[..., Awaitable[Any]]


#: Where the current screen's message id is kept: the chat's FSM key with this destiny.
SCREEN_DESTINY = "screen"
#: The chat state of the handler being run (set by `guarded`), for `show` called without `state`.
_handler_state: ContextVar[FSMContext | None] = ContextVar("screen_handler_state", default=None)


async def show(
    bot: Bot,
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None,
    edit: Message | None = None,
    *,
    state: FSMContext | None = None,
) -> Message | None:
    """Show a screen: edit `edit` (the pressed button's message) in place, else send it. The
    chat's previous screen message loses its buttons, so one message carries the live screen.
    `state` (default: the running handler's, see `guarded`) is where that message's id is kept."""
    slot = _screen_slot(state or _handler_state.get(), chat_id)
    previous = await _current_screen(slot)
    parts = split_text(text)
    if edit is not None and len(parts) == 1:
        shown: Message | None = None
        try:
            result = await edit.edit_text(parts[0], reply_markup=markup)
            shown = result if isinstance(result, Message) else edit
        except TelegramBadRequest as exc:
            if "not modified" in str(exc):
                shown = edit
            else:
                log.info("edit failed (%s); sending a new screen", exc)
        if shown is not None:
            if previous is not None and previous != shown.message_id:
                await strip_buttons(bot, chat_id, previous)  # a stale button on an older message
            await _remember_screen(slot, previous, shown.message_id if markup is not None else None)
            return shown
    # A new message below the person's own: the older screens lose their buttons first.
    for old in dict.fromkeys(m for m in (previous, edit.message_id if edit else None) if m is not None):
        await strip_buttons(bot, chat_id, old)
    message: Message | None = None
    for i, part in enumerate(parts):
        message = await bot.send_message(chat_id, part, reply_markup=markup if i == len(parts) - 1 else None)
    live = message.message_id if message is not None and markup is not None else None
    await _remember_screen(slot, previous, live)
    return message


async def strip_buttons(bot: Bot, chat_id: int, message_id: int) -> None:
    """Take the inline keyboard off an old screen message; a message already without buttons,
    deleted or too old to edit is left as it is (a refused strip never fails the handler)."""
    try:
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=None)
    except TelegramBadRequest as exc:
        log.info("screen %s in chat %s keeps its markup: %s", message_id, chat_id, exc.message)
    except TelegramAPIError as exc:
        log.warning("screen %s in chat %s: buttons not removed: %s", message_id, chat_id, exc)


_Slot = tuple[BaseStorage, StorageKey]


async def current_screen_id(state: FSMContext) -> int | None:
    """The id of the message carrying the chat's live screen (None: none known), for a background
    task holding the chat `state` that must not bring an older screen's buttons back."""
    return await _current_screen(_screen_slot(state, state.key.chat_id))


def _screen_slot(state: FSMContext | None, chat_id: int) -> _Slot | None:
    if state is None or state.key.chat_id != chat_id:
        return None
    return state.storage, replace(state.key, destiny=SCREEN_DESTINY)


async def _current_screen(slot: _Slot | None) -> int | None:
    if slot is None:
        return None
    storage, key = slot
    try:
        value = (await storage.get_data(key)).get("message_id")
    except Exception:
        log.warning("current screen of %s not read", key.chat_id, exc_info=True)
        return None
    return value if isinstance(value, int) else None


async def _remember_screen(slot: _Slot | None, previous: int | None, message_id: int | None) -> None:
    if slot is None or message_id == previous:
        return
    storage, key = slot
    try:
        await storage.set_data(key, {} if message_id is None else {"message_id": message_id})
    except Exception:
        log.warning("current screen of %s not saved", key.chat_id, exc_info=True)


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
            token = _handler_state.set(kwargs.get("state"))  # where `show` keeps the live screen
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
            finally:
                _handler_state.reset(token)
            return None

        # No functools.wraps: aiogram unwraps __wrapped__ to decide which kwargs to pass, and the
        # wrapper needs all of them (bot, locale, state...) to answer a refusal.
        wrapper.__name__ = fn.__name__
        wrapper.__qualname__ = fn.__qualname__
        wrapper.__doc__ = fn.__doc__
        return wrapper

    return decorate
