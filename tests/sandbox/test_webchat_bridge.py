"""The web chat's JSON/SSE bridge against a real emulator (no bot, no browser): what the page relies on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.sandbox.emulator.server import Emulator
from bot.sandbox.personas import Persona
from bot.sandbox.webchat import EmulatorBridge, create_app

OFFICER = Persona(
    key="officer_so",
    user_id=910_000_001,
    name="Nguyễn Thị Hằng",
    role="officer",
    role_label="Cán bộ đầu mối CCHC",
    role_label_en="PAR focal officer",
    unit="Sở Tư pháp",
    hint="",
    hint_en="",
    language="vi",
)
STRANGER_ID = 910_000_999


class Env:
    def __init__(self, emulator: Emulator, client: TestClient[Any, Any], resets: list[int]) -> None:
        self.emulator = emulator
        self.client = client
        self.resets = resets

    async def bot_call(self, method: str, **params: Any) -> Any:
        async with aiohttp.ClientSession() as session:
            url = f"{self.emulator.url}/bot{self.emulator.token}/{method}"
            async with session.post(url, json=params) as resp:
                data = await resp.json()
        assert data["ok"], data
        return data["result"]


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    emulator = Emulator()
    await emulator.start()
    emulator.state.add_user("Hằng", last_name="Nguyễn Thị", user_id=OFFICER.user_id)
    emulator.state.add_user("Lạ", user_id=STRANGER_ID)
    resets: list[int] = []

    async def reset() -> None:
        resets.append(1)

    app = create_app(EmulatorBridge(emulator.url, emulator.token), lambda: [OFFICER], reset=reset)
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield Env(emulator, client, resets)
    finally:
        await client.close()
        await emulator.stop()


async def test_page_and_static_files_are_served_locally_in_utf8(env: Env) -> None:
    page = await env.client.get("/")
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html; charset=utf-8")
    html = await page.text()
    assert "Đặt lại demo" in html
    assert "http://" not in html and "https://" not in html  # nothing fetched from outside
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    for name, kind in (("app.js", "text/javascript"), ("app.css", "text/css")):
        resp = await env.client.get(f"/static/{name}")
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith(kind)
    assert (await env.client.get("/static/..%2Fwebchat%2Fserver.py")).status == 404


async def test_info_lists_personas_with_vietnamese_labels(env: Env) -> None:
    data = await (await env.client.get("/api/info")).json()
    assert [p["user_id"] for p in data["personas"]] == [OFFICER.user_id]
    assert data["personas"][0]["role_label"] == "Cán bộ đầu mối CCHC"


async def test_only_personas_chats_are_reachable(env: Env) -> None:
    resp = await env.client.post(f"/api/chats/{STRANGER_ID}/text", json={"text": "xin chào"})
    assert resp.status == 404
    assert (await resp.json())["error"] == "unknown person"
    assert not env.emulator.bot.updates


async def test_text_reaches_the_bot_and_its_html_reply_comes_back_as_entities(env: Env) -> None:
    uid = OFFICER.user_id
    resp = await env.client.post(f"/api/chats/{uid}/text", json={"text": "/score"})
    assert resp.status == 200
    update = env.emulator.bot.updates[-1]
    assert update["message"]["text"] == "/score"
    await env.bot_call(
        "sendMessage",
        chat_id=uid,
        text="<b>Lĩnh vực 1</b> &lt;x&gt;",
        parse_mode="HTML",
        reply_markup={"keyboard": [[{"text": "Huỷ"}]], "resize_keyboard": True},
    )
    data = await (await env.client.get(f"/api/chats/{uid}/messages")).json()
    assert [m["text"] for m in data["messages"]] == ["/score", "Lĩnh vực 1 <x>"]
    assert data["messages"][1]["entities"][0]["type"] == "bold"
    assert data["reply_keyboard"]["keyboard"] == [[{"text": "Huỷ"}]]


async def _next_event(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    data: list[str] = []
    while True:
        line = (await asyncio.wait_for(resp.content.readline(), 10)).decode().rstrip("\n")
        if line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and data:
            event: dict[str, Any] = json.loads("".join(data))
            return event


async def test_events_stream_live_messages_edits_and_deletions(env: Env) -> None:
    uid = OFFICER.user_id
    resp = await env.client.get(f"/api/chats/{uid}/events")
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    await asyncio.sleep(0.1)
    sent = await env.bot_call(
        "sendMessage",
        chat_id=uid,
        text="Chọn mức",
        reply_markup={"inline_keyboard": [[{"text": "Đạt", "callback_data": "lv:1"}]]},
    )
    event = await _next_event(resp)
    assert event["kind"] == "message"
    assert event["message"]["text"] == "Chọn mức"
    assert "bot_id" not in event  # emulator bookkeeping stays out of the page
    await env.bot_call("editMessageText", chat_id=uid, message_id=sent["message_id"], text="Đã chọn: Đạt")
    edited = await _next_event(resp)
    assert (edited["kind"], edited["message"]["text"]) == ("edited", "Đã chọn: Đạt")
    await env.bot_call("deleteMessage", chat_id=uid, message_id=sent["message_id"])
    deleted = await _next_event(resp)
    assert (deleted["kind"], deleted["message_id"]) == ("deleted", sent["message_id"])
    resp.close()


async def test_pressing_a_button_sends_the_callback_and_refuses_a_missing_one(env: Env) -> None:
    uid = OFFICER.user_id
    sent = await env.bot_call(
        "sendMessage",
        chat_id=uid,
        text="Có ban hành kế hoạch?",
        reply_markup={"inline_keyboard": [[{"text": "Có", "callback_data": "yes"}]]},
    )
    ok = await env.client.post(
        f"/api/chats/{uid}/press", json={"message_id": sent["message_id"], "data": "yes"}
    )
    assert ok.status == 200
    assert env.emulator.bot.updates[-1]["callback_query"]["data"] == "yes"
    bad = await env.client.post(
        f"/api/chats/{uid}/press", json={"message_id": sent["message_id"], "data": "no"}
    )
    assert bad.status == 400
    assert "no button" in (await bad.json())["error"]


async def test_uploaded_file_reaches_the_bot_and_downloads_back_with_its_name(env: Env) -> None:
    uid = OFFICER.user_id
    form = aiohttp.FormData()
    form.add_field("file", b"%PDF-1.4 demo", filename="Kế hoạch CCHC.pdf", content_type="application/pdf")
    form.add_field("caption", "Minh chứng 1.1")
    resp = await env.client.post(f"/api/chats/{uid}/upload", data=form)
    assert resp.status == 200, await resp.text()
    message = env.emulator.bot.updates[-1]["message"]
    assert message["document"]["file_name"] == "Kế hoạch CCHC.pdf"
    assert message["caption"] == "Minh chứng 1.1"
    got = await env.client.get(
        f"/api/files/{message['document']['file_id']}?download=1&name=Kế hoạch CCHC.pdf"
    )
    assert got.status == 200
    assert await got.read() == b"%PDF-1.4 demo"
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert "UTF-8''K%E1%BA%BF" in got.headers["Content-Disposition"]
    assert (await env.client.get("/api/files/nonexistent")).status == 404


async def test_photo_upload_and_bot_photo_are_viewable(env: Env) -> None:
    uid = OFFICER.user_id
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ff"
        "ff3f0005fe02fea7d6a4a80000000049454e44ae426082"
    )
    form = aiohttp.FormData()
    form.add_field("file", png, filename="anh.png", content_type="image/png")
    form.add_field("as_photo", "1")
    resp = await env.client.post(f"/api/chats/{uid}/upload", data=form)
    assert resp.status == 200, await resp.text()
    photo = env.emulator.bot.updates[-1]["message"]["photo"]
    got = await env.client.get(f"/api/files/{photo[-1]['file_id']}")
    assert await got.read() == png


async def test_commands_follow_the_bot_api_scope_order(env: Env) -> None:
    uid = OFFICER.user_id
    await env.bot_call("setMyCommands", commands=[{"command": "help", "description": "Trợ giúp"}])
    data = await (await env.client.get(f"/api/chats/{uid}/commands")).json()
    assert data["commands"] == [{"command": "help", "description": "Trợ giúp"}]
    await env.bot_call(
        "setMyCommands",
        commands=[{"command": "score", "description": "Tự chấm điểm"}],
        scope={"type": "chat", "chat_id": uid},
        language_code="vi",
    )
    data = await (await env.client.get(f"/api/chats/{uid}/commands")).json()
    assert data["commands"] == [{"command": "score", "description": "Tự chấm điểm"}]


async def test_reset_calls_the_sandbox(env: Env) -> None:
    resp = await env.client.post("/api/reset")
    assert resp.status == 200
    assert env.resets == [1]


async def test_several_files_go_as_one_album(env: Env) -> None:
    uid = OFFICER.user_id
    form = aiohttp.FormData()
    form.add_field("file", b"%PDF-1.4 a", filename="a.pdf", content_type="application/pdf")
    form.add_field("file", b"%PDF-1.4 b", filename="b.pdf", content_type="application/pdf")
    resp = await env.client.post(f"/api/chats/{uid}/upload", data=form)
    assert resp.status == 200, await resp.text()
    sent = [u["message"] for u in env.emulator.bot.updates if "message" in u]
    assert [m["document"]["file_name"] for m in sent[-2:]] == ["a.pdf", "b.pdf"]
    assert sent[-1]["media_group_id"] == sent[-2]["media_group_id"]


async def test_activity_counts_the_bots_messages_for_unread_badges(env: Env) -> None:
    uid = OFFICER.user_id
    first = await (await env.client.get("/api/activity")).json()
    assert first["bot_messages"] == {str(uid): 0}
    await env.client.post(f"/api/chats/{uid}/text", json={"text": "/start"})  # not counted: the person's own
    await env.bot_call("sendMessage", chat_id=uid, text="Có 3 mục chờ thẩm định")
    await env.bot_call("sendMessage", chat_id=uid, text="Hạn chót: 15/12")
    second = await (await env.client.get("/api/activity")).json()
    assert second["bot_messages"] == {str(uid): 2}
    await env.client.post("/api/reset")
    third = await (await env.client.get("/api/activity")).json()
    assert third["bot_messages"] == {str(uid): 2}  # the fake reset keeps the chat; the count is recomputed
