"""/rank, /unit, /awards and /progress through the Bot API emulator, on the demo province plus a
large generated group (more units than one message holds)."""

from __future__ import annotations

import itertools
import random
import re
from decimal import Decimal
from io import BytesIO
from typing import Any

import aiohttp
import pytest
from PIL import Image
from sqlalchemy import select

from bot.app import App
from bot.criteria import shipped_path
from bot.db.models import Assessment, AssessmentStatus, ItemScore, Period, Unit
from bot.handlers.leader import ALBUM_MAX, _album_bounds
from bot.scoring.loader import load_criteria_set
from bot.services import leader_reports
from bot.services.units import UnitRow, upsert_units
from bot.ui.text import TELEGRAM_TEXT_LIMIT
from tests.bot.harness import SYSTEM, BotClient, Seeder, register
from tests.services.leader_demo import DEMO_YEAR, demo_template, demo_url  # noqa: F401

JSON = dict[str, Any]
BIG = 130


@pytest.fixture
def bot_db_url(demo_url: str) -> str:  # noqa: F811
    """The bot runs on a copy of the seeded demo province."""
    return demo_url


def buttons(message: JSON) -> list[JSON]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def is_photo(message: JSON) -> bool:
    return bool(message.get("photo"))


def is_document(message: JSON) -> bool:
    return bool(message.get("document"))


def text_of(message: JSON) -> str:
    return str(message.get("text") or message.get("caption") or "")


async def file_of(client: BotClient, message: JSON) -> bytes:
    """The bytes of a photo the bot sent, from the emulator's file store."""
    file_id = message["photo"][-1]["file_id"]
    url = f"{client.base_url}/control/files/{file_id}"
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        assert resp.status == 200
        return await resp.read()


async def _big_group(seed: Seeder) -> None:
    """130 communes in group "LON", all submitted with self points (deterministic)."""
    cs = load_criteria_set(shipped_path("2025-xa"))
    leaves = [leaf for _f, _c, leaf in cs.leaves()]
    rows = [
        UnitRow(f"LON-{n:03d}", f"Xã Thử Nghiệm Số {n:03d}", "xa", "LON", "Khối xã thử nghiệm")
        for n in range(BIG)
    ]
    rng = random.Random(5)
    async with seed.session() as s:
        await upsert_units(s, SYSTEM, rows)
        period = await s.scalar(select(Period).where(Period.year == DEMO_YEAR))
        assert period is not None
        for unit in await s.scalars(select(Unit).where(Unit.code.like("LON-%"))):
            assessment = Assessment(
                period_id=period.id, unit_id=unit.id, status=AssessmentStatus.SUBMITTED.value
            )
            s.add(assessment)
            await s.flush()
            for leaf in leaves[:20]:
                share = Decimal(rng.randint(0, 100)) / 100
                s.add(
                    ItemScore(
                        assessment_id=assessment.id, item_code=leaf.code, self_points=leaf.max_points * share
                    )
                )
        await s.commit()


class Person:
    def __init__(self, client: BotClient, user: JSON) -> None:
        self.client, self.user = client, user

    async def say(self, text: str, expect: str | None = None) -> JSON:
        await self.client.send_text(self.user["id"], text)
        return await self.wait(expect)

    async def wait(self, expect: Any = None, timeout: float = 20) -> JSON:  # noqa: ASYNC109
        return await self.client.wait_for(
            expect, chat_id=self.user["id"], timeout=timeout, include_edits=True
        )

    async def press(self, message: JSON, label: str, expect: Any = None, timeout: float = 60) -> JSON:  # noqa: ASYNC109
        found = next((b for b in buttons(message) if b.get("text") == label), None)
        assert found is not None, f"no button {label!r} in {[b.get('text') for b in buttons(message)]}"
        await self.client.press_button(self.user["id"], message["message_id"], str(found["callback_data"]))
        return await self.wait(expect, timeout)


async def test_rank_pages_charts_and_xlsx(bot: App, client: BotClient, seed: Seeder) -> None:
    await _big_group(seed)
    leader = Person(client, await register(client, None, "leader"))

    menu = await leader.say("/rank", expect="Chọn khối")
    screen = await leader.press(
        menu, "Xã, phường, đặc khu", expect=f"Chỉ số CCHC năm {DEMO_YEAR}: Xã, phường, đặc khu"
    )
    assert screen["message_id"] == menu["message_id"]  # edited in place
    text = text_of(screen)
    assert "tạm thời — theo điểm thẩm định đến nay" in text
    assert re.search(r"\n1\. [^\n]+ — \d+,\d\d · ", text)  # rank. unit — index · class · change
    assert "Trang 1/2" in text

    # the large group: every page under Telegram's limit, ◀ ▶ edit in place, every unit once
    first = await leader.say("/rank lon", expect="Khối xã thử nghiệm")
    pages = [first]
    total = int(text_of(first).split("Trang 1/", 1)[1].split("\n", 1)[0])
    assert total >= 7
    current = first
    for number in range(2, total + 1):
        current = await leader.press(current, "▶", expect=f"Trang {number}/{total}")
        assert current["message_id"] == first["message_id"]
        pages.append(current)
    back = await leader.press(current, "◀", expect=f"Trang {total - 1}/{total}")
    assert back["message_id"] == first["message_id"]
    names: list[str] = []
    for page in pages:
        body = text_of(page)
        assert len(body) < TELEGRAM_TEXT_LIMIT
        names += [
            line.split(" — ")[0].split(". ", 1)[1] for line in body.splitlines() if "Xã Thử Nghiệm" in line
        ]
    assert sorted(names) == sorted(f"Xã Thử Nghiệm Số {n:03d}" for n in range(BIG))

    # the chart arrives as one album of photos (130 units: 6 pages of ≤ 25), the caption on the first
    photos = [await leader.press(current, "📊 Biểu đồ", expect=is_photo, timeout=90)]
    photos += [await leader.wait(is_photo, timeout=90) for _ in range(5)]
    assert photos[0]["caption"] == f"Biểu đồ xếp hạng: Khối xã thử nghiệm, năm {DEMO_YEAR} — trang 1–6/6"
    assert [p.get("caption") for p in photos[1:]] == [None] * 5
    album = {p.get("media_group_id") for p in photos}
    assert len(album) == 1 and None not in album
    in_transcript = [m for m in await client.transcript(leader.user["id"]) if is_photo(m)]
    assert [m["message_id"] for m in in_transcript] == [p["message_id"] for p in photos]
    assert {m.get("media_group_id") for m in in_transcript} == album
    for photo in photos:
        with Image.open(BytesIO(await file_of(client, photo))) as image:
            image.verify()
            assert image.format == "PNG"
    document = await leader.press(current, "📄 Tệp XLSX", expect=is_document)
    assert document["document"]["file_name"].endswith(".xlsx")


async def test_unit_by_fuzzy_names(bot: App, client: BotClient, seed: Seeder) -> None:
    leader = Person(client, await register(client, None, "leader"))
    for typed in ("so noi vu", "Sở Nội Vụ", "noivu", "SNV"):
        detail = await leader.say(f"/unit {typed}", expect="Theo lĩnh vực")
        text = text_of(detail)
        assert text.startswith("Sở Nội vụ (SNV) — Sở, ban, ngành")
        assert "xếp hạng" in text and "TB khối" in text and "cần khắc phục trước" in text
        assert len(text) < TELEGRAM_TEXT_LIMIT
    choice = await leader.say("/unit bach", expect="Có nhiều đơn vị")
    detail = await leader.press(choice, "Phường Bạch Đằng", expect="Phường Bạch Đằng (P-BACHDANG)")
    assert detail["message_id"] == choice["message_id"]
    await leader.say("/unit zzz qqq www", expect="Không tìm thấy")
    detail = await leader.say("/unit so noi vu", expect="Theo lĩnh vực")
    photo = await leader.press(detail, "📊 Biểu đồ lĩnh vực", expect=is_photo)
    assert photo["photo"]
    document = await leader.press(detail, "📄 Tệp XLSX", expect=is_document)
    assert document["document"]["file_name"] == f"chi-so-cchc-{DEMO_YEAR}-SNV.xlsx"


async def test_awards_progress_and_refusals(bot: App, client: BotClient, seed: Seeder) -> None:
    leader = Person(client, await register(client, None, "leader"))
    awards = text_of(await leader.say("/awards", expect="khen thưởng"))
    assert "không quá 4 đơn vị" in awards and "không quá 2 đơn vị" in awards
    await leader.say("/rank khong co khoi nay", expect="Không có khối")
    progress = await leader.say("/progress", expect="Tiến độ đánh giá")
    assert "Chưa bắt đầu:" in text_of(progress) and "Đã thẩm định:" in text_of(progress)
    assert (await leader.press(progress, "📊 Biểu đồ", expect=is_photo))["photo"]

    officer = Person(client, await register(client, "SYT", "officer"))
    await officer.say("/rank", expect="dành cho lãnh đạo tỉnh")
    await officer.say("/awards", expect="dành cho lãnh đạo tỉnh")
    own = text_of(await officer.say("/unit", expect="Sở Y tế"))
    assert "khi kết quả được công bố" in own and "TB khối" not in own
    await officer.say("/unit so noi vu", expect="không có quyền")


def test_album_bounds() -> None:
    assert _album_bounds(2) == [(0, 2)]
    assert _album_bounds(10) == [(0, 10)]
    assert _album_bounds(11) == [(0, 6), (6, 11)]
    assert _album_bounds(23) == [(0, 8), (8, 16), (16, 23)]
    for count in range(2, 60):
        bounds = _album_bounds(count)
        assert bounds[0][0] == 0 and bounds[-1][1] == count
        assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
        assert all(2 <= end - start <= ALBUM_MAX for start, end in bounds)


async def test_rank_chart_over_ten_pages(
    bot: App, client: BotClient, seed: Seeder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over 10 pages (charts stubbed: 12 small PNGs): several albums of ≤ 10, each captioned on its
    first photo; a single page: a plain photo without caption."""

    def pngs(count: int) -> list[bytes]:
        out = []
        for n in range(count):
            buffer = BytesIO()
            Image.new("RGB", (40 + n, 30), (n * 9 % 256, 80, 160)).save(buffer, "PNG")
            out.append(buffer.getvalue())
        return out

    pages = pngs(12)
    monkeypatch.setattr(leader_reports, "ranking_pngs_of", lambda _ranking, _locale: pages)
    leader = Person(client, await register(client, None, "leader"))
    menu = await leader.say("/rank", expect="Chọn khối")
    screen = await leader.press(menu, "Xã, phường, đặc khu", expect="Trang 1/")
    photos = [await leader.press(screen, "📊 Biểu đồ", expect=is_photo)]
    photos += [await leader.wait(is_photo) for _ in range(11)]
    albums = [p["media_group_id"] for p in photos]
    assert albums[:6] == [albums[0]] * 6 and albums[6:] == [albums[6]] * 6 and albums[0] != albums[6]
    assert [p.get("caption") for p in photos] == [
        f"Biểu đồ xếp hạng: Xã, phường, đặc khu, năm {DEMO_YEAR} — trang 1–6/12",
        *[None] * 5,
        f"Biểu đồ xếp hạng: Xã, phường, đặc khu, năm {DEMO_YEAR} — trang 7–12/12",
        *[None] * 5,
    ]
    assert [await file_of(client, p) for p in photos] == pages

    monkeypatch.setattr(leader_reports, "ranking_pngs_of", lambda _ranking, _locale: pages[:1])
    single = await leader.press(screen, "📊 Biểu đồ", expect=is_photo)
    assert "media_group_id" not in single and not single.get("caption")
    assert await file_of(client, single) == pages[0]
