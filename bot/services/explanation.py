"""The unit's side of appraisal: see each appraised item with the appraiser's comment and answer a
supplement request or an adjustment with an explanation or more evidence (giải trình, bổ sung).

A supplement request can be answered as soon as it is made (until the appraisal deadline); every
contested item (adjusted, supplement requested, N/A refused) can be answered during the
explanation round until its deadline. An answer puts the item back in the agency's queue marked
"answered" and notifies the agency's appraisers once per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Unpack

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    Assessment,
    Evidence,
    EvidenceRound,
    ItemScore,
    Period,
    Unit,
)
from bot.i18n import translate
from bot.scoring.model import Leaf
from bot.services import audit
from bot.services.actor import Actor
from bot.services.appraisal import load_scope
from bot.services.errors import ServiceError, required_text
from bot.services.evidence import EvidenceFile, record_file
from bot.services.outbox import enqueue
from bot.services.periods import active_period, criteria_for
from bot.services.recipients import agency_people
from bot.services.stages import CONTESTED, answered, now_utc, reply_open
from bot.services.tx import use_case
from bot.text import N_, esc

MAX_TEXT = 3000


@dataclass(frozen=True)
class ReplyItem:
    code: str
    name: str
    self_points: Decimal | None
    points: Decimal | None  # appraisal 1
    status: str
    comment: str | None
    reply: str | None
    answered: bool
    open: bool
    na_claimed: bool
    supplements: int


@dataclass(frozen=True)
class ReplySheet:
    assessment_id: int
    period: Period
    unit: Unit
    items: list[ReplyItem]
    accepted: int  # items accepted as they were (nothing to answer)


async def reply_sheet(
    session: AsyncSession, actor: Actor, unit_id: int | None = None, *, now: datetime | None = None
) -> ReplySheet:
    """The actor's unit's appraised items that can be (or could have been) answered."""
    units = actor.unit_ids()
    if not units or (unit_id is not None and unit_id not in units):
        raise ServiceError("forbidden")
    unit_id = unit_id if unit_id is not None else min(units)
    period = await active_period(session)
    assessment = await session.scalar(
        select(Assessment).where(Assessment.period_id == period.id, Assessment.unit_id == unit_id)
    )
    unit = await session.get(Unit, unit_id)
    if assessment is None or unit is None:
        raise ServiceError("nothing_appraised")
    return await _sheet(session, assessment, period, unit, now)


async def _sheet(
    session: AsyncSession, assessment: Assessment, period: Period, unit: Unit, now: datetime | None
) -> ReplySheet:
    cs = await criteria_for(session, period, unit.unit_type)
    rows = {
        i.item_code: i
        for i in await session.scalars(select(ItemScore).where(ItemScore.assessment_id == assessment.id))
    }
    counts = await _supplement_counts(session, [i.id for i in rows.values()])
    items: list[ReplyItem] = []
    accepted = 0
    for _area, _criterion, leaf in cs.leaves():
        row = rows.get(leaf.code)
        if row is None or row.appraisal1_status is None:
            continue
        if row.appraisal1_status not in CONTESTED:
            accepted += 1
            continue
        items.append(_reply_item(leaf, row, period, counts.get(row.id, 0), now))
    return ReplySheet(assessment.id, period, unit, items, accepted)


def _reply_item(
    leaf: Leaf, row: ItemScore, period: Period, supplements: int, now: datetime | None
) -> ReplyItem:
    return ReplyItem(
        code=leaf.code,
        name=leaf.name,
        self_points=row.self_points,
        points=row.appraisal1_points,
        status=str(row.appraisal1_status),
        comment=row.appraisal1_comment,
        reply=row.unit_reply,
        answered=answered(row),
        open=reply_open(period, row, now),
        na_claimed=row.na_claimed,
        supplements=supplements,
    )


@dataclass
class ReplyTarget:
    period: Period
    assessment: Assessment
    unit: Unit
    leaf: Leaf
    item: ItemScore
    agency_id: int | None

    def view(self, supplements: int = 0, now: datetime | None = None) -> ReplyItem:
        return _reply_item(self.leaf, self.item, self.period, supplements, now)


async def reply_target(session: AsyncSession, actor: Actor, assessment_id: int, code: str) -> ReplyTarget:
    """One appraised item of the actor's unit (refused for another unit's sheet or an unknown item)."""
    assessment = await session.get(Assessment, assessment_id)
    if assessment is None or (not actor.is_system and assessment.unit_id not in actor.unit_ids()):
        raise ServiceError("forbidden")
    period = await session.get(Period, assessment.period_id)
    unit = await session.get(Unit, assessment.unit_id)
    assert period is not None and unit is not None
    cs = await criteria_for(session, period, unit.unit_type)
    leaf = cs.leaf(code)
    item = await session.scalar(
        select(ItemScore).where(ItemScore.assessment_id == assessment.id, ItemScore.item_code == code)
    )
    if leaf is None or item is None or item.appraisal1_status is None:
        raise ServiceError("forbidden")
    scope = await load_scope(session, period)
    return ReplyTarget(period, assessment, unit, leaf, item, scope.agency_of(cs, code))


async def _supplement_counts(session: AsyncSession, item_ids: list[int]) -> dict[int, int]:
    """item id → supplementary files still attached (items without any are left out)."""
    counts: dict[int, int] = {}
    for (item_id,) in await session.execute(
        select(Evidence.item_score_id).where(
            Evidence.item_score_id.in_(item_ids),
            Evidence.round == EvidenceRound.SUPPLEMENT.value,
            Evidence.removed_at.is_(None),
        )
    ):
        counts[item_id] = counts.get(item_id, 0) + 1
    return counts


async def supplement_count(session: AsyncSession, item_id: int) -> int:
    return (await _supplement_counts(session, [item_id])).get(item_id, 0)


async def writable_target(
    session: AsyncSession, actor: Actor, assessment_id: int, code: str, *, now: datetime | None = None
) -> ReplyTarget:
    """Like `reply_target`, and refused when the item cannot be answered now (stage or deadline)."""
    target = await reply_target(session, actor, assessment_id, code)
    if not reply_open(target.period, target.item, now):
        raise ServiceError("reply_closed")
    return target


async def _mark_answered(
    session: AsyncSession, actor: Actor, target: ReplyTarget, at: datetime, what: str
) -> None:
    item = target.item
    first_answer = not answered(item)
    item.unit_reply_at = at
    item.updated_by = actor.person_id
    if not first_answer or target.agency_id is None:
        return
    request_stamp = (item.appraisal1_at or at).strftime("%Y%m%d%H%M%S%f")
    for person in await agency_people(session, [target.agency_id]):
        text = translate(
            person.language,
            N_("↩️ {unit} answered on item <b>{code}</b> ({name}): {what}. It is back in /pending."),
            unit=esc(target.unit.name),
            code=esc(item.item_code),
            name=esc(target.leaf.name),
            what=translate(person.language, what),
        )
        key = f"answered:{item.id}:{request_stamp}:{person.id}"
        payload = {"assessment_id": target.assessment.id, "item": item.item_code}
        await enqueue(session, person.id, person.telegram_id, "unit_answered", text, key, payload)


@use_case
async def save_reply(
    session: AsyncSession,
    actor: Actor,
    assessment_id: int,
    code: str,
    text: str,
    *,
    now: datetime | None = None,
) -> ReplyItem:
    """The unit's explanation on an appraised item (replaces an earlier one)."""
    target = await writable_target(session, actor, assessment_id, code, now=now)
    cleaned = required_text(text, "reply_required", MAX_TEXT)
    at = now_utc(now)
    before = {"unit_reply": target.item.unit_reply, "unit_reply_at": target.item.unit_reply_at}
    target.item.unit_reply = cleaned
    await _mark_answered(session, actor, target, at, N_("an explanation"))
    await audit.record(
        session,
        actor,
        "explanation.reply",
        "item_score",
        f"{assessment_id}:{code}",
        before=before,
        after={"unit_reply": cleaned, "unit_reply_at": at},
    )
    await session.commit()
    return target.view(await supplement_count(session, target.item.id), now)


@use_case
async def add_supplement(
    session: AsyncSession,
    actor: Actor,
    assessment_id: int,
    code: str,
    *,
    now: datetime | None = None,
    **file: Unpack[EvidenceFile],
) -> tuple[Evidence, bool]:
    """A supplementary evidence file (round "supplement"); the same file twice is recorded once."""
    target = await writable_target(session, actor, assessment_id, code, now=now)
    row, created = await record_file(session, actor, target.item.id, EvidenceRound.SUPPLEMENT, file)
    if not created:
        return row, False
    await _mark_answered(session, actor, target, now_utc(now), N_("new evidence"))
    await audit.record(
        session,
        actor,
        "evidence.supplement",
        "evidence",
        row.id,
        after=audit.snapshot(
            row, ["item_score_id", "file_unique_id", "file_name", "size", "sha256", "round"]
        ),
    )
    await session.commit()
    return row, True
