"""Who receives a notification: a unit's people, an agency's appraisers, leaders, the secretariat."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Person, Role, RoleName

UNIT_ROLES = (RoleName.OFFICER.value, RoleName.UNIT_HEAD.value)


async def _people(session: AsyncSession, *conditions: object) -> list[Person]:
    rows = await session.scalars(
        select(Person)
        .join(Role, Role.person_id == Person.id)
        .where(Person.active.is_(True), *conditions)  # type: ignore[arg-type]
        .distinct()
        .order_by(Person.id)
    )
    return list(rows)


async def unit_people(session: AsyncSession, unit_id: int) -> list[Person]:
    return await _people(session, Role.unit_id == unit_id, Role.role.in_(UNIT_ROLES))


async def agency_people(session: AsyncSession, agency_ids: Iterable[int]) -> list[Person]:
    ids = list(agency_ids)
    if not ids:
        return []
    return await _people(session, Role.agency_id.in_(ids), Role.role == RoleName.APPRAISER.value)


async def role_people(session: AsyncSession, role: str) -> list[Person]:
    return await _people(session, Role.role == role)
