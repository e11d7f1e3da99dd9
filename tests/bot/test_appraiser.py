"""The appraiser's chat in-process: evidence re-sent (an album as a media group), adjusting with a
typed value, and a forged button refused with one sentence and the screen shown again."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import App
from bot.db.models import ItemScore
from bot.scoring.model import CriteriaSet
from bot.services import assessment as officer
from bot.services.actor import Actor, load_actor
from bot.services.agencies import assign
from bot.services.criteria import store_criteria_set
from tests.bot.harness import BotClient, Seeder, register
from tests.bot.officer_driver import Officer
from tests.officer_seed import SMALL_SET
from tests.services.cycle_seed import ANSWERS

SYSTEM = Actor.system("test")


async def _world(seed: Seeder, client: BotClient) -> tuple[Officer, Officer, Officer, int]:
    await seed.unit("SNV", "Sở Nội vụ")
    await seed.agency("NV", "Sở Nội vụ (thẩm định)")
    await seed.agency("TP", "Sở Tư pháp (thẩm định)")
    async with seed.session() as s:
        stored = await store_criteria_set(s, SYSTEM, CriteriaSet.model_validate(SMALL_SET))
    await seed.period(criteria={"so": stored.code})
    async with seed.session() as s:
        await assign(s, SYSTEM, 2025, "NV", "1")
    async with seed.session() as s:
        await assign(s, SYSTEM, 2025, "TP", "2")
    head_user = await register(client, "SNV", "unit_head")
    head = Officer(client, head_user, "head")
    nv = Officer(client, await register(client, None, "appraiser", agency_code="NV"), "NV")
    tp = Officer(client, await register(client, None, "appraiser", agency_code="TP"), "TP")
    async with seed.session() as s:
        actor = await load_actor(s, head.uid)
        assert actor is not None
        aid = (await officer.open_sheet(s, actor)).assessment.id
    return head, nv, tp, aid


async def _answer_and_submit(seed: Seeder, head: Officer, aid: int) -> None:
    async with seed.session() as s:
        actor = await load_actor(s, head.uid)
        assert actor is not None
        for code, text in ANSWERS.items():
            await officer.save_answer(s, actor, aid, code, text)
            await officer.set_explanation(s, actor, aid, code, f"Giải trình {code}")
        await officer.submit(s, actor, aid)


async def test_evidence_album_is_resent_as_a_media_group(bot: App, client: BotClient, seed: Seeder) -> None:
    head, nv, _tp, aid = await _world(seed, client)
    await head.say("/score", expect="1. ")
    await head.press(f"of:{aid}:1", expect="1.1")
    await head.press(f"oc:{aid}:1.1", expect="1.1.1")
    await head.press(f"oi:{aid}:1.1.1", expect="Ban hành kế hoạch")
    await client.send_album(
        head.uid,
        [
            {"type": "photo", "filename": "trang1.jpg", "content": b"\xff\xd8 page 1"},
            {"type": "photo", "filename": "trang2.jpg", "content": b"\xff\xd8 page 2"},
        ],
    )
    await head.wait("album")
    await _answer_and_submit(seed, head, aid)
    await nv.say("/pending", expect="4 tiêu chí đang chờ")
    await nv.press(f"au:{aid}", expect="Ban hành kế hoạch")
    transcript = await client.transcript(nv.uid)
    groups = {m.get("media_group_id") for m in transcript if m.get("photo")}
    photos = [m for m in transcript if m.get("photo")]
    assert len(photos) == 2 and len(groups) == 1 and None not in groups
    assert "Tài liệu kiểm chứng:</b> 2" in str(nv.screen) or "Tài liệu kiểm chứng: 2" in str(nv.screen)


async def test_adjust_by_typed_value_and_forged_buttons(bot: App, client: BotClient, seed: Seeder) -> None:
    head, nv, tp, aid = await _world(seed, client)
    await _answer_and_submit(seed, head, aid)
    await nv.say("/pending", expect="Danh sách chờ thẩm định")
    await nv.press(f"au:{aid}", expect="1.1.1")
    await nv.press(f"ax:{aid}:1.1.1:next", expect="1.1.2")
    await nv.press(f"ax:{aid}:1.1.2:adj", expect="Điểm mới")
    await nv.say("abc", expect="⚠️")
    await nv.say("65%", expect="lý do")
    await nv.say("Chỉ hoàn thành 65% kế hoạch", expect="Đã điều chỉnh 1.1.2 thành 0 điểm")
    async with seed.session() as s:
        row = await s.scalar(select(ItemScore).where(ItemScore.item_code == "1.1.2"))
        assert row is not None and (row.appraisal1_status, row.appraisal1_comment) == (
            "adjusted",
            "Chỉ hoàn thành 65% kế hoạch",
        )
    # a stale button: field 1 moves to TP while NV still has 1.1.3 on screen
    assert "1.1.3" in str(nv.screen)
    async with seed.session() as s:
        await assign(s, SYSTEM, 2025, "TP", "1")
    await nv.press(f"ax:{aid}:1.1.3:ok", expect="không có quyền")
    await nv.wait("Danh sách chờ thẩm định")
    async with seed.session() as s:
        row = await s.scalar(select(ItemScore).where(ItemScore.item_code == "1.1.3"))
        assert row is not None and row.appraisal1_status is None
    # TP now has it; the unit head has no appraiser queue
    await tp.say("/pending", expect="Danh sách chờ thẩm định")
    assert "Sở Nội vụ (6)" in str(tp.screen)  # 1.1.1, 1.1.3, 1.2 and field 2
    await head.say("/pending", expect=lambda m: "Danh sách chờ" not in str(m.get("text")))
