"""Appraising agencies and, per period, which fields or items each of them appraises."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Agency, AgencyAssignment, AssignmentKind, Period, PeriodCriteria, RoleName
from bot.scoring.model import CriteriaSet
from bot.services.actor import Actor, require
from bot.services.audit import record, snapshot
from bot.services.criteria import criteria_model
from bot.services.errors import ServiceError
from bot.services.periods import get_period
from bot.services.tabular import raise_row_errors, read_table
from bot.services.tx import use_case

AGENCY_COLUMNS = {"ma": "code", "ma_co_quan": "code", "ten": "name", "ten_co_quan": "name"}


@dataclass(frozen=True)
class AgencyImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)


async def get_agency(session: AsyncSession, code: str) -> Agency:
    agency = await session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        raise ServiceError("not_found", what="agency", key=code)
    return agency


async def list_agencies(session: AsyncSession) -> list[Agency]:
    return list(await session.scalars(select(Agency).order_by(Agency.code)))


async def _upsert(
    session: AsyncSession, actor: Actor, code: str, name: str, result: AgencyImportResult
) -> Agency:
    agency = await session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        agency = Agency(code=code, name=name, active=True)
        session.add(agency)
        await session.flush()
        await record(session, actor, "agency.create", "agency", agency.id, None, snapshot(agency))
        result.created.append(code)
    elif agency.name != name or not agency.active:
        before = snapshot(agency)
        agency.name, agency.active = name, True
        await record(session, actor, "agency.update", "agency", agency.id, before, snapshot(agency))
        result.updated.append(code)
    return agency


@use_case
async def create_agency(session: AsyncSession, actor: Actor, code: str, name: str) -> Agency:
    require(actor, RoleName.SECRETARIAT)
    code, name = code.strip(), name.strip()
    if not code or not name:
        raise ServiceError("bad_value", what="agency", reason="code and name are required")
    if await session.scalar(select(Agency.id).where(Agency.code == code)) is not None:
        raise ServiceError("duplicate", what="agency", key=code)
    agency = await _upsert(session, actor, code, name, AgencyImportResult())
    await session.commit()
    return agency


@use_case
async def import_agencies(session: AsyncSession, actor: Actor, path: Path) -> AgencyImportResult:
    """CSV/XLSX with columns code, name; create or rename by code; all-or-nothing."""
    require(actor, RoleName.SECRETARIAT)
    rows = read_table(path, AGENCY_COLUMNS)
    errors: list[str] = []
    seen: dict[str, int] = {}
    for row in rows:
        code, name = row.get("code"), row.get("name")
        if not code or not name:
            errors.append(f"row {row.number}: code and name are required")
        elif code in seen:
            errors.append(f"row {row.number}: duplicate code {code!r} (also row {seen[code]})")
        else:
            seen[code] = row.number
    if not rows:
        errors.append("no data rows")
    raise_row_errors(path.name, errors)
    result = AgencyImportResult()
    for row in rows:
        await _upsert(session, actor, row.get("code"), row.get("name"), result)
    await session.commit()
    return result


async def _period_sets(session: AsyncSession, period: Period) -> list[CriteriaSet]:
    from bot.db.models import CriteriaSetRow

    rows = await session.scalars(
        select(CriteriaSetRow)
        .join(PeriodCriteria, PeriodCriteria.criteria_set_id == CriteriaSetRow.id)
        .where(PeriodCriteria.period_id == period.id)
    )
    return [criteria_model(r) for r in rows]


def known_scopes(sets: list[CriteriaSet]) -> tuple[set[str], set[str]]:
    """(appraisal_field keys, criterion and leaf codes) used by the period's criteria sets."""
    fields: set[str] = set()
    items: set[str] = set()
    for cs in sets:
        for _field, criterion, leaf in cs.leaves():
            fields.add(leaf.appraisal_field or _field.code)
            items.update({criterion.code, leaf.code})
    return fields, items


@use_case
async def assign(
    session: AsyncSession, actor: Actor, year: int, agency_code: str, scope: str, kind: str = "field"
) -> AgencyAssignment:
    """Give `scope` (an appraisal_field key, or with kind="item" a criterion/leaf code) to an agency
    for the period. Re-assigning a scope moves it to the new agency."""
    require(actor, RoleName.SECRETARIAT)
    if kind not in {k.value for k in AssignmentKind}:
        raise ServiceError("bad_value", what="kind", reason="expected field or item")
    period = await get_period(session, year)
    agency = await get_agency(session, agency_code)
    fields, items = known_scopes(await _period_sets(session, period))
    if scope not in (fields if kind == AssignmentKind.FIELD else items):
        raise ServiceError("not_found", what=f"{kind} in the period's criteria sets", key=scope)
    row = await session.scalar(
        select(AgencyAssignment).where(
            AgencyAssignment.period_id == period.id,
            AgencyAssignment.kind == kind,
            AgencyAssignment.scope == scope,
        )
    )
    before = None if row is None else snapshot(row)
    if row is None:
        row = AgencyAssignment(period_id=period.id, agency_id=agency.id, scope=scope, kind=kind)
        session.add(row)
    else:
        row.agency_id = agency.id
    await session.flush()
    await record(session, actor, "assignment.set", "agency_assignment", row.id, before, snapshot(row))
    await session.commit()
    return row


@dataclass(frozen=True)
class AssignmentView:
    agency_code: str
    agency_name: str
    kind: str
    scope: str


async def list_assignments(session: AsyncSession, year: int) -> list[AssignmentView]:
    period = await get_period(session, year)
    rows = await session.execute(
        select(Agency.code, Agency.name, AgencyAssignment.kind, AgencyAssignment.scope)
        .join(Agency, Agency.id == AgencyAssignment.agency_id)
        .where(AgencyAssignment.period_id == period.id)
        .order_by(Agency.code, AgencyAssignment.kind, AgencyAssignment.scope)
    )
    return [AssignmentView(*r) for r in rows]


def agency_for(
    assignments: list[AgencyAssignment], field_key: str, criterion_code: str, leaf_code: str
) -> int | None:
    """Which agency appraises a leaf: an item assignment (leaf, then criterion) wins over the field's."""
    by_item = {a.scope: a.agency_id for a in assignments if a.kind == AssignmentKind.ITEM}
    by_field = {a.scope: a.agency_id for a in assignments if a.kind == AssignmentKind.FIELD}
    return by_item.get(leaf_code) or by_item.get(criterion_code) or by_field.get(field_key)


def leaf_agencies(cs: CriteriaSet, assignments: list[AgencyAssignment]) -> dict[str, int | None]:
    """Leaf code → the agency that appraises it under the period's assignments (survey items included:
    callers that appraise skip them by rule kind)."""
    return {
        leaf.code: agency_for(assignments, leaf.appraisal_field or area.code, criterion.code, leaf.code)
        for area, criterion, leaf in cs.leaves()
    }
