"""The person behind the update and their roles: `actor` (None when not registered) and `locale`.

Locale order: the language the person saved with /lang, else Telegram's language_code (English
when the app is in English), else the configured default (Vietnamese).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.i18n import SUPPORTED_LOCALES, pick_locale
from bot.notify.unreachable import mark_reachable
from bot.services.actor import load_actor


class ActorMiddleware(BaseMiddleware):
    """Sets `actor`, `locale` and `settings`, and the gettext locale for the rest of the update."""

    def __init__(self, settings: Settings, i18n: I18n) -> None:
        self.settings = settings
        self.i18n = i18n

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        session: AsyncSession = data["session"]
        user: User | None = data.get("event_from_user")
        actor = await load_actor(session, user.id) if user is not None else None
        saved = actor.language if actor is not None else None
        if actor is not None and actor.unreachable and actor.person_id is not None:
            await mark_reachable(session, actor.person_id)  # committed with the update
        if actor is not None and not actor.roles:
            actor = None  # every role withdrawn: treated as not registered
        if saved in SUPPORTED_LOCALES:
            locale = str(saved)
        elif user is not None and user.language_code:
            locale = pick_locale(user.language_code)
        else:
            locale = self.settings.locale
        data["actor"] = actor
        data["locale"] = locale
        data["settings"] = self.settings
        data["i18n"] = self.i18n
        with self.i18n.context(), self.i18n.use_locale(locale):
            return await handler(event, data)
