"""The cycle after self-assessment: stage transitions and their notifications, approval (frozen
scores), publication, "not ranked", survey entry and import, the /assign board, the dashboard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AgencyAssignment, Assessment, ItemScore, Period, RankingGroup, Unit
from bot.notify.reminders import lock_stage
from bot.scoring.numbers import InputError
from bot.services import appraisal, cycle, survey
from bot.services.assignment_board import field_slots, toggle_field
from bot.services.dashboard import dashboard
from bot.services.errors import ServiceError
from tests.services.cycle_seed import World, outbox, world

YEAR = 2025


@pytest.fixture
async def w(session: AsyncSession) -> World:
    group = RankingGroup(code="SO", name="Sở, ban, ngành")
    session.add(group)
    await session.flush()
    result = await world(session)
    for unit in await session.scalars(select(Unit)):
        unit.group_id = group.id
    period = await session.get(Period, result.base.period.id)
    assert period is not None
    now = datetime.now(UTC)
    period.appraisal_deadline = now + timedelta(days=40)
    period.explanation_deadline = now + timedelta(days=50)
    period.final_deadline = now + timedelta(days=60)
    await session.commit()
    return result


async def _appraise_all(session: AsyncSession, w: World) -> None:
    for aid in (w.aid, w.other_aid):
        await appraisal.accept_field(session, w.base.appraiser, aid, "1")
        await appraisal.accept_field(session, w.tp_appraiser, aid, "2")


async def test_only_the_secretariat_moves_stages_in_order(session: AsyncSession, w: World) -> None:
    with pytest.raises(ServiceError) as exc:
        await cycle.advance(session, w.base.head, YEAR, "appraisal")
    assert exc.value.code == "forbidden"
    with pytest.raises(ServiceError) as exc:
        await cycle.advance(session, w.secretariat, YEAR, "published")
    assert exc.value.code == "wrong_stage"
    info = await cycle.advance(session, w.secretariat, YEAR, "appraisal")
    assert info.status == "appraisal"
    notices = await outbox(session, "round_first")
    assert {n.chat_id for n in notices} == {3001, 3002}
    assert "/pending" in notices[0].text and "8" in notices[0].text


async def test_the_deadline_lock_tells_appraisers_as_a_manual_advance_does(
    session: AsyncSession, w: World
) -> None:
    period = await session.get(Period, w.base.period.id)
    assert period is not None
    deadline = datetime.now(UTC) - timedelta(minutes=1)
    period.self_deadline = deadline
    await session.commit()
    locked = await lock_stage(
        session,
        period.id,
        "self_assessment",
        deadline,
        now=datetime.now(UTC),
        tz=ZoneInfo("Asia/Ho_Chi_Minh"),
    )
    assert locked
    notices = await outbox(session, "round_first")
    assert {n.chat_id for n in notices} == {3001, 3002}
    assert "/pending" in notices[0].text


async def test_explanation_round_notifies_units_with_contested_items(session: AsyncSession, w: World) -> None:
    await appraisal.adjust(session, w.base.appraiser, w.aid, "1.1.2", "30/50", "Thiếu")
    await cycle.advance(session, w.secretariat, YEAR, "appraisal")
    await cycle.advance(session, w.secretariat, YEAR, "explanation")
    notices = await outbox(session, "explanation_open")
    assert {n.chat_id for n in notices} == {1001, 1002}  # STP had nothing contested
    assert "/explain" in notices[0].text


async def test_approve_waits_for_decisions_then_freezes(session: AsyncSession, w: World) -> None:
    await cycle.advance(session, w.secretariat, YEAR, "appraisal")
    await cycle.advance(session, w.secretariat, YEAR, "explanation")
    await cycle.advance(session, w.secretariat, YEAR, "final_appraisal")
    with pytest.raises(ServiceError) as exc:
        await cycle.advance(session, w.secretariat, YEAR, "approved")
    assert exc.value.code == "undecided" and exc.value.params["count"] == 14
    await _appraise_all(session, w)
    await cycle.advance(session, w.secretariat, YEAR, "approved")
    statuses = set(await session.scalars(select(Assessment.status)))
    assert statuses == {"finalized"}
    with pytest.raises(ServiceError):
        await appraisal.accept(session, w.base.appraiser, w.aid, "1.1.1")
    with pytest.raises(ServiceError) as exc:
        await survey.set_survey_points(session, w.secretariat, YEAR, w.snv_id, "2.2", "2")
    assert exc.value.code == "period_locked"


async def test_publish_notifies_units_and_leaders_with_the_final_result(
    session: AsyncSession, w: World
) -> None:
    await _appraise_all(session, w)
    await survey.set_survey_points(session, w.secretariat, YEAR, w.snv_id, "2.2", "3")
    await cycle.set_not_ranked(session, w.secretariat, YEAR, "STP", "Tài liệu kiểm chứng không trung thực")
    for target in ("appraisal", "explanation", "final_appraisal", "approved", "published"):
        await cycle.advance(session, w.secretariat, YEAR, target)
    notices = await outbox(session, "published")
    by_chat = {n.chat_id: n.text for n in notices}
    assert set(by_chat) == {1001, 1002, 2001, 2002, 5001}
    # SNV: 1 + 1 + 1 + 3.62 (90.5% of 4) + 3 + 2.25 + 2.5 + 3 (survey) = 17.37 of 20
    assert "Sở Nội vụ: <b>86,85</b> (Tốt), xếp hạng 1/1" in by_chat[1001]
    assert by_chat[1002] == by_chat[1001]
    assert "Sở Tư pháp: <b>" in by_chat[2001] and "không xếp hạng" in by_chat[2001]
    assert "/rank" in by_chat[5001]
    with pytest.raises(ServiceError):
        await cycle.set_not_ranked(session, w.secretariat, YEAR, "STP", None)


async def test_not_ranked_needs_a_reason_and_can_be_cleared(session: AsyncSession, w: World) -> None:
    with pytest.raises(ServiceError) as exc:
        await cycle.set_not_ranked(session, w.secretariat, YEAR, "SNV", "  ")
    assert exc.value.code == "reason_required"
    with pytest.raises(ServiceError) as exc:
        await cycle.set_not_ranked(session, w.base.head, YEAR, "SNV", "x")
    assert exc.value.code == "forbidden"
    await cycle.set_not_ranked(session, w.secretariat, YEAR, "SNV", "Gian lận")
    assert [(u.code, r) for u, r in await cycle.not_ranked_units(session, YEAR)] == [("SNV", "Gian lận")]
    await cycle.set_not_ranked(session, w.secretariat, YEAR, "SNV", None)
    assert await cycle.not_ranked_units(session, YEAR) == []


async def test_survey_in_chat_and_import(session: AsyncSession, w: World, tmp_path: Path) -> None:
    units = await survey.survey_units(session, w.secretariat, YEAR)
    assert [(su.unit.code, [leaf.code for leaf, _ in su.items]) for su in units] == [
        ("SNV", ["2.2"]),
        ("STP", ["2.2"]),
    ]
    answer = await survey.set_survey_points(session, w.secretariat, YEAR, w.snv_id, "2.2", "2,5")
    assert answer.points == Decimal("2.5")
    with pytest.raises(InputError):
        await survey.set_survey_points(session, w.secretariat, YEAR, w.snv_id, "2.2", "4")
    with pytest.raises(ServiceError) as exc:
        await survey.set_survey_points(session, w.secretariat, YEAR, w.snv_id, "1.1.1", "1")
    assert exc.value.code == "not_survey"
    with pytest.raises(ServiceError):
        await survey.set_survey_points(session, w.base.appraiser, YEAR, w.snv_id, "2.2", "1")
    bad = tmp_path / "bad.csv"
    bad.write_text("unit,item,points\nSNV,2.2,1\nXYZ,2.2,1\nSTP,1.1.1,1\n", encoding="utf-8")
    with pytest.raises(ServiceError) as exc:
        await survey.import_survey(session, w.secretariat, YEAR, bad)
    assert len(exc.value.errors) == 2
    good = tmp_path / "good.csv"
    good.write_text("Mã đơn vị;Mã tiêu chí;Điểm\nSNV;2.2;1,75\nSTP;2.2;3\n", encoding="utf-8")
    result = await survey.import_survey(session, w.secretariat, YEAR, good)
    assert result.imported == 2
    session.expire_all()
    rows = {
        (i.assessment_id, i.item_code): (i.appraisal1_points, i.final_points)
        for i in await session.scalars(select(ItemScore).where(ItemScore.item_code == "2.2"))
    }
    assert rows[(w.aid, "2.2")] == (Decimal("1.75"), Decimal("1.75"))
    assert rows[(w.other_aid, "2.2")] == (Decimal(3), Decimal(3))


async def test_assign_board_toggles_fields(session: AsyncSession, w: World) -> None:
    period = await session.get(Period, w.base.period.id)
    assert period is not None
    slots = {s.scope: s.agency_code for s in await field_slots(session, w.secretariat, period)}
    assert slots == {"1": "NV", "2": "TP"}
    tp_id = await session.scalar(select(AgencyAssignment.agency_id).where(AgencyAssignment.scope == "2"))
    assert tp_id is not None
    assert await toggle_field(session, w.secretariat, period, tp_id, "1") is True  # moved from NV
    assert (await appraisal.pending(session, w.base.appraiser)).items == []
    assert await toggle_field(session, w.secretariat, period, tp_id, "1") is False  # taken back
    slots = {s.scope: s.agency_code for s in await field_slots(session, w.secretariat, period)}
    assert slots == {"1": None, "2": "TP"}
    with pytest.raises(ServiceError):
        await toggle_field(session, w.base.appraiser, period, tp_id, "1")


async def test_dashboard(session: AsyncSession, w: World) -> None:
    await appraisal.accept_field(session, w.base.appraiser, w.aid, "1")
    board = await dashboard(session, w.secretariat)
    assert [(g.code, g.counts) for g in board.groups] == [
        ("SO", {"not_started": 0, "in_progress": 0, "submitted": 2, "appraised": 0})
    ]
    agencies = {a.code: (a.pending, a.oldest_item) for a in board.agencies}
    assert agencies["NV"] == (4, "STP 1.1.1") or agencies["NV"][0] == 4
    assert agencies["TP"][0] == 6
    with pytest.raises(ServiceError):
        await dashboard(session, w.base.appraiser)
