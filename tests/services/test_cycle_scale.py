"""The whole cycle on the shipped 2025-so set (56 items, 8 fields, 6 survey items, five appraising
agencies) for several units, through the services only: submit → appraisal 1 (accept, adjust,
supplement request, N/A refused) → explanation → final appraisal → survey → approve → publish."""

from __future__ import annotations

import random
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Assessment, ItemScore
from bot.scoring.model import SurveyRule
from bot.services import appraisal, cycle, demo, explanation, survey
from bot.services import assessment as officer
from bot.services.ranking import ranking
from bot.services.stages import CONTESTED
from tests.services.cycle_seed import Province, outbox, province

UNITS = 5


async def _submit_all(session: AsyncSession, p: Province) -> dict[str, int]:
    """Every head answers every self-scored item with a text scored by the real rule, explains
    it, and submits; the first unit claims N/A wherever the set allows it."""
    aids: dict[str, int] = {}
    for i, unit in enumerate(p.units):
        head = p.heads[unit.code]
        aid = (await officer.open_sheet(session, head)).assessment.id
        rng = random.Random(f"scale:{unit.code}")
        for _area, _criterion, leaf in p.sets[unit.unit_type].leaves():
            if isinstance(leaf.rule, SurveyRule):
                continue
            if i == 0 and leaf.allow_na:
                await officer.claim_na(session, head, aid, leaf.code, "Đơn vị không có nhiệm vụ này")
                continue
            sample = demo.sample_answer(leaf, 0.45 + 0.1 * i, rng)
            assert sample is not None, leaf.code
            await officer.save_answer(session, head, aid, leaf.code, sample[0])
            await officer.set_explanation(session, head, aid, leaf.code, f"Giải trình {leaf.code}")
        await officer.submit(session, head, aid)
        aids[unit.code] = aid
    return aids


async def _first_round(session: AsyncSession, p: Province, aids: dict[str, int]) -> None:
    """Each agency: in every unit, the first pending item is adjusted (SNV), a supplement is
    requested (other agencies), N/A claims are refused; everything else is accepted."""
    for code, actor in p.appraisers.items():
        found = await appraisal.pending(session, actor)
        assert found.by_unit and {c.key for c in found.by_unit} <= {str(a) for a in aids.values()}
        for unit in p.units:
            queue = await appraisal.unit_queue(session, actor, aids[unit.code])
            for n, q in enumerate(queue):
                if q.na_claimed:
                    await appraisal.refuse_na(session, actor, q.assessment_id, q.item_code, "Có nhiệm vụ")
                elif n == 0 and code == "SNV":
                    await appraisal.adjust(session, actor, q.assessment_id, q.item_code, "0", "Chưa đạt")
                elif n == 0:
                    await appraisal.request_supplement(
                        session, actor, q.assessment_id, q.item_code, "Bổ sung"
                    )
                else:
                    await appraisal.accept(session, actor, q.assessment_id, q.item_code)
        assert (await appraisal.pending(session, actor)).items == []


async def test_full_cycle_on_the_shipped_2025_so_set(session: AsyncSession) -> None:
    p = await province(session, departments=UNITS)
    cs = p.sets["so"]
    assert len(list(cs.leaves())) == 56
    aids = await _submit_all(session, p)
    assert len(p.appraisers) == 5
    # every agency sees every unit in its queue
    for actor in p.appraisers.values():
        assert len((await appraisal.pending(session, actor)).by_unit) == UNITS

    await cycle.advance(session, p.secretariat, p.year, "appraisal")
    await _first_round(session, p, aids)

    await cycle.advance(session, p.secretariat, p.year, "explanation")
    contested = list(
        await session.scalars(select(ItemScore).where(ItemScore.appraisal1_status.in_(CONTESTED)))
    )
    assert contested
    head_of = {aid: p.heads[code] for code, aid in aids.items()}
    for item in contested:
        await explanation.save_reply(
            session, head_of[item.assessment_id], item.assessment_id, item.item_code, "Giải trình bổ sung"
        )

    await cycle.advance(session, p.secretariat, p.year, "final_appraisal")
    first = {(i.assessment_id, i.item_code): i.appraisal1_status for i in contested}
    for actor in p.appraisers.values():
        found = await appraisal.pending(session, actor)
        for n, q in enumerate(found.items):  # half convinced by the explanation, half not
            if n % 2 or first[(q.assessment_id, q.item_code)] == "supplement_requested":
                await appraisal.accept(session, actor, q.assessment_id, q.item_code)
            else:
                await appraisal.keep_first(session, actor, q.assessment_id, q.item_code)
        assert (await appraisal.pending(session, actor)).items == []

    survey_leaves = survey.survey_leaves(cs)
    assert len(survey_leaves) == 6
    for su in await survey.survey_units(session, p.secretariat, p.year):
        for leaf, _value in su.items:
            points = (leaf.max_points * Decimal("0.8")).quantize(Decimal("0.01"))
            await survey.set_survey_points(session, p.secretariat, p.year, su.unit.id, leaf.code, str(points))
    entered = await survey.survey_units(session, p.secretariat, p.year)
    assert len(entered) == UNITS and all(v is not None for su in entered for _l, v in su.items)

    await cycle.advance(session, p.secretariat, p.year, "approved")
    assert set(await session.scalars(select(Assessment.status))) == {"finalized"}
    await cycle.advance(session, p.secretariat, p.year, "published")

    result = await ranking(session, p.year, "SO")
    assert [r.rank for r in result.rows] == list(range(1, UNITS + 1))
    indexes = [r.index for r in result.rows]
    assert indexes == sorted(indexes, reverse=True)
    assert all(Decimal(0) < i <= Decimal(100) for i in indexes)
    notices: dict[int | None, str] = {n.chat_id: n.text for n in await outbox(session, "published")}
    heads = {a.telegram_id for a in p.heads.values()}
    assert heads | {p.leader.telegram_id} == set(notices)
    for row in result.rows:
        assert f"{row.name}: <b>" in notices[p.heads[row.code].telegram_id]
