"""What people do in chats, turned into messages and updates exactly as Telegram would deliver them.

Kept apart from the HTTP control routes so that tests holding an `Emulator` can act directly on the
state, and the web chat and `EmulatorClient` go through the same rules over HTTP.
"""

from __future__ import annotations

import time

from .errors import ApiError
from .state import JSON, BotAccount, CallbackRecord, Conversation, EmulatorState, StoredFile, User, now_ts


class ControlError(Exception):
    """A refused person action: the control API answers it as `{"ok": false, "error": ...}`."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def user_of(state: EmulatorState, user_id: int) -> User:
    user = state.users.get(user_id)
    if user is None:
        raise ControlError(f"unknown user {user_id}", 404)
    return user


def chat_of(state: EmulatorState, bot: BotAccount, user: User, chat_id: int | None) -> Conversation:
    target = user.id if chat_id is None else chat_id
    try:
        conv = state.conversation(bot, target)
    except ApiError:
        raise ControlError(f"unknown chat {target} for bot @{bot.username}", 404) from None
    if conv.private and target != user.id:
        raise ControlError(f"user {user.id} is not in private chat {target}")
    if not conv.private and user.id not in state.groups[target].member_ids:
        raise ControlError(f"user {user.id} is not a member of group {target}")
    return conv


def post(state: EmulatorState, bot: BotAccount, user: User, conv: Conversation, content: JSON) -> JSON:
    """A person writes: the chat counts as started and the bot gets a `message` update."""
    if conv.private:
        conv.started = True
        user.blocked_bots.discard(bot.id)
    message = state.add_message(bot, conv, user.as_dict(), content, from_bot=False)
    state.enqueue_update(bot, "message", message)
    return message


def text_content(text: str, reply_to: JSON | None = None) -> JSON:
    if not text:
        raise ControlError("text is empty")
    content: JSON = {"text": text}
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": _utf16(command)}]
    if reply_to is not None:
        content["reply_to_message"] = {k: v for k, v in reply_to.items() if k != "reply_to_message"}
    return content


def reply_target(conv: Conversation, message_id: int | None) -> JSON | None:
    if message_id is None:
        return None
    message = conv.live(message_id)
    if message is None:
        raise ControlError(f"message {message_id} not found in chat {conv.chat['id']}")
    return message


def file_content(stored: StoredFile, kind: str, caption: str | None, media_group_id: str | None) -> JSON:
    ids = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_size": stored.size}
    content: JSON
    if kind == "photo":
        content = {"photo": [{**ids, "width": stored.width, "height": stored.height}]}
    else:
        doc: JSON = dict(ids)
        if stored.file_name:
            doc["file_name"] = stored.file_name
        if stored.mime_type:
            doc["mime_type"] = stored.mime_type
        content = {"document": doc}
    if caption:
        content["caption"] = caption
    if media_group_id:
        content["media_group_id"] = media_group_id
    return content


def edit(
    state: EmulatorState, bot: BotAccount, user: User, conv: Conversation, message_id: int, text: str
) -> JSON:
    old = conv.live(message_id)
    if old is None:
        raise ControlError(f"message {message_id} not found")
    if old["from"]["id"] != user.id:
        raise ControlError("a person can only edit their own messages")
    if "text" not in old:
        raise ControlError("only text messages can be edited")
    if not text:
        raise ControlError("text is empty")
    new = {k: v for k, v in old.items() if k != "entities"}
    new.update(text_content(text))
    new["edit_date"] = now_ts()
    conv.messages[message_id] = new
    state.emit(bot, conv, "edited", new, from_bot=False)
    state.enqueue_update(bot, "edited_message", new)
    return new


def buttons(message: JSON) -> list[JSON]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def press(
    state: EmulatorState,
    bot: BotAccount,
    user: User,
    conv: Conversation,
    message_id: int,
    callback_data: str | None,
    text: str | None,
) -> CallbackRecord:
    """Press a button that is really on the bot's message now; anything else is refused."""
    message = conv.live(message_id)
    if message is None:
        raise ControlError(f"message {message_id} not found in chat {conv.chat['id']}")
    if message["from"]["id"] != bot.id:
        raise ControlError(f"message {message_id} was not sent by the bot")
    available = buttons(message)
    found = None
    if callback_data is not None:
        found = next((b for b in available if b.get("callback_data") == callback_data), None)
    if found is None and text is not None:
        found = next((b for b in available if b.get("text") == text), None)
    if found is None:
        shown = [(b.get("text"), b.get("callback_data")) for b in available]
        wanted = callback_data if callback_data is not None else text
        raise ControlError(f"no button {wanted!r} on message {message_id}; buttons: {shown}")
    if "callback_data" not in found:
        raise ControlError(f"button {found.get('text')!r} has no callback_data (not a callback button)")
    if conv.private:
        user.blocked_bots.discard(bot.id)
    record = CallbackRecord(
        id=state.new_callback_id(),
        bot_id=bot.id,
        user_id=user.id,
        chat_id=conv.chat["id"],
        message_id=message_id,
        data=str(found["callback_data"]),
        pressed_at=time.monotonic(),
    )
    state.callbacks[record.id] = record
    state.enqueue_update(
        bot,
        "callback_query",
        {
            "id": record.id,
            "from": user.as_dict(),
            "message": message,
            "chat_instance": str(abs(conv.chat["id"]) * 31 + bot.id),
            "data": record.data,
        },
    )
    return record
