"""Bot API methods that create, change or remove messages, with Telegram's limits and wording.

The checks run in Telegram's order (chat, content, flood) so that a request rejected for its content
never consumes flood budget, and stored messages are replaced, never mutated, so past events keep what
a person saw at that moment.
"""

from __future__ import annotations

import io
import mimetypes
from typing import Any

from .context import Ctx
from .errors import NOT_MODIFIED, ApiError, bad_request, too_many_requests
from .html_parse import parse_html
from .params import Upload
from .state import JSON, Conversation, StoredFile, now_ts

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
TEXT_BUTTON_UNALLOWED = (
    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
)
MEDIA_TYPES = {"photo", "document", "video", "audio"}


def formatted(ctx: Ctx, text: str | None, *, mode_field: str, entities_field: str) -> tuple[str, list[JSON]]:
    """Apply parse_mode: HTML is parsed strictly; Markdown modes are passed through unparsed."""
    text = text or ""
    mode = (ctx.params.get_str(mode_field) or "").lower()
    if mode == "html":
        return parse_html(text)
    entities = ctx.params.get_json(entities_field) or []
    return text, list(entities)


def message_text(ctx: Ctx) -> tuple[str, list[JSON]]:
    raw = ctx.params.get_str("text")
    if not raw or not raw.strip():
        raise bad_request("message text is empty")
    text, entities = formatted(ctx, raw, mode_field="parse_mode", entities_field="entities")
    if not text.strip():
        raise bad_request("message text is empty")
    if len(text) > TEXT_LIMIT:
        raise bad_request("message is too long")
    return text, entities


def make_caption(raw: str | None, mode: str | None, entities: Any) -> JSON:
    """Captions follow the text rules with a 1024-character limit."""
    if not raw:
        return {}
    if (mode or "").lower() == "html":
        text, parsed = parse_html(raw)
    else:
        text, parsed = raw, list(entities or [])
    if len(text) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    out: JSON = {"caption": text}
    if parsed:
        out["caption_entities"] = parsed
    return out


def caption(ctx: Ctx) -> JSON:
    p = ctx.params
    return make_caption(p.get_str("caption"), p.get_str("parse_mode"), p.get_json("caption_entities"))


def check_markup(markup: Any) -> JSON | None:
    """Validate reply_markup; return it if it is an inline keyboard (the only kind a message shows)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request('can\'t parse inline keyboard button: field "inline_keyboard" must be an Array')
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise bad_request("BUTTON_TEXT_INVALID")
                actions = set(button) - {"text", "style", "icon_custom_emoji_id"}
                if not actions:
                    raise bad_request(TEXT_BUTTON_UNALLOWED)
                if "callback_data" in button:
                    size = len(str(button["callback_data"]).encode("utf-8"))
                    if not 1 <= size <= CALLBACK_DATA_LIMIT:
                        raise bad_request("BUTTON_DATA_INVALID")
                if "url" in button and not str(button["url"]).strip():
                    raise bad_request("BUTTON_URL_INVALID")
        return markup if any(rows) else None
    if "keyboard" in markup:
        for row in markup["keyboard"]:
            for button in row:
                label = button.get("text") if isinstance(button, dict) else button
                if not label:
                    raise bad_request("BUTTON_TEXT_INVALID")
    return None


def apply_reply_keyboard(conv: Conversation, markup: Any) -> None:
    if isinstance(markup, dict):
        if "keyboard" in markup:
            conv.reply_keyboard = markup
        elif markup.get("remove_keyboard"):
            conv.reply_keyboard = None


def flood_check(ctx: Ctx, conv: Conversation) -> None:
    retry = ctx.state.flood.check(ctx.bot.id, conv.chat["id"], conv.private)
    if retry is not None:
        ctx.state.counters["too_many_requests"] += 1
        raise too_many_requests(retry)


def reply_part(ctx: Ctx, conv: Conversation) -> JSON:
    params = ctx.params
    target = params.get_int("reply_to_message_id")
    allow_missing = params.get_bool("allow_sending_without_reply")
    reply = params.get_json("reply_parameters")
    if isinstance(reply, dict) and reply.get("message_id"):
        target = int(reply["message_id"])
        allow_missing = allow_missing or bool(reply.get("allow_sending_without_reply"))
    if not target:
        return {}
    original = conv.live(target)
    if original is None:
        if allow_missing:
            return {}
        raise bad_request("message to be replied not found")
    return {"reply_to_message": {k: v for k, v in original.items() if k != "reply_to_message"}}


def post(ctx: Ctx, conv: Conversation, content: JSON, *, check_flood: bool = True) -> JSON:
    markup_raw = ctx.params.get_json("reply_markup", "reply keyboard markup")
    inline = check_markup(markup_raw)
    reply = reply_part(ctx, conv)
    if check_flood:
        flood_check(ctx, conv)
    apply_reply_keyboard(conv, markup_raw)
    body = {**reply, **content}
    if inline is not None:
        body["reply_markup"] = inline
    return ctx.state.add_message(ctx.bot, conv, ctx.bot.as_user(), body, from_bot=True)


async def send_message(ctx: Ctx) -> JSON:
    conv = ctx.state.writable(ctx.bot, ctx.params.chat_id())
    text, entities = message_text(ctx)
    content: JSON = {"text": text}
    if entities:
        content["entities"] = entities
    preview = ctx.params.get_json("link_preview_options")
    if isinstance(preview, dict) and preview:
        content["link_preview_options"] = preview
    return post(ctx, conv, content)


# ---- files ---------------------------------------------------------------------------------------


def image_size(content: bytes) -> tuple[int, int]:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(content)) as img:
            return int(img.size[0]), int(img.size[1])
    except Exception:
        raise bad_request("IMAGE_PROCESS_FAILED") from None


def store_upload(ctx: Ctx, upload: Upload, kind: str) -> StoredFile:
    if not upload.content:
        raise bad_request("file must be non-empty")
    mime = upload.content_type
    if not mime or mime == "application/octet-stream":
        mime = mimetypes.guess_type(upload.filename)[0] or "application/octet-stream"
    width = height = 0
    if kind == "photos":
        width, height = image_size(upload.content)
    return ctx.state.store_file(
        kind, upload.content, file_name=upload.filename, mime_type=mime, width=width, height=height
    )


def resolve_file(ctx: Ctx, value: Any, field: str, kind: str) -> StoredFile:
    """An InputFile is an upload ("attach://name" or a part named after the field), a URL or a file_id."""
    uploads = ctx.params.uploads
    if isinstance(value, str) and value.startswith("attach://"):
        upload = uploads.get(value.removeprefix("attach://"))
        if upload is None:
            raise bad_request(f"there is no {field} in the request")
        return store_upload(ctx, upload, kind)
    if field in uploads and not value:
        return store_upload(ctx, uploads[field], kind)
    if not value or not isinstance(value, str):
        raise bad_request(f"there is no {field} in the request")
    if value.startswith(("http://", "https://")):
        raise bad_request("failed to get HTTP URL content")
    stored = ctx.state.files.get(value)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if (kind == "photos") != (stored.kind == "photos"):
        raise bad_request("type of file mismatch")
    return stored


def file_content(stored: StoredFile, kind: str) -> JSON:
    ids = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_size": stored.size}
    if kind == "photo":
        return {"photo": [{**ids, "width": stored.width, "height": stored.height}]}
    body: JSON = dict(ids)
    if stored.file_name:
        body["file_name"] = stored.file_name
    if stored.mime_type:
        body["mime_type"] = stored.mime_type
    return {kind: body}


async def send_document(ctx: Ctx) -> JSON:
    conv = ctx.state.writable(ctx.bot, ctx.params.chat_id())
    stored = resolve_file(ctx, ctx.params.raw.get("document"), "document", "documents")
    return post(ctx, conv, {**file_content(stored, "document"), **caption(ctx)})


async def send_photo(ctx: Ctx) -> JSON:
    conv = ctx.state.writable(ctx.bot, ctx.params.chat_id())
    stored = resolve_file(ctx, ctx.params.raw.get("photo"), "photo", "photos")
    return post(ctx, conv, {**file_content(stored, "photo"), **caption(ctx)})


async def send_media_group(ctx: Ctx) -> list[JSON]:
    conv = ctx.state.writable(ctx.bot, ctx.params.chat_id())
    media = ctx.params.get_json("media")
    if not isinstance(media, list) or not media:
        raise bad_request("media is empty")
    if len(media) > 10:
        raise bad_request("too much messages to send as an album")
    if len(media) < 2:
        raise bad_request("MEDIA_GROUP_INVALID")
    types = {item.get("type") for item in media if isinstance(item, dict)}
    if not types <= MEDIA_TYPES or len(media) != sum(isinstance(i, dict) for i in media):
        raise bad_request("can't parse InputMedia: unsupported media type")
    if len(types) > 1 and types & {"document", "audio"}:
        raise bad_request("documents and audio can't be mixed with other media types")
    contents: list[JSON] = []
    for item in media:
        kind = str(item["type"])
        stored = resolve_file(ctx, item.get("media"), kind, "photos" if kind == "photo" else f"{kind}s")
        item_caption = make_caption(
            str(item.get("caption") or ""), item.get("parse_mode"), item.get("caption_entities")
        )
        contents.append({**file_content(stored, kind), **item_caption})
    reply = reply_part(ctx, conv)
    flood_check(ctx, conv)
    group_id = ctx.state.new_media_group_id()
    return [
        ctx.state.add_message(
            ctx.bot, conv, ctx.bot.as_user(), {**reply, "media_group_id": group_id, **c}, from_bot=True
        )
        for c in contents
    ]


# ---- edits and deletions -------------------------------------------------------------------------


def editable(ctx: Ctx) -> tuple[Conversation, JSON]:
    if ctx.params.has("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    conv = ctx.state.writable(ctx.bot, ctx.params.chat_id())
    message = conv.live(ctx.params.req_int("message_id"))
    if message is None:
        raise bad_request("message to edit not found")
    if message["from"]["id"] != ctx.bot.id:
        raise bad_request("message can't be edited")
    return conv, message


def replace(ctx: Ctx, conv: Conversation, old: JSON, changes: JSON) -> JSON:
    flood_check(ctx, conv)
    new = {k: v for k, v in {**old, **changes, "edit_date": now_ts()}.items() if v is not None}
    conv.messages[new["message_id"]] = new
    ctx.state.emit(ctx.bot, conv, "edited", new, from_bot=True)
    return new


def _new_markup(ctx: Ctx) -> JSON | None:
    return check_markup(ctx.params.get_json("reply_markup", "reply keyboard markup"))


async def edit_message_text(ctx: Ctx) -> JSON:
    conv, old = editable(ctx)
    if "text" not in old:
        raise bad_request("there is no text in the message to edit")
    text, entities = message_text(ctx)
    markup = _new_markup(ctx)
    if text == old["text"] and entities == old.get("entities", []) and markup == old.get("reply_markup"):
        raise ApiError(400, NOT_MODIFIED)
    return replace(ctx, conv, old, {"text": text, "entities": entities or None, "reply_markup": markup})


async def edit_message_caption(ctx: Ctx) -> JSON:
    conv, old = editable(ctx)
    if not ({"document", "photo", "video", "audio"} & set(old)):
        raise bad_request("there is no caption in the message to edit")
    new_caption = caption(ctx)
    markup = _new_markup(ctx)
    if (
        new_caption.get("caption") == old.get("caption")
        and new_caption.get("caption_entities") == old.get("caption_entities")
        and markup == old.get("reply_markup")
    ):
        raise ApiError(400, NOT_MODIFIED)
    changes: JSON = {"caption": None, "caption_entities": None, **new_caption, "reply_markup": markup}
    return replace(ctx, conv, old, changes)


async def edit_message_reply_markup(ctx: Ctx) -> JSON:
    conv, old = editable(ctx)
    markup = _new_markup(ctx)
    if markup == old.get("reply_markup"):
        raise ApiError(400, NOT_MODIFIED)
    return replace(ctx, conv, old, {"reply_markup": markup})


def _delete(ctx: Ctx, conv: Conversation, message_id: int) -> bool:
    message = conv.live(message_id)
    if message is None:
        return False
    if not conv.private and message["from"]["id"] != ctx.bot.id:
        raise bad_request("message can't be deleted")
    conv.deleted.add(message_id)
    ctx.state.emit(ctx.bot, conv, "deleted", None, message_id=message_id)
    return True


async def delete_message(ctx: Ctx) -> bool:
    conv = ctx.state.conversation(ctx.bot, ctx.params.chat_id())
    if not _delete(ctx, conv, ctx.params.req_int("message_id")):
        raise bad_request("message to delete not found")
    return True


async def delete_messages(ctx: Ctx) -> bool:
    conv = ctx.state.conversation(ctx.bot, ctx.params.chat_id())
    ids = ctx.params.get_json("message_ids") or []
    for message_id in ids:
        _delete(ctx, conv, int(message_id))
    return True
