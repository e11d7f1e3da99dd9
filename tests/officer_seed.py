"""Seed data for the officer's self-assessment tests (services and chat): a unit with its people,
a period in the self-assessment stage and a criteria set that has every rule kind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    Agency,
    AgencyAssignment,
    CriteriaSetRow,
    Period,
    PeriodCriteria,
    PeriodStatus,
    Person,
    Role,
    Unit,
)
from bot.scoring.model import CriteriaSet
from bot.services.actor import Actor, actor_for

SMALL_SET: dict[str, Any] = {
    "code": "test-small",
    "name": "Bộ tiêu chí thử",
    "year": 2025,
    "unit_types": ["so"],
    "sample": True,
    "max_points": 20,
    "fields": [
        {
            "code": "1",
            "name": "Chỉ đạo điều hành",
            "max_points": 8,
            "criteria": [
                {
                    "code": "1.1",
                    "name": "Kế hoạch",
                    "max_points": 4,
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
                            "evidence_hint": "Kế hoạch CCHC",
                        },
                        {
                            "code": "1.1.2",
                            "name": "Mức độ thực hiện",
                            "max_points": 2,
                            "rule": {
                                "kind": "bands",
                                "unit": "percent",
                                "bands": [
                                    {"min": 90, "min_inclusive": False, "points": 2},
                                    {"min": 70, "max": 90, "max_inclusive": True, "points": 1},
                                    {"max": 70, "points": 0},
                                ],
                            },
                            "rule_text": "Trên 90%: 2; 70%-90%: 1; dưới 70%: 0",
                        },
                        {
                            "code": "1.1.3",
                            "name": "Có kiểm tra",
                            "max_points": 1,
                            "rule": {"kind": "boolean"},
                            "rule_text": "Có: 1; Không: 0",
                            "allow_na": True,
                        },
                    ],
                },
                {
                    "code": "1.2",
                    "name": "Nhiệm vụ được giao",
                    "max_points": 4,
                    "rule": {"kind": "proportional"},
                    "rule_text": "Tỷ lệ × 4",
                },
            ],
        },
        {
            "code": "2",
            "name": "Thể chế",
            "max_points": 12,
            "criteria": [
                {
                    "code": "2.1",
                    "name": "Văn bản",
                    "max_points": 9,
                    "sub_criteria": [
                        {
                            "code": "2.1.1",
                            "name": "Số cuộc họp",
                            "max_points": 3,
                            "rule": {
                                "kind": "count_steps",
                                "steps": [{"at_least": 1, "points": 1}, {"at_least": 3, "points": 3}],
                            },
                            "rule_text": "3 cuộc: 3; 1 cuộc: 1",
                        },
                        {
                            "code": "2.1.2",
                            "name": "Tự chấm",
                            "max_points": 3,
                            "rule": {"kind": "manual", "step": "0.25"},
                            "rule_text": "Tối đa 3",
                        },
                        {
                            "code": "2.1.3",
                            "name": "Vi phạm",
                            "max_points": 3,
                            "rule": {"kind": "deduction", "per_violation": "0.5"},
                            "rule_text": "Trừ 0,5 mỗi vi phạm",
                        },
                    ],
                },
                {
                    "code": "2.2",
                    "name": "Điều tra XHH",
                    "max_points": 3,
                    "rule": {"kind": "survey"},
                    "rule_text": "Điều tra xã hội học",
                },
            ],
        },
    ],
}


@dataclass
class Seeded:
    period: Period
    unit: Unit
    other_unit: Unit
    officer: Actor
    head: Actor
    other_officer: Actor
    appraiser: Actor
    criteria: CriteriaSet


async def store_set(session: AsyncSession, data: dict[str, Any]) -> CriteriaSetRow:
    cs = CriteriaSet.model_validate(data)
    row = CriteriaSetRow(
        code=cs.code,
        name=cs.name,
        year=cs.year,
        unit_types=list(cs.unit_types),
        content=cs.model_dump(mode="json"),
        content_hash=cs.content_hash(),
        sample=cs.sample,
    )
    session.add(row)
    await session.flush()
    return row


async def person(session: AsyncSession, tg: int, name: str, role: str, **where: int) -> Actor:
    """A registered person holding one role (**where: unit_id or agency_id)."""
    row = Person(telegram_id=tg, full_name=name, language="vi")
    session.add(row)
    await session.flush()
    role_row = Role(person_id=row.id, role=role, **where)
    session.add(role_row)
    await session.flush()
    return actor_for(row, [role_row])


async def seed(
    session: AsyncSession,
    data: dict[str, Any] | None = None,
    *,
    deadline: datetime | None = None,
    with_people: bool = True,
) -> Seeded:
    data = data or SMALL_SET
    row = await store_set(session, data)
    period = Period(
        year=2025,
        name="Kỳ đánh giá 2025",
        status=PeriodStatus.SELF_ASSESSMENT.value,
        self_deadline=deadline or datetime.now(UTC) + timedelta(days=30),
    )
    unit = Unit(code="SNV", name="Sở Nội vụ", name_search="so noi vu", unit_type="so")
    other = Unit(code="STP", name="Sở Tư pháp", name_search="so tu phap", unit_type="so")
    agency = Agency(code="NV", name="Sở Nội vụ (thẩm định)")
    session.add_all([period, unit, other, agency])
    await session.flush()
    session.add(PeriodCriteria(period_id=period.id, unit_type="so", criteria_set_id=row.id))
    session.add(AgencyAssignment(period_id=period.id, agency_id=agency.id, scope="1", kind="field"))
    actors: list[Actor] = []
    if with_people:
        actors = [
            await person(session, 1001, "Cán bộ A", "officer", unit_id=unit.id),
            await person(session, 1002, "Giám đốc B", "unit_head", unit_id=unit.id),
            await person(session, 2001, "Cán bộ C", "officer", unit_id=other.id),
            await person(session, 3001, "Thẩm định D", "appraiser", agency_id=agency.id),
        ]
    await session.commit()
    cs = CriteriaSet.model_validate(data)
    dummy = Actor.system()
    officer, head, other_officer, appraiser = actors or [dummy] * 4
    return Seeded(period, unit, other, officer, head, other_officer, appraiser, cs)
