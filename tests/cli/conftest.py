"""CLI tests run `bot.cli.main([...])` in-process against a temp SQLite database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli import main

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli_db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_url: str) -> str:
    """A migrated SQLite database set as CCHC_DATABASE_URL; cwd is a temp dir (no stray ./var)."""
    monkeypatch.setenv("CCHC_DATABASE_URL", sqlite_url)
    monkeypatch.delenv("CCHC_BOT_USERNAME", raising=False)
    monkeypatch.chdir(tmp_path)
    return sqlite_url


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    def _run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return _run
