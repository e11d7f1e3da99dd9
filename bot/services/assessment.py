"""The unit's self-assessment (SPEC §5, officer and unit head): read the sheet, answer items, submit.

Every function takes the acting person and re-checks their rights, because callback data can be
forged: only an officer or the unit head of the sheet's own unit may see or change it, and changes
are refused once the sheet is submitted or the self-assessment stage is over. Each mutating use case
is one transaction (change + audit + outbox) committed before it returns, so the bot never says
"saved" about something that is not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.db.models import (
    UNIT_ROLES,
    AgencyAssignment,
    Assessment,
    AssessmentStatus,
    Evidence,
    ItemScore,
    Period,
    PeriodStatus,
    Person,
    RoleName,
    Unit,
)
from bot.i18n import translate
from bot.scoring.fmt import canonical
from bot.scoring.model import CriteriaSet, Criterion, FieldArea, Leaf, SurveyRule
from bot.scoring.rules import Answer, score_answer
from bot.scoring.sheet import Basis, SheetResult
from bot.services import audit
from bot.services.actor import Actor
from bot.services.agencies import leaf_agencies
from bot.services.errors import ServiceError
from bot.services.outbox import enqueue
from bot.services.periods import criteria_for, get_or_create_assessment
from bot.services.ranking import sheet_of
from bot.services.recipients import agency_people, unit_people
from bot.services.tx import use_case
from bot.text import esc, visible

EDITABLE_STATUSES = frozenset(
    {AssessmentStatus.NOT_STARTED.value, AssessmentStatus.DRAFT.value, AssessmentStatus.RETURNED.value}
)
MAX_TEXT = 3000  # explanation / note / reason: long enough for a paragraph, short enough for a screen


# ----------------------------------------------------------------------------- loaded context


@dataclass
class Sheet:
    """One unit's sheet with everything a screen needs, loaded in one go."""

    assessment: Assessment
    period: Period
    unit: Unit
    criteria: CriteriaSet
    items: dict[str, ItemScore]
    evidence_counts: dict[str, int]
    is_head: bool
    lock: str | None  # None (editable), "submitted" or "period_locked"

    @property
    def editable(self) -> bool:
        return self.lock is None

    def leaf(self, code: str) -> Leaf:
        leaf = self.criteria.leaf(code)
        if leaf is None:
            raise ServiceError("not_found", what="item", key=code)
        return leaf

    def result(self) -> SheetResult:
        """The self-assessed totals, by the same function as every ranking and export (survey
        results entered by the secretariat count; those not entered yet are pending)."""
        return sheet_of(self.criteria, self.period, self.assessment, self.items.values(), Basis.SELF)


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _actor_units(actor: Actor) -> dict[int, set[str]]:
    """unit id → the actor's unit roles there (officer / unit_head)."""
    units: dict[int, set[str]] = {}
    for role, unit_id, _ in actor.roles:
        if role in UNIT_ROLES and unit_id is not None:
            units.setdefault(unit_id, set()).add(role)
    return units


def period_lock(period: Period, now: datetime | None = None) -> str | None:
    """Why the self-assessment stage does not accept changes now (None while it does)."""
    if period.status != PeriodStatus.SELF_ASSESSMENT.value:
        return "period_locked"
    if period.self_deadline is not None and _now(now) >= period.self_deadline:
        return "period_locked"
    if period.opens_at is not None and _now(now) < period.opens_at:
        return "period_locked"
    return None


async def current_period(session: AsyncSession) -> Period | None:
    """The period the officers work on: the latest in self-assessment, else the latest opened one."""
    open_period = await session.scalar(
        select(Period)
        .where(Period.status == PeriodStatus.SELF_ASSESSMENT.value)
        .order_by(Period.year.desc())
        .limit(1)
    )
    if open_period is not None:
        return open_period
    return await session.scalar(
        select(Period).where(Period.status != PeriodStatus.DRAFT.value).order_by(Period.year.desc()).limit(1)
    )


async def _load(session: AsyncSession, actor: Actor, assessment: Assessment, now: datetime | None) -> Sheet:
    roles = {RoleName.UNIT_HEAD.value} if actor.is_system else _actor_units(actor).get(assessment.unit_id)
    if not roles:
        raise ServiceError("forbidden")
    period = await session.get(Period, assessment.period_id)
    unit = await session.get(Unit, assessment.unit_id)
    assert period is not None and unit is not None
    criteria = await criteria_for(session, period, unit.unit_type)
    items = {
        item.item_code: item
        for item in await session.scalars(select(ItemScore).where(ItemScore.assessment_id == assessment.id))
    }
    counts_rows = await session.execute(
        select(ItemScore.item_code, func.count(Evidence.id))
        .join(Evidence, Evidence.item_score_id == ItemScore.id)
        .where(ItemScore.assessment_id == assessment.id, Evidence.removed_at.is_(None))
        .group_by(ItemScore.item_code)
    )
    lock = period_lock(period, now)
    if assessment.status not in EDITABLE_STATUSES:
        lock = "submitted"
    return Sheet(
        assessment=assessment,
        period=period,
        unit=unit,
        criteria=criteria,
        items=items,
        evidence_counts={code: int(n) for code, n in counts_rows.all()},
        is_head=RoleName.UNIT_HEAD.value in roles,
        lock=lock,
    )


@use_case
async def open_sheet(
    session: AsyncSession, actor: Actor, unit_id: int | None = None, *, now: datetime | None = None
) -> Sheet:
    """The actor's unit's sheet in the current period (created on first use)."""
    units = _actor_units(actor)
    if not units:
        raise ServiceError("forbidden")
    if unit_id is None:
        unit_id = min(units)
    elif unit_id not in units:
        raise ServiceError("forbidden")
    period = await current_period(session)
    if period is None:
        raise ServiceError("no_period", year="")
    assessment = await get_or_create_assessment(session, period.id, unit_id)
    await session.commit()
    return await _load(session, actor, assessment, now)


async def load_sheet(
    session: AsyncSession, actor: Actor, assessment_id: int, *, now: datetime | None = None
) -> Sheet:
    """A sheet by id (from callback data): refused unless the actor belongs to its unit."""
    assessment = await session.get(Assessment, assessment_id)
    if assessment is None:
        raise ServiceError("forbidden")
    return await _load(session, actor, assessment, now)


async def editable_sheet(
    session: AsyncSession, actor: Actor, assessment_id: int, now: datetime | None
) -> Sheet:
    sheet = await load_sheet(session, actor, assessment_id, now=now)
    ensure_editable(sheet)
    return sheet


def ensure_editable(sheet: Sheet) -> None:
    """Raise ServiceError("submitted" / "period_locked") unless the sheet accepts changes."""
    if sheet.lock is not None:
        raise ServiceError(sheet.lock, year=sheet.period.year, status=sheet.period.status)


# ----------------------------------------------------------------------------- views


@dataclass(frozen=True)
class Progress:
    code: str
    name: str
    done: int
    total: int
    points: Decimal
    max_points: Decimal
    evidence_missing: int


@dataclass(frozen=True)
class ItemState:
    """The current answer of one leaf, as the officer sees it."""

    leaf: Leaf
    field_code: str
    criterion_code: str
    self_points: Decimal | None
    self_raw: str | None
    explanation: str | None
    evidence_note: str | None
    na_claimed: bool
    na_reason: str | None
    evidence_count: int
    appraisal1_points: Decimal | None = None
    appraisal1_status: str | None = None
    appraisal1_comment: str | None = None
    final_points: Decimal | None = None
    final_comment: str | None = None

    @property
    def answered(self) -> bool:
        return self.na_claimed or self.self_points is not None

    @property
    def needs_explanation(self) -> bool:
        """Points claimed with no evidence need a written explanation (domain.md §2.3)."""
        return (
            not self.na_claimed
            and self.self_points is not None
            and self.self_points > 0
            and self.evidence_count == 0
            and not visible(self.explanation)
        )


def _self_scored(leaf: Leaf) -> bool:
    return not isinstance(leaf.rule, SurveyRule)


def item_state(sheet: Sheet, code: str) -> ItemState:
    for field_area, criterion, leaf in sheet.criteria.leaves():
        if leaf.code != code:
            continue
        item = sheet.items.get(code)
        return ItemState(
            leaf=leaf,
            field_code=field_area.code,
            criterion_code=criterion.code,
            self_points=item.self_points if item else None,
            self_raw=item.self_raw if item else None,
            explanation=item.explanation if item else None,
            evidence_note=item.evidence_note if item else None,
            na_claimed=bool(item and item.na_claimed),
            na_reason=item.na_reason if item else None,
            evidence_count=sheet.evidence_counts.get(code, 0),
            appraisal1_points=item.appraisal1_points if item else None,
            appraisal1_status=item.appraisal1_status if item else None,
            appraisal1_comment=item.appraisal1_comment if item else None,
            final_points=item.final_points if item else None,
            final_comment=item.final_comment if item else None,
        )
    raise ServiceError("not_found", what="item", key=code)


def _progress(sheet: Sheet, code: str, name: str, leaves: Sequence[Leaf]) -> Progress:
    done = missing = 0
    points = max_points = Decimal(0)
    for leaf in leaves:
        if not _self_scored(leaf):
            continue
        state = item_state(sheet, leaf.code)
        max_points += leaf.max_points
        done += state.answered
        if state.self_points is not None and not state.na_claimed:
            points += state.self_points
        missing += state.needs_explanation
    total = sum(1 for leaf in leaves if _self_scored(leaf))
    return Progress(code, name, done, total, points, max_points, missing)


def field_progress(sheet: Sheet) -> list[Progress]:
    return [
        _progress(sheet, f.code, f.name, [leaf for c in f.criteria for leaf in c.leaves()])
        for f in sheet.criteria.fields
    ]


def find_field(sheet: Sheet, code: str) -> FieldArea:
    for f in sheet.criteria.fields:
        if f.code == code:
            return f
    raise ServiceError("not_found", what="item", key=code)


def find_criterion(sheet: Sheet, code: str) -> tuple[FieldArea, Criterion]:
    for f in sheet.criteria.fields:
        for c in f.criteria:
            if c.code == code:
                return f, c
    raise ServiceError("not_found", what="item", key=code)


def criterion_progress(sheet: Sheet, field_code: str) -> list[Progress]:
    return [_progress(sheet, c.code, c.name, c.leaves()) for c in find_field(sheet, field_code).criteria]


def leaf_codes(sheet: Sheet) -> list[str]:
    """Self-scored leaves in sheet order (survey items are the secretariat's)."""
    return [leaf.code for _, _, leaf in sheet.criteria.leaves() if _self_scored(leaf)]


def neighbours(sheet: Sheet, code: str) -> tuple[str | None, str | None]:
    codes = leaf_codes(sheet)
    if code not in codes:
        return None, None
    i = codes.index(code)
    return (codes[i - 1] if i > 0 else None), (codes[i + 1] if i + 1 < len(codes) else None)


@dataclass(frozen=True)
class Review:
    """The whole sheet before submission: totals and what is still missing."""

    result: SheetResult
    unanswered: list[str] = field(default_factory=list)
    unexplained: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.unanswered and not self.unexplained


def review(sheet: Sheet) -> Review:
    unanswered: list[str] = []
    unexplained: list[str] = []
    for code in leaf_codes(sheet):
        state = item_state(sheet, code)
        if not state.answered:
            unanswered.append(code)
        elif state.needs_explanation:
            unexplained.append(code)
    return Review(result=sheet.result(), unanswered=unanswered, unexplained=unexplained)


# ----------------------------------------------------------------------------- mutations


def _snapshot(item: ItemScore | None) -> dict[str, Any]:
    if item is None:
        return {}
    return {
        "self_points": None if item.self_points is None else canonical(item.self_points),
        "self_raw": item.self_raw,
        "explanation": item.explanation,
        "evidence_note": item.evidence_note,
        "na_claimed": item.na_claimed,
        "na_reason": item.na_reason,
    }


async def item_row(session: AsyncSession, sheet: Sheet, code: str) -> ItemScore:
    item = sheet.items.get(code)
    if item is None:
        item = ItemScore(assessment_id=sheet.assessment.id, item_code=code, na_claimed=False)
        session.add(item)
        await session.flush()
        sheet.items[code] = item
    return item


def self_leaf(sheet: Sheet, code: str) -> Leaf:
    leaf = sheet.leaf(code)
    if not _self_scored(leaf):
        raise ServiceError("not_self_scored", item=code)
    return leaf


async def editable_item(
    session: AsyncSession, actor: Actor, assessment_id: int, code: str, now: datetime | None
) -> tuple[Sheet, ItemScore]:
    """The sheet, editable by the actor now, and its row for self-scored item `code` (created if
    missing)."""
    sheet = await editable_sheet(session, actor, assessment_id, now)
    self_leaf(sheet, code)
    return sheet, await item_row(session, sheet, code)


def _clean(text: str | None) -> str | None:
    text = visible(text)
    if len(text) > MAX_TEXT:
        raise ServiceError("too_long", max=MAX_TEXT)
    return text or None


async def _commit_item(
    session: AsyncSession,
    actor: Actor,
    sheet: Sheet,
    item: ItemScore,
    action: str,
    before: dict[str, Any],
) -> ItemState:
    item.updated_by = actor.person_id
    await touch(session, sheet, item.item_code)
    await audit.record(
        session,
        actor,
        action,
        "item_score",
        f"{sheet.assessment.id}:{item.item_code}",
        before=before,
        after=_snapshot(item),
    )
    await session.commit()
    return item_state(sheet, item.item_code)


async def preview_answer(
    session: AsyncSession,
    actor: Actor,
    assessment_id: int,
    code: str,
    text: str,
    *,
    now: datetime | None = None,
) -> Answer:
    """Score what was typed without saving it (raises InputError for a value the rule refuses)."""
    sheet = await editable_sheet(session, actor, assessment_id, now)
    return score_answer(self_leaf(sheet, code), text)


@use_case
async def save_answer(
    session: AsyncSession,
    actor: Actor,
    assessment_id: int,
    code: str,
    text: str,
    *,
    now: datetime | None = None,
) -> tuple[Answer, ItemState]:
    """Score and store an answer (a button value or typed text). An answer replaces an N/A claim."""
    sheet = await editable_sheet(session, actor, assessment_id, now)
    answer = score_answer(self_leaf(sheet, code), text)
    item = await item_row(session, sheet, code)
    before = _snapshot(item)
    item.self_raw = answer.raw
    item.self_points = answer.points
    item.na_claimed = False
    item.na_reason = None
    return answer, await _commit_item(session, actor, sheet, item, "self_score.answer", before)


@use_case
async def clear_answer(
    session: AsyncSession, actor: Actor, assessment_id: int, code: str, *, now: datetime | None = None
) -> ItemState:
    sheet, item = await editable_item(session, actor, assessment_id, code, now)
    before = _snapshot(item)
    item.self_raw = None
    item.self_points = None
    item.na_claimed = False
    item.na_reason = None
    return await _commit_item(session, actor, sheet, item, "self_score.clear", before)


async def _set_text(
    session: AsyncSession,
    actor: Actor,
    assessment_id: int,
    code: str,
    field: Literal["explanation", "evidence_note"],
    text: str | None,
    now: datetime | None,
) -> ItemState:
    sheet, item = await editable_item(session, actor, assessment_id, code, now)
    before = _snapshot(item)
    setattr(item, field, _clean(text))
    return await _commit_item(session, actor, sheet, item, f"self_score.{field}", before)


@use_case
async def set_explanation(
    session: AsyncSession,
    actor: Actor,
    assessment_id: int,
    code: str,
    text: str | None,
    *,
    now: datetime | None = None,
) -> ItemState:
    return await _set_text(session, actor, assessment_id, code, "explanation", text, now)


@use_case
async def set_evidence_note(
    session: AsyncSession,
    actor: Actor,
    assessment_id: int,
    code: str,
    text: str | None,
    *,
    now: datetime | None = None,
) -> ItemState:
    return await _set_text(session, actor, assessment_id, code, "evidence_note", text, now)


@use_case
async def claim_na(
    session: AsyncSession,
    actor: Actor,
    assessment_id: int,
    code: str,
    reason: str,
    *,
    now: datetime | None = None,
) -> ItemState:
    """Claim "not applicable" (only where the leaf allows it); the reason is required."""
    sheet = await editable_sheet(session, actor, assessment_id, now)
    leaf = self_leaf(sheet, code)
    if not leaf.allow_na:
        raise ServiceError("na_not_allowed", item=code)
    cleaned = _clean(reason)
    if not cleaned:
        raise ServiceError("reason_required")
    item = await item_row(session, sheet, code)
    before = _snapshot(item)
    item.na_claimed = True
    item.na_reason = cleaned
    item.self_points = None
    item.self_raw = None
    return await _commit_item(session, actor, sheet, item, "self_score.na", before)


@use_case
async def remember_item(
    session: AsyncSession, actor: Actor, assessment_id: int, code: str, *, now: datetime | None = None
) -> None:
    """Remember the item the person is on, so `/score` resumes there (no audit: not a change of data)."""
    sheet = await load_sheet(session, actor, assessment_id, now=now)
    sheet.leaf(code)
    if sheet.assessment.last_item_code != code:
        await touch(session, sheet, code)
        await session.commit()


async def touch(session: AsyncSession, sheet: Sheet, code: str) -> None:
    """Mark the sheet as being worked on, at item `code` (draft, resume point).

    A plain UPDATE, not through the ORM: the assessment's optimistic-lock version guards status
    changes (submit, withdraw), and two officers of one unit saving different items at the same
    moment must not fail each other on it."""
    assessment = sheet.assessment
    values: dict[str, Any] = {"last_item_code": code}
    if assessment.status == AssessmentStatus.NOT_STARTED.value:
        values["status"] = AssessmentStatus.DRAFT.value
    await session.execute(update(Assessment).where(Assessment.id == assessment.id).values(**values))
    for key, value in values.items():
        set_committed_value(assessment, key, value)


# ----------------------------------------------------------------------------- submission


async def _appraisers(session: AsyncSession, sheet: Sheet) -> list[Person]:
    """Appraisers of the agencies that appraise at least one of this sheet's items."""
    assignments = list(
        await session.scalars(select(AgencyAssignment).where(AgencyAssignment.period_id == sheet.period.id))
    )
    appraised = {leaf.code for _, _, leaf in sheet.criteria.leaves() if _self_scored(leaf)}
    agencies = leaf_agencies(sheet.criteria, assignments)
    return await agency_people(session, {a for code, a in agencies.items() if a and code in appraised})


@use_case
async def submit(
    session: AsyncSession, actor: Actor, assessment_id: int, *, now: datetime | None = None
) -> Review:
    """The unit head submits the sheet. Refused with what is missing while anything is."""
    sheet = await editable_sheet(session, actor, assessment_id, now)
    if not sheet.is_head:
        raise ServiceError("head_only")
    result = review(sheet)
    if not result.complete:
        raise ServiceError(
            "incomplete",
            unanswered=", ".join(result.unanswered),
            unexplained=", ".join(result.unexplained),
        )
    assessment = sheet.assessment
    before = {"status": assessment.status}
    assessment.status = AssessmentStatus.SUBMITTED.value
    assessment.submitted_at = _now(now)
    assessment.submitted_by = actor.person_id
    stamp = assessment.submitted_at.strftime("%Y%m%d%H%M%S%f")
    for person in await unit_people(session, sheet.unit.id):
        text = translate(
            person.language, "The self-assessment of {unit} has been submitted.", unit=esc(sheet.unit.name)
        )
        await enqueue(
            session,
            person.id,
            person.telegram_id,
            "submitted",
            text,
            f"submitted:{assessment.id}:{stamp}:{person.id}",
        )
    for person in await _appraisers(session, sheet):
        text = translate(
            person.language,
            "{unit} has submitted its self-assessment; its items are waiting for appraisal.",
            unit=esc(sheet.unit.name),
        )
        key = f"to_appraise:{assessment.id}:{stamp}:{person.id}"
        await enqueue(session, person.id, person.telegram_id, "to_appraise", text, key)
    await audit.record(
        session,
        actor,
        "assessment.submit",
        "assessment",
        str(assessment.id),
        before=before,
        after={"status": assessment.status, "points": canonical(result.result.points)},
    )
    await session.commit()
    return result


@use_case
async def withdraw(
    session: AsyncSession, actor: Actor, assessment_id: int, *, now: datetime | None = None
) -> None:
    """The unit head takes a submitted sheet back to correct it, before the deadline and before any
    item has been appraised."""
    sheet = await load_sheet(session, actor, assessment_id, now=now)
    if not sheet.is_head:
        raise ServiceError("head_only")
    if sheet.assessment.status != AssessmentStatus.SUBMITTED.value:
        raise ServiceError("not_submitted")
    lock = period_lock(sheet.period, now)
    if lock is not None:
        raise ServiceError(lock, year=sheet.period.year, status=sheet.period.status)
    if any(item.appraisal1_status is not None for item in sheet.items.values()):
        raise ServiceError("already_appraised")
    assessment = sheet.assessment
    before = {"status": assessment.status}
    assessment.status = AssessmentStatus.RETURNED.value
    assessment.submitted_at = None
    assessment.submitted_by = None
    await audit.record(
        session,
        actor,
        "assessment.withdraw",
        "assessment",
        str(assessment.id),
        before=before,
        after={"status": assessment.status},
    )
    await session.commit()


def can_withdraw(sheet: Sheet, now: datetime | None = None) -> bool:
    return (
        sheet.is_head
        and sheet.assessment.status == AssessmentStatus.SUBMITTED.value
        and period_lock(sheet.period, now) is None
        and not any(item.appraisal1_status is not None for item in sheet.items.values())
    )
