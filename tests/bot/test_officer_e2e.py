"""The officer's whole self-assessment through the emulator, with the real bot as a subprocess
(`python -m bot run`) that is SIGKILLed in the middle and restarted (issue 3 §5).

An officer registers by invite and scores every self-scored leaf of the 2018 sample set for
departments, each by its rule's kind; evidence bytes land on disk with the right sha256; bad input
changes nothing; the unit head reviews and submits; the database holds exactly what was entered.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.emulator import Emulator
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
from bot.scoring.rules import score_answer
from tests.bot.harness import CRITERIA_DIR, BotClient, BotProcess, Seeder, new_user, register
from tests.bot.officer_driver import (
    ItemRow,
    Officer,
    assessment_of,
    buttons,
    evidence_rows,
    file_bytes,
    screen_recorded,
    sheet_rows,
    text_of,
)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TRANSCRIPT = ROOT / "test-output" / "officer_transcript.txt"
KILL_AT = 12  # leaf index at which the bot is killed while waiting for a typed value


def typed_value(leaf: Leaf, i: int) -> str | None:
    """What the officer types for a leaf answered by typing (None: answered by a button)."""
    rule = leaf.rule
    if isinstance(rule, BandsRule):
        return ("45/50", "90,5 %", "72%")[i % 3] if rule.unit == "percent" else "3"
    if isinstance(rule, ProportionalRule):
        return ("45/50", "7/8")[i % 2]
    if isinstance(rule, CountStepsRule):
        return str(1 + i % 4)
    if isinstance(rule, ManualRule):
        steps = (leaf.max_points / 2 / rule.step).to_integral_value(rounding=ROUND_FLOOR)
        return format((steps * rule.step).normalize(), "f").replace(".", ",")
    if isinstance(rule, DeductionRule):
        return str(i % 3)
    return None


def choice_value(leaf: Leaf, i: int) -> str:
    if isinstance(leaf.rule, LevelsRule):
        return str(i % len(leaf.rule.levels))
    assert isinstance(leaf.rule, BooleanRule)
    return "yes" if i % 3 else "no"


def _points_text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value != 0 else "0"


async def _db_snapshot(seed: Seeder) -> tuple[dict[str, ItemRow], int, str]:
    assessment = await assessment_of(seed, "SNV")
    return await sheet_rows(seed, "SNV"), len(await evidence_rows(seed)), assessment.status


async def test_officer_scores_every_leaf_survives_a_kill_and_the_head_submits(
    bot_process: BotProcess,
    client: BotClient,
    seed: Seeder,
    emulator: Emulator,
    evidence_dir: Path,
) -> None:
    cs = load_criteria_set(CRITERIA_DIR / "2018-so.yaml")
    await seed.unit("SNV", "Sở Nội vụ")
    await seed.unit("STP", "Sở Tư pháp")
    await seed.period(criteria={"so": await seed.criteria("2018-so.yaml")})

    # A command before registration gets the polite refusal and nothing else.
    stranger = await new_user(client, "Người lạ")
    refusal = await client.say(stranger, "/score")
    assert "chưa được mời" in text_of(refusal)

    officer = Officer(client, await register(client, "SNV", "officer", first_name="Cán bộ An"), "officer")
    head = Officer(
        client, await register(client, "SNV", "unit_head", first_name="Giám đốc Bình"), "unit head"
    )
    other = Officer(client, await register(client, "STP", "officer", first_name="Cán bộ Chi"), "other unit")
    aid = (await assessment_of(seed, "SNV")).id

    leaves = [leaf for _, _, leaf in cs.leaves() if not isinstance(leaf.rule, SurveyRule)]
    expected: dict[str, ItemRow] = {}
    files: dict[str, bytes] = {}

    home = await officer.say("/score", expect="Chọn lĩnh vực")
    assert "Đã chấm 0/" in text_of(home)
    first = leaves[0]
    await officer.press(f"of:{aid}:1", expect="1.1.")
    await officer.press(f"oc:{aid}:1.1", expect=first.code)
    await officer.press(f"oi:{aid}:{first.code}", expect="Cách chấm")

    na_done = killed = False
    for i, leaf in enumerate(leaves):
        code = leaf.code
        assert code in text_of(officer.screen or {})
        row = ItemRow(None, None, None, None, False, None)
        if leaf.allow_na and not na_done:
            na_done = True
            await officer.press(f"ox:{aid}:{code}:na", expect="lý do")
            await officer.say("Đơn vị không có thủ tục hành chính", expect="Đã đánh dấu không áp dụng")
            row = replace(row, na_claimed=True, na_reason="Đơn vị không có thủ tục hành chính")
        elif (text := typed_value(leaf, i)) is not None:
            answer = score_answer(leaf, text)
            await officer.press(f"ox:{aid}:{code}:val", expect="gửi giá trị")
            if i >= KILL_AT and not killed:
                killed = True
                # SIGKILL while the bot waits for the value; after the restart the same item resumes.
                await screen_recorded(seed, officer)
                bot_process.kill()
                await bot_process.start()
            preview = await officer.say(text, expect="Lưu câu trả lời này?")
            assert f"{answer.display}" in text_of(preview) or code in text_of(preview)
            before = (await sheet_rows(seed, "SNV")).get(code)
            assert before is None or before.self_raw is None  # previewed, not saved
            await officer.press(f"ox:{aid}:{code}:save", expect="Đã lưu")
            row = replace(row, self_points=_points_text(answer.points), self_raw=answer.raw)
        else:
            value = choice_value(leaf, i)
            answer = score_answer(leaf, value)
            await officer.press(f"oa:{aid}:{code}:{value}", expect="Đã lưu")
            row = replace(row, self_points=_points_text(answer.points), self_raw=answer.raw)
        # Acknowledged means committed.
        assert (await sheet_rows(seed, "SNV"))[code] == row

        has_points = row.self_points not in (None, "0")
        if i == 0:
            content = b"%PDF-1.4 Ke hoach CCHC 2018 " + code.encode()
            files[f"{code}/doc"] = content
            await officer.send_document(
                "Kế hoạch CCHC.pdf", content, expect="Đã đính kèm", mime="application/pdf"
            )
            await officer.press(f"oi:{aid}:{code}", expect=code)
            await officer.press(f"ox:{aid}:{code}:note", expect="trang hoặc mục")
            await officer.say("Trang 3, mục II", expect="Đã lưu trang/mục")
            row = replace(row, evidence_note="Trang 3, mục II")
        elif i == 2:
            content = b"\xff\xd8\xff\xe0 photo " + code.encode()
            files[f"{code}/photo"] = content
            officer._record(officer.name, "sends a photo")
            await client.send_photo(officer.uid, content)
            await officer.wait("Đã đính kèm")
            await officer.press(f"oi:{aid}:{code}", expect=code)
        elif i == 4:
            album: list[dict[str, Any]] = [
                {
                    "type": "document",
                    "filename": "Báo cáo quý I.pdf",
                    "content": b"%PDF q1",
                    "mime_type": "application/pdf",
                },
                {
                    "type": "document",
                    "filename": "Báo cáo quý II.pdf",
                    "content": b"%PDF q2",
                    "mime_type": "application/pdf",
                },
                {"type": "photo", "filename": "anh.jpg", "content": b"\xff\xd8 album photo"},
            ]
            for n, part in enumerate(album):
                files[f"{code}/album{n}"] = part["content"]
            officer._record(officer.name, "sends an album of 3 files")
            await client.send_album(officer.uid, album)
            confirmation = await officer.wait("album")
            assert "3 tệp" in text_of(confirmation)
            await officer.press(f"oi:{aid}:{code}", expect=code)
        elif has_points:
            explanation = f"Giải trình <{code}> & minh chứng tại hồ sơ lưu"
            await officer.press(f"ox:{aid}:{code}:exp", expect="giải trình")
            await officer.say(explanation, expect="Đã lưu giải trình")
            row = replace(row, explanation=explanation)
        expected[code] = row
        assert (await sheet_rows(seed, "SNV"))[code] == row
        if i + 1 < len(leaves):
            await officer.press("▶", expect=leaves[i + 1].code)

    assert killed
    # Killed again and restarted: /score resumes at the item last worked on (and the screen the
    # bot recorded as live before the kill loses its buttons).
    await screen_recorded(seed, officer)
    bot_process.kill()
    await bot_process.start()
    resumed = await officer.say("/score", expect="Cách chấm")
    assert leaves[-1].code in text_of(resumed)

    # ---- bad input: each gets one clear sentence and changes nothing --------------------------------
    manual = next(leaf for leaf in leaves if isinstance(leaf.rule, ManualRule))
    snapshot = await _db_snapshot(seed)
    await goto(officer, aid, cs, manual.code)
    await officer.press(f"ox:{aid}:{manual.code}:val", expect="gửi giá trị")
    for bad, sentence in [
        ("abc", "không phải là số"),
        ("-1", "không được là số âm"),
        ("1,234,5", "Số viết chưa đúng"),
        ("1,234", "bội số"),
        (str(int(manual.max_points) + 5), "vượt quá mức tối đa"),
    ]:
        reply = await officer.say(bad, expect="⚠️")
        assert sentence in text_of(reply), (bad, text_of(reply))
    assert await _db_snapshot(seed) == snapshot
    await officer.press(f"oi:{aid}:{manual.code}", expect="Cách chấm")

    # A 25 MB file: told what to do, nothing recorded.
    await officer.send_document("Hồ sơ lớn.pdf", None, expect="20 MB", declared_size=25 * 1024 * 1024)
    assert await _db_snapshot(seed) == snapshot

    # An edited message is not read; a message in a group chat is refused.
    officer._record(officer.name, "ghi chú")
    sent = await client.send_text(officer.uid, "ghi chú")
    await officer.wait()
    officer._record(officer.name, "edits that message to '1'")
    await client.edit_message(officer.uid, sent["message_id"], "1")
    await officer.wait("Tin nhắn đã sửa không được xử lý")
    group = await client.create_group("Nhóm CCHC", [officer.uid])
    await client.send_text(officer.uid, "/score", chat_id=group["id"])
    group_reply = await client.wait_for(chat_id=group["id"], timeout=10)
    assert "không làm việc trong nhóm" in text_of(group_reply)
    assert await _db_snapshot(seed) == snapshot

    # A forged button for another unit's item, and an officer forging the head's submit.
    await other.say("/score", expect="Chọn lĩnh vực")
    forge(emulator, other, f"oa:{aid}:{leaves[0].code}:0")
    await other.press(f"oa:{aid}:{leaves[0].code}:0", expect="không có quyền")
    forge(emulator, officer, f"os:{aid}:submit_ok")
    await officer.press(f"os:{aid}:submit_ok", expect="Thủ trưởng")
    assert await _db_snapshot(seed) == snapshot

    # ---- review and submission by the unit head ------------------------------------------------
    review = await head.say("/review", expect="Tổng điểm")
    assert "Không còn mục nào thiếu" in text_of(review)
    await head.press(f"os:{aid}:submit", expect="Gửi kết quả tự đánh giá ngay")
    await head.press(f"os:{aid}:submit_ok", expect="Đã gửi kết quả tự đánh giá")
    assert (await assessment_of(seed, "SNV")).status == "submitted"

    # A stale button after submission: the sentence, the read-only screen, nothing changed.
    stale_screen = officer.screen
    assert stale_screen is not None
    snapshot = await _db_snapshot(seed)
    stale = next(
        str(b["callback_data"])
        for b in buttons(stale_screen)
        if str(b["callback_data"]).startswith(("ox:", "oa:")) and not str(b["callback_data"]).endswith(":ev")
    )
    await officer.press(stale, expect="đã được gửi")
    rerendered = await officer.wait(lambda m: "chỉ xem" in text_of(m))
    assert not any(
        str(b["callback_data"]).startswith(("oa:", "ox:")) and not b["callback_data"].endswith(":ev")
        for b in buttons(rerendered)
    )
    assert await _db_snapshot(seed) == snapshot

    # After ~50 items, values, texts, files and two restarts, one message carries live buttons.
    live = [m for m in await client.transcript(officer.uid) if m["from"]["is_bot"] and buttons(m)]
    assert [m["message_id"] for m in live] == [rerendered["message_id"]]

    # ---- the database holds exactly what was entered --------------------------------------------
    assert await sheet_rows(seed, "SNV") == expected
    rows = await evidence_rows(seed)
    assert len(rows) == 5  # one document, one photo, an album of three
    for ev_row in rows:
        assert ev_row.stored_path and Path(ev_row.stored_path).is_relative_to(evidence_dir)
        data = file_bytes(ev_row.stored_path)
        assert hashlib.sha256(data).hexdigest() == ev_row.sha256 and len(data) == ev_row.size
    assert {Path(r.stored_path or "").parent.name for r in rows} == {
        leaves[0].code,
        leaves[2].code,
        leaves[4].code,
    }
    stored = {file_bytes(r.stored_path) for r in rows}
    assert stored == set(files.values())  # the bytes sent are the bytes stored

    transcript = officer.transcript()
    print("\n===== officer session =====\n" + transcript)
    TRANSCRIPT.parent.mkdir(exist_ok=True)
    TRANSCRIPT.write_text(transcript + "\n", encoding="utf-8")


async def goto(officer: Officer, aid: int, cs: CriteriaSet, code: str) -> None:
    """Fields → field → criterion → item, by the buttons."""
    for field_area, criterion, leaf in cs.leaves():
        if leaf.code != code:
            continue
        await officer.press(f"os:{aid}:home", expect="Chọn lĩnh vực")
        await officer.press(f"of:{aid}:{field_area.code}", expect=field_area.name[:20])
        if criterion.sub_criteria:
            await officer.press(f"oc:{aid}:{criterion.code}", expect=criterion.name[:20])
        await officer.press(f"oi:{aid}:{code}", expect="Cách chấm")
        return
    raise AssertionError(code)


def forge(emulator: Emulator, person: Officer, data: str) -> None:
    """Put `data` on a button of the person's current screen, as a tampered client would send it."""
    assert person.screen is not None
    for conv in emulator.state.conversations.values():
        if conv.chat["id"] != person.uid:
            continue
        message = conv.live(person.screen["message_id"])
        if message is not None:
            message["reply_markup"]["inline_keyboard"][0][0]["callback_data"] = data
            person._record(person.name, f"(a tampered client puts {data!r} on the first button)")
            person.screen = message
            return
    raise AssertionError("screen not found in the emulator")
