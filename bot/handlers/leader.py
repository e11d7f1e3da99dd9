"""Leaders and the secretariat: /rank, /unit and /awards (SPEC §5); the leader's /progress is in
bot/handlers/leader_progress.py.

Thin: parse, call the leader services, render with bot.ui.leader_view. Refusals raised by the
services (ServiceError) become one sentence through the error middleware.
"""

from __future__ import annotations

import asyncio

from aiogram import Bot, Router
from aiogram.enums import ChatAction
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, InputMediaPhoto, Message
from aiogram.types.media_union import MediaUnion
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handlers.screen import edit_target, show
from bot.services import leader as svc
from bot.services import leader_reports as reports
from bot.services.actor import Actor
from bot.services.unit_search import CLEAR_SCORE, search_units
from bot.text import N_, esc
from bot.ui import leader_kb as kb
from bot.ui import leader_view as view
from bot.ui.errors import register_error_messages

router = Router(name="leader")

_VIEW = [
    ("rank", N_("Ranking of a group: index, class, change since last year")),
    ("unit", N_("One unit's results: fields, gaps, charts")),
    ("awards", N_("Units eligible for commendation")),
]
COMMANDS: dict[str, list[tuple[str, str]]] = {
    "leader": list(_VIEW),
    "secretariat": list(_VIEW),
    "officer": [("unit", N_("Your unit's results by field, and what lost points"))],
    "unit_head": [("unit", N_("Your unit's results by field, and what lost points"))],
}

register_error_messages(
    {
        "no_results": N_("There are no results for {unit} yet."),
        "group_unknown": N_("There is no group “{key}”. Send /rank without a name to choose one."),
    }
)

REFUSAL = N_(
    "Rankings and reports are for the provincial leaders and the secretariat. "
    "You can see your own unit's results with /unit."
)


async def _refuse(bot: Bot, chat_id: int) -> None:
    await bot.send_message(chat_id, _(REFUSAL))


# ----------------------------------------------------------------------------- /rank


async def _show_rank(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    actor: Actor,
    locale: str,
    group_id: int,
    year: int,
    page: int,
    edit: Message | None = None,
) -> None:
    ranking = await svc.group_ranking(session, actor, group_id, year)
    pages = view.rank_pages(ranking, locale)
    page = max(0, min(page, len(pages) - 1))
    await show(bot, chat_id, pages[page], kb.rank_kb(group_id, ranking.year, page, len(pages)), edit)


@router.message(Command("rank"))
async def rank(
    message: Message, command: CommandObject, session: AsyncSession, actor: Actor, bot: Bot, locale: str
) -> None:
    if not svc.can_view_all(actor):
        await _refuse(bot, message.chat.id)
        return
    period = await svc.resolve_period(session)
    if command.args and command.args.strip():
        group = await svc.find_group(session, command.args)
    else:
        groups = await svc.list_groups(session)
        if len(groups) != 1:
            await message.answer(_("Which group?"), reply_markup=kb.groups_kb(groups, period.year))
            return
        group = groups[0]
    await _show_rank(bot, message.chat.id, session, actor, locale, group.id, period.year, 0)


@router.callback_query(kb.LRank.filter())
async def rank_page(
    callback: CallbackQuery,
    callback_data: kb.LRank,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    locale: str,
) -> None:
    await _show_rank(
        bot,
        callback.from_user.id,
        session,
        actor,
        locale,
        callback_data.g,
        callback_data.y,
        callback_data.p,
        edit_target(callback),
    )


@router.callback_query(kb.LRankFile.filter())
async def rank_file(
    callback: CallbackQuery,
    callback_data: kb.LRankFile,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    locale: str,
) -> None:
    chat_id = callback.from_user.id
    if callback_data.k == "x":
        out = await reports.summary_xlsx(session, actor, callback_data.y, [callback_data.g], locale)
        await bot.send_document(chat_id, BufferedInputFile(out.data, out.filename))
        return
    ranking = await svc.group_ranking(session, actor, callback_data.g, callback_data.y)
    await bot.send_chat_action(chat_id, ChatAction.UPLOAD_PHOTO)
    # matplotlib takes a second or more per page: off the event loop, so other people are answered
    images = await asyncio.to_thread(reports.ranking_pngs_of, ranking, locale)
    files = [
        BufferedInputFile(image, f"xep-hang-{ranking.group.code}-{ranking.year}-{number}.png")
        for number, image in enumerate(images, start=1)
    ]
    if len(files) == 1:
        await bot.send_photo(chat_id, files[0])
        return
    # the pages arrive as one album (Telegram takes 2..10 items in one), the caption on its first
    # photo; over 10 pages: several albums of even size, so none is left with a single page
    for start, end in _album_bounds(len(files)):
        caption = _("Ranking chart: {group}, {year} — pages {first}–{last} of {total}").format(
            group=esc(ranking.group.name), year=ranking.year, first=start + 1, last=end, total=len(files)
        )
        media: list[MediaUnion] = [
            InputMediaPhoto(media=file, caption=caption if index == start else None)
            for index, file in enumerate(files[start:end], start=start)
        ]
        await bot.send_media_group(chat_id, media=media)


ALBUM_MAX = 10


def _album_bounds(count: int) -> list[tuple[int, int]]:
    """[start, end) of each album for `count` ≥ 2 pages: at most 10 each, none with a single page."""
    albums = -(-count // ALBUM_MAX)
    size, extra = divmod(count, albums)
    bounds: list[tuple[int, int]] = []
    start = 0
    for number in range(albums):
        end = start + size + (1 if number < extra else 0)
        bounds.append((start, end))
        start = end
    return bounds


# ----------------------------------------------------------------------------- /unit


async def _show_unit(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    actor: Actor,
    locale: str,
    unit_id: int,
    year: int | None,
    edit: Message | None = None,
) -> None:
    detail = await svc.unit_detail(session, actor, unit_id, year)
    markup = kb.unit_kb(detail.unit_id, detail.year) if detail.sheet is not None else None
    await show(bot, chat_id, view.unit_text(detail, locale), markup, edit)


@router.message(Command("unit"))
async def unit(
    message: Message, command: CommandObject, session: AsyncSession, actor: Actor, bot: Bot, locale: str
) -> None:
    query = (command.args or "").strip()
    own = sorted(actor.unit_ids())
    if not query:
        if not svc.can_view_all(actor) and len(own) == 1:
            await _show_unit(bot, message.chat.id, session, actor, locale, own[0], None)
            return
        await message.answer(_("Send /unit followed by a unit's name or code, for example: /unit so noi vu"))
        return
    period = await svc.resolve_period(session)
    matches = await search_units(session, query)
    if len(matches) == 1 and matches[0].score >= CLEAR_SCORE:
        await _show_unit(bot, message.chat.id, session, actor, locale, matches[0].unit_id, period.year)
        return
    markup = kb.matches_kb(matches, period.year) if matches else None
    await message.answer(view.matches_text(query, matches), reply_markup=markup)


@router.callback_query(kb.LUnit.filter())
async def unit_chosen(
    callback: CallbackQuery,
    callback_data: kb.LUnit,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    locale: str,
) -> None:
    await _show_unit(
        bot,
        callback.from_user.id,
        session,
        actor,
        locale,
        callback_data.u,
        callback_data.y,
        edit_target(callback),
    )


@router.callback_query(kb.LUnitFile.filter())
async def unit_file(
    callback: CallbackQuery,
    callback_data: kb.LUnitFile,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    locale: str,
) -> None:
    chat_id = callback.from_user.id
    if callback_data.k == "x":
        out = await reports.unit_xlsx(session, actor, callback_data.u, callback_data.y, locale)
        await bot.send_document(chat_id, BufferedInputFile(out.data, out.filename))
        return
    detail = await svc.unit_detail(session, actor, callback_data.u, callback_data.y)
    await bot.send_chat_action(chat_id, ChatAction.UPLOAD_PHOTO)
    image = await asyncio.to_thread(reports.profile_png_of, detail, locale)
    await bot.send_photo(chat_id, BufferedInputFile(image, f"linh-vuc-{callback_data.u}.png"))


# ----------------------------------------------------------------------------- /awards


@router.message(Command("awards"))
async def awards(message: Message, session: AsyncSession, actor: Actor, bot: Bot, locale: str) -> None:
    if not svc.can_view_all(actor):
        await _refuse(bot, message.chat.id)
        return
    period = await svc.resolve_period(session)
    groups = await svc.group_awards(session, actor, period.year)
    await message.answer(view.awards_text(period.year, groups, locale))
