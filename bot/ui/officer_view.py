"""Texts of the officer's self-assessment screens (HTML; anything a person typed goes through `esc`)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from aiogram.utils.i18n import gettext as _

from bot.db.models import Evidence
from bot.scoring.fmt import fmt_index, fmt_points
from bot.scoring.model import BandsRule, CountStepsRule, DeductionRule, Leaf, ManualRule, ProportionalRule
from bot.scoring.numbers import InputError
from bot.scoring.rules import Answer, choices
from bot.services.assessment import ItemState, Progress, Review, Sheet
from bot.text import N_, esc, fmt_dt, fmt_size
from bot.ui.figures_view import survey_pending_text

INPUT_ERRORS: dict[str, str] = {
    "empty": N_("Please send a value."),
    "not_a_number": N_(
        "This is not a number. Send for example 2 or 0,5 (a ratio like 45/50, a percentage like 90%)."
    ),
    "negative": N_("The value cannot be negative."),
    "bad_thousands": N_("The number is not written correctly: use a comma for decimals, e.g. 1234,5."),
    "zero_denominator": N_("The second number of a ratio cannot be 0."),
    "over_max": N_("The value is above the maximum of {max}."),
    "not_on_step": N_("Points must be a multiple of {step}."),
    "not_integer": N_("Please send a whole number."),
    "ratio_over_one": N_("The first number of the ratio cannot be larger than the second (at most 100%)."),
    "unknown_choice": N_("This is not one of the offered choices."),
    "not_self_scored": N_("This item is scored by the survey, not by the unit."),
}

STATUS_LABELS: dict[str, str] = {
    "not_started": N_("not started"),
    "draft": N_("draft"),
    "submitted": N_("submitted"),
    "returned": N_("withdrawn for correction"),
    "appraised": N_("appraised"),
    "finalized": N_("finalized"),
}


def input_error_text(exc: InputError, locale: str) -> str:
    """One sentence for a value the rule refuses; numbers in it ("max": "2.5") in the reader's style."""
    params = {key: _local_number(value, locale) for key, value in exc.params.items()}
    text = _(INPUT_ERRORS.get(exc.code, INPUT_ERRORS["unknown_choice"]))
    try:
        return "⚠️ " + text.format(**params)
    except (KeyError, IndexError):
        return "⚠️ " + text


def _local_number(value: str, locale: str) -> str:
    number, percent = (value[:-1], "%") if value.endswith("%") else (value, "")
    try:
        return fmt_points(Decimal(number), locale) + percent
    except ArithmeticError:
        return value


def lock_line(sheet: Sheet) -> str:
    if sheet.lock == "submitted":
        return _("🔒 The sheet has been submitted; it is read-only.")
    if sheet.lock == "period_locked":
        return _("🔒 The self-assessment stage is closed; the sheet is read-only.")
    return ""


def header(sheet: Sheet) -> str:
    status = _(STATUS_LABELS.get(sheet.assessment.status, sheet.assessment.status))
    return _("<b>Self-assessment {year}</b> · {unit}\nStatus: {status}").format(
        year=sheet.period.year, unit=esc(sheet.unit.name), status=status
    )


def _progress_line(p: Progress, locale: str) -> str:
    line = _("{code}. {name}\n    {done}/{total} answered · {points}/{max} points").format(
        code=esc(p.code),
        name=esc(p.name),
        done=p.done,
        total=p.total,
        points=fmt_points(p.points, locale),
        max=fmt_points(p.max_points, locale),
    )
    if p.evidence_missing:
        line += " · " + _("⚠ {n} without evidence or explanation").format(n=p.evidence_missing)
    return line


def home_text(sheet: Sheet, fields: Sequence[Progress], locale: str) -> str:
    done = sum(p.done for p in fields)
    total = sum(p.total for p in fields)
    points = sum((p.points for p in fields), Decimal(0))
    lines = [header(sheet)]
    if lock := lock_line(sheet):
        lines.append(lock)
    lines.append(
        _("Answered {done}/{total} · {points} points so far").format(
            done=done, total=total, points=fmt_points(points, locale)
        )
    )
    lines.append("")
    lines.extend(_progress_line(p, locale) for p in fields)
    lines.append("")
    lines.append(_("Choose a field:"))
    return "\n".join(lines)


def field_text(sheet: Sheet, code: str, name: str, criteria: Sequence[Progress], locale: str) -> str:
    lines = [header(sheet), "", f"<b>{esc(code)}. {esc(name)}</b>", ""]
    lines.extend(_progress_line(p, locale) for p in criteria)
    return "\n".join(lines)


def criterion_text(sheet: Sheet, code: str, name: str, states: Sequence[ItemState], locale: str) -> str:
    lines = [header(sheet), "", f"<b>{esc(code)} {esc(name)}</b>", ""]
    for s in states:
        mark = "✅" if s.answered else "…"
        lines.append(f"{mark} {esc(s.leaf.code)} {esc(s.leaf.name)} — {_answer_short(s, locale)}")
    return "\n".join(lines)


def _answer_short(s: ItemState, locale: str) -> str:
    if s.na_claimed:
        return _("not applicable")
    if s.self_points is None:
        return _("not answered")
    return _("{points}/{max} points").format(
        points=fmt_points(s.self_points, locale), max=fmt_points(s.leaf.max_points, locale)
    )


def how_to_answer(leaf: Leaf) -> str:
    rule = leaf.rule
    if isinstance(rule, BandsRule):
        if rule.unit == "percent":
            return _("Send a percentage (90%) or a ratio (45/50).")
        return _("Send a number.")
    if isinstance(rule, ProportionalRule):
        return _("Send a ratio a/b (for example 45/50) or a percentage (90%).")
    if isinstance(rule, CountStepsRule):
        return _("Send a count (a whole number).")
    if isinstance(rule, ManualRule):
        return _("Send the points, from 0 to {max}, in steps of {step}.").format(
            max=fmt_points(leaf.max_points), step=fmt_points(rule.step)
        )
    if isinstance(rule, DeductionRule):
        return _("Send the number of violations (0 if none).")
    return ""


def _display_raw(s: ItemState, locale: str) -> str:
    raw = s.self_raw or ""
    if raw.startswith("level:"):
        index = raw.removeprefix("level:")
        for value, label, _points in choices(s.leaf):
            if value == index:
                return label
    if raw in ("yes", "no"):
        for value, label, _points in choices(s.leaf):
            if value == raw:
                return label
    return raw.replace(".", ",") if locale == "vi" else raw


def item_text(sheet: Sheet, s: ItemState, locale: str, notice: str = "") -> str:
    leaf = s.leaf
    lines = []
    if notice:
        lines += [notice, ""]
    lines.append(
        _("<b>{code}</b> {name}\nMaximum: {max} points").format(
            code=esc(leaf.code), name=esc(leaf.name), max=fmt_points(leaf.max_points, locale)
        )
    )
    lines.append(_("<b>Rule:</b> {text}").format(text=esc(leaf.rule_text)))
    if leaf.evidence_hint:
        lines.append(_("<b>Evidence:</b> {text}").format(text=esc(leaf.evidence_hint)))
    lines.append("")
    if s.na_claimed:
        lines.append(_("<b>Answer:</b> not applicable — {reason}").format(reason=esc(s.na_reason)))
    elif s.self_points is None:
        lines.append(_("<b>Answer:</b> not answered yet"))
    else:
        lines.append(
            _("<b>Answer:</b> {points} points ({raw})").format(
                points=fmt_points(s.self_points, locale), raw=esc(_display_raw(s, locale))
            )
        )
    lines.append(_("<b>Evidence files:</b> {n}").format(n=s.evidence_count))
    if s.evidence_note:
        lines.append(_("<b>Page/section:</b> {text}").format(text=esc(s.evidence_note)))
    if s.explanation:
        lines.append(_("<b>Explanation:</b> {text}").format(text=esc(s.explanation)))
    if s.needs_explanation:
        lines.append(_("⚠ Points without evidence: attach a file or write an explanation."))
    if s.appraisal1_status:
        lines.append("")
        points = "" if s.appraisal1_points is None else fmt_points(s.appraisal1_points, locale)
        lines.append(
            _("<b>Appraisal:</b> {points} {comment}").format(points=points, comment=esc(s.appraisal1_comment))
        )
    if s.final_points is not None:
        lines.append(
            _("<b>Final appraisal:</b> {points} {comment}").format(
                points=fmt_points(s.final_points, locale), comment=esc(s.final_comment)
            )
        )
    if lock := lock_line(sheet):
        lines += ["", lock]
    elif how := how_to_answer(leaf):
        lines += ["", "<i>" + how + "</i>"]
    return "\n".join(lines)


def preview_text(code: str, answer: Answer, locale: str) -> str:
    return _("<b>{code}</b>: {display} → <b>{points}</b> points.\nSave this answer?").format(
        code=esc(code), display=esc(answer.display), points=fmt_points(answer.points, locale)
    )


def saved_notice(code: str, answer: Answer, locale: str) -> str:
    return _("✅ Saved: {code} = {points} points.").format(
        code=esc(code), points=fmt_points(answer.points, locale)
    )


def evidence_text(code: str, rows: Sequence[Evidence], editable: bool, locale: str) -> str:
    lines = [_("<b>Evidence of {code}</b>").format(code=esc(code))]
    if not rows:
        lines.append(_("No files yet."))
    for i, row in enumerate(rows, 1):
        size = fmt_size(row.size, locale)
        lines.append(
            f"{i}. {esc(row.file_name or row.kind)} · {size} · sha256 {esc((row.sha256 or '')[:12])}…"
        )
    if editable:
        lines.append("")
        lines.append(_("Send documents or photos (an album is fine) to attach them to this item."))
    return "\n".join(lines)


def review_text(sheet: Sheet, review: Review, locale: str) -> str:
    r = review.result
    lines = [header(sheet)]
    if lock := lock_line(sheet):
        lines.append(lock)
    index = _("<b>Index:</b> {index}").format(index=fmt_index(r.index, locale))
    if pending := survey_pending_text(r.survey_pending_max, locale):
        index += f" · {pending}"
    lines += [
        "",
        _("<b>Total:</b> {points} / {max} points (applicable)").format(
            points=fmt_points(r.points, locale), max=fmt_points(r.applicable_max, locale)
        ),
        index,
        _("Answered: {done}/{total}").format(done=r.answered, total=r.leaf_count),
        "",
    ]
    for f in r.fields:
        points = f"{fmt_points(f.points, locale)}/{fmt_points(f.applicable_max, locale)}"
        line = f"{esc(f.code)}. {esc(f.name)}: {points}"
        if pending := survey_pending_text(f.pending_max, locale):
            line += f" · {pending}"
        lines.append(line)
    lines.append("")
    if review.unanswered:
        lines.append(_("<b>Not answered:</b> {codes}").format(codes=esc(", ".join(review.unanswered))))
    if review.unexplained:
        lines.append(
            _("<b>Points without evidence or explanation:</b> {codes}").format(
                codes=esc(", ".join(review.unexplained))
            )
        )
    if review.complete:
        lines.append(_("✅ Nothing is missing."))
        if sheet.editable and not sheet.is_head:
            lines.append(_("The unit head submits the sheet."))
    if sheet.assessment.submitted_at is not None:
        lines.append(_("Submitted on {when}.").format(when=fmt_dt(sheet.assessment.submitted_at)))
    return "\n".join(lines)
