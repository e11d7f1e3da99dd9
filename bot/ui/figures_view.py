"""How the scoring core's figures read in chat, for every role's screens: the published index,
the class, and the survey component still pending (docs/criteria.md, "How the index is
computed")."""

from __future__ import annotations

from decimal import Decimal

from aiogram.utils.i18n import gettext as _

from bot.scoring.bands import ClassBand
from bot.scoring.fmt import fmt_points


def band_text(band: ClassBand | None, locale: str) -> str:
    if band is None:
        return ""
    return band.name_en if locale == "en" and band.name_en else band.name_vi


def survey_pending_text(pending_max: Decimal, locale: str) -> str:
    """ "chưa có kết quả điều tra XHH (20 điểm)", or "" when nothing is pending."""
    if pending_max <= 0:
        return ""
    return _("survey result pending ({points} points)").format(points=fmt_points(pending_max, locale))
