"""Callback data and keyboards of the officer's self-assessment screens.

Callback data carries ids only (the sheet id and an item code, never text): 64 bytes is Telegram's
hard limit. Nothing in it is trusted; every press goes through the services, which re-check rights.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.scoring.fmt import fmt_points
from bot.scoring.rules import choices, expects_text
from bot.services.assessment import ItemState, Progress, Sheet, can_withdraw, neighbours
from bot.ui.common_kb import button, markup


class OSheet(CallbackData, prefix="os"):
    """Sheet-level screens: a = home | review | submit | submit_ok | withdraw | withdraw_ok | resume."""

    aid: int
    a: str


class OField(CallbackData, prefix="of"):
    aid: int
    c: str


class OCrit(CallbackData, prefix="oc"):
    aid: int
    c: str


class OItem(CallbackData, prefix="oi"):
    aid: int
    c: str


class OAns(CallbackData, prefix="oa"):
    """A choice answer (levels index or yes/no) for item `c`."""

    aid: int
    c: str
    v: str


class OAct(CallbackData, prefix="ox"):
    """An action on item `c`: val | save | cancel | exp | note | na | clr | ev."""

    aid: int
    c: str
    a: str


class OEvDel(CallbackData, prefix="oe"):
    aid: int
    e: int


def home_kb(sheet: Sheet, fields: list[Progress]) -> InlineKeyboardMarkup:
    aid = sheet.assessment.id
    rows = [
        [
            InlineKeyboardButton(
                text=f"{p.code}. {p.name[:40]} ({p.done}/{p.total})",
                callback_data=OField(aid=aid, c=p.code).pack(),
            )
        ]
        for p in fields
    ]
    last = sheet.assessment.last_item_code
    bottom = [InlineKeyboardButton(text=_("📋 Review"), callback_data=OSheet(aid=aid, a="review").pack())]
    if last:
        bottom.insert(
            0,
            InlineKeyboardButton(
                text=_("▶ Continue at {code}").format(code=last), callback_data=OItem(aid=aid, c=last).pack()
            ),
        )
    rows.append(bottom)
    return markup(rows)


def field_kb(sheet: Sheet, criteria: list[Progress], has_subs: dict[str, bool]) -> InlineKeyboardMarkup:
    aid = sheet.assessment.id
    rows = []
    for p in criteria:
        target = OCrit(aid=aid, c=p.code) if has_subs[p.code] else OItem(aid=aid, c=p.code)
        mark = "✅" if p.done == p.total else f"{p.done}/{p.total}"
        rows.append(
            [InlineKeyboardButton(text=f"{p.code} {p.name[:40]} · {mark}", callback_data=target.pack())]
        )
    rows.append([InlineKeyboardButton(text=_("⬆ Fields"), callback_data=OSheet(aid=aid, a="home").pack())])
    return markup(rows)


def criterion_kb(sheet: Sheet, field_code: str, states: list[ItemState]) -> InlineKeyboardMarkup:
    aid = sheet.assessment.id
    rows = []
    for s in states:
        mark = "✅" if s.answered else "…"
        rows.append(
            [
                InlineKeyboardButton(
                    text=f"{mark} {s.leaf.code} {s.leaf.name[:40]}",
                    callback_data=OItem(aid=aid, c=s.leaf.code).pack(),
                )
            ]
        )
    rows.append([InlineKeyboardButton(text=_("⬆ Up"), callback_data=OField(aid=aid, c=field_code).pack())])
    return markup(rows)


def item_kb(sheet: Sheet, state: ItemState, locale: str) -> InlineKeyboardMarkup:
    aid = sheet.assessment.id
    code = state.leaf.code
    rows: list[list[InlineKeyboardButton]] = []
    if sheet.editable:
        for value, label, points in choices(state.leaf):
            current = state.self_raw in (value, f"level:{value}")
            text = f"{'✓ ' if current else ''}{label[:45]} — {fmt_points(points, locale)}"
            rows.append(
                [InlineKeyboardButton(text=text, callback_data=OAns(aid=aid, c=code, v=value).pack())]
            )
        if expects_text(state.leaf):
            rows.append([_act(_("✏️ Enter the value"), aid, code, "val")])
        rows.append(
            [
                _act(_("📎 Evidence ({n})").format(n=state.evidence_count), aid, code, "ev"),
                _act(_("📝 Explanation"), aid, code, "exp"),
            ]
        )
        second = [_act(_("📄 Page/section"), aid, code, "note")]
        if state.leaf.allow_na and not state.na_claimed:
            second.append(_act(_("🚫 Not applicable"), aid, code, "na"))
        if state.answered:
            second.append(_act(_("🗑 Clear answer"), aid, code, "clr"))
        rows.append(second)
    elif state.evidence_count:
        rows.append([_act(_("📎 Evidence ({n})").format(n=state.evidence_count), aid, code, "ev")])
    prev_code, next_code = neighbours(sheet, code)
    up = (
        OCrit(aid=aid, c=state.criterion_code)
        if state.criterion_code != code
        else OField(aid=aid, c=state.field_code)
    )
    nav = []
    if prev_code:
        nav.append(InlineKeyboardButton(text="◀", callback_data=OItem(aid=aid, c=prev_code).pack()))
    nav.append(InlineKeyboardButton(text=_("⬆ Up"), callback_data=up.pack()))
    if next_code:
        nav.append(InlineKeyboardButton(text="▶", callback_data=OItem(aid=aid, c=next_code).pack()))
    rows.append(nav)
    rows.append(
        [
            InlineKeyboardButton(text=_("🗂 Fields"), callback_data=OSheet(aid=aid, a="home").pack()),
            InlineKeyboardButton(text=_("📋 Review"), callback_data=OSheet(aid=aid, a="review").pack()),
        ]
    )
    return markup(rows)


def _act(text: str, aid: int, code: str, action: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=OAct(aid=aid, c=code, a=action).pack())


def confirm_value_kb(aid: int, code: str) -> InlineKeyboardMarkup:
    return markup([[_act(_("✅ Save"), aid, code, "save"), _act(_("✖ Cancel"), aid, code, "cancel")]])


def back_to_item_kb(aid: int, code: str) -> InlineKeyboardMarkup:
    return to_item_kb(aid, code, _("✖ Cancel"))


def to_item_kb(aid: int, code: str, label: str) -> InlineKeyboardMarkup:
    """One button that opens the item (`label` is translated by the caller: an album is confirmed
    after its update is over)."""
    return markup([[button(label, OItem(aid=aid, c=code))]])


def evidence_kb(
    aid: int, code: str, evidence_ids: list[tuple[int, str]], editable: bool
) -> InlineKeyboardMarkup:
    rows = []
    if editable:
        for evidence_id, name in evidence_ids:
            rows.append(
                [
                    InlineKeyboardButton(
                        text=_("🗑 Remove {name}").format(name=name[:40]),
                        callback_data=OEvDel(aid=aid, e=evidence_id).pack(),
                    )
                ]
            )
    rows.append(
        [InlineKeyboardButton(text=_("⬅ Back to the item"), callback_data=OItem(aid=aid, c=code).pack())]
    )
    return markup(rows)


def review_kb(sheet: Sheet, complete: bool) -> InlineKeyboardMarkup:
    aid = sheet.assessment.id
    rows = []
    if sheet.editable and sheet.is_head and complete:
        rows.append(
            [InlineKeyboardButton(text=_("📤 Submit"), callback_data=OSheet(aid=aid, a="submit").pack())]
        )
    if can_withdraw(sheet):
        rows.append(
            [InlineKeyboardButton(text=_("↩ Withdraw"), callback_data=OSheet(aid=aid, a="withdraw").pack())]
        )
    rows.append([InlineKeyboardButton(text=_("🗂 Fields"), callback_data=OSheet(aid=aid, a="home").pack())])
    return markup(rows)


def confirm_kb(aid: int, action: str) -> InlineKeyboardMarkup:
    return markup(
        [
            [
                InlineKeyboardButton(text=_("✅ Confirm"), callback_data=OSheet(aid=aid, a=action).pack()),
                InlineKeyboardButton(text=_("✖ Cancel"), callback_data=OSheet(aid=aid, a="review").pack()),
            ]
        ]
    )
