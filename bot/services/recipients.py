"""Who receives a notification: a unit's people, an agency's appraisers, leaders, the secretariat."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import UNIT_ROLES, Person, Role, RoleName


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


async def people_of_units(
    session: AsyncSession, unit_ids: Iterable[int], roles: Iterable[str] = UNIT_ROLES
) -> list[tuple[Person, int]]:
    """(person, unit id) for active people holding one of `roles` in those units; a person with two
    roles in one unit appears once per unit."""
    ids = sorted(set(unit_ids))
    if not ids:
        return []
    rows = await session.execute(
        select(Person, Role.unit_id)
        .join(Role, Role.person_id == Person.id)
        .where(Role.unit_id.in_(ids), Role.role.in_(list(roles)), Person.active.is_(True))
        .order_by(Role.unit_id, Person.id)
    )
    seen: set[tuple[int, int]] = set()
    result: list[tuple[Person, int]] = []
    for person, unit_id in rows:
        if unit_id is not None and (person.id, unit_id) not in seen:
            seen.add((person.id, unit_id))
            result.append((person, unit_id))
    return result
