"""Shared pieces of the appraisal-cycle screens (appraiser, unit replies, secretariat): the refusal
guard that answers with one sentence and re-renders the current screen, and evidence re-sending.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiogram import Bot
from aiogram.types import (
    CallbackQuery,
    InputMediaDocument,
    InputMediaPhoto,
    Message,
)
from aiogram.utils.i18n import gettext as _

from bot.db.models import Evidence, EvidenceKind, EvidenceRound
from bot.handlers.officer.screens import show as show
from bot.scoring.numbers import InputError
from bot.services.errors import ServiceError
from bot.ui.errors import error_text, register_error_messages
from bot.ui.officer_view import input_error_text
from bot.ui.text import N_, esc

log = logging.getLogger("bot.cycle")

register_error_messages(
    {
        "stage_closed": N_("This stage is closed: the {year} period is now at “{status}”."),
        "first_round_only": N_("This is only possible in the first appraisal round."),
        "final_round_only": N_("This is only possible in the final appraisal round."),
        "nothing_to_keep": N_("There is no first-round result to keep; accept or adjust the item."),
        "not_na": N_("The unit did not claim “not applicable” for this item."),
        "note_required": N_("Please write what the unit should add."),
        "reason_required": N_("Please give a reason."),
        "reply_closed": N_("This item cannot be answered now (the stage or its deadline is over)."),
        "reply_required": N_("Please write your explanation."),
        "nothing_appraised": N_("Nothing of your unit has been appraised yet."),
        "wrong_stage": N_("The {year} period is at “{status}”: it cannot move to “{target}” now."),
        "undecided": N_("{count} item(s) still have no appraisal decision (first: {first})."),
        "no_survey": N_("The {year} period has no survey component."),
        "not_survey": N_("{item} is not a survey item."),
    }
)

Rerender = Callable[[CallbackQuery | Message, dict[str, Any]], Awaitable[None]]
Handler = Callable[..., Awaitable[Any]]


def edit_target(event: CallbackQuery | Message) -> Message | None:
    if isinstance(event, CallbackQuery) and isinstance(event.message, Message):
        return event.message
    return None


def chat_of(event: CallbackQuery | Message) -> int:
    return event.from_user.id if event.from_user else 0


def guarded(rerender: Rerender | None = None) -> Callable[[Handler], Handler]:
    """Refusals (a forged or stale button, a closed stage, a missing reason) become one sentence in
    the person's language, then the current screen is shown again so they can go on."""

    def decorate(fn: Handler) -> Handler:
        wanted = set(inspect.signature(fn).parameters)

        async def wrapper(event: CallbackQuery | Message, **kwargs: Any) -> Any:
            bot: Bot = kwargs["bot"]
            try:
                return await fn(event, **{k: v for k, v in kwargs.items() if k in wanted})
            except InputError as exc:
                await bot.send_message(chat_of(event), input_error_text(exc, kwargs["locale"]))
            except ServiceError as exc:
                log.info("%s refused: %s", fn.__name__, exc.code)
                await bot.send_message(chat_of(event), "⚠️ " + error_text(exc))
                if rerender is not None:
                    try:
                        await kwargs["session"].rollback()
                        await rerender(event, kwargs)
                    except ServiceError:
                        pass
            return None

        # No functools.wraps: aiogram would read __wrapped__'s signature and pass fewer kwargs.
        wrapper.__name__ = fn.__name__
        wrapper.__qualname__ = fn.__qualname__
        wrapper.__doc__ = fn.__doc__
        return wrapper

    return decorate


async def send_evidence(bot: Bot, chat_id: int, rows: Sequence[Evidence]) -> int:
    """Re-send evidence by file_id: albums as media groups (photos and documents apart, as Telegram
    requires), single files one by one with their name and round as caption. Returns messages sent."""
    sent = 0
    groups: dict[tuple[str, str], list[Evidence]] = {}
    singles: list[Evidence] = []
    for row in rows:
        if row.media_group_id:
            groups.setdefault((row.media_group_id, row.kind), []).append(row)
        else:
            singles.append(row)
    for (_album, kind), members in groups.items():
        if len(members) == 1:
            singles.append(members[0])
            continue
        for start in range(0, len(members), 10):
            chunk = members[start : start + 10]
            media: list[InputMediaPhoto | InputMediaDocument] = [
                InputMediaPhoto(media=r.file_id, caption=_caption(r))
                if kind == EvidenceKind.PHOTO.value
                else InputMediaDocument(media=r.file_id, caption=_caption(r))
                for r in chunk
            ]
            await bot.send_media_group(chat_id, media=media)  # type: ignore[arg-type]
            sent += 1
    for row in singles:
        if row.kind == EvidenceKind.PHOTO.value:
            await bot.send_photo(chat_id, row.file_id, caption=_caption(row))
        else:
            await bot.send_document(chat_id, row.file_id, caption=_caption(row))
        sent += 1
    return sent


def _caption(row: Evidence) -> str:
    name = esc(row.file_name or row.kind)
    if row.round == EvidenceRound.SUPPLEMENT.value:
        return _("📎 {name} (supplement)").format(name=name)
    return f"📎 {name}"


__all__ = ["chat_of", "edit_target", "guarded", "send_evidence", "show"]
