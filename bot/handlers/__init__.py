"""Router assembly: common first (so /cancel and /help work in any state), the role features, the
fallback last. Each feature module may declare `COMMANDS` (see bot/ui/menus.py) for the menus and
/help."""

from __future__ import annotations

from types import ModuleType

from aiogram import Router

from bot.handlers import (
    appraiser,
    common,
    fallback,
    leader,
    leader_progress,
    officer,
    secretariat,
    unit_reply,
)
from bot.ui.menus import MenuRegistry

FEATURE_MODULES: tuple[ModuleType, ...] = (
    common,
    officer,
    appraiser,
    unit_reply,
    leader_progress,  # before secretariat: leaders' /progress (filtered)
    secretariat,
    leader,
    fallback,
)


def build_routers(menus: MenuRegistry | None = None) -> list[Router]:
    """The feature modules' routers, in order; fills `menus` from their COMMANDS."""
    if menus is not None:
        for module in FEATURE_MODULES:
            menus.add(getattr(module, "COMMANDS", {}))
    return [module.router for module in FEATURE_MODULES]
