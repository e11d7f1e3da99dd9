"""The control API (`/control/...`, JSON): tests and the web chat act as people and read chats.

Every answer is `{"ok": true, "result": ..., "seq": N}` where `seq` is the latest event number, so a
caller can wait for what the bot does *after* its own action without races. Refusals are
`{"ok": false, "error": "..."}` with status 400/404. Optional `bot` (token or username, in the body or
query) picks a bot other than the default one. Routes:

    GET  /control/health                         counts and current seq
    POST /control/bots       {token, username, first_name}
    GET  /control/bots
    POST /control/users      {first_name, language_code="vi", username, last_name, started=true}
    GET  /control/users/{user_id}
    POST /control/groups     {title, member_ids}         -> chat (negative id, type "group")
    POST /control/messages   {user_id, text, chat_id?, reply_to_message_id?}
    POST /control/documents  {user_id, filename, mime_type, content_b64 | declared_size, caption?,
                              media_group_id?, chat_id?}
    POST /control/photos     {user_id, content_b64, filename?, caption?, media_group_id?, chat_id?}
    POST /control/albums     {user_id, items: [{type, filename, mime_type, content_b64, caption}]}
    POST /control/edit       {user_id, message_id, text, chat_id?}   -> edited_message update
    POST /control/press      {user_id, message_id, button | callback_data | text, chat_id?}
    POST /control/block      {user_id, blocked=true}
    POST /control/flood      {enabled, global_per_second?, private_per_second?, private_burst?,
                              group_per_minute?}
    GET  /control/stats      POST /control/stats/reset
    GET  /control/chats/{chat_id}                 chat, started, blocked, current reply keyboard
    GET  /control/chats/{chat_id}/transcript      live messages, oldest first
    GET  /control/chats/{chat_id}/messages?after=MESSAGE_ID
    GET  /control/chats/{chat_id}/events?after=SEQ&timeout=S   long poll of chat events
    GET  /control/events?user_id=N (or chat_id=N) server-sent events; resumes from Last-Event-ID
    GET  /control/callbacks?chat_id=   GET /control/callbacks/{query_id}   answers to button presses
    GET  /control/commands?scope=JSON&language_code=   (without both: every stored menu)
    GET  /control/chat_actions?chat_id=
    GET  /control/files/{file_id}                 raw bytes, for the web chat to show files

Events are `{"seq", "kind": message|edited|deleted|callback_answer|chat_action, "bot_id", "chat_id",
"message"?, "from_bot"?, "message_id"?, "callback"?, "action"?, "reply_keyboard"?}`. CORS is open so a
browser page on another port can call these routes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from . import people
from .api import STATE_KEY
from .messages import image_size
from .people import ControlError
from .state import JSON, BotAccount, EmulatorState, scope_key

Body = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def ok(state: EmulatorState, result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result, "seq": state.event_seq}, dumps=_dumps)


def _int(value: Any, name: str, default: int | None = None) -> int:
    if value is None or value == "":
        if default is None:
            raise ControlError(f"{name} is required")
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ControlError(f"{name} must be an integer") from None


def _opt_int(value: Any, name: str) -> int | None:
    return None if value in (None, "") else _int(value, name)


async def _body(request: web.Request) -> Body:
    if not request.body_exists:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise ControlError("body must be JSON") from None
    if not isinstance(body, dict):
        raise ControlError("body must be a JSON object")
    return body


def _bot(request: web.Request, body: Body | None = None) -> BotAccount:
    state = request.app[STATE_KEY]
    ref = (body or {}).get("bot") or request.query.get("bot")
    bot = state.find_bot(ref, state.default_bot)
    if bot is None:
        raise ControlError(f"unknown bot {ref!r}", 404)
    return bot


def _bytes(body: Body) -> bytes | None:
    raw = body.get("content_b64")
    if raw is None:
        text = body.get("content")
        return text.encode() if isinstance(text, str) else None
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise ControlError("content_b64 is not valid base64") from None


Route = Callable[[web.Request, EmulatorState, Body], Awaitable[Any]]


def endpoint(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        state = request.app[STATE_KEY]
        try:
            body = await _body(request) if request.method == "POST" else {}
            return ok(state, await route(request, state, body))
        except ControlError as err:
            return web.json_response({"ok": False, "error": str(err)}, status=err.status, dumps=_dumps)

    return handler


# ---- accounts -----------------------------------------------------------------------------------


async def create_bot(request: web.Request, state: EmulatorState, body: Body) -> JSON:
    token = str(body.get("token") or "")
    head = token.split(":", 1)[0]
    if not head.isdigit() or ":" not in token:
        raise ControlError("token must look like '<digits>:<secret>'")
    bot = state.add_bot(
        token, str(body.get("username") or f"bot{head}_bot"), str(body.get("first_name") or "Bot")
    )
    return bot.get_me()


async def list_bots(request: web.Request, state: EmulatorState, body: Body) -> list[JSON]:
    return [b.get_me() for b in state.bots.values()]


async def create_user(request: web.Request, state: EmulatorState, body: Body) -> JSON:
    if not body.get("first_name"):
        raise ControlError("first_name is required")
    user = state.add_user(
        str(body["first_name"]),
        last_name=body.get("last_name"),
        username=body.get("username"),
        language_code=body.get("language_code", "vi"),
        user_id=_opt_int(body.get("user_id"), "user_id"),
    )
    user.starts_bots = bool(body.get("started", True))
    return user.as_dict()


async def get_user(request: web.Request, state: EmulatorState, body: Body) -> JSON:
    user = people.user_of(state, _int(request.match_info["user_id"], "user_id"))
    return {**user.as_dict(), "blocked_bot_ids": sorted(user.blocked_bots)}


async def create_group(request: web.Request, state: EmulatorState, body: Body) -> JSON:
    members = [_int(m, "member_ids") for m in body.get("member_ids", [])]
    for member in members:
        people.user_of(state, member)
    group = state.add_group(str(body.get("title") or "Group"), members, [_bot(request, body).id])
    return group.as_chat()


# ---- person actions -------------------------------------------------------------------------------


def _actor(request: web.Request, state: EmulatorState, body: Body) -> tuple[BotAccount, people.User, Any]:
    bot = _bot(request, body)
    user = people.user_of(state, _int(body.get("user_id"), "user_id"))
    conv = people.chat_of(state, bot, user, _opt_int(body.get("chat_id"), "chat_id"))
    return bot, user, conv


async def send_text(request: web.Request, state: EmulatorState, body: Body) -> JSON:
    bot, user, conv = _actor(request, state, body)
    reply_to = people.reply_target(conv, _opt_int(body.get("reply_to_message_id"), "reply_to_message_id"))
    return people.post(state, bot, user, conv, people.text_content(str(body.get("text") or ""), reply_to))


def _stored_file(state: EmulatorState, item: Body) -> tuple[str, Any]:
    kind = str(item.get("type") or "document")
    if kind not in ("document", "photo"):
        raise ControlError("type must be 'document' or 'photo'")
    content = _bytes(item)
    declared = _opt_int(item.get("declared_size"), "declared_size")
    if content is None and declared is None:
        raise ControlError("content_b64 or declared_size is required")
    if kind == "photo":
        width, height = 800, 600
        if content:
            with contextlib.suppress(Exception):
                width, height = image_size(content)
        name = str(item.get("filename") or "photo.jpg")
        stored = state.store_file(
            "photos", content, file_name=name, mime_type="image/jpeg", width=width, height=height
        )
    else:
        name = str(item.get("filename") or "file.bin")
        mime = str(item.get("mime_type") or item.get("mime") or "application/octet-stream")
        stored = state.store_file(
            "documents", content, file_name=name, mime_type=mime, declared_size=declared
        )
    return kind, stored


async def send_file(request: web.Request, state: EmulatorState, body: Body) -> JSON:
    bot, user, conv = _actor(request, state, body)
    if request.match_info.get("kind") == "photos":
        body = {**body, "type": "photo"}
    kind, stored = _stored_file(state, body)
    group = body.get("media_group_id")
    content = people.file_content(stored, kind, body.get("caption"), str(group) if group else None)
    return people.post(state, bot, user, conv, content)


async def send_album(request: web.Request, state: EmulatorState, body: Body) -> list[JSON]:
    bot, user, conv = _actor(request, state, body)
    items = body.get("items")
    if not isinstance(items, list) or not 2 <= len(items) <= 10:
        raise ControlError("items must be a list of 2..10 files")
    group = state.new_media_group_id()
    stored = [_stored_file(state, item) for item in items]
    return [
        people.post(state, bot, user, conv, people.file_content(s, kind, item.get("caption"), group))
        for (kind, s), item in zip(stored, items, strict=True)
    ]


async def edit_text(request: web.Request, state: EmulatorState, body: Body) -> JSON:
    bot, user, conv = _actor(request, state, body)
    return people.edit(
        state, bot, user, conv, _int(body.get("message_id"), "message_id"), str(body.get("text") or "")
    )


async def press_button(request: web.Request, state: EmulatorState, body: Body) -> JSON:
    bot, user, conv = _actor(request, state, body)
    data = body.get("callback_data")
    text = body.get("text")
    if body.get("button") is not None:
        data = text = str(body["button"])
    if data is None and text is None:
        raise ControlError("callback_data, text or button is required")
    record = people.press(state, bot, user, conv, _int(body.get("message_id"), "message_id"), data, text)
    return record.as_dict()


async def block(request: web.Request, state: EmulatorState, body: Body) -> JSON:
    bot = _bot(request, body)
    user = people.user_of(state, _int(body.get("user_id"), "user_id"))
    if body.get("blocked", True):
        user.blocked_bots.add(bot.id)
    else:
        user.blocked_bots.discard(bot.id)
    return {"user_id": user.id, "blocked": bot.id in user.blocked_bots}


async def flood(request: web.Request, state: EmulatorState, body: Body) -> JSON:
    limits = {k: v for k, v in body.items() if k != "enabled"}
    try:
        return state.flood.configure(bool(body.get("enabled", True)), **limits)
    except (TypeError, ValueError):
        raise ControlError("limits must be numbers") from None


# ---- reading ----------------------------------------------------------------------------------------


def _chat_id(request: web.Request) -> int:
    return _int(request.match_info["chat_id"], "chat_id")


def _conv(request: web.Request, state: EmulatorState) -> Any:
    bot = _bot(request)
    try:
        return bot, state.conversation(bot, _chat_id(request))
    except Exception:
        raise ControlError(f"unknown chat {request.match_info['chat_id']}", 404) from None


async def chat_info(request: web.Request, state: EmulatorState, body: Body) -> JSON:
    bot, conv = _conv(request, state)
    user = state.users.get(conv.chat["id"])
    return {
        "chat": conv.chat,
        "started": conv.started,
        "blocked": bool(user and bot.id in user.blocked_bots),
        "reply_keyboard": conv.reply_keyboard,
    }


async def transcript(request: web.Request, state: EmulatorState, body: Body) -> list[JSON]:
    bot, conv = _conv(request, state)
    return state.transcript(bot, conv.chat["id"])


async def messages_after(request: web.Request, state: EmulatorState, body: Body) -> list[JSON]:
    bot, conv = _conv(request, state)
    after = _int(request.query.get("after"), "after", 0)
    return [m for m in state.transcript(bot, conv.chat["id"]) if m["message_id"] > after]


async def poll_events(request: web.Request, state: EmulatorState, body: Body) -> list[JSON]:
    """Long poll for events in one chat after `after` (a seq), up to `timeout` seconds."""
    bot, conv = _conv(request, state)
    after = _int(request.query.get("after"), "after", 0)
    timeout = min(60.0, float(request.query.get("timeout") or 0))
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        pulse = state.pulse()
        events = state.events_after(bot.id, conv.chat["id"], after)
        remaining = deadline - asyncio.get_running_loop().time()
        if events or remaining <= 0 or state.closed:
            return events
        await state.wait(pulse, remaining)


async def callbacks(request: web.Request, state: EmulatorState, body: Body) -> list[JSON]:
    bot = _bot(request)
    chat = request.query.get("chat_id")
    return [
        c.as_dict()
        for c in state.callbacks.values()
        if c.bot_id == bot.id and (chat is None or str(c.chat_id) == chat)
    ]


async def callback(request: web.Request, state: EmulatorState, body: Body) -> JSON:
    record = state.callbacks.get(request.match_info["query_id"])
    if record is None:
        raise ControlError("unknown callback query", 404)
    return record.as_dict()


async def commands(request: web.Request, state: EmulatorState, body: Body) -> Any:
    bot = _bot(request)
    if "scope" in request.query or "language_code" in request.query:
        try:
            scope = json.loads(request.query.get("scope") or "null")
        except ValueError:
            raise ControlError("scope must be JSON") from None
        return bot.commands.get((scope_key(scope), request.query.get("language_code", "")), [])
    return [
        {"scope": json.loads(scope), "language_code": lang, "commands": cmds}
        for (scope, lang), cmds in bot.commands.items()
    ]


async def chat_actions(request: web.Request, state: EmulatorState, body: Body) -> list[JSON]:
    chat = request.query.get("chat_id")
    return [a for a in state.chat_actions if chat is None or str(a["chat_id"]) == chat]


async def stats(request: web.Request, state: EmulatorState, body: Body) -> JSON:
    return state.stats()


async def reset_stats(request: web.Request, state: EmulatorState, body: Body) -> JSON:
    state.calls.clear()
    state.counters.clear()
    return state.stats()


async def health(request: web.Request, state: EmulatorState, body: Body) -> JSON:
    return {"bots": len(state.bots), "users": len(state.users), "seq": state.event_seq}


async def download(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    stored = state.files.get(request.match_info["file_id"])
    if stored is None:
        return web.json_response({"ok": False, "error": "unknown file"}, status=404)
    headers = {"Content-Disposition": f'inline; filename="{stored.file_name or "file"}"'}
    return web.Response(
        body=stored.content or b"",
        content_type=stored.mime_type or "application/octet-stream",
        headers=headers,
    )


@web.middleware
async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The web chat may be served from another origin; the control API is a local dev tool."""
    if request.method == "OPTIONS" and request.path.startswith("/control/"):
        return web.Response(status=204)
    return await handler(request)


async def _cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    if request.path.startswith("/control/"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, Last-Event-ID"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"


async def events_stream(request: web.Request) -> web.StreamResponse:
    """Server-sent events for one chat (the web chat's live feed); resumes from Last-Event-ID."""
    state = request.app[STATE_KEY]
    try:
        bot = _bot(request)
        chat = request.query.get("chat_id") or request.query.get("user_id")
        chat_id = _int(chat, "user_id")
        state.conversation(bot, chat_id)
        after = _int(
            request.headers.get("Last-Event-ID") or request.query.get("after"), "after", state.event_seq
        )
    except ControlError as err:
        return web.json_response({"ok": False, "error": str(err)}, status=err.status)
    except Exception:
        return web.json_response({"ok": False, "error": "unknown chat"}, status=404)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    await response.write(b": connected\n\n")
    while not state.closed:
        pulse = state.pulse()
        events = state.events_after(bot.id, chat_id, after)
        for event in events:
            after = event["seq"]
            frame = f"id: {after}\nevent: {event['kind']}\ndata: {_dumps(event)}\n\n"
            await response.write(frame.encode())
        if not events:
            await state.wait(pulse, 15.0)
            if not state.events_after(bot.id, chat_id, after):
                await response.write(b": ping\n\n")
    return response


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/control/health", endpoint(health))
    r.add_post("/control/bots", endpoint(create_bot))
    r.add_get("/control/bots", endpoint(list_bots))
    r.add_post("/control/users", endpoint(create_user))
    r.add_get("/control/users/{user_id}", endpoint(get_user))
    r.add_post("/control/groups", endpoint(create_group))
    r.add_post("/control/messages", endpoint(send_text))
    r.add_post("/control/{kind:documents|photos}", endpoint(send_file))
    r.add_post("/control/albums", endpoint(send_album))
    r.add_post("/control/edit", endpoint(edit_text))
    r.add_post("/control/press", endpoint(press_button))
    r.add_post("/control/block", endpoint(block))
    r.add_post("/control/flood", endpoint(flood))
    r.add_get("/control/stats", endpoint(stats))
    r.add_post("/control/stats/reset", endpoint(reset_stats))
    r.add_get("/control/chats/{chat_id}", endpoint(chat_info))
    r.add_get("/control/chats/{chat_id}/transcript", endpoint(transcript))
    r.add_get("/control/chats/{chat_id}/messages", endpoint(messages_after))
    r.add_get("/control/chats/{chat_id}/events", endpoint(poll_events))
    r.add_get("/control/callbacks", endpoint(callbacks))
    r.add_get("/control/callbacks/{query_id}", endpoint(callback))
    r.add_get("/control/commands", endpoint(commands))
    r.add_get("/control/chat_actions", endpoint(chat_actions))
    r.add_get("/control/files/{file_id}", download)
    r.add_get("/control/events", events_stream)
    app.on_response_prepare.append(_cors_headers)
