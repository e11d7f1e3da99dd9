"""Published results of earlier years, imported from CSV/XLSX (unit, score) for year-on-year views."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import HistoryResult, Period, RankingGroup, RoleName, Unit
from bot.scoring.ranking import RankEntry, rank_group
from bot.services.actor import Actor, require
from bot.services.audit import record, snapshot
from bot.services.errors import ServiceError
from bot.services.names import fold, slug
from bot.services.ranking import period_bands
from bot.services.tabular import Row, raise_row_errors, read_table
from bot.services.tx import use_case

HISTORY_COLUMNS = {
    "don_vi": "unit",
    "ten_don_vi": "unit",
    "ma_don_vi": "unit",
    "name": "unit",
    "code": "unit",
    "diem": "score",
    "chi_so": "score",
    "index": "score",
    "chi_so_cchc": "score",
}


@dataclass(frozen=True)
class HistoryImportResult:
    year: int
    group_code: str
    imported: int
    replaced: int
    units_created: list[str] = field(default_factory=list)


def parse_score(text: str) -> Decimal:
    """ "87,52", "87.52" or "87" → Decimal in [0, 100]; ValueError with the reason otherwise."""
    cleaned = text.strip().replace(" ", "").rstrip("%")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"score {text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"score {text!r} is not a number")
    if value < 0 or value > 100:
        raise ValueError(f"score {text!r} is outside 0-100")
    return value


def guess_unit_type(name: str) -> str:
    folded = fold(name)
    for prefix, unit_type in (
        ("xa ", "xa"),
        ("ubnd xa ", "xa"),
        ("phuong ", "phuong"),
        ("ubnd phuong ", "phuong"),
        ("dac khu ", "dac_khu"),
        ("huyen ", "huyen"),
        ("ubnd huyen ", "huyen"),
        ("thi xa ", "huyen"),
        ("thanh pho ", "huyen"),
    ):
        if folded.startswith(prefix):
            return unit_type
    return "so"


async def _match_units(session: AsyncSession, rows: list[Row]) -> tuple[dict[int, Unit | None], list[str]]:
    units = list(await session.scalars(select(Unit)))
    by_code = {u.code: u for u in units}
    by_name: dict[str, list[Unit]] = {}
    for u in units:
        by_name.setdefault(u.name_search, []).append(u)
    found: dict[int, Unit | None] = {}
    errors: list[str] = []
    for row in rows:
        key = row.get("unit")
        unit = by_code.get(key)
        if unit is None:
            candidates = by_name.get(fold(key), [])
            if len(candidates) > 1:
                codes = ", ".join(c.code for c in candidates)
                errors.append(f"row {row.number}: unit name {key!r} is ambiguous ({codes}); use the code")
                continue
            unit = candidates[0] if candidates else None
        found[row.number] = unit
    return found, errors


@use_case
async def import_history(
    session: AsyncSession, actor: Actor, path: Path, year: int, group_code: str
) -> HistoryImportResult:
    """Columns `unit` (code or name) and `score`. Units are matched by code, then by name without
    diacritics; unknown ones are created inactive (history only, e.g. merged districts). The group
    is created when missing. Re-importing a year replaces its rows. All-or-nothing."""
    require(actor, RoleName.SECRETARIAT)
    if not 2000 <= year <= 2100:
        raise ServiceError("bad_value", what="year", reason=f"{year} is not a plausible year")
    file = path.name
    rows = read_table(path, HISTORY_COLUMNS)
    if not rows:
        raise ServiceError("bad_file", file=file, reason="no data rows")
    missing = {"unit", "score"} - set(rows[0].values)
    if missing:
        raise ServiceError("bad_file", file=file, reason="expected the columns unit,score")
    errors: list[str] = []
    scores: dict[int, Decimal] = {}
    seen: dict[str, int] = {}
    for row in rows:
        key = fold(row.get("unit"))
        if not key:
            errors.append(f"row {row.number}: empty unit")
            continue
        try:
            scores[row.number] = parse_score(row.get("score"))
        except ValueError as exc:
            errors.append(f"row {row.number}: {exc}")
    matched, match_errors = await _match_units(session, rows)
    for row in rows:
        unit = matched.get(row.number)
        key = f"id:{unit.id}" if unit is not None else f"name:{fold(row.get('unit'))}"
        if key in seen and fold(row.get("unit")):
            errors.append(f"row {row.number}: unit {row.get('unit')!r} repeated (also row {seen[key]})")
        seen.setdefault(key, row.number)
    raise_row_errors(file, errors + match_errors)

    group = await session.scalar(select(RankingGroup).where(RankingGroup.code == group_code))
    if group is None:
        group = RankingGroup(code=group_code, name=group_code)
        session.add(group)
        await session.flush()
        await record(session, actor, "group.create", "ranking_group", group.id, None, snapshot(group))
    result = HistoryImportResult(year, group.code, 0, 0)
    used_codes = set(await session.scalars(select(Unit.code)))
    replaced = imported = 0
    for row in rows:
        unit = matched.get(row.number)
        if unit is None:
            name = row.get("unit")
            base = "H-" + slug(name, 36)
            code, n = base, 2
            while code in used_codes:
                code, n = f"{base}-{n}", n + 1
            used_codes.add(code)
            unit = Unit(
                code=code,
                name=name,
                name_search=fold(name),
                unit_type=guess_unit_type(name),
                group_id=group.id,
                active=False,
            )
            session.add(unit)
            await session.flush()
            await record(session, actor, "unit.create", "unit", unit.id, None, snapshot(unit))
            result.units_created.append(code)
        existing = await session.scalar(
            select(HistoryResult).where(HistoryResult.year == year, HistoryResult.unit_id == unit.id)
        )
        if existing is None:
            existing = HistoryResult(year=year, group_id=group.id, unit_id=unit.id, index=scores[row.number])
            session.add(existing)
            imported += 1
        else:
            existing.group_id, existing.index = group.id, scores[row.number]
            replaced += 1
    await session.flush()
    await rerank_history(session, year, group.id)
    await record(
        session,
        actor,
        "history.import",
        "history",
        f"{year}/{group.code}",
        None,
        {"file": file, "imported": imported, "replaced": replaced, "units_created": result.units_created},
    )
    await session.commit()
    return HistoryImportResult(year, group.code, imported, replaced, result.units_created)


async def rerank_history(session: AsyncSession, year: int, group_id: int) -> None:
    """Rank and class of a year's rows as the province would have published them, on the bands of
    that year's period (default bands when there is none). Flushes, never commits."""
    period = await session.scalar(select(Period).where(Period.year == year))
    rows = list(
        await session.scalars(
            select(HistoryResult).where(HistoryResult.year == year, HistoryResult.group_id == group_id)
        )
    )
    ranked = {
        r.unit_id: r
        for r in rank_group(
            [RankEntry(h.unit_id, str(h.unit_id), h.index) for h in rows], period_bands(period)
        )
    }
    for h in rows:
        band = ranked[h.unit_id].band
        h.rank, h.class_code = ranked[h.unit_id].rank, band.code if band else None
    await session.flush()
