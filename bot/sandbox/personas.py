"""The people a trainee can be in the web chat, read from the seeded demo province.

They are picked by role from the database rather than from a hard-coded list, so the picker always
shows people the bot really knows (same telegram ids), whatever the demo seed decides to call them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Agency, Person, Role, RoleName, Unit, UnitType

ROLE_LABELS: dict[str, tuple[str, str]] = {
    RoleName.OFFICER: ("Cán bộ đầu mối CCHC", "PAR focal officer"),
    RoleName.UNIT_HEAD: ("Thủ trưởng đơn vị", "Head of unit"),
    RoleName.APPRAISER: ("Thành viên thẩm định", "Appraiser"),
    RoleName.LEADER: ("Lãnh đạo tỉnh", "Provincial leader"),
    RoleName.SECRETARIAT: ("Thường trực (Sở Nội vụ)", "Secretariat (Dept. of Home Affairs)"),
}
HINTS: dict[str, tuple[str, str]] = {
    RoleName.OFFICER: (
        "Thử /score để tự chấm điểm và gửi minh chứng",
        "Try /score to self-score and upload evidence",
    ),
    RoleName.UNIT_HEAD: ("Duyệt và gửi kết quả tự đánh giá", "Approve and submit the self-assessment"),
    RoleName.APPRAISER: ("Thẩm định các tiêu chí được phân công", "Appraise the assigned criteria"),
    RoleName.LEADER: ("Thử /rank để xem xếp hạng và biểu đồ", "Try /rank for the ranking and its chart"),
    RoleName.SECRETARIAT: (
        "Quản lý kỳ đánh giá, thông báo, xuất báo cáo",
        "Run periods, broadcasts, exports",
    ),
}
DEPARTMENT_TYPES = {UnitType.SO.value}
COMMUNE_TYPES = {UnitType.XA.value, UnitType.PHUONG.value, UnitType.DAC_KHU.value, UnitType.HUYEN.value}


@dataclass(frozen=True)
class Persona:
    key: str  # stable handle for tests and links: "officer_so", "appraiser_SNV", ...
    user_id: int  # the person's telegram id, also the emulator user id
    name: str
    role: str
    role_label: str
    role_label_en: str
    unit: str | None
    hint: str
    hint_en: str
    language: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def display_name(full_name: str) -> str:
    """ "Nguyễn Thị Lan (cán bộ CCHC, Sở Y tế)" → "Nguyễn Thị Lan": the card shows role and unit apart."""
    return full_name.split(" (", 1)[0].strip() or full_name


def _persona(key: str, person: Person, role: str, unit: str | None) -> Persona:
    label, label_en = ROLE_LABELS.get(role, (role, role))
    hint, hint_en = HINTS.get(role, ("", ""))
    return Persona(
        key=key,
        user_id=person.telegram_id,
        name=display_name(person.full_name) if person.full_name else f"#{person.telegram_id}",
        role=role,
        role_label=label,
        role_label_en=label_en,
        unit=unit,
        hint=hint,
        hint_en=hint_en,
        language=person.language or "vi",
    )


def _unit_label(role: str, unit: Unit | None, agency: Agency | None) -> str | None:
    if unit is not None:
        return unit.name
    if agency is not None:
        return agency.name
    default_units: dict[str, str] = {RoleName.LEADER: "UBND tỉnh", RoleName.SECRETARIAT: "Sở Nội vụ"}
    return default_units.get(role)


async def load_personas(
    session: AsyncSession, wanted: Sequence[tuple[int, str]] | None = None
) -> list[Persona]:
    """The demo's personas in its own order when `wanted` (telegram id, role) is given; otherwise
    picked by role: officer and head of one department, an officer of a commune, one appraiser per
    agency, a leader and the secretariat. People missing from the database are left out."""
    rows = (
        await session.execute(
            select(Person, Role, Unit, Agency)
            .join(Role, Role.person_id == Person.id)
            .outerjoin(Unit, Unit.id == Role.unit_id)
            .outerjoin(Agency, Agency.id == Role.agency_id)
            .where(Person.active.is_(True))
            .order_by(Role.id)
        )
    ).all()
    picked: list[Persona] = []
    used: set[tuple[int, str]] = set()
    if wanted:
        for telegram_id, role_name in wanted:
            row = next((r for r in rows if r[0].telegram_id == telegram_id and r[1].role == role_name), None)
            if row is not None and (row[0].id, role_name) not in used:
                used.add((row[0].id, role_name))
                code = row[2].code if row[2] is not None else row[3].code if row[3] is not None else ""
                key = f"{role_name}-{code}" if code else role_name
                picked.append(_persona(key, row[0], role_name, _unit_label(role_name, row[2], row[3])))
        if picked:
            return picked

    def take(key: str, person: Person, role: str, unit: str | None) -> None:
        if (person.id, role) in used:
            return
        used.add((person.id, role))
        picked.append(_persona(key, person, role, unit))

    officer_so = next(
        (
            r
            for r in rows
            if r[1].role == RoleName.OFFICER and r[2] is not None and r[2].unit_type in DEPARTMENT_TYPES
        ),
        None,
    )
    if officer_so is not None:
        take("officer_so", officer_so[0], RoleName.OFFICER, officer_so[2].name)
    heads = [
        r
        for r in rows
        if r[1].role == RoleName.UNIT_HEAD and r[2] is not None and r[2].unit_type in DEPARTMENT_TYPES
    ]
    same_unit = [r for r in heads if officer_so is not None and r[2].id == officer_so[2].id]
    if same_unit or heads:
        head = (same_unit or heads)[0]
        take("head_so", head[0], RoleName.UNIT_HEAD, head[2].name)
    officer_xa = next(
        (
            r
            for r in rows
            if r[1].role == RoleName.OFFICER and r[2] is not None and r[2].unit_type in COMMUNE_TYPES
        ),
        None,
    )
    if officer_xa is not None:
        take("officer_xa", officer_xa[0], RoleName.OFFICER, officer_xa[2].name)
    seen_agencies: set[int] = set()
    for person, role, _unit, agency in rows:
        if role.role == RoleName.APPRAISER and agency is not None and agency.id not in seen_agencies:
            seen_agencies.add(agency.id)
            take(f"appraiser_{agency.code}", person, RoleName.APPRAISER, agency.name)
    for name in (RoleName.LEADER, RoleName.SECRETARIAT):
        row = next((r for r in rows if r[1].role == name), None)
        if row is not None:
            take(str(name.value), row[0], name, _unit_label(name, row[2], row[3]))
    return picked
