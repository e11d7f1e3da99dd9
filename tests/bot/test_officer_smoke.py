"""The officer's screens in-process (fast): navigation, each way of answering, evidence, refusals."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.app import App
from bot.db.models import Period
from bot.scoring.model import CriteriaSet
from bot.services import assessment as svc
from bot.services.actor import load_actor
from bot.services.criteria import store_criteria_set
from tests.bot.harness import SYSTEM, BotClient, Seeder, register
from tests.bot.officer_driver import Officer, assessment_of, buttons, evidence_rows, file_bytes, sheet_rows
from tests.officer_seed import SMALL_SET


async def _setup(seed: Seeder) -> None:
    await seed.unit("SNV", "Sở Nội vụ")
    await seed.unit("STP", "Sở Tư pháp")
    await seed.period(criteria={"so": await seed.criteria("2018-so.yaml")})


async def test_answer_by_button_and_by_value_with_preview(
    bot: App, client: BotClient, seed: Seeder, evidence_dir: Path
) -> None:
    await _setup(seed)
    user = await register(client, "SNV", "officer")
    o = Officer(client, user, "officer")
    await o.say("/score", expect="1. ")
    aid = (await assessment_of(seed, "SNV")).id
    await o.press(f"of:{aid}:1", expect="1.1")
    await o.press(f"oc:{aid}:1.1", expect="1.1.1")
    await o.press(f"oi:{aid}:1.1.1", expect="Ban hành kế hoạch")
    await o.press(f"oa:{aid}:1.1.1:1", expect="0,5")
    assert (await sheet_rows(seed, "SNV"))["1.1.1"].self_raw == "level:1"
    await o.press("▶", expect="1.1.2")
    await o.press(f"ox:{aid}:1.1.2:val", expect="1.1.2")
    await o.say("abc", expect="⚠️")
    await o.say("45/50", expect="Save" if False else "1.1.2")
    assert (
        "1.1.2" not in await sheet_rows(seed, "SNV")
        or (await sheet_rows(seed, "SNV"))["1.1.2"].self_raw is None
    )
    await o.press(f"ox:{aid}:1.1.2:save", expect="✅")
    assert (await sheet_rows(seed, "SNV"))["1.1.2"].self_raw == "45/50"
    # evidence
    content = b"%PDF-1.4 evidence"
    await o.send_document("Kế hoạch.pdf", content, expect="📎")
    rows = await evidence_rows(seed)
    assert len(rows) == 1 and rows[0].sha256 == hashlib.sha256(content).hexdigest()
    assert rows[0].stored_path is not None and file_bytes(rows[0].stored_path) == content
    assert Path(rows[0].stored_path).is_relative_to(evidence_dir)
    await o.send_document("big.pdf", None, expect="20 MB", declared_size=25 * 1024 * 1024)
    assert len(await evidence_rows(seed)) == 1
    await o.send_document("Kế hoạch.pdf", content, expect="đã được đính kèm")  # the same file again
    assert len(await evidence_rows(seed)) == 1
    # The evidence list, and removing a file from it.
    await o.press(f"oi:{aid}:1.1.2", expect="Số tệp kiểm chứng: 1")
    listing = await o.press(f"ox:{aid}:1.1.2:ev", expect="Kế hoạch.pdf")
    remove = next(b for b in buttons(listing) if str(b["callback_data"]).startswith("oe:"))
    await o.press(str(remove["callback_data"]), expect="Đã gỡ tệp")
    rows = await evidence_rows(seed)
    assert len(rows) == 1 and rows[0].removed_at is not None
    await o.press(f"oi:{aid}:1.1.2", expect="Số tệp kiểm chứng: 0")
    print(o.transcript())


async def _small_world(seed: Seeder) -> None:
    await seed.unit("SNV", "Sở Nội vụ")
    async with seed.session() as s:
        stored = await store_criteria_set(s, SYSTEM, CriteriaSet.model_validate(SMALL_SET))
    await seed.period(criteria={"so": stored.code})


async def test_head_submits_withdraws_and_the_deadline_locks(
    bot: App, client: BotClient, seed: Seeder
) -> None:
    await _small_world(seed)
    user = await register(client, "SNV", "unit_head")
    head = Officer(client, user, "head")
    await head.say("/score", expect="Chọn lĩnh vực")
    aid = (await assessment_of(seed, "SNV")).id
    async with seed.session() as s:
        actor = await load_actor(s, user["id"])
        assert actor is not None
        for code, text in {
            "1.1.1": "0",
            "1.1.2": "95%",
            "1.1.3": "no",
            "2.1.1": "1",
            "2.1.2": "0",
            "2.1.3": "6",
        }.items():
            await svc.save_answer(s, actor, aid, code, text)
        await svc.set_explanation(s, actor, aid, "1.1.1", "Kế hoạch số 12/KH")
        await svc.set_explanation(s, actor, aid, "1.1.2", "Báo cáo năm")
        await svc.set_explanation(s, actor, aid, "2.1.1", "Biên bản họp")
    review = await head.press(f"os:{aid}:review", expect="Tổng điểm")
    assert "Chưa chấm: 1.2" in review["text"]
    assert not any(b["callback_data"] == f"os:{aid}:submit" for b in buttons(review))  # 1.2 missing
    await head.press(f"os:{aid}:home", expect="Chọn lĩnh vực")
    await head.press(f"of:{aid}:1", expect="1.2")
    await head.press(f"oi:{aid}:1.2", expect="Cách chấm")
    await head.press(f"ox:{aid}:1.2:val", expect="gửi giá trị")
    await head.say("0/8", expect="Lưu câu trả lời này?")
    await head.press(f"ox:{aid}:1.2:save", expect="Đã lưu")
    review = await head.press(f"os:{aid}:review", expect="Không còn mục nào thiếu")
    assert "Chỉ số:" in review["text"]
    await head.press(f"os:{aid}:submit", expect="Gửi kết quả tự đánh giá ngay")
    await head.press(f"os:{aid}:submit_ok", expect="Đã gửi kết quả")
    review = await head.wait("Tổng điểm")
    assert (await assessment_of(seed, "SNV")).status == "submitted"
    await head.press(f"os:{aid}:withdraw", expect="Rút lại kết quả đã gửi")
    await head.press(f"os:{aid}:withdraw_ok", expect="Đã rút lại")
    assert (await assessment_of(seed, "SNV")).status == "returned"
    # After the deadline everything is read-only; a stale button is refused and the screen re-drawn.
    await head.wait("Chọn lĩnh vực")
    await head.press(f"of:{aid}:1", expect="1.2")
    await head.press(f"oi:{aid}:1.2", expect="Cách chấm")
    async with seed.session() as s:
        period = await s.scalar(select(Period))
        assert period is not None
        period.self_deadline = datetime.now(UTC) - timedelta(minutes=1)
        await s.commit()
    before = await sheet_rows(seed, "SNV")
    await head.press(f"ox:{aid}:1.2:clr", expect="Giai đoạn tự đánh giá đã kết thúc")
    screen = await head.wait("chỉ xem")
    assert not any(str(b["callback_data"]).startswith(("ox:", "oa:")) for b in buttons(screen))
    assert await sheet_rows(seed, "SNV") == before
