"""The officer's and unit head's self-assessment in the chat (SPEC §5, issue 3 §3)."""

from __future__ import annotations

from aiogram import Router

from bot.handlers.officer import answers, files, navigation
from bot.text import N_

_OWN_SHEET = [
    ("score", N_("Score your unit's self-assessment")),
    ("review", N_("Review the sheet: totals and what is missing")),
]

COMMANDS: dict[str, list[tuple[str, str]]] = {"officer": _OWN_SHEET, "unit_head": _OWN_SHEET}

router = Router(name="officer")
router.include_routers(navigation.router, answers.router, files.router)
