"""The middleware chain of every update (DESIGN "Flow of one update").

Outer middlewares on `update`, in this order, after aiogram's errors and user context:
ErrorReplyMiddleware → aiogram's FSM → DbSessionMiddleware (session, duplicate update_id dropped) →
ActorMiddleware (actor, locale, settings) → RegistrationGate. Callback queries are answered at
once by AnswerAtOnceMiddleware, before the handler, so handlers must not call `callback.answer()`.
"""

from __future__ import annotations

from aiogram import Dispatcher
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.middlewares.actor import ActorMiddleware
from bot.middlewares.callbacks import AnswerAtOnceMiddleware
from bot.middlewares.db import DbSessionMiddleware
from bot.middlewares.errors import ErrorReplyMiddleware
from bot.middlewares.gate import RegistrationGate

__all__ = ["setup_middlewares"]


def setup_middlewares(
    dp: Dispatcher, *, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, i18n: I18n
) -> None:
    # Ahead of aiogram's FSM middleware: reading the conversation state from an unreachable
    # database must still get the person a sentence.
    dp.update.outer_middleware.unregister(dp.fsm)
    dp.update.outer_middleware(ErrorReplyMiddleware())
    dp.update.outer_middleware(dp.fsm)
    dp.update.outer_middleware(DbSessionMiddleware(sessionmaker))
    dp.update.outer_middleware(ActorMiddleware(settings, i18n))
    dp.update.outer_middleware(RegistrationGate())
    dp.callback_query.outer_middleware(AnswerAtOnceMiddleware())
