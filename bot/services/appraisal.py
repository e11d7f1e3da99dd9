"""Appraisal (thẩm định) by the agencies of the council: queues, item screens and decisions.

An appraiser sees only the leaves whose field or criterion is assigned to their agency for the
period (`agencies.agency_for`), for every unit that has submitted. Appraisal 1 accepts, adjusts
(through the same rule input as the officer), asks for a supplement or decides an N/A claim; the
final round (after the explanation round) accepts the unit's claim, keeps appraisal 1 or adjusts.
Callback data is never trusted: every call re-checks the agency, the round and the deadline.
Each decision is one transaction: item change + audit + the unit's notification (outbox).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    Agency,
    AgencyAssignment,
    AppraisalStatus,
    Assessment,
    AssessmentStatus,
    Evidence,
    ItemScore,
    Period,
    Unit,
)
from bot.i18n import translate
from bot.scoring.codes import code_key
from bot.scoring.fmt import canonical, fmt_points
from bot.scoring.model import CriteriaSet, Criterion, FieldArea, Leaf, SurveyRule
from bot.scoring.rules import Answer, score_answer
from bot.services import audit
from bot.services.actor import Actor
from bot.services.agencies import leaf_agencies
from bot.services.errors import ServiceError, required_text
from bot.services.outbox import enqueue
from bot.services.periods import active_period, criteria_for
from bot.services.recipients import unit_people
from bot.services.stages import CONTESTED, Round, answered, appraisal_round, now_utc, require_round
from bot.services.tx import use_case
from bot.text import N_, esc, fmt_dt

IN_QUEUE = (AssessmentStatus.SUBMITTED.value, AssessmentStatus.APPRAISED.value)
MAX_TEXT = 2000
_UNIT_NOTICE = {
    AppraisalStatus.SUPPLEMENT_REQUESTED.value: (
        "supplement_requested",
        N_(
            "📎 {agency} asks for more evidence on item <b>{code}</b> ({name}) of {unit}:\n"
            "<i>{note}</i>\nPlease answer with /explain before {deadline}."
        ),
    ),
    AppraisalStatus.ADJUSTED.value: (
        "appraisal_adjusted",
        N_(
            "✏️ {agency} adjusted item <b>{code}</b> ({name}) of {unit} from {old} to {new} points:\n"
            "<i>{note}</i>\nYou can explain in the explanation round (/explain)."
        ),
    ),
    AppraisalStatus.NA_REFUSED.value: (
        "na_refused",
        N_(
            '🚫 {agency} did not accept "not applicable" for item <b>{code}</b> ({name}) of {unit} '
            "({new} points):\n<i>{note}</i>\nYou can explain in the explanation round (/explain)."
        ),
    ),
}


# ----------------------------------------------------------------------------- scope


@dataclass
class PeriodScope:
    """A period's assignments and criteria sets, to say which agency appraises which leaf."""

    period: Period
    assignments: list[AgencyAssignment]
    sets: dict[str, CriteriaSet] = field(default_factory=dict)

    async def criteria(self, session: AsyncSession, unit_type: str) -> CriteriaSet:
        if unit_type not in self.sets:
            self.sets[unit_type] = await criteria_for(session, self.period, unit_type)
        return self.sets[unit_type]

    def agency_of(self, cs: CriteriaSet, code: str) -> int | None:
        return leaf_agencies(cs, self.assignments).get(code)


async def load_scope(session: AsyncSession, period: Period) -> PeriodScope:
    rows = await session.scalars(select(AgencyAssignment).where(AgencyAssignment.period_id == period.id))
    return PeriodScope(period, list(rows))


def _appraised_leaves(cs: CriteriaSet) -> Iterable[tuple[FieldArea, Criterion, Leaf]]:
    return ((a, c, leaf) for a, c, leaf in cs.leaves() if not isinstance(leaf.rule, SurveyRule))


def _agencies(actor: Actor) -> set[int] | None:
    """The agencies whose items the actor may appraise; None means all (the system)."""
    if actor.is_system:
        return None
    agencies = actor.agency_ids()
    if not agencies:
        raise ServiceError("forbidden")
    return agencies


# ----------------------------------------------------------------------------- queues


@dataclass(frozen=True)
class QueueItem:
    assessment_id: int
    unit_id: int
    unit_code: str
    unit_name: str
    agency_id: int
    field_code: str
    field_name: str
    item_code: str
    since: datetime
    answered: bool
    na_claimed: bool


def is_pending(item: ItemScore | None, rnd: Round) -> bool:
    if rnd is Round.FIRST:
        if item is None or item.appraisal1_status is None:
            return True
        return item.appraisal1_status == AppraisalStatus.SUPPLEMENT_REQUESTED.value and answered(item)
    if item is None:
        return False
    return item.final_status is None and (
        item.appraisal1_status is None or item.appraisal1_status in CONTESTED
    )


async def backlog(
    session: AsyncSession,
    period: Period,
    agency_ids: set[int] | None = None,
    rnd: Round | None = None,
    *,
    now: datetime | None = None,
) -> list[QueueItem]:
    """Items waiting for an appraiser (of `agency_ids`, or of any agency), oldest first. `rnd` is
    the round to look at (by default the one open now; nothing when none is)."""
    rnd = rnd or appraisal_round(period, now)
    if rnd is None:
        return []
    scope = await load_scope(session, period)
    rows = await session.execute(
        select(Assessment, Unit)
        .join(Unit, Unit.id == Assessment.unit_id)
        .where(Assessment.period_id == period.id, Assessment.status.in_(IN_QUEUE))
    )
    pairs = list(rows)
    items: dict[int, dict[str, ItemScore]] = {}
    if pairs:
        for item in await session.scalars(
            select(ItemScore).where(ItemScore.assessment_id.in_([a.id for a, _ in pairs]))
        ):
            items.setdefault(item.assessment_id, {})[item.item_code] = item
    result: list[QueueItem] = []
    for assessment, unit in pairs:
        try:
            cs = await scope.criteria(session, unit.unit_type)
        except ServiceError:
            continue
        sheet = items.get(assessment.id, {})
        agencies_of = leaf_agencies(cs, scope.assignments)
        for area, _criterion, leaf in _appraised_leaves(cs):
            agency = agencies_of[leaf.code]
            if agency is None or (agency_ids is not None and agency not in agency_ids):
                continue
            row = sheet.get(leaf.code)
            if not is_pending(row, rnd):
                continue
            is_answered = row is not None and answered(row)
            since = assessment.submitted_at or assessment.created_at
            if is_answered and row is not None and row.unit_reply_at is not None:
                since = row.unit_reply_at
            result.append(
                QueueItem(
                    assessment.id,
                    unit.id,
                    unit.code,
                    unit.name,
                    agency,
                    area.code,
                    area.name,
                    leaf.code,
                    since,
                    is_answered,
                    bool(row and row.na_claimed),
                )
            )
    result.sort(key=lambda q: (q.since, q.unit_code, code_key(q.item_code)))
    return result


@dataclass(frozen=True)
class Count:
    key: str  # unit id or field code
    name: str
    count: int
    answered: int
    oldest: datetime


def _counts(items: list[QueueItem], by_unit: bool) -> list[Count]:
    groups: dict[str, list[QueueItem]] = {}
    names: dict[str, str] = {}
    for q in items:
        key = str(q.assessment_id) if by_unit else q.field_code
        groups.setdefault(key, []).append(q)
        names[key] = q.unit_name if by_unit else f"{q.field_code}. {q.field_name}"
    counts = [
        Count(k, names[k], len(v), sum(q.answered for q in v), min(q.since for q in v))
        for k, v in groups.items()
    ]
    return sorted(counts, key=lambda c: (c.oldest, c.name))


@dataclass(frozen=True)
class Pending:
    period: Period
    round: Round | None
    items: list[QueueItem]
    by_unit: list[Count]
    by_field: list[Count]


async def pending(session: AsyncSession, actor: Actor, *, now: datetime | None = None) -> Pending:
    """The actor's agency queue in the current period: counts per unit and per field, oldest first."""
    agencies = _agencies(actor)
    period = await active_period(session)
    rnd = appraisal_round(period, now)
    items = await backlog(session, period, agencies, rnd, now=now) if rnd else []
    return Pending(period, rnd, items, _counts(items, True), _counts(items, False))


async def unit_queue(
    session: AsyncSession, actor: Actor, assessment_id: int, *, now: datetime | None = None
) -> list[QueueItem]:
    """The actor's pending items of one unit's sheet, in sheet order."""
    found = await pending(session, actor, now=now)
    items = [q for q in found.items if q.assessment_id == assessment_id]
    return sorted(items, key=lambda q: code_key(q.item_code))


# ----------------------------------------------------------------------------- one item


@dataclass
class ItemContext:
    period: Period
    assessment: Assessment
    unit: Unit
    criteria: CriteriaSet
    area: FieldArea
    criterion: Criterion
    leaf: Leaf
    agency_id: int
    item: ItemScore | None
    round: Round | None
    evidence: list[Evidence]

    @property
    def pending(self) -> bool:
        return self.round is not None and is_pending(self.item, self.round)


async def _context(
    session: AsyncSession, actor: Actor, assessment_id: int, code: str, now: datetime | None
) -> ItemContext:
    agencies = _agencies(actor)
    assessment = await session.get(Assessment, assessment_id)
    if assessment is None or assessment.status not in (*IN_QUEUE, AssessmentStatus.FINALIZED.value):
        raise ServiceError("forbidden")
    period = await session.get(Period, assessment.period_id)
    unit = await session.get(Unit, assessment.unit_id)
    assert period is not None and unit is not None
    scope = await load_scope(session, period)
    cs = await scope.criteria(session, unit.unit_type)
    found = next(((a, c, leaf) for a, c, leaf in _appraised_leaves(cs) if leaf.code == code), None)
    if found is None:
        raise ServiceError("forbidden")
    area, criterion, leaf = found
    agency = scope.agency_of(cs, leaf.code)
    if agency is None or (agencies is not None and agency not in agencies):
        raise ServiceError("forbidden")
    item = await session.scalar(
        select(ItemScore).where(ItemScore.assessment_id == assessment.id, ItemScore.item_code == code)
    )
    evidence: list[Evidence] = []
    if item is not None:
        evidence = list(
            await session.scalars(
                select(Evidence)
                .where(Evidence.item_score_id == item.id, Evidence.removed_at.is_(None))
                .order_by(Evidence.id)
            )
        )
    return ItemContext(
        period,
        assessment,
        unit,
        cs,
        area,
        criterion,
        leaf,
        agency,
        item,
        appraisal_round(period, now),
        evidence,
    )


async def open_item(
    session: AsyncSession, actor: Actor, assessment_id: int, code: str, *, now: datetime | None = None
) -> ItemContext:
    """One item with everything the appraiser needs to decide (refused outside the actor's agency)."""
    return await _context(session, actor, assessment_id, code, now)


def preview_adjust(ctx: ItemContext, text: str) -> Answer:
    """Score a proposed value with the officer's rule (raises InputError)."""
    return score_answer(ctx.leaf, text)


_FIELDS = (
    "appraisal1_points",
    "appraisal1_status",
    "appraisal1_comment",
    "final_points",
    "final_status",
    "final_comment",
)


async def _decide(
    session: AsyncSession,
    actor: Actor,
    assessment_id: int,
    code: str,
    now: datetime | None,
) -> tuple[ItemContext, ItemScore, Round]:
    ctx = await _context(session, actor, assessment_id, code, now)
    rnd = require_round(ctx.period, now)
    if ctx.assessment.status not in IN_QUEUE:
        raise ServiceError("stage_closed", year=ctx.period.year, status=ctx.period.status)
    if ctx.item is None:
        item = ItemScore(assessment_id=ctx.assessment.id, item_code=code, na_claimed=False)
        session.add(item)
        await session.flush()
        ctx.item = item
    return ctx, ctx.item, rnd


def _set(
    item: ItemScore,
    rnd: Round,
    actor: Actor,
    at: datetime,
    points: Decimal | None,
    status: str,
    note: str | None,
) -> None:
    if rnd is Round.FIRST:
        item.appraisal1_points, item.appraisal1_status, item.appraisal1_comment = points, status, note
        item.appraisal1_by, item.appraisal1_at = actor.person_id, at
    else:
        item.final_points, item.final_status, item.final_comment = points, status, note
        item.final_by, item.final_at = actor.person_id, at
    item.updated_by = actor.person_id


async def _finish(
    session: AsyncSession,
    actor: Actor,
    ctx: ItemContext,
    item: ItemScore,
    rnd: Round,
    action: str,
    before: dict[str, object],
    at: datetime,
    *,
    commit: bool = True,
) -> None:
    await audit.record(
        session,
        actor,
        f"appraisal.{rnd.value}.{action}",
        "item_score",
        f"{ctx.assessment.id}:{item.item_code}",
        before=before,
        after=audit.snapshot(item, _FIELDS),
    )
    if rnd is Round.FIRST:
        notice = _UNIT_NOTICE.get(item.appraisal1_status or "")
        if notice is not None:
            await _notify_unit(session, ctx, item, notice, at)
        await _refresh_status(session, ctx)
    if commit:
        await session.commit()


async def _agency_name(session: AsyncSession, agency_id: int) -> str:
    agency = await session.get(Agency, agency_id)
    return agency.name if agency is not None else ""


async def _notify_unit(
    session: AsyncSession, ctx: ItemContext, item: ItemScore, notice: tuple[str, str], at: datetime
) -> None:
    kind, msgid = notice
    agency = await _agency_name(session, ctx.agency_id)
    deadline = ctx.period.appraisal_deadline
    if item.appraisal1_status != AppraisalStatus.SUPPLEMENT_REQUESTED.value:
        deadline = ctx.period.explanation_deadline
    stamp = at.strftime("%Y%m%d%H%M%S%f")
    for person in await unit_people(session, ctx.unit.id):
        locale = person.language or "vi"
        text = translate(
            person.language,
            msgid,
            agency=esc(agency),
            code=esc(item.item_code),
            name=esc(ctx.leaf.name),
            unit=esc(ctx.unit.name),
            note=esc(item.appraisal1_comment or ""),
            old=fmt_points(item.self_points or Decimal(0), locale),
            new=fmt_points(item.appraisal1_points or Decimal(0), locale),
            deadline=fmt_dt(deadline) or "—",
        )
        key = f"{kind}:{item.id}:{stamp}:{person.id}"
        await enqueue(
            session,
            person.id,
            person.telegram_id,
            kind,
            text,
            key,
            {"assessment_id": ctx.assessment.id, "item": item.item_code},
        )


async def _refresh_status(session: AsyncSession, ctx: ItemContext) -> None:
    """APPRAISED once every appraised leaf has a settled appraisal-1 result, else SUBMITTED."""
    await session.flush()
    decided = {
        code
        for code, status in (
            await session.execute(
                select(ItemScore.item_code, ItemScore.appraisal1_status).where(
                    ItemScore.assessment_id == ctx.assessment.id
                )
            )
        )
        if status is not None and status != AppraisalStatus.SUPPLEMENT_REQUESTED.value
    }
    complete = all(leaf.code in decided for _, _, leaf in _appraised_leaves(ctx.criteria))
    wanted = AssessmentStatus.APPRAISED.value if complete else AssessmentStatus.SUBMITTED.value
    if ctx.assessment.status != wanted:
        ctx.assessment.status = wanted


def _accept_values(item: ItemScore) -> tuple[Decimal | None, str]:
    if item.na_claimed:
        return None, AppraisalStatus.NA_ACCEPTED.value
    return item.self_points, AppraisalStatus.ACCEPTED.value


@use_case
async def accept(
    session: AsyncSession, actor: Actor, assessment_id: int, code: str, *, now: datetime | None = None
) -> ItemContext:
    """Accept the unit's points (or its N/A claim). In the final round: the explanation convinced."""
    ctx, item, rnd = await _decide(session, actor, assessment_id, code, now)
    at = now_utc(now)
    before = audit.snapshot(item, _FIELDS)
    points, status = _accept_values(item)
    _set(item, rnd, actor, at, points, status, None)
    await _finish(session, actor, ctx, item, rnd, "accept", before, at)
    return ctx


@use_case
async def adjust(
    session: AsyncSession,
    actor: Actor,
    assessment_id: int,
    code: str,
    value: str,
    reason: str,
    *,
    now: datetime | None = None,
) -> tuple[ItemContext, Answer]:
    """New points through the leaf's rule (the officer's input: a level, yes/no, "45/50", "90%"...),
    with a reason. Adjusting an N/A claim refuses it with these points."""
    ctx, item, rnd = await _decide(session, actor, assessment_id, code, now)
    note = required_text(reason, "reason_required", MAX_TEXT)
    answer = score_answer(ctx.leaf, value)
    at = now_utc(now)
    before = audit.snapshot(item, _FIELDS)
    status = AppraisalStatus.NA_REFUSED.value if item.na_claimed else AppraisalStatus.ADJUSTED.value
    _set(item, rnd, actor, at, answer.points, status, f"{note}")
    await _finish(session, actor, ctx, item, rnd, "adjust", {**before, "value": answer.raw}, at)
    return ctx, answer


@use_case
async def request_supplement(
    session: AsyncSession,
    actor: Actor,
    assessment_id: int,
    code: str,
    note: str,
    *,
    now: datetime | None = None,
) -> ItemContext:
    """Ask the unit for more evidence or an explanation (appraisal 1 only); the note is required."""
    ctx, item, rnd = await _decide(session, actor, assessment_id, code, now)
    if rnd is not Round.FIRST:
        raise ServiceError("first_round_only")
    text = required_text(note, "note_required", MAX_TEXT)
    at = now_utc(now)
    before = audit.snapshot(item, _FIELDS)
    _set(item, rnd, actor, at, None, AppraisalStatus.SUPPLEMENT_REQUESTED.value, text)
    await _finish(session, actor, ctx, item, rnd, "supplement", before, at)
    return ctx


@use_case
async def refuse_na(
    session: AsyncSession,
    actor: Actor,
    assessment_id: int,
    code: str,
    reason: str,
    *,
    now: datetime | None = None,
) -> ItemContext:
    """Refuse a "not applicable" claim: the item counts with 0 points (adjust to give others)."""
    ctx, item, rnd = await _decide(session, actor, assessment_id, code, now)
    if not item.na_claimed:
        raise ServiceError("not_na")
    text = required_text(reason, "reason_required", MAX_TEXT)
    at = now_utc(now)
    before = audit.snapshot(item, _FIELDS)
    _set(item, rnd, actor, at, Decimal(0), AppraisalStatus.NA_REFUSED.value, text)
    await _finish(session, actor, ctx, item, rnd, "na_refuse", before, at)
    return ctx


@use_case
async def keep_first(
    session: AsyncSession, actor: Actor, assessment_id: int, code: str, *, now: datetime | None = None
) -> ItemContext:
    """Final round: appraisal 1 stands (not possible for an unanswered supplement request)."""
    ctx, item, rnd = await _decide(session, actor, assessment_id, code, now)
    if rnd is not Round.FINAL:
        raise ServiceError("final_round_only")
    if item.appraisal1_status in (None, AppraisalStatus.SUPPLEMENT_REQUESTED.value):
        raise ServiceError("nothing_to_keep")
    at = now_utc(now)
    before = audit.snapshot(item, _FIELDS)
    _set(item, rnd, actor, at, item.appraisal1_points, str(item.appraisal1_status), item.appraisal1_comment)
    await _finish(session, actor, ctx, item, rnd, "keep", before, at)
    return ctx


@use_case
async def accept_field(
    session: AsyncSession,
    actor: Actor,
    assessment_id: int,
    field_code: str,
    *,
    now: datetime | None = None,
) -> list[str]:
    """Accept every item of one field of one unit still pending for the actor's agencies, in one
    transaction. Returns the accepted item codes (empty when nothing was pending)."""
    agencies = _agencies(actor)
    assessment = await session.get(Assessment, assessment_id)
    if assessment is None:
        raise ServiceError("forbidden")
    period = await session.get(Period, assessment.period_id)
    assert period is not None
    require_round(period, now)
    queue = await backlog(session, period, agencies, now=now)
    codes = [q.item_code for q in queue if q.assessment_id == assessment_id and q.field_code == field_code]
    at = now_utc(now)
    for code in sorted(codes, key=code_key):
        ctx, item, rnd = await _decide(session, actor, assessment_id, code, now)
        before = audit.snapshot(item, _FIELDS)
        points, status = _accept_values(item)
        _set(item, rnd, actor, at, points, status, None)
        await _finish(session, actor, ctx, item, rnd, "accept_field", before, at, commit=False)
    await session.commit()
    return codes


def points_text(value: Decimal | None) -> str:
    return "" if value is None else canonical(value)
