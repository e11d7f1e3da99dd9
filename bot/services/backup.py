"""Backup and restore of everything the bot keeps: the database and every evidence file.

An archive is a `.tar.gz` with

    manifest.json        created_at, version, alembic revision, database kind, counts, sha256 of every file
    database.sqlite3     SQLite: a consistent online copy (sqlite3 backup API; WAL content included)
    database.pgdump      PostgreSQL: `pg_dump --format=custom`, from the same snapshot as the counts
    evidence/<path>      every file under CCHC_EVIDENCE_DIR, by its path relative to that directory

Evidence rows keep `stored_path` as the bot wrote it: CCHC_EVIDENCE_DIR joined with
<year>/<unit>/<item>/<file> (relative to the working directory when the setting is relative). The
manifest records, per evidence file, the stored paths of the rows that point at it, so that restore
puts each file back where its rows point; files no row points at go under the current
CCHC_EVIDENCE_DIR.

Restore verifies every hash and every path before it writes anything: the archive holds only regular
files (no links, no devices), named `manifest.json`, the database file of its kind, or `evidence/...`
without `..`, and every file goes under the current CCHC_EVIDENCE_DIR (a row's recorded path that
leads anywhere else refuses the whole archive). It refuses to overwrite a database with rows or an
evidence directory with files unless forced, then stages every file next to its target and renames
them into place (the database last).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url

import bot
from bot.db.engine import make_engine
from bot.db.models import Base

MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
EVIDENCE_PREFIX = "evidence/"
FORMAT = 1
#: Tables counted in the manifest (name in the manifest -> table).
COUNTED = {
    "units": "units",
    "people": "people",
    "assessments": "assessments",
    "item_scores": "item_scores",
    "evidence_rows": "evidence",
}
_DATABASE_MEMBERS = {"sqlite": SQLITE_MEMBER, "postgresql": PG_MEMBER}
_CHUNK = 1024 * 1024
_PART = ".cchc-restore.part"


class BackupError(Exception):
    """A refusal or failure, as one line (the CLI prints it as `error: ...`)."""


# ----------------------------------------------------------------------------------------- helpers


def database_kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return "sqlite"
    if backend == "postgresql":
        return "postgresql"
    raise BackupError(f"unsupported database URL {url!r}")


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database).expanduser()


def _pg_args(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection options for pg_dump/pg_restore and the environment (password) from an asyncpg URL."""
    parsed = make_url(url)
    args: list[str] = []
    if parsed.host:
        args += ["--host", parsed.host]
    if parsed.port:
        args += ["--port", str(parsed.port)]
    if parsed.username:
        args += ["--username", parsed.username]
    args += ["--dbname", parsed.database or "postgres", "--no-password"]
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is needed for a PostgreSQL database: install the PostgreSQL client tools")
    return path


async def _run_tool(argv: list[str], env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await process.communicate()
    if process.returncode != 0:
        lines = [line.strip() for line in stderr.decode(errors="replace").splitlines() if line.strip()]
        detail = lines[-1] if lines else f"exit code {process.returncode}"
        raise BackupError(f"{Path(argv[0]).name} failed: {detail}")


def _sha256_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as fp:
        while chunk := fp.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _is_within(path: Path, base: Path) -> bool:
    try:
        path.relative_to(base)
    except ValueError:
        return False
    return True


def _safe_member(name: str) -> PurePosixPath:
    """An archive name must be relative, without '..' or empty parts."""
    pure = PurePosixPath(name)
    if pure.is_absolute() or any(part in ("", "..", ".") for part in name.split("/")):
        raise BackupError(f"the archive is damaged: unsafe file name {name!r}")
    return pure


# ------------------------------------------------------------------------------------------ backup


@dataclass
class _Snapshot:
    """What the database said at the moment of the copy."""

    revision: str | None
    counts: dict[str, int]
    stored_paths: list[str]


def _sqlite_snapshot_of(path: Path) -> _Snapshot:
    connection = sqlite3.connect(path)
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        revision = None
        if "alembic_version" in tables:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
        counts = {
            key: (
                connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] if table in tables else 0
            )
            for key, table in COUNTED.items()
        }
        paths: list[str] = []
        if "evidence" in tables:
            query = "SELECT stored_path FROM evidence WHERE stored_path IS NOT NULL ORDER BY id"
            paths = [row[0] for row in connection.execute(query)]
        return _Snapshot(revision, counts, paths)
    finally:
        connection.close()


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a live database (WAL included) as one self-contained file."""
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}")
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # all pages in one step: one read transaction, one snapshot
        dst.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as exc:
        raise BackupError(f"cannot copy the SQLite database {source}: {exc}") from None
    finally:
        dst.close()
        src.close()


async def _pg_dump(url: str, target: Path) -> _Snapshot:
    """pg_dump from an exported snapshot; the counts and evidence paths are read in that snapshot."""
    pg_dump = _tool("pg_dump")
    args, env = _pg_args(url)
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="REPEATABLE READ")
            async with connection.begin():
                snapshot_id = await connection.scalar(text("SELECT pg_export_snapshot()"))
                tables = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
                revision = None
                if "alembic_version" in tables:
                    revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
                counts = {
                    key: (
                        int(await connection.scalar(text(f'SELECT count(*) FROM "{table}"')) or 0)
                        if table in tables
                        else 0
                    )
                    for key, table in COUNTED.items()
                }
                paths: list[str] = []
                if "evidence" in tables:
                    result = await connection.execute(
                        text("SELECT stored_path FROM evidence WHERE stored_path IS NOT NULL ORDER BY id")
                    )
                    paths = [row[0] for row in result]
                argv = [pg_dump, "--format=custom", f"--snapshot={snapshot_id}", "--file", str(target), *args]
                await _run_tool(argv, env)
    except BackupError:
        raise
    except Exception as exc:  # connection refused, no such database, ...
        raise BackupError(f"cannot read the PostgreSQL database: {exc}") from None
    finally:
        await engine.dispose()
    return _Snapshot(revision, counts, paths)


@dataclass(frozen=True)
class _Entry:
    name: str  # archive name
    path: Path  # file on disk
    sha256: str
    size: int


def _evidence_files(evidence_dir: Path) -> Iterator[tuple[str, Path]]:
    """(relative POSIX path, file) for every finished file under the evidence directory."""
    if not evidence_dir.is_dir():
        return
    for root, dirs, files in os.walk(evidence_dir):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".part"):  # a download still being written
                continue
            path = Path(root) / name
            if path.is_file() and not path.is_symlink():
                yield path.relative_to(evidence_dir).as_posix(), path


class _HashingReader:
    """Reads a file for tarfile while hashing it, to catch a file changed during the backup."""

    def __init__(self, fp: IO[bytes]) -> None:
        self.fp = fp
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.fp.read(size)
        self.digest.update(data)
        return data


def _add(tar: tarfile.TarFile, name: str, data: bytes | None = None, entry: _Entry | None = None) -> None:
    info = tarfile.TarInfo(name)
    info.mode = 0o644
    info.mtime = int(datetime.now(UTC).timestamp())
    if data is not None:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        return
    assert entry is not None
    info.size = entry.size
    with entry.path.open("rb") as fp:
        reader = _HashingReader(fp)
        tar.addfile(info, reader)
    if reader.digest.hexdigest() != entry.sha256:
        raise BackupError(f"{entry.path} changed during the backup: run it again")


def _check_out(out: Path) -> Path:
    out = out.expanduser()
    if out.is_dir():
        raise BackupError(f"{out} is a directory: give a file name such as backup.tar.gz")
    if not out.parent.is_dir():
        raise BackupError(f"no such directory: {out.parent}")
    return out


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int  # bytes of the archive
    manifest: dict[str, Any]


async def create_backup(url: str, evidence_dir: Path, out: Path) -> BackupResult:
    """Write the archive atomically to `out` (temp file + rename)."""
    kind = database_kind(url)
    out = _check_out(out)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".cchc-backup-") as scratch:
        if kind == "sqlite":
            db_file = Path(scratch) / SQLITE_MEMBER
            _sqlite_copy(sqlite_path(url), db_file)
            snapshot = _sqlite_snapshot_of(db_file)
        else:
            db_file = Path(scratch) / PG_MEMBER
            snapshot = await _pg_dump(url, db_file)
        return _write_archive(out, kind, db_file, snapshot, evidence_dir)


def _write_archive(
    out: Path, kind: str, db_file: Path, snapshot: _Snapshot, evidence_dir: Path
) -> BackupResult:
    base = evidence_dir.expanduser().resolve()
    entries = [_Entry(db_file.name, db_file, *_sha256_file(db_file))]
    evidence_entries: dict[Path, _Entry] = {}
    for rel, path in _evidence_files(base):
        entry = _Entry(EVIDENCE_PREFIX + rel, path, *_sha256_file(path))
        evidence_entries[path] = entry
        entries.append(entry)

    # Where the rows point, per archived file; rows whose file is missing or outside the dir.
    targets: dict[str, list[str]] = {}
    missing: list[str] = []
    outside: list[str] = []
    for stored in snapshot.stored_paths:
        resolved = Path(stored).expanduser().resolve()
        found = evidence_entries.get(resolved)
        if found is not None:
            paths = targets.setdefault(found.name, [])
            if stored not in paths:
                paths.append(stored)
        elif _is_within(resolved, base) or not resolved.exists():
            missing.append(stored)
        else:
            outside.append(stored)

    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "cchc_bot_version": bot.__version__,
        "alembic_revision": snapshot.revision,
        "database": {"kind": kind, "file": db_file.name},
        "evidence_dir": str(evidence_dir),
        "counts": {
            **snapshot.counts,
            "evidence_files": len(evidence_entries),
            "evidence_bytes": sum(e.size for e in evidence_entries.values()),
            "database_bytes": entries[0].size,
            "total_bytes": sum(e.size for e in entries),
        },
        "files": {e.name: {"sha256": e.sha256, "size": e.size} for e in entries},
        "evidence_targets": targets,
        "missing_evidence": missing,
        "outside_evidence_dir": outside,
    }
    data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
    temp = db_file.with_name("archive.tar.gz")
    with tarfile.open(temp, "w:gz", compresslevel=6) as tar:
        _add(tar, MANIFEST, data=data)
        for entry in entries:
            _add(tar, entry.name, entry=entry)
    with temp.open("rb") as fp:
        os.fsync(fp.fileno())
    size = temp.stat().st_size
    os.replace(temp, out)
    return BackupResult(out, size, manifest)


# ----------------------------------------------------------------------------------------- restore


def _open_archive(archive: Path) -> tarfile.TarFile:
    archive = archive.expanduser()
    if not archive.is_file():
        raise BackupError(f"no such file: {archive}")
    try:
        return tarfile.open(archive, "r:gz")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"{archive} is not a readable backup archive: {exc}") from None


def _members(tar: tarfile.TarFile) -> Iterator[tuple[tarfile.TarInfo, IO[bytes]]]:
    seen: set[str] = set()
    for info in tar:
        if not info.isreg():
            raise BackupError(f"the archive is damaged: {info.name!r} is not a regular file")
        _safe_member(info.name)
        if info.name in seen:
            raise BackupError(f"the archive is damaged: {info.name!r} appears twice")
        seen.add(info.name)
        fp = tar.extractfile(info)
        assert fp is not None
        yield info, fp


def read_manifest(archive: Path) -> dict[str, Any]:
    """The manifest after checking every file of the archive against it (nothing is written)."""
    manifest: dict[str, Any] | None = None
    seen: set[str] = set()
    tar = _open_archive(archive)
    try:
        with tar:
            for info, fp in _members(tar):
                if info.name == MANIFEST:
                    try:
                        manifest = json.loads(fp.read())
                        files = manifest["files"] if isinstance(manifest, dict) else None
                        if not isinstance(files, dict):
                            raise ValueError("no file list")
                    except (ValueError, KeyError) as exc:
                        raise BackupError(f"the archive is damaged: {MANIFEST} unreadable ({exc})") from None
                    continue
                if manifest is None:
                    raise BackupError(f"the archive is damaged: {MANIFEST} is not its first file")
                expected = manifest["files"].get(info.name)
                if expected is None:
                    raise BackupError(f"the archive is damaged: {info.name} is not in the manifest")
                digest = hashlib.sha256()
                while chunk := fp.read(_CHUNK):
                    digest.update(chunk)
                if digest.hexdigest() != expected.get("sha256"):
                    raise BackupError(f"the archive is damaged: {info.name} does not match its sha256")
                seen.add(info.name)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise BackupError(f"{archive} is not a readable backup archive: {exc}") from None
    if manifest is None:
        raise BackupError(f"the archive is damaged: no {MANIFEST}")
    absent = sorted(set(manifest["files"]) - seen)
    if absent:
        raise BackupError(f"the archive is damaged: {absent[0]} is missing")
    database = manifest.get("database")
    if not isinstance(database, dict):
        raise BackupError("the archive is damaged: it holds no database")
    db_file = database.get("file")
    if db_file not in manifest["files"]:
        raise BackupError("the archive is damaged: it holds no database")
    if db_file != _DATABASE_MEMBERS.get(str(database.get("kind"))):
        raise BackupError(f"the archive is refused: {db_file!r} is not a database file name")
    stray = next((n for n in manifest["files"] if n != db_file and not n.startswith(EVIDENCE_PREFIX)), None)
    if stray is not None:
        raise BackupError(f"the archive is refused: {stray!r} is neither the database nor evidence/")
    return manifest


async def _table_rows(url: str) -> int:
    """Rows in the application's tables (0 for an empty or a freshly migrated database)."""
    names = set(Base.metadata.tables)

    def count(connection: Connection) -> int:
        present = [t for t in inspect(connection).get_table_names() if t in names]
        return sum(int(connection.scalar(text(f'SELECT count(*) FROM "{t}"')) or 0) for t in present)

    if database_kind(url) == "sqlite":
        path = sqlite_path(url)
        if not path.exists() or path.stat().st_size == 0:
            return 0
        connection = sqlite3.connect(path)
        try:
            tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            return sum(
                connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables if t in names
            )
        except sqlite3.Error as exc:
            raise BackupError(f"cannot read the database at {path}: {exc}") from None
        finally:
            connection.close()
    engine = make_engine(url)
    try:
        async with engine.connect() as pg:
            return await pg.run_sync(count)
    except Exception as exc:
        raise BackupError(f"cannot reach the database: {exc}") from None
    finally:
        await engine.dispose()


def _targets(manifest: dict[str, Any], evidence_dir: Path) -> dict[str, list[Path]]:
    """Archive name -> where it goes: where its rows point, else under the current evidence dir.
    Every target must lie inside the evidence directory (links followed): the archive is refused
    otherwise, since its manifest is as much the sender's text as its files."""
    recorded = manifest.get("evidence_targets") or {}
    if not isinstance(recorded, dict):
        raise BackupError("the archive is damaged: evidence_targets is not a mapping")
    base = evidence_dir.resolve()
    result: dict[str, list[Path]] = {}
    for name in manifest["files"]:
        if not name.startswith(EVIDENCE_PREFIX):
            continue
        rel = _safe_member(name.removeprefix(EVIDENCE_PREFIX))
        paths: list[Path] = []
        for stored in recorded.get(name) or []:
            path = Path(str(stored))
            # A row's path is <evidence dir>/<rel>: anything else is not trusted.
            if ".." in path.parts or tuple(path.parts[-len(rel.parts) :]) != rel.parts:
                raise BackupError(f"the archive is refused: {name} has an unexpected target {stored!r}")
            if not _is_within(path.resolve(), base):
                raise BackupError(
                    f"the archive is refused: {name} would be written to {stored}, outside the evidence "
                    f"directory {evidence_dir} (set CCHC_EVIDENCE_DIR to where the backup's files belong)"
                )
            if path.resolve() not in {p.resolve() for p in paths}:
                paths.append(path)
        result[name] = paths or [evidence_dir.joinpath(*rel.parts)]
    return result


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    database: str  # the SQLite file or the PostgreSQL database name
    evidence_dir: Path
    files_written: int = 0


def _stage(fp: IO[bytes], target: Path, expected: str) -> Path:
    """Write next to `target` as <name>.cchc-restore.part, checking the hash again."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(target.name + _PART)
    digest = hashlib.sha256()
    try:
        with temp.open("wb") as out:
            while chunk := fp.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != expected:
            raise BackupError(f"the archive changed while it was restored: {target.name}")
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _refuse_overwrite(evidence_dir: Path, targets: dict[str, list[Path]]) -> None:
    if evidence_dir.is_dir() and any(p.is_file() for p in evidence_dir.rglob("*")):
        raise BackupError(f"the evidence directory {evidence_dir} is not empty: use --force to overwrite it")
    existing = next((p for paths in targets.values() for p in paths if p.exists()), None)
    if existing is not None:
        raise BackupError(f"{existing} exists: use --force to overwrite it")


@dataclass
class _Staged:
    evidence: list[tuple[Path, Path]] = field(default_factory=list)  # (temp, target)
    database: Path | None = None

    def discard(self) -> None:
        for temp, _ in self.evidence:
            temp.unlink(missing_ok=True)
        if self.database is not None:
            self.database.unlink(missing_ok=True)

    def place_evidence(self) -> list[Path]:
        written = []
        for temp, target in self.evidence:
            os.replace(temp, target)
            written.append(target)
        self.evidence = []
        return written


def _stage_all(
    archive: Path, manifest: dict[str, Any], targets: dict[str, list[Path]], db_target: Path
) -> _Staged:
    """Every file of the archive written next to its target (nothing replaced yet)."""
    staged = _Staged()
    try:
        with _open_archive(archive) as tar:
            for info, fp in _members(tar):
                if info.name == MANIFEST:
                    continue
                expected = manifest["files"][info.name]["sha256"]
                if info.name == manifest["database"]["file"]:
                    staged.database = _stage(fp, db_target, expected)
                    continue
                for number, target in enumerate(targets.get(info.name, [])):
                    source = fp if number == 0 else tar.extractfile(info)
                    assert source is not None
                    staged.evidence.append((_stage(source, target, expected), target))
        if staged.database is None:
            raise BackupError("the archive is damaged: it holds no database")
    except BaseException as exc:
        staged.discard()
        if isinstance(exc, tarfile.TarError | OSError | EOFError | zlib.error):
            raise BackupError(f"cannot restore from {archive}: {exc}") from None
        raise
    return staged


def _replace_sqlite(stage: Path, path: Path) -> None:
    for suffix in ("-wal", "-shm", "-journal"):  # never pair the restored file with an old WAL
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    os.replace(stage, path)


async def restore_backup(archive: Path, url: str, evidence_dir: Path, *, force: bool) -> RestoreResult:
    manifest = read_manifest(archive)  # 1. every hash, before anything is written
    kind = database_kind(url)
    if manifest["database"].get("kind") != kind:
        raise BackupError(
            f"the archive holds a {manifest['database'].get('kind')} database but the database URL is {kind}"
        )
    targets = _targets(manifest, evidence_dir)
    pg_restore = _tool("pg_restore") if kind == "postgresql" else ""

    # 2. refuse to overwrite anything unless forced
    if not force:
        rows = await _table_rows(url)
        if rows:
            raise BackupError(f"the database is not empty ({rows} rows): use --force to replace it")
        _refuse_overwrite(evidence_dir, targets)

    # 3. stage everything, then the database (pg_restore is one transaction), then rename into place
    with tempfile.TemporaryDirectory(prefix="cchc-restore-") as scratch:
        db_target = sqlite_path(url) if kind == "sqlite" else Path(scratch) / PG_MEMBER
        staged = _stage_all(archive, manifest, targets, db_target)
        try:
            assert staged.database is not None
            if kind == "postgresql":
                args, env = _pg_args(url)
                argv = [pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction", *args]
                await _run_tool([*argv, str(staged.database)], env)
                database = str(make_url(url).database)
            written = staged.place_evidence()
            if kind == "sqlite":
                _replace_sqlite(staged.database, db_target)
                database = str(db_target)
            staged.database = None
        finally:
            staged.discard()
    return RestoreResult(manifest, database, evidence_dir, len(written))
