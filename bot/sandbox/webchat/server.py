"""The web chat's HTTP side: the page, its static files and a small JSON/SSE API over the bridge.

Routes (all JSON unless said otherwise):
    GET  /                              the page
    GET  /static/...                    app.js, app.css
    GET  /api/info                      {"bot": {...}, "personas": [...]}
    GET  /api/chats/{uid}/messages      {"messages": [...], "reply_keyboard": {...} | null}
    GET  /api/chats/{uid}/events        server-sent events: one JSON object per event, no event names
    GET  /api/chats/{uid}/commands      {"commands": [{"command", "description"}]}
    POST /api/chats/{uid}/text          {"text"}
    POST /api/chats/{uid}/press         {"message_id", "data", "text"}
    POST /api/chats/{uid}/upload        multipart: file (1..10: several make an album), caption, as_photo
    GET  /api/files/{file_id}           the file (?download=1 as an attachment, ?name= its name)
    GET  /api/activity                  {"bot_messages": {uid: count}}: for unread badges
    POST /api/reset                     restore the seeded demo and clear the chats

Only the personas' chats can be used: the page is a training tool, not a way to act as anyone.
"""

from __future__ import annotations

import json
import logging
import mimetypes
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from aiohttp import web

from bot.sandbox.personas import Persona

from .bridge import BridgeError, EmulatorBridge

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
MAX_UPLOAD = 20 * 1024 * 1024
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)

PersonasFn = Callable[[], Sequence[Persona]]
ResetFn = Callable[[], Awaitable[None]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class WebChat:
    bridge: EmulatorBridge
    personas: PersonasFn
    reset: ResetFn | None
    bot_info: dict[str, Any]
    # Per person: (last message id seen, number of bot messages so far), read incrementally.
    activity: dict[int, tuple[int, int]] = field(default_factory=dict)


WEBCHAT_KEY = web.AppKey("webchat", WebChat)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


def _error(message: str, status: int = 400) -> web.Response:
    return _json({"ok": False, "error": message}, status)


def _persona(request: web.Request) -> Persona:
    raw = request.match_info["user_id"]
    try:
        user_id = int(raw)
    except ValueError:
        user_id = 0
    for persona in request.app[WEBCHAT_KEY].personas():
        if persona.user_id == user_id:
            return persona
    raise web.HTTPNotFound(
        text=_dumps({"ok": False, "error": "unknown person"}), content_type="application/json"
    )


@web.middleware
async def _bridge_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The emulator's refusal ("no button ... on message 12") goes to the page as JSON."""
    try:
        return await handler(request)
    except BridgeError as err:
        return _error(str(err), err.status)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Everything comes from this server: the page cannot load or send anything elsewhere."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if request.path == "/" or request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-cache")


async def index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Content-Type": "text/html; charset=utf-8"})


async def static_file(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    path = STATIC_DIR / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise web.HTTPNotFound()
    kind = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}.get(path.suffix)
    headers = {"Content-Type": f"{kind}; charset=utf-8"} if kind else None
    return web.FileResponse(path, headers=headers)


async def info(request: web.Request) -> web.Response:
    personas = [p.as_dict() for p in request.app[WEBCHAT_KEY].personas()]
    return _json({"ok": True, "bot": request.app[WEBCHAT_KEY].bot_info, "personas": personas})


async def messages(request: web.Request) -> web.Response:
    persona = _persona(request)
    items, keyboard = await request.app[WEBCHAT_KEY].bridge.transcript(persona.user_id)
    return _json({"ok": True, "messages": items, "reply_keyboard": keyboard})


async def commands(request: web.Request) -> web.Response:
    persona = _persona(request)
    found = await request.app[WEBCHAT_KEY].bridge.commands(persona.user_id, persona.language)
    return _json({"ok": True, "commands": found})


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="body must be JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return body


async def send_text(request: web.Request) -> web.Response:
    persona = _persona(request)
    text = str((await _body(request)).get("text") or "")
    if not text.strip():
        return _error("text is empty")
    message = await request.app[WEBCHAT_KEY].bridge.send_text(persona.user_id, text[:4096])
    return _json({"ok": True, "message": message})


async def press(request: web.Request) -> web.Response:
    persona = _persona(request)
    body = await _body(request)
    try:
        message_id = int(body.get("message_id"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _error("message_id is required")
    data = body.get("data")
    text = body.get("text")
    record = await request.app[WEBCHAT_KEY].bridge.press(
        persona.user_id,
        message_id,
        None if data is None else str(data),
        None if text is None or data is not None else str(text),
    )
    return _json({"ok": True, "callback": record})


async def upload(request: web.Request) -> web.Response:
    """One file (a document, or a photo when `as_photo` is 1), or 2..10 files sent as one album."""
    persona = _persona(request)
    try:
        form = await request.post()
    except web.HTTPRequestEntityTooLarge:
        return _error("files are larger than 20 MB", 413)
    fields = [f for f in form.getall("file", []) if isinstance(f, web.FileField)]
    if not fields:
        return _error("no file")
    if len(fields) > 10:
        return _error("at most 10 files at once")
    as_photo = str(form.get("as_photo") or "0") == "1"
    files: list[tuple[str, bytes, str, bool]] = []
    for part in fields:
        # Multipart clients may percent-encode non-ASCII names (RFC 7578 §4.2); browsers send UTF-8.
        name = Path(unquote(part.filename or "file")).name or "file"
        mime = part.content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        files.append((name, part.file.read(), mime, as_photo and mime.startswith("image/")))
    bridge = request.app[WEBCHAT_KEY].bridge
    if len(files) > 1:
        messages = await bridge.send_album(persona.user_id, files)
        return _json({"ok": True, "messages": messages})
    one_name, one_content, one_mime, one_photo = files[0]
    caption = str(form.get("caption") or "") or None
    message = await bridge.send_file(
        persona.user_id,
        filename=one_name,
        content=one_content,
        mime_type=one_mime,
        as_photo=one_photo,
        caption=caption,
    )
    return _json({"ok": True, "message": message})


async def file(request: web.Request) -> web.Response:
    download = await request.app[WEBCHAT_KEY].bridge.download(request.match_info["file_id"])
    name = Path(request.query.get("name") or download.file_path).name or "file"
    mime = download.mime_type
    if mime == "application/octet-stream":
        mime = mimetypes.guess_type(name)[0] or mime
    disposition = "attachment" if request.query.get("download") else "inline"
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    headers = {
        "Content-Disposition": f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "private, max-age=3600",
    }
    return web.Response(body=download.content, content_type=mime, headers=headers)


def _event_for_page(event: dict[str, Any]) -> dict[str, Any] | None:
    """Keep what a chat window needs; drop the emulator's bookkeeping."""
    kind = event.get("kind")
    if kind not in ("message", "edited", "deleted", "callback_answer", "chat_action"):
        return None
    out: dict[str, Any] = {"seq": event.get("seq"), "kind": kind}
    for key in ("message", "message_id", "callback", "action"):
        if key in event:
            out[key] = event[key]
    if kind == "message" and "reply_keyboard" in event:
        out["reply_keyboard"] = event["reply_keyboard"]
    return out


async def events(request: web.Request) -> web.StreamResponse:
    persona = _persona(request)
    bridge = request.app[WEBCHAT_KEY].bridge
    last = request.headers.get("Last-Event-ID") or request.query.get("after")
    stream = bridge.events(persona.user_id, last)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    await response.write(b"retry: 1000\n: connected\n\n")
    try:
        async for event in stream:
            if event is None:
                await response.write(b": ping\n\n")
                continue
            page_event = _event_for_page(event)
            if page_event is None:
                continue
            frame = f"id: {page_event['seq']}\ndata: {_dumps(page_event)}\n\n"
            await response.write(frame.encode("utf-8"))
    except (ConnectionResetError, BridgeError) as err:
        log.debug("event stream for %s ended: %s", persona.user_id, err)
    return response


async def activity(request: web.Request) -> web.Response:
    """How many messages the bot has sent each person: the picker's unread badges."""
    chat = request.app[WEBCHAT_KEY]
    counts: dict[str, int] = {}
    for persona in chat.personas():
        last_id, count = chat.activity.get(persona.user_id, (0, 0))
        try:
            new = await chat.bridge.messages_after(persona.user_id, last_id)
        except BridgeError:
            new = []
        for message in new:
            last_id = max(last_id, int(message.get("message_id", 0)))
            count += bool((message.get("from") or {}).get("is_bot"))
        chat.activity[persona.user_id] = (last_id, count)
        counts[str(persona.user_id)] = count
    return _json({"ok": True, "bot_messages": counts})


async def reset_demo(request: web.Request) -> web.Response:
    chat = request.app[WEBCHAT_KEY]
    if chat.reset is None:
        return _error("reset is not available here", 501)
    await chat.reset()
    chat.activity.clear()  # chats start again from message 1
    return _json({"ok": True})


def create_app(
    bridge: EmulatorBridge,
    personas: PersonasFn,
    *,
    reset: ResetFn | None = None,
    bot_info: dict[str, Any] | None = None,
) -> web.Application:
    app = web.Application(client_max_size=MAX_UPLOAD + 1024 * 1024, middlewares=[_bridge_errors])
    app.on_response_prepare.append(_security_headers)
    app[WEBCHAT_KEY] = WebChat(bridge, personas, reset, bot_info or {"name": "Bot Chỉ số CCHC"})
    r = app.router
    r.add_get("/", index)
    r.add_get("/static/{name}", static_file)
    r.add_get("/api/info", info)
    r.add_get("/api/chats/{user_id}/messages", messages)
    r.add_get("/api/chats/{user_id}/events", events)
    r.add_get("/api/chats/{user_id}/commands", commands)
    r.add_post("/api/chats/{user_id}/text", send_text)
    r.add_post("/api/chats/{user_id}/press", press)
    r.add_post("/api/chats/{user_id}/upload", upload)
    r.add_get("/api/files/{file_id}", file)
    r.add_get("/api/activity", activity)
    r.add_post("/api/reset", reset_demo)

    async def _close_bridge(_app: web.Application) -> None:
        await bridge.close()

    app.on_cleanup.append(_close_bridge)
    return app
