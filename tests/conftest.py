"""Shared fixtures: the databases, and `emulator` (a Bot API emulator on a free local port).

`db_url` is parametrized: every test that uses it runs on SQLite (a temp file) and on PostgreSQL
(127.0.0.1:5432, trust auth). For PostgreSQL one uniquely named database is created per test
session from the `postgres` maintenance database, migrated once, emptied after every test and
dropped at the end; if the server is unreachable those cases are skipped with the reason.
For SQLite a migrated template file is made once and copied per test.

    async def test_x(session: AsyncSession) -> None: ...   # a session on a migrated, empty db
    async def test_y(db_url: str) -> None: ...             # the URL, for code that opens its own
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.db.engine import make_engine, make_sessionmaker
from bot.db.migrate import upgrade
from bot.db.models import Base
from bot.sandbox.emulator import Emulator

T = TypeVar("T")

PG_ADMIN_URL = os.environ.get(
    "CCHC_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even when an event loop is running here
    (session fixtures can be first requested from inside an async test)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _pg_admin(sql: str) -> None:
    import asyncpg

    connection = await asyncio.wait_for(asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL)), timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


class _PgServer:
    """Creates databases on demand and drops them all at the end of the session."""

    def __init__(self) -> None:
        self.created: list[str] = []
        self.error: str | None = None
        try:
            _run(_pg_admin("SELECT 1"))
        except Exception as exc:  # any failure to connect means: skip the PostgreSQL cases
            self.error = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc!r}"

    def new_database(self, tag: str) -> str:
        if self.error:
            pytest.skip(self.error)
        name = f"cchc_test_{tag}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        _run(_pg_admin(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        for name in self.created:
            _run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """A Bot API emulator on a free local port."""
    emulator = Emulator()
    await emulator.start("127.0.0.1", 0)
    yield emulator
    await emulator.stop()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[_PgServer]:
    server = _PgServer()
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def pg_migrated_url(pg_server: _PgServer) -> str:
    url = pg_server.new_database("main")
    _run(upgrade(url))
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    _run(upgrade(f"sqlite+aiosqlite:///{path}"))
    return path


async def _truncate_all(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """URL of a migrated, empty database (SQLite file or the session's PostgreSQL database)."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "cchc.sqlite3"
        shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    url: str = request.getfixturevalue("pg_migrated_url")
    yield url
    await _truncate_all(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of a database with no tables at all (for migration tests)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
    server: _PgServer = request.getfixturevalue("pg_server")
    return server.new_database("empty")


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with make_sessionmaker(engine)() as session:
        yield session


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated SQLite database only (CLI tests and other tests that need one backend)."""
    path = tmp_path / "cchc.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"
