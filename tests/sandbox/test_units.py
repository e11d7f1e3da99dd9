"""Pure parts of the emulator: the HTML parser and the flood windows."""

from __future__ import annotations

import pytest

from bot.sandbox.emulator.errors import ApiError
from bot.sandbox.emulator.flood import FloodControl
from bot.sandbox.emulator.html_parse import parse_html


def test_html_entities_count_utf16_offsets() -> None:
    text, entities = parse_html(
        '🙂 <a href="https://x.vn">Sở</a> <pre><code class="language-py">x</code></pre>'
    )
    assert text == "🙂 Sở x"
    assert entities[0] == {"type": "text_link", "offset": 3, "length": 2, "url": "https://x.vn"}
    assert {"type": "pre", "offset": 6, "length": 1, "language": "py"} in entities


def test_html_error_has_byte_offset() -> None:
    with pytest.raises(ApiError) as err:
        parse_html("Điểm <5")
    assert err.value.code == 400
    assert "Unclosed start tag at byte offset 8" in err.value.description
    with pytest.raises(ApiError, match='Unsupported start tag "" at byte offset 2'):
        parse_html("a < b")
    with pytest.raises(ApiError, match="Unexpected end tag at byte offset 0"):
        parse_html("</b>")
    assert parse_html("<b>x</>") == ("x", [{"type": "bold", "offset": 0, "length": 1}])
    assert parse_html("AT&T &amp; &#272;") == ("AT&T & Đ", [])


def test_flood_windows() -> None:
    now = [0.0]
    flood = FloodControl(clock=lambda: now[0])
    flood.configure(True)
    assert [flood.check(1, 5, private=True) for _ in range(4)] == [None, None, None, 1]
    now[0] = 1.0
    assert flood.check(1, 5, private=True) is None
    results = [flood.check(1, -9, private=False) for _ in range(21)]
    assert results[:20] == [None] * 20 and results[20] == 60
    now[0] = 1.5
    overall = [flood.check(1, 100 + i, private=True) for i in range(40)]
    # 21 sends at t=1.0 are still in the one-second window, so 9 more fit under 30/s.
    assert overall.count(None) == 9
    assert overall[-1] == 1
