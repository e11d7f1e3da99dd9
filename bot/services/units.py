"""Units and ranking groups: import from CSV/XLSX (all-or-nothing), lookup."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import RankingGroup, RoleName, Unit, UnitType
from bot.services.actor import Actor, require
from bot.services.audit import record, snapshot
from bot.services.errors import ServiceError
from bot.services.names import fold
from bot.services.tabular import Row, raise_row_errors, read_table
from bot.services.tx import use_case

UNIT_COLUMNS = {
    "ma": "code",
    "ma_don_vi": "code",
    "ten": "name",
    "ten_don_vi": "name",
    "type": "unit_type",
    "loai": "unit_type",
    "loai_don_vi": "unit_type",
    "nhom": "group",
    "nhom_xep_hang": "group",
    "group_code": "group",
    "ten_nhom": "group_name",
}

# Accept the codes and the Vietnamese words officials write in spreadsheets.
_UNIT_TYPE_WORDS = {
    **{t.value: t.value for t in UnitType},
    "so ban nganh": "so",
    "dac khu": "dac_khu",
    "ubnd xa": "xa",
    "ubnd phuong": "phuong",
    "ubnd huyen": "huyen",
    "huyen thi xa thanh pho": "huyen",
}


def parse_unit_type(text: str) -> str | None:
    key = fold(text).replace("_", " ").replace(",", " ").replace("/", " ")
    key = " ".join(key.split())
    return _UNIT_TYPE_WORDS.get(key) or _UNIT_TYPE_WORDS.get(key.replace(" ", "_"))


@dataclass(frozen=True)
class UnitImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    groups_created: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class UnitRow:
    code: str
    name: str
    unit_type: str
    group: str
    group_name: str = ""


def parse_unit_rows(file: str, rows: list[Row]) -> list[UnitRow]:
    """Check every row before anything is written; all errors at once, each naming its row."""
    errors: list[str] = []
    parsed: list[UnitRow] = []
    seen: dict[str, int] = {}
    if not rows:
        raise ServiceError("bad_file", file=file, reason="no data rows")
    missing = {"code", "name", "unit_type", "group"} - set(rows[0].values)
    if missing:
        raise ServiceError(
            "bad_file",
            file=file,
            reason=f"missing column(s) {', '.join(sorted(missing))}; expected code, name, unit_type, group",
        )
    for row in rows:
        code, name, type_text, group = (row.get(k) for k in ("code", "name", "unit_type", "group"))
        where = f"row {row.number}"
        if not code:
            errors.append(f"{where}: empty code")
            continue
        if code in seen:
            errors.append(f"{where}: duplicate code {code!r} (also row {seen[code]})")
            continue
        seen[code] = row.number
        if not name:
            errors.append(f"{where}: unit {code}: empty name")
        unit_type = parse_unit_type(type_text)
        if unit_type is None:
            expected = ", ".join(t.value for t in UnitType)
            errors.append(f"{where}: unit {code}: unknown unit type {type_text!r} (expected {expected})")
        if not group:
            errors.append(f"{where}: unit {code}: empty group")
        if unit_type and name and group:
            parsed.append(UnitRow(code, name, unit_type, group, row.get("group_name")))
    raise_row_errors(file, errors)
    return parsed


async def _group(
    session: AsyncSession, actor: Actor, code: str, name: str, created: list[str]
) -> RankingGroup:
    group = await session.scalar(select(RankingGroup).where(RankingGroup.code == code))
    if group is None:
        group = RankingGroup(code=code, name=name or code)
        session.add(group)
        await session.flush()
        await record(session, actor, "group.create", "ranking_group", group.id, None, snapshot(group))
        created.append(code)
    return group


@use_case
async def import_units(session: AsyncSession, actor: Actor, path: Path) -> UnitImportResult:
    """Create or update units by code from a CSV/XLSX (code, name, unit_type, group).
    Groups are created when missing. All rows are checked first: one bad row writes nothing."""
    require(actor, RoleName.SECRETARIAT)
    rows = parse_unit_rows(path.name, read_table(path, UNIT_COLUMNS))
    return await upsert_units(session, actor, rows)


@use_case
async def upsert_units(session: AsyncSession, actor: Actor, rows: list[UnitRow]) -> UnitImportResult:
    require(actor, RoleName.SECRETARIAT)
    result = UnitImportResult()
    groups: dict[str, RankingGroup] = {}
    for r in rows:
        if r.group not in groups:
            groups[r.group] = await _group(session, actor, r.group, r.group_name, result.groups_created)
        group_id = groups[r.group].id
        unit = await session.scalar(select(Unit).where(Unit.code == r.code))
        wanted = {"name": r.name, "unit_type": r.unit_type, "group_id": group_id, "active": True}
        if unit is None:
            unit = Unit(code=r.code, name_search=fold(r.name), **wanted)
            session.add(unit)
            await session.flush()
            await record(session, actor, "unit.create", "unit", unit.id, None, snapshot(unit))
            result.created.append(r.code)
        elif any(getattr(unit, k) != v for k, v in wanted.items()):
            before = snapshot(unit)
            for k, v in wanted.items():
                setattr(unit, k, v)
            unit.name_search = fold(r.name)
            await session.flush()
            await record(session, actor, "unit.update", "unit", unit.id, before, snapshot(unit))
            result.updated.append(r.code)
        else:
            result.unchanged.append(r.code)
    await session.commit()
    return result


async def get_group(session: AsyncSession, code: str) -> RankingGroup:
    group = await session.scalar(select(RankingGroup).where(RankingGroup.code == code))
    if group is None:
        raise ServiceError("not_found", what="ranking group", key=code)
    return group


async def list_groups(session: AsyncSession) -> list[RankingGroup]:
    return list(await session.scalars(select(RankingGroup).order_by(RankingGroup.code)))


async def get_unit(session: AsyncSession, code: str) -> Unit:
    unit = await session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise ServiceError("not_found", what="unit", key=code)
    return unit


async def list_units(
    session: AsyncSession, group_id: int | None = None, active_only: bool = True
) -> list[Unit]:
    query = select(Unit).order_by(Unit.code)
    if group_id is not None:
        query = query.where(Unit.group_id == group_id)
    if active_only:
        query = query.where(Unit.active.is_(True))
    return list(await session.scalars(query))


async def find_units(session: AsyncSession, text: str, limit: int = 10) -> list[Unit]:
    """Units whose code equals `text` or whose folded name contains it ("noi vu" finds Sở Nội vụ)."""
    needle = fold(text)
    if not needle:
        return []
    query = (
        select(Unit)
        .where(or_(Unit.code == text.strip(), Unit.name_search.contains(needle, autoescape=True)))
        .order_by(Unit.name_search)
        .limit(limit)
    )
    return list(await session.scalars(query))
