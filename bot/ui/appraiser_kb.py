"""Callback data and keyboards of the appraiser's screens (prefix "a…"). Ids only; every press is
re-checked by the services (agency, round, deadline)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.scoring.fmt import fmt_points
from bot.scoring.rules import choices
from bot.services.appraisal import Count, ItemContext
from bot.services.stages import Round
from bot.ui.common_kb import button, markup
from bot.ui.paging import Page, clip, nav_row


class AHome(CallbackData, prefix="aq"):
    """The queue's first page (screens now send APage; kept for buttons already in chats)."""

    a: str = "home"


class APage(CallbackData, prefix="ap"):
    """Page `p` of the queue's units, or (u = assessment id) the page holding that unit's sheet."""

    p: int = 0
    u: int = 0


class AUnit(CallbackData, prefix="au"):
    aid: int


class AItem(CallbackData, prefix="ai"):
    aid: int
    c: str


class AAct(CallbackData, prefix="ax"):
    """a = ok | adj | sup | nar | keep | ev | next"""

    aid: int
    c: str
    a: str


class AVal(CallbackData, prefix="av"):
    aid: int
    c: str
    v: str


class AField(CallbackData, prefix="af"):
    """a = ask | ok"""

    aid: int
    f: str
    a: str


def home_kb(units: Page[Count]) -> InlineKeyboardMarkup:
    rows = [[button(f"{clip(u.name)} ({u.count})", AUnit(aid=int(u.key)))] for u in units.rows]
    rows.append(nav_row(units, lambda p: APage(p=p)))
    rows.append([button(_("🔄 Refresh"), APage(p=units.number))])
    return markup(rows)


def item_kb(ctx: ItemContext) -> InlineKeyboardMarkup:
    aid, code = ctx.assessment.id, ctx.leaf.code
    rows: list[list[InlineKeyboardButton]] = []
    if ctx.round is not None:
        na = bool(ctx.item and ctx.item.na_claimed)
        accept = _("✅ Accept N/A") if na else _("✅ Accept")
        rows.append(
            [
                button(accept, AAct(aid=aid, c=code, a="ok")),
                button(_("✏️ Adjust"), AAct(aid=aid, c=code, a="adj")),
            ]
        )
        second: list[InlineKeyboardButton] = []
        if ctx.round is Round.FIRST:
            second.append(button(_("📎 Request supplement"), AAct(aid=aid, c=code, a="sup")))
        else:
            second.append(button(_("↩ Keep appraisal 1"), AAct(aid=aid, c=code, a="keep")))
        if na:
            second.append(button(_("🚫 Refuse N/A"), AAct(aid=aid, c=code, a="nar")))
        rows.append(second)
        rows.append(
            [
                button(
                    _("✅ Accept the rest of field {code}").format(code=ctx.area.code),
                    AField(aid=aid, f=ctx.area.code, a="ask"),
                )
            ]
        )
    if ctx.evidence:
        rows.append(
            [button(_("📎 Evidence again ({n})").format(n=len(ctx.evidence)), AAct(aid=aid, c=code, a="ev"))]
        )
    rows.append(
        [button(_("▶ Next item"), AAct(aid=aid, c=code, a="next")), button(_("⬅ Queue"), APage(u=aid))]
    )
    return markup(rows)


def adjust_kb(ctx: ItemContext, locale: str) -> InlineKeyboardMarkup:
    aid, code = ctx.assessment.id, ctx.leaf.code
    rows = [
        [button(f"{label} — {fmt_points(points, locale)}", AVal(aid=aid, c=code, v=value))]
        for value, label, points in choices(ctx.leaf)
    ]
    rows.append([button(_("✖ Cancel"), AItem(aid=aid, c=code))])
    return markup(rows)


def cancel_kb(aid: int, code: str) -> InlineKeyboardMarkup:
    return markup([[button(_("✖ Cancel"), AItem(aid=aid, c=code))]])


def field_confirm_kb(aid: int, field_code: str, back_code: str | None) -> InlineKeyboardMarkup:
    back = AItem(aid=aid, c=back_code) if back_code else AUnit(aid=aid)
    return markup(
        [
            [
                button(_("✅ Yes, accept them all"), AField(aid=aid, f=field_code, a="ok")),
                button(_("✖ Cancel"), back),
            ]
        ]
    )
