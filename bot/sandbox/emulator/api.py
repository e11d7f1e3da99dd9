"""HTTP routes of the Bot API: `/bot{token}/{method}` and `/file/bot{token}/{file_path}`.

Requests are decoded the way Telegram accepts them (query string, JSON, urlencoded, multipart with
file parts) and every failure is answered in Bot API shape with the real status code, because aiogram
chooses its exception class from the status and keeps the description.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from .context import Ctx
from .errors import ApiError
from .methods import METHODS
from .params import Params, Upload
from .state import BotAccount, EmulatorState

log = logging.getLogger(__name__)
STATE_KEY = web.AppKey("emulator_state", EmulatorState)
MAX_UPLOAD = 50 * 1024 * 1024


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def api_error(err: ApiError) -> web.Response:
    return web.json_response(err.payload(), status=err.code)


async def read_params(request: web.Request) -> Params:
    raw: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.method != "POST" or not request.body_exists:
        return Params(raw)
    if request.content_length and request.content_length > MAX_UPLOAD + 1024 * 1024:
        raise ApiError(413, "Request Entity Too Large")
    try:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                raw.update(body)
            return Params(raw)
        form = await request.post()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "Request Entity Too Large") from None
    except ValueError:
        raise ApiError(400, "Bad Request: can't parse request body") from None
    for key, value in form.items():
        if isinstance(value, web.FileField):
            # aiohttp percent-encodes non-ASCII file names; Telegram shows them decoded.
            name = unquote(value.filename) if value.filename else key
            uploads[key] = Upload(name, value.file.read(), value.content_type)
        elif isinstance(value, str):
            raw[key] = value
        else:
            raw[key] = bytes(value).decode("utf-8", "replace")
    return Params(raw, uploads)


def find_bot(state: EmulatorState, token: str) -> BotAccount:
    bot = state.bots.get(token)
    if bot is None:
        raise ApiError(401, "Unauthorized")
    return bot


async def handle_method(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    method = request.match_info["method"]
    try:
        bot = find_bot(state, request.match_info["token"])
        handler = METHODS.get(method.lower())
        state.calls[method] += 1
        if handler is None:
            raise ApiError(404, "Not Found")
        params = await read_params(request)
        result = await handler(Ctx(state, bot, params))
    except ApiError as err:
        if err.code == 400:
            state.counters["bad_requests"] += 1
        log.debug("%s -> %s %s", method, err.code, err.description)
        return api_error(err)
    return web.json_response({"ok": True, "result": result}, dumps=_dumps)


async def handle_file(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    if request.match_info["token"] not in state.bots:
        return api_error(ApiError(401, "Unauthorized"))
    stored = state.file_by_path(request.match_info["path"])
    if stored is None or stored.size > 20 * 1024 * 1024:
        return api_error(ApiError(404, "Not Found"))
    return web.Response(
        body=stored.content or b"",
        content_type=stored.mime_type or "application/octet-stream",
    )


def add_routes(app: web.Application) -> None:
    app.router.add_route("*", "/bot{token}/{method}", handle_method)
    app.router.add_get("/file/bot{token}/{path:.+}", handle_file)
