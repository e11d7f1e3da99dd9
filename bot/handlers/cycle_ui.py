"""Shared pieces of the appraisal-cycle screens (appraiser, unit replies, secretariat): the sentences
for their refusals, and evidence re-sending."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import Bot
from aiogram.types import InputMediaDocument, InputMediaPhoto
from aiogram.utils.i18n import gettext as _

from bot.db.models import Evidence, EvidenceKind, EvidenceRound
from bot.text import N_, esc
from bot.ui.errors import register_error_messages

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
