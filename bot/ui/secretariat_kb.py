"""Callback data and keyboards of the secretariat's screens (prefix "s…"). Ids and codes only;
the services re-check the secretariat role on every press."""

from __future__ import annotations

from decimal import Decimal

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.db.models import Agency, RankingGroup
from bot.scoring.model import Leaf
from bot.services.assignment_board import FieldSlot
from bot.services.survey import SurveyUnit
from bot.ui.common_kb import button, markup
from bot.ui.paging import Page, clip, nav_row
from bot.ui.secretariat_view import STAGE_LABELS, STATUS_LABELS


class SPeriod(CallbackData, prefix="sp"):
    """a = home | dl (pick a stage's deadline) | dlok (confirm) | adv (ask) | advok (confirm)"""

    a: str
    s: str = ""


class SProg(CallbackData, prefix="sg"):
    a: str = "home"


class SBcast(CallbackData, prefix="sb"):
    """a = aud (v = audience; "g.CODE" for a ranking group) | send | rep | cancel"""

    a: str
    v: str = ""


class SSurvey(CallbackData, prefix="ss"):
    """a = home | unit (u) | item (u, c)"""

    a: str
    u: int = 0
    c: str = ""


class SRank(CallbackData, prefix="sn"):
    """a = ok (confirm the mark) | clear (u = unit code) | cancel"""

    a: str
    u: str = ""


class SPage(CallbackData, prefix="sq"):
    """Page `p` of a list: v = su (survey units) | si (survey items of unit k) | ag (agencies of
    /assign) | af (fields, for agency k) | nr (units not ranked)"""

    v: str
    p: int = 0
    k: int = 0


class SAssign(CallbackData, prefix="sa"):
    """ag = agency id (0: the agency list); f = field key to toggle (empty: show the board)"""

    ag: int = 0
    f: str = ""


def period_kb(next_status: str | None) -> InlineKeyboardMarkup:
    rows = [
        [button(_("📅 {stage}").format(stage=_(label)), SPeriod(a="dl", s=stage))]
        for stage, label in STAGE_LABELS.items()
    ]
    if next_status is not None:
        rows.append(
            [
                button(
                    _("▶ Move to: {status}").format(status=_(STATUS_LABELS[next_status])),
                    SPeriod(a="adv", s=next_status),
                )
            ]
        )
    rows.append([button(_("🔄 Refresh"), SPeriod(a="home"))])
    return markup(rows)


def confirm_kb(yes: CallbackData, no: CallbackData) -> InlineKeyboardMarkup:
    return markup([[button(_("✅ Confirm"), yes), button(_("✖ Cancel"), no)]])


def progress_kb() -> InlineKeyboardMarkup:
    return markup([[button(_("🔄 Refresh"), SProg())]])


def audience_kb(groups: list[RankingGroup]) -> InlineKeyboardMarkup:
    rows = [
        [button(_("👥 Everyone"), SBcast(a="aud", v="all"))],
        [button(_("⏳ Units not yet submitted"), SBcast(a="aud", v="not_submitted"))],
        [button(_("🔎 Appraisers with pending items"), SBcast(a="aud", v="appraisers_pending"))],
    ]
    rows += [
        [button(_("🏷 Group: {name}").format(name=g.name), SBcast(a="aud", v=f"g.{g.code}"))]
        for g in groups[:20]
    ]
    rows.append([button(_("✖ Cancel"), SBcast(a="cancel"))])
    return markup(rows)


def broadcast_confirm_kb() -> InlineKeyboardMarkup:
    return confirm_kb(SBcast(a="send"), SBcast(a="cancel"))


def report_kb(key: str) -> InlineKeyboardMarkup:
    # a broadcast key is "bc:<hex>": the separator cannot travel in callback data
    return markup([[button(_("🔄 Refresh the report"), SBcast(a="rep", v=key.removeprefix("bc:")))]])


def survey_units_kb(page: Page[SurveyUnit]) -> InlineKeyboardMarkup:
    rows = []
    for su in page.rows:
        done = sum(1 for _leaf, value in su.items if value is not None)
        label = f"{clip(su.unit.name)} ({done}/{len(su.items)})"
        rows.append([button(label, SSurvey(a="unit", u=su.unit.id))])
    rows.append(nav_row(page, lambda p: SPage(v="su", p=p)))
    return markup(rows)


def survey_items_kb(
    su: SurveyUnit, page: Page[tuple[Leaf, Decimal | None]], units_page: int
) -> InlineKeyboardMarkup:
    rows = [
        [button(clip(f"{leaf.code} {leaf.name}", 60), SSurvey(a="item", u=su.unit.id, c=leaf.code))]
        for leaf, _value in page.rows
    ]
    rows.append(nav_row(page, lambda p: SPage(v="si", k=su.unit.id, p=p)))
    rows.append([button(_("⬅ Units"), SPage(v="su", p=units_page))])
    return markup(rows)


def not_ranked_kb(page: Page[tuple[str, str]]) -> InlineKeyboardMarkup:
    rows = [
        [button(_("↩ Rank {unit} again").format(unit=clip(name, 60)), SRank(a="clear", u=code))]
        for code, name in page.rows
    ]
    rows.append(nav_row(page, lambda p: SPage(v="nr", p=p)))
    return markup(rows)


def agencies_kb(page: Page[Agency]) -> InlineKeyboardMarkup:
    rows = [[button(clip(a.name), SAssign(ag=a.id))] for a in page.rows]
    rows.append(nav_row(page, lambda p: SPage(v="ag", p=p)))
    return markup(rows)


def assign_kb(agency_id: int, page: Page[FieldSlot], agencies_page: int) -> InlineKeyboardMarkup:
    rows = []
    for slot in page.rows:
        if slot.agency_id == agency_id:
            mark = "✅"
        elif slot.agency_id is None:
            mark = "▫️"
        else:
            mark = f"↪ {slot.agency_code}"
        rows.append([button(clip(f"{mark} {slot.scope}", 60), SAssign(ag=agency_id, f=slot.scope))])
    rows.append(nav_row(page, lambda p: SPage(v="af", k=agency_id, p=p)))
    rows.append([button(_("⬅ Agencies"), SPage(v="ag", p=agencies_page))])
    return markup(rows)
