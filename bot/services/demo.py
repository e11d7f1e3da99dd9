"""`cchc-bot demo seed`: a demo province ("Tỉnh Demo") with real-looking, reproducible data.

Scores are produced by the real rules (`score_answer`) from answers chosen with a fixed seed, so
every total, ranking and class shown in the demo comes from the same code as in production.
Idempotent: every part is looked up before it is created, and the period's sheets are generated
only when the period is first created. Fake Telegram ids (900000xxx) back the sandbox personas.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    Agency,
    AppraisalStatus,
    Assessment,
    AssessmentStatus,
    HistoryResult,
    ItemScore,
    Period,
    Person,
    RankingGroup,
    Role,
    RoleName,
    Unit,
)
from bot.scoring.loader import load_criteria_set
from bot.scoring.model import (
    BandsRule,
    BooleanRule,
    CountStepsRule,
    CriteriaSet,
    DeductionRule,
    Leaf,
    LevelsRule,
    ManualRule,
    ProportionalRule,
    SurveyRule,
)
from bot.scoring.numbers import InputError
from bot.scoring.rules import score_answer
from bot.services.actor import Actor
from bot.services.agencies import assign, known_scopes
from bot.services.audit import record
from bot.services.criteria import store_criteria_set
from bot.services.history import rerank_history
from bot.services.periods import create_period, open_period
from bot.services.units import UnitRow, upsert_units

PROVINCE = "Tỉnh Demo"
SEED = "cchc-demo-v1"
GROUPS = {"SO": "Sở, ban, ngành", "XA": "Xã, phường, đặc khu"}

DEPARTMENTS: list[tuple[str, str]] = [
    ("SNV", "Sở Nội vụ"),
    ("STP", "Sở Tư pháp"),
    ("STC", "Sở Tài chính"),
    ("SKHCN", "Sở Khoa học và Công nghệ"),
    ("VPUBND", "Văn phòng UBND tỉnh"),
    ("SYT", "Sở Y tế"),
    ("SGDDT", "Sở Giáo dục và Đào tạo"),
    ("SXD", "Sở Xây dựng"),
    ("SCT", "Sở Công Thương"),
    ("SNNMT", "Sở Nông nghiệp và Môi trường"),
    ("SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch"),
    ("SDTTG", "Sở Dân tộc và Tôn giáo"),
    ("TTT", "Thanh tra tỉnh"),
    ("BQLKKT", "Ban Quản lý Khu kinh tế"),
    ("SNGV", "Sở Ngoại vụ"),
    ("SDL", "Sở Du lịch"),
    ("BQLKCN", "Ban Quản lý các khu công nghiệp"),
    ("DPTTH", "Đài Phát thanh và Truyền hình tỉnh"),
    ("VPDDBQH", "Văn phòng Đoàn ĐBQH và HĐND tỉnh"),
    ("BQLDA", "Ban Quản lý dự án đầu tư xây dựng tỉnh"),
]

COMMUNES: list[tuple[str, str, str]] = [
    ("P-TANPHONG", "Phường Tân Phong", "phuong"),
    ("P-HOABINH", "Phường Hòa Bình", "phuong"),
    ("P-THONGNHAT", "Phường Thống Nhất", "phuong"),
    ("P-QUANGTRUNG", "Phường Quang Trung", "phuong"),
    ("P-LEHONGPHONG", "Phường Lê Hồng Phong", "phuong"),
    ("P-BACHDANG", "Phường Bạch Đằng", "phuong"),
    ("P-DONGDA", "Phường Đống Đa", "phuong"),
    ("P-HUNGVUONG", "Phường Hùng Vương", "phuong"),
    ("X-TANLAP", "Xã Tân Lập", "xa"),
    ("X-DONGHUNG", "Xã Đông Hưng", "xa"),
    ("X-NGHIALO", "Xã Nghĩa Lộ", "xa"),
    ("X-PHUCTHO", "Xã Phúc Thọ", "xa"),
    ("X-YENBINH", "Xã Yên Bình", "xa"),
    ("X-HOANGSON", "Xã Hoàng Sơn", "xa"),
    ("X-KIMSON", "Xã Kim Sơn", "xa"),
    ("X-TIENPHONG", "Xã Tiền Phong", "xa"),
    ("X-THANHBINH", "Xã Thanh Bình", "xa"),
    ("X-MYDUC", "Xã Mỹ Đức", "xa"),
    ("X-DAIDONG", "Xã Đại Đồng", "xa"),
    ("X-QUYNHLAM", "Xã Quỳnh Lâm", "xa"),
    ("X-LUONGSON", "Xã Lương Sơn", "xa"),
    ("X-CAMKHE", "Xã Cẩm Khê", "xa"),
    ("X-DAKMIL", "Xã Đắk Mil", "xa"),
    ("X-EASUP", "Xã Ea Súp", "xa"),
    ("X-BATXAT", "Xã Bát Xát", "xa"),
    ("X-MUONGTE", "Xã Mường Tè", "xa"),
    ("X-NAHANG", "Xã Na Hang", "xa"),
    ("X-TRAMTAU", "Xã Trạm Tấu", "xa"),
    ("DK-COTO", "Đặc khu Cô Tô", "dac_khu"),
    ("DK-BACHLONGVI", "Đặc khu Bạch Long Vĩ", "dac_khu"),
]

AGENCIES: list[tuple[str, str]] = [
    ("SNV", "Sở Nội vụ"),
    ("VPUBND", "Văn phòng UBND tỉnh"),
    ("STP", "Sở Tư pháp"),
    ("STC", "Sở Tài chính"),
    ("SKHCN", "Sở Khoa học và Công nghệ"),
]
# appraisal_field keys of the shipped 2025 sets → agency code (seed 000, with the 2025 mergers).
FIELD_AGENCY = {"noi_vu": "SNV", "vp_ubnd": "VPUBND", "tu_phap": "STP", "tai_chinh": "STC", "kh_cn": "SKHCN"}

PERSONA_UNIT = "SYT"
PERSONA_COMMUNE = "X-TANLAP"


@dataclass(frozen=True)
class Persona:
    telegram_id: int
    full_name: str
    role: str
    unit_code: str | None = None
    agency_code: str | None = None


PERSONAS: list[Persona] = [
    Persona(900000001, "Nguyễn Thị Lan (cán bộ CCHC, Sở Y tế)", "officer", unit_code=PERSONA_UNIT),
    Persona(900000002, "Trần Văn Minh (Giám đốc Sở Y tế)", "unit_head", unit_code=PERSONA_UNIT),
    Persona(900000003, "Lê Thị Hoa (công chức, Xã Tân Lập)", "officer", unit_code=PERSONA_COMMUNE),
    Persona(900000004, "Phạm Văn Hùng (Chủ tịch UBND xã Tân Lập)", "unit_head", unit_code=PERSONA_COMMUNE),
    Persona(900000011, "Đỗ Minh Tuấn (thẩm định, Sở Nội vụ)", "appraiser", agency_code="SNV"),
    Persona(900000012, "Vũ Thu Trang (thẩm định, VP UBND tỉnh)", "appraiser", agency_code="VPUBND"),
    Persona(900000013, "Hoàng Đức Anh (thẩm định, Sở Tư pháp)", "appraiser", agency_code="STP"),
    Persona(900000014, "Bùi Thị Mai (thẩm định, Sở Tài chính)", "appraiser", agency_code="STC"),
    Persona(900000015, "Ngô Quang Huy (thẩm định, Sở KH&CN)", "appraiser", agency_code="SKHCN"),
    Persona(900000021, "Đặng Văn Long (Phó Chủ tịch UBND tỉnh)", "leader"),
    Persona(900000031, "Phan Thị Ngọc (Phòng CCHC, Sở Nội vụ)", "secretariat"),
]

# Progress by position within each group: the demo shows every state of the cycle.
_SO_PLAN = ["appraised"] * 7 + ["submitted"] * 6 + ["draft"] * 4 + ["not_started"] * 3
_XA_PLAN = ["appraised"] * 9 + ["submitted"] * 9 + ["draft"] * 7 + ["not_started"] * 5
_FORCED = {
    PERSONA_UNIT: "draft",
    PERSONA_COMMUNE: "draft",
    "SNV": "appraised",
    "VPUBND": "appraised",
    "BQLDA": "appraised",
}
_NOT_RANKED = {"BQLDA": "Phát hiện thiếu trung thực trong cung cấp tài liệu kiểm chứng (seed 003)"}
_EXPLANATIONS = [
    "Đơn vị đã thực hiện đầy đủ, có văn bản kèm theo.",
    "Thực hiện theo kế hoạch của UBND tỉnh; số liệu tổng hợp đến 15/12.",
    "Số liệu lấy từ Hệ thống thông tin giải quyết TTHC của tỉnh.",
    "Đã ban hành kịp thời, đăng tải trên Cổng thông tin điện tử của đơn vị.",
]
_NOTES = ["Quyết định số {n}/QĐ-UBND, trang 2", "Báo cáo số {n}/BC, mục II", "Kế hoạch số {n}/KH, phụ lục 1"]


@dataclass
class DemoResult:
    province: str
    year: int
    created: bool  # False when the period already existed (nothing regenerated)
    units: int
    groups: list[str]
    personas: list[Persona] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)


def _candidates(leaf: Leaf, rng: random.Random) -> list[str]:
    rule = leaf.rule
    if isinstance(rule, LevelsRule):
        return [str(i) for i in range(len(rule.levels))]
    if isinstance(rule, BooleanRule):
        return ["yes", "no"]
    if isinstance(rule, BandsRule):
        if rule.unit == "percent":
            n = rng.randint(20, 120)
            ratios = [f"{round(n * share)}/{n}" for share in (1, 0.95, 0.85, 0.7, 0.5)]
            return ["100%", "95%", "90,5%", "85%", "80%", "72%", "65%", "50%", "30%", "0%", *ratios]
        values: set[str] = {"0"}
        for band in rule.bands:
            for bound in (band.min, band.max):
                if bound is not None:
                    for delta in (-1, 0, 1):
                        if bound + delta >= 0:
                            values.add(str(bound + delta).replace(".", ","))
        return sorted(values)
    if isinstance(rule, ProportionalRule):
        n = rng.randint(10, 300)
        return [f"{round(n * s)}/{n}" for s in (1, 0.97, 0.9, 0.8, 0.7, 0.55, 0.4, 0.2)]
    if isinstance(rule, CountStepsRule):
        return ["0", *(str(step.at_least) for step in rule.steps)]
    if isinstance(rule, ManualRule):
        steps = int(leaf.max_points / rule.step) if rule.step > 0 else 4
        return [str(rule.step * i).replace(".", ",") for i in range(steps + 1)]
    if isinstance(rule, DeductionRule):
        return [str(i) for i in range(6)]
    return []


def sample_answer(leaf: Leaf, quality: float, rng: random.Random) -> tuple[str, str, Decimal] | None:
    """(text an officer would type, stored raw answer, points): points near quality × max, scored
    by the real rule. Tests answer sheets of the shipped sets with it too."""
    target = leaf.max_points * Decimal(str(round(min(1.0, max(0.0, rng.gauss(quality, 0.15))), 3)))
    scored: list[tuple[Decimal, str, str, Decimal]] = []
    for text in _candidates(leaf, rng):
        try:
            answer = score_answer(leaf, text)
        except InputError:
            continue
        scored.append((abs(answer.points - target), text, answer.raw, answer.points))
    if not scored:
        return None
    best = min(d for d, _, _, _ in scored)
    return rng.choice([(t, r, p) for d, t, r, p in scored if d == best])


def _answer(leaf: Leaf, quality: float, rng: random.Random) -> tuple[str, Decimal] | None:
    """(stored raw answer, points) of `sample_answer`."""
    found = sample_answer(leaf, quality, rng)
    return None if found is None else (found[1], found[2])


def _local_end_of_day(day: datetime, tz: ZoneInfo) -> datetime:
    local = day.astimezone(tz)
    return datetime.combine(local.date(), time(23, 59, 59), tzinfo=tz).astimezone(UTC)


async def _ensure_people(session: AsyncSession, actor: Actor) -> dict[str, int]:
    """Personas with their roles; returns telegram_id → person id as str keys for logs."""
    units = {u.code: u.id for u in await session.scalars(select(Unit))}
    agencies = {a.code: a.id for a in await session.scalars(select(Agency))}
    ids: dict[str, int] = {}
    for persona in PERSONAS:
        person = await session.scalar(select(Person).where(Person.telegram_id == persona.telegram_id))
        if person is None:
            person = Person(telegram_id=persona.telegram_id, full_name=persona.full_name, language="vi")
            session.add(person)
            await session.flush()
            await record(session, actor, "person.create", "person", person.id, None, {"demo": True})
        unit_id = units.get(persona.unit_code) if persona.unit_code else None
        agency_id = agencies.get(persona.agency_code) if persona.agency_code else None
        role = await session.scalar(
            select(Role).where(
                Role.person_id == person.id,
                Role.role == persona.role,
                Role.unit_id.is_(None) if unit_id is None else Role.unit_id == unit_id,
                Role.agency_id.is_(None) if agency_id is None else Role.agency_id == agency_id,
            )
        )
        if role is None:
            session.add(Role(person_id=person.id, role=persona.role, unit_id=unit_id, agency_id=agency_id))
        ids[f"{persona.role}:{persona.unit_code or persona.agency_code or '-'}"] = person.id
    # The Sở Nội vụ secretariat persona also scores its own department (SPEC §1: one person, many roles).
    secretariat = ids["secretariat:-"]
    snv = units["SNV"]
    if (
        await session.scalar(
            select(Role.id).where(Role.person_id == secretariat, Role.role == "officer", Role.unit_id == snv)
        )
        is None
    ):
        session.add(Role(person_id=secretariat, role=RoleName.OFFICER.value, unit_id=snv))
    await session.commit()
    return ids


async def _ensure_agencies(session: AsyncSession, actor: Actor) -> None:
    for code, name in AGENCIES:
        if await session.scalar(select(Agency.id).where(Agency.code == code)) is None:
            agency = Agency(code=code, name=name)
            session.add(agency)
            await session.flush()
            await record(session, actor, "agency.create", "agency", agency.id, None, {"code": code})
    await session.commit()


def _leaf_agency(leaf: Leaf) -> str:
    return FIELD_AGENCY.get(leaf.appraisal_field, "SNV")


async def fill_sheet(
    session: AsyncSession,
    cs: CriteriaSet,
    assessment: Assessment,
    plan: str,
    quality: float,
    rng: random.Random,
    now: datetime,
    appraisers: dict[str, int],
) -> None:
    """Fill one sheet as `plan` says (draft | submitted | appraised) with `sample_answer`s;
    `appraisers` maps an agency code to the person recorded as appraiser."""
    leaves = [leaf for _, _, leaf in cs.leaves()]
    self_leaves = [leaf for leaf in leaves if not isinstance(leaf.rule, SurveyRule)]
    answered = len(self_leaves) if plan != "draft" else int(len(self_leaves) * rng.uniform(0.3, 0.8))
    submitted_at = now - timedelta(days=rng.randint(1, 9), hours=rng.randint(0, 20))
    last_code = None
    for leaf in self_leaves[:answered]:
        item = ItemScore(assessment_id=assessment.id, item_code=leaf.code)
        if leaf.allow_na and rng.random() < 0.08:
            item.na_claimed = True
            item.na_reason = "Đơn vị không có nhiệm vụ này trong năm đánh giá."
        else:
            answer = _answer(leaf, quality, rng)
            if answer is None:
                continue
            item.self_raw, item.self_points = answer
            item.explanation = rng.choice(_EXPLANATIONS)
            item.evidence_note = rng.choice(_NOTES).format(n=rng.randint(10, 999))
        item.updated_at = submitted_at
        if plan == "appraised":
            item.appraisal1_by = appraisers.get(_leaf_agency(leaf))
            item.appraisal1_at = submitted_at + timedelta(days=rng.randint(1, 5))
            if item.na_claimed:
                accepted = rng.random() < 0.8
                item.appraisal1_status = (
                    AppraisalStatus.NA_ACCEPTED.value if accepted else AppraisalStatus.NA_REFUSED.value
                )
                item.appraisal1_points = None if accepted else Decimal(0)
                if not accepted:
                    item.appraisal1_comment = "Đơn vị có nhiệm vụ này theo kế hoạch năm."
            elif item.self_points and rng.random() < 0.15:
                lower = _answer(leaf, max(0.0, quality - 0.35), rng)
                adjusted = min(item.self_points, lower[1]) if lower else item.self_points
                item.appraisal1_status = AppraisalStatus.ADJUSTED.value
                item.appraisal1_points = adjusted
                item.appraisal1_comment = "Tài liệu kiểm chứng chưa chứng minh đầy đủ kết quả tự chấm."
            else:
                item.appraisal1_status = AppraisalStatus.ACCEPTED.value
                item.appraisal1_points = item.self_points
        session.add(item)
        last_code = leaf.code
    if plan == "appraised":
        for leaf in leaves:
            if isinstance(leaf.rule, SurveyRule):
                share = Decimal(str(round(min(1.0, max(0.3, rng.gauss(quality, 0.08))), 4)))
                points = (leaf.max_points * share).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                # Where the secretariat's survey entry puts it (bot/services/survey.py): both columns.
                session.add(
                    ItemScore(
                        assessment_id=assessment.id,
                        item_code=leaf.code,
                        appraisal1_points=points,
                        appraisal1_status=AppraisalStatus.ACCEPTED.value,
                        appraisal1_comment="Kết quả điều tra xã hội học do Sở Nội vụ tổng hợp.",
                        appraisal1_at=now,
                        final_points=points,
                        final_status=AppraisalStatus.ACCEPTED.value,
                        final_at=now,
                    )
                )
    assessment.last_item_code = last_code
    if plan == "draft":
        assessment.status = AssessmentStatus.DRAFT.value
    elif plan in ("submitted", "appraised"):
        assessment.submitted_at = submitted_at
        assessment.status = (
            AssessmentStatus.APPRAISED.value if plan == "appraised" else AssessmentStatus.SUBMITTED.value
        )


async def seed_demo(
    session: AsyncSession,
    *,
    now: datetime | None = None,
    tz: str = "Asia/Ho_Chi_Minh",
    settings: Any = None,
) -> DemoResult:
    """Create (or complete) the demo province; safe to run again."""
    if settings is not None:
        tz = getattr(settings, "timezone", tz)
    from bot.criteria import shipped_path

    now = now or datetime.now(UTC)
    zone = ZoneInfo(tz)
    year = now.astimezone(zone).year
    actor = Actor.system("demo")

    sets = {}
    for code in ("2025-so", "2025-xa"):
        stored = await store_criteria_set(session, actor, load_criteria_set(shipped_path(code)))
        sets[code] = stored
    unit_rows = [UnitRow(code, name, "so", "SO", GROUPS["SO"]) for code, name in DEPARTMENTS]
    unit_rows += [UnitRow(code, name, t, "XA", GROUPS["XA"]) for code, name, t in COMMUNES]
    await upsert_units(session, actor, unit_rows)
    for group_code, (top_n, threshold) in {"SO": (4, 90), "XA": (2, 90)}.items():
        group = await session.scalar(select(RankingGroup).where(RankingGroup.code == group_code))
        if group is not None and group.award_top_n is None:
            group.award_top_n, group.award_threshold = top_n, Decimal(threshold)
    await _ensure_agencies(session, actor)
    people = await _ensure_people(session, actor)

    created = False
    period = await session.scalar(select(Period).where(Period.year == year))
    if period is None:
        created = True
        stages = {
            "opens": now - timedelta(days=20),
            "self_assessment": _local_end_of_day(now + timedelta(days=10), zone),
            "appraisal": _local_end_of_day(now + timedelta(days=30), zone),
            "explanation": _local_end_of_day(now + timedelta(days=40), zone),
            "final_appraisal": _local_end_of_day(now + timedelta(days=50), zone),
        }
        criteria_map = {t: "2025-so" for t in sets["2025-so"].unit_types}
        criteria_map.update({t: "2025-xa" for t in sets["2025-xa"].unit_types})
        await create_period(
            session,
            actor,
            year,
            criteria_map,
            name=f"Chỉ số CCHC năm {year} — {PROVINCE}",
            stages=stages,
            settings={
                "awards": {"SO": {"top_n": 4, "threshold": "90"}, "XA": {"top_n": 2, "threshold": "90"}}
            },
        )
        cs_models = {code: load_criteria_set(shipped_path(code)) for code in ("2025-so", "2025-xa")}
        field_keys: set[str] = set()
        for cs in cs_models.values():
            field_keys |= known_scopes([cs])[0]
        for key in sorted(field_keys):
            await assign(session, actor, year, FIELD_AGENCY.get(key, "SNV"), key, "field")
        await open_period(session, actor, year, now=now, tz=tz)
        await _generate_progress(session, year, cs_models, now, people)
    await _ensure_history(session, year - 1)
    await record(session, actor, "demo.seed", "period", year, None, {"created": created})
    await session.commit()

    statuses: dict[str, int] = {}
    period = await session.scalar(select(Period).where(Period.year == year))
    if period is not None:
        for a in await session.scalars(select(Assessment).where(Assessment.period_id == period.id)):
            statuses[a.status] = statuses.get(a.status, 0) + 1
    return DemoResult(
        province=PROVINCE,
        year=year,
        created=created,
        units=len(unit_rows),
        groups=list(GROUPS),
        personas=list(PERSONAS),
        statuses=statuses,
    )


def _quality(code: str) -> float:
    return random.Random(f"{SEED}:quality:{code}").uniform(0.55, 0.98)


async def _generate_progress(
    session: AsyncSession, year: int, sets: dict[str, CriteriaSet], now: datetime, people: dict[str, int]
) -> None:
    period = await session.scalar(select(Period).where(Period.year == year))
    assert period is not None
    appraisers = {
        key.split(":", 1)[1]: pid for key, pid in people.items() if key.startswith(f"{RoleName.APPRAISER}:")
    }
    units = {u.id: u for u in await session.scalars(select(Unit))}
    assessments = list(await session.scalars(select(Assessment).where(Assessment.period_id == period.id)))
    by_group: dict[str, list[Assessment]] = {"SO": [], "XA": []}
    for a in assessments:
        by_group["SO" if units[a.unit_id].unit_type == "so" else "XA"].append(a)
    for group_code, group_assessments in by_group.items():
        plan = list(_SO_PLAN if group_code == "SO" else _XA_PLAN)
        random.Random(f"{SEED}:plan:{group_code}").shuffle(plan)
        group_assessments.sort(key=lambda a: units[a.unit_id].code)
        for position, assessment in enumerate(group_assessments):
            unit = units[assessment.unit_id]
            state = _FORCED.get(unit.code, plan[position % len(plan)])
            if state == "not_started":
                continue
            cs = sets["2025-so" if unit.unit_type == "so" else "2025-xa"]
            rng = random.Random(f"{SEED}:sheet:{unit.code}")
            await fill_sheet(session, cs, assessment, state, _quality(unit.code), rng, now, appraisers)
            if unit.code in _NOT_RANKED and state == "appraised":
                assessment.not_ranked = True
                assessment.not_ranked_reason = _NOT_RANKED[unit.code]
    await session.commit()


async def _ensure_history(session: AsyncSession, year: int) -> None:
    """Last year's published results, so year-on-year comparisons have data."""
    groups = {g.code: g for g in await session.scalars(select(RankingGroup))}
    for unit in await session.scalars(select(Unit).where(Unit.active.is_(True))):
        exists = await session.scalar(
            select(HistoryResult.id).where(HistoryResult.year == year, HistoryResult.unit_id == unit.id)
        )
        if exists is not None or unit.group_id is None:
            continue
        rng = random.Random(f"{SEED}:history:{year}:{unit.code}")
        index = Decimal(str(round(min(99.5, max(40.0, _quality(unit.code) * 100 + rng.gauss(0, 4))), 2)))
        session.add(HistoryResult(year=year, group_id=unit.group_id, unit_id=unit.id, index=index))
    await session.flush()
    for group in groups.values():
        await rerank_history(session, year, group.id)
    await session.commit()
