"""The secretariat in chat (SPEC §5, issue 4 §5): /period, /progress, /broadcast, /survey,
/notranked and /assign. Each screen lives in its own module."""

from __future__ import annotations

from aiogram import Router

from bot.handlers.secretariat import assign, broadcast, period, progress, ranking_flag, survey
from bot.text import N_

COMMANDS: dict[str, list[tuple[str, str]]] = {
    "secretariat": [
        ("period", N_("Stages and deadlines; move the period on")),
        ("progress", N_("Progress of units and appraising agencies")),
        ("broadcast", N_("Send a message to an audience")),
        ("survey", N_("Enter survey results")),
        ("notranked", N_("Mark a unit as not ranked")),
        ("assign", N_("Which agency appraises which field")),
    ]
}

router = Router(name="secretariat")
router.include_routers(
    period.router, progress.router, broadcast.router, survey.router, ranking_flag.router, assign.router
)
