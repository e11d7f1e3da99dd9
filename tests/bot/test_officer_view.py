"""Officer screens without Telegram: sentences for refused values, long texts, callback data size."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.types import InlineKeyboardMarkup

from bot.criteria import shipped_path
from bot.handlers.screen import show
from bot.i18n import get_i18n
from bot.scoring.loader import load_criteria_set
from bot.scoring.numbers import InputError
from bot.ui import officer_kb as kb
from bot.ui.officer_view import input_error_text
from bot.ui.text import TELEGRAM_TEXT_LIMIT


@pytest.mark.parametrize(
    ("locale", "code", "params", "expected"),
    [
        ("vi", "over_max", {"max": "2.5"}, "⚠️ Giá trị vượt quá mức tối đa 2,5."),
        ("en", "over_max", {"max": "2.5"}, "⚠️ The value is above the maximum of 2.5."),
        ("vi", "not_on_step", {"step": "0.25"}, "⚠️ Điểm phải là bội số của 0,25."),
        ("vi", "negative", {}, "⚠️ Giá trị không được là số âm."),
        ("vi", "no_such_code", {}, "⚠️ Đây không phải là một trong các lựa chọn được đưa ra."),
    ],
)
def test_input_errors_are_one_sentence_in_the_readers_language(
    locale: str, code: str, params: dict[str, str], expected: str
) -> None:
    i18n = get_i18n()
    with i18n.context(), i18n.use_locale(locale):
        assert input_error_text(InputError(code, params), locale) == expected


class _FakeBot:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    async def send_message(self, chat_id: int, text: str, reply_markup: Any = None) -> Any:
        self.sent.append((text, reply_markup))
        return None


async def test_long_screens_are_split_with_the_keyboard_on_the_last_part() -> None:
    bot = _FakeBot()
    markup = InlineKeyboardMarkup(inline_keyboard=[])
    text = "\n".join(f"<b>{i}</b> " + "chữ " * 40 for i in range(60))
    await show(bot, 1, text, markup)  # type: ignore[arg-type]
    assert len(bot.sent) > 1
    assert all(len(part) <= TELEGRAM_TEXT_LIMIT for part, _ in bot.sent)
    assert [m for _, m in bot.sent] == [None] * (len(bot.sent) - 1) + [markup]


@pytest.mark.parametrize("code", ["2018-so", "2018-huyen", "2025-so", "2025-xa"])
def test_callback_data_fits_64_bytes_for_every_shipped_item(code: str) -> None:
    try:
        path = shipped_path(code)
    except (KeyError, FileNotFoundError, ValueError):
        pytest.skip(f"{code} not shipped")
    cs = load_criteria_set(path)
    aid = 9_999_999
    for _, criterion, leaf in cs.leaves():
        for data in (
            kb.OItem(aid=aid, c=leaf.code),
            kb.OCrit(aid=aid, c=criterion.code),
            kb.OAct(aid=aid, c=leaf.code, a="cancel"),
            kb.OAns(aid=aid, c=leaf.code, v="yes"),
            kb.OEvDel(aid=aid, e=99_999_999),
            kb.OSheet(aid=aid, a="withdraw_ok"),
        ):
            assert len(data.pack().encode()) <= 64
