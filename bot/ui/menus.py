"""Command menus: one per role, shown through per-chat command scopes (SPEC §5).

Each handler module may declare `COMMANDS: dict[str, list[tuple[str, str]]]`, role → (command,
description msgid marked with N_); `"*"` means every registered person. `build_routers()` collects
them into a `MenuRegistry`, from which /help and the Telegram menus are built, so a command appears
in a menu only when its handler exists.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from bot.i18n import SUPPORTED_LOCALES, translate
from bot.text import N_
from bot.ui.roles import sort_roles

log = logging.getLogger("bot.menus")

EVERYONE = "*"
UNREGISTERED: list[tuple[str, str]] = [("start", N_("Register with an invite code"))]
MAX_COMMANDS = 100


@dataclass
class MenuRegistry:
    by_role: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def add(self, commands: Mapping[str, Iterable[tuple[str, str]]]) -> None:
        for role, items in commands.items():
            known = self.by_role.setdefault(role, [])
            for command, description in items:
                if all(command != c for c, _ in known):
                    known.append((command, description))

    def for_role(self, role: str) -> list[tuple[str, str]]:
        return list(self.by_role.get(role, []))

    def for_roles(self, roles: Iterable[str]) -> list[tuple[str, str]]:
        """Role commands first (in role order), then the ones every registered person has."""
        seen: set[str] = set()
        result: list[tuple[str, str]] = []
        for role in [*sort_roles(set(roles)), EVERYONE]:
            for command, description in self.by_role.get(role, []):
                if command not in seen:
                    seen.add(command)
                    result.append((command, description))
        return result[:MAX_COMMANDS]


def bot_commands(items: Iterable[tuple[str, str]], locale: str) -> list[BotCommand]:
    return [BotCommand(command=c, description=translate(locale, d)) for c, d in items]


async def set_default_menus(bot: Bot) -> None:
    """The menu of people without a chat scope (not yet registered): vi by default, en for English apps."""
    for locale in SUPPORTED_LOCALES:
        await bot.set_my_commands(
            bot_commands(UNREGISTERED, locale),
            scope=BotCommandScopeDefault(),
            language_code=None if locale == "vi" else locale,
        )


async def set_person_menu(
    bot: Bot, registry: MenuRegistry, telegram_id: int, roles: Iterable[str], language: str | None = None
) -> None:
    """The person's own menu in their private chat; errors are only logged.

    Without a saved language: Vietnamese by default and English for English apps. With one (/lang),
    that language whatever the app's language, as every other screen.
    """
    items = registry.for_roles(roles)
    scope = BotCommandScopeChat(chat_id=telegram_id)
    for locale in SUPPORTED_LOCALES:
        shown = language if language in SUPPORTED_LOCALES else locale
        commands = bot_commands(items, shown)
        code = None if locale == "vi" else locale
        for attempt in range(3):
            try:
                await bot.set_my_commands(commands, scope=scope, language_code=code)
                break
            except TelegramRetryAfter as exc:
                if attempt == 2:
                    log.warning("menu for %s not set: %s", telegram_id, exc)
                    return
                await asyncio.sleep(exc.retry_after)
            except TelegramAPIError as exc:  # e.g. the person never opened a chat with the bot
                log.warning("menu for %s not set: %s", telegram_id, exc)
                return
