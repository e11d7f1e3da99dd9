"""Router assembly: common first (so /cancel and /help work in any state), the role features, the
fallback last. A feature module is listed here once it exists; each may declare `COMMANDS`
(see bot/ui/menus.py) for the menus and /help."""

from __future__ import annotations

import importlib
import importlib.util
import logging

from aiogram import Router

from bot.ui.menus import MenuRegistry

log = logging.getLogger(__name__)

FEATURE_MODULES: tuple[str, ...] = (
    "bot.handlers.common",
    "bot.handlers.officer",
    "bot.handlers.appraiser",
    "bot.handlers.unit_reply",
    "bot.handlers.leader_progress",  # before secretariat: leaders' /progress (filtered)
    "bot.handlers.secretariat",
    "bot.handlers.leader",
    "bot.handlers.fallback",
)


def _present(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def build_routers(menus: MenuRegistry | None = None) -> list[Router]:
    """Fresh routers of the feature modules that exist, in order; fills `menus` from their COMMANDS."""
    routers: list[Router] = []
    for name in FEATURE_MODULES:
        if not _present(name):
            continue
        module = importlib.import_module(name)
        router = getattr(module, "router", None)
        if isinstance(router, Router):
            routers.append(router)
        if menus is not None:
            menus.add(getattr(module, "COMMANDS", {}))
    return routers
