"""Registration by invite: the secretariat creates `/start <code>` links, a person redeems one.

Codes are 96 random bits, so guessing is hopeless; still, a Telegram account that sends
`MAX_FAILED_ATTEMPTS` unknown codes within `ATTEMPT_WINDOW` is refused (even with a valid code)
until the window since its first failure has passed. Every refusal is in the audit log
(entity `telegram_user`, the code cut to its first characters).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import UNIT_ROLES, Agency, AuditLog, Invite, Person, Role, RoleName, Unit
from bot.services.actor import Actor, actor_for, require
from bot.services.audit import record, snapshot
from bot.services.errors import ServiceError
from bot.services.tx import use_case

MAX_DAYS = 365
MAX_USES = 1000
MAX_FAILED_ATTEMPTS = 5
ATTEMPT_WINDOW = timedelta(minutes=10)
_REFUSED, _THROTTLED = "invite.refused", "invite.throttled"


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username.lstrip('@')}?start={code}"


@dataclass(frozen=True)
class InviteInfo:
    id: int
    code: str
    role: str
    unit_code: str | None
    agency_code: str | None
    max_uses: int
    uses: int
    expires_at: datetime | None


def check_role(role: str) -> str:
    roles = [r.value for r in RoleName]
    if role not in roles:
        raise ServiceError("bad_role", role=role, expected=", ".join(roles))
    return role


@use_case
async def create_invite(
    session: AsyncSession,
    actor: Actor,
    role: str,
    *,
    unit_code: str | None = None,
    agency_code: str | None = None,
    max_uses: int = 1,
    days: int = 7,
    now: datetime | None = None,
) -> InviteInfo:
    """An invite for one role: officer/unit_head need a unit, appraiser an agency, leader and
    secretariat neither. The code is random and URL-safe (fits Telegram's 64-character start)."""
    require(actor, RoleName.SECRETARIAT)
    check_role(role)
    if role in UNIT_ROLES and not unit_code:
        raise ServiceError("bad_invite", reason=f"role {role} needs a unit (--unit CODE)")
    if role == RoleName.APPRAISER and not agency_code:
        raise ServiceError("bad_invite", reason="role appraiser needs an agency (--agency CODE)")
    if role not in UNIT_ROLES and unit_code:
        raise ServiceError("bad_invite", reason=f"role {role} is not tied to a unit")
    if role != RoleName.APPRAISER and agency_code:
        raise ServiceError("bad_invite", reason=f"role {role} is not tied to an agency")
    if not 1 <= max_uses <= MAX_USES:
        raise ServiceError("bad_invite", reason=f"uses must be between 1 and {MAX_USES}")
    if not 1 <= days <= MAX_DAYS:
        raise ServiceError("bad_invite", reason=f"days must be between 1 and {MAX_DAYS}")
    unit = agency = None
    if unit_code:
        unit = await session.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None:
            raise ServiceError("not_found", what="unit", key=unit_code)
    if agency_code:
        agency = await session.scalar(select(Agency).where(Agency.code == agency_code))
        if agency is None:
            raise ServiceError("not_found", what="agency", key=agency_code)
    invite = Invite(
        code=secrets.token_urlsafe(12),
        role=role,
        unit_id=unit.id if unit else None,
        agency_id=agency.id if agency else None,
        max_uses=max_uses,
        uses=0,
        expires_at=(now or datetime.now(UTC)) + timedelta(days=days),
        created_by=actor.person_id,
    )
    session.add(invite)
    await session.flush()
    await record(session, actor, "invite.create", "invite", invite.id, None, snapshot(invite))
    await session.commit()
    return InviteInfo(invite.id, invite.code, role, unit_code, agency_code, max_uses, 0, invite.expires_at)


@dataclass(frozen=True)
class Redeemed:
    actor: Actor  # the person with all roles, after redeeming
    role: str
    unit_id: int | None
    agency_id: int | None
    new_person: bool
    new_role: bool  # False when the person already held this role (nothing consumed)


@use_case
async def redeem_invite(
    session: AsyncSession,
    telegram_id: int,
    code: str,
    *,
    full_name: str = "",
    username: str | None = None,
    language: str | None = None,
    now: datetime | None = None,
) -> Redeemed:
    """`/start <code>`: create the person if needed, add the role, count one use. Unknown, revoked,
    expired and used-up codes are refused; redeeming a role one already holds changes nothing."""
    now = now or datetime.now(UTC)
    code = code.strip()
    attempt = _Attempt(telegram_id, full_name, code, now)
    wait = await _throttled_for(session, telegram_id, now)
    if wait is not None:
        minutes = max(1, -(-int(wait.total_seconds()) // 60))
        await _refused(session, attempt, _THROTTLED, "invite_throttled", minutes=minutes)
    invite = await session.scalar(select(Invite).where(Invite.code == code))
    if invite is None or invite.revoked:
        await _refused(session, attempt, _REFUSED, "invite_unknown")
    assert invite is not None
    if invite.expires_at is not None and invite.expires_at <= now:
        expires = invite.expires_at.date().isoformat()
        await _refused(session, attempt, _REFUSED, "invite_expired", expires_at=expires)
    person = await session.scalar(select(Person).where(Person.telegram_id == telegram_id))
    new_person = person is None
    if person is None:
        person = Person(telegram_id=telegram_id, full_name=full_name, username=username, language=language)
        session.add(person)
        await session.flush()
    elif not person.active:
        raise ServiceError("forbidden")
    existing = await session.scalar(
        select(Role).where(
            Role.person_id == person.id,
            Role.role == invite.role,
            Role.unit_id.is_(None) if invite.unit_id is None else Role.unit_id == invite.unit_id,
            Role.agency_id.is_(None) if invite.agency_id is None else Role.agency_id == invite.agency_id,
        )
    )
    who = Actor(person_id=person.id, label=full_name or str(telegram_id), telegram_id=telegram_id)
    if existing is None:
        # Conditional increment: two people racing for the last use cannot both get it.
        counted = await session.execute(
            update(Invite)
            .where(Invite.id == invite.id, Invite.uses < Invite.max_uses)
            .values(uses=Invite.uses + 1)
            .execution_options(synchronize_session=False)
        )
        if counted.rowcount != 1:  # type: ignore[attr-defined]
            max_uses = invite.max_uses
            await session.rollback()  # not the person created above
            await _refused(session, attempt, _REFUSED, "invite_used_up", max_uses=max_uses)
        role = Role(person_id=person.id, role=invite.role, unit_id=invite.unit_id, agency_id=invite.agency_id)
        session.add(role)
        await session.flush()
        if new_person:
            await record(session, who, "person.create", "person", person.id, None, snapshot(person))
        await record(
            session,
            who,
            "role.grant",
            "role",
            role.id,
            None,
            {**snapshot(role), "invite_id": invite.id, "invite_code": invite.code},
        )
    await session.commit()
    roles = list(await session.scalars(select(Role).where(Role.person_id == person.id)))
    return Redeemed(
        actor=actor_for(person, roles),
        role=invite.role,
        unit_id=invite.unit_id,
        agency_id=invite.agency_id,
        new_person=new_person,
        new_role=existing is None,
    )


async def _throttled_for(session: AsyncSession, telegram_id: int, now: datetime) -> timedelta | None:
    """How long this account must still wait, or None: unknown codes in the window are counted."""
    since = now - ATTEMPT_WINDOW
    failures = (
        select(func.count(), func.min(AuditLog.at))
        .where(
            AuditLog.entity == "telegram_user",
            AuditLog.entity_id == str(telegram_id),
            AuditLog.action == _REFUSED,
            AuditLog.at > since,
            AuditLog.at <= now,
        )
        .where(AuditLog.after["reason"].as_string() == "invite_unknown")
    )
    count, first = (await session.execute(failures)).one()
    if count < MAX_FAILED_ATTEMPTS or first is None:
        return None
    return first + ATTEMPT_WINDOW - now


@dataclass(frozen=True)
class _Attempt:
    telegram_id: int
    full_name: str
    code: str
    at: datetime


async def _refused(
    session: AsyncSession, attempt: _Attempt, action: str, reason: str, **params: object
) -> None:
    """Log the refusal in its own commit (the use case rolls back what it raises), then raise it."""
    tid = attempt.telegram_id
    person_id = await session.scalar(select(Person.id).where(Person.telegram_id == tid))
    who = Actor(person_id=person_id, label=attempt.full_name or str(tid), telegram_id=tid)
    after = {"reason": reason, "code": attempt.code[:4] + "…"}
    row = await record(session, who, action, "telegram_user", str(tid), None, after)
    row.at = attempt.at
    await session.commit()
    raise ServiceError(reason, **params)


@use_case
async def revoke_invite(session: AsyncSession, actor: Actor, code: str) -> None:
    require(actor, RoleName.SECRETARIAT)
    invite = await session.scalar(select(Invite).where(Invite.code == code))
    if invite is None:
        raise ServiceError("invite_unknown")
    before = snapshot(invite, ["revoked"])
    invite.revoked = True
    await record(session, actor, "invite.revoke", "invite", invite.id, before, {"revoked": True})
    await session.commit()
