"""Appraisal use cases: queues per agency, decisions, refusals, the unit's answers, final round."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    Agency,
    AgencyAssignment,
    Assessment,
    AssessmentStatus,
    AuditLog,
    ItemScore,
    Period,
    PeriodStatus,
    Person,
    Role,
)
from bot.scoring.numbers import InputError
from bot.services import appraisal as svc
from bot.services import assessment as officer
from bot.services import explanation as reply
from bot.services.errors import ServiceError
from bot.services.stages import Round
from tests.services.cycle_seed import World, outbox, world

FIELD1 = ["1.1.1", "1.1.2", "1.1.3", "1.2"]
FIELD2 = ["2.1.1", "2.1.2", "2.1.3"]


@pytest.fixture
async def w(session: AsyncSession) -> World:
    return await world(session)


async def _item(session: AsyncSession, aid: int, code: str) -> ItemScore:
    session.expire_all()
    row = await session.scalar(
        select(ItemScore).where(ItemScore.assessment_id == aid, ItemScore.item_code == code)
    )
    assert row is not None
    return row


async def _set_status(session: AsyncSession, w: World, status: str, **deadlines: datetime) -> None:
    period = await session.get(Period, w.base.period.id)
    assert period is not None
    period.status = status
    for name, value in deadlines.items():
        setattr(period, name, value)
    await session.commit()


async def test_submission_notifies_appraisers_and_queues_per_agency(session: AsyncSession, w: World) -> None:
    notices = await outbox(session, "to_appraise")
    assert {n.chat_id for n in notices} == {3001, 3002}
    nv = await svc.pending(session, w.base.appraiser)
    assert [(q.unit_code, q.item_code) for q in nv.items if q.unit_code == "SNV"] == [
        ("SNV", c) for c in FIELD1
    ]
    assert {c.name: c.count for c in nv.by_unit} == {"Sở Nội vụ": 4, "Sở Tư pháp": 4}
    assert [(c.key, c.count) for c in nv.by_field] == [("1", 8)]
    tp = await svc.pending(session, w.tp_appraiser)
    assert sorted({q.item_code for q in tp.items}) == FIELD2  # the survey item 2.2 is not appraised


async def test_submission_notice_skips_agencies_without_items_of_the_unit(
    session: AsyncSession, w: World
) -> None:
    stc = Agency(code="STC", name="Sở Tài chính")
    session.add(stc)
    await session.flush()
    session.add(AgencyAssignment(period_id=w.base.period.id, agency_id=stc.id, scope="9", kind="field"))
    person = Person(telegram_id=3999, full_name="Thẩm định STC", language="vi")
    session.add(person)
    await session.flush()
    session.add(Role(person_id=person.id, role="appraiser", agency_id=stc.id))
    await session.commit()
    await officer.withdraw(session, w.base.head, w.aid)
    await officer.submit(session, w.base.head, w.aid)
    notices = await outbox(session, "to_appraise")
    assert 3999 not in {n.chat_id for n in notices}
    assert {3001, 3002} <= {n.chat_id for n in notices}


async def test_accept_and_adjust_through_the_rule(session: AsyncSession, w: World) -> None:
    await svc.accept(session, w.base.appraiser, w.aid, "1.1.1")
    item = await _item(session, w.aid, "1.1.1")
    assert (item.appraisal1_status, item.appraisal1_points) == ("accepted", Decimal(1))
    _ctx, answer = await svc.adjust(session, w.base.appraiser, w.aid, "1.1.2", "30/50", "Chỉ hoàn thành 60%")
    assert answer.points == Decimal(0)
    item = await _item(session, w.aid, "1.1.2")
    assert (item.appraisal1_status, item.appraisal1_points, item.appraisal1_comment) == (
        "adjusted",
        Decimal(0),
        "Chỉ hoàn thành 60%",
    )
    notices = await outbox(session, "appraisal_adjusted")
    assert {n.chat_id for n in notices} == {1001, 1002}
    assert "1.1.2" in notices[0].text and "Chỉ hoàn thành 60%" in notices[0].text
    actions = list(await session.scalars(select(AuditLog.action).where(AuditLog.action.like("appraisal.%"))))
    assert actions == ["appraisal.first.accept", "appraisal.first.adjust"]


async def test_refusals(session: AsyncSession, w: World) -> None:
    with pytest.raises(ServiceError) as exc:
        await svc.adjust(session, w.base.appraiser, w.aid, "1.1.2", "30/50", "   ")
    assert exc.value.code == "reason_required"
    with pytest.raises(InputError):
        await svc.adjust(session, w.base.appraiser, w.aid, "1.1.2", "abc", "lý do")
    with pytest.raises(ServiceError) as exc:
        await svc.request_supplement(session, w.base.appraiser, w.aid, "1.1.2", "")
    assert exc.value.code == "note_required"
    for actor, aid, code in [
        (w.tp_appraiser, w.aid, "1.1.1"),  # another agency's field
        (w.base.officer, w.aid, "1.1.1"),  # not an appraiser
        (w.secretariat, w.aid, "1.1.1"),
        (w.base.appraiser, 999, "1.1.1"),  # forged sheet id
        (w.base.appraiser, w.aid, "9.9.9"),  # forged item code
        (w.base.appraiser, w.aid, "2.2"),  # the survey item
    ]:
        with pytest.raises(ServiceError) as exc:
            await svc.accept(session, actor, aid, code)
        assert exc.value.code == "forbidden"
    with pytest.raises(ServiceError) as exc:
        await svc.refuse_na(session, w.base.appraiser, w.aid, "1.1.3", "không")
    assert exc.value.code == "not_na"
    item = await _item(session, w.aid, "1.1.1")
    assert item.appraisal1_status is None  # nothing half-written


async def test_deadline_and_stage_lock(session: AsyncSession, w: World) -> None:
    past = datetime.now(UTC) - timedelta(minutes=1)
    await _set_status(
        session,
        w,
        PeriodStatus.APPRAISAL.value,
        self_deadline=past - timedelta(days=1),
        appraisal_deadline=past,
    )
    with pytest.raises(ServiceError) as exc:
        await svc.accept(session, w.base.appraiser, w.aid, "1.1.1")
    assert exc.value.code == "stage_closed"
    assert (await svc.pending(session, w.base.appraiser)).items == []
    await _set_status(
        session, w, PeriodStatus.EXPLANATION.value, explanation_deadline=datetime.now(UTC) + timedelta(days=3)
    )
    with pytest.raises(ServiceError) as exc:
        await svc.accept(session, w.base.appraiser, w.aid, "1.1.1")
    assert exc.value.code == "stage_closed"


async def test_accept_field_in_one_step_then_sheet_appraised(session: AsyncSession, w: World) -> None:
    await svc.adjust(session, w.base.appraiser, w.aid, "1.1.2", "30/50", "Thiếu")
    codes = await svc.accept_field(session, w.base.appraiser, w.aid, "1")
    assert codes == ["1.1.1", "1.1.3", "1.2"]
    assert await svc.accept_field(session, w.base.appraiser, w.aid, "1") == []
    assessment = await session.get(Assessment, w.aid)
    assert assessment is not None and assessment.status == AssessmentStatus.SUBMITTED.value
    await svc.accept_field(session, w.tp_appraiser, w.aid, "2")
    session.expire_all()
    assessment = await session.get(Assessment, w.aid)
    assert assessment is not None and assessment.status == AssessmentStatus.APPRAISED.value
    other = await session.get(Assessment, w.other_aid)
    assert other is not None and other.status == AssessmentStatus.SUBMITTED.value  # untouched


async def test_supplement_answer_returns_to_the_queue_marked_answered(
    session: AsyncSession, w: World
) -> None:
    await svc.request_supplement(session, w.base.appraiser, w.aid, "1.2", "Bổ sung báo cáo quý IV")
    notices = await outbox(session, "supplement_requested")
    assert {n.chat_id for n in notices} == {1001, 1002}
    assert "Bổ sung báo cáo quý IV" in notices[0].text and "/explain" in notices[0].text
    queue = await svc.pending(session, w.base.appraiser)
    assert ("SNV", "1.2") not in {(q.unit_code, q.item_code) for q in queue.items}
    # another unit cannot answer it; an accepted item cannot be answered
    with pytest.raises(ServiceError) as exc:
        await reply.save_reply(session, w.base.other_officer, w.aid, "1.2", "x")
    assert exc.value.code == "forbidden"
    await svc.accept(session, w.base.appraiser, w.aid, "1.1.1")
    with pytest.raises(ServiceError) as exc:
        await reply.save_reply(session, w.base.officer, w.aid, "1.1.1", "x")
    assert exc.value.code == "reply_closed"
    with pytest.raises(ServiceError) as exc:
        await reply.save_reply(session, w.base.officer, w.aid, "1.2", "  ")
    assert exc.value.code == "reply_required"
    await reply.save_reply(session, w.base.officer, w.aid, "1.2", "Đã gửi báo cáo quý IV")
    evidence, created = await reply.add_supplement(
        session,
        w.base.officer,
        w.aid,
        "1.2",
        file_id="F1",
        file_unique_id="U1",
        file_name="bc.pdf",
        mime_type="application/pdf",
        size=10,
        sha256=None,
        stored_path=None,
    )
    assert created and evidence.round == "supplement"
    answered = await outbox(session, "unit_answered")
    assert [n.chat_id for n in answered] == [3001]  # once per request, to the agency's appraisers
    queue = await svc.pending(session, w.base.appraiser)
    entry = next(q for q in queue.items if (q.unit_code, q.item_code) == ("SNV", "1.2"))
    assert entry.answered
    sheet = await reply.reply_sheet(session, w.base.officer)
    assert [(i.code, i.answered, i.supplements) for i in sheet.items] == [("1.2", True, 1)]
    ctx = await svc.open_item(session, w.base.appraiser, w.aid, "1.2")
    assert [e.round for e in ctx.evidence] == ["supplement"] and ctx.pending


async def test_na_claim_accept_and_refuse(session: AsyncSession) -> None:
    w = await world(session, na=True)
    with pytest.raises(ServiceError) as exc:
        await svc.refuse_na(session, w.base.appraiser, w.aid, "1.1.3", "")
    assert exc.value.code == "reason_required"
    await svc.refuse_na(session, w.base.appraiser, w.aid, "1.1.3", "Có đơn vị trực thuộc")
    item = await _item(session, w.aid, "1.1.3")
    assert (item.appraisal1_status, item.appraisal1_points) == ("na_refused", Decimal(0))
    assert {n.chat_id for n in await outbox(session, "na_refused")} == {1001, 1002}
    await svc.accept(session, w.base.appraiser, w.aid, "1.1.3")
    item = await _item(session, w.aid, "1.1.3")
    assert (item.appraisal1_status, item.appraisal1_points) == ("na_accepted", None)


async def test_final_round(session: AsyncSession, w: World) -> None:
    await svc.adjust(session, w.base.appraiser, w.aid, "1.1.2", "30/50", "Thiếu")
    await svc.request_supplement(session, w.base.appraiser, w.aid, "1.2", "Bổ sung")
    await svc.accept(session, w.base.appraiser, w.aid, "1.1.1")
    later = datetime.now(UTC) + timedelta(days=5)
    await _set_status(session, w, PeriodStatus.EXPLANATION.value, explanation_deadline=later)
    await reply.save_reply(session, w.base.officer, w.aid, "1.1.2", "Thực tế đạt 92%")
    await _set_status(
        session, w, PeriodStatus.FINAL_APPRAISAL.value, final_deadline=later + timedelta(days=5)
    )
    queue = await svc.pending(session, w.base.appraiser)
    assert queue.round is Round.FINAL
    snv = [(q.item_code, q.answered) for q in queue.items if q.unit_code == "SNV"]
    assert sorted(snv) == [("1.1.2", True), ("1.1.3", False), ("1.2", False)]
    with pytest.raises(ServiceError) as exc:
        await svc.request_supplement(session, w.base.appraiser, w.aid, "1.1.2", "x")
    assert exc.value.code == "first_round_only"
    with pytest.raises(ServiceError) as exc:
        await svc.keep_first(session, w.base.appraiser, w.aid, "1.2")
    assert exc.value.code == "nothing_to_keep"
    await svc.accept(session, w.base.appraiser, w.aid, "1.1.2")  # the explanation convinced
    item = await _item(session, w.aid, "1.1.2")
    assert (item.appraisal1_points, item.final_points, item.final_status) == (
        Decimal(0),
        Decimal(1),
        "accepted",
    )
    await svc.adjust(session, w.base.appraiser, w.aid, "1.2", "50%", "Không bổ sung đủ")
    item = await _item(session, w.aid, "1.2")
    assert item.final_points == Decimal(2)


async def test_queue_orders_codes_with_letters_like_the_loader(session: AsyncSession) -> None:
    """ "3.2" beside "3.2a" raised a TypeError in the appraiser's queue (its own code ordering):
    the queue now sorts with the one ordering of bot.scoring.codes, "1.1.1" < "1.1.1a" < "1.1.10"."""
    import copy
    import json

    from tests.officer_seed import SMALL_SET, person, seed

    renamed = {"1.1.2": "1.1.1a", "1.1.3": "1.1.10"}
    data = json.loads(json.dumps(copy.deepcopy(SMALL_SET)))
    for criterion in data["fields"][0]["criteria"]:
        for sub in criterion.get("sub_criteria", []):
            sub["code"] = renamed.get(sub["code"], sub["code"])
    base = await seed(session, data)
    head = await person(session, 1099, "Giám đốc", "unit_head", unit_id=base.unit.id)
    await session.commit()
    sheet = await officer.open_sheet(session, base.officer)
    aid = sheet.assessment.id
    answers = {"1.1.1": "0", "1.1.1a": "45/50", "1.1.10": "yes", "1.2": "90%", "2.1.1": "3", "2.1.2": "2",
               "2.1.3": "1"}  # fmt: skip
    for code, text in answers.items():
        await officer.save_answer(session, base.officer, aid, code, text)
        await officer.set_explanation(session, base.officer, aid, code, "Giải trình")
    await officer.submit(session, head, aid)
    queue = await svc.unit_queue(session, base.appraiser, aid)
    assert [q.item_code for q in queue] == ["1.1.1", "1.1.1a", "1.1.10", "1.2"]
    assert (await svc.pending(session, base.appraiser)).by_unit[0].count == 4
