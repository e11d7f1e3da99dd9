"""Keyboards and callback data of the common screens, and the button helpers every keyboard uses."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def markup(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    """An inline keyboard of `rows`; empty rows are left out."""
    return InlineKeyboardMarkup(inline_keyboard=[r for r in rows if r])


class LangCb(CallbackData, prefix="lang"):
    code: str


LANGUAGE_NAMES = {"vi": "🇻🇳 Tiếng Việt", "en": "🇬🇧 English"}


def language_keyboard(current: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code, name in LANGUAGE_NAMES.items():
        builder.button(text=("✓ " if code == current else "") + name, callback_data=LangCb(code=code))
    builder.adjust(2)
    return builder.as_markup()
