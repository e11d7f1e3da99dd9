"""Bot API methods other than message sending, and the table mapping method names to handlers."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from . import messages
from .context import Ctx
from .errors import POLL_CONFLICT, QUERY_TOO_OLD, WEBHOOK_ACTIVE, ApiError, bad_request
from .state import JSON, now_ts, scope_key

GET_FILE_LIMIT = 20 * 1024 * 1024
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")


async def get_me(ctx: Ctx) -> JSON:
    return ctx.bot.get_me()


async def get_updates(ctx: Ctx) -> list[JSON]:
    """Long polling: confirm by offset, wait up to `timeout` seconds, wake as soon as an update lands."""
    state, bot, params = ctx.state, ctx.bot, ctx.params
    if bot.webhook_url:
        raise ApiError(409, WEBHOOK_ACTIVE)
    limit = max(1, min(100, params.get_int("limit", 100) or 100))
    timeout = max(0, min(50, params.get_int("timeout", 0) or 0))
    allowed = params.get_json("allowed_updates")
    if isinstance(allowed, list):
        bot.allowed_updates = [str(a) for a in allowed]
    state.confirm_updates(bot, params.get_int("offset"))
    bot.poll_generation += 1
    generation = bot.poll_generation
    deadline = time.monotonic() + timeout
    while True:
        pulse = state.pulse()
        if bot.poll_generation != generation:
            raise ApiError(409, POLL_CONFLICT)
        if bot.webhook_url:
            raise ApiError(409, WEBHOOK_ACTIVE)
        state.drop_unwanted(bot)
        if bot.updates or state.closed:
            return list(bot.updates)[:limit]
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return []
        await state.wait(pulse, remaining)


def _webhook_url_ok(url: str) -> bool:
    if url.startswith("https://"):
        return True
    return url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))


async def set_webhook(ctx: Ctx) -> bool:
    bot, params = ctx.bot, ctx.params
    url = params.get_str("url") or ""
    if url and not _webhook_url_ok(url):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = params.get_str("secret_token")
    if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise bad_request("secret token contains unallowed characters")
    if params.get_bool("drop_pending_updates"):
        bot.updates.clear()
    allowed = params.get_json("allowed_updates")
    if isinstance(allowed, list):
        bot.allowed_updates = [str(a) for a in allowed]
    bot.webhook_url = url or None
    bot.webhook_secret = secret or None
    bot.webhook_last_error = None
    ctx.state.notify()
    return True


async def delete_webhook(ctx: Ctx) -> bool:
    ctx.bot.webhook_url = None
    ctx.bot.webhook_secret = None
    if ctx.params.get_bool("drop_pending_updates"):
        ctx.bot.updates.clear()
    ctx.state.notify()
    return True


async def get_webhook_info(ctx: Ctx) -> JSON:
    bot = ctx.bot
    info: JSON = {
        "url": bot.webhook_url or "",
        "has_custom_certificate": False,
        "pending_update_count": len(bot.updates),
    }
    if bot.webhook_url:
        info["max_connections"] = 40
        if bot.allowed_updates is not None:
            info["allowed_updates"] = bot.allowed_updates
        if bot.webhook_last_error:
            info["last_error_message"] = bot.webhook_last_error
            info["last_error_date"] = bot.webhook_last_error_date or now_ts()
    return info


async def answer_callback_query(ctx: Ctx) -> bool:
    """Each query can be answered once; a second answer fails like an expired one on Telegram."""
    query_id = ctx.params.get_str("callback_query_id") or ""
    record = ctx.state.callbacks.get(query_id)
    if record is None or record.answered or record.bot_id != ctx.bot.id:
        raise bad_request(QUERY_TOO_OLD.removeprefix("Bad Request: "))
    text = ctx.params.get_str("text")
    if text and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    record.answered = True
    record.answered_at = time.monotonic()
    record.text = text
    record.show_alert = ctx.params.get_bool("show_alert")
    record.url = ctx.params.get_str("url")
    conv = ctx.state.conversations.get((ctx.bot.id, record.chat_id))
    if conv is not None:
        ctx.state.emit(ctx.bot, conv, "callback_answer", None, callback=record.as_dict())
    return True


async def get_file(ctx: Ctx) -> JSON:
    stored = ctx.state.files.get(ctx.params.get_str("file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.size > GET_FILE_LIMIT:
        raise bad_request("file is too big")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "file_path": stored.file_path,
    }


def _commands_key(ctx: Ctx) -> tuple[str, str]:
    scope = ctx.params.get_json("scope")
    return scope_key(scope if isinstance(scope, dict) else None), ctx.params.get_str("language_code") or ""


async def set_my_commands(ctx: Ctx) -> bool:
    commands = ctx.params.get_json("commands")
    if not isinstance(commands, list):
        raise bad_request("commands must be an Array")
    if len(commands) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    cleaned: list[JSON] = []
    for item in commands:
        command = str(item.get("command", "")) if isinstance(item, dict) else ""
        description = str(item.get("description", "")) if isinstance(item, dict) else ""
        if not _COMMAND.match(command.lstrip("/")):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        cleaned.append({"command": command.lstrip("/"), "description": description})
    ctx.bot.commands[_commands_key(ctx)] = cleaned
    return True


async def get_my_commands(ctx: Ctx) -> list[JSON]:
    return ctx.bot.commands.get(_commands_key(ctx), [])


async def delete_my_commands(ctx: Ctx) -> bool:
    ctx.bot.commands.pop(_commands_key(ctx), None)
    return True


async def send_chat_action(ctx: Ctx) -> bool:
    conv = ctx.state.writable(ctx.bot, ctx.params.chat_id())
    action = ctx.params.get_str("action") or ""
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    record = {"bot_id": ctx.bot.id, "chat_id": conv.chat["id"], "action": action, "date": now_ts()}
    ctx.state.chat_actions.append(record)
    ctx.state.emit(ctx.bot, conv, "chat_action", None, action=action)
    return True


async def log_out(ctx: Ctx) -> bool:
    return True


Handler = Callable[[Ctx], Awaitable[Any]]

METHODS: dict[str, Handler] = {
    "getme": get_me,
    "getupdates": get_updates,
    "setwebhook": set_webhook,
    "deletewebhook": delete_webhook,
    "getwebhookinfo": get_webhook_info,
    "sendmessage": messages.send_message,
    "editmessagetext": messages.edit_message_text,
    "editmessagecaption": messages.edit_message_caption,
    "editmessagereplymarkup": messages.edit_message_reply_markup,
    "deletemessage": messages.delete_message,
    "deletemessages": messages.delete_messages,
    "senddocument": messages.send_document,
    "sendphoto": messages.send_photo,
    "sendmediagroup": messages.send_media_group,
    "answercallbackquery": answer_callback_query,
    "getfile": get_file,
    "setmycommands": set_my_commands,
    "getmycommands": get_my_commands,
    "deletemycommands": delete_my_commands,
    "sendchataction": send_chat_action,
    "logout": log_out,
    "close": log_out,
}
