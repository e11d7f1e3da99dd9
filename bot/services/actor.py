"""Who is acting: a person with roles, or the system (CLI, scheduler). Services check rights on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Person, Role, RoleName


class RoleKey(NamedTuple):
    """One role held: a tuple (role, unit_id, agency_id) that also reads as attributes."""

    role: str
    unit_id: int | None = None
    agency_id: int | None = None


@dataclass(frozen=True)
class Actor:
    person_id: int | None
    label: str
    roles: frozenset[RoleKey] = field(default_factory=frozenset)
    telegram_id: int | None = None
    language: str | None = None
    # The CLI and scheduled jobs act for the operator: every check passes.
    is_system: bool = False
    # Marked after a 403 from Telegram; a person who writes again can be reached again.
    unreachable: bool = False

    @classmethod
    def system(cls, label: str = "cli") -> Actor:
        return cls(person_id=None, label=label, is_system=True)

    def has(self, role: str, unit_id: int | None = None, agency_id: int | None = None) -> bool:
        """True when the person holds `role` (for that unit / agency when one is given)."""
        return any(
            r == role and (unit_id is None or u == unit_id) and (agency_id is None or a == agency_id)
            for r, u, a in self.roles
        )

    def unit_ids(self, *roles: str) -> set[int]:
        wanted = set(roles) or {RoleName.OFFICER, RoleName.UNIT_HEAD}
        return {u for r, u, _ in self.roles if r in wanted and u is not None}

    def agency_ids(self) -> set[int]:
        return {a for r, _, a in self.roles if r == RoleName.APPRAISER and a is not None}

    def role_names(self) -> set[str]:
        return {r for r, _, _ in self.roles}


def require(actor: Actor, *roles: str, unit_id: int | None = None, agency_id: int | None = None) -> None:
    """Raise ServiceError("forbidden") unless the actor is the system or holds one of `roles`."""
    from bot.services.errors import ServiceError  # errors.py re-exports Actor: avoid the cycle

    if actor.is_system:
        return
    if not any(actor.has(role, unit_id=unit_id, agency_id=agency_id) for role in roles):
        raise ServiceError("forbidden")


def actor_for(person: Person, roles: list[Role]) -> Actor:
    label = person.full_name or (f"@{person.username}" if person.username else str(person.telegram_id))
    return Actor(
        person_id=person.id,
        label=label,
        roles=frozenset(RoleKey(r.role, r.unit_id, r.agency_id) for r in roles),
        telegram_id=person.telegram_id,
        language=person.language,
        unreachable=person.unreachable,
    )


async def load_actor(session: AsyncSession, telegram_id: int) -> Actor | None:
    """The actor behind a Telegram user, or None for an unknown or deactivated person."""
    person = (
        await session.execute(select(Person).where(Person.telegram_id == telegram_id))
    ).scalar_one_or_none()
    if person is None or not person.active:
        return None
    roles = list((await session.execute(select(Role).where(Role.person_id == person.id))).scalars())
    return actor_for(person, roles)
