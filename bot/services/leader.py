"""Read models for leaders and the secretariat: rankings, a unit's results, awards, progress.

Every figure comes from the shared scoring core: rankings from `rank_period` (core) or, for large
groups, `rank_period_sql` (proven equal by tests); a unit's sheet from `sheet_of`/`compute_sheet`;
the published index and class from `bands.grade`; gaps and comparisons (per field, criterion and
sub-criterion, against the ranked units' averages) from `bot.scoring.gaps`. Nothing here writes.

Who sees what: leaders and the secretariat see every unit's current results. A unit's own people
(officer, unit head) see their unit's sheet, but not the group comparison or rank before
publication, because those are built from other units' drafts. Everyone else is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    Assessment,
    AssessmentStatus,
    HistoryResult,
    ItemScore,
    Period,
    PeriodStatus,
    RankingGroup,
    RoleName,
    Unit,
)
from bot.scoring.bands import ClassBand, Grade, grade
from bot.scoring.gaps import (
    Comparison,
    ItemGap,
    change_since,
    compare,
    group_averages,
    item_gaps,
    item_indexes,
)
from bot.scoring.model import CriteriaSet
from bot.scoring.ranking import RankRow, awards
from bot.scoring.sheet import Basis, SheetResult
from bot.services import ranking_sql
from bot.services.actor import Actor, require
from bot.services.errors import ServiceError
from bot.services.names import fold
from bot.services.periods import criteria_for, current_period, get_period
from bot.services.ranking import period_bands, rank_period, sheet_of, standing

VIEWERS = (RoleName.LEADER.value, RoleName.SECRETARIAT.value)
UNIT_PEOPLE = (RoleName.OFFICER.value, RoleName.UNIT_HEAD.value)
APPRAISAL_STAGES = {
    PeriodStatus.APPRAISAL.value,
    PeriodStatus.EXPLANATION.value,
    PeriodStatus.FINAL_APPRAISAL.value,
    PeriodStatus.APPROVED.value,
    PeriodStatus.PUBLISHED.value,
}
GAP_LIMIT = 5
Engine = Literal["auto", "core", "sql"]


class ResultStatus(StrEnum):
    """What a figure is: final (published), provisional on appraised points so far, or provisional
    on the units' own scores (appraisal has not started)."""

    FINAL = "final"
    APPRAISED = "appraised"
    SELF = "self"


@dataclass(frozen=True)
class GroupRef:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class RankingView:
    year: int
    period_name: str
    group: GroupRef
    basis: Basis
    status: ResultStatus
    engine: str  # "core" or "sql": which path computed the totals
    rows: list[RankRow]
    bands: tuple[ClassBand, ...]
    changes: dict[int, Decimal | None] = field(default_factory=dict)
    previous: dict[int, Decimal] = field(default_factory=dict)
    self_points: dict[int, Decimal] = field(default_factory=dict)
    basis_points: dict[int, Decimal] = field(default_factory=dict)

    @property
    def provisional(self) -> bool:
        return self.status is not ResultStatus.FINAL

    @property
    def ranked(self) -> list[RankRow]:
        return [r for r in self.rows if r.ranked]

    @property
    def apart(self) -> list[RankRow]:
        return [r for r in self.rows if not r.ranked]


# ----------------------------------------------------------------------------- rights


def can_view_all(actor: Actor) -> bool:
    return actor.is_system or any(actor.has(role) for role in VIEWERS)


def require_viewer(actor: Actor) -> None:
    require(actor, *VIEWERS)


def can_view_unit(actor: Actor, unit_id: int) -> bool:
    return can_view_all(actor) or any(actor.has(role, unit_id=unit_id) for role in UNIT_PEOPLE)


# ----------------------------------------------------------------------------- periods and groups


async def resolve_period(session: AsyncSession, year: int | None = None) -> Period:
    period = await get_period(session, year) if year is not None else await current_period(session)
    if period is None or period.status == PeriodStatus.DRAFT.value:
        raise ServiceError("no_period", year=year if year is not None else "")
    return period


async def appraisal_started(session: AsyncSession, period: Period) -> bool:
    """The appraisal stage is open, or some item of the period already has an appraisal result."""
    if period.status in APPRAISAL_STAGES:
        return True
    first = await session.scalar(
        select(ItemScore.id)
        .join(Assessment, Assessment.id == ItemScore.assessment_id)
        .where(Assessment.period_id == period.id, ItemScore.appraisal1_status.is_not(None))
        .limit(1)
    )
    return first is not None


async def result_basis(session: AsyncSession, period: Period) -> tuple[Basis, ResultStatus]:
    """Published: final points, final. Approved: final points, still provisional. During appraisal:
    appraised points so far. Before it: the units' own scores."""
    if period.status == PeriodStatus.PUBLISHED.value:
        return Basis.FINAL, ResultStatus.FINAL
    if period.status == PeriodStatus.APPROVED.value:
        return Basis.FINAL, ResultStatus.APPRAISED
    if await appraisal_started(session, period):
        return Basis.APPRAISED, ResultStatus.APPRAISED
    return Basis.SELF, ResultStatus.SELF


async def list_groups(session: AsyncSession) -> list[GroupRef]:
    """Groups that have active units, by code."""
    rows = await session.execute(
        select(RankingGroup)
        .where(RankingGroup.id.in_(select(Unit.group_id).where(Unit.active.is_(True))))
        .order_by(RankingGroup.code)
    )
    return [GroupRef(g.id, g.code, g.name) for g in rows.scalars()]


async def find_group(session: AsyncSession, text: str) -> GroupRef:
    """A group by code (any case) or by (folded) name or part of it: "XA", "xa", "so ban nganh"."""
    groups = await list_groups(session)
    wanted = text.strip()
    for g in groups:
        if g.code.casefold() == wanted.casefold():
            return g
    needle = fold(wanted)
    hits = [g for g in groups if needle and needle in fold(g.name)]
    if len(hits) == 1:
        return hits[0]
    raise ServiceError("group_unknown", key=wanted)


async def _group(session: AsyncSession, group_id: int) -> RankingGroup:
    group = await session.get(RankingGroup, group_id)
    if group is None:
        raise ServiceError("not_found", what="group", key=group_id)
    return group


# ----------------------------------------------------------------------------- loading sheets


@dataclass
class GroupSheets:
    """Every active unit of a group with its assessment and items, loaded in three queries; sheets
    are computed by the core on demand and cached per basis."""

    period: Period
    units: list[Unit]
    assessments: dict[int, Assessment]
    items: dict[int, list[ItemScore]]
    sets: dict[str, CriteriaSet]
    _cache: dict[tuple[int, Basis], SheetResult] = field(default_factory=dict)

    def sheet(self, unit: Unit, basis: Basis) -> SheetResult | None:
        assessment = self.assessments.get(unit.id)
        cs = self.sets.get(unit.unit_type)
        if assessment is None or cs is None:
            return None
        key = (unit.id, basis)
        if key not in self._cache:
            self._cache[key] = sheet_of(cs, self.period, assessment, self.items.get(assessment.id, []), basis)
        return self._cache[key]

    def ranked_sheets(self, basis: Basis) -> list[SheetResult]:
        """The sheets of the ranked units (submitted, not flagged "not ranked"): the group averages
        are theirs."""
        sheets: list[SheetResult] = []
        for unit in self.units:
            sheet = self.sheet(unit, basis)
            if sheet is not None and standing(self.assessments.get(unit.id))[1]:
                sheets.append(sheet)
        return sheets


async def load_group_sheets(
    session: AsyncSession, period: Period, group_id: int, unit_ids: Sequence[int] | None = None
) -> GroupSheets:
    query = select(Unit).where(Unit.group_id == group_id, Unit.active.is_(True)).order_by(Unit.code)
    if unit_ids is not None:
        query = select(Unit).where(Unit.id.in_(list(unit_ids))).order_by(Unit.code)
    # Python order, not the database collation: sums of indexes then agree on every backend.
    units = sorted(await session.scalars(query), key=lambda u: (u.code, u.id))
    assessments = {
        a.unit_id: a
        for a in await session.scalars(
            select(Assessment).where(
                Assessment.period_id == period.id, Assessment.unit_id.in_([u.id for u in units])
            )
        )
    }
    items: dict[int, list[ItemScore]] = {}
    ids = [a.id for a in assessments.values()]
    if ids:
        for item in await session.scalars(select(ItemScore).where(ItemScore.assessment_id.in_(ids))):
            items.setdefault(item.assessment_id, []).append(item)
    sets: dict[str, CriteriaSet] = {}
    for unit_type in {u.unit_type for u in units}:
        try:
            sets[unit_type] = await criteria_for(session, period, unit_type)
        except ServiceError:
            continue
    return GroupSheets(period, units, assessments, items, sets)


# ----------------------------------------------------------------------------- history


async def previous_indexes(session: AsyncSession, year: int, group_id: int) -> dict[int, Decimal]:
    """Last year's published index per unit: imported history, else last year's published period."""
    rows = await session.execute(
        select(HistoryResult.unit_id, HistoryResult.index).where(
            HistoryResult.year == year - 1, HistoryResult.group_id == group_id
        )
    )
    found = {int(unit_id): index for unit_id, index in rows}
    if found:
        return found
    previous = await session.scalar(select(Period).where(Period.year == year - 1))
    if previous is None or previous.status != PeriodStatus.PUBLISHED.value:
        return {}
    rows_prev = await rank_period(session, previous, await _group(session, group_id), Basis.FINAL)
    return {r.unit_id: r.index for r in rows_prev if r.ranked and r.index is not None}


# ----------------------------------------------------------------------------- ranking


async def _group_size(session: AsyncSession, group_id: int) -> int:
    count = await session.scalar(
        select(func.count(Unit.id)).where(Unit.group_id == group_id, Unit.active.is_(True))
    )
    return int(count or 0)


async def _use_sql(session: AsyncSession, period: Period, group_id: int, engine: Engine) -> bool:
    if engine == "core":
        return False
    if engine == "auto" and await _group_size(session, group_id) < ranking_sql.SQL_MIN_UNITS:
        return False
    types = await session.scalars(
        select(Unit.unit_type).where(Unit.group_id == group_id, Unit.active.is_(True)).distinct()
    )
    sets = []
    for unit_type in types:
        try:
            sets.append(await criteria_for(session, period, unit_type))
        except ServiceError:
            continue
    return ranking_sql.supported(period, sets)


async def group_ranking(
    session: AsyncSession,
    actor: Actor,
    group_id: int,
    year: int | None = None,
    *,
    engine: Engine = "auto",
    with_points: bool = False,
) -> RankingView:
    """The group's ranking on the period's current basis, with the change since last year.

    `engine="auto"` ranks groups of `SQL_MIN_UNITS` units or more by SQL aggregation. With
    `with_points`, the self-assessed and basis points per unit are filled in (for the summary XLSX)."""
    require_viewer(actor)
    period = await resolve_period(session, year)
    group = await _group(session, group_id)
    basis, status = await result_basis(session, period)
    self_points: dict[int, Decimal] = {}
    basis_points: dict[int, Decimal] = {}
    if await _use_sql(session, period, group.id, engine):
        used = "sql"
        rows = await ranking_sql.rank_period_sql(session, period, group, basis)
        if with_points:
            own, _ = await ranking_sql.group_totals(session, period, group, Basis.SELF)
            chosen, _ = await ranking_sql.group_totals(session, period, group, basis)
            self_points = {u: t.points for u, t in own.items()}
            basis_points = {u: t.points for u, t in chosen.items()}
    else:
        used = "core"
        rows = await rank_period(session, period, group, basis)
        if with_points:
            sheets = await load_group_sheets(session, period, group.id)
            for unit in sheets.units:
                own_sheet, chosen_sheet = sheets.sheet(unit, Basis.SELF), sheets.sheet(unit, basis)
                if own_sheet is not None and chosen_sheet is not None:
                    self_points[unit.id] = own_sheet.points
                    basis_points[unit.id] = chosen_sheet.points
    # A sheet not submitted has no result: its partial points are not published either.
    with_result = {r.unit_id for r in rows if r.has_result}
    self_points = {u: p for u, p in self_points.items() if u in with_result}
    basis_points = {u: p for u, p in basis_points.items() if u in with_result}
    previous = await previous_indexes(session, period.year, group.id)
    changes = {r.unit_id: change_since(r.index, previous.get(r.unit_id)) for r in rows if r.ranked}
    return RankingView(
        year=period.year,
        period_name=period.name,
        group=GroupRef(group.id, group.code, group.name),
        basis=basis,
        status=status,
        engine=used,
        rows=rows,
        bands=period_bands(period),
        changes=changes,
        previous=previous,
        self_points=self_points,
        basis_points=basis_points,
    )


# ----------------------------------------------------------------------------- awards


@dataclass(frozen=True)
class GroupAwards:
    """`rows` are proposed; `council` are tied at the cap, for the council to pick `seats` of."""

    group: GroupRef
    top_n: int
    threshold: Decimal
    status: ResultStatus
    basis: Basis
    rows: list[RankRow]
    council: list[RankRow] = field(default_factory=list)
    seats: int = 0


def _first_set(*values: object) -> object:
    """The first value that is configured; 0 is a configured value (N = 0 proposes nobody)."""
    return next((v for v in values if v is not None and v != ""), None)


def award_settings(period: Period, group: RankingGroup, unit_types: set[str]) -> tuple[int, Decimal]:
    """top N and threshold: the period's setting for the group, else the group's, else seed 001
    (4 for departments, 2 for districts and communes; index ≥ 90). A configured 0 is kept."""
    config = ((period.settings or {}).get("awards") or {}).get(group.code) or {}
    default_n = 4 if unit_types and unit_types <= {"so"} else 2
    top_n = _first_set(config.get("top_n"), group.award_top_n, default_n)
    threshold = _first_set(config.get("threshold"), group.award_threshold, Decimal(90))
    return int(str(top_n)), Decimal(str(threshold))


async def group_awards(session: AsyncSession, actor: Actor, year: int | None = None) -> list[GroupAwards]:
    """Per group, the units eligible for commendation on the current basis (core `awards`)."""
    require_viewer(actor)
    period = await resolve_period(session, year)
    result: list[GroupAwards] = []
    for ref in await list_groups(session):
        view = await group_ranking(session, actor, ref.id, period.year)
        group = await _group(session, ref.id)
        types = set(
            await session.scalars(
                select(Unit.unit_type).where(Unit.group_id == ref.id, Unit.active.is_(True))
            )
        )
        top_n, threshold = award_settings(period, group, types)
        chosen = awards(view.rows, top_n, threshold)
        result.append(
            GroupAwards(
                ref,
                top_n,
                threshold,
                view.status,
                view.basis,
                chosen.proposed,
                chosen.council,
                chosen.seats,
            )
        )
    return result


# ----------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class GroupProgress:
    group: GroupRef
    not_started: int
    in_progress: int
    submitted: int
    appraised: int

    @property
    def total(self) -> int:
        return self.not_started + self.in_progress + self.submitted + self.appraised


@dataclass(frozen=True)
class CycleProgress:
    year: int
    period_name: str
    period_status: str
    groups: list[GroupProgress]


_STATE_OF = {
    AssessmentStatus.NOT_STARTED.value: "not_started",
    AssessmentStatus.DRAFT.value: "in_progress",
    AssessmentStatus.RETURNED.value: "in_progress",
    AssessmentStatus.SUBMITTED.value: "submitted",
    AssessmentStatus.APPRAISED.value: "appraised",
    AssessmentStatus.FINALIZED.value: "appraised",
}


async def cycle_progress(session: AsyncSession, actor: Actor, year: int | None = None) -> CycleProgress:
    """Units per group: not started / in progress / submitted / appraised (one query)."""
    require_viewer(actor)
    period = await resolve_period(session, year)
    rows = await session.execute(
        select(Unit.group_id, Assessment.status, func.count(Unit.id))
        .outerjoin(Assessment, (Assessment.unit_id == Unit.id) & (Assessment.period_id == period.id))
        .where(Unit.active.is_(True), Unit.group_id.is_not(None))
        .group_by(Unit.group_id, Assessment.status)
    )
    counts: dict[int, dict[str, int]] = {}
    for group_id, status, n in rows:
        state = _STATE_OF.get(status or "", "not_started")
        bucket = counts.setdefault(int(group_id or 0), {})
        bucket[state] = bucket.get(state, 0) + int(n)
    groups = [
        GroupProgress(
            ref,
            counts.get(ref.id, {}).get("not_started", 0),
            counts.get(ref.id, {}).get("in_progress", 0),
            counts.get(ref.id, {}).get("submitted", 0),
            counts.get(ref.id, {}).get("appraised", 0),
        )
        for ref in await list_groups(session)
    ]
    return CycleProgress(period.year, period.name, period.status, groups)


# ----------------------------------------------------------------------------- one unit


@dataclass(frozen=True)
class UnitDetail:
    """A unit's results. `has_result` is False until its sheet is submitted: then there is no index
    and no class (`grade` None), only the points so far and the reason. A unit flagged "not ranked"
    has its index but no class (`grade.band` is not shown: `band` None)."""

    unit_id: int
    code: str
    name: str
    group: GroupRef | None
    year: int
    period_name: str
    basis: Basis
    status: ResultStatus
    assessment_status: str
    sheet: SheetResult | None
    self_sheet: SheetResult | None
    grade: Grade | None
    shows_group: bool  # False: a unit's own people before publication (no rank, no averages)
    has_result: bool = False
    rank: int | None = None
    ranked: bool = False
    reason: str = ""
    ranked_count: int = 0
    previous_index: Decimal | None = None
    change: Decimal | None = None
    fields: list[Comparison] = field(default_factory=list)
    gaps: list[ItemGap] = field(default_factory=list)

    @property
    def band(self) -> ClassBand | None:
        """The class: only for a result that is not flagged "not ranked"."""
        if self.grade is None or (self.reason.startswith("not_ranked")):
            return None
        return self.grade.band


async def _previous_sheet(session: AsyncSession, year: int, unit: Unit) -> SheetResult | None:
    """Last year's final sheet of the unit when last year's period is in the database."""
    previous = await session.scalar(select(Period).where(Period.year == year - 1))
    if previous is None or previous.status != PeriodStatus.PUBLISHED.value or unit.group_id is None:
        return None
    sheets = await load_group_sheets(session, previous, unit.group_id, [unit.id])
    return sheets.sheet(unit, Basis.FINAL)


async def unit_detail(
    session: AsyncSession,
    actor: Actor,
    unit_id: int,
    year: int | None = None,
    *,
    gap_limit: int = GAP_LIMIT,
    engine: Engine = "auto",
) -> UnitDetail:
    """A unit's fields, criteria and sub-criteria against the group average (ranked units) and last
    year, its index, class and rank, and the items that lost the most points (seed 004: what to fix
    first). Large groups (see `group_ranking`) take the rank and the averages from SQL sums instead
    of every sheet of the group."""
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise ServiceError("not_found", what="unit", key=unit_id)
    if not can_view_unit(actor, unit.id):
        raise ServiceError("forbidden")
    period = await resolve_period(session, year)
    basis, status = await result_basis(session, period)
    shows_group = can_view_all(actor) or status is ResultStatus.FINAL
    group = await session.get(RankingGroup, unit.group_id) if unit.group_id is not None else None
    ref = GroupRef(group.id, group.code, group.name) if group else None
    compare_group = group is not None and shows_group
    use_sql = compare_group and group is not None and await _use_sql(session, period, group.id, engine)
    if compare_group and not use_sql and group is not None:
        sheets = await load_group_sheets(session, period, group.id)
    else:
        sheets = await load_group_sheets(session, period, unit.group_id or 0, [unit.id])
    sheet = sheets.sheet(unit, basis)
    self_sheet = sheets.sheet(unit, Basis.SELF)
    assessment = sheets.assessments.get(unit.id)
    has_result, _ranked, reason = standing(assessment)
    detail = UnitDetail(
        unit_id=unit.id,
        code=unit.code,
        name=unit.name,
        group=ref,
        year=period.year,
        period_name=period.name,
        basis=basis,
        status=status,
        assessment_status=assessment.status if assessment else AssessmentStatus.NOT_STARTED.value,
        sheet=sheet,
        self_sheet=self_sheet,
        grade=grade(sheet.index, period_bands(period)) if sheet is not None and has_result else None,
        shows_group=shows_group,
        has_result=has_result,
        reason=reason,
    )
    if sheet is None:
        return detail
    previous_sheet = await _previous_sheet(session, period.year, unit)
    previous_index: Decimal | None = previous_sheet.index if previous_sheet else None
    previous = item_indexes(previous_sheet) if previous_sheet else {}
    averages: dict[str, Decimal] = {}
    rank: RankRow | None = None
    ranked_count = 0
    if compare_group and group is not None:
        if use_sql:
            rows = await ranking_sql.rank_period_sql(session, period, group, basis)
            averages = await ranking_sql.item_averages(session, period, group, basis)
        else:
            rows = await rank_period(session, period, group, basis)
            averages = group_averages(item_indexes(s) for s in sheets.ranked_sheets(basis))
        rank = next((r for r in rows if r.unit_id == unit.id), None)
        ranked_count = sum(1 for r in rows if r.ranked)
        if previous_index is None:
            previous_index = (await previous_indexes(session, period.year, group.id)).get(unit.id)
    return replace(
        detail,
        rank=rank.rank if rank else None,
        ranked=bool(rank and rank.ranked),
        ranked_count=ranked_count,
        previous_index=previous_index,
        change=change_since(sheet.index, previous_index) if has_result else None,
        fields=compare(sheet, averages, previous),
        gaps=item_gaps(sheet, gap_limit, averages),
    )
