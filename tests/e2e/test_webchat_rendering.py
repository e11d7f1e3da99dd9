"""How the web chat shows what a bot sends, in Chromium: the emulator and the page, no bot behind them.

The test plays the bot through the Bot API (formatting, buttons, keyboards, edits, deletions, photos,
documents, command menus) and checks that the person sees it as Telegram would show it, including
that text a user typed with "<" never becomes markup.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.sandbox.emulator.server import Emulator
from bot.sandbox.personas import Persona
from bot.sandbox.webchat import EmulatorBridge, create_app
from tests.e2e.browser import chromium_page, requires_chromium

pytestmark = [pytest.mark.browser, requires_chromium]

OFFICER = Persona(
    key="officer-SYT",
    user_id=900_100_001,
    name="Nguyễn Thị Lan",
    role="officer",
    role_label="Cán bộ đầu mối CCHC",
    role_label_en="PAR focal officer",
    unit="Sở Y tế",
    hint="",
    hint_en="",
    language="vi",
)
HTML = (
    "<b>Đậm</b> <i>nghiêng</i> <u>gạch dưới</u> <s>gạch ngang</s> <code>mã</code>\n"
    "<pre>khối mã</pre>\n"
    '<a href="https://example.org/quy-dinh">liên kết</a> <tg-spoiler>bí mật</tg-spoiler>\n'
    "<blockquote>trích dẫn <b>lồng</b></blockquote>\n"
    "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;không đậm&lt;/b&gt;"
)


def png(width: int, height: int) -> bytes:
    """A valid RGB PNG of one colour, made without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x33\x90\xec" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


class Env:
    def __init__(self, emulator: Emulator, url: str) -> None:
        self.emulator = emulator
        self.url = url

    async def bot(self, method: str, files: dict[str, tuple[str, bytes]] | None = None, **params: Any) -> Any:
        async with aiohttp.ClientSession() as session:
            endpoint = f"{self.emulator.url}/bot{self.emulator.token}/{method}"
            if files:
                form = aiohttp.FormData()
                for key, value in params.items():
                    form.add_field(key, str(value))
                for key, (name, content) in files.items():
                    form.add_field(key, content, filename=name)
                request = session.post(endpoint, data=form)
            else:
                request = session.post(endpoint, json=params)
            async with request as resp:
                data = await resp.json()
        assert data["ok"], data
        return data["result"]

    def updates(self) -> list[dict[str, Any]]:
        return list(self.emulator.bot.updates)


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    emulator = Emulator()
    await emulator.start()
    emulator.state.add_user("Lan", last_name="Nguyễn Thị", user_id=OFFICER.user_id)
    app = create_app(EmulatorBridge(emulator.url, emulator.token), lambda: [OFFICER])
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield Env(emulator, f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()
        await emulator.stop()


@pytest.fixture
async def page(env: Env, tmp_path: Path) -> AsyncIterator[Any]:
    async with chromium_page(tmp_path / "profile", env.url, "webchat-rendering.png") as tab:
        await tab.goto(env.url)
        await tab.locator('.persona[data-role="officer"]').click()
        await tab.locator(".conn.live").wait_for()  # the live feed is connected
        yield tab


async def test_html_is_rendered_safely_and_buttons_answer(env: Env, page: Any) -> None:
    uid = OFFICER.user_id
    sent = await env.bot(
        "sendMessage",
        chat_id=uid,
        text=HTML,
        parse_mode="HTML",
        reply_markup={
            "inline_keyboard": [
                [{"text": "Đạt", "callback_data": "lv:1"}, {"text": "Không đạt", "callback_data": "lv:0"}],
                [{"text": "Văn bản", "url": "https://example.org/van-ban"}],
            ]
        },
    )
    bubble = page.locator(f'.msg.in[data-message-id="{sent["message_id"]}"]')
    await bubble.wait_for()
    for selector, text in (
        ("b", "Đậm"),
        ("i", "nghiêng"),
        ("u", "gạch dưới"),
        ("s", "gạch ngang"),
        ("code", "mã"),
        ("pre", "khối mã"),
        ('a[href="https://example.org/quy-dinh"]', "liên kết"),
        (".spoiler", "bí mật"),
        ("blockquote", "trích dẫn lồng"),
        ("blockquote b", "lồng"),
    ):
        assert (await bubble.locator(selector).first.inner_text()).strip() == text, selector
    text = await bubble.inner_text()
    assert "<script>alert(1)</script> & <b>không đậm</b>" in text  # shown as typed, never markup
    assert await page.locator("#messages script").count() == 0
    assert await bubble.locator("b").count() == 2
    assert await bubble.locator('.ikb a[href="https://example.org/van-ban"]').count() == 1

    await bubble.locator('.ikb button[data-callback="lv:1"]').click()
    for _ in range(100):
        if any("callback_query" in u for u in env.updates()):
            break
        await page.wait_for_timeout(50)
    query = next(u["callback_query"] for u in env.updates() if "callback_query" in u)
    assert query["data"] == "lv:1"
    await env.bot("answerCallbackQuery", callback_query_id=query["id"], text="Đã lưu: Đạt")
    await page.locator('.toast:text("Đã lưu: Đạt")').wait_for()

    await env.bot(
        "editMessageText",
        chat_id=uid,
        message_id=sent["message_id"],
        text="Đã chọn: <b>Đạt</b>",
        parse_mode="HTML",
    )
    await bubble.locator('b:text("Đạt")').wait_for()
    assert await page.locator(".msg.in").count() == 1  # edited in place, not added
    assert await bubble.locator(".edited").count() == 1
    assert await bubble.locator(".ikb").count() == 0  # the edit removed the buttons

    await env.bot("deleteMessage", chat_id=uid, message_id=sent["message_id"])
    await bubble.wait_for(state="detached")


async def test_keyboards_files_and_the_command_menu(env: Env, page: Any) -> None:
    uid = OFFICER.user_id
    await env.bot(
        "setMyCommands",
        commands=[{"command": "score", "description": "Tự chấm điểm"}],
        scope={"type": "chat", "chat_id": uid},
    )
    await env.bot(
        "sendMessage",
        chat_id=uid,
        text="Có minh chứng không?",
        reply_markup={"keyboard": [[{"text": "Có"}, {"text": "Không"}]], "one_time_keyboard": True},
    )
    await page.locator('.reply-kb button:text("Có")').click()
    await page.locator('.msg.out:has-text("Có")').wait_for()
    assert [u["message"]["text"] for u in env.updates() if "message" in u][-1] == "Có"
    assert await page.locator(".reply-kb").is_hidden()  # one-time keyboard: hidden once used

    image = png(120, 80)
    await env.bot("sendPhoto", files={"photo": ("bieu-do.png", image)}, chat_id=uid, caption="Biểu đồ")
    photo = page.locator(".msg.in img.photo").last
    await photo.wait_for()
    await page.wait_for_function(
        "() => { const i = document.querySelector('.msg.in img.photo'); return i && i.naturalWidth > 0; }"
    )
    assert await page.locator('.msg.in:has(img.photo) .text:text("Biểu đồ")').count() == 1
    assert await page.locator(".reply-kb").is_hidden()  # stays hidden while the bot goes on
    await page.click("#kb-toggle")  # ... and comes back on demand
    await page.locator('.reply-kb button:text("Không")').wait_for()

    report = b"PK\x03\x04 demo xlsx"
    await env.bot("sendDocument", files={"document": ("Báo cáo tổng hợp.xlsx", report)}, chat_id=uid)
    link = page.locator('.msg.in a.doc:has-text("Báo cáo tổng hợp.xlsx")')
    await link.wait_for()
    assert await link.get_attribute("download") == "Báo cáo tổng hợp.xlsx"
    body = await page.evaluate(
        "async (href) => Array.from(new Uint8Array(await (await fetch(href)).arrayBuffer()))",
        await link.get_attribute("href"),
    )
    assert bytes(body) == report

    await page.click("#menu-btn")
    await page.locator('.commands button:has-text("/score")').click()
    await page.locator('.msg.out:has-text("/score")').wait_for()
    assert [u["message"]["text"] for u in env.updates() if "message" in u][-1] == "/score"
