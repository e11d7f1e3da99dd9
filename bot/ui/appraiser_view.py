"""Texts of the appraiser's screens (HTML; user text escaped)."""

from __future__ import annotations

from decimal import Decimal

from aiogram.utils.i18n import gettext as _

from bot.db.models import AppraisalStatus
from bot.scoring.fmt import fmt_points
from bot.scoring.rules import Answer, choices
from bot.services.appraisal import Count, ItemContext, Pending
from bot.services.stages import Round, answered
from bot.text import N_, esc, fmt_dt
from bot.ui.paging import Page, clip, page_note

STATUS = {
    AppraisalStatus.ACCEPTED.value: N_("accepted"),
    AppraisalStatus.ADJUSTED.value: N_("adjusted"),
    AppraisalStatus.SUPPLEMENT_REQUESTED.value: N_("supplement requested"),
    AppraisalStatus.NA_ACCEPTED.value: N_("N/A accepted"),
    AppraisalStatus.NA_REFUSED.value: N_("N/A refused"),
}


def status_label(status: str | None) -> str:
    return _(STATUS[status]) if status in STATUS else ""


def points_text(value: Decimal | None, locale: str) -> str:
    """Points as shown in the appraisal screens; a dash when there are none yet."""
    return "—" if value is None else fmt_points(value, locale)


def round_label(rnd: Round | None) -> str:
    if rnd is Round.FIRST:
        return _("appraisal 1")
    if rnd is Round.FINAL:
        return _("final appraisal")
    return _("closed")


def home_text(p: Pending, units: Page[Count]) -> str:
    """The queue's heading, one page of its units (`units`, a page of `p.by_unit`) and the fields."""
    period = p.period
    lines = [_("🔎 <b>Appraisal queue</b> — PAR Index {year}").format(year=period.year)]
    if p.round is None:
        lines.append(_("No appraisal round is open now."))
        return "\n".join(lines)
    deadline = period.appraisal_deadline if p.round is Round.FIRST else period.final_deadline
    lines.append(
        _("Round: {round}; deadline: {deadline}").format(
            round=round_label(p.round), deadline=fmt_dt(deadline) or "—"
        )
    )
    if not p.items:
        lines += ["", _("Nothing is waiting for your agency. 🎉")]
        return "\n".join(lines)
    lines += ["", _("<b>{n} item(s) waiting</b>, by unit (oldest first):").format(n=len(p.items))]
    note = page_note(units)
    if note:
        lines.append(f"<i>{note}</i>")
    for c in units.rows:
        extra = _(", {n} answered").format(n=c.answered) if c.answered else ""
        lines.append(
            _("• {name}: {n}{extra} — since {since}").format(
                name=esc(clip(c.name)), n=c.count, extra=extra, since=fmt_dt(c.oldest)
            )
        )
    lines += ["", _("<b>By field:</b>")]
    for c in p.by_field:
        lines.append(f"• {esc(clip(c.name))}: {c.count}")
    lines += ["", _("Pick a unit to appraise its items one by one.")]
    return "\n".join(lines)


def _raw(ctx: ItemContext, locale: str) -> str:
    raw = (ctx.item.self_raw if ctx.item else None) or ""
    key = raw.removeprefix("level:")
    for value, label, _points in choices(ctx.leaf):
        if value == key:
            return label
    return raw.replace(".", ",") if locale == "vi" else raw


def item_text(ctx: ItemContext, locale: str, notice: str = "") -> str:
    item, leaf = ctx.item, ctx.leaf
    lines: list[str] = []
    if notice:
        lines += [notice, ""]
    lines.append(
        _("🏢 <b>{unit}</b> — {round}").format(unit=esc(ctx.unit.name), round=round_label(ctx.round))
    )
    lines.append(
        f"{esc(ctx.area.code)}. {esc(ctx.area.name)} › {esc(ctx.criterion.code)} {esc(ctx.criterion.name)}"
    )
    lines.append(
        _("<b>{code}</b> {name}\nMaximum: {max} points").format(
            code=esc(leaf.code), name=esc(leaf.name), max=fmt_points(leaf.max_points, locale)
        )
    )
    lines.append(_("<b>Rule:</b> {text}").format(text=esc(leaf.rule_text)))
    lines.append("")
    if item is not None and item.na_claimed:
        lines.append(_("<b>Unit:</b> not applicable — {reason}").format(reason=esc(item.na_reason)))
    else:
        points = item.self_points if item else None
        lines.append(
            _("<b>Unit:</b> {points} points ({raw})").format(
                points=points_text(points, locale), raw=esc(_raw(ctx, locale))
            )
        )
    if item is not None and item.explanation:
        lines.append(_("<b>Explanation:</b> {text}").format(text=esc(item.explanation)))
    if item is not None and item.evidence_note:
        lines.append(_("<b>Page/section:</b> {text}").format(text=esc(item.evidence_note)))
    supplements = sum(1 for e in ctx.evidence if e.round == "supplement")
    lines.append(_("<b>Evidence files:</b> {n} (supplement: {s})").format(n=len(ctx.evidence), s=supplements))
    if item is not None and item.appraisal1_status:
        lines.append("")
        lines.append(
            _("<b>Appraisal 1:</b> {status}, {points} points. {comment}").format(
                status=status_label(item.appraisal1_status),
                points=points_text(item.appraisal1_points, locale),
                comment=esc(item.appraisal1_comment),
            )
        )
    if item is not None and item.unit_reply_at is not None:
        mark = _("✅ answered") if answered(item) else ""
        lines.append(
            _("<b>Unit's answer</b> ({when}) {mark}: {text}").format(
                when=fmt_dt(item.unit_reply_at), mark=mark, text=esc(item.unit_reply or "—")
            )
        )
    if item is not None and item.final_status:
        lines.append(
            _("<b>Final:</b> {status}, {points} points. {comment}").format(
                status=status_label(item.final_status),
                points=points_text(item.final_points, locale),
                comment=esc(item.final_comment),
            )
        )
    if ctx.round is None:
        lines += ["", _("No appraisal round is open now: this item is read-only.")]
    elif not ctx.pending:
        lines += ["", _("This item has been decided; you can still change the decision.")]
    return "\n".join(lines)


def adjust_prompt(ctx: ItemContext, how: str) -> str:
    head = _("✏️ New points for <b>{code}</b> (max {max}), through the same rule as the unit.").format(
        code=esc(ctx.leaf.code), max=fmt_points(ctx.leaf.max_points)
    )
    return head + ("\n<i>" + how + "</i>" if how else "")


def reason_prompt(ctx: ItemContext, answer: Answer, locale: str) -> str:
    return _(
        "New points for <b>{code}</b>: {display} → <b>{points}</b>.\nNow write the reason for the adjustment."
    ).format(code=esc(ctx.leaf.code), display=esc(answer.display), points=fmt_points(answer.points, locale))


def note_prompt(ctx: ItemContext) -> str:
    return _(
        "📎 What should {unit} add for <b>{code}</b>? Write the request (it is sent to the unit)."
    ).format(unit=esc(ctx.unit.name), code=esc(ctx.leaf.code))


def na_prompt(ctx: ItemContext) -> str:
    return _("🚫 Why is “not applicable” refused for <b>{code}</b>? Write the reason.").format(
        code=esc(ctx.leaf.code)
    )


def field_confirm(unit: str, field_code: str, n: int) -> str:
    return _("Accept the unit's points for all {n} remaining item(s) of field {field} of {unit}?").format(
        n=n, field=esc(field_code), unit=esc(unit)
    )
