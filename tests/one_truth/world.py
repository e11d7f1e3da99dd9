"""A small province driven through the whole cycle by the real services, from a generated plan,
and the figures the plan must produce (the oracle), written from the rules in docs/criteria.md.

The oracle is deliberately independent of `bot.scoring`: it is the written rule, applied by hand to
what the plan did, so a figure that agrees with it agrees with the rule, not only with the core.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Agency, Assessment, Period, RankingGroup, Unit
from bot.scoring.loader import parse_criteria_set
from bot.scoring.model import CriteriaSet, Leaf, SurveyRule
from bot.scoring.rules import score_answer, score_survey
from bot.services import appraisal, cycle, explanation, survey
from bot.services import assessment as officer
from bot.services.actor import Actor
from bot.services.agencies import assign, create_agency
from bot.services.criteria import store_criteria_set
from bot.services.periods import create_period, open_period
from bot.services.units import UnitRow, upsert_units
from tests.officer_seed import person

SYSTEM = Actor.system("one-truth")
YEAR = 2025
GROUP = "G"
D = Decimal
ZERO = D(0)

CRITERIA: dict[str, Any] = {
    "code": "one-truth",
    "name": "Bộ tiêu chí thử: mọi con số từ một nguồn",
    "year": YEAR,
    "unit_types": ["so"],
    "sample": True,
    "max_points": 16,
    "fields": [
        {
            "code": "1",
            "name": "Chỉ đạo, điều hành",
            "max_points": 5,
            "criteria": [
                {
                    "code": "1.1",
                    "name": "Kế hoạch CCHC",
                    "max_points": 3,
                    "sub_criteria": [
                        {
                            "code": "1.1.1",
                            "name": "Ban hành kế hoạch",
                            "max_points": 1,
                            "rule": {
                                "kind": "levels",
                                "levels": [
                                    {"label": "Kịp thời", "points": 1},
                                    {"label": "Không kịp thời", "points": "0.5"},
                                    {"label": "Không ban hành", "points": 0},
                                ],
                            },
                            "rule_text": "Kịp thời: 1; Không kịp thời: 0,5; Không ban hành: 0",
                        },
                        {
                            "code": "1.1.2",
                            "name": "Kiểm tra CCHC",
                            "max_points": 2,
                            "rule": {"kind": "boolean"},
                            "rule_text": "Có: 2; Không: 0",
                            "allow_na": True,
                        },
                    ],
                },
                {
                    "code": "1.2",
                    "name": "Tuyên truyền CCHC",
                    "max_points": 2,
                    "rule": {"kind": "manual", "step": "0.25"},
                    "rule_text": "0-2 điểm, bước 0,25",
                },
            ],
        },
        {
            "code": "2",
            "name": "Hiện đại hóa hành chính",
            "max_points": 5,
            "criteria": [
                {
                    "code": "2.1",
                    "name": "Hồ sơ trực tuyến",
                    "max_points": 3,
                    "rule": {"kind": "proportional"},
                    "rule_text": "Tỷ lệ × 3",
                    "allow_na": True,
                },
                {
                    "code": "2.2",
                    "name": "An toàn thông tin",
                    "max_points": 2,
                    "rule": {"kind": "deduction", "per_violation": "0.5"},
                    "rule_text": "Mỗi sự cố trừ 0,5",
                },
            ],
        },
        {
            "code": "3",
            "name": "Mức độ hài lòng",
            "max_points": 6,
            "criteria": [
                {
                    "code": "3.1",
                    "name": "Điều tra xã hội học",
                    "max_points": 5,
                    "sub_criteria": [
                        {
                            "code": "3.1.1",
                            "name": "Hài lòng về thủ tục",
                            "max_points": "2.5",
                            "rule": {"kind": "survey"},
                            "rule_text": "Điều tra XHH",
                        },
                        {
                            "code": "3.1.2",
                            "name": "Hài lòng về công chức",
                            "max_points": "2.5",
                            "rule": {"kind": "survey"},
                            "rule_text": "Điều tra XHH",
                        },
                    ],
                },
                {
                    "code": "3.2",
                    "name": "Chỉ tiêu kinh tế - xã hội",
                    "max_points": 1,
                    "rule": {"kind": "count_steps", "steps": [{"at_least": 2, "points": 1}]},
                    "rule_text": "Từ 2 chỉ tiêu: 1",
                },
            ],
        },
    ],
}
CS: CriteriaSet = parse_criteria_set(CRITERIA, "one-truth")
LEAVES: dict[str, Leaf] = {leaf.code: leaf for _f, _c, leaf in CS.leaves()}
SELF_SCORED = [code for code, leaf in LEAVES.items() if not isinstance(leaf.rule, SurveyRule)]
SURVEY = [code for code, leaf in LEAVES.items() if isinstance(leaf.rule, SurveyRule)]
ANSWERS: dict[str, list[str]] = {
    "1.1.1": ["0", "1", "2"],
    "1.1.2": ["yes", "no"],
    "1.2": ["0", "0,25", "1,5", "2"],
    "2.1": ["45/50", "1/3", "0/7", "7/7", "2/9"],
    "2.2": ["0", "1", "3", "5"],
    "3.2": ["0", "1", "2"],
}
SURVEY_VALUES = ["0", "1,25", "2,5", "1,37", "2,49"]

Stage = Literal["self_assessment", "appraisal", "explanation", "final_appraisal", "approved", "published"]
STAGES: list[Stage] = [
    "self_assessment",
    "appraisal",
    "explanation",
    "final_appraisal",
    "approved",
    "published",
]
UnitStage = Literal["not_started", "draft", "submitted"]
Decision = Literal["accept", "adjust", "supplement", "refuse_na"]
Final = Literal["accept", "keep", "adjust"]


@dataclass
class LeafPlan:
    answer: int  # index into ANSWERS[code]
    na: bool  # claim "not applicable" (where the item allows it)
    decision: Decision | None  # appraisal 1 (submitted sheets)
    adjust_to: int
    reply: bool  # the unit explains a contested item
    final: Final | None  # final round, for the items still pending in it
    final_to: int


@dataclass
class UnitPlan:
    stage: UnitStage
    answered: int  # how many self-scored items a draft answered
    leaves: dict[str, LeafPlan]
    survey: dict[str, int | None]  # index into SURVEY_VALUES, None: not entered
    not_ranked: bool


@dataclass
class Plan:
    stage: Stage
    units: list[UnitPlan]
    threshold: int = 50  # award threshold of the group (top 2)


# ----------------------------------------------------------------------------- what happened


@dataclass
class ItemState:
    self_points: Decimal | None = None
    na_claimed: bool = False
    a1: Decimal | None = None
    a1_status: str | None = None
    final: Decimal | None = None
    final_status: str | None = None


@dataclass
class UnitState:
    code: str
    name: str
    unit_id: int
    aid: int
    officer: Actor
    head: Actor
    submitted: bool = False
    not_ranked: bool = False
    items: dict[str, ItemState] = field(default_factory=dict)


@dataclass
class World:
    session: AsyncSession
    db_url: str
    period: Period
    group: RankingGroup
    units: list[UnitState]
    appraiser: Actor
    secretariat: Actor
    leader: Actor
    plan: Plan


def unit_name(n: int) -> str:
    return f"Sở Thử nghiệm số {n}"


async def build(session: AsyncSession, db_url: str, plan: Plan) -> World:
    """Drive the plan through the services, recording what each call did."""
    now = datetime.now(UTC)
    await store_criteria_set(session, SYSTEM, CS)
    rows = [
        UnitRow(f"U{n}", unit_name(n), "so", GROUP, "Khối thử nghiệm") for n in range(1, len(plan.units) + 1)
    ]
    await upsert_units(session, SYSTEM, rows)
    await create_agency(session, SYSTEM, "A", "Cơ quan thẩm định")
    await session.commit()
    stages = {
        "self_assessment": now + timedelta(days=30),
        "appraisal": now + timedelta(days=40),
        "explanation": now + timedelta(days=50),
        "final_appraisal": now + timedelta(days=60),
    }
    await create_period(session, SYSTEM, YEAR, {"so": CS.code}, name=f"Kỳ thử {YEAR}", stages=stages)
    for scope in ("1", "2", "3"):
        await assign(session, SYSTEM, YEAR, "A", scope, "field")
    await open_period(session, SYSTEM, YEAR, now=now)
    group = await session.scalar(select(RankingGroup).where(RankingGroup.code == GROUP))
    assert group is not None
    group.award_top_n, group.award_threshold = 2, D(plan.threshold)
    agency = await session.scalar(select(Agency).where(Agency.code == "A"))
    assert agency is not None
    appraiser = await person(session, 7001, "Thẩm định viên", "appraiser", agency_id=agency.id)
    secretariat = await person(session, 7002, "Thường trực Sở Nội vụ", "secretariat")
    leader = await person(session, 7003, "Lãnh đạo tỉnh", "leader")
    units: list[UnitState] = []
    for n, _unit_plan in enumerate(plan.units, start=1):
        unit = await session.scalar(select(Unit).where(Unit.code == f"U{n}"))
        assert unit is not None
        assessment = await session.scalar(select(Assessment).where(Assessment.unit_id == unit.id))
        assert assessment is not None
        units.append(
            UnitState(
                unit.code,
                unit.name,
                unit.id,
                assessment.id,
                await person(session, 8000 + n, f"Cán bộ {n}", "officer", unit_id=unit.id),
                await person(session, 9000 + n, f"Thủ trưởng {n}", "unit_head", unit_id=unit.id),
            )
        )
    await session.commit()
    world = World(session, db_url, await _period(session), group, units, appraiser, secretariat, leader, plan)
    for state, unit_plan in zip(units, plan.units, strict=True):
        await _self_assess(world, state, unit_plan)
    for state, unit_plan in zip(units, plan.units, strict=True):
        if state.submitted:
            await _first_round(world, state, unit_plan)
        for code, value in unit_plan.survey.items():
            if value is not None:
                text = SURVEY_VALUES[value]
                await survey.set_survey_points(session, secretariat, YEAR, state.unit_id, code, text)
                points = score_survey(LEAVES[code], text).points
                state.items[code] = ItemState(
                    a1=points, a1_status="accepted", final=points, final_status="accepted"
                )
        if unit_plan.not_ranked:
            await cycle.set_not_ranked(
                session, secretariat, YEAR, state.code, "Thiếu trung thực <b>kiểm chứng</b>"
            )
            state.not_ranked = True
    target = STAGES.index(plan.stage)
    for stage in STAGES[1 : target + 1]:
        if stage == "approved":
            for state, unit_plan in zip(units, plan.units, strict=True):
                await _final_round(world, state, unit_plan, decide_all=True)
        await cycle.advance(session, secretariat, YEAR, stage)
        if stage == "explanation":
            for state, unit_plan in zip(units, plan.units, strict=True):
                await _explain(world, state, unit_plan)
        if stage == "final_appraisal" and target == STAGES.index("final_appraisal"):
            for state, unit_plan in zip(units, plan.units, strict=True):
                await _final_round(world, state, unit_plan, decide_all=False)
    world.period = await _period(session)
    return world


async def _period(session: AsyncSession) -> Period:
    period = await session.scalar(select(Period).where(Period.year == YEAR))
    assert period is not None
    await session.refresh(period)
    return period


async def _self_assess(world: World, state: UnitState, plan: UnitPlan) -> None:
    if plan.stage == "not_started":
        return
    session = world.session
    codes = SELF_SCORED if plan.stage == "submitted" else SELF_SCORED[: plan.answered]
    for code in codes:
        leaf, leaf_plan = LEAVES[code], plan.leaves[code]
        if leaf_plan.na and leaf.allow_na:
            await officer.claim_na(session, state.officer, state.aid, code, "Không có nhiệm vụ này")
            state.items[code] = ItemState(na_claimed=True)
            continue
        text = ANSWERS[code][leaf_plan.answer % len(ANSWERS[code])]
        answer, _ = await officer.save_answer(session, state.officer, state.aid, code, text)
        if answer.points > 0:
            await officer.set_explanation(session, state.officer, state.aid, code, f"Giải trình {code}")
        state.items[code] = ItemState(self_points=answer.points)
    if plan.stage == "submitted":
        await officer.submit(session, state.head, state.aid)
        state.submitted = True


def _points(code: str, choice: int) -> Decimal:
    return score_answer(LEAVES[code], ANSWERS[code][choice % len(ANSWERS[code])]).points


async def _first_round(world: World, state: UnitState, plan: UnitPlan) -> None:
    session, actor = world.session, world.appraiser
    for code in SELF_SCORED:
        leaf_plan, item = plan.leaves[code], state.items[code]
        decision = leaf_plan.decision
        if decision is None:
            continue
        if decision == "accept":
            await appraisal.accept(session, actor, state.aid, code)
            item.a1, item.a1_status = (
                (None, "na_accepted") if item.na_claimed else (item.self_points, "accepted")
            )
        elif decision == "adjust":
            text = ANSWERS[code][leaf_plan.adjust_to % len(ANSWERS[code])]
            await appraisal.adjust(session, actor, state.aid, code, text, "Chưa đủ tài liệu kiểm chứng")
            item.a1 = _points(code, leaf_plan.adjust_to)
            item.a1_status = "na_refused" if item.na_claimed else "adjusted"
        elif decision == "supplement":
            await appraisal.request_supplement(session, actor, state.aid, code, "Bổ sung biên bản")
            item.a1, item.a1_status = None, "supplement_requested"
        elif item.na_claimed:  # refuse_na
            await appraisal.refuse_na(session, actor, state.aid, code, "Đơn vị có nhiệm vụ này")
            item.a1, item.a1_status = ZERO, "na_refused"


async def _explain(world: World, state: UnitState, plan: UnitPlan) -> None:
    for code in SELF_SCORED:
        item = state.items.get(code)
        if not state.submitted or item is None or not plan.leaves[code].reply:
            continue
        if item.a1_status in ("adjusted", "supplement_requested", "na_refused"):
            await explanation.save_reply(
                world.session, state.officer, state.aid, code, f"Giải trình lại {code}"
            )


async def _final_round(world: World, state: UnitState, plan: UnitPlan, *, decide_all: bool) -> None:
    """The final round decides the items still pending in it: those contested in round 1 and those
    never decided. Before approval (`decide_all`) every such item gets a decision."""
    if not state.submitted:
        return
    session, actor = world.session, world.appraiser
    for code in SELF_SCORED:
        item = state.items[code]
        if item.final_status is not None:
            continue
        if item.a1_status not in (None, "adjusted", "supplement_requested", "na_refused"):
            continue
        choice = plan.leaves[code].final or ("accept" if decide_all else None)
        if choice == "keep" and item.a1_status in (None, "supplement_requested"):
            choice = "accept"
        if choice is None:
            continue
        if choice == "accept":
            await appraisal.accept(session, actor, state.aid, code)
            item.final, item.final_status = (
                (None, "na_accepted") if item.na_claimed else (item.self_points, "accepted")
            )
        elif choice == "keep":
            await appraisal.keep_first(session, actor, state.aid, code)
            item.final, item.final_status = item.a1, item.a1_status
        else:
            text = ANSWERS[code][plan.leaves[code].final_to % len(ANSWERS[code])]
            await appraisal.adjust(session, actor, state.aid, code, text, "Sau giải trình vẫn chưa đạt")
            item.final = _points(code, plan.leaves[code].final_to)
            item.final_status = "na_refused" if item.na_claimed else "adjusted"


# ----------------------------------------------------------------------------- the oracle

BANDS = [("Xuất sắc", D(90)), ("Tốt", D(80)), ("Khá", D(65)), ("Trung bình", D(50)), ("Yếu", D(0))]
NONE = "-"


def cents(value: Decimal) -> str:
    """A figure to the cent, as the comparison reads it ("66.07")."""
    return str(value.quantize(D("0.01"), rounding=ROUND_HALF_UP))


def natural(code: str) -> tuple[tuple[int, int, str], ...]:
    return tuple(
        (0, int(t), "") if t.isdigit() else (1, 0, t.casefold()) for t in re.findall(r"\d+|[^\W\d_]+", code)
    )


def _value(leaf: Leaf, item: ItemState, basis: str) -> tuple[Decimal | None, bool]:
    """(value, N/A) of one item on a basis: docs/criteria.md, "How the index is computed"."""
    if isinstance(leaf.rule, SurveyRule):
        value = item.final if item.final is not None else item.a1
    elif basis == "self":
        value = item.self_points
    elif basis == "appraised":
        value = next((v for v in (item.final, item.a1, item.self_points) if v is not None), None)
    else:
        value = item.final if item.final is not None else item.a1
    decisions = {"na_accepted": True, "na_refused": False}
    decision = decisions.get(item.final_status or "", decisions.get(item.a1_status or ""))
    if not leaf.allow_na:
        return value, False
    if basis == "self":
        return value, item.na_claimed
    if basis == "appraised":
        return value, decision is True or (item.na_claimed and decision is None)
    return value, decision is True


@dataclass
class Totals:
    points: Decimal
    applicable: Decimal
    pending: Decimal

    @property
    def index(self) -> Decimal:
        if self.applicable <= 0:
            return ZERO
        return min(D(100), self.points * 100 / self.applicable)


def totals(state: UnitState, basis: str, codes: list[str] | None = None) -> Totals:
    points = applicable = pending = ZERO
    for code in codes if codes is not None else list(LEAVES):
        leaf = LEAVES[code]
        value, na = _value(leaf, state.items.get(code, ItemState()), basis)
        if na:
            continue
        if isinstance(leaf.rule, SurveyRule) and value is None:
            pending += leaf.max_points
            continue
        applicable += leaf.max_points
        points += min(leaf.max_points, max(ZERO, value or ZERO))
    return Totals(points, applicable, pending)


def published(index: Decimal) -> Decimal:
    return index.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def band(index: Decimal) -> str:
    shown = published(index)
    return next(name for name, low in BANDS if shown >= low)


def item_codes(prefix: str) -> list[str]:
    """The leaves under a field or criterion code."""
    return [code for code in LEAVES if code == prefix or code.startswith(prefix + ".")]


FIELDS = [f.code for f in CS.fields]
CRITERIA_CODES = [c.code for f in CS.fields for c in f.criteria]
