"""Charts (PNG) and workbooks (XLSX) for leaders, the secretariat and `cchc-bot export`.

The services in `leader.py` give the core's figures; `bot.reports` lays them out. This module only
connects the two, checks rights, and names the files. Report wording lives in `bot.reports.labels`
(fixed official headers) plus the few notes below, in Vietnamese and English.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Assessment, AuditLog, Evidence, ItemScore, Unit
from bot.reports.charts import progress_chart, ranking_chart_pages, unit_profile_chart
from bot.reports.from_scoring import sum_known, summary_rows, unit_item_rows, unit_totals
from bot.reports.labels import survey_pending
from bot.reports.rows import AuditRow, ProgressCounts, SummaryRow
from bot.reports.xlsx import appraisal_log_workbook, status_note, summary_workbook, unit_workbook
from bot.scoring.bands import grade
from bot.scoring.sheet import Basis
from bot.services.actor import Actor
from bot.services.errors import ServiceError
from bot.services.leader import (
    CycleProgress,
    RankingView,
    ResultStatus,
    UnitDetail,
    can_view_unit,
    cycle_progress,
    group_ranking,
    list_groups,
    load_group_sheets,
    require_viewer,
    resolve_period,
    result_basis,
    unit_detail,
)
from bot.services.ranking import period_bands, standing

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_NOTES: dict[str, tuple[str, str]] = {
    "basis_self": ("theo điểm tự đánh giá", "on the units' self-assessed points"),
    "basis_appraised": ("theo điểm thẩm định đến nay", "on the points appraised so far"),
    "basis_final": ("theo điểm thẩm định", "on the appraised points"),
    "summary_title": ("Kết quả Chỉ số CCHC năm {year}", "PAR index results {year}"),
    "ranking_title": ("Xếp hạng Chỉ số CCHC {year}: {group}", "PAR index ranking {year}: {group}"),
    "progress_title": ("Tiến độ đánh giá Chỉ số CCHC {year}", "PAR index cycle progress {year}"),
    "draft": ("Chưa gửi báo cáo tự đánh giá", "Self-assessment not submitted"),
    "returned": ("Đã rút lại để sửa, chưa gửi lại", "Withdrawn for correction"),
    "not_started": ("Chưa bắt đầu tự đánh giá", "Self-assessment not started"),
    "not_ranked": ("Không xếp hạng", "Not ranked"),
}
_ACTIONS: dict[str, tuple[str, str]] = {
    "accept": ("Chấp nhận", "Accepted"),
    "accept_field": ("Chấp nhận cả lĩnh vực", "Accepted with the field"),
    "adjust": ("Điều chỉnh điểm", "Adjusted"),
    "supplement": ("Yêu cầu bổ sung", "Supplement requested"),
    "na_refuse": ("Không chấp nhận không áp dụng", "N/A refused"),
    "keep": ("Giữ kết quả lần 1", "Appraisal 1 kept"),
    "first": ("Thẩm định lần 1", "Appraisal 1"),
    "final": ("Thẩm định lần 2", "Final appraisal"),
}


def note(key: str, locale: str = "vi", **params: object) -> str:
    vi, en = _NOTES[key]
    text = en if locale == "en" else vi
    return text.format(**params) if params else text


def basis_note(status: ResultStatus, basis: Basis, locale: str = "vi") -> str:
    if status is ResultStatus.SELF or basis is Basis.SELF:
        return note("basis_self", locale)
    if status is ResultStatus.APPRAISED and basis is Basis.APPRAISED:
        return note("basis_appraised", locale)
    return note("basis_final", locale)


def reason_text(reason: str, locale: str = "vi") -> str:
    """A ranking row's reason code ("draft", "not_ranked: <why>") as a sentence for a report."""
    if reason.startswith("not_ranked"):
        why = reason.partition(":")[2].strip()
        return f"{note('not_ranked', locale)}: {why}" if why else note("not_ranked", locale)
    return note(reason, locale) if reason in _NOTES else reason


@dataclass(frozen=True)
class FileOut:
    """A built report: bytes, a file name and its MIME type."""

    data: bytes
    filename: str
    mime: str


# ----------------------------------------------------------------------------- summary and ranking


def view_summary_rows(view: RankingView, locale: str = "vi") -> list[SummaryRow]:
    rows = summary_rows(view.rows, view.self_points, view.basis_points, view.changes)
    return [replace(r, reason=reason_text(r.reason, locale)) for r in rows]


async def summary_xlsx(
    session: AsyncSession,
    actor: Actor,
    year: int | None = None,
    group_ids: list[int] | None = None,
    locale: str = "vi",
) -> FileOut:
    """The summary as provinces publish it, one sheet per group."""
    require_viewer(actor)
    period = await resolve_period(session, year)
    ids = group_ids or [g.id for g in await list_groups(session)]
    views = [await group_ranking(session, actor, gid, period.year, with_points=True) for gid in ids]
    basis, status = await result_basis(session, period)
    data = summary_workbook(
        note("summary_title", locale, year=period.year),
        [(v.group.name, view_summary_rows(v, locale)) for v in views],
        status is not ResultStatus.FINAL,
        basis_note(status, basis, locale),
        locale,
    )
    suffix = views[0].group.code if len(views) == 1 else "tong-hop"
    return FileOut(data, f"chi-so-cchc-{period.year}-{suffix}.xlsx", XLSX_MIME)


def ranking_pngs_of(view: RankingView, locale: str = "vi") -> list[bytes]:
    title = note("ranking_title", locale, year=view.year, group=view.group.name)
    subtitle = status_note(view.provisional, basis_note(view.status, view.basis, locale), locale)
    # Ranked units and units flagged "not ranked"; unsubmitted sheets have no result to draw.
    rows = [r for r in view.rows if r.has_result]
    return ranking_chart_pages(title, rows, view.bands, locale, subtitle)


async def ranking_pngs(
    session: AsyncSession, actor: Actor, group_id: int, year: int | None = None, locale: str = "vi"
) -> list[bytes]:
    """The ranking chart of a group, one PNG per page (groups over 25 units take several)."""
    return ranking_pngs_of(await group_ranking(session, actor, group_id, year), locale)


def progress_png_of(progress: CycleProgress, locale: str = "vi") -> bytes:
    counts = [
        ProgressCounts(g.group.name, g.not_started, g.in_progress, g.submitted, g.appraised)
        for g in progress.groups
    ]
    title = note("progress_title", locale, year=progress.year)
    return progress_chart(title, counts, locale, progress.period_name)


async def progress_png(
    session: AsyncSession, actor: Actor, year: int | None = None, locale: str = "vi"
) -> bytes:
    return progress_png_of(await cycle_progress(session, actor, year), locale)


# ----------------------------------------------------------------------------- one unit


def profile_png_of(detail: UnitDetail, locale: str = "vi") -> bytes:
    """The unit's fields against the group average (and last year when known); only for a result
    (a sheet not submitted has no index to draw)."""
    if detail.sheet is None or not detail.has_result:
        raise ServiceError("no_results", unit=detail.name)
    provisional = detail.status is not ResultStatus.FINAL
    subtitle = status_note(provisional, basis_note(detail.status, detail.basis, locale), locale)
    if pending := survey_pending(detail.sheet.survey_pending_max, locale):
        subtitle += f" · {pending}"
    return unit_profile_chart(detail.name, detail.fields, locale, subtitle)


async def profile_png(
    session: AsyncSession, actor: Actor, unit_id: int, year: int | None = None, locale: str = "vi"
) -> bytes:
    return profile_png_of(await unit_detail(session, actor, unit_id, year), locale)


async def unit_xlsx(
    session: AsyncSession, actor: Actor, unit_id: int, year: int | None = None, locale: str = "vi"
) -> FileOut:
    """Every item of one unit: max, self points, appraisal 1, final, comments, evidence count, N/A."""
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise ServiceError("not_found", what="unit", key=unit_id)
    if not can_view_unit(actor, unit.id):
        raise ServiceError("forbidden")
    period = await resolve_period(session, year)
    basis, status = await result_basis(session, period)
    sheets = await load_group_sheets(session, period, unit.group_id or 0, [unit.id])
    final, own = sheets.sheet(unit, basis), sheets.sheet(unit, Basis.SELF)
    assessment = sheets.assessments.get(unit.id)
    if final is None or assessment is None:
        raise ServiceError("no_results", unit=unit.name)
    items = sheets.items.get(assessment.id, [])
    appraisal1 = {i.item_code: i.appraisal1_points for i in items}
    final_round = {i.item_code: i.final_points for i in items}
    comments1 = {i.item_code: i.appraisal1_comment or "" for i in items}
    comments_final = {i.item_code: i.final_comment or "" for i in items}
    evidence = await session.execute(
        select(ItemScore.item_code, func.count(Evidence.id))
        .join(Evidence, Evidence.item_score_id == ItemScore.id)
        .where(ItemScore.assessment_id == assessment.id, Evidence.removed_at.is_(None))
        .group_by(ItemScore.item_code)
    )
    counts = {code: int(n) for code, n in evidence}
    has_result, _ranked, reason = standing(assessment)
    totals = unit_totals(
        final,
        grade(final.index, period_bands(period)) if has_result else None,
        own,
        sum_known(appraisal1.values()),
        sum_known(final_round.values()),
        flagged=reason.startswith("not_ranked"),
        reason=reason_text(reason, locale) if reason else "",
    )
    data = unit_workbook(
        unit.name,
        period.name,
        unit_item_rows(final, own, appraisal1, final_round, comments1, comments_final, counts),
        totals,
        provisional=status is not ResultStatus.FINAL,
        basis_note=basis_note(status, basis, locale),
        locale=locale,
    )
    return FileOut(data, f"chi-so-cchc-{period.year}-{unit.code}.xlsx", XLSX_MIME)


# ----------------------------------------------------------------------------- appraisal log


def _points(snapshot: dict[str, object] | None, key: str) -> Decimal | str | None:
    value = (snapshot or {}).get(key)
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return str(value)


def action_text(action: str, locale: str = "vi") -> str:
    """ "appraisal.first.adjust" → "Thẩm định lần 1: Điều chỉnh điểm"."""
    parts = action.split(".")
    if len(parts) != 3:
        return action
    _, rnd, what = parts
    pick = 1 if locale == "en" else 0
    round_text = _ACTIONS.get(rnd, (rnd, rnd))[pick]
    return f"{round_text}: {_ACTIONS.get(what, (what, what))[pick]}"


async def appraisal_log_rows(
    session: AsyncSession,
    actor: Actor,
    year: int | None = None,
    group_id: int | None = None,
    locale: str = "vi",
) -> list[AuditRow]:
    """Every appraisal decision of the period (oldest first): who, when, which item, before → after,
    and the appraiser's reason."""
    require_viewer(actor)
    period = await resolve_period(session, year)
    query = select(Assessment.id, Unit.name).join(Unit, Unit.id == Assessment.unit_id)
    query = query.where(Assessment.period_id == period.id)
    if group_id is not None:
        query = query.where(Unit.group_id == group_id)
    units = {int(aid): str(name) for aid, name in await session.execute(query)}
    entries = await session.scalars(
        select(AuditLog)
        .where(AuditLog.entity == "item_score", AuditLog.action.like("appraisal.%"))
        .order_by(AuditLog.at, AuditLog.id)
    )
    rows: list[AuditRow] = []
    for entry in entries:
        aid_text, _, code = (entry.entity_id or "").partition(":")
        if not aid_text.isdigit() or int(aid_text) not in units:
            continue
        final_round = ".final." in entry.action
        key = "final_points" if final_round else "appraisal1_points"
        comment_key = "final_comment" if final_round else "appraisal1_comment"
        before = _points(entry.before, key) if entry.before else None
        if before is None and entry.before and not final_round:
            before = _points(entry.before, "self_points")
        rows.append(
            AuditRow(
                at=entry.at,
                actor=entry.actor_label,
                unit=units[int(aid_text)],
                item_code=code,
                action=action_text(entry.action, locale),
                before=before,
                after=_points(entry.after, key),
                reason=str((entry.after or {}).get(comment_key) or ""),
            )
        )
    return rows


async def appraisal_log_xlsx(
    session: AsyncSession,
    actor: Actor,
    year: int | None = None,
    group_id: int | None = None,
    locale: str = "vi",
) -> FileOut:
    period = await resolve_period(session, year)
    rows = await appraisal_log_rows(session, actor, period.year, group_id, locale)
    title = f"{'Appraisal log' if locale == 'en' else 'Nhật ký thẩm định'} — {period.name}"
    return FileOut(
        appraisal_log_workbook(rows, title, locale), f"nhat-ky-tham-dinh-{period.year}.xlsx", XLSX_MIME
    )
