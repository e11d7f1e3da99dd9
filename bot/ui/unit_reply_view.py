"""Texts and keyboards of the unit's explanation round (/explain); callback prefix "ur"/"ux"."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.services.explanation import ReplyItem, ReplySheet
from bot.text import esc, fmt_dt
from bot.ui.appraiser_view import points_text, status_label


class RItem(CallbackData, prefix="ur"):
    aid: int
    c: str


class RAct(CallbackData, prefix="ux"):
    """a = list | text"""

    aid: int
    c: str
    a: str


def sheet_text(sheet: ReplySheet, locale: str) -> str:
    period = sheet.period
    lines = [
        _("📝 <b>Appraisal results of {unit}</b> — PAR Index {year}").format(
            unit=esc(sheet.unit.name), year=period.year
        )
    ]
    if not sheet.items:
        lines.append(_("No item needs an answer. Items accepted as scored: {n}.").format(n=sheet.accepted))
        return "\n".join(lines)
    lines.append(
        _("Items accepted as scored: {n}. Items to look at: {m}.").format(
            n=sheet.accepted, m=len(sheet.items)
        )
    )
    if period.explanation_deadline:
        lines.append(_("Explanation deadline: {when}").format(when=fmt_dt(period.explanation_deadline)))
    lines.append("")
    for item in sheet.items:
        mark = "✅" if item.answered else ("✍️" if item.open else "🔒")
        lines.append(
            f"{mark} <b>{esc(item.code)}</b> — {status_label(item.status)}: "
            f"{points_text(item.self_points, locale)} → {points_text(item.points, locale)}"
        )
    lines += ["", _("✍️ can be answered, ✅ answered, 🔒 closed. Pick an item.")]
    return "\n".join(lines)


def sheet_kb(sheet: ReplySheet) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=f"{item.code} {item.name}"[:60],
                callback_data=RItem(aid=sheet.assessment_id, c=item.code).pack(),
            )
        ]
        for item in sheet.items[:60]
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def item_text(item: ReplyItem, locale: str, notice: str = "") -> str:
    lines = [notice, ""] if notice else []
    lines.append(f"<b>{esc(item.code)}</b> {esc(item.name)}")
    own = _("not applicable") if item.na_claimed else points_text(item.self_points, locale)
    lines.append(_("<b>Your score:</b> {points}").format(points=own))
    lines.append(
        _("<b>Appraisal:</b> {status}, {points} points").format(
            status=status_label(item.status), points=points_text(item.points, locale)
        )
    )
    if item.comment:
        lines.append(_("<b>Appraiser's comment:</b> {text}").format(text=esc(item.comment)))
    lines.append("")
    lines.append(_("<b>Your explanation:</b> {text}").format(text=esc(item.reply) if item.reply else "—"))
    lines.append(_("<b>Supplementary files:</b> {n}").format(n=item.supplements))
    if item.open:
        lines += ["", _("Write an explanation, or send documents or photos here to add evidence.")]
    else:
        lines += ["", _("🔒 This item cannot be answered now.")]
    return "\n".join(lines)


def item_kb(aid: int, item: ReplyItem) -> InlineKeyboardMarkup:
    rows = []
    if item.open:
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("✍️ Write an explanation"),
                    callback_data=RAct(aid=aid, c=item.code, a="text").pack(),
                )
            ]
        )
    rows.append(
        [
            InlineKeyboardButton(
                text=_("⬅ All items"), callback_data=RAct(aid=aid, c=item.code, a="list").pack()
            )
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def text_prompt(code: str) -> str:
    return _("✍️ Write your explanation for <b>{code}</b> in one message.").format(code=esc(code))
