"""The role check every secretariat screen needs."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from bot.db.models import RoleName
from bot.services.actor import Actor


class IsSecretariat(Filter):
    """Routes secretariat commands only to the secretariat (others fall through to /help)."""

    async def __call__(self, event: TelegramObject, actor: Actor | None = None) -> bool:
        return actor is not None and actor.has(RoleName.SECRETARIAT.value)
