"""Settings from the environment (prefix CCHC_) and an optional .env file.

A wrong value stops start-up with one line naming the variable (see `load_settings`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOCALES = ("vi", "en")
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class SettingsError(RuntimeError):
    """Raised with a one-line message that names the offending CCHC_ variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CCHC_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    bot_token: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    database_url: str = "sqlite+aiosqlite:///./var/cchc.sqlite3"
    redis_url: str | None = None
    evidence_dir: Path = Path("./var/evidence")
    timezone: str = "Asia/Ho_Chi_Minh"
    locale: str = "vi"
    # Webhook mode (SPEC §7): when webhook_url is set, `cchc-bot run --webhook` listens here.
    webhook_url: str | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8081
    webhook_secret: str | None = None
    # The web chat of the sandbox (`make run` without a token).
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = 8080
    # For invite deep links https://t.me/<bot_username>?start=<code>.
    bot_username: str = "cchc_bot"

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        bot_id, _, secret = value.partition(":")
        if not bot_id.isdigit() or len(secret) < 10:
            raise ValueError("expected the form 123456789:ABC... that @BotFather gives")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        """A base the Bot API client appends `/bot<token>/<method>` to: scheme, host, optional port
        and path; a query, a fragment or credentials would end up in the middle of every request."""
        expected = "expected a base URL such as https://api.telegram.org or http://127.0.0.1:8081"
        parts = urlsplit(value.strip())
        try:
            port_ok = parts.port is None or parts.port > 0
        except ValueError:
            port_ok = False
        if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
            raise ValueError(expected)
        if parts.query or parts.fragment or "?" in value or "#" in value:
            raise ValueError(f"{expected} (no ?query or #fragment)")
        if parts.username or parts.password or any(c.isspace() for c in value.strip()):
            raise ValueError(expected)
        return value.strip().rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("expected sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected redis://HOST:PORT/DB")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not _SECRET.fullmatch(value):
            raise ValueError("expected 1-256 characters A-Z a-z 0-9 _ - (what Telegram allows)")
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if value not in LOCALES:
            raise ValueError(f"expected one of {', '.join(LOCALES)}")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings(**overrides: object) -> Settings:
    """Build settings; turn pydantic's report into one line naming the CCHC_ variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "CCHC_" + str(first["loc"][0]).upper() if first["loc"] else "CCHC_?"
        message = first["msg"].removeprefix("Value error, ")
        raise SettingsError(f"{name}: {message}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
