"""What every secretariat screen needs: the current period and the role check."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Period, RoleName
from bot.services.actor import Actor
from bot.services.errors import ServiceError
from bot.services.periods import current_period


class IsSecretariat(Filter):
    """Routes secretariat commands only to the secretariat (others fall through to /help)."""

    async def __call__(self, event: TelegramObject, actor: Actor | None = None) -> bool:
        return actor is not None and actor.has(RoleName.SECRETARIAT.value)


async def the_period(session: AsyncSession) -> Period:
    period = await current_period(session)
    if period is None:
        raise ServiceError("no_period", year="")
    return period
