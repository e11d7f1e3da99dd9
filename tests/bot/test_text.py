"""Text helpers every screen relies on."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.errors import ServiceError
from bot.text import esc, fmt_dt, fmt_size
from bot.ui.errors import error_text
from bot.ui.text import split_text

TAG = re.compile(r"<(/?)([a-z]+)[^>]*>")


def balanced(html: str) -> bool:
    stack: list[str] = []
    for closing, name in TAG.findall(html):
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    return not stack


def test_esc() -> None:
    assert esc("<b>Sở & Ban</b>") == "&lt;b&gt;Sở &amp; Ban&lt;/b&gt;"
    assert esc(None) == ""
    assert esc(3) == "3"


def test_fmt_dt_local_time() -> None:
    when = datetime(2025, 12, 31, 17, 0, tzinfo=UTC)
    assert fmt_dt(when, ZoneInfo("Asia/Ho_Chi_Minh")) == "01/01/2026 00:00"
    assert fmt_dt(datetime(2025, 3, 4, 5, 6), "UTC") == "04/03/2025 05:06"
    assert fmt_dt(None) == ""


def test_short_text_is_one_part() -> None:
    assert split_text("<b>ngắn</b>") == ["<b>ngắn</b>"]


def test_split_keeps_tags_balanced_and_lines_whole() -> None:
    body = "\n".join(f"<b>{i}.</b> tiêu chí &amp; điểm {i}" for i in range(600))
    text = f"<i>Tổng hợp\n{body}\nhết</i>"
    parts = split_text(text)
    assert len(parts) > 1
    for part in parts:
        assert len(part) <= 4096
        assert balanced(part), part[:100]
        assert part.startswith("<i>")
    joined = "\n".join(TAG.sub("", p) for p in parts)
    assert TAG.sub("", text) == joined


def test_one_very_long_line_is_cut_outside_tags_and_entities() -> None:
    text = "<b>" + ("xã &amp; phường " * 800) + "</b>"
    parts = split_text(text, limit=1000)
    assert all(len(p) <= 1000 and balanced(p) for p in parts)
    assert all(not re.search(r"&[a-z]*$", TAG.sub("", p)) for p in parts)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="abc đêơ<>&\n", max_size=80), max_size=120), st.integers(200, 900))
def test_split_never_exceeds_the_limit(lines: list[str], limit: int) -> None:
    text = "\n".join(f"<b>{esc(line)}</b>" for line in lines)
    for part in split_text(text, limit):
        assert len(part) <= limit
        assert balanced(part)


def test_error_text_translates_service_errors() -> None:
    assert error_text(ServiceError("forbidden"), "vi") == "Bạn không có quyền thực hiện thao tác này."
    assert error_text(ServiceError("forbidden"), "en") == "You do not have the right to do this."
    assert error_text(ServiceError("no_period", year=2026), "vi") == "Chưa có kỳ đánh giá năm 2026."
    assert error_text(ServiceError("something_new"), "vi") == "Hiện không thể thực hiện thao tác này."


@pytest.mark.parametrize(
    ("size", "locale", "expected"),
    [(45, "vi", "45 B"), (1536, "vi", "1,5 KB"), (1536, "en", "1.5 KB"), (25 * 1024 * 1024, "vi", "25,0 MB")],
)
def test_file_sizes_read_as_people_read_them(size: int, locale: str, expected: str) -> None:
    assert fmt_size(size, locale) == expected
