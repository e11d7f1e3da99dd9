"""One use case = one transaction: the decorator rolls back whatever a failed use case flushed,
so a ServiceError (or any exception) never leaves half a change in the caller's session."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

P = ParamSpec("P")
R = TypeVar("R")


def use_case(
    fn: Callable[Concatenate[AsyncSession, P], Awaitable[R]],
) -> Callable[Concatenate[AsyncSession, P], Awaitable[R]]:
    @functools.wraps(fn)
    async def wrapper(session: AsyncSession, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(session, *args, **kwargs)
        except BaseException:
            await session.rollback()
            raise

    return wrapper
