"""Texts of the secretariat's screens (HTML; user text escaped)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from aiogram.utils.i18n import gettext as _

from bot.db.models import Agency, PeriodStatus
from bot.notify.broadcast import DeliveryReport
from bot.scoring.fmt import fmt_points
from bot.scoring.model import Leaf
from bot.services.assignment_board import FieldSlot
from bot.services.dashboard import Dashboard
from bot.services.periods import PeriodInfo
from bot.services.survey import SurveyUnit
from bot.text import N_, esc, fmt_dt
from bot.ui.paging import Page, clip, page_note

STAGE_LABELS: dict[str, str] = {
    "self_assessment": N_("Self-assessment deadline"),
    "appraisal": N_("Appraisal deadline"),
    "explanation": N_("Explanation deadline"),
    "final_appraisal": N_("Final appraisal deadline"),
}
STATUS_LABELS: dict[str, str] = {
    PeriodStatus.DRAFT.value: N_("draft"),
    PeriodStatus.SELF_ASSESSMENT.value: N_("self-assessment"),
    PeriodStatus.APPRAISAL.value: N_("appraisal"),
    PeriodStatus.EXPLANATION.value: N_("explanation round"),
    PeriodStatus.FINAL_APPRAISAL.value: N_("final appraisal"),
    PeriodStatus.APPROVED.value: N_("approved"),
    PeriodStatus.PUBLISHED.value: N_("published"),
}
AUDIENCE_LABELS: dict[str, str] = {
    "all": N_("everyone"),
    "not_submitted": N_("units not yet submitted"),
    "appraisers_pending": N_("appraisers with pending items"),
}
CATEGORY_LABELS: dict[str, str] = {
    "not_started": N_("not started"),
    "in_progress": N_("in progress"),
    "submitted": N_("submitted"),
    "appraised": N_("appraised"),
}


def status_label(status: str) -> str:
    return _(STATUS_LABELS[status]) if status in STATUS_LABELS else status


def period_text(info: PeriodInfo, notice: str = "") -> str:
    lines = [notice, ""] if notice else []
    lines.append(_("🗓 <b>{name}</b>").format(name=esc(info.name)))
    lines.append(_("Stage now: <b>{status}</b>").format(status=status_label(info.status)))
    lines.append(_("Opened: {when}").format(when=fmt_dt(info.stages.get("opens")) or "—"))
    for stage, label in STAGE_LABELS.items():
        lines.append(f"• {_(label)}: {fmt_dt(info.stages.get(stage)) or '—'}")
    lines += ["", _("Pick a deadline to change it, or move the period to its next stage.")]
    return "\n".join(lines)


def deadline_prompt(stage: str, current: datetime | None) -> str:
    return _(
        "📅 {stage}: now {current}.\nSend the new date as DD/MM/YYYY (end of that day) or DD/MM/YYYY HH:MM."
    ).format(stage=_(STAGE_LABELS.get(stage, stage)), current=fmt_dt(current) or "—")


def deadline_confirm(stage: str, current: datetime | None, new: datetime) -> str:
    return _("Change the {stage} from {current} to <b>{new}</b>? Reminders follow the new date.").format(
        stage=_(STAGE_LABELS.get(stage, stage)).lower(), current=fmt_dt(current) or "—", new=fmt_dt(new)
    )


def advance_confirm(year: int, target: str) -> str:
    text = _("Move the {year} period to <b>{status}</b>? People concerned are notified.").format(
        year=year, status=status_label(target)
    )
    if target == PeriodStatus.APPROVED.value:
        text += "\n" + _("After approval the scores are frozen.")
    if target == PeriodStatus.PUBLISHED.value:
        text += "\n" + _("Every unit receives its final result, and leaders are told.")
    return text


def progress_text(d: Dashboard) -> str:
    lines = [
        _("📊 <b>Progress</b> — PAR Index {year} ({status})").format(
            year=d.period.year, status=status_label(d.period.status)
        )
    ]
    for g in d.groups:
        counts = ", ".join(f"{_(CATEGORY_LABELS[k])} {v}" for k, v in g.counts.items())
        lines.append(f"• <b>{esc(g.name)}</b>: {counts}")
    lines += ["", _("<b>Appraising agencies</b> (items waiting, oldest):")]
    for a in d.agencies:
        if a.pending:
            lines.append(
                _("• {name}: {n} ({answered} answered), oldest {item} since {since}").format(
                    name=esc(a.name),
                    n=a.pending,
                    answered=a.answered,
                    item=esc(a.oldest_item),
                    since=fmt_dt(a.oldest),
                )
            )
        else:
            lines.append(_("• {name}: nothing waiting").format(name=esc(a.name)))
    return "\n".join(lines)


def audience_label(audience: str, group_name: str | None = None) -> str:
    if audience.startswith("group:"):
        return _("group {name}").format(name=esc(group_name or audience.removeprefix("group:")))
    return _(AUDIENCE_LABELS.get(audience, audience))


def broadcast_preview(audience: str, recipients: int, rendered: str) -> str:
    return (
        _("Preview — to {audience} ({n} people):").format(audience=audience, n=recipients)
        + "\n\n"
        + rendered
        + "\n\n"
        + _("Send it?")
    )


def report_text(report: DeliveryReport) -> str:
    text = _("📬 Delivery: sent {sent}, blocked {blocked}, failed {failed}, waiting {pending}.").format(
        sent=report.sent, blocked=report.blocked, failed=report.failed, pending=report.pending
    )
    if report.done:
        text += " " + _("Done.")
    return text


def _with_note(lines: list[str], page: Page[Any]) -> list[str]:
    note = page_note(page)
    return [*lines, f"<i>{note}</i>"] if note else lines


def survey_units_text(units: Page[SurveyUnit], year: int) -> str:
    if not units.total:
        return _("No criteria set of the {year} period has survey items.").format(year=year)
    head = _("📋 <b>Survey results</b> {year}: pick a unit (entered/total).").format(year=year)
    return "\n".join(_with_note([head], units))


def survey_unit_text(su: SurveyUnit, items: Page[tuple[Leaf, Decimal | None]], locale: str) -> str:
    lines = _with_note([_("📋 <b>{unit}</b>: survey items").format(unit=esc(clip(su.unit.name)))], items)
    for leaf, value in items.rows:
        shown = "—" if value is None else fmt_points(value, locale)
        name = esc(clip(leaf.name, 120))
        lines.append(f"• {esc(leaf.code)} {name}: {shown} / {fmt_points(leaf.max_points, locale)}")
    lines.append(_("Pick an item to enter its points."))
    return "\n".join(lines)


def survey_prompt(unit: str, code: str, maximum: str) -> str:
    return _("Send the survey points of {unit} for {code} (0 to {max}).").format(
        unit=esc(unit), code=esc(code), max=maximum
    )


#: Units per page of /notranked: each line also carries its reason.
NOT_RANKED_PAGE = 10


def not_ranked_text(units: Page[tuple[str, str, str]]) -> str:
    lines = _with_note([_("🚫 <b>Units not ranked</b>")], units)
    if not units.total:
        lines.append(_("None."))
    for code, name, reason in units.rows:
        lines.append(f"• {esc(clip(name))} ({esc(code)}): {esc(clip(reason, 100))}")
    lines += ["", _("To mark a unit: /notranked UNIT_CODE reason")]
    return "\n".join(lines)


def agencies_text(agencies: Page[Agency]) -> str:
    head = _("🧭 <b>Appraising agencies</b>: pick one to see and change its fields.")
    return "\n".join(_with_note([head], agencies))


def assign_text(agency: str, year: int, fields: Page[FieldSlot]) -> str:
    head = _(
        "🧭 Fields appraised by <b>{agency}</b> in {year}: "
        "tap a field to give it to this agency or take it back."
    ).format(agency=esc(clip(agency)), year=year)
    return "\n".join(_with_note([head], fields))
