"""Leader read models on the demo province: unit search, rankings equal to the core, labels,
awards, progress, a unit's detail, and who may see what."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Assessment, AssessmentStatus, HistoryResult, ItemScore, Period, RankingGroup, Unit
from bot.scoring.gaps import group_average, group_averages, item_gaps, item_indexes
from bot.scoring.ranking import awards
from bot.scoring.sheet import Basis
from bot.services import leader as svc
from bot.services.demo import seed_demo
from bot.services.errors import ServiceError
from bot.services.ranking import rank_period, sheet_of
from bot.services.unit_search import CLEAR_SCORE, search_units
from tests.services.leader_demo import (  # noqa: F401
    DEMO_NOW,
    DEMO_YEAR,
    LEADER,
    SECRETARIAT,
    demo_db,
    demo_template,
    demo_url,
    person,
    unit_id,
)


@pytest.fixture
def db(demo_db: AsyncSession) -> AsyncSession:  # noqa: F811
    return demo_db


async def _group(session: AsyncSession, code: str) -> RankingGroup:
    group = await session.scalar(select(RankingGroup).where(RankingGroup.code == code))
    assert group is not None
    return group


async def _period(session: AsyncSession) -> Period:
    period = await session.scalar(select(Period).where(Period.year == DEMO_YEAR))
    assert period is not None
    return period


# ----------------------------------------------------------------------------- search


@pytest.mark.parametrize("typed", ["so noi vu", "Sở Nội Vụ", "noivu", "so noi vj", "SNV", "snv"])
async def test_unit_search_finds_so_noi_vu(db: AsyncSession, typed: str) -> None:
    matches = await search_units(db, typed)
    assert [m.name for m in matches] == ["Sở Nội vụ"]


async def test_unit_search_offers_several_or_none(db: AsyncSession) -> None:
    several = {m.name for m in await search_units(db, "bach")}
    assert {"Phường Bạch Đằng", "Đặc khu Bạch Long Vĩ"} <= several
    assert await search_units(db, "zzzz qqq") == []
    vague = await search_units(db, "khong co don vi nay xyz")
    assert all(m.score < CLEAR_SCORE for m in vague)  # offered as a choice at most, never taken
    assert [m.name for m in await search_units(db, "dak mil")] == ["Xã Đắk Mil"]  # đ folds to d


# ----------------------------------------------------------------------------- ranking


@pytest.mark.parametrize("group_code", ["SO", "XA"])
async def test_ranking_is_the_core_ranking(db: AsyncSession, group_code: str) -> None:
    group, period = await _group(db, group_code), await _period(db)
    view = await svc.group_ranking(db, LEADER, group.id, with_points=True)
    assert view.year == DEMO_YEAR and view.engine == "core"
    assert view.basis is Basis.APPRAISED and view.status is svc.ResultStatus.APPRAISED
    assert view.rows == await rank_period(db, period, group, Basis.APPRAISED)
    # each index recomputed from the stored items with compute_sheet (via sheet_of)
    for row in view.rows:
        assessment = await db.scalar(
            select(Assessment).where(Assessment.unit_id == row.unit_id, Assessment.period_id == period.id)
        )
        if assessment is None or assessment.status not in ("submitted", "appraised", "finalized"):
            # no result: no index, no class, no points in the summary
            assert (row.index, row.band, row.has_result) == (None, None, False)
            assert row.unit_id not in view.basis_points and row.unit_id not in view.self_points
            continue
        unit = await db.get(Unit, row.unit_id)
        assert unit is not None
        sheets = await svc.load_group_sheets(db, period, group.id, [unit.id])
        sheet = sheets.sheet(unit, Basis.APPRAISED)
        assert sheet is not None and sheet.index == row.index
        assert row.survey_pending_max == sheet.survey_pending_max
        assert view.basis_points[row.unit_id] == sheet.points
        own = sheet_of(
            sheets.sets[unit.unit_type], period, assessment, sheets.items.get(assessment.id, []), Basis.SELF
        )
        assert view.self_points[row.unit_id] == own.points
    history = {
        h.unit_id: h.index
        for h in await db.scalars(select(HistoryResult).where(HistoryResult.year == DEMO_YEAR - 1))
    }
    for row in view.ranked:
        assert row.index is not None
        assert view.changes[row.unit_id] == row.index - history[row.unit_id]
    assert [r.rank for r in view.ranked] == sorted(r.rank for r in view.ranked if r.rank is not None)
    assert all(not r.ranked and r.reason for r in view.apart)


async def test_sql_engine_gives_the_same_view(db: AsyncSession) -> None:
    for code in ("SO", "XA"):
        group = await _group(db, code)
        core = await svc.group_ranking(db, LEADER, group.id, engine="core", with_points=True)
        sql = await svc.group_ranking(db, LEADER, group.id, engine="sql", with_points=True)
        assert sql.engine == "sql"
        assert (sql.rows, sql.self_points, sql.basis_points, sql.changes) == (
            core.rows,
            core.self_points,
            core.basis_points,
            core.changes,
        )


async def test_provisional_and_final_labels(db: AsyncSession) -> None:
    group, period = await _group(db, "SO"), await _period(db)
    # appraisal has started in the demo (some sheets appraised) → appraised so far, provisional
    view = await svc.group_ranking(db, LEADER, group.id)
    assert (view.basis, view.status, view.provisional) == (Basis.APPRAISED, svc.ResultStatus.APPRAISED, True)
    # no appraisal yet → the units' own scores
    await db.execute(update(ItemScore).values(appraisal1_points=None, appraisal1_status=None))
    await db.commit()
    view = await svc.group_ranking(db, LEADER, group.id)
    assert (view.basis, view.status) == (Basis.SELF, svc.ResultStatus.SELF)
    # approved: final points, still provisional; published: final
    period.status = "approved"
    await db.commit()
    view = await svc.group_ranking(db, LEADER, group.id)
    assert (view.basis, view.provisional) == (Basis.FINAL, True)
    period.status = "published"
    await db.commit()
    view = await svc.group_ranking(db, LEADER, group.id)
    assert (view.basis, view.status, view.provisional) == (Basis.FINAL, svc.ResultStatus.FINAL, False)


# ----------------------------------------------------------------------------- awards, progress


async def test_awards_per_group(db: AsyncSession) -> None:
    result = {g.group.code: g for g in await svc.group_awards(db, LEADER)}
    assert (result["SO"].top_n, result["SO"].threshold) == (4, Decimal(90))
    assert (result["XA"].top_n, result["XA"].threshold) == (2, Decimal(90))
    for code, expected_n in (("SO", 4), ("XA", 2)):
        view = await svc.group_ranking(db, LEADER, (await _group(db, code)).id)
        chosen = awards(view.rows, expected_n, Decimal(90))
        assert (result[code].rows, result[code].council) == (chosen.proposed, chosen.council)
        assert len(result[code].rows) <= expected_n
        assert all(r.published is not None and r.published >= 90 for r in result[code].rows)
    # the period's setting wins over the group's
    period = await _period(db)
    period.settings = {**period.settings, "awards": {"SO": {"top_n": 1, "threshold": "50"}}}
    await db.commit()
    so = next(g for g in await svc.group_awards(db, LEADER) if g.group.code == "SO")
    assert (so.top_n, so.threshold) == (1, Decimal(50)) and len(so.rows) == 1 and so.rows[0].rank == 1
    # a configured 0 is honoured: N = 0 proposes nobody, threshold 0 accepts every index
    period.settings = {**period.settings, "awards": {"SO": {"top_n": 0, "threshold": "0"}}}
    await db.commit()
    so = next(g for g in await svc.group_awards(db, LEADER) if g.group.code == "SO")
    assert (so.top_n, so.threshold, so.rows, so.council) == (0, Decimal(0), [], [])


async def test_progress_counts(db: AsyncSession) -> None:
    progress = await svc.cycle_progress(db, LEADER)
    by_code = {g.group.code: g for g in progress.groups}
    assert by_code["SO"].total == 20 and by_code["XA"].total == 30
    period = await _period(db)
    statuses = [
        s
        for s in await db.scalars(
            select(Assessment.status)
            .join(Unit, Unit.id == Assessment.unit_id)
            .where(Assessment.period_id == period.id, Unit.group_id == (await _group(db, "SO")).id)
        )
    ]
    assert by_code["SO"].appraised == statuses.count(AssessmentStatus.APPRAISED.value)
    assert by_code["SO"].submitted == statuses.count(AssessmentStatus.SUBMITTED.value)
    assert by_code["SO"].in_progress == statuses.count(AssessmentStatus.DRAFT.value)


# ----------------------------------------------------------------------------- one unit


async def test_unit_detail_fields_and_gaps_come_from_the_core(db: AsyncSession) -> None:
    period, group = await _period(db), await _group(db, "SO")
    snv = await unit_id(db, "SNV")
    detail = await svc.unit_detail(db, LEADER, snv)
    assert detail.sheet is not None and detail.shows_group and detail.ranked
    sheets = await svc.load_group_sheets(db, period, group.id)
    unit = next(u for u in sheets.units if u.id == snv)
    sheet = sheets.sheet(unit, Basis.APPRAISED)
    assert sheet is not None and sheet.index == detail.sheet.index
    ranked = [
        s
        for u in sheets.units
        if (a := sheets.assessments.get(u.id)) is not None
        and a.status in ("submitted", "appraised", "finalized")
        and not a.not_ranked  # seed 003: a unit not ranked is not part of the group's average
        and (s := sheets.sheet(u, Basis.APPRAISED)) is not None
    ]
    assert len(ranked) == len([r for r in await rank_period(db, period, group, Basis.APPRAISED) if r.ranked])
    averages = group_averages(item_indexes(s) for s in ranked)
    assert detail.gaps == item_gaps(sheet, 5, averages)
    assert [g.lost for g in detail.gaps] == sorted((g.lost for g in detail.gaps), reverse=True)
    assert not any(sheet.leaves[g.code].survey for g in detail.gaps)
    for comparison in detail.fields:
        expected = group_average(
            f.index for s in ranked if (f := s.field_by_code(comparison.code)) and f.applicable_max > 0
        )
        assert comparison.group_average == expected
        for criterion in comparison.children:
            assert criterion.group_average == averages.get(criterion.code)
    row = next(r for r in await rank_period(db, period, group, Basis.APPRAISED) if r.unit_id == snv)
    assert detail.rank == row.rank and detail.band == row.band
    history = await db.scalar(select(HistoryResult.index).where(HistoryResult.unit_id == snv))
    assert history is not None
    assert detail.previous_index == history and detail.change == sheet.index - history


async def test_unit_detail_by_sql_equals_core(db: AsyncSession) -> None:
    for code in ("SNV", "BQLDA", "SYT", "X-TANLAP", "DK-BACHLONGVI"):
        uid = await unit_id(db, code)
        core = await svc.unit_detail(db, LEADER, uid, engine="core")
        sql = await svc.unit_detail(db, LEADER, uid, engine="sql")
        assert sql == core, code
        assert any(c.group_average is not None for c in core.fields)


async def test_rights(db: AsyncSession) -> None:
    syt, snv = await unit_id(db, "SYT"), await unit_id(db, "SNV")
    so = (await _group(db, "SO")).id
    officer = person("officer", unit_id=syt)
    appraiser = person("appraiser", agency_id=1)
    # leaders and the secretariat see everything
    assert (await svc.unit_detail(db, SECRETARIAT, syt)).shows_group
    await svc.group_ranking(db, SECRETARIAT, so)
    # a unit's own people see their sheet, without rank or averages before publication
    own = await svc.unit_detail(db, officer, syt)
    assert own.sheet is not None and not own.shows_group and own.rank is None
    assert all(c.group_average is None for c in own.fields)
    # … and nobody else's
    for actor, target in ((officer, snv), (appraiser, snv), (person("unit_head", unit_id=snv), syt)):
        with pytest.raises(ServiceError) as refused:
            await svc.unit_detail(db, actor, target)
        assert refused.value.code == "forbidden"
    for actor in (officer, appraiser):
        for call in (
            svc.group_ranking(db, actor, so),
            svc.group_awards(db, actor),
            svc.cycle_progress(db, actor),
        ):
            with pytest.raises(ServiceError) as refused:
                await call
            assert refused.value.code == "forbidden"


async def test_ranking_on_postgres_and_sqlite(session: AsyncSession) -> None:
    """The same read model on both databases (the demo seeded into the parametrized database)."""
    await seed_demo(session, now=DEMO_NOW)
    group = await _group(session, "XA")
    core = await svc.group_ranking(session, LEADER, group.id, engine="core", with_points=True)
    sql = await svc.group_ranking(session, LEADER, group.id, engine="sql", with_points=True)
    assert core.rows == sql.rows and core.basis_points == sql.basis_points
    assert len(core.rows) == 30 and core.ranked
