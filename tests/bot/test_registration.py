"""Registration by invite, the gate for everyone else, /whoami and /help — through the emulator."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.app import App
from bot.db.models import Invite, Person, Role
from tests.bot.harness import BotClient, Seeder, new_user, register

REFUSAL = "Bạn chưa được mời tham gia"


async def _roles_of(seed: Seeder, telegram_id: int) -> list[str]:
    async with seed.session() as s:
        rows = await s.scalars(
            select(Role.role)
            .join(Person, Person.id == Role.person_id)
            .where(Person.telegram_id == telegram_id)
        )
        return list(rows)


async def test_invite_registers_officer_and_confirms_unit_and_role(
    bot: App, client: BotClient, seed: Seeder
) -> None:
    await seed.unit("SNV", "Sở Nội vụ")
    code = await seed.invite("officer", "SNV")
    user = await new_user(client, "Nguyễn Văn An")

    reply = await client.say(user, f"/start {code}")
    assert "Nguyễn Văn An" in reply["text"]
    assert "Cán bộ đầu mối CCHC" in reply["text"]
    assert "Sở Nội vụ" in reply["text"]
    assert any(e["type"] == "bold" for e in reply.get("entities", []))  # HTML rendered, not shown raw
    assert await _roles_of(seed, user["id"]) == ["officer"]
    follow_up = await client.wait_for(chat_id=user["id"])  # /help comes right after the welcome
    assert "/whoami" in follow_up["text"]

    whoami = await client.say(user, "/whoami")
    assert "Nguyễn Văn An" in whoami["text"]
    assert "Cán bộ đầu mối CCHC — Sở Nội vụ" in whoami["text"]


async def test_appraiser_invite_names_the_agency(bot: App, client: BotClient, seed: Seeder) -> None:
    await seed.agency("tu_phap", "Sở Tư pháp")
    user = await register(client, None, "appraiser", agency_code="tu_phap")
    whoami = await client.say(user, "/whoami")
    assert "Thành viên thẩm định — Sở Tư pháp" in whoami["text"]


async def test_second_role_adds_to_the_first(bot: App, client: BotClient, seed: Seeder) -> None:
    await seed.unit("SNV", "Sở Nội vụ")
    user = await register(client, "SNV", "officer")
    await register(client, None, "leader", user=user)
    whoami = await client.say(user, "/whoami")
    assert "Cán bộ đầu mối CCHC" in whoami["text"] and "Lãnh đạo tỉnh" in whoami["text"]
    again = await client.say(user, f"/start {await seed.invite('officer', 'SNV')}")
    assert "đã được đăng ký" in again["text"]


async def test_bad_codes_give_a_clear_message(bot: App, client: BotClient, seed: Seeder) -> None:
    await seed.unit("SNV", "Sở Nội vụ")
    used = await seed.invite("officer", "SNV", max_uses=1)
    await register(client, "SNV", "officer", user=await new_user(client))  # another invite
    first = await new_user(client)
    await client.say(first, f"/start {used}", expect="Chào mừng")
    expired = await seed.expired_invite("officer", "SNV")
    user = await new_user(client)

    cases = {
        "/start": "không có mã mời",
        "/start KHONGTONTAI123": "Mã mời không hợp lệ",
        f"/start {expired}": "Mã mời đã hết hạn",
        f"/start {used}": "đã được sử dụng hết lượt",
    }
    for text, expected in cases.items():
        reply = await client.say(user, text)
        assert expected in reply["text"], (text, reply["text"])
        assert REFUSAL not in reply["text"]
    assert await _roles_of(seed, user["id"]) == []
    reply = await client.say(user, "/whoami")
    assert REFUSAL in reply["text"]
    async with seed.session() as s:
        assert await s.scalar(select(Invite.uses).where(Invite.code == used)) == 1


async def test_unregistered_person_gets_the_same_refusal(bot: App, client: BotClient) -> None:
    user = await new_user(client)
    for text in [
        "/help",
        "/whoami",
        "/lang",
        "/cancel",
        "/score",
        "/rank",
        "xin chào",
        "/start@cchc_test_bot",
    ]:
        reply = await client.say(user, text)
        if text.startswith("/start"):
            assert "không có mã mời" in reply["text"]
        else:
            assert reply["text"].startswith(REFUSAL), (text, reply["text"])
    async with client.seed.session() as s:
        assert await s.scalar(select(func.count()).select_from(Person)) == 0


async def test_group_chat_gets_please_use_a_private_chat(bot: App, client: BotClient, seed: Seeder) -> None:
    await seed.unit("SNV", "Sở Nội vụ")
    user = await register(client, "SNV", "officer")
    group = await client.create_group("Tổ CCHC", [user["id"]])
    for text in ["/whoami", "/start abc", "chấm điểm"]:
        await client.send_text(user["id"], text, chat_id=group["id"])
        reply = await client.wait_for(chat_id=group["id"])
        assert "nhắn tin riêng" in reply["text"], reply["text"]


async def test_help_differs_per_role(bot: App, client: BotClient, seed: Seeder) -> None:
    await seed.unit("SNV", "Sở Nội vụ")
    await seed.agency("tu_phap", "Sở Tư pháp")
    helps = {}
    for role, unit, agency in [
        ("officer", "SNV", None),
        ("unit_head", "SNV", None),
        ("appraiser", None, "tu_phap"),
        ("leader", None, None),
        ("secretariat", None, None),
    ]:
        user = await register(client, unit, role, agency_code=agency)
        helps[role] = (await client.say(user, "/help"))["text"]
    assert len(set(helps.values())) == 5
    assert "Cán bộ đầu mối CCHC" in helps["officer"] and "Lãnh đạo tỉnh" not in helps["officer"]
    assert "Lãnh đạo tỉnh" in helps["leader"] and "Cán bộ đầu mối" not in helps["leader"]
    for text in helps.values():
        for command in ("/whoami", "/lang", "/cancel", "/help"):
            assert command in text
    # Every command listed for a role is in that role's menu, and vice versa.
    for role, text in helps.items():
        listed = {line.split(" ")[0][1:] for line in text.splitlines() if line.startswith("/")}
        menu = {c for c, _ in bot.menus.for_roles({role})}
        assert listed == menu, role
