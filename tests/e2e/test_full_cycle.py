"""A full appraisal cycle through the Bot API emulator against the real bot process (`python -m bot
run`, with its outbox sender): three units and two appraising agencies.

units submit → appraisers notified → adjust and request a supplement → the unit answers → the
explanation round → final appraisal → survey, "not ranked" → approve → publish.

After every step the new outbox rows are compared with the expected (recipient, kind, text) and
each is checked to have arrived in that person's chat.
"""

from __future__ import annotations

import asyncio
import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.db.models import Assessment, Outbox, OutboxStatus, Unit
from bot.scoring.model import CriteriaSet
from bot.services import assessment as officer
from bot.services.actor import Actor
from bot.services.agencies import assign
from bot.services.criteria import store_criteria_set
from bot.services.periods import create_period, open_period
from tests.bot.conftest import bot_db_url, bot_process, client, evidence_dir, seed  # noqa: F401
from tests.bot.harness import BotClient, BotProcess, Seeder, register
from tests.bot.officer_driver import Officer
from tests.officer_seed import SMALL_SET
from tests.services.cycle_seed import ANSWERS

SYSTEM = Actor.system("test")
YEAR = 2025
UNITS = {"SNV": "Sở Nội vụ", "STP": "Sở Tư pháp", "SYT": "Sở Y tế"}
_TAGS = re.compile(r"<[^>]+>")


def plain(text: str) -> str:
    return html.unescape(_TAGS.sub("", text))


@dataclass
class Mailbox:
    """The outbox as seen by the test: rows after `seen`, checked against what should be there."""

    seed: Seeder
    client: BotClient
    names: dict[int, str]
    seen: int = 0
    log: list[str] = field(default_factory=list)

    async def expect(self, step: str, wanted: list[tuple[int, str, str]], timeout: float = 30) -> None:  # noqa: ASYNC109
        """`wanted`: (chat id, outbox kind, text fragment) of every notification this step causes."""
        async with self.seed.session() as s:
            rows = list(await s.scalars(select(Outbox).where(Outbox.id > self.seen).order_by(Outbox.id)))
        got = sorted((r.chat_id, r.kind) for r in rows)
        assert got == sorted((c, k) for c, k, _ in wanted), f"{step}: outbox {got}"
        by_key: dict[tuple[int, str], list[Outbox]] = {}
        for r in rows:
            by_key.setdefault((r.chat_id, r.kind), []).append(r)
        for chat, kind, fragment in wanted:
            texts = [plain(r.text) for r in by_key[(chat, kind)]]
            assert any(fragment in t for t in texts), f"{step}: {self.names[chat]} {kind}: {texts}"
        if rows:
            self.seen = rows[-1].id
        await self._delivered(step, rows, timeout)

    async def _delivered(self, step: str, rows: list[Outbox], timeout: float) -> None:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        ids = [r.id for r in rows]
        while True:
            async with self.seed.session() as s:
                statuses = list(await s.scalars(select(Outbox.status).where(Outbox.id.in_(ids))))
            if all(st == OutboxStatus.SENT.value for st in statuses):
                break
            assert loop.time() < end, f"{step}: not delivered: {statuses}"
            await asyncio.sleep(0.2)
        for r in rows:
            texts = [
                str(m.get("text") or "")
                for m in await self.client.transcript(r.chat_id)
                if m.get("from", {}).get("is_bot")
            ]
            assert plain(r.text) in texts, f"{step}: {self.names[r.chat_id]} did not receive {r.text!r}"
            self.log.append(f"[{step}] → {self.names[r.chat_id]}: {plain(r.text)}")


async def _setup(seeder: Seeder) -> dict[str, int]:
    for code, name in UNITS.items():
        await seeder.unit(code, name)
    await seeder.agency("NV", "Sở Nội vụ (thẩm định)")
    await seeder.agency("TP", "Sở Tư pháp (thẩm định)")
    now = datetime.now(UTC)
    async with seeder.session() as s:
        stored = await store_criteria_set(s, SYSTEM, CriteriaSet.model_validate(SMALL_SET))
    stages = {
        "self_assessment": now + timedelta(days=30),
        "appraisal": now + timedelta(days=40),
        "explanation": now + timedelta(days=50),
        "final_appraisal": now + timedelta(days=60),
    }
    async with seeder.session() as s:
        await create_period(s, SYSTEM, YEAR, {"so": stored.code}, stages=stages)
    async with seeder.session() as s:
        await assign(s, SYSTEM, YEAR, "NV", "1")
    async with seeder.session() as s:
        await assign(s, SYSTEM, YEAR, "TP", "2")
    async with seeder.session() as s:
        await open_period(s, SYSTEM, YEAR)
    async with seeder.session() as s:
        units = {u.code: u.id for u in await s.scalars(select(Unit))}
    return units


async def _answer_everything(seeder: Seeder, head_tg: int, unit_id: int) -> int:
    """The scoring itself (the officer's tests cover it through the chat): same answers for all."""
    from bot.services.actor import load_actor

    async with seeder.session() as s:
        actor = await load_actor(s, head_tg)
        assert actor is not None
        sheet = await officer.open_sheet(s, actor, unit_id)
        aid = sheet.assessment.id
        for code, text in ANSWERS.items():
            await officer.save_answer(s, actor, aid, code, text)
            await officer.set_explanation(s, actor, aid, code, f"Giải trình {code}")
    return aid


async def test_full_cycle(bot_process: BotProcess, client: BotClient, seed: Seeder) -> None:  # noqa: F811
    units = await _setup(seed)
    heads = {
        code: await register(client, code, "unit_head", first_name=f"Thủ trưởng {code}") for code in UNITS
    }
    nv_user = await register(client, None, "appraiser", agency_code="NV", first_name="Thẩm định NV")
    tp_user = await register(client, None, "appraiser", agency_code="TP", first_name="Thẩm định TP")
    sec_user = await register(client, None, "secretariat", first_name="Văn phòng Sở Nội vụ")
    leader_user = await register(client, None, "leader", first_name="Lãnh đạo tỉnh")
    h = {code: int(u["id"]) for code, u in heads.items()}
    nv, tp, sec, leader = (int(u["id"]) for u in (nv_user, tp_user, sec_user, leader_user))
    names = {h[c]: f"head {c}" for c in UNITS} | {nv: "NV", tp: "TP", sec: "secretariat", leader: "leader"}
    box = Mailbox(seed, client, names)
    async with seed.session() as s:
        box.seen = int(await s.scalar(select(Outbox.id).order_by(Outbox.id.desc()).limit(1)) or 0)

    aids = {code: await _answer_everything(seed, h[code], units[code]) for code in UNITS}
    people = {code: Officer(client, heads[code], f"head {code}") for code in UNITS}
    a_nv, a_tp = Officer(client, nv_user, "NV"), Officer(client, tp_user, "TP")
    secretariat = Officer(client, sec_user, "secretariat")

    # 1. the three heads submit in the chat; both agencies' appraisers are told each time
    for code in UNITS:
        o, aid = people[code], aids[code]
        await o.say("/review", expect="Tổng điểm")
        await o.press(f"os:{aid}:submit")
        await o.press(f"os:{aid}:submit_ok", expect="✅")
    await box.expect(
        "submit",
        [(h[c], "submitted", f"{UNITS[c]}") for c in UNITS]
        + [(nv, "to_appraise", UNITS[c]) for c in UNITS]
        + [(tp, "to_appraise", UNITS[c]) for c in UNITS],
    )

    # 2. NV: adjust 1.1.1 of SNV, ask for a supplement on 1.1.2, accept the rest of field 1
    snv = aids["SNV"]
    await a_nv.say("/pending", expect="Danh sách chờ thẩm định")
    assert "12 tiêu chí đang chờ" in str(a_nv.screen.get("text") if a_nv.screen else "")
    await a_nv.press(f"au:{snv}", expect="1.1.1")
    await a_nv.press(f"ax:{snv}:1.1.1:adj", expect="Điểm mới")
    await a_nv.press(f"av:{snv}:1.1.1:1", expect="lý do")
    await a_nv.say("Kế hoạch ban hành sau thời hạn UBND tỉnh yêu cầu", expect="1.1.2")
    await a_nv.press(f"ax:{snv}:1.1.2:sup", expect="cần bổ sung gì")
    await a_nv.say("Bổ sung báo cáo kết quả thực hiện kế hoạch quý IV", expect="1.1.3")
    await a_nv.press(f"af:{snv}:1:ask", expect="2 tiêu chí còn lại")
    await a_nv.press(f"af:{snv}:1:ok", expect="Đã công nhận 2 tiêu chí")
    for code in ("STP", "SYT"):
        await a_nv.press(f"au:{aids[code]}", expect="1.1.1")
        await a_nv.press(f"af:{aids[code]}:1:ask", expect="4 tiêu chí còn lại")
        await a_nv.press(f"af:{aids[code]}:1:ok", expect="Đã công nhận 4 tiêu chí")
    await a_tp.say("/pending", expect="Danh sách chờ thẩm định")
    for code in UNITS:
        await a_tp.press(f"au:{aids[code]}", expect="2.1.1")
        await a_tp.press(f"af:{aids[code]}:2:ask", expect="3 tiêu chí còn lại")
        await a_tp.press(f"af:{aids[code]}:2:ok", expect="Đã công nhận 3 tiêu chí")
    await box.expect(
        "appraisal 1",
        [
            (h["SNV"], "appraisal_adjusted", "đã điều chỉnh điểm tiêu chí 1.1.1"),
            (h["SNV"], "supplement_requested", "Bổ sung báo cáo kết quả thực hiện kế hoạch quý IV"),
        ],
    )

    # 3. SNV answers the supplement request with a document; NV is told and accepts it
    head = people["SNV"]
    await head.say("/explain", expect="Kết quả thẩm định của Sở Nội vụ")
    await head.press(f"ur:{snv}:1.1.2", expect="Bổ sung báo cáo")
    await head.send_document("Bao-cao-quy-IV.pdf", b"%PDF-1.4 quy IV", expect="Đã bổ sung cho 1.1.2")
    await box.expect("supplement answered", [(nv, "unit_answered", "Sở Nội vụ đã trả lời về tiêu chí 1.1.2")])
    await a_nv.say("/pending", expect="1 đã trả lời")
    await a_nv.press(f"au:{snv}", expect="đã trả lời")
    transcript = await client.transcript(nv)
    assert any((m.get("document") or {}).get("file_name") == "Bao-cao-quy-IV.pdf" for m in transcript)
    await a_nv.press(f"ax:{snv}:1.1.2:ok", expect="Đã công nhận 1.1.2")
    await box.expect("supplement accepted", [])

    # 4. the secretariat closes appraisal 1 and opens the explanation round
    await secretariat.say("/period", expect="Giai đoạn hiện tại")
    await secretariat.press("sp:adv:appraisal", expect="Chuyển kỳ đánh giá")
    await secretariat.press("sp:advok:appraisal", expect="chuyển sang bước")
    await secretariat.press("sp:adv:explanation", expect="Chuyển kỳ đánh giá")
    await secretariat.press("sp:advok:explanation", expect="chuyển sang bước")
    await box.expect("explanation round", [(h["SNV"], "explanation_open", "1 tiêu chí bị điều chỉnh")])

    # 5. SNV explains the adjusted item
    await head.say("/explain", expect="Kết quả thẩm định")
    await head.press(f"ur:{snv}:1.1.1", expect="Ý kiến thẩm định")
    await head.press(f"ux:{snv}:1.1.1:text", expect="Nhập nội dung giải trình")
    await head.say("Kế hoạch số 12/KH-SNV ban hành ngày 10/01, đúng hạn", expect="Đã lưu giải trình")
    await box.expect("explanation", [(nv, "unit_answered", "nội dung giải trình")])

    # 6. final appraisal: NV accepts the explanation
    await secretariat.press("sp:adv:final_appraisal", expect="Chuyển kỳ đánh giá")
    await secretariat.press("sp:advok:final_appraisal", expect="chuyển sang bước")
    await box.expect("final appraisal", [(nv, "round_final", "1 tiêu chí")])
    await a_nv.say("/pending", expect="thẩm định lần cuối")
    await a_nv.press(f"au:{snv}", expect="Kế hoạch số 12/KH-SNV")
    await a_nv.press(f"ax:{snv}:1.1.1:ok", expect="Đã công nhận 1.1.1")

    # 7. survey results, one unit not ranked, approval and publication
    await secretariat.say("/survey", expect="Kết quả điều tra xã hội học")
    for code, points in (("SNV", "2,5"), ("STP", "3"), ("SYT", "1")):
        await secretariat.press(f"ss:unit:{units[code]}:", expect="2.2")
        await secretariat.press(f"ss:item:{units[code]}:2.2", expect="Gửi điểm điều tra")
        await secretariat.say(points, expect="đã lưu")
        await secretariat.press("⬅ Danh sách đơn vị", expect="chọn đơn vị")
    await secretariat.say("/notranked SYT Tài liệu kiểm chứng không trung thực", expect="không xếp hạng?")
    await secretariat.press("sn:ok:SYT", expect="Đã đánh dấu SYT")
    await secretariat.say("/period", expect="Giai đoạn hiện tại")
    await secretariat.press("sp:adv:approved", expect="chốt")
    await secretariat.press("sp:advok:approved", expect="chuyển sang bước")
    await secretariat.press("sp:adv:published", expect="kết quả cuối cùng")
    await secretariat.press("sp:advok:published", expect="chuyển sang bước")
    # SNV 16,87/20 (1.1.1 accepted after the explanation), STP 17,37/20, SYT 15,37/20 (not ranked)
    await box.expect(
        "published",
        [
            (h["STP"], "published", "Sở Tư pháp: 86,85 (Tốt), xếp hạng 1/2"),
            (h["SNV"], "published", "Sở Nội vụ: 84,35 (Tốt), xếp hạng 2/2"),
            (h["SYT"], "published", "Sở Y tế: 76,85, không xếp hạng"),
            (leader, "published", "xem /rank"),
        ],
    )
    async with seed.session() as s:
        statuses = set(await s.scalars(select(Assessment.status)))
    assert statuses == {"finalized"}
    print("\n".join(box.log))
