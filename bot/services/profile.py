"""What a person is in the bot: name, language and roles with their unit or agency (for /whoami,
/help, menus), and the saved language (/lang)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.db.models import Agency, Person, Role, Unit
from bot.i18n import SUPPORTED_LOCALES
from bot.services.errors import ServiceError


@dataclass(frozen=True)
class RoleInfo:
    role: str
    unit_code: str | None = None
    unit_name: str | None = None
    agency_code: str | None = None
    agency_name: str | None = None


@dataclass(frozen=True)
class Profile:
    person_id: int
    telegram_id: int
    full_name: str
    username: str | None
    language: str | None
    roles: tuple[RoleInfo, ...]

    def role_names(self) -> set[str]:
        return {r.role for r in self.roles}


async def get_profile(session: AsyncSession, telegram_id: int) -> Profile | None:
    """The active person with this Telegram id, or None."""
    person = await session.scalar(select(Person).where(Person.telegram_id == telegram_id))
    if person is None or not person.active:
        return None
    unit, agency = aliased(Unit), aliased(Agency)
    rows = await session.execute(
        select(Role.role, unit.code, unit.name, agency.code, agency.name)
        .outerjoin(unit, unit.id == Role.unit_id)
        .outerjoin(agency, agency.id == Role.agency_id)
        .where(Role.person_id == person.id)
        .order_by(Role.id)
    )
    return Profile(
        person_id=person.id,
        telegram_id=person.telegram_id,
        full_name=person.full_name,
        username=person.username,
        language=person.language,
        roles=tuple(RoleInfo(*row) for row in rows),
    )


async def set_language(session: AsyncSession, telegram_id: int, language: str) -> None:
    """Save the person's language; the caller commits."""
    if language not in SUPPORTED_LOCALES:
        raise ServiceError("bad_value", what="language", reason=f"expected one of {SUPPORTED_LOCALES}")
    person = await session.scalar(select(Person).where(Person.telegram_id == telegram_id))
    if person is None:
        raise ServiceError("not_found", what="person", key=telegram_id)
    person.language = language


@dataclass(frozen=True)
class MenuPerson:
    telegram_id: int
    roles: frozenset[str]
    language: str | None


async def menu_people(session: AsyncSession) -> list[MenuPerson]:
    """Every active person with at least one role, with their saved language (start-up menus)."""
    rows = await session.execute(
        select(Person.telegram_id, Person.language, Role.role)
        .join(Role, Role.person_id == Person.id)
        .where(Person.active.is_(True), Person.unreachable.is_(False))
        .order_by(Person.id)
    )
    roles: dict[int, set[str]] = {}
    languages: dict[int, str | None] = {}
    for telegram_id, language, role in rows:
        roles.setdefault(telegram_id, set()).add(role)
        languages[telegram_id] = language
    return [MenuPerson(t, frozenset(r), languages[t]) for t, r in roles.items()]
