"""The secretariat's /assign screen: which appraising agency holds each field of the period, and a
toggle that gives a field to an agency or takes it back (one audited transaction each)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Agency, AgencyAssignment, AssignmentKind, Period, RoleName
from bot.services import audit
from bot.services.actor import Actor, require
from bot.services.agencies import _period_sets, assign, known_scopes
from bot.services.errors import ServiceError
from bot.services.tx import use_case


@dataclass(frozen=True)
class FieldSlot:
    scope: str
    agency_id: int | None
    agency_code: str | None


async def field_slots(session: AsyncSession, actor: Actor, period: Period) -> list[FieldSlot]:
    """Every appraisal-field key of the period's criteria sets and the agency holding it."""
    require(actor, RoleName.SECRETARIAT)
    fields, _items = known_scopes(await _period_sets(session, period))
    rows = await session.execute(
        select(AgencyAssignment.scope, Agency.id, Agency.code)
        .join(Agency, Agency.id == AgencyAssignment.agency_id)
        .where(AgencyAssignment.period_id == period.id, AgencyAssignment.kind == AssignmentKind.FIELD.value)
    )
    held = {scope: (aid, code) for scope, aid, code in rows}
    return [FieldSlot(s, *held.get(s, (None, None))) for s in sorted(fields)]


@use_case
async def toggle_field(
    session: AsyncSession, actor: Actor, period: Period, agency_id: int, scope: str
) -> bool:
    """Give `scope` to the agency (moving it from another one), or take it back when the agency
    already holds it. Returns True when the agency holds it afterwards."""
    require(actor, RoleName.SECRETARIAT)
    agency = await session.get(Agency, agency_id)
    if agency is None:
        raise ServiceError("forbidden")
    row = await session.scalar(
        select(AgencyAssignment).where(
            AgencyAssignment.period_id == period.id,
            AgencyAssignment.kind == AssignmentKind.FIELD.value,
            AgencyAssignment.scope == scope,
        )
    )
    if row is not None and row.agency_id == agency.id:
        before = audit.snapshot(row)
        await session.delete(row)
        await audit.record(session, actor, "assignment.unset", "agency_assignment", row.id, before, None)
        await session.commit()
        return False
    await assign(session, actor, period.year, agency.code, scope, AssignmentKind.FIELD.value)
    return True
