"""Settings: defaults for the embedded start, and one line naming the variable for a wrong value."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings, SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("CCHC_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env file from the developer's checkout


def test_defaults_need_no_server() -> None:
    settings = load_settings()
    assert settings.bot_token is None
    assert settings.database_url.startswith("sqlite+aiosqlite:///./var/")
    assert str(settings.evidence_dir).startswith("var")
    assert (settings.timezone, settings.locale) == ("Asia/Ho_Chi_Minh", "vi")
    assert settings.telegram_api_url == "https://api.telegram.org"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CCHC_BOT_TOKEN", "not-a-token"),
        ("CCHC_TELEGRAM_API_URL", "api.telegram.org"),
        ("CCHC_DATABASE_URL", "mysql://root@localhost/cchc"),
        ("CCHC_REDIS_URL", "localhost:6379"),
        ("CCHC_TIMEZONE", "Asia/Hanoi_City"),
        ("CCHC_LOCALE", "fr"),
        ("CCHC_WEBHOOK_PORT", "eighty"),
        # issue 13, defect 6: a URL the Bot API client would turn into nonsense
        ("CCHC_TELEGRAM_API_URL", "http://host/x?y"),
        ("CCHC_TELEGRAM_API_URL", "http://host#frag"),
        ("CCHC_TELEGRAM_API_URL", "http://"),
        ("CCHC_TELEGRAM_API_URL", "http://ho st"),
        ("CCHC_TELEGRAM_API_URL", "http://127.0.0.1:99999"),
        ("CCHC_WEBHOOK_SECRET", "has spaces"),
        ("CCHC_WEBHOOK_SECRET", "x" * 257),
    ],
)
def test_a_wrong_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as exc:
        load_settings()
    message = str(exc.value)
    assert message.startswith(f"{variable}: ") and "\n" not in message
    # The CLI turns it into one line on stderr and exit code 1.
    assert main(["rank"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {variable}: ") and "\n" not in err


def test_env_file_is_read() -> None:
    lines = "CCHC_LOCALE=en\nCCHC_TELEGRAM_API_URL=http://127.0.0.1:8081/\n"
    Path(".env").write_text(lines, encoding="utf-8")
    settings = Settings()
    assert settings.locale == "en"
    assert settings.telegram_api_url == "http://127.0.0.1:8081"  # trailing slash removed
