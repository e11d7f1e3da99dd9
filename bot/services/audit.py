"""Audit log rows, written in the same transaction as the change they describe."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AuditLog
from bot.services.actor import Actor


def jsonable(value: Any) -> Any:
    """JSON-safe copy: Decimal as its exact string, datetimes as ISO 8601 (UTC), enums by value."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def snapshot(obj: object, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """Column values of a model instance (all columns, or `fields`), JSON-safe, for before/after."""
    mapper = inspect(type(obj))
    names = list(fields) if fields is not None else [c.key for c in mapper.column_attrs]
    return {name: jsonable(getattr(obj, name)) for name in names}


async def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditLog:
    row = AuditLog(
        actor_person_id=actor.person_id,
        actor_label=actor.label,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        before=None if before is None else jsonable(before),
        after=None if after is None else jsonable(after),
    )
    session.add(row)
    return row
