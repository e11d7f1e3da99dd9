"""The officer's self-assessment use cases against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Assessment, AuditLog, Evidence, ItemScore, Outbox, Period, PeriodStatus
from bot.scoring.numbers import InputError
from bot.services import assessment as svc
from bot.services import evidence as ev
from bot.services.errors import ServiceError
from tests.officer_seed import Seeded, seed


@pytest.fixture
async def world(session: AsyncSession) -> Seeded:
    return await seed(session)


async def _sheet_id(session: AsyncSession, world: Seeded) -> int:
    sheet = await svc.open_sheet(session, world.officer)
    return sheet.assessment.id


async def _count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _answer_all(session: AsyncSession, world: Seeded, aid: int) -> None:
    answers = {
        "1.1.1": "0",
        "1.1.2": "45/50",
        "1.1.3": "yes",
        "1.2": "90,5 %",
        "2.1.1": "3",
        "2.1.2": "2,25",
        "2.1.3": "1",
    }
    for code, text in answers.items():
        await svc.save_answer(session, world.officer, aid, code, text)
        await svc.set_explanation(session, world.officer, aid, code, f"Giải trình {code}")


async def test_open_sheet_creates_one_assessment_and_progress(session: AsyncSession, world: Seeded) -> None:
    sheet = await svc.open_sheet(session, world.officer)
    again = await svc.open_sheet(session, world.head)
    assert sheet.assessment.id == again.assessment.id
    assert await _count(session, Assessment) == 1
    progress = svc.field_progress(sheet)
    assert [(p.code, p.done, p.total, p.max_points) for p in progress] == [
        ("1", 0, 4, Decimal(8)),
        ("2", 0, 3, Decimal(9)),  # the survey item is the secretariat's, not counted here
    ]
    assert svc.leaf_codes(sheet) == ["1.1.1", "1.1.2", "1.1.3", "1.2", "2.1.1", "2.1.2", "2.1.3"]
    assert svc.neighbours(sheet, "1.2") == ("1.1.3", "2.1.1")


async def test_save_answer_by_every_kind_with_audit(session: AsyncSession, world: Seeded) -> None:
    aid = await _sheet_id(session, world)
    expected = {
        "1.1.1": ("1", "level:1", Decimal("0.5")),
        "1.1.2": ("45/50", "45/50", Decimal(1)),
        "1.1.3": ("no", "no", Decimal(0)),
        "1.2": ("90,5 %", "90.5%", Decimal("3.62")),
        "2.1.1": ("2", "2", Decimal(1)),
        "2.1.2": ("2,75", "2.75", Decimal("2.75")),
        "2.1.3": ("4", "4", Decimal(1)),
    }
    for code, (text, raw, points) in expected.items():
        answer, state = await svc.save_answer(session, world.officer, aid, code, text)
        assert (answer.raw, answer.points) == (raw, points)
        assert (state.self_raw, state.self_points) == (raw, points)
    session.expire_all()
    rows = {i.item_code: i for i in await session.scalars(select(ItemScore))}
    assert {c: (r.self_raw, r.self_points) for c, r in rows.items()} == {
        c: (raw, pts) for c, (_, raw, pts) in expected.items()
    }
    audits = list(await session.scalars(select(AuditLog).where(AuditLog.action == "self_score.answer")))
    assert len(audits) == 7
    assert audits[0].actor_person_id == world.officer.person_id
    assert audits[0].after is not None and audits[0].after["self_raw"] == "level:1"
    assessment = await session.get(Assessment, aid)
    assert assessment is not None and assessment.status == "draft" and assessment.last_item_code == "2.1.3"


@pytest.mark.parametrize(
    ("code", "text", "error"),
    [
        ("2.1.2", "abc", "not_a_number"),
        ("2.1.2", "-1", "negative"),
        ("2.1.2", "1,234,5", "bad_thousands"),
        ("2.1.2", "4", "over_max"),
        ("2.1.2", "0,3", "not_on_step"),
        ("1.1.2", "60/50", "ratio_over_one"),
        ("1.1.1", "7", "unknown_choice"),
    ],
)
async def test_bad_input_changes_nothing(
    session: AsyncSession, world: Seeded, code: str, text: str, error: str
) -> None:
    aid = await _sheet_id(session, world)
    await svc.save_answer(session, world.officer, aid, code, "1" if code != "1.1.2" else "95%")
    before = await _count(session, AuditLog)
    with pytest.raises(InputError) as info:
        await svc.save_answer(session, world.officer, aid, code, text)
    assert info.value.code == error
    session.expire_all()
    assert await _count(session, AuditLog) == before
    item = await session.scalar(select(ItemScore).where(ItemScore.item_code == code))
    assert item is not None and item.self_raw in ("1", "level:1", "95%")


async def test_survey_item_is_not_self_scored(session: AsyncSession, world: Seeded) -> None:
    aid = await _sheet_id(session, world)
    with pytest.raises(ServiceError) as info:
        await svc.save_answer(session, world.officer, aid, "2.2", "3")
    assert info.value.code == "not_self_scored"


async def test_another_units_sheet_is_forbidden(session: AsyncSession, world: Seeded) -> None:
    aid = await _sheet_id(session, world)
    await svc.save_answer(session, world.officer, aid, "1.1.1", "0")
    for call in (
        svc.load_sheet(session, world.other_officer, aid),
        svc.save_answer(session, world.other_officer, aid, "1.1.1", "2"),
        svc.save_answer(session, world.appraiser, aid, "1.1.1", "2"),
        svc.submit(session, world.other_officer, aid),
        ev.list_evidence(session, world.other_officer, aid, "1.1.1"),
    ):
        with pytest.raises(ServiceError) as info:
            await call
        assert info.value.code == "forbidden"
    item = await session.scalar(select(ItemScore).where(ItemScore.item_code == "1.1.1"))
    assert item is not None and item.self_raw == "level:0"
    # The other unit opens its own sheet, which is empty.
    other = await svc.open_sheet(session, world.other_officer)
    assert other.assessment.id != aid and other.items == {}


async def test_na_explanation_note_and_clear(session: AsyncSession, world: Seeded) -> None:
    aid = await _sheet_id(session, world)
    with pytest.raises(ServiceError) as info:
        await svc.claim_na(session, world.officer, aid, "1.1.1", "không có")
    assert info.value.code == "na_not_allowed"
    with pytest.raises(ServiceError) as info:
        await svc.claim_na(session, world.officer, aid, "1.1.3", "   ")
    assert info.value.code == "reason_required"
    await svc.save_answer(session, world.officer, aid, "1.1.3", "yes")
    state = await svc.claim_na(session, world.officer, aid, "1.1.3", "Không có nhiệm vụ")
    assert state.na_claimed and state.self_points is None and state.answered
    state = await svc.set_explanation(session, world.officer, aid, "1.1.3", "<b>x</b>")
    state = await svc.set_evidence_note(session, world.officer, aid, "1.1.3", "Trang 3, mục II")
    assert (state.explanation, state.evidence_note) == ("<b>x</b>", "Trang 3, mục II")
    state = await svc.clear_answer(session, world.officer, aid, "1.1.3")
    assert not state.answered and not state.na_claimed
    sheet = await svc.load_sheet(session, world.officer, aid)
    result = sheet.result()
    assert result.applicable_max == Decimal(17)


async def test_review_and_submit_refuses_with_whats_missing(session: AsyncSession, world: Seeded) -> None:
    aid = await _sheet_id(session, world)
    await svc.save_answer(session, world.officer, aid, "1.1.1", "0")  # 1 point, no evidence
    await svc.save_answer(session, world.officer, aid, "1.1.2", "50%")  # 0 points: no explanation needed
    with pytest.raises(ServiceError) as info:
        await svc.submit(session, world.officer, aid)
    assert info.value.code == "head_only"
    with pytest.raises(ServiceError) as info:
        await svc.submit(session, world.head, aid)
    assert info.value.code == "incomplete"
    assert info.value.params["unanswered"] == "1.1.3, 1.2, 2.1.1, 2.1.2, 2.1.3"
    assert info.value.params["unexplained"] == "1.1.1"
    assessment = await session.get(Assessment, aid)
    assert assessment is not None and assessment.status == "draft"


async def test_submit_locks_and_notifies_then_withdraw(session: AsyncSession, world: Seeded) -> None:
    aid = await _sheet_id(session, world)
    await _answer_all(session, world, aid)
    sheet = await svc.load_sheet(session, world.head, aid)
    review = svc.review(sheet)
    assert review.complete
    # 1 (level 0) + 1 (90% is in the 70-90 band) + 1 (yes) + 3.62 + 3 + 2.25 + 2.5 (one violation)
    assert review.result.points == Decimal("14.37")
    result = await svc.submit(session, world.head, aid)
    assert result.complete
    session.expire_all()
    assessment = await session.get(Assessment, aid)
    assert assessment is not None and assessment.status == "submitted"
    assert assessment.submitted_by == world.head.person_id
    outbox = list(await session.scalars(select(Outbox).order_by(Outbox.id)))
    assert sorted(o.chat_id for o in outbox) == [1001, 1002, 3001]
    assert any("Sở Nội vụ" in o.text for o in outbox)
    # Read-only now: every change is refused, nothing changes.
    for call in (
        svc.save_answer(session, world.officer, aid, "1.1.1", "1"),
        svc.set_explanation(session, world.officer, aid, "1.1.1", "x"),
        svc.clear_answer(session, world.head, aid, "1.1.1"),
        ev.add_evidence(
            session,
            world.officer,
            aid,
            "1.1.1",
            file_id="f",
            file_unique_id="u",
            file_name=None,
            mime_type=None,
            size=1,
            sha256=None,
            stored_path=None,
        ),
    ):
        with pytest.raises(ServiceError) as info:
            await call
        assert info.value.code == "submitted"
    with pytest.raises(ServiceError) as info:
        await svc.withdraw(session, world.officer, aid)
    assert info.value.code == "head_only"
    await svc.withdraw(session, world.head, aid)
    session.expire_all()
    assessment = await session.get(Assessment, aid)
    assert assessment is not None and assessment.status == "returned"
    await svc.save_answer(session, world.officer, aid, "1.1.1", "1")
    actions = [a.action for a in await session.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert actions[-3:] == ["assessment.submit", "assessment.withdraw", "self_score.answer"]


async def test_withdraw_refused_after_appraisal_started(session: AsyncSession, world: Seeded) -> None:
    aid = await _sheet_id(session, world)
    await _answer_all(session, world, aid)
    await svc.submit(session, world.head, aid)
    item = await session.scalar(select(ItemScore).where(ItemScore.item_code == "1.1.1"))
    assert item is not None
    item.appraisal1_status = "accepted"
    await session.commit()
    with pytest.raises(ServiceError) as info:
        await svc.withdraw(session, world.head, aid)
    assert info.value.code == "already_appraised"


async def test_deadline_and_stage_lock(session: AsyncSession, world: Seeded) -> None:
    aid = await _sheet_id(session, world)
    later = datetime.now(UTC) + timedelta(days=31)
    with pytest.raises(ServiceError) as info:
        await svc.save_answer(session, world.officer, aid, "1.1.1", "0", now=later)
    assert info.value.code == "period_locked"
    sheet = await svc.load_sheet(session, world.officer, aid, now=later)
    assert not sheet.editable and sheet.lock == "period_locked"
    period = await session.get(Period, world.period.id)
    assert period is not None
    period.status = PeriodStatus.APPRAISAL.value
    await session.commit()
    with pytest.raises(ServiceError) as info:
        await svc.save_answer(session, world.officer, aid, "1.1.1", "0")
    assert info.value.code == "period_locked"
    assert await _count(session, ItemScore) == 0


async def test_evidence_dedupe_list_remove(session: AsyncSession, world: Seeded, tmp_path: Path) -> None:
    aid = await _sheet_id(session, world)
    sheet = await ev.evidence_target(session, world.officer, aid, "1.1.1")
    directory = ev.item_dir(tmp_path, sheet, "1.1.1")
    stored = ev.store_bytes(directory, "uniq-1", "Báo cáo/quý I.pdf", b"%PDF-1.4 data")
    assert stored.path.name == "uniq-1_Bao_cao_quy_I.pdf"
    assert stored.path.read_bytes() == b"%PDF-1.4 data"
    assert stored.path.parent == tmp_path / "2025" / "SNV" / "1.1.1"

    async def add() -> tuple[Evidence, bool]:
        return await ev.add_evidence(
            session,
            world.officer,
            aid,
            "1.1.1",
            file_id="file-1",
            file_unique_id="uniq-1",
            file_name="Báo cáo/quý I.pdf",
            mime_type="application/pdf",
            size=stored.size,
            sha256=stored.sha256,
            stored_path=str(stored.path),
        )

    row, created = await add()
    again, created_again = await add()
    row_id = row.id
    assert created and not created_again and again.id == row_id
    assert await _count(session, Evidence) == 1
    assert [e.id for e in await ev.list_evidence(session, world.officer, aid, "1.1.1")] == [row_id]
    sheet = await svc.load_sheet(session, world.officer, aid)
    assert svc.item_state(sheet, "1.1.1").evidence_count == 1
    with pytest.raises(ServiceError):
        await ev.remove_evidence(session, world.other_officer, aid, row_id)
    other = await svc.open_sheet(session, world.other_officer)
    with pytest.raises(ServiceError) as info:
        await ev.remove_evidence(session, world.other_officer, other.assessment.id, row_id)
    assert info.value.code == "forbidden"
    code, _ = await ev.remove_evidence(session, world.officer, aid, row_id)
    assert code == "1.1.1"
    assert await ev.list_evidence(session, world.officer, aid, "1.1.1") == []
    actions = [a.action for a in await session.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert actions == ["evidence.add", "evidence.remove"]


async def test_evidence_satisfies_the_explanation_rule(session: AsyncSession, world: Seeded) -> None:
    aid = await _sheet_id(session, world)
    await svc.save_answer(session, world.officer, aid, "1.1.1", "0")
    sheet = await svc.load_sheet(session, world.officer, aid)
    assert svc.item_state(sheet, "1.1.1").needs_explanation
    await ev.add_evidence(
        session,
        world.officer,
        aid,
        "1.1.1",
        file_id="f",
        file_unique_id="u",
        file_name="a.pdf",
        mime_type="application/pdf",
        size=3,
        sha256="0" * 64,
        stored_path=None,
    )
    sheet = await svc.load_sheet(session, world.officer, aid)
    assert not svc.item_state(sheet, "1.1.1").needs_explanation
    assert svc.field_progress(sheet)[0].evidence_missing == 0
