"""The secretariat's chat in-process: a deadline change with confirmation, a broadcast with preview,
confirmation and delivery report, a stale stage button refused, the not-ranked flag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app import App
from bot.db.models import Assessment, Outbox, Period
from bot.sandbox.emulator import Emulator
from tests.bot.harness import BotClient, Seeder, register
from tests.bot.officer_driver import Officer, buttons, restore_buttons


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
