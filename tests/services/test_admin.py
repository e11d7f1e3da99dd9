"""Units, periods, agencies, invites, history: the secretariat's use cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    Agency,
    AgencyAssignment,
    Assessment,
    AuditLog,
    HistoryResult,
    Invite,
    Outbox,
    Person,
    RankingGroup,
    Role,
    Unit,
)
from bot.services.agencies import agency_for, assign, create_agency, list_assignments
from bot.services.errors import ServiceError
from bot.services.history import import_history
from bot.services.invites import create_invite, deep_link, redeem_invite
from bot.services.periods import (
    create_period,
    current_period,
    open_period,
    parse_stage_time,
    set_deadline,
    show_period,
)
from bot.services.ranking import rank_history
from bot.services.units import find_units, import_units
from tests.services.conftest import SYSTEM, person_with, write

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


async def count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# ---------------------------------------------------------------- units


async def test_import_units_csv_creates_groups_and_audits(session: AsyncSession, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "units.csv",
        "code,name,unit_type,group\nSNV,Sở Nội vụ,so,SO\nX1,Xã Tân Lập,Xã,XA\nP1,Phường Hòa Bình,phuong,XA\n",
    )
    result = await import_units(session, SYSTEM, path)
    assert sorted(result.created) == ["P1", "SNV", "X1"] and sorted(result.groups_created) == ["SO", "XA"]
    assert await count(session, Unit) == 3 and await count(session, RankingGroup) == 2
    assert [u.code for u in await find_units(session, "tan lap")] == ["X1"]
    actions = [a for a in await session.scalars(select(AuditLog.action))]
    assert actions.count("unit.create") == 3 and actions.count("group.create") == 2
    again = await import_units(session, SYSTEM, path)
    assert again.created == [] and sorted(again.unchanged) == ["P1", "SNV", "X1"]


async def test_import_units_xlsx_with_vietnamese_headers(session: AsyncSession, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Mã", "Tên", "Loại", "Nhóm"])
    ws.append(["SYT", "Sở Y tế", "sở", "SO"])
    ws.append([101, "Đặc khu Cô Tô", "đặc khu", "XA"])
    path = tmp_path / "units.xlsx"
    wb.save(path)
    result = await import_units(session, SYSTEM, path)
    assert sorted(result.created) == ["101", "SYT"]
    unit = await session.scalar(select(Unit).where(Unit.code == "101"))
    assert unit is not None and unit.unit_type == "dac_khu" and unit.name_search == "dac khu co to"


async def test_import_units_all_or_nothing(session: AsyncSession, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "units.csv",
        "code,name,unit_type,group\nSNV,Sở Nội vụ,so,SO\nX1,Xã A,tinh,XA\nSNV,Trùng,so,SO\n",
    )
    with pytest.raises(ServiceError) as err:
        await import_units(session, SYSTEM, path)
    assert err.value.code == "bad_rows"
    assert any("row 3" in e and "unknown unit type 'tinh'" in e for e in err.value.errors)
    assert any("row 4" in e and "duplicate code 'SNV'" in e for e in err.value.errors)
    assert await count(session, Unit) == 0 and await count(session, RankingGroup) == 0


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("u.csv", b"\xff\xfe\x00bad", "UTF-8"),
        ("u.xlsx", b"not a zip", "XLSX"),
        ("u.txt", b"code", ".csv or .xlsx"),
        ("u.csv", b"code,name\nA,B\n", "missing column(s) group, unit_type"),
    ],
)
async def test_import_units_bad_files(
    session: AsyncSession, tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ServiceError) as err:
        await import_units(session, SYSTEM, path)
    assert err.value.code == "bad_file" and reason in str(err.value)


async def test_import_units_forbidden_for_leader(session: AsyncSession, tmp_path: Path) -> None:
    leader = await person_with(session, 5, "leader")
    path = write(tmp_path, "u.csv", "code,name,unit_type,group\nA,B,so,SO\n")
    with pytest.raises(ServiceError) as err:
        await import_units(session, leader, path)
    assert err.value.code == "forbidden"
    assert await count(session, Unit) == 0


# ---------------------------------------------------------------- periods


def test_parse_stage_time() -> None:
    end = parse_stage_time("31/03/2026", HCM)
    assert end == datetime(2026, 3, 31, 23, 59, 59, tzinfo=HCM)
    assert parse_stage_time("2026-03-31 08:30", HCM) == datetime(2026, 3, 31, 8, 30, tzinfo=HCM)
    assert parse_stage_time("2026-03-01", HCM, end_of_day=False) == datetime(2026, 3, 1, tzinfo=HCM)
    with pytest.raises(ServiceError):
        parse_stage_time("31/02/2026", HCM)
    with pytest.raises(ServiceError):
        parse_stage_time("soon", HCM)


async def test_period_lifecycle(province: AsyncSession) -> None:
    session = province
    officer = await person_with(session, 11, "officer", unit_id=await _unit_id(session, "SYT"))
    now = datetime(2026, 1, 10, tzinfo=UTC)
    info = await create_period(
        session,
        SYSTEM,
        2026,
        {"so": "2025-so", "xa": "2025-xa"},
        stages={"self_assessment": parse_stage_time("2026-03-31", HCM)},
    )
    assert info.status == "draft" and info.criteria == {"so": "2025-so", "xa": "2025-xa"}
    with pytest.raises(ServiceError) as dup:
        await create_period(session, SYSTEM, 2026, {"so": "2025-so"})
    assert dup.value.code == "duplicate"
    with pytest.raises(ServiceError) as forbidden:
        await open_period(session, officer, 2026, now=now)
    assert forbidden.value.code == "forbidden"

    opened = await open_period(session, SYSTEM, 2026, now=now)
    assert opened.status == "self_assessment" and opened.progress == {"not_started": 4}
    assert await count(session, Assessment) == 4
    outbox = (await session.scalars(select(Outbox))).all()
    assert [o.chat_id for o in outbox] == [11] and "31/03/2026 23:59" in outbox[0].text
    with pytest.raises(ServiceError) as locked:
        await open_period(session, SYSTEM, 2026, now=now)
    assert locked.value.code == "period_locked"

    moved = await set_deadline(session, SYSTEM, 2026, "self", parse_stage_time("2026-04-15", HCM))
    assert moved.stages["self_assessment"] == datetime(2026, 4, 15, 23, 59, 59, tzinfo=HCM)
    with pytest.raises(ServiceError) as order:
        await set_deadline(session, SYSTEM, 2026, "appraisal", parse_stage_time("2026-04-01", HCM))
    assert order.value.code == "bad_value"
    assert (await show_period(session, 2026)).stages["appraisal"] is None  # refused change not kept
    current = await current_period(session)
    assert current is not None and current.year == 2026
    actions = [a for a in await session.scalars(select(AuditLog.action).where(AuditLog.entity == "period"))]
    assert actions == ["period.create", "period.open", "period.set_deadline"]


async def test_period_refuses_wrong_criteria(province: AsyncSession) -> None:
    with pytest.raises(ServiceError) as err:
        await create_period(province, SYSTEM, 2026, {"xa": "2025-so"})
    assert err.value.code == "bad_value" and "is for so" in str(err.value)
    with pytest.raises(ServiceError) as missing:
        await create_period(province, SYSTEM, 2026, {"so": "1999-so"})
    assert missing.value.code == "not_found"
    assert await current_period(province) is None


async def _unit_id(session: AsyncSession, code: str) -> int:
    unit_id = await session.scalar(select(Unit.id).where(Unit.code == code))
    assert unit_id is not None
    return unit_id


# ---------------------------------------------------------------- agencies


async def test_assignments(province: AsyncSession) -> None:
    session = province
    await create_period(session, SYSTEM, 2026, {"so": "2025-so", "xa": "2025-xa"})
    await create_agency(session, SYSTEM, "STP", "Sở Tư pháp")
    await create_agency(session, SYSTEM, "SNV", "Sở Nội vụ")
    await assign(session, SYSTEM, 2026, "STP", "tu_phap")
    await assign(session, SYSTEM, 2026, "SNV", "2.1.1", "item")
    with pytest.raises(ServiceError) as err:
        await assign(session, SYSTEM, 2026, "SNV", "no_such_field")
    assert err.value.code == "not_found"
    assert [(v.agency_code, v.kind, v.scope) for v in await list_assignments(session, 2026)] == [
        ("SNV", "item", "2.1.1"),
        ("STP", "field", "tu_phap"),
    ]
    rows = list(await session.scalars(select(AgencyAssignment)))
    stp = await session.scalar(select(Agency.id).where(Agency.code == "STP"))
    snv = await session.scalar(select(Agency.id).where(Agency.code == "SNV"))
    assert agency_for(rows, "tu_phap", "2.1", "2.1.1") == snv  # item beats field
    assert agency_for(rows, "tu_phap", "2.1", "2.1.2") == stp
    assert agency_for(rows, "kh_cn", "7.1", "7.1.1") is None


# ---------------------------------------------------------------- invites


async def test_invite_create_and_redeem(province: AsyncSession) -> None:
    session = province
    invite = await create_invite(session, SYSTEM, "officer", unit_code="SYT", max_uses=2, days=3)
    assert deep_link("@cchc_bot", invite.code) == f"https://t.me/cchc_bot?start={invite.code}"
    assert len(invite.code) >= 16 and invite.code.replace("-", "").replace("_", "").isalnum()

    first = await redeem_invite(session, 1001, invite.code, full_name="Lan", language="vi")
    assert first.new_person and first.new_role and first.actor.has("officer", unit_id=first.unit_id)
    again = await redeem_invite(session, 1001, invite.code)
    assert not again.new_person and not again.new_role
    await redeem_invite(session, 1002, invite.code)
    with pytest.raises(ServiceError) as used_up:
        await redeem_invite(session, 1003, invite.code)
    assert used_up.value.code == "invite_used_up"
    assert await session.scalar(select(Person.id).where(Person.telegram_id == 1003)) is None
    row = await session.scalar(select(Invite))
    assert row is not None and row.uses == 2
    grants = list(await session.scalars(select(AuditLog).where(AuditLog.action == "role.grant")))
    assert len(grants) == 2 and grants[0].after is not None and grants[0].after["role"] == "officer"


async def test_invite_errors(province: AsyncSession) -> None:
    session = province
    now = datetime(2026, 1, 1, tzinfo=UTC)
    invite = await create_invite(session, SYSTEM, "leader", days=1, now=now)
    with pytest.raises(ServiceError) as expired:
        await redeem_invite(session, 5, invite.code, now=now + timedelta(days=2))
    assert expired.value.code == "invite_expired"
    with pytest.raises(ServiceError) as unknown:
        await redeem_invite(session, 5, "nope")
    assert unknown.value.code == "invite_unknown"
    for kwargs, code in [
        ({"role": "king"}, "bad_role"),
        ({"role": "officer"}, "bad_invite"),
        ({"role": "appraiser"}, "bad_invite"),
        ({"role": "officer", "unit_code": "NOPE"}, "not_found"),
        ({"role": "leader", "unit_code": "SYT"}, "bad_invite"),
        ({"role": "officer", "unit_code": "SYT", "max_uses": 0}, "bad_invite"),
    ]:
        with pytest.raises(ServiceError) as err:
            await create_invite(session, SYSTEM, **kwargs)  # type: ignore[arg-type]
        assert err.value.code == code, kwargs
    officer = await person_with(session, 9, "officer", unit_id=await _unit_id(session, "SYT"))
    with pytest.raises(ServiceError) as forbidden:
        await create_invite(session, officer, "officer", unit_code="SYT")
    assert forbidden.value.code == "forbidden"
    assert await count(session, Invite) == 1
    assert await count(session, Role) == 1


# ---------------------------------------------------------------- history


async def test_history_import_matches_names_and_ranks(province: AsyncSession, tmp_path: Path) -> None:
    session = province
    path = write(
        tmp_path,
        "h.csv",
        'unit,score\nSo Noi vu,"91,5"\nSYT,84.25\nSở Tư pháp,91.5\nSở Giao thông vận tải,70\n',
    )
    result = await import_history(session, SYSTEM, path, 2024, "SO")
    assert result.imported == 4 and result.units_created == ["H-SO-GIAO-THONG-VAN-TAI"]
    created = await session.scalar(select(Unit).where(Unit.code == "H-SO-GIAO-THONG-VAN-TAI"))
    assert created is not None and not created.active and created.unit_type == "so"
    group = await session.scalar(select(RankingGroup).where(RankingGroup.code == "SO"))
    assert group is not None
    rows = await rank_history(session, 2024, group)
    assert [(r.code, r.rank, str(r.index), r.band.code) for r in rows] == [
        ("SNV", 1, "91.5000", "xuat_sac"),
        ("STP", 1, "91.5000", "xuat_sac"),
        ("SYT", 3, "84.2500", "tot"),
        ("H-SO-GIAO-THONG-VAN-TAI", 4, "70.0000", "kha"),
    ]
    stored = await session.scalar(select(HistoryResult).where(HistoryResult.rank == 3))
    assert stored is not None and stored.class_code == "tot" and stored.index == Decimal("84.25")
    again = await import_history(session, SYSTEM, path, 2024, "SO")
    assert again.imported == 0 and again.replaced == 4 and again.units_created == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("unit,score\nSNV,101\n", "row 2: score '101' is outside 0-100"),
        ("unit,score\nSNV,-1\n", "outside 0-100"),
        ("unit,score\nSNV,abc\n", "row 2: score 'abc' is not a number"),
        ("unit,score\nSNV,80\nSo noi vu,81\n", "row 3: unit 'So noi vu' repeated (also row 2)"),
        ("unit,points\nSNV,80\n", "expected the columns unit,score"),
    ],
)
async def test_history_import_refuses_bad_rows(
    province: AsyncSession, tmp_path: Path, content: str, message: str
) -> None:
    path = write(tmp_path, "h.csv", content)
    with pytest.raises(ServiceError) as err:
        await import_history(province, SYSTEM, path, 2024, "NEWGROUP")
    assert message in str(err.value)
    assert await count(province, HistoryResult) == 0
    assert await province.scalar(select(RankingGroup).where(RankingGroup.code == "NEWGROUP")) is None
