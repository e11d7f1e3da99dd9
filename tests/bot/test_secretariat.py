"""The secretariat's chat in-process: a deadline change with confirmation, a broadcast with preview,
confirmation and delivery report (whose refresh leaves a newer screen the only live one), a stale
stage button refused, the not-ranked flag, the progress dashboard."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import select

from bot.app import App
from bot.db.models import Assessment, Outbox, Period
from bot.handlers.screen import SCREEN_DESTINY
from bot.handlers.secretariat import broadcast
from bot.sandbox.emulator import Emulator
from bot.scoring.model import CriteriaSet
from bot.services import appraisal
from bot.services import assessment as officer
from bot.services.actor import Actor, load_actor
from bot.services.agencies import assign
from bot.services.criteria import store_criteria_set
from tests.bot.harness import BotClient, Seeder, register
from tests.bot.officer_driver import Officer, buttons, restore_buttons, text_of
from tests.officer_seed import SMALL_SET
from tests.services.cycle_seed import ANSWERS

SYSTEM = Actor.system("test")


async def _world(seed: Seeder, client: BotClient) -> tuple[Officer, list[Officer]]:
    await seed.unit("SNV", "Sở Nội vụ")
    await seed.unit("STP", "Sở Tư pháp")
    await seed.period(stages={"self_assessment": datetime.now(UTC) + timedelta(days=30)})
    sec = Officer(client, await register(client, None, "secretariat"), "secretariat")
    heads = [Officer(client, await register(client, code, "unit_head"), code) for code in ("SNV", "STP")]
    return sec, heads


async def test_deadline_change_needs_a_confirmation(bot: App, client: BotClient, seed: Seeder) -> None:
    sec, _heads = await _world(seed, client)
    await sec.say("/period", expect="Giai đoạn hiện tại: tự đánh giá")
    await sec.press("sp:dl:self_assessment", expect="Gửi ngày mới")
    await sec.say("31/12/2030 17:00", expect="Đổi hạn tự đánh giá")
    async with seed.session() as s:
        period = await s.scalar(select(Period))
        assert period is not None and period.self_deadline is not None
        assert period.self_deadline.year != 2030  # nothing changed before the confirmation
    await sec.press("sp:dlok:self_assessment", expect="Đã thay đổi thời hạn")
    assert "31/12/2030 17:00" in str(sec.screen)
    async with seed.session() as s:
        period = await s.scalar(select(Period))
        assert period is not None and period.self_deadline is not None
        local = period.self_deadline.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
        assert (local.year, local.month, local.day, local.hour) == (2030, 12, 31, 17)


async def test_stale_stage_button_is_refused_and_the_screen_shown(
    bot: App, client: BotClient, seed: Seeder, emulator: Emulator
) -> None:
    sec, _heads = await _world(seed, client)
    old = await sec.say("/period", expect="Giai đoạn hiện tại")
    await sec.say("/period", expect="Giai đoạn hiện tại")
    await sec.press("sp:adv:appraisal", expect="Chuyển kỳ đánh giá")
    await sec.press("sp:advok:appraisal", expect="chuyển sang bước")
    # The first screen lost its buttons when the second /period came; one left from an older
    # version of the bot (put back here) is stale.
    transcript = {m["message_id"]: m for m in await client.transcript(sec.uid)}
    assert not buttons(transcript[old["message_id"]])
    restore_buttons(emulator, sec, old)
    await sec.press("sp:adv:appraisal", expect="chưa thể chuyển", on=old)  # the first, stale screen
    await sec.wait("Giai đoạn hiện tại: thẩm định")


async def test_broadcast_preview_confirm_report(bot: App, client: BotClient, seed: Seeder) -> None:
    sec, heads = await _world(seed, client)
    await sec.say("/broadcast", expect="ai sẽ nhận thông báo")
    await sec.press("sb:aud:not_submitted", expect="2 người")
    await sec.say("Hạn nộp là <31/3>, đề nghị khẩn trương!", expect="Xem trước")
    async with seed.session() as s:
        assert list(await s.scalars(select(Outbox).where(Outbox.kind == "broadcast"))) == []
    await sec.press("sb:send:", expect="Kết quả gửi")
    await sec.wait(lambda m: "Hoàn tất" in str(m.get("text")))
    for head in heads:
        await head.wait("Hạn nộp là <31/3>, đề nghị khẩn trương!")
    async with seed.session() as s:
        rows = list(await s.scalars(select(Outbox).where(Outbox.kind == "broadcast")))
    assert sorted(r.chat_id for r in rows) == sorted(h.uid for h in heads)


async def test_not_ranked_flag(bot: App, client: BotClient, seed: Seeder) -> None:
    sec, _heads = await _world(seed, client)
    await sec.say("/notranked STP", expect="Vui lòng ghi lý do")
    await sec.say("/notranked STP Tài liệu kiểm chứng không trung thực", expect="không xếp hạng?")
    await sec.press("sn:ok:STP", expect="Đã đánh dấu STP")
    async with seed.session() as s:
        flagged = [
            (a.not_ranked, a.not_ranked_reason) for a in await s.scalars(select(Assessment)) if a.not_ranked
        ]
    assert flagged == [(True, "Tài liệu kiểm chứng không trung thực")]
    await sec.press("sn:clear:STP", expect="được xếp hạng trở lại")
    # not the secretariat: the command is not theirs
    await _heads[0].say("/notranked SNV x", expect=lambda m: "không xếp hạng?" not in str(m.get("text")))


async def test_broadcast_report_refresh_keeps_a_newer_screen_the_only_live_one(
    bot: App, client: BotClient, seed: Seeder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The report's follower waits for the test's tick (the first one), then refreshes at once.
    tick = asyncio.Event()
    ticks = 0

    async def pause(_seconds: float) -> None:
        nonlocal ticks
        ticks += 1
        if ticks == 1:
            await tick.wait()
        else:
            await asyncio.sleep(0.05)

    monkeypatch.setattr(broadcast, "pause", pause)
    sec, heads = await _world(seed, client)
    await sec.say("/broadcast", expect="ai sẽ nhận thông báo")
    await sec.press("sb:aud:not_submitted", expect="2 người")
    await sec.say("Nhắc nộp báo cáo", expect="Xem trước")
    report = await sec.press("sb:send:", expect="Kết quả gửi")
    assert buttons(report)
    period = await sec.say("/period", expect="Giai đoạn hiện tại")
    assert buttons(period)
    for head in heads:
        await head.wait("Nhắc nộp báo cáo")
    tick.set()  # the refresh after /period
    await sec.wait(lambda m: m["message_id"] == report["message_id"] and "Hoàn tất" in text_of(m))
    transcript = {m["message_id"]: m for m in await client.transcript(sec.uid)}
    live = [mid for mid, m in transcript.items() if m.get("from", {}).get("is_bot") and buttons(m)]
    assert live == [period["message_id"]]
    assert "Hoàn tất" in text_of(transcript[report["message_id"]])  # the report still counted on
    key = StorageKey(bot_id=bot.bot.id, chat_id=sec.uid, user_id=sec.uid, destiny=SCREEN_DESTINY)
    assert (await bot.dp.storage.get_data(key)).get("message_id") == period["message_id"]


async def _head_sheet(seed: Seeder, client: BotClient, unit_code: str) -> tuple[Actor, int]:
    user = await register(client, unit_code, "unit_head")
    async with seed.session() as s:
        actor = await load_actor(s, user["id"])
        assert actor is not None
        return actor, (await officer.open_sheet(s, actor)).assessment.id


async def _submit(seed: Seeder, actor: Actor, aid: int) -> None:
    async with seed.session() as s:
        for code, text in ANSWERS.items():
            await officer.save_answer(s, actor, aid, code, text)
            await officer.set_explanation(s, actor, aid, code, f"Giải trình {code}")
        await officer.submit(s, actor, aid)


async def test_progress_reads_units_and_agencies_and_refreshes_in_place(
    bot: App, client: BotClient, seed: Seeder
) -> None:
    for code, name in (
        ("SNV", "Sở Nội vụ"),
        ("STP", "Sở Tư pháp"),
        ("SXD", "Sở Xây dựng"),
        ("SYT", "Sở Y tế"),
    ):
        await seed.unit(code, name)
    await seed.agency("NV", "Ban Tổ chức (thẩm định)")
    await seed.agency("TP", "Văn phòng (thẩm định)")
    async with seed.session() as s:
        stored = await store_criteria_set(s, SYSTEM, CriteriaSet.model_validate(SMALL_SET))
    await seed.period(criteria={"so": stored.code})
    for agency, area in (("NV", "1"), ("TP", "2")):
        async with seed.session() as s:
            await assign(s, SYSTEM, 2025, agency, area)
    sec = Officer(client, await register(client, None, "secretariat"), "secretariat")
    appraisers = {}
    for agency in ("NV", "TP"):
        user = await register(client, None, "appraiser", agency_code=agency)
        async with seed.session() as s:
            appraisers[agency] = await load_actor(s, user["id"])
    snv, snv_aid = await _head_sheet(seed, client, "SNV")
    await _submit(seed, snv, snv_aid)  # submitted: NV has area 1 (4 items) to appraise
    syt, syt_aid = await _head_sheet(seed, client, "SYT")
    await _submit(seed, syt, syt_aid)
    for agency, area, aid in (("NV", "1", syt_aid), ("TP", "2", syt_aid), ("TP", "2", snv_aid)):
        actor = appraisers[agency]
        assert actor is not None
        async with seed.session() as s:
            await appraisal.accept_field(s, actor, aid, area)  # SYT appraised; TP has nothing left
    stp, stp_aid = await _head_sheet(seed, client, "STP")
    async with seed.session() as s:
        await officer.save_answer(s, stp, stp_aid, "1.1.1", "0")  # in progress
    # SXD has not opened its sheet: not started

    screen = await sec.say("/progress", expect="Tiến độ")
    text = text_of(screen)
    assert "Sở, ban, ngành: chưa bắt đầu 1, đang thực hiện 1, đã gửi 1, đã thẩm định 1" in text
    assert "Ban Tổ chức (thẩm định): 4 (0 đã trả lời), cũ nhất SNV 1.1.1 từ" in text
    assert "Văn phòng (thẩm định): không có tiêu chí chờ" in text
    assert [b["callback_data"] for b in buttons(screen)] == ["sg:home"]

    await _submit(seed, stp, stp_aid)
    refreshed = await sec.press("sg:home", expect="đã gửi 2")
    assert refreshed["message_id"] == screen["message_id"]  # edited in place
    text = text_of(refreshed)
    assert "chưa bắt đầu 1, đang thực hiện 0, đã gửi 2, đã thẩm định 1" in text
    assert "Ban Tổ chức (thẩm định): 8 (0 đã trả lời), cũ nhất SNV 1.1.1 từ" in text
    assert "Văn phòng (thẩm định): 3 (0 đã trả lời), cũ nhất STP 2.1.1 từ" in text
    assert buttons(refreshed)
    bot_messages = [m for m in await client.transcript(sec.uid) if m.get("from", {}).get("is_bot")]
    assert [m["message_id"] for m in bot_messages if buttons(m)] == [screen["message_id"]]
