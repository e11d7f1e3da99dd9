"""Texts of the leader's screens, rendered from the leader services' read models.

Numbers are formatted by the core (`fmt_index`, `fmt_points`: "87,93" in Vietnamese); names are
escaped (HTML parse mode). A ranking is cut into pages that each fit one Telegram message.
"""

from __future__ import annotations

from decimal import Decimal

from aiogram.utils.i18n import gettext as _

from bot.scoring.fmt import fmt_index, fmt_points
from bot.scoring.gaps import Comparison
from bot.scoring.ranking import RankRow
from bot.scoring.sheet import Basis
from bot.services.leader import CycleProgress, GroupAwards, RankingView, ResultStatus, UnitDetail
from bot.services.unit_search import UnitMatch
from bot.text import N_, esc
from bot.ui.figures_view import band_text, survey_pending_text

#: At most this many units per page of /rank, and at most PAGE_BUDGET characters (Telegram: 4096).
ROWS_PER_PAGE = 20
PAGE_BUDGET = 3800

PERIOD_STATUS = {
    "draft": N_("period in preparation"),
    "self_assessment": N_("the self-assessment stage"),
    "appraisal": N_("the appraisal stage"),
    "explanation": N_("the explanation and supplement stage"),
    "final_appraisal": N_("the final appraisal stage"),
    "approved": N_("results approved by the council"),
    "published": N_("results published"),
}
REASONS = {
    "not_started": N_("self-assessment not started"),
    "draft": N_("self-assessment not submitted"),
    "returned": N_("withdrawn for correction"),
}


def status_text(status: ResultStatus, basis: Basis) -> str:
    """ "tạm thời — theo điểm thẩm định đến nay" / "… theo điểm tự đánh giá" / "chính thức"."""
    if status is ResultStatus.FINAL:
        return _("final results")
    if status is ResultStatus.SELF:
        return _("provisional — on the self-assessed points")
    if basis is Basis.FINAL:
        return _("provisional — on the appraised points, awaiting publication")
    return _("provisional — on the points appraised so far")


def change_text(change: Decimal | None, locale: str) -> str:
    if change is None:
        return ""
    if change > 0:
        return f"▲ {fmt_index(change, locale)}"
    if change < 0:
        return f"▼ {fmt_index(-change, locale)}"
    return f"= {fmt_index(change, locale)}"


def reason_text(reason: str) -> str:
    if reason.startswith("not_ranked"):
        why = reason.partition(":")[2].strip()
        return _("not ranked: {reason}").format(reason=esc(why)) if why else _("not ranked")
    msgid = REASONS.get(reason)
    return _(msgid) if msgid else esc(reason)


# ----------------------------------------------------------------------------- /rank


def _published(row: RankRow, locale: str) -> str:
    assert row.published is not None
    return fmt_index(row.published, locale)


def _ranked_line(row: RankRow, change: Decimal | None, locale: str) -> str:
    parts = [f"{row.rank}. {esc(row.name)} — <b>{_published(row, locale)}</b>", band_text(row.band, locale)]
    delta = change_text(change, locale)
    if delta:
        parts.append(delta)
    if pending := survey_pending_text(row.survey_pending_max, locale):
        parts.append(pending)
    return " · ".join(parts)


def _apart_line(row: RankRow, locale: str) -> str:
    if not row.has_result:
        # A sheet not yet submitted has no result to show: its partial self-score would mislead.
        return f"• {esc(row.name)} — {reason_text(row.reason)}"
    parts = [f"• {esc(row.name)} — {_published(row, locale)}", reason_text(row.reason)]
    if pending := survey_pending_text(row.survey_pending_max, locale):
        parts.append(pending)
    return " · ".join(parts)


def _rank_header(view: RankingView, page: int, pages: int) -> str:
    lines = [
        _("<b>PAR index {year}: {group}</b>").format(year=view.year, group=esc(view.group.name)),
        f"<i>{status_text(view.status, view.basis)}</i>",
    ]
    if pages > 1:
        lines.append(_("Ranking page {page}/{pages}").format(page=page + 1, pages=pages))
    return "\n".join(lines)


def rank_pages(view: RankingView, locale: str) -> list[str]:
    """The ranking as pages of at most ROWS_PER_PAGE units and PAGE_BUDGET characters: ranked units
    first (rank · unit · index · class · change since last year), then the units not ranked with
    the reason."""
    lines: list[str] = [_ranked_line(r, view.changes.get(r.unit_id), locale) for r in view.ranked]
    if not view.ranked:
        lines.append(_("No unit can be ranked yet."))
    apart = view.apart
    heading = _("<b>Not ranked ({count})</b>").format(count=len(apart))
    if apart:
        lines.append("")
        lines.append(heading)
        lines.extend(_apart_line(r, locale) for r in apart)
    header_room = len(_rank_header(view, 998, 999)) + len(heading) + 4
    pages: list[list[str]] = [[]]
    size = header_room
    in_apart = False
    for line in lines:
        in_apart = in_apart or line == heading
        units_on_page = sum(1 for x in pages[-1] if x and x != heading)
        if pages[-1] and (units_on_page >= ROWS_PER_PAGE or size + len(line) + 1 > PAGE_BUDGET):
            pages.append([heading] if in_apart and line != heading else [])
            size = header_room
        if not pages[-1] and not line:
            continue  # no blank line at the top of a page
        pages[-1].append(line)
        size += len(line) + 1
    total = len(pages)
    return [_rank_header(view, i, total) + "\n\n" + "\n".join(body) for i, body in enumerate(pages)]


# ----------------------------------------------------------------------------- /unit


def matches_text(query: str, matches: list[UnitMatch]) -> str:
    if not matches:
        return _("No unit matches “{query}”. Try its code or another spelling.").format(query=esc(query))
    return _("Several units match “{query}”; choose one:").format(query=esc(query))


def _comparison_parts(comparison: Comparison, locale: str, with_delta: bool = True) -> list[str]:
    """ "avg 72,50 (▼ 3,10)", "last year 70,00" of one field or item (none when not compared); no
    difference for a unit without a result (it has no index to compare)."""
    parts: list[str] = []
    if comparison.group_average is not None:
        vs = change_text(comparison.delta_vs_group, locale) if with_delta else ""
        average = _("avg {average}").format(average=fmt_index(comparison.group_average, locale))
        parts.append(average + (f" ({vs})" if vs else ""))
    if comparison.previous_index is not None:
        parts.append(_("last year {index}").format(index=fmt_index(comparison.previous_index, locale)))
    return parts


def _find(comparisons: list[Comparison], code: str) -> Comparison | None:
    for comparison in comparisons:
        if comparison.code == code:
            return comparison
        found = _find(comparison.children, code)
        if found is not None:
            return found
    return None


def unit_text(detail: UnitDetail, locale: str) -> str:
    group = f" — {esc(detail.group.name)}" if detail.group else ""
    lines = [
        f"<b>{esc(detail.name)}</b> ({esc(detail.code)}){group}",
        _("PAR index {year}: <i>{status}</i>").format(
            year=detail.year, status=status_text(detail.status, detail.basis)
        ),
    ]
    sheet = detail.sheet
    if sheet is None:
        lines.append(_("This unit has not started its self-assessment."))
        return "\n".join(lines)
    if detail.grade is None:
        head = _("No index yet: {reason}").format(reason=reason_text(detail.reason))
    else:
        head = _("Index: <b>{index}</b>").format(index=fmt_index(detail.grade.published, locale))
        if detail.band is not None:
            head += " · " + band_text(detail.band, locale)
        if detail.shows_group and detail.ranked:
            head += " · " + _("rank {rank}/{count}").format(rank=detail.rank, count=detail.ranked_count)
        elif detail.reason:
            head += " · " + reason_text(detail.reason)
    if pending := survey_pending_text(sheet.survey_pending_max, locale):
        head += " · " + pending
    lines.append(head)
    points = _("Points: {points} of {max} applicable").format(
        points=fmt_points(sheet.points, locale), max=fmt_points(sheet.applicable_max, locale)
    )
    if detail.self_sheet is not None and detail.basis is not Basis.SELF:
        points += " " + _("(self-assessed: {points})").format(
            points=fmt_points(detail.self_sheet.points, locale)
        )
    lines.append(points)
    if detail.previous_index is not None and detail.change is not None:
        lines.append(
            _("Since last year: {change} (last year {index})").format(
                change=change_text(detail.change, locale), index=fmt_index(detail.previous_index, locale)
            )
        )
    if not detail.shows_group:
        lines.append(_("<i>The rank and the group average are shown once the results are published.</i>"))
    lines.append("")
    lines.append(_("<b>By field</b> (index · group average · last year)"))
    for comparison in detail.fields:
        result = sheet.field_by_code(comparison.code)
        assert result is not None
        parts = [
            f"{esc(comparison.code)}. {esc(comparison.name)}",
            _("{points}/{max} points").format(
                points=fmt_points(result.points, locale), max=fmt_points(result.applicable_max, locale)
            ),
        ]
        if comparison.index is not None and detail.has_result:
            parts.append(f"<b>{fmt_index(comparison.index, locale)}</b>")
        parts += _comparison_parts(comparison, locale, detail.has_result)
        if pending := survey_pending_text(result.pending_max, locale):
            parts.append(pending)
        lines.append("• " + " · ".join(parts))
    if detail.gaps:
        lines.append("")
        lines.append(_("<b>Most points lost — fix these first</b>"))
        for gap in detail.gaps:
            line = _("• {code} {name}: {points}/{max}, lost {lost}").format(
                code=esc(gap.code),
                name=esc(gap.name),
                points=fmt_points(gap.points, locale),
                max=fmt_points(gap.max_points, locale),
                lost=fmt_points(gap.lost, locale),
            )
            found = _find(detail.fields, gap.code)
            extra = _comparison_parts(found, locale, detail.has_result) if found is not None else []
            if extra and found is not None and found.index is not None and detail.has_result:
                extra.insert(0, _("achieved {index}").format(index=fmt_index(found.index, locale)))
            if extra:
                line += " · " + " · ".join(extra)
            lines.append(line)
    return "\n".join(lines)


# ----------------------------------------------------------------------------- /awards, /progress


def awards_text(year: int, groups: list[GroupAwards], locale: str) -> str:
    lines = [_("<b>Units eligible for commendation — {year}</b>").format(year=year)]
    if groups:
        lines.append(f"<i>{status_text(groups[0].status, groups[0].basis)}</i>")
    for g in groups:
        lines.append("")
        lines.append(
            _("<b>{group}</b> (at most {n} units, index ≥ {threshold})").format(
                group=esc(g.group.name), n=g.top_n, threshold=fmt_points(g.threshold, locale)
            )
        )
        if not g.rows and not g.council:
            lines.append(_("No unit qualifies yet."))
        for row in g.rows:
            lines.append(f"{row.rank}. {esc(row.name)} — <b>{_published(row, locale)}</b>")
        if g.council:
            lines.append(_("Tied for the last {n} place(s), for the council to decide:").format(n=g.seats))
            for row in g.council:
                lines.append(f"{row.rank}. {esc(row.name)} — <b>{_published(row, locale)}</b>")
    return "\n".join(lines)


def progress_text(progress: CycleProgress) -> str:
    stage = PERIOD_STATUS.get(progress.period_status)
    lines = [
        _("<b>Progress of the cycle — {period}</b>").format(period=esc(progress.period_name)),
        _("Current stage: {stage}").format(stage=_(stage) if stage else esc(progress.period_status)),
    ]
    for g in progress.groups:
        lines.append("")
        lines.append(_("<b>{group}</b> ({total} units)").format(group=esc(g.group.name), total=g.total))
        lines.append(
            _("Not started: {a} · In progress: {b} · Submitted: {c} · Appraised: {d}").format(
                a=g.not_started, b=g.in_progress, c=g.submitted, d=g.appraised
            )
        )
    return "\n".join(lines)
